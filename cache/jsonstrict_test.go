package cache

import (
	"bytes"
	"encoding/json"
	"reflect"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"
)

// The types the strict JSON decode is checked on: every rule of
// encoding/json's field list that the walk of jsonstrict.go follows or
// refuses to follow.
type (
	jsPlain struct {
		ID    int64
		Name  string `json:"name"`
		Tags  []string
		Inner *jsPlain          `json:"inner,omitempty"`
		Kids  []jsPlain         `json:",omitempty"`
		ByKey map[string]jsLeaf `json:"by_key"`
		Pair  [2]jsLeaf
		Any   any
		Raw   json.RawMessage
		When  time.Time
		Skip  int `json:"-"`
		//lint:ignore SA5008 a field named "-", as encoding/json reads this tag
		Dash int `json:"-,"`
		//lint:ignore SA5008 a tag name encoding/json refuses, keeping the Go name
		Bad int `json:"a\"b"`
		//lint:ignore U1000 an unexported field, which encoding/json does not decode
		priv int
	}
	jsLeaf struct{ A, B int }
	jsBase struct {
		Base  string
		Extra int `json:"extra"`
	}
	jsEmbeds struct {
		jsBase
		*jsLeaf
		Own string
	}
	jsTaggedEmbed struct {
		jsBase `json:"base"`
		Own    string
	}
	// A name given twice: encoding/json keeps the shallower field.
	jsShadow struct {
		jsBase
		Base int
	}
	jsCaseTwins struct {
		Value int
		VALUE int `json:"value"`
	}
	// Two embedded types with UnmarshalJSON: neither method is promoted,
	// and encoding/json, reaching the unexported fields read-only, cannot
	// call them and decodes the fields key by key.
	jsSelfA     struct{ X int }
	jsSelfB     struct{ Y int }
	jsHiddenTwo struct {
		jsSelfA `json:"a"`
		jsSelfB `json:"b"`
	}
	jsList  []jsList
	jsMapOf map[string]jsMapOf
	jsTree  struct {
		Label string
		Kids  []*jsTree
	}
)

func (*jsSelfA) UnmarshalJSON([]byte) error { return nil }
func (*jsSelfB) UnmarshalJSON([]byte) error { return nil }

// jsTypes are pointers to zero values of the types, made afresh.
var jsTypes = []func() any{
	func() any { return new(jsPlain) },
	func() any { return new([]jsPlain) },
	func() any { return new(map[string]*jsPlain) },
	func() any { return new(jsEmbeds) },
	func() any { return new(jsTaggedEmbed) },
	func() any { return new(jsShadow) },
	func() any { return new(jsCaseTwins) },
	func() any { return new(jsHiddenTwo) },
	func() any { return new(jsList) },
	func() any { return new(jsMapOf) },
	func() any { return new(*jsTree) },
	func() any { return new([3]jsLeaf) },
	func() any { return new([]int) },
	func() any { return new(any) },
}

// jsInputs exercise each rule: exact and case-folded keys, escapes, unknown
// fields at every depth, nulls, values of the wrong shape, trailing data.
var jsInputs = []string{
	`{"ID":1,"name":"n","Tags":["a","b"],"inner":{"ID":2},"Kids":[{"ID":3,"Pair":[{"A":1},{"B":2}]}],"by_key":{"k":{"A":1,"B":2}},"Any":{"x":[1,{"y":2}]},"Raw":{"z":1},"When":"2024-01-02T03:04:05Z","-":7}`,
	`{"id":1}`,
	`{"NAME":"n"}`,
	`{"n\u0061me":"n"}`,
	`{"ID":1,"Nope":2}`,
	`{"inner":{"inner":{"Nope":1}}}`,
	`{"by_key":{"k":{"A":1,"C":2}}}`,
	`{"Pair":[{"A":1},{"A":2},{"C":3}]}`,
	`{"Skip":1}`,
	`{"priv":1}`,
	`{"Bad":1}`,
	`{"a\"b":1}`,
	`[{"ID":1},{"ID":2,"X":0},null]`,
	`[{"A":1},{"B":2},{"A":3},{"Z":4}]`,
	`{"Base":"b","extra":1,"A":1,"B":2,"Own":"o"}`,
	`{"base":{"Base":"b"},"Own":"o"}`,
	`{"base":{"Nope":1}}`,
	`{"Base":1}`,
	`{"Base":"s"}`,
	`{"Value":1,"value":2,"VaLuE":3}`,
	`{"a":{"X":1,"Nope":2},"b":{"Y":1}}`,
	`[[],[[]],[[[]]]]`,
	`{"a":{"b":{}}}`,
	`{"Label":"r","Kids":[{"Label":"c","Kids":[null,{"Label":"d","Oops":1}]}]}`,
	`{"Label":"r","Kids":[{"Label":"c","Kids":[]}]}`,
	`[1,2,3]`,
	`{"ID":"not a number"}`,
	`{"ID":1} {"ID":2}`,
	`{"ID":1} x`,
	`{"ID":1`,
	`{"ID":1,}`,
	``,
	`null`,
	`  {"Tags" : [ "a\"}" , "b\\" ] , "name" : "\\\"" }  `,
	`{"ID":1,"ID":2}`,
	`{"Any":{"Nope":1},"Raw":[{"Nope":1}]}`,
}

// decodeBoth decodes data into fresh values of the type of mk with the
// codec and with the Decoder alone, and fails t unless both give the same
// value and the same error.
func decodeBoth(t testing.TB, mk func() any, data []byte) {
	t.Helper()
	fast, strict := mk(), mk()
	errFast := JSON.Unmarshal(data, fast)
	errStrict := decodeStrict(data, strict)
	if (errFast == nil) != (errStrict == nil) || errFast != nil && errFast.Error() != errStrict.Error() {
		t.Fatalf("%T from %q: the codec says %v, the Decoder %v", fast, data, errFast, errStrict)
	}
	if !reflect.DeepEqual(fast, strict) {
		t.Fatalf("%T from %q: the codec decoded %#v, the Decoder %#v", fast, data, fast, strict)
	}
}

func TestJSONStrictMatchesDecoder(t *testing.T) {
	for _, mk := range jsTypes {
		for _, in := range jsInputs {
			decodeBoth(t, mk, []byte(in))
		}
	}
}

// TestJSONStrictWalk checks the walk itself, so that the fast path is known
// to be taken (and to refuse) where it should; TestJSONStrictMatchesDecoder
// would pass with a walk that always sent the decode to the Decoder.
func TestJSONStrictWalk(t *testing.T) {
	plan := func(v any) *jsonPlan { return planFor(reflect.TypeOf(v)) }
	assert.Assert(t, plan(new(jsPlain)) != nil)
	assert.Assert(t, plan(new(jsEmbeds)) != nil)
	assert.Assert(t, plan(new(jsTaggedEmbed)) != nil)
	assert.Assert(t, plan(new(jsList)) != nil)
	assert.Assert(t, plan(new(*jsTree)) != nil)
	assert.Assert(t, is.Nil(plan(new(jsShadow))), "a shadowed name is left to the Decoder")
	assert.Assert(t, is.Nil(plan(new(jsHiddenTwo))), "an embedded type whose method encoding/json cannot call is left to the Decoder")
	assert.Equal(t, plan(new([]int)).kind, planSkip)
	assert.Equal(t, plan(new(map[string][]time.Time)).kind, planSkip)

	cases := []struct {
		v    any
		in   string
		want bool
	}{
		{new(jsPlain), jsInputs[0], true},
		{new(jsPlain), `{"id":1}`, false},
		{new(jsPlain), `{"n\u0061me":"n"}`, false},
		{new(jsPlain), `{"inner":{"inner":{"Nope":1}}}`, false},
		{new(jsPlain), `{"Pair":[{"A":1},{"A":2},{"C":3}]}`, true},
		{new(jsPlain), `{"Pair":[{"A":1},{"C":2}]}`, false},
		{new(jsPlain), `{"Any":{"Nope":1},"Raw":[{"Nope":1}]}`, true},
		{new(jsPlain), `  {"Tags" : [ "a\"}" , "b\\" ] , "name" : "\\\"" }  `, true},
		{new(jsEmbeds), `{"Base":"b","extra":1,"A":1,"B":2,"Own":"o"}`, true},
		{new(jsEmbeds), `{"jsBase":{}}`, false},
		{new(jsTaggedEmbed), `{"base":{"Base":"b"},"Own":"o"}`, true},
		{new(jsTaggedEmbed), `{"Base":"b"}`, false},
		{new(*jsTree), `{"Label":"r","Kids":[{"Label":"c","Kids":[null,{"Label":"d","Oops":1}]}]}`, false},
		{new(*jsTree), `{"Label":"r","Kids":[{"Label":"c","Kids":[]}]}`, true},
	}
	for _, c := range cases {
		got := knownFields([]byte(c.in), plan(c.v))
		assert.Equal(t, got, c.want, "%T %s", c.v, c.in)
	}
}

// TestJSONStrictErrors pins what a user sees for a fixture recorded from
// another version of a type.
func TestJSONStrictErrors(t *testing.T) {
	var v []jsPlain
	err := JSON.Unmarshal([]byte(`[{"ID":1},{"ID":2,"Renamed":"x"}]`), &v)
	assert.Error(t, err, `json: unknown field "Renamed"`)
	err = JSON.Unmarshal([]byte(`[{"ID":1}] [{"ID":2}]`), &v)
	assert.ErrorContains(t, err, "unexpected data after the value")
}

// TestJSONStrictNotZero: decoding into a value that already holds
// something merges into it, as encoding/json does, by the Decoder alone.
func TestJSONStrictNotZero(t *testing.T) {
	v := jsPlain{ID: 5, Name: "kept"}
	assert.NilError(t, JSON.Unmarshal([]byte(`{"ID":6}`), &v))
	assert.Equal(t, v.Name, "kept")
	assert.Equal(t, v.ID, int64(6))
	err := JSON.Unmarshal([]byte(`{"Name":"x","Nope":1}`), &v)
	assert.Error(t, err, `json: unknown field "Nope"`)
}

// TestJSONStrictDeep: nesting deeper than encoding/json allows is its
// error, not a stack overflow in the walk (which would kill the process:
// the stack is lowered so that it would show here).
func TestJSONStrictDeep(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(16 << 20))
	var v jsList
	err := JSON.Unmarshal(bytes.Repeat([]byte("["), 200000), &v)
	assert.ErrorContains(t, err, "exceeded max depth")
}

// FuzzJSONStrict: whatever the bytes, the codec's decode equals the
// Decoder's, value and error.
func FuzzJSONStrict(f *testing.F) {
	for i, in := range jsInputs {
		f.Add([]byte(in), uint8(i))
	}
	f.Add([]byte(strings.Repeat(`[`, 200)+strings.Repeat(`]`, 200)), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		decodeBoth(t, jsTypes[int(which)%len(jsTypes)], data)
	})
}
