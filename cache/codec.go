package cache

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
)

// A Codec turns values into the bytes of an entry and back. Each codec has its
// own file extension, so entries of different codecs never share a file.
//
// The store checks every value it writes by decoding what the codec encoded
// and comparing the result with the value (see [ErrRoundTrip]), so a codec
// need not detect by itself what it cannot represent.
type Codec interface {
	// Name is the codec's short name, as shown in listings: "json".
	Name() string
	// Ext is the file extension of its entries, with the dot: ".json".
	Ext() string
	// Marshal encodes v.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into the value v points to. It reports an
	// error, never panics, for data it did not produce, including data
	// that is empty or cut short.
	Unmarshal(data []byte, v any) error
}

// The codecs this package provides. JSON is the default.
var (
	// JSON stores values as indented JSON: two spaces, map keys sorted,
	// "<", ">" and "&" left as they are, a trailing newline. Equal values
	// give identical bytes, so re-recording an unchanged value leaves no
	// diff. Decoding rejects fields the type does not have and anything
	// after the value, so an entry recorded from another type, or from two
	// writes run together, is reported rather than half-read.
	JSON Codec = jsonCodec{}
	// Gob stores values with encoding/gob: compact, Go-typed binary. Values
	// held in interfaces need gob.Register.
	Gob Codec = gobCodec{}
	// Raw stores a []byte or a string verbatim, with no framing: the entry
	// is the value, a file any tool can open. Named types whose underlying
	// type is []byte or string are accepted too; any other type is an
	// error. Since there is no framing, a raw entry cannot be found
	// corrupt: any content is a valid value.
	Raw Codec = rawCodec{}
)

// codecs lists the codecs of this package, for telling an entry's codec from
// its file extension.
var codecs = []Codec{JSON, Gob, Raw}

type jsonCodec struct{}

func (jsonCodec) Name() string { return "json" }
func (jsonCodec) Ext() string  { return ".json" }

func (jsonCodec) Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (jsonCodec) Unmarshal(data []byte, v any) error {
	// The fast path of a strict decode (see jsonstrict.go) needs a zero
	// value to fall back from: json.Unmarshal into a value that holds
	// something merges, and what it merged could not be undone.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().IsZero() {
		if p := planFor(rv.Type()); p != nil {
			// Unmarshal first: the walk relies on valid JSON, whose
			// nesting encoding/json limits to 10000 levels.
			if json.Unmarshal(data, v) == nil && (p.kind == planSkip || knownFields(data, p)) {
				return nil
			}
			rv.Elem().SetZero()
		}
	}
	return decodeStrict(data, v)
}

// decodeStrict decodes data into v with a json.Decoder that rejects fields
// the type does not have, and rejects anything after the value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if rest := bytes.TrimSpace(data[dec.InputOffset():]); len(rest) > 0 {
		return fmt.Errorf("unexpected data after the value at offset %d", dec.InputOffset())
	}
	return nil
}

type gobCodec struct{}

func (gobCodec) Name() string { return "gob" }
func (gobCodec) Ext() string  { return ".gob" }

func (gobCodec) Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (gobCodec) Unmarshal(data []byte, v any) error {
	// bytes.Reader is an io.ByteReader, so the decoder reads exactly the
	// messages of one value and what is left over can be detected.
	r := bytes.NewReader(data)
	if err := gob.NewDecoder(r).Decode(v); err != nil {
		return err
	}
	if r.Len() > 0 {
		return fmt.Errorf("unexpected data after the value: %d bytes", r.Len())
	}
	return nil
}

type rawCodec struct{}

func (rawCodec) Name() string { return "raw" }
func (rawCodec) Ext() string  { return ".raw" }

var byteType = reflect.TypeOf(byte(0))

// rawKind reports whether t is a string or a []byte, named or not.
func rawKind(t reflect.Type) bool {
	return t.Kind() == reflect.String ||
		t.Kind() == reflect.Slice && t.Elem() == byteType
}

func (rawCodec) Marshal(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || !rawKind(rv.Type()) {
		return nil, fmt.Errorf("the raw codec stores only []byte and string values, not %s; use the json or gob codec", typeName(v))
	}
	if rv.Kind() == reflect.String {
		return []byte(rv.String()), nil
	}
	return rv.Bytes(), nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	switch p := v.(type) {
	case *[]byte:
		*p = data
		return nil
	case *string:
		*p = string(data)
		return nil
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Kind() != reflect.Pointer || rv.IsNil() || !rawKind(rv.Type().Elem()) {
		return fmt.Errorf("the raw codec decodes only into *[]byte and *string, not %s; use the json or gob codec", typeName(v))
	}
	elem := rv.Elem()
	if elem.Kind() == reflect.String {
		elem.SetString(string(data))
	} else {
		elem.Set(reflect.ValueOf(data).Convert(elem.Type()))
	}
	return nil
}

// typeName names the dynamic type of v for a message.
func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return reflect.TypeOf(v).String()
}

// typeCache remembers what compute said of each type: the codecs' fast
// paths work out their plans and verdicts once per type, and look them up
// on every call.
type typeCache[V any] struct{ m sync.Map }

func (c *typeCache[V]) get(t reflect.Type, compute func(reflect.Type) V) V {
	if v, ok := c.m.Load(t); ok {
		return v.(V)
	}
	v := compute(t)
	c.m.Store(t, v)
	return v
}

// hasMethodOf reports whether t or *t implements one of ifaces: the
// standard codecs look for their methods on a value's address too.
func hasMethodOf(t reflect.Type, ifaces ...reflect.Type) bool {
	for _, m := range ifaces {
		if t.Implements(m) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(m) {
			return true
		}
	}
	return false
}
