package gobdump_test

import (
	"bytes"
	"encoding/gob"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/gobdump"
)

type Station struct {
	Name     string
	Rainfall []float64
	Tags     map[string]int
}

type Shape interface{ Area() float64 }

type Circle struct{ R float64 }

func (c Circle) Area() float64 { return 3 * c.R * c.R }

type Group struct {
	Name   string
	Shapes []Shape
	Any    any
}

// Version encodes itself with GobEncode.
type Version struct{ major, minor int }

func (v Version) GobEncode() ([]byte, error) { return []byte{byte(v.major), byte(v.minor)}, nil }

func (v *Version) GobDecode(b []byte) error {
	v.major, v.minor = int(b[0]), int(b[1])
	return nil
}

// Release encodes itself with GobEncode too. Gob names a type once per
// process, when it first meets it: without a name as the element of a map,
// as Version in the table below, with its name as a struct field.
type Release struct{ n int }

func (r Release) GobEncode() ([]byte, error) { return []byte{byte(r.n)}, nil }
func (r *Release) GobDecode(b []byte) error  { r.n = int(b[0]); return nil }

// Time is not a time.Time.
type Time struct{ n byte }

func (t Time) GobEncode() ([]byte, error) { return []byte{t.n}, nil }
func (t *Time) GobDecode(b []byte) error  { t.n = b[0]; return nil }

// Blob encodes itself with MarshalBinary.
type Blob struct{ data []byte }

func (b Blob) MarshalBinary() ([]byte, error)     { return b.data, nil }
func (b *Blob) UnmarshalBinary(data []byte) error { b.data = data; return nil }

// Node is a recursive type.
type Node struct {
	V    int
	Next *Node
}

type Names []string

type Scalars struct {
	B   bool
	I   int8
	U   uint64
	F32 float32
	C   complex128
	Raw []byte
	Arr [3]int
	No  [0]int
}

func init() {
	gob.RegisterName("Circle", Circle{})
	gob.RegisterName("Group", Group{})
}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	assert.NilError(t, gob.NewEncoder(&b).Encode(v))
	return b.Bytes()
}

// values are encoded with gob and read back by the dump.
var values = []struct {
	name  string
	v     any
	types []string // Type.String of each type the stream defines
	value string   // Value.String
}{
	{
		name:  "struct",
		v:     Station{Name: "Bergen", Rainfall: []float64{1.5, 2}},
		types: []string{"Station struct { Name string; Rainfall []float64; Tags map[string]int }", "[]float64", "map[string]int"},
		value: "Station{\n  Name: \"Bergen\",\n  Rainfall: []float64{1.5, 2},\n}",
	},
	{
		name:  "map",
		v:     map[string][]int{"a": {1, -2}},
		types: []string{"map[string][]int", "[]int"},
		value: "map[string][]int{\n  \"a\": []int{1, -2},\n}",
	},
	{
		name:  "slice of structs",
		v:     []Station{{Name: "A", Tags: map[string]int{"x": 1}}, {}},
		types: []string{"[]Station", "Station struct { Name string; Rainfall []float64; Tags map[string]int }", "[]float64", "map[string]int"},
		value: "[]Station{\n  Station{\n    Name: \"A\",\n    Tags: map[string]int{\"x\": 1},\n  },\n  Station{},\n}",
	},
	{
		name:  "named slice",
		v:     Names{"x", "y"},
		types: []string{"Names []string"},
		value: `Names{"x", "y"}`,
	},
	{
		name:  "interfaces",
		v:     Group{Name: "g", Shapes: []Shape{Circle{R: 1}, nil}, Any: Group{Name: "inner", Any: Circle{R: 2}}},
		types: []string{"Group struct { Name string; Shapes []gobdump_test.Shape; Any interface }", "[]gobdump_test.Shape", "Circle struct { R float }"},
		value: "Group{\n  Name: \"g\",\n  Shapes: []gobdump_test.Shape{\n    (Circle) Circle{\n      R: 1,\n    },\n    nil,\n  },\n" +
			"  Any: (Group) Group{\n    Name: \"inner\",\n    Any: (Circle) Circle{\n      R: 2,\n    },\n  },\n}",
	},
	{
		name:  "GobEncoder",
		v:     map[string]Version{"v": {1, 26}},
		types: []string{"map[string]GobEncoder", "GobEncoder"},
		value: `map[string]GobEncoder{"v": GobEncoder(01 1a)}`,
	},
	{
		name:  "GobEncoder field",
		v:     struct{ R Release }{Release{7}},
		types: []string{"struct { R Release }", "Release GobEncoder"},
		value: "struct { R Release }{\n  R: Release(GobEncode: 07),\n}",
	},
	{
		name:  "BinaryMarshaler",
		v:     struct{ B Blob }{Blob{[]byte{0xff}}},
		types: []string{"struct { B Blob }", "Blob BinaryMarshaler"},
		value: "struct { B Blob }{\n  B: Blob(MarshalBinary: ff),\n}",
	},
	{
		name:  "time.Time",
		v:     time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		types: []string{"Time GobEncoder"},
		value: "Time(GobEncode: 01 00 00 00 0e e0 e9 2c a5 00 00 00 00 ff ff; as a time.Time, 2026-01-02T03:04:05Z)",
	},
	{
		name:  "another type named Time",
		v:     struct{ T Time }{Time{7}},
		types: []string{"struct { T Time }", "Time GobEncoder"},
		value: "struct { T Time }{\n  T: Time(GobEncode: 07),\n}",
	},
	{
		name:  "recursive type",
		v:     Node{V: 1, Next: &Node{V: 2}},
		types: []string{"Node struct { V int; Next Node }"},
		value: "Node{\n  V: 1,\n  Next: Node{\n    V: 2,\n  },\n}",
	},
	{
		name:  "scalars and arrays",
		v:     Scalars{B: true, I: -3, U: 1 << 63, F32: 0.5, C: 1 - 2i, Raw: []byte("a\x00"), Arr: [3]int{0, 0, 7}},
		types: []string{"Scalars struct { B bool; I int; U uint; F32 float; C complex; Raw []byte; Arr [3]int; No [0]int }", "[3]int", "[0]int"},
		value: "Scalars{\n  B: true,\n  I: -3,\n  U: 9223372036854775808,\n  F32: 0.5,\n  C: (1-2i),\n" +
			"  Raw: []byte(\"a\\x00\"),\n  Arr: [3]int{0, 0, 7},\n  No: [0]int{},\n}",
	},
	{
		name:  "builtin at top level",
		v:     "hello",
		value: `"hello"`,
	},
}

func TestRead(t *testing.T) {
	for _, tc := range values {
		t.Run(tc.name, func(t *testing.T) {
			s, err := gobdump.Read(encode(t, tc.v))
			assert.NilError(t, err)
			var types []string
			for _, typ := range s.Types {
				types = append(types, typ.String())
			}
			assert.DeepEqual(t, types, tc.types)
			assert.Equal(t, len(s.Values), 1)
			assert.Equal(t, s.Values[0].String(), tc.value)
		})
	}
}

// TestTextMarshaler reads a TextMarshaler type, which the gob specification
// has but encoding/gob does not write: the stream of a BinaryMarshaler with
// the kind of its definition changed.
func TestTextMarshaler(t *testing.T) {
	data := encode(t, Blob{[]byte("red")})
	// length, -id in two bytes, the field of BinaryMarshalerT
	assert.Equal(t, data[3], byte(0x06))
	data[3] = 0x07 // TextMarshalerT
	s, err := gobdump.Read(data)
	assert.NilError(t, err)
	assert.Equal(t, s.Types[0].String(), "Blob TextMarshaler")
	assert.Equal(t, s.Values[0].String(), `Blob(MarshalText: "red")`)
}

func TestDump(t *testing.T) {
	data := encode(t, []Station{{Name: "Auckland", Rainfall: []float64{11, 48}}})
	var out strings.Builder
	assert.NilError(t, gobdump.Dump(&out, data))
	assert.Equal(t, out.String(), `types:
  []Station
  Station struct {
    Name     string
    Rainfall []float64
    Tags     map[string]int
  }
  []float64
  map[string]int
value:
  []Station{
    Station{
      Name: "Auckland",
      Rainfall: []float64{11, 48},
    },
  }
`)
}

func TestDumpBrokenStreamShowsTheTypesReadSoFar(t *testing.T) {
	data := encode(t, Station{Name: "Auckland"})
	var out strings.Builder
	err := gobdump.Dump(&out, data[:len(data)-3])
	assert.Assert(t, errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
	assert.Equal(t, out.String(), `types:
  Station struct {
    Name     string
    Rainfall []float64
    Tags     map[string]int
  }
  []float64
  map[string]int
`)
}

// TestCheckWholeStreams checks that Check accepts what gob writes and
// rejects every proper prefix of it as cut short, for every value above.
func TestCheckWholeStreams(t *testing.T) {
	for _, tc := range values {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.v)
			assert.NilError(t, gobdump.Check(data))
			for n := 1; n < len(data); n++ {
				err := gobdump.Check(data[:n])
				assert.Assert(t, errors.Is(err, io.ErrUnexpectedEOF), "prefix of %d bytes: %v", n, err)
			}
		})
	}
}

func TestCheckRejects(t *testing.T) {
	one := encode(t, Station{Name: "x"})
	var two bytes.Buffer
	enc := gob.NewEncoder(&two)
	assert.NilError(t, enc.Encode(1))
	assert.NilError(t, enc.Encode(2))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "gob: the stream ends before its value"},
		{"two values", two.Bytes(), "gob: the stream holds more than one value: 2"},
		{"trailing byte", append(append([]byte{}, one...), 0x01), "a message claims 1 bytes, only 0 follow"},
		{"trailing zero", append(append([]byte{}, one...), 0x00), "empty message"},
		{"not gob", []byte("{\"json\": true}\n"), "gob: offset"},
		{"type id below 64", []byte{0x03, 0x03, 0x00, 0x00}, "type id 2 is gob's own"},
		{"undefined type", []byte{0x03, 0xff, 0x80, 0x00}, "type id 64 is not defined"},
		{"wrong message length", []byte{0x03, 0x0c, 0x00, 0x01, 'a'}, "offset 5: value runs 1 bytes past the end of its message"},
		{"bad uint", []byte{0x80}, "invalid unsigned integer prefix 0x80"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := gobdump.Check(tc.data)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// TestCheckNeverPanics changes every byte of several streams to several
// values: each result must be an answer, never a panic.
func TestCheckNeverPanics(t *testing.T) {
	for _, tc := range values {
		data := encode(t, tc.v)
		for i := range data {
			for _, b := range []byte{0x00, 0x01, 0x7f, 0x80, 0xf8, 0xff, data[i] + 1, data[i] - 1} {
				mutated := append([]byte{}, data...)
				mutated[i] = b
				_ = gobdump.Check(mutated)
				_ = gobdump.Dump(io.Discard, mutated)
				walkType(gobdump.TypeOfValue(mutated))
			}
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, tc := range values {
		var b bytes.Buffer
		if err := gob.NewEncoder(&b).Encode(tc.v); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		walkType(gobdump.TypeOfValue(data))
		err := gobdump.Check(data)
		var out strings.Builder
		derr := gobdump.Dump(&out, data)
		if (err == nil) != (derr == nil) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "more than one") {
			t.Fatalf("Check: %v, Dump: %v", err, derr)
		}
	})
}

// walkType visits every type reachable from typ, once each, as the gob
// codec's comparison of a stream's types with a Go type does: it must end,
// and never panic, whatever the stream.
func walkType(typ gobdump.Type, err error) {
	if err != nil {
		return
	}
	seen := map[int64]bool{}
	var walk func(t gobdump.Type)
	walk = func(t gobdump.Type) {
		if seen[t.ID()] {
			return
		}
		seen[t.ID()] = true
		_ = t.Name()
		switch t.Kind() {
		case "struct":
			for _, f := range t.Fields() {
				walk(f.Type)
			}
		case "slice", "array":
			walk(t.Elem())
		case "map":
			walk(t.Key())
			walk(t.Elem())
		}
	}
	walk(typ)
}

// Rich is a type with a field of every kind gob has, for FuzzEncodedStreams.
type Rich struct {
	I   int64
	U   uint16
	F   float64
	C   complex64
	B   bool
	S   string
	Raw []byte
	A   [2]int8
	M   map[string]any
	L   []any
	N   *Rich
	V   Release
	T   time.Time
	E   any
}

func init() { gob.RegisterName("Rich", Rich{}) }

// richFrom builds a Rich value from data, consuming it as it goes.
func richFrom(data []byte, depth int) Rich {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	sn := int(next() % 8)
	r := Rich{
		I: int64(next())<<56 - int64(next()),
		U: uint16(next()) << 8,
		F: float64(next()) / 3,
		C: complex(float32(next()), -1),
		B: next()%2 == 0,
		S: string(data[:min(len(data), sn)]),
		A: [2]int8{int8(next()), 0},
		V: Release{int(next())},
		T: time.Unix(int64(next())*1e6, 0).UTC(),
	}
	if n := int(next() % 4); n > 0 {
		r.Raw = make([]byte, n)
		r.M = map[string]any{}
		for i := 0; i < n; i++ {
			var v any
			switch next() % 5 {
			case 1:
				v = int(next())
			case 2:
				v = "s"
			case 3:
				v = Circle{R: float64(next())}
			case 4:
				if depth < 3 {
					v = richFrom(data[min(len(data), 3):], depth+1)
				}
			}
			r.M[string(rune('a'+i))] = v
			r.L = append(r.L, v)
		}
	}
	if depth < 3 && next()%3 == 0 {
		n := richFrom(data[min(len(data), 5):], depth+1)
		r.N = &n
	}
	if next()%2 == 0 {
		r.E = Group{Name: "g", Shapes: []Shape{Circle{1}}}
	}
	return r
}

// FuzzEncodedStreams checks that Check and Dump accept every stream gob's
// Encoder writes, for values built from the fuzzer's bytes.
func FuzzEncodedStreams(f *testing.F) {
	f.Add([]byte("seed"), uint8(0))
	f.Add([]byte{3, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, top uint8) {
		var v any = richFrom(data, 0)
		switch top % 3 {
		case 1:
			v = []Rich{v.(Rich), richFrom(data[min(len(data), 2):], 0)}
		case 2:
			v = map[int]Rich{1: v.(Rich)}
		}
		stream := encode(t, v)
		if err := gobdump.Check(stream); err != nil {
			t.Fatalf("%v\n%q", err, stream)
		}
		if err := gobdump.Dump(io.Discard, stream); err != nil {
			t.Fatal(err)
		}
	})
}

// TestGobOwnTypes reads a value of one of the types gob describes types
// with, which a stream may use without defining and gob's Decoder reads.
// The gob codec, which compares the stream's types with the Go type, sees
// that it is not a Station.
func TestGobOwnTypes(t *testing.T) {
	data := []byte{0x05, 0x24, 0x01, 0x01, 'x', 0x00} // CommonType{Name: "x"}, type id 18
	var st Station
	assert.ErrorContains(t, cache.Gob.Unmarshal(data, &st), "the recording's CommonType has fields that gobdump_test.Station does not have: Id")
	typ, err := gobdump.TypeOfValue(data)
	assert.NilError(t, err)
	assert.Equal(t, typ.Kind(), "struct")
	assert.Equal(t, len(typ.Fields()), 2)
	s, err := gobdump.Read(data)
	assert.NilError(t, err)
	assert.Equal(t, s.Values[0].String(), "CommonType{\n  Name: \"x\",\n}")
}

// Nest is a value that nests as deep as it is built.
type Nest struct {
	Next *Nest
	Leaf string
}

// TestDumpBounded: a small stream can describe a value whose dump is huge
// (a value nested 9,000 deep prints each level indented by its depth, some
// 160 MB); the dump stops at its limits, and says what it cut.
func TestDumpBounded(t *testing.T) {
	deep := &Nest{Leaf: "bottom"}
	for i := 0; i < 9000; i++ {
		deep = &Nest{Next: deep}
	}
	wide := make([]string, 50000)
	for i := range wide {
		wide[i] = strings.Repeat("x", 40)
	}
	for _, tc := range []struct {
		name   string
		v      any
		limits gobdump.Limits
		notes  []string
		max    int
	}{
		{name: "deep", v: deep, limits: gobdump.DefaultLimits, max: 1 << 20,
			notes: []string{"cut: values nested deeper than 100 levels are shown as …"}},
		{name: "wide", v: wide, limits: gobdump.DefaultLimits, max: 1<<20 + 1024,
			notes: []string{"cut: the dump stopped at 1 MiB"}},
		{name: "shallow limits", v: deep, limits: gobdump.Limits{Depth: 3, Bytes: 100}, max: 300,
			notes: []string{"cut: the dump stopped at 100 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := encode(t, tc.v)
			var out bytes.Buffer
			assert.NilError(t, gobdump.DumpLimited(&out, data, tc.limits))
			assert.Assert(t, out.Len() <= tc.max, "%d bytes of dump for %d bytes of gob", out.Len(), len(data))
			for _, note := range tc.notes {
				assert.Assert(t, strings.Contains(out.String(), note), "no %q in the last lines:\n%s", note, tail(out.String()))
			}
		})
	}
	// Within the limits, nothing is cut and no note is written.
	var out bytes.Buffer
	assert.NilError(t, gobdump.Dump(&out, encode(t, &Nest{Next: &Nest{Leaf: "b"}})))
	assert.Assert(t, !strings.Contains(out.String(), "cut:"), out.String())
}

func tail(s string) string { return s[max(0, len(s)-400):] }
