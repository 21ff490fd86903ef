package cache

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

// The round-trip check decodes every value the store writes and compares it
// with the value: for JSON, whose decode costs about three times its encode,
// that check was most of the cost of a miss (issue 6's profile). For some
// types no check is needed: encoding/json writes every value of them in a
// form that decodes to an equal value, except a string that is not valid
// UTF-8, which the encoder writes with the escape \ufffd in its place. So
// the check is skipped for values of such types whose encoding holds no
// \ufffd (a string that holds the escape's text itself only costs the full
// check). The types are those built from booleans, numbers, strings,
// slices, arrays, maps with string or integer keys, pointers to any of
// those but pointers, slices and maps (a non-nil pointer to a nil one comes
// back nil), and structs whose fields are all exported, untagged or tagged
// with nothing but a name, and not embedded. Nothing here implements a
// method that changes how encoding/json handles it.

var (
	jsonMarshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshalerType = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
	jsonNumberType    = reflect.TypeOf(json.Number(""))
	// losslessTypes holds jsonLossless's answer for each type.
	losslessTypes typeCache[bool]
)

// jsonLossless reports whether every value of t, once encoded by the json
// codec without a \ufffd escape, decodes to an equal value.
func jsonLossless(t reflect.Type) bool {
	return losslessTypes.get(t, func(t reflect.Type) bool {
		return losslessCheck{seen: map[reflect.Type]bool{}}.of(t)
	})
}

type losslessCheck struct {
	// seen holds the types being checked: a type met again inside itself
	// is lossless if the rest of it is.
	seen map[reflect.Type]bool
}

func (c losslessCheck) of(t reflect.Type) bool {
	if c.seen[t] {
		return true
	}
	if t == jsonNumberType || hasCodecMethods(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return true
	}
	c.seen[t] = true
	defer delete(c.seen, t)
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return c.of(t.Elem())
	case reflect.Pointer:
		// A pointer to something written as null, when it is nil, comes
		// back nil itself.
		switch t.Elem().Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			return false
		}
		return c.of(t.Elem())
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.String,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		default:
			return false
		}
		return !hasCodecMethods(t.Key()) && c.of(t.Elem())
	case reflect.Struct:
		names := map[string]bool{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous || !f.IsExported() {
				return false
			}
			name := f.Name
			if tag, ok := f.Tag.Lookup("json"); ok {
				if tag == "-" {
					return false // never written: its value is lost
				}
				// A name alone; no options, which omit values
				// (an empty slice comes back nil) or quote them.
				if strings.Contains(tag, ",") || !validJSONTag(tag) {
					return false
				}
				name = tag
			}
			// encoding/json matches keys case-insensitively: two
			// names that differ only in case are left to the check.
			folded := strings.ToLower(name)
			if names[folded] {
				return false
			}
			names[folded] = true
			if !c.of(f.Type) {
				return false
			}
		}
		return true
	}
	// Interfaces (decoded as maps and float64s), channels, functions,
	// complex numbers.
	return false
}

// hasCodecMethods reports whether t or *t has a method that encoding/json
// would use instead of its own encoding or decoding.
func hasCodecMethods(t reflect.Type) bool {
	return hasMethodOf(t, jsonMarshalerType, textMarshalerType, jsonUnmarshalerType, textUnmarshalerType)
}

// replacedUTF8 is what encoding/json writes in place of a byte that is not
// valid UTF-8.
var replacedUTF8 = []byte(`\ufffd`)

// skipRoundTrip reports whether v, encoded by codec as data, needs no
// round-trip check before it is decoded into a value of type t: not v's
// dynamic type, which differs from t when t is an interface.
func skipRoundTrip(codec Codec, t reflect.Type, v any, data []byte) bool {
	switch codec.(type) {
	case jsonCodec:
		return jsonLossless(t) && !bytes.Contains(data, replacedUTF8)
	case gobCodec:
		if p := gobPlanFor(t); p != nil {
			rv := reflect.ValueOf(v)
			return rv.IsValid() && rv.Type() == t && p.keeps(rv)
		}
	}
	return false
}

// Gob, unlike JSON, keeps every string and every number whole, but it does
// not send a struct field that holds its zero value (an empty slice or map
// among them), an empty slice anywhere, nor pointers, only what they point
// to; and it sends a nil map that is not a struct's field as an empty one.
// So an empty slice that is not nil comes back nil, an empty map comes back
// nil in a struct's field, a nil map comes back empty elsewhere, and a
// pointer to a zero value comes back nil, at any depth; a map key holding a
// pointer comes back as a new pointer. For types gob handles itself
// (no interfaces, channels, functions, unexported or embedded unexported
// fields, or methods of its own), those are the only losses: a value that
// holds none of them, found by a walk of the parts of the value that can,
// needs no check. The walk skips strings, numbers and the elements of a
// []byte: for the values of the benchmarks it is a small fraction of the
// decode and comparison it saves.

// A gobPlan says which parts of a value of one type the walk must visit.
type gobPlan struct {
	kind reflect.Kind
	// visit is false for a type whose values hold nothing gob loses: a
	// number, a string, an array or struct of such.
	visit bool
	elem  *gobPlan // a slice's, an array's, a map's or a pointer's element
	key   *gobPlan // a map's key
	// fields are the struct fields that need a visit.
	fields []gobField
}

type gobField struct {
	index int
	plan  *gobPlan
}

var (
	gobEncoderType = reflect.TypeOf((*interface{ GobEncode() ([]byte, error) })(nil)).Elem()
	gobDecoderType = reflect.TypeOf((*interface{ GobDecode([]byte) error })(nil)).Elem()
	binMarshaler   = reflect.TypeOf((*encoding.BinaryMarshaler)(nil)).Elem()
	binUnmarshaler = reflect.TypeOf((*encoding.BinaryUnmarshaler)(nil)).Elem()
	// gobPlans holds gobPlanFor's answer for each type.
	gobPlans typeCache[*gobPlan]
)

// gobPlanFor returns the plan of t, or nil if gob may lose more of a value
// of t than the walk looks for.
func gobPlanFor(t reflect.Type) *gobPlan {
	return gobPlans.get(t, func(t reflect.Type) *gobPlan {
		b := gobPlanBuilder{plans: map[reflect.Type]*gobPlan{}}
		if p := b.plan(t); !b.failed {
			return p
		}
		return nil
	})
}

type gobPlanBuilder struct {
	plans  map[reflect.Type]*gobPlan
	failed bool
}

// gobOwnMethods reports whether t or *t encodes or decodes itself for gob.
func gobOwnMethods(t reflect.Type) bool {
	return hasMethodOf(t, gobEncoderType, gobDecoderType, binMarshaler, binUnmarshaler, textMarshalerType, textUnmarshalerType)
}

func (b *gobPlanBuilder) plan(t reflect.Type) *gobPlan {
	if p, ok := b.plans[t]; ok {
		return p
	}
	if gobOwnMethods(t) {
		b.failed = true
		return &gobPlan{}
	}
	p := &gobPlan{kind: t.Kind()}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return p
	}
	// Recursive types meet their own plan while it is built; such a type
	// has a slice, a map or a pointer in it, so it needs a visit.
	p.visit = true
	b.plans[t] = p
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		p.elem = b.plan(t.Elem())
		p.visit = t.Kind() == reflect.Slice || p.elem.visit
	case reflect.Map:
		switch t.Key().Kind() {
		case reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
			b.failed = true // a NaN key is never found again
		}
		if keyHasPointer(t.Key()) {
			b.failed = true // a decoded key is a new pointer: never found again
		}
		p.key, p.elem = b.plan(t.Key()), b.plan(t.Elem())
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			b.failed = true
		}
		p.elem = b.plan(t.Elem())
	case reflect.Struct:
		p.visit = false
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				b.failed = true
				continue
			}
			if fp := b.plan(f.Type); fp.visit {
				p.fields = append(p.fields, gobField{i, fp})
				p.visit = true
			}
		}
	default:
		// Interfaces, channels, functions, uintptrs, unsafe pointers;
		// and complex numbers, which gob keeps but the check refuses
		// when they hold a NaN (cmpopts.EquateNaNs knows floats only).
		b.failed = true
	}
	return p
}

// keyHasPointer reports whether a map key of type t holds a pointer.
func keyHasPointer(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer:
		return true
	case reflect.Array:
		return keyHasPointer(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if keyHasPointer(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// keeps reports whether v, of the type of plan p, holds nothing gob loses.
func (p *gobPlan) keeps(v reflect.Value) bool { return p.keepsAt(v, false) }

// keepsAt is keeps for a v that is a struct's field or not: gob leaves out
// a struct's nil map, which comes back nil, but sends a nil map anywhere
// else (the value itself, an element, a map's value) as an empty one.
func (p *gobPlan) keepsAt(v reflect.Value, field bool) bool {
	if !p.visit {
		return true
	}
	switch p.kind {
	case reflect.Slice:
		if v.Len() == 0 {
			return v.IsNil()
		}
		fallthrough
	case reflect.Array:
		if p.elem.visit {
			for i := 0; i < v.Len(); i++ {
				if !p.elem.keepsAt(v.Index(i), false) {
					return false
				}
			}
		}
	case reflect.Map:
		if v.IsNil() {
			return field
		}
		if v.Len() == 0 {
			return false
		}
		if p.key.visit || p.elem.visit {
			for it := v.MapRange(); it.Next(); {
				if !p.key.keepsAt(it.Key(), false) || !p.elem.keepsAt(it.Value(), false) {
					return false
				}
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			return true
		}
		return !v.Elem().IsZero() && p.elem.keepsAt(v.Elem(), false)
	case reflect.Struct:
		for _, f := range p.fields {
			if !f.plan.keepsAt(v.Field(f.index), true) {
				return false
			}
		}
	}
	return true
}

// deepCopy returns a copy of v that shares no memory with it, as a decode
// would, for the types skipRoundTrip accepts: no interfaces, channels,
// functions or unexported fields. Strings are immutable and shared.
func deepCopy(v reflect.Value) reflect.Value {
	if !refsOf(v.Type()).any {
		return v
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	unshare(c)
	return c
}

// unshare replaces every pointer, slice and map that x, which is
// addressable, holds with a copy of its own. A slice is copied whole and
// its elements mended in place: a reflect.New per element would cost more
// than the decode the copy stands in for.
func unshare(x reflect.Value) {
	switch x.Kind() {
	case reflect.Pointer:
		if x.IsNil() {
			return
		}
		c := reflect.New(x.Type().Elem())
		c.Elem().Set(x.Elem())
		if refsOf(x.Type().Elem()).any {
			unshare(c.Elem())
		}
		x.Set(c)
	case reflect.Slice:
		if x.IsNil() {
			return
		}
		c := reflect.MakeSlice(x.Type(), x.Len(), x.Len())
		reflect.Copy(c, x)
		if refsOf(x.Type().Elem()).any {
			for i := 0; i < c.Len(); i++ {
				unshare(c.Index(i))
			}
		}
		x.Set(c)
	case reflect.Map:
		if x.IsNil() {
			return
		}
		c := reflect.MakeMapWithSize(x.Type(), x.Len())
		keys, elems := refsOf(x.Type().Key()).any, refsOf(x.Type().Elem()).any
		for it := x.MapRange(); it.Next(); {
			k, e := it.Key(), it.Value()
			if keys {
				k = deepCopy(k)
			}
			if elems {
				e = deepCopy(e)
			}
			c.SetMapIndex(k, e)
		}
		x.Set(c)
	case reflect.Array:
		if refsOf(x.Type().Elem()).any {
			for i := 0; i < x.Len(); i++ {
				unshare(x.Index(i))
			}
		}
	case reflect.Struct:
		for _, i := range refsOf(x.Type()).fields {
			unshare(x.Field(i))
		}
	}
}

// refs says whether values of a type hold pointers, slices or maps, and
// which fields of a struct do.
type refs struct {
	any    bool
	fields []int
}

// refTypes holds refsOf's answer for each type.
var refTypes typeCache[refs]

func refsOf(t reflect.Type) refs { return refTypes.get(t, refsWithin) }

func refsWithin(t reflect.Type) refs {
	var r refs
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		r.any = true
	case reflect.Array:
		r.any = refsOf(t.Elem()).any
	case reflect.Struct:
		// No struct holds itself but through a pointer, a slice or a
		// map, where this stops: the recursion ends.
		for i := 0; i < t.NumField(); i++ {
			if refsOf(t.Field(i).Type).any {
				r.any = true
				r.fields = append(r.fields, i)
			}
		}
	}
	return r
}
