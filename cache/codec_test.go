package cache_test

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

type dataset struct {
	Name   string
	Rows   []int
	Labels map[string]float64
	When   time.Time
	Note   string `json:",omitempty"`
}

var sample = dataset{
	Name:   "iris <setosa> & co",
	Rows:   []int{3, 1, 2},
	Labels: map[string]float64{"b": 2.5, "a": 1, "c": -0.125},
	When:   time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC),
}

// TestJSONStable pins the JSON layout: two-space indent, sorted map keys,
// HTML characters kept, a trailing newline. A re-record of an equal value must
// change no byte, however the map was built.
func TestJSONStable(t *testing.T) {
	const want = `{
  "Name": "iris <setosa> & co",
  "Rows": [
    3,
    1,
    2
  ],
  "Labels": {
    "a": 1,
    "b": 2.5,
    "c": -0.125
  },
  "When": "2026-11-29T17:00:00Z"
}
`
	got, err := cache.JSON.Marshal(sample)
	assert.NilError(t, err)
	assert.Equal(t, string(got), want)

	rebuilt := sample
	rebuilt.Labels = map[string]float64{}
	for _, k := range []string{"c", "a", "b"} {
		rebuilt.Labels[k] = sample.Labels[k]
	}
	again, err := cache.JSON.Marshal(rebuilt)
	assert.NilError(t, err)
	assert.Equal(t, string(again), want)
}

func TestCodecRoundTrip(t *testing.T) {
	for _, c := range []cache.Codec{cache.JSON, cache.Gob} {
		t.Run(c.Name(), func(t *testing.T) {
			data, err := c.Marshal(sample)
			assert.NilError(t, err)
			var back dataset
			assert.NilError(t, c.Unmarshal(data, &back))
			assert.DeepEqual(t, back, sample)
		})
	}
}

type html string

func TestRaw(t *testing.T) {
	data, err := cache.Raw.Marshal([]byte("\x00binary\xff"))
	assert.NilError(t, err)
	assert.Equal(t, string(data), "\x00binary\xff")

	data, err = cache.Raw.Marshal("text\n")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "text\n")

	data, err = cache.Raw.Marshal(html("<p>"))
	assert.NilError(t, err)
	assert.Equal(t, string(data), "<p>")

	var s string
	assert.NilError(t, cache.Raw.Unmarshal([]byte("text"), &s))
	assert.Equal(t, s, "text")
	var b []byte
	assert.NilError(t, cache.Raw.Unmarshal([]byte("bytes"), &b))
	assert.Equal(t, string(b), "bytes")
	var h html
	assert.NilError(t, cache.Raw.Unmarshal([]byte("<p>"), &h))
	assert.Equal(t, h, html("<p>"))

	_, err = cache.Raw.Marshal(42)
	assert.Error(t, err, "the raw codec stores only []byte and string values, not int; use the json or gob codec")
	_, err = cache.Raw.Marshal(nil)
	assert.Error(t, err, "the raw codec stores only []byte and string values, not nil; use the json or gob codec")
	var n int
	err = cache.Raw.Unmarshal([]byte("1"), &n)
	assert.Error(t, err, "the raw codec decodes only into *[]byte and *string, not *int; use the json or gob codec")
	err = cache.Raw.Unmarshal([]byte("1"), s)
	assert.Error(t, err, "the raw codec decodes only into *[]byte and *string, not string; use the json or gob codec")
}

func TestCodecNames(t *testing.T) {
	for _, tc := range []struct {
		c         cache.Codec
		name, ext string
	}{
		{cache.JSON, "json", ".json"},
		{cache.Gob, "gob", ".gob"},
		{cache.Raw, "raw", ".raw"},
	} {
		assert.Equal(t, tc.c.Name(), tc.name)
		assert.Equal(t, tc.c.Ext(), tc.ext)
	}
}

// TestCodecRejects covers data a codec did not produce: each must be an
// error, never a panic and never a silently partial value.
func TestCodecRejects(t *testing.T) {
	good, err := cache.Gob.Marshal(sample)
	assert.NilError(t, err)
	for _, tc := range []struct {
		name  string
		c     cache.Codec
		data  string
		error string
	}{
		{"json empty", cache.JSON, "", "the file is empty"},
		{"json blank", cache.JSON, " \n", "the file is empty"},
		{"json truncated", cache.JSON, `{"Name": "iris`, "unexpected EOF"},
		{"json unknown field", cache.JSON, `{"Title": "x"}`, `at /Title: cache_test.dataset has no field of that name (the entry was recorded from another type, or edited)`},
		{"json unknown field deeper", cache.JSON, `{"Name": "a", "Labels": {"x": 1}, "When": {"Zone": 1}}`, `at /When: cannot decode a JSON object into time.Time`},
		{"json field of another case", cache.JSON, `{"name": "x"}`, `at /name: cache_test.dataset has no field of that name`},
		{"json duplicate member", cache.JSON, `{"Name": "a", "Name": "b"}`, `duplicate object member name at byte 14 (at /Name)`},
		{"json other type", cache.JSON, `[1, 2]`, "at the top level: cannot decode a JSON array into cache_test.dataset"},
		{"json wrong field type", cache.JSON, `{"Rows": ["a"]}`, "at /Rows/0: cannot decode a JSON string into int"},
		{"json two values", cache.JSON, `{"Name": "a"}{"Name": "b"}`, "invalid character '{' after top-level value at byte 13"},
		{"json byte order mark", cache.JSON, "\xef\xbb\xbf{}", "the file begins with a UTF-8 byte order mark (EF BB BF), which JSON does not allow; remove those three bytes"},
		{"json invalid UTF-8", cache.JSON, "{\"Name\": \"\xff\"}", "invalid UTF-8 at byte 10 (at /Name)"},
		{"json gob bytes", cache.JSON, string(good), "invalid character"},
		{"gob empty", cache.Gob, "", "the file is empty"},
		{"gob truncated", cache.Gob, string(good[:len(good)/2]), "unexpected EOF"},
		{"gob json bytes", cache.Gob, `{"Name": "a"}`, "unexpected EOF"},
		{"gob trailing", cache.Gob, string(good) + "x", "unexpected data after the value: 1 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v dataset
			err := tc.c.Unmarshal([]byte(tc.data), &v)
			assert.ErrorContains(t, err, tc.error)
		})
	}
}

// decodeTargets are the types the codec fuzz targets decode arbitrary bytes
// into: a struct of the kind users store, the shapes of dynamic data, a
// scalar and a pointer.
type fuzzRecord struct {
	Name  string
	Count int64
	Ratio float64
	Tags  []string
	Attrs map[string]int
	Next  *fuzzRecord
	Blob  []byte
}

func decodeTargets() []func() any {
	return []func() any{
		func() any { return new(dataset) },
		func() any { return new(fuzzRecord) },
		func() any { return new(map[string]any) },
		func() any { return new([]int) },
		func() any { return new(string) },
		func() any { return new(*int64) },
		func() any { return new(any) },
	}
}

// fuzzDecode is the body of the codec fuzz targets: decoding data into each
// target type must not panic, an error must be reported through a store as
// ErrCorrupt naming the file, and a value that decodes must survive being
// recorded again: encoding it and decoding the result gives an equal value,
// so a replayed entry re-recorded unchanged stays the same entry.
func fuzzDecode(t *testing.T, c cache.Codec, data []byte, opts ...cmp.Option) {
	for _, newTarget := range decodeTargets() {
		v := newTarget()
		err := c.Unmarshal(data, v)
		if err != nil {
			continue
		}
		again, err := c.Marshal(reflect.ValueOf(v).Elem().Interface())
		if err != nil {
			// A value the codec reads but cannot write (a gob
			// interface of an unregistered type, say) is refused
			// at write time with this error; that is safe.
			continue
		}
		back := newTarget()
		if err := c.Unmarshal(again, back); err != nil {
			t.Fatalf("%s: %T decoded from %q re-encodes to %q, which does not decode: %v", c.Name(), v, data, again, err)
		}
		if diff := cmp.Diff(v, back, opts...); diff != "" {
			t.Fatalf("%s: %T decoded from %q changes when recorded again (-decoded +re-decoded):\n%s", c.Name(), v, data, diff)
		}
	}
	// Through a store: the same bytes as an entry are a value or
	// ErrCorrupt, and a decoding error names the file.
	fsys := afero.NewMemMapFs()
	_ = afero.WriteFile(fsys, "/store/k"+c.Ext(), data, 0o644)
	store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithCodec(c), cache.WithAccess(cache.ReadOnly))
	if err != nil {
		t.Fatal(err)
	}
	var rec fuzzRecord
	if err := store.Read("k", &rec); err != nil && (!errors.Is(err, cache.ErrCorrupt) || !strings.Contains(err.Error(), "/store/k"+c.Ext())) {
		t.Fatalf("%s: reading %q: want a value or ErrCorrupt naming the file, got %v", c.Name(), data, err)
	}
}

// codecSeeds returns valid encodings of a few values, and broken ones.
func codecSeeds(f *testing.F, c cache.Codec) {
	n := int64(7)
	for _, v := range []any{
		sample,
		fuzzRecord{Name: "a", Count: -3, Ratio: 0.5, Tags: []string{"x", ""}, Attrs: map[string]int{"k": 1}, Next: &fuzzRecord{Name: "b"}, Blob: []byte{0, 255}},
		map[string]any{"a": 1.5, "b": []any{"c", true, nil}},
		[]int{1, -2, 3},
		"text",
		&n,
	} {
		if data, err := c.Marshal(v); err == nil {
			f.Add(data)
			f.Add(data[:len(data)/2])
		}
	}
	for _, s := range []string{"", "null", "{}", "[]", `"`, "\x00", "\xff\xfe", `{"Name": "x", "Name": "y"}`, `{"When": "not a time"}`, "1e400", `[1, 2, 3`} {
		f.Add([]byte(s))
	}
}

// FuzzDecodeJSON feeds arbitrary bytes to the JSON codec; see fuzzDecode.
func FuzzDecodeJSON(f *testing.F) {
	codecSeeds(f, cache.JSON)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, cache.JSON, data) })
}

// FuzzDecodeGob feeds arbitrary bytes to the gob codec; see fuzzDecode. Gob
// does not send empty slices and maps, so an empty one decoded from crafted
// bytes comes back nil: the comparison treats the two as equal.
func FuzzDecodeGob(f *testing.F) {
	codecSeeds(f, cache.Gob)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecode(t, cache.Gob, data, cmpopts.EquateEmpty(), cmpopts.EquateNaNs())
	})
}

// FuzzDecodeRaw feeds arbitrary bytes to the raw codec, which must give them
// back unchanged in every type it accepts and refuse every other type.
func FuzzDecodeRaw(f *testing.F) {
	codecSeeds(f, cache.Raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		var s string
		var b []byte
		var h html
		if err := errors.Join(cache.Raw.Unmarshal(data, &s), cache.Raw.Unmarshal(data, &b), cache.Raw.Unmarshal(data, &h)); err != nil {
			t.Fatal(err)
		}
		if s != string(data) || !bytes.Equal(b, data) || string(h) != string(data) {
			t.Fatalf("raw changed %q into %q, %q, %q", data, s, b, h)
		}
		for _, newTarget := range decodeTargets() {
			v := newTarget()
			if _, ok := v.(*string); ok {
				continue
			}
			if err := cache.Raw.Unmarshal(data, v); err == nil {
				t.Fatalf("raw decoded into %T", v)
			}
		}
	})
}

type shape interface{ Area() float64 }

type unregistered struct{ R float64 }

func (u unregistered) Area() float64 { return u.R }

// TestGobRegisterHint: a value in an interface whose type gob does not
// know fails with the fix, gob.Register, in writing and in reading.
func TestGobRegisterHint(t *testing.T) {
	type holder struct{ S shape }
	_, err := cache.Gob.Marshal(holder{unregistered{1}})
	assert.ErrorContains(t, err, "gob: type not registered for interface: cache_test.unregistered; gob needs every type held in an interface registered, in the process that writes the entry and in those that read it: call gob.Register with a value of the type, in an init function of its package")
	// A stream written where the type was registered, read where it is not.
	data := []byte("\x19\x7f\x03\x01\x01\x06Holder\x01\xff\x80\x00\x01\x01\x01\x01S\x01\x10\x00\x00\x00)\xff\x80\x01\vmain.Circle\xff\x81\x03\x01\x01\x06Circle\x01\xff\x82\x00\x01\x01\x01\x01R\x01\b\x00\x00\x00\t\xff\x82\x05\x01\xfe\xf0?\x00\x00")
	var h holder
	err = cache.Gob.Unmarshal(data, &h)
	assert.ErrorContains(t, err, `name not registered for interface: "main.Circle"; gob needs every type held in an interface registered`)
}

// TestTimeLocationReplay pins what the doc of JSON and Gob says of a
// time.Time: the instant and offset come back, the location's name does
// not, and the round trip is accepted.
func TestTimeLocationReplay(t *testing.T) {
	oslo := time.FixedZone("CET", 3600)
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, oslo)
	for _, c := range []cache.Codec{cache.JSON, cache.Gob} {
		data, err := c.Marshal(when)
		assert.NilError(t, err)
		var back time.Time
		assert.NilError(t, c.Unmarshal(data, &back))
		assert.Assert(t, back.Equal(when), c.Name())
		name, offset := back.Zone()
		assert.Equal(t, offset, 3600, c.Name())
		assert.Assert(t, name != "CET", "%s kept the name of the location", c.Name())
		diff, err := cache.Diff(when, back)
		assert.NilError(t, err)
		assert.Equal(t, diff, "", c.Name())
	}
}
