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
// those (not to pointers: a non-nil pointer to a nil one comes back nil),
// and structs whose fields are all exported, untagged or tagged with
// nothing but a name, and not embedded. Nothing here implements a method
// that changes how encoding/json handles it.

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
		k := t.Elem().Kind()
		return k != reflect.Pointer && k != reflect.Interface && c.of(t.Elem())
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

// skipRoundTrip reports whether data, a value encoded by codec, needs no
// round-trip check before it is decoded into a value of type t: not the
// value's dynamic type, which differs from t when t is an interface.
func skipRoundTrip(codec Codec, t reflect.Type, data []byte) bool {
	if _, ok := codec.(jsonCodec); !ok {
		return false
	}
	return jsonLossless(t) && !bytes.Contains(data, replacedUTF8)
}
