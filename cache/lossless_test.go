package cache

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/afero"
	"gotest.tools/v3/assert"
)

type (
	llPlain struct {
		B     bool
		I     int64
		U     uint8
		F     float64
		F32   float32
		S     string `json:"s"`
		Bytes []byte
		List  []string
		Arr   [2]int
		Map   map[string]*llPlain
		IntK  map[int16]string
		Ptr   *int
		Self  *llPlain
	}
	llName  string
	llNamed struct{ N llName }
	//lint:ignore U1000 an unexported field, which encoding/json does not encode
	llPriv struct{ a int }
	llDash struct {
		A, B int `json:"-"`
	}
	llDashOne struct {
		A int `json:"-"`
		B int
	}
	llOmit struct {
		A []int `json:",omitempty"`
	}
	llQuoted struct {
		A int `json:",string"`
	}
	llAny   struct{ A any }
	llTime  struct{ T time.Time }
	llEmbed struct{ llNamed }
	llFold  struct {
		Name string
		NAME string `json:"name"`
	}
	llTextKey map[llText]int
	llText    struct{ v string }
)

func (t llText) MarshalText() ([]byte, error) { return []byte(t.v), nil }

func TestJSONLosslessTypes(t *testing.T) {
	for _, c := range []struct {
		v    any
		want bool
	}{
		{new(llPlain), true},
		{new([]llPlain), true},
		{new(map[string][]float32), true},
		{new(llNamed), true},
		{new(*llPlain), true},
		{new(**int), false},
		{new(*[]int), false},
		{new(struct{ M *map[string]int }), false},
		{new(*any), false},
		{new(llPriv), false},
		{new(llDash), false},
		{new(llDashOne), false},
		{new(llOmit), false},
		{new(llQuoted), false},
		{new(llAny), false},
		{new(any), false},
		{new(llTime), false},
		{new(llEmbed), false},
		{new(llFold), false},
		{new(llTextKey), false},
		{new(map[float64]int), false},
		{new(json.Number), false},
		{new(json.RawMessage), false},
		{new([]complex128), false},
	} {
		typ := reflect.TypeOf(c.v).Elem()
		assert.Equal(t, jsonLossless(typ), c.want, "%s", typ)
	}
}

// TestSkipRoundTripInvalidUTF8: a string that is not valid UTF-8 comes back
// changed, so its value still gets the full check and is refused.
func TestSkipRoundTripInvalidUTF8(t *testing.T) {
	typ := reflect.TypeOf(llPlain{})
	data, err := JSON.Marshal(llPlain{S: "ok \xff"})
	assert.NilError(t, err)
	assert.Assert(t, !skipRoundTrip(JSON, typ, nil, data))
	data, err = JSON.Marshal(llPlain{S: "ok \uFFFD, valid"})
	assert.NilError(t, err)
	assert.Assert(t, skipRoundTrip(JSON, typ, nil, data))
	assert.Assert(t, !skipRoundTrip(Raw, typ, nil, data), "only json and gob are known")
}

// FuzzJSONLossless: for a value of a type jsonLossless accepts, whenever
// skipRoundTrip would skip the check, the check would have passed.
func FuzzJSONLossless(f *testing.F) {
	f.Add([]byte("abc"), uint64(0), uint8(0))
	f.Add([]byte("\xff\xfe"), math.Float64bits(math.Copysign(0, -1)), uint8(0xff))
	f.Add([]byte(`\ufffd "<&>" `+"\u2028\x00"), math.Float64bits(1e300), uint8(0x5a))
	f.Fuzz(func(t *testing.T, raw []byte, bits uint64, shape uint8) {
		fl := math.Float64frombits(bits)
		if math.IsNaN(fl) || math.IsInf(fl, 0) {
			fl = 0
		}
		s := string(raw)
		var v llPlain
		v.B = shape&1 != 0
		v.I = int64(bits)
		v.U = shape
		v.F, v.F32 = fl, float32(fl)
		if math.IsInf(float64(v.F32), 0) {
			v.F32 = 0
		}
		v.S = s
		if shape&2 != 0 {
			v.Bytes = raw
		} else if shape&4 != 0 {
			v.Bytes = []byte{}
		}
		if shape&8 != 0 {
			v.List = []string{s, ""}
		} else if shape&16 != 0 {
			v.List = []string{}
		}
		v.Arr = [2]int{int(shape), -int(bits >> 1)}
		if shape&32 != 0 {
			n := int(binary.LittleEndian.Uint16(append(raw, 0, 0)))
			v.Ptr = &n
			v.Map = map[string]*llPlain{s: {S: s}, "nil": nil}
			v.IntK = map[int16]string{int16(n): s}
		} else if shape&64 != 0 {
			v.Map = map[string]*llPlain{}
			v.IntK = map[int16]string{}
		}
		if shape&128 != 0 {
			inner := v
			v.Self = &inner
		}
		data, err := JSON.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !skipRoundTrip(JSON, reflect.TypeOf(v), v, data) {
			return
		}
		var back llPlain
		if err := JSON.Unmarshal(data, &back); err != nil {
			t.Fatalf("skipped the check of a value that does not decode: %v", err)
		}
		if diff := cmp.Diff(v, back, roundTripOptions...); diff != "" {
			t.Fatalf("skipped the check of a value that comes back changed (-computed +replayed):\n%s", diff)
		}
	})
}

type (
	llGob struct {
		B     bool
		I     int64
		F     float64
		S     string
		Bytes []byte
		List  []string
		Arr   [2]int
		Map   map[string][]int
		Ptr   *int
		Kids  []llGob
		Inner *llGobInner
	}
	llGobInner struct{ N int }
	llGobIface struct{ A any }
	llGobChan  struct {
		A int
		C chan int
	}
	llGobFloatKey map[float64]int
	llGobPtrPtr   struct{ P **int }
)

func TestGobPlan(t *testing.T) {
	for _, c := range []struct {
		v    any
		want bool
	}{
		{new(llGob), true},
		{new([]llGob), true},
		{new(map[string]*llGobInner), true},
		{new([3]int), true},
		{new(llPriv), false},
		{new(llGobIface), false},
		{new(llGobChan), false},
		{new(llGobFloatKey), false},
		{new(llGobPtrPtr), false},
		{new([]complex128), false},
		{new(map[*int]string), false},
		{new(map[[2]*int]string), false},
		{new(llTime), false},
		{new(any), false},
	} {
		typ := reflect.TypeOf(c.v).Elem()
		assert.Equal(t, gobPlanFor(typ) != nil, c.want, "%s", typ)
	}
	assert.Assert(t, !gobPlanFor(reflect.TypeOf([3]int{})).visit, "nothing to visit in an array of numbers")

	typ := reflect.TypeOf(llGob{})
	n, zero := 7, 0
	for _, c := range []struct {
		v    llGob
		want bool
	}{
		{llGob{}, true},
		{llGob{List: []string{"a"}, Map: map[string][]int{"k": {1}}, Ptr: &n, Kids: []llGob{{I: 1}}}, true},
		{llGob{List: []string{}}, false},
		{llGob{Bytes: []byte{}}, false},
		{llGob{Map: map[string][]int{}}, false},
		{llGob{Map: map[string][]int{"k": {}}}, false},
		{llGob{Ptr: &zero}, false},
		{llGob{Inner: &llGobInner{}}, false},
		{llGob{Kids: []llGob{{List: []string{}}}}, false},
		{llGob{Kids: []llGob{{Map: nil}}}, true}, // a struct field's nil map is left out: nil again
	} {
		data, err := Gob.Marshal(c.v)
		assert.NilError(t, err)
		assert.Equal(t, skipRoundTrip(Gob, typ, c.v, data), c.want, "%#v", c.v)
	}
}

// FuzzGobLossless: whenever skipRoundTrip would skip the check of a gob
// value, the check would have passed.
func FuzzGobLossless(f *testing.F) {
	f.Add([]byte("abc"), uint64(0), uint16(0))
	f.Add([]byte{}, math.Float64bits(math.NaN()), uint16(0xffff))
	f.Add([]byte("\xff"), math.Float64bits(math.Copysign(0, -1)), uint16(0x5a5a))
	f.Fuzz(func(t *testing.T, raw []byte, bits uint64, shape uint16) {
		s := string(raw)
		var v llGob
		v.B = shape&1 != 0
		v.I = int64(bits)
		v.F = math.Float64frombits(bits)
		v.S = s
		if shape&2 != 0 {
			v.Bytes = raw
		}
		if shape&4 != 0 {
			v.List = []string{s}
			if shape&8 != 0 {
				v.List = v.List[:0]
			}
		}
		v.Arr = [2]int{int(shape), -int(bits >> 1)}
		if shape&16 != 0 {
			v.Map = map[string][]int{}
			if shape&32 != 0 {
				v.Map[s] = make([]int, len(raw)%3)
			}
		}
		if shape&64 != 0 {
			n := int(shape >> 8)
			v.Ptr = &n
		}
		if shape&128 != 0 {
			v.Inner = &llGobInner{N: len(raw)}
		}
		if shape&256 != 0 {
			kid := v
			v.Kids = []llGob{kid}
			if shape&512 != 0 {
				v.Kids = append(v.Kids, llGob{List: []string{}})
			}
		}
		data, err := Gob.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !skipRoundTrip(Gob, reflect.TypeOf(v), v, data) {
			return
		}
		var back llGob
		if err := Gob.Unmarshal(data, &back); err != nil {
			t.Fatalf("skipped the check of a value that does not decode: %v", err)
		}
		if diff := cmp.Diff(v, back, roundTripOptions...); diff != "" {
			t.Fatalf("skipped the check of a value that comes back changed (-computed +replayed):\n%s", diff)
		}
	})
}

// TestGobNilMapOutsideAField: gob leaves out a struct field's nil map, which
// comes back nil, but sends a nil map anywhere else as an empty one.
func TestGobNilMapOutsideAField(t *testing.T) {
	for _, v := range []any{map[string]int(nil), []map[string]int{nil}, [1]map[string]int{}, map[string]map[string]int{"k": nil}} {
		data, err := Gob.Marshal(v)
		assert.NilError(t, err)
		assert.Assert(t, !skipRoundTrip(Gob, reflect.TypeOf(v), v, data), "%#v", v)
	}
}

// TestSkippedCheckCopies: where the check is skipped, the caller that
// computed the value still gets a copy of its own, as a replay would give,
// not the memory fn returned.
func TestSkippedCheckCopies(t *testing.T) {
	for _, codec := range []Codec{JSON, Gob} {
		store, err := NewStore("/s", WithFs(afero.NewMemMapFs()), WithAccess(ReadExecuteWrite), WithCodec(codec))
		assert.NilError(t, err)
		n := 5
		shared := []llGob{{List: []string{"a"}, Ptr: &n, Map: map[string][]int{"k": {1}}}}
		data, err := codec.Marshal(shared)
		assert.NilError(t, err)
		assert.Assert(t, skipRoundTrip(codec, reflect.TypeOf(shared), shared, data), "the check must be skipped for this test to mean anything")
		got, err := Do(store, "k", func() ([]llGob, error) { return shared, nil })
		assert.NilError(t, err)
		assert.DeepEqual(t, got, shared)
		got[0].List[0], *got[0].Ptr, got[0].Map["k"][0] = "changed", 6, 2
		got[0].I = 9
		assert.Equal(t, shared[0].List[0], "a", codec.Name())
		assert.Equal(t, *shared[0].Ptr, 5, codec.Name())
		assert.Equal(t, shared[0].Map["k"][0], 1, codec.Name())
		assert.Equal(t, shared[0].I, int64(0), codec.Name())
	}
}
