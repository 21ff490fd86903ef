package cache

import (
	"math"
	"math/bits"
	"reflect"
	"slices"
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

// varintEdges returns numbers of every varint length, around each boundary.
func varintEdges() []uint64 {
	values := []uint64{0, 1, math.MaxUint64, math.MaxInt64, 1 << 63}
	for shift := 0; shift < 64; shift++ {
		values = append(values, 1<<shift, 1<<shift-1, 1<<shift+1, 0x5555555555555555>>shift, 0xaaaaaaaaaaaaaaaa>>shift)
	}
	return values
}

// TestFastPathsSameBytes checks that the walks of slices of scalars and of
// maps that avoid a reflect.Value per element write what the general walk
// writes.
func TestFastPathsSameBytes(t *testing.T) {
	type named []int32
	type inner struct {
		xs []uint16
		m  map[string]float32
	}
	arr := [3]int{-1, 0, 1 << (bits.UintSize - 24)} // 1<<40 where int has 64 bits
	for _, tc := range []struct {
		name  string
		value func() reflect.Value
	}{
		{"int64s", valueOf([]int64{0, -1, 1, math.MinInt64, math.MaxInt64, 1 << 35, -(1 << 50)})},
		{"ints", valueOf([]int{3, -300, 70000})},
		{"int8s", valueOf([]int8{-128, 127})},
		{"int16s", valueOf([]int16{-1, 300})},
		{"named int32s", valueOf(named{1, -2})},
		{"uints", valueOf([]uint{0, 1, 1 << (bits.UintSize - 1)})},
		{"uint16s", valueOf([]uint16{65535})},
		{"uint32s", valueOf([]uint32{1 << 31})},
		{"uint64s", valueOf([]uint64{math.MaxUint64, 127, 128})},
		{"uintptrs", valueOf([]uintptr{7})},
		{"float32s", valueOf([]float32{1.5, float32(math.Inf(-1)), float32(math.NaN())})},
		{"float64s", valueOf([]float64{0, math.Copysign(0, -1), math.NaN(), 0.1})},
		{"bools", valueOf([]bool{true, false})},
		{"strings", valueOf([]string{"", "a", string(make([]byte, 200))})},
		{"array", valueOf(arr)},
		{"unexported", valueOf(inner{[]uint16{1, 2}, map[string]float32{"b": 2, "a": 1}})},
		{"map", valueOf(map[string]int64{"x": 1, "y": -2, "": 3})},
		{"map of slices", valueOf(map[int][]string{2: {"b"}, 1: {"a"}})},
		{"map of structs", valueOf(map[string]inner{"k": {xs: []uint16{9}}})},
		{"map of any", valueOf(map[any]any{1: "x", "1": 2.5, nil: nil})},
		{"long", valueOf(make([]int64, 50000))},
		{"varint edges", valueOf(varintEdges())},
		{"signed varint edges", valueOf(func() []int64 {
			var xs []int64
			for _, u := range varintEdges() {
				xs = append(xs, int64(u), -int64(u))
			}
			return xs
		}())},
		{"edges, tiled past a chunk", valueOf(slices.Repeat(varintEdges(), 100))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fast, err := canonical(tc.value(), "")
			assert.NilError(t, err)
			fastPaths = false
			defer func() { fastPaths = true }()
			slow, err := canonical(tc.value(), "")
			assert.NilError(t, err)
			assert.DeepEqual(t, fast, slow)
		})
	}
}
