package cache_test

import (
	"testing"
	"time"

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
		{"json empty", cache.JSON, "", "EOF"},
		{"json truncated", cache.JSON, `{"Name": "iris`, "unexpected EOF"},
		{"json unknown field", cache.JSON, `{"Title": "x"}`, `json: unknown field "Title"`},
		{"json other type", cache.JSON, `[1, 2]`, "json: cannot unmarshal array into Go value of type cache_test.dataset"},
		{"json two values", cache.JSON, `{"Name": "a"}{"Name": "b"}`, "unexpected data after the value at offset 13"},
		{"json gob bytes", cache.JSON, string(good), "invalid character"},
		{"gob empty", cache.Gob, "", "EOF"},
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
