package cache_test

import (
	"bytes"
	stdjson "encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/rogpeppe/go-internal/txtar"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/golden"

	"github.com/pecapiku/pecapiku/cache"
)

// The JSON codec must write exactly the bytes that fixtures recorded with
// encoding/json hold, so that no committed fixture changes when it is
// recorded again. The cases below cover every rule of that layout; their
// bytes are kept in testdata/json-codec.golden, which was written by
// encoding/json, and checked against encoding/json on the Go release the
// test runs on (go test ./cache -run TestJSONBytes -update rewrites it).

type (
	jcEmbedded struct {
		Base  string
		Extra int `json:"extra"`
	}
	jcInner struct{ A, B int }
	jcAll   struct {
		jcEmbedded
		*jcInner
		Name       string
		Renamed    string `json:"renamed"`
		Omitted    int    `json:",omitempty"`
		Kept       int    `json:",omitempty"`
		Quoted     int64  `json:",string"`
		Skipped    int    `json:"-"`
		Pointer    *int
		NilPointer *int
		Nested     jcInner
		List       []jcInner
		Any        any
		private    int
	}
	jcValueMethod   struct{ N int }
	jcPointerMethod struct{ N int }
	jcText          int
	jcBytes         []byte
)

func (v jcValueMethod) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"value": %d,   "spaces": [1,2]}`, v.N)), nil
}

func (p *jcPointerMethod) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`"pointer %d"`, p.N)), nil
}

func (t jcText) MarshalText() ([]byte, error) { return []byte(fmt.Sprintf("t%03d", int(t))), nil }

// jsonCases are the values whose encodings testdata/json-codec.golden holds.
func jsonCases() []struct {
	name string
	v    any
} {
	seven := 7
	return []struct {
		name string
		v    any
	}{
		{"dataset", sample},
		{"time utc", time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)},
		{"time nanoseconds and zone", time.Date(2026, 1, 2, 3, 4, 5, 6000, time.FixedZone("X", 5*3600+1800))},
		{"time zero", time.Time{}},
		{"durations", []time.Duration{0, time.Nanosecond, 90 * time.Second, -time.Hour, math.MaxInt64}},
		{"bytes", map[string][]byte{"nil": nil, "empty": {}, "binary": {0, 1, 0xfe, 0xff}, "text": []byte("hello, world")}},
		{"byte array", [4]byte{1, 2, 3, 255}},
		{"named bytes", jcBytes("named")},
		{"nil and empty", map[string]any{"nil slice": []int(nil), "empty slice": []int{}, "nil map": map[string]int(nil), "empty map": map[string]int{}, "empty struct": struct{}{}}},
		{"int keys", map[int]string{10: "ten", 9: "nine", -1: "minus one", 100: "hundred"}},
		{"text keys", map[jcText]int{3: 3, 20: 20, 1: 1}},
		{"unicode keys", map[string]int{"é": 1, "z": 2, "Z": 3, "😀": 4, "\u2028": 5, "a b": 6}},
		{"strings", []string{"<script>&amp;</script>", "\u2028\u2029", "\x00\x01\b\f\n\r\t\x1f\x7f", `"quoted" \ back\slash /`, "café 😀 日本", ""}},
		{"floats", []float64{0, math.Copysign(0, -1), 1, -1.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.123, 3.14, math.MaxFloat64, math.SmallestNonzeroFloat64, 1 << 53, 1<<53 + 2, 0.1 + 0.2}},
		{"float32", []float32{0.1, 1e-7, math.MaxFloat32, 16777216}},
		{"integers", []any{math.MinInt64, math.MaxInt64, uint64(math.MaxUint64), int8(-8), uint8(8)}},
		{"struct rules", jcAll{jcEmbedded: jcEmbedded{"b", 1}, jcInner: &jcInner{2, 3}, Name: "n", Renamed: "r", Kept: 4, Quoted: 5, Skipped: 6, Pointer: &seven, Nested: jcInner{8, 9}, Any: []any{1.5, "x", nil, true, map[string]any{"k": "v"}}, private: 10}},
		{"struct zero", jcAll{}},
		{"methods", map[string]any{"value": jcValueMethod{1}, "pointer in a map": map[string]jcPointerMethod{"k": {2}}, "pointer": &jcPointerMethod{3}, "pointer in a slice": []jcPointerMethod{{4}}}},
		{"raw message", struct{ Raw stdjson.RawMessage }{stdjson.RawMessage(`{"b" : 1,"a":[ 2 ,3]}`)}},
		{"number", struct{ N, Empty stdjson.Number }{N: "12.50"}},
		{"nested empty", [][]map[string][]int{{}, {{}}, {{"k": {}}}}},
		{"top-level scalars", []any{nil, true, "s", 1.0}},
	}
}

var updateGolden = flag.Lookup("update") // gotest.tools/v3/golden defines -update

// TestJSONBytes holds the codec to the bytes of testdata/json-codec.golden,
// case by case, and checks that encoding/json writes the same bytes for
// every case, so that the golden file is encoding/json's layout.
func TestJSONBytes(t *testing.T) {
	var ours, std txtar.Archive
	for _, tc := range jsonCases() {
		got, err := cache.JSON.Marshal(tc.v)
		assert.NilError(t, err, tc.name)
		ours.Files = append(ours.Files, txtar.File{Name: tc.name, Data: got})

		var buf bytes.Buffer
		enc := stdjson.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		assert.NilError(t, enc.Encode(tc.v), tc.name)
		std.Files = append(std.Files, txtar.File{Name: tc.name, Data: buf.Bytes()})
	}
	golden.Assert(t, string(txtar.Format(&ours)), "json-codec.golden")
	if updateGolden == nil || updateGolden.Value.String() != "true" {
		golden.Assert(t, string(txtar.Format(&std)), "json-codec.golden")
	}
}

// TestJSONDecodesItsGolden: every golden case decodes back into a value of
// its type that encodes to the same bytes.
func TestJSONDecodesItsGolden(t *testing.T) {
	for _, tc := range jsonCases() {
		switch tc.name {
		case "methods", "struct rules", "integers":
			continue // types that write what they cannot read back, or any holding integers, read back as float64
		}
		data, err := cache.JSON.Marshal(tc.v)
		assert.NilError(t, err)
		back := newOf(tc.v)
		assert.NilError(t, cache.JSON.Unmarshal(data, back), tc.name)
		again, err := cache.JSON.Marshal(deref(back))
		assert.NilError(t, err)
		assert.Equal(t, string(again), string(data), tc.name)
	}
}

// TestCommittedFixturesReencode re-encodes every JSON fixture committed in
// this repository (in testdata/.pecapiku directories and in the txtar
// archives of the scripts) with the codec, member order kept, and wants the
// bytes of the file. Hand-written fixtures in the scripts count: a user's
// hand-edited fixture recorded again must not change for nothing.
func TestCommittedFixturesReencode(t *testing.T) {
	root, err := filepath.Abs("..")
	assert.NilError(t, err)
	checked := 0
	check := func(name string, data []byte) {
		t.Helper()
		if !jsontext.Value(data).IsValid() {
			return // a broken fixture kept on purpose (verify's tests)
		}
		var tree ordered
		assert.NilError(t, json.Unmarshal(data, &tree), name)
		again, err := cache.JSON.Marshal(tree)
		assert.NilError(t, err, name)
		assert.Check(t, string(again) == string(data), "%s changes when it is recorded again:\n%s\nbecomes\n%s", name, data, again)
		checked++
	}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		switch {
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.IsDir():
			return nil
		case strings.HasSuffix(path, ".json") && strings.Contains(filepath.ToSlash(rel), ".pecapiku/"):
			data, err := os.ReadFile(path)
			assert.NilError(t, err)
			check(rel, data)
		case strings.HasSuffix(path, ".txtar"):
			a, err := txtar.ParseFile(path)
			assert.NilError(t, err)
			for _, f := range a.Files {
				if strings.HasSuffix(f.Name, ".json") && strings.Contains(f.Name, ".pecapiku/") {
					check(rel+": "+f.Name, f.Data)
				}
			}
		}
		return nil
	})
	assert.NilError(t, err)
	assert.Assert(t, checked >= 10, "found only %d fixtures: is the walk looking in the right place?", checked)
}

// ordered is a JSON value decoded with its objects' members in the order of
// the input, as the struct types that fixtures come from write them.
type ordered struct {
	members []member // an object, when obj
	items   []ordered
	scalar  any // a string, a float64, a bool or nil
	obj     bool
	arr     bool
}

type member struct {
	name  string
	value ordered
}

func (o *ordered) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	switch dec.PeekKind() {
	case '{':
		o.obj = true
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		for dec.PeekKind() != '}' {
			var m member
			if err := json.UnmarshalDecode(dec, &m.name); err != nil {
				return err
			}
			if err := m.value.UnmarshalJSONFrom(dec); err != nil {
				return err
			}
			o.members = append(o.members, m)
		}
		_, err := dec.ReadToken()
		return err
	case '[':
		o.arr = true
		if _, err := dec.ReadToken(); err != nil {
			return err
		}
		for dec.PeekKind() != ']' {
			var item ordered
			if err := item.UnmarshalJSONFrom(dec); err != nil {
				return err
			}
			o.items = append(o.items, item)
		}
		_, err := dec.ReadToken()
		return err
	}
	if dec.PeekKind() == '0' {
		// An integer stays as it is written (a float64 would lose the
		// digits of a large one); a number with a fraction or an
		// exponent is read as the float64 it came from, so that its
		// formatting is checked.
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		if bytes.ContainsAny(v, ".eE") {
			var f float64
			err := json.Unmarshal(v, &f)
			o.scalar = f
			return err
		}
		o.scalar = stdjson.Number(v)
		return nil
	}
	return json.UnmarshalDecode(dec, &o.scalar)
}

func (o ordered) MarshalJSONTo(enc *jsontext.Encoder) error {
	switch {
	case o.obj:
		if err := enc.WriteToken(jsontext.BeginObject); err != nil {
			return err
		}
		for _, m := range o.members {
			if err := enc.WriteToken(jsontext.String(m.name)); err != nil {
				return err
			}
			if err := m.value.MarshalJSONTo(enc); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndObject)
	case o.arr:
		if err := enc.WriteToken(jsontext.BeginArray); err != nil {
			return err
		}
		for _, item := range o.items {
			if err := item.MarshalJSONTo(enc); err != nil {
				return err
			}
		}
		return enc.WriteToken(jsontext.EndArray)
	}
	if n, ok := o.scalar.(stdjson.Number); ok {
		return enc.WriteValue(jsontext.Value(n))
	}
	return json.MarshalEncode(enc, o.scalar)
}

// newOf returns a pointer to a new zero value of v's type.
func newOf(v any) any { return reflect.New(reflect.TypeOf(v)).Interface() }

// deref returns the value p points to.
func deref(p any) any { return reflect.ValueOf(p).Elem().Interface() }

func (t *jcText) UnmarshalText(b []byte) error {
	_, err := fmt.Sscanf(string(b), "t%03d", (*int)(t))
	return err
}
