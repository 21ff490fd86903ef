package cache_test

import (
	"bytes"
	stdjson "encoding/json"
	"reflect"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/go-cmp/cmp"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

type NumEmbedded struct{ N stdjson.Number }

type numList struct {
	N    stdjson.Number
	Next *numList
}

// numFrom encodes and decodes itself with the library's encoder and decoder
// in hand, so that what it writes inside is up to the options in force,
// through a Number that its type does not show; its MarshalJSON writes the
// same for encoding/json.
type numFrom struct{ inner string }

func (n numFrom) MarshalJSON() ([]byte, error) {
	return stdjson.Marshal(map[string]stdjson.Number{"inner": stdjson.Number(n.inner)})
}

func (n numFrom) MarshalJSONTo(enc *jsontext.Encoder) error {
	return json.MarshalEncode(enc, map[string]stdjson.Number{"inner": stdjson.Number(n.inner)})
}

func (n *numFrom) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var m map[string]stdjson.Number
	err := json.UnmarshalDecode(dec, &m)
	n.inner = string(m["inner"])
	return err
}

// TestJSONNumberWherever: an encoding/json Number is written as the number
// it holds, as encoding/json writes it, and read back, wherever a value
// holds it: in a field, behind a pointer, in a slice, an array, a map, an
// embedded struct, a recursive type, an interface, or inside a type that
// encodes itself with the library.
func TestJSONNumberWherever(t *testing.T) {
	n := stdjson.Number("12.50")
	cases := []struct {
		name     string
		v        any
		readBack bool // an interface reads a number back as a float64
	}{
		{"top level", n, true},
		{"field", struct{ N stdjson.Number }{n}, true},
		{"pointer", &n, true},
		{"slice", []stdjson.Number{n, "1e3"}, true},
		{"array", [2]stdjson.Number{n, "-3"}, true},
		{"map value", map[string]stdjson.Number{"k": n}, true},
		{"slice of maps of pointers", []map[string]*stdjson.Number{{"k": &n}}, true},
		{"embedded", struct{ NumEmbedded }{NumEmbedded{n}}, true},
		{"embedded pointer", struct{ *NumEmbedded }{&NumEmbedded{n}}, true},
		{"recursive", numList{"1", &numList{n, nil}}, true},
		{"interface", []any{n}, false},
		{"interface field", struct{ V any }{n}, false},
		{"method with the encoder", numFrom{string(n)}, true},
		{"method with the encoder, in a slice", []numFrom{{string(n)}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cache.JSON.Marshal(tc.v)
			assert.NilError(t, err)
			var want bytes.Buffer
			enc := stdjson.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			assert.NilError(t, enc.Encode(tc.v))
			assert.Equal(t, string(got), want.String())
			if !tc.readBack {
				return
			}
			back := reflect.New(reflect.TypeOf(tc.v))
			assert.NilError(t, cache.JSON.Unmarshal(got, back.Interface()))
			assert.DeepEqual(t, back.Elem().Interface(), tc.v, cmp.AllowUnexported(numFrom{}))
		})
	}
}
