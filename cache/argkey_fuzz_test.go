package cache

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"
)

// FuzzCanonical builds a value from the fuzzer's bytes (nested slices, maps,
// structs with unexported fields, pointers, cycles, NaNs, times, locations,
// big numbers, local and generic types, funcs...)
// twice, and checks that encoding it never panics, that encoding it twice
// gives the same bytes, and that the value built apart from the same bytes,
// equal but at other addresses and with maps filled in another order, gives
// the same bytes too, or fails alike.
func FuzzCanonical(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		{1, 0, 0, 0, 0, 0, 0, 0, 42},
		{4, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1},          // a NaN
		{4, 0x80, 0, 0, 0, 0, 0, 0, 0},             // -0
		{6, 5, 'h', 'e', 'l', 'l', 'o'},            // a string
		{8, 3, 1, 0, 0, 0, 0, 0, 0, 0, 1, 12, 0},   // a list holding itself
		{9, 4, 1, 2, 6, 1, 'a', 3, 4, 5, 6, 7, 8},  // map[any]any
		{10, 3, 1, 'a', 12, 0, 1, 'b', 11, 12, 1},  // a map holding itself
		{11, 13, 1, 2, 1, 'x', 12, 0, 14, 1, 2, 3}, // a pointer to a struct pointing back
		{14, 0, 0, 0, 0, 0x65, 0x5f, 0x3a, 0x40, 0, 0, 0, 7, 2},
		{17, 0},
		{17, 1},
		{18, 1, 2, 3, 4, 19, 3, 1, 2, 3, 20},
		{21, 0, 0, 0, 0, 0, 0, 0x0e, 0x10},       // an unnamed zone, +01:00
		{22, 8, 1, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, // 1.5 at precision 8, ties rounded away from zero
		{22, 8, 1, 0x80, 0, 0, 0, 0, 0, 0, 0},    // -0
		{23, 1, 7},                               // a generic type of a local type
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a := (&valueBuilder{data: data}).value()
		b := (&valueBuilder{data: data}).value()
		encA, errA := canonical(reflect.ValueOf(&a).Elem(), "v")
		again, errAgain := canonical(reflect.ValueOf(&a).Elem(), "v")
		encB, errB := canonical(reflect.ValueOf(&b).Elem(), "v")
		if (errA == nil) != (errAgain == nil) || (errA == nil) != (errB == nil) {
			t.Fatalf("errors differ: %v, %v, %v", errA, errAgain, errB)
		}
		if errA != nil {
			if _, ok := errA.(*keyError); !ok {
				t.Fatalf("unexpected kind of error %T: %v", errA, errA)
			}
			return
		}
		if !bytes.Equal(encA, again) {
			t.Fatalf("two encodings of one value differ:\n%q\n%q", encA, again)
		}
		if !bytes.Equal(encA, encB) {
			t.Fatalf("two equal values encode differently:\n%q\n%q", encA, encB)
		}
		fileA, err := keyFile(a, "v")
		if err != nil {
			t.Fatalf("keyFile fails where canonical does not: %v", err)
		}
		if fileB, _ := keyFile(b, "v"); fileA != fileB {
			t.Fatalf("two equal values have different keys: %s, %s", fileA, fileB)
		}
	})
}

// fuzzStruct has fields of every sort, unexported ones included.
type fuzzStruct struct {
	A    int
	b    string
	C    any
	when time.Time
	next *fuzzStruct
}

// fuzzKey is a comparable struct for map keys.
type fuzzKey struct {
	N int16
	s string
}

// valueBuilder turns bytes into a value: the first byte picks a shape, the
// next ones fill it. Running out of bytes gives zeros, so every input builds
// something.
type valueBuilder struct {
	data  []byte
	depth int
	// The references being built, for making cycles.
	pointers []*any
	maps     []map[string]any
	slices   [][]any
	structs  []*fuzzStruct
}

func (b *valueBuilder) byte() byte {
	if len(b.data) == 0 {
		return 0
	}
	c := b.data[0]
	b.data = b.data[1:]
	return c
}

func (b *valueBuilder) u64() uint64 {
	var buf [8]byte
	for i := range buf {
		buf[i] = b.byte()
	}
	return binary.BigEndian.Uint64(buf[:])
}

func (b *valueBuilder) str() string {
	n := int(b.byte() % 16)
	if n > len(b.data) {
		n = len(b.data)
	}
	s := string(b.data[:n])
	b.data = b.data[n:]
	return s
}

var fuzzZones = []*time.Location{time.UTC, time.FixedZone("A", 3600), time.FixedZone("B", -7*3600), nil}

func (b *valueBuilder) value() any {
	if b.depth > 12 || len(b.data) == 0 {
		return nil
	}
	b.depth++
	defer func() { b.depth-- }()
	switch b.byte() % 24 {
	case 0:
		return nil
	case 1:
		return int64(b.u64())
	case 2:
		return int8(b.byte())
	case 3:
		return b.u64()
	case 4:
		return math.Float64frombits(b.u64())
	case 5:
		return math.Float32frombits(uint32(b.u64()))
	case 6:
		return b.str()
	case 7:
		return []byte(b.str())
	case 8:
		s := make([]any, b.byte()%5)
		b.slices = append(b.slices, s)
		for i := range s {
			s[i] = b.value()
		}
		b.slices = b.slices[:len(b.slices)-1]
		return s
	case 9:
		m := map[any]any{}
		for n := b.byte() % 5; n > 0; n-- {
			m[b.key()] = b.value()
		}
		return m
	case 10:
		m := map[string]any{}
		b.maps = append(b.maps, m)
		for n := b.byte() % 5; n > 0; n-- {
			m[b.str()] = b.value()
		}
		b.maps = b.maps[:len(b.maps)-1]
		return m
	case 11:
		p := new(any)
		b.pointers = append(b.pointers, p)
		*p = b.value()
		b.pointers = b.pointers[:len(b.pointers)-1]
		return p
	case 12:
		return b.backRef()
	case 13:
		s := &fuzzStruct{}
		b.structs = append(b.structs, s)
		s.A = int(int32(b.u64()))
		s.b = b.str()
		s.C = b.value()
		s.when = time.Unix(int64(int16(b.u64())), 0).In(fuzzZones[int(b.byte())%3])
		if b.byte()%2 == 1 && len(b.structs) > 0 {
			s.next = b.structs[int(b.byte())%len(b.structs)]
		}
		b.structs = b.structs[:len(b.structs)-1]
		if b.byte()%2 == 0 {
			return *s
		}
		return s
	case 14:
		t := time.Unix(int64(int32(b.u64())), int64(b.u64()%1e9))
		if zone := fuzzZones[int(b.byte())%len(fuzzZones)]; zone != nil {
			t = t.In(zone)
		}
		return t
	case 15:
		return complex(math.Float64frombits(b.u64()), math.Float64frombits(b.u64()))
	case 16:
		return b.byte()%2 == 1
	case 17:
		if b.byte()%2 == 0 {
			return func() {}
		}
		return make(chan int)
	case 18:
		return [3]any{b.value(), b.value(), b.value()}
	case 19:
		return new(big.Int).SetBytes([]byte(b.str()))
	case 20:
		if b.byte()%2 == 0 {
			return (*int)(nil)
		}
		return fuzzKey{int16(b.byte()), b.str()}
	case 21:
		// Unnamed zones too, as time.Parse makes them.
		return time.FixedZone(b.str(), int(int32(b.u64())%100000))
	case 22:
		f := new(big.Float).SetPrec(uint(b.byte())).SetMode(big.RoundingMode(b.byte() % 6))
		x := math.Float64frombits(b.u64())
		if x != x {
			x = 0 // a big.Float cannot be NaN
		}
		return f.SetFloat64(x)
	default:
		// Named types, one of them local, and a generic one.
		type local struct{ N int8 }
		switch b.byte() % 3 {
		case 0:
			return local{int8(b.byte())}
		case 1:
			return fuzzBox[local]{local{int8(b.byte())}}
		}
		return fuzzBox[fuzzKey]{fuzzKey{int16(b.byte()), b.str()}}
	}
}

// fuzzBox is a generic type, spelled with its type argument.
type fuzzBox[T any] struct{ V T }

// key returns a comparable value for a map[any]any.
func (b *valueBuilder) key() any {
	switch b.byte() % 7 {
	case 0:
		return int64(b.u64())
	case 1:
		return b.str()
	case 2:
		return math.Float64frombits(b.u64())
	case 3:
		return b.byte()%2 == 1
	case 4:
		return [2]int16{int16(b.byte()), int16(b.byte())}
	case 5:
		return fuzzKey{int16(b.byte()), b.str()}
	default:
		n := int(b.byte())
		return &n
	}
}

// backRef returns one of the references being built, making a cycle.
func (b *valueBuilder) backRef() any {
	var refs []any
	for _, p := range b.pointers {
		refs = append(refs, p)
	}
	for _, m := range b.maps {
		refs = append(refs, m)
	}
	for _, s := range b.slices {
		refs = append(refs, s)
	}
	for _, s := range b.structs {
		refs = append(refs, s)
	}
	if len(refs) == 0 {
		return nil
	}
	return refs[int(b.byte())%len(refs)]
}
