package cache

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
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
	// losslessTypes caches jsonLossless's answer for each type.
	losslessTypes sync.Map // reflect.Type → bool
)

// jsonLossless reports whether every value of t, once encoded by the json
// codec without a \ufffd escape, decodes to an equal value.
func jsonLossless(t reflect.Type) bool {
	if ok, found := losslessTypes.Load(t); found {
		return ok.(bool)
	}
	ok := losslessCheck{seen: map[reflect.Type]bool{}}.of(t)
	losslessTypes.Store(t, ok)
	return ok
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
	for _, m := range []reflect.Type{jsonMarshalerType, textMarshalerType, jsonUnmarshalerType, textUnmarshalerType} {
		if t.Implements(m) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(m) {
			return true
		}
	}
	return false
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
// not send a struct field that holds its zero value, nor a slice's or a
// map's length when it is zero, nor pointers, only what they point to. So
// an empty slice or map that is not nil comes back nil, and a pointer to a
// zero value comes back nil, at any depth. For types gob handles itself
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
	// gobPlans caches gobPlanFor's answer for each type.
	gobPlans sync.Map // reflect.Type → *gobPlan
)

// gobPlanFor returns the plan of t, or nil if gob may lose more of a value
// of t than the walk looks for.
func gobPlanFor(t reflect.Type) *gobPlan {
	if p, ok := gobPlans.Load(t); ok {
		return p.(*gobPlan)
	}
	b := gobPlanBuilder{plans: map[reflect.Type]*gobPlan{}}
	p := b.plan(t)
	if b.failed {
		p = nil
	}
	gobPlans.Store(t, p)
	return p
}

type gobPlanBuilder struct {
	plans  map[reflect.Type]*gobPlan
	failed bool
}

// gobOwnMethods reports whether t or *t encodes or decodes itself for gob.
func gobOwnMethods(t reflect.Type) bool {
	for _, m := range []reflect.Type{gobEncoderType, gobDecoderType, binMarshaler, binUnmarshaler, textMarshalerType, textUnmarshalerType} {
		if t.Implements(m) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(m) {
			return true
		}
	}
	return false
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

// keeps reports whether v, of the type of plan p, holds nothing gob loses.
func (p *gobPlan) keeps(v reflect.Value) bool {
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
				if !p.elem.keeps(v.Index(i)) {
					return false
				}
			}
		}
	case reflect.Map:
		if v.Len() == 0 {
			return v.IsNil()
		}
		if p.key.visit || p.elem.visit {
			for it := v.MapRange(); it.Next(); {
				if !p.key.keeps(it.Key()) || !p.elem.keeps(it.Value()) {
					return false
				}
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			return true
		}
		return !v.Elem().IsZero() && p.elem.keeps(v.Elem())
	case reflect.Struct:
		for _, f := range p.fields {
			if !f.plan.keeps(v.Field(f.index)) {
				return false
			}
		}
	}
	return true
}
