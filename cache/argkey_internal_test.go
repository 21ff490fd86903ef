package cache

import (
	"crypto/sha256"
	"math"
	"math/big"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"
)

// TestCanonicalBytes spells out the encoding of a few values byte by byte:
// the format the golden table of argkey_test.go hashes.
func TestCanonicalBytes(t *testing.T) {
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
		{"named type in an interface", valueOf(any(score(1))), "", head + "\x00J\x2egithub.com/pecapiku/pecapiku/cache.score(int8)i\x02"},
		{"named types within", valueOf(any([]*pair{nil})), "", head + "\x00J\x65[]*github.com/pecapiku/pecapiku/cache.pair(struct{A int;github.com/pecapiku/pecapiku/cache.b string})l\x01z"},
		{"cycle of types", valueOf(any((*loop)(nil))), "", head + "\x00J\x5f*github.com/pecapiku/pecapiku/cache.loop(struct{Next *github.com/pecapiku/pecapiku/cache.loop})z"},
		{"fixed zone", valueOf(time.FixedZone("X", 60)), "", head + "\x00pZ\x01X\x01X\x78\x00\x00"},
		{"big.Float", valueOf(new(big.Float).SetPrec(8).SetFloat64(-1.5)), "", head + "\x00pG\x08\x0dToNearestEven\x08-0x.cp+1"},
		{"big.Float -0", valueOf(new(big.Float).SetPrec(8).SetMode(big.ToZero).Neg(new(big.Float))), "", head + "\x00pG\x08\x06ToZero\x010"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := canonical(tc.value(), tc.version)
			assert.NilError(t, err)
			assert.Equal(t, string(got), tc.want)
		})
	}
}

// Types of TestCanonicalBytes, at package level so that their spelling in
// an interface is one a reader can check.
type (
	pair struct {
		A int
		b string
	}
	loop  struct{ Next *loop }
	score int8
)

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

// TestZoneChanges checks the changes of zone that key a location against a
// scan of its instants every six hours from zonesFrom to zonesUntil, each
// change found pinned to its second by bisection, on locations with lists
// of transitions, rules after them (where time reports the ends of years
// as ends of zones, and at the end of a leap year an end that is no later
// than the instant asked about) and zones of half an hour.
func TestZoneChanges(t *testing.T) {
	locations := map[string]*time.Location{
		"UTC":   time.UTC,
		"fixed": time.FixedZone("X", 5400),
	}
	// The tz database where the platform or Go has one.
	for _, name := range []string{"Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Africa/Casablanca"} {
		if loc, err := time.LoadLocation(name); err == nil {
			locations[name] = loc
		} else {
			t.Logf("no %s: %v", name, err)
		}
	}
	for name, loc := range locations {
		t.Run(name, func(t *testing.T) {
			var want []zoneChange
			at := zonesFrom
			cur := zoneAt(at, loc)
			for {
				next := at.Add(6 * time.Hour)
				if !next.Before(zonesUntil) {
					break
				}
				if z := zoneAt(next, loc); z != cur {
					change := firstChange(loc, at, next, cur)
					want = append(want, zoneChange{change.Unix(), zoneAt(change, loc)})
					cur = z
				}
				at = next
			}
			if strings.Contains(name, "/") {
				assert.Assert(t, len(want) > 100, "%s changes zone %d times", name, len(want))
			}
			got := zoneChanges(loc)
			assert.DeepEqual(t, got, want, cmp.AllowUnexported(zoneChange{}, zone{}))
		})
	}
}
