package cache

import (
	"crypto/sha256"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
)

// TestCanonicalBytes spells out the encoding of a few values byte by byte:
// the format the golden table of argkey_test.go hashes.
func TestCanonicalBytes(t *testing.T) {
	type pair struct {
		A int
		b string
	}
	type loop struct {
		Next *loop
	}
	self := &loop{}
	self.Next = self
	const head = "pecapiku key v1\x00"
	for _, tc := range []struct {
		name    string
		value   func() reflect.Value
		version string
		want    string
	}{
		{"int 1", valueOf(1), "", head + "\x00i\x02"},
		{"int -1", valueOf(-1), "", head + "\x00i\x01"},
		{"uint 300", valueOf(uint(300)), "", head + "\x00u\xac\x02"},
		{"version", valueOf(1), "v2", head + "\x02v2i\x02"},
		{"string", valueOf("hi"), "", head + "\x00s\x02hi"},
		{"bytes", valueOf([]byte("hi")), "", head + "\x00y\x02hi"},
		{"float 1", valueOf(1.0), "", head + "\x00f\x3f\xf0\x00\x00\x00\x00\x00\x00"},
		{"float -0", valueOf(math.Copysign(0, -1)), "", head + "\x00f\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"float NaN", valueOf(math.NaN()), "", head + "\x00f\x7f\xf8\x00\x00\x00\x00\x00\x00"},
		{"bool", valueOf(true), "", head + "\x00b\x01"},
		{"list", valueOf([]int{1, 2}), "", head + "\x00l\x02i\x02i\x04"},
		{"nil slice", valueOf([]int(nil)), "", head + "\x00l\x00"},
		{"map sorted", valueOf(map[string]int{"b": 2, "a": 1}), "", head + "\x00m\x02s\x01ai\x02s\x01bi\x04"},
		{"struct", valueOf(pair{1, "x"}), "", head + "\x00S\x02\x01Ai\x02\x01bs\x01x"},
		{"pointer", valueOf(&pair{}), "", head + "\x00pS\x02\x01Ai\x00\x01bs\x00"},
		{"nil pointer", valueOf((*int)(nil)), "", head + "\x00z"},
		{"cycle", valueOf(self), "", head + "\x00pS\x01\x04Nextr\x01"},
		{"interface", valueOf(any(int8(1))), "", head + "\x00I\x04int8i\x02"},
		{"nil interface", valueOf(any(nil)), "", head + "\x00n"},
		{"time", valueOf(time.Unix(1, 5).In(time.FixedZone("X", 60))), "", head + "\x00T\x02\x05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canonical(tc.value(), tc.version)
			assert.NilError(t, err)
			assert.Equal(t, string(got), tc.want)
		})
	}
}

// valueOf returns v as the wrapped functions see their argument: by its
// static type, addressable.
func valueOf[T any](v T) func() reflect.Value {
	return func() reflect.Value { return reflect.ValueOf(&v).Elem() }
}

// TestDigestOfLargeValues checks that keyDigest, which hands its buffer to
// SHA-256 whenever it fills, hashes the bytes that canonical returns, for
// values whose encodings span many fills, maps sorted in a scratch buffer of
// their own among them.
func TestDigestOfLargeValues(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	words := map[string]int64{}
	long := map[string]string{}
	for len(words) < 20000 {
		k := strconv.Itoa(r.Int())
		words[k] = r.Int64()
		long[k] = strings.Repeat("v", r.IntN(40))
	}
	numbers := make([]int64, 100000)
	for i := range numbers {
		numbers[i] = r.Int64() >> r.IntN(64)
	}
	for name, value := range map[string]func() reflect.Value{
		"map":                    valueOf(words),
		"map, long items":        valueOf(long),
		"int64s":                 valueOf(numbers),
		"map of maps and slices": valueOf(map[string]any{"a": words, "b": numbers, "c": []any{long}}),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := keyDigest(value(), "v")
			assert.NilError(t, err)
			enc, err := canonical(value(), "v")
			assert.NilError(t, err)
			assert.Assert(t, len(enc) > 4<<16, "the encoding (%d bytes) spans few buffers", len(enc))
			assert.Equal(t, got, sha256.Sum256(enc))
		})
	}
}
