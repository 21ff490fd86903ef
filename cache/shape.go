package cache

import (
	"bytes"
	"encoding"
	"encoding/gob"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/pecapiku/pecapiku/internal/gobdump"
)

// The shape of a recording against the shape of its type
//
// A recording made from an older version of a type decodes without error
// when the type has since gained a field: JSON leaves the field at its zero
// value, and gob, which matches fields by name, does the same, and drops the
// recording's fields the type no longer has. The value then replays quietly
// wrong. So after decoding, the codecs compare the recording's fields with
// the type's:
//
//   - gob sends the definition of every struct type of a value, all its
//     exported fields listed, before the value: the definitions are read
//     (gobdump.TypeOfValue) and compared field by field with the Go type,
//     exactly, at a cost independent of the value's size;
//   - JSON has no definitions, only the members of each object, and a
//     member that is omitempty and empty is absent on purpose. The members
//     a type always writes are those the codec writes for its zero value;
//     the first object of each struct type in the recording must have them
//     all, and a JSON null must not stand where the type cannot be null.
//     To keep the cost of a hit small, the check reads at most the first
//     jsonShapeBudget bytes of a recording: a type that changed shows in its
//     first object, which every recording of a list or a map of it begins
//     with.

// jsonShapeBudget is the number of bytes of a JSON recording that the shape
// check reads at most.
const jsonShapeBudget = 16 << 10

// errShape marks an error of the shape check: the recording decoded, but
// does not have the fields of its type.
var errShape = errors.New("the recording does not have the fields of its type")

// jsonShape checks the JSON recording data, decoded without error into a
// value of type t, against t; see above.
func jsonShape(data []byte, t reflect.Type) error {
	if !hasStructs(t) && nonNullable(t) == "" {
		return nil
	}
	w := &shapeWalk{dec: jsontext.NewDecoder(bytes.NewReader(data)), checked: map[reflect.Type]bool{}, reachable: len(reachableStructs(t))}
	err := w.value(t)
	if errors.Is(err, errWalkDone) {
		return nil
	}
	return err
}

// errWalkDone ends a walk that has seen enough.
var errWalkDone = errors.New("done")

type shapeWalk struct {
	dec       *jsontext.Decoder
	checked   map[reflect.Type]bool // struct types whose first object was met
	done      int                   // the number of those whose first object was checked
	reachable int                   // the number of struct types the value can hold
}

func (w *shapeWalk) value(t reflect.Type) error {
	if w.dec.InputOffset() > jsonShapeBudget || w.done == w.reachable {
		return errWalkDone // read enough, or every struct type checked
	}
	kind := w.dec.PeekKind()
	if kind == 'n' {
		if what := nonNullable(t); what != "" {
			if _, err := w.dec.ReadToken(); err != nil {
				return err
			}
			return fmt.Errorf("%w: %s: the recording holds null, where %s is expected, which %s", errShape, where(w.dec.StackPointer()), t, what)
		}
		_, err := w.dec.ReadToken()
		return err
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if !hasStructs(t) {
		return w.dec.SkipValue()
	}
	switch {
	case kind == '{' && t.Kind() == reflect.Struct:
		return w.object(t)
	case kind == '{' && t.Kind() == reflect.Map:
		return w.members(func(string) (reflect.Type, bool) { return t.Elem(), true })
	case kind == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		if _, err := w.dec.ReadToken(); err != nil {
			return err
		}
		for w.dec.PeekKind() != ']' {
			if err := w.value(t.Elem()); err != nil {
				return err
			}
		}
		_, err := w.dec.ReadToken()
		return err
	}
	return w.dec.SkipValue()
}

// object walks an object that decoded into the struct type t, checking its
// members against t's when it is the first of its type.
func (w *shapeWalk) object(t reflect.Type) error {
	p := shapeOf(t)
	if p == nil {
		return w.dec.SkipValue()
	}
	first := !w.checked[t]
	w.checked[t] = true
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	at := w.dec.StackPointer()
	seen := map[string]bool{}
	err := w.membersAfterOpen(func(name string) (reflect.Type, bool) {
		seen[name] = true
		ft, ok := p.fields[name]
		return ft, ok
	})
	if err != nil || !first {
		return err
	}
	w.done++
	var missing []string
	for _, name := range p.required {
		if !seen[name] {
			missing = append(missing, fmt.Sprintf("%q", name))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s: the recording has no member %s, which %s always writes: it was recorded from another version of the type",
			errShape, where(at), strings.Join(missing, ", "), t)
	}
	return nil
}

// members walks the members of an object, each value as the type field
// gives for its name; a member without a type is skipped.
func (w *shapeWalk) members(field func(name string) (reflect.Type, bool)) error {
	if _, err := w.dec.ReadToken(); err != nil {
		return err
	}
	return w.membersAfterOpen(field)
}

// membersAfterOpen is members after the object's opening brace was read.
func (w *shapeWalk) membersAfterOpen(field func(name string) (reflect.Type, bool)) error {
	for w.dec.PeekKind() != '}' {
		tok, err := w.dec.ReadToken()
		if err != nil {
			return err
		}
		if ft, ok := field(tok.String()); ok {
			err = w.value(ft)
		} else {
			err = w.dec.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	_, err := w.dec.ReadToken()
	return err
}

// structShape is what the shape check knows of a struct type: the JSON name
// of each of its fields, with the field's type, and the names its zero
// value is written with.
type structShape struct {
	fields   map[string]reflect.Type
	required []string
}

var (
	shapes    sync.Map // reflect.Type → *structShape, nil when the check does not apply
	structsIn sync.Map // reflect.Type → bool: hasStructs
	reachable sync.Map // reflect.Type → []reflect.Type: reachableStructs
)

// reachableStructs returns the struct types with a shape that values of t
// can hold, other than through an interface.
func reachableStructs(t reflect.Type) []reflect.Type {
	if v, ok := reachable.Load(t); ok {
		return v.([]reflect.Type)
	}
	var found []reflect.Type
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		if seen[t] {
			return
		}
		seen[t] = true
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			walk(t.Elem())
		case reflect.Struct:
			if p := shapeOf(t); p != nil {
				found = append(found, t)
				for _, ft := range p.fields {
					walk(ft)
				}
			}
		}
	}
	walk(t)
	reachable.Store(t, found)
	return found
}

// shapeOf returns the shape of the struct type t, or nil when the codec
// does not write t as an object of its fields (t has methods of its own),
// or when the field names worked out here disagree with those the codec
// writes (see fieldNames).
func shapeOf(t reflect.Type) *structShape {
	if p, ok := shapes.Load(t); ok {
		return p.(*structShape)
	}
	p := computeShape(t)
	shapes.Store(t, p)
	return p
}

func computeShape(t reflect.Type) *structShape {
	if encodesItself(t) {
		return nil
	}
	fields := map[string]reflect.Type{}
	if !fieldNames(t, fields, map[reflect.Type]bool{}) {
		return nil
	}
	// The members the codec writes for the zero value are those it always
	// writes: omitempty fields, and those of nil embedded pointers, are
	// left out of it.
	zero, err := json.Marshal(reflect.Zero(t).Interface(), jsonEncodeOptions)
	if err != nil {
		return nil
	}
	dec := jsontext.NewDecoder(bytes.NewReader(zero))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	p := &structShape{fields: fields}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil
		}
		name := tok.String()
		if _, ok := fields[name]; !ok {
			return nil // the codec knows a rule that fieldNames does not
		}
		p.required = append(p.required, name)
		if err := dec.SkipValue(); err != nil {
			return nil
		}
	}
	return p
}

// fieldNames adds to fields the JSON names of the fields of the struct type
// t, with their types, by the rules package encoding/json documents: an
// exported field's name is the name of its json tag, else its Go name; a
// tag of "-" leaves it out; the fields of an embedded struct without a tag
// name are promoted. It reports false for what it does not follow (two
// fields of one name, an embedding loop), and the caller then does not
// check the type: the check may miss a change, never invent one.
func fieldNames(t reflect.Type, fields map[string]reflect.Type, embedding map[reflect.Type]bool) bool {
	if embedding[t] {
		return false
	}
	embedding[t] = true
	defer delete(embedding, t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && !strings.Contains(f.Tag.Get("json"), ",") {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && !encodesItself(et) {
				if !fieldNames(et, fields, embedding) {
					return false
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, twice := fields[name]; twice {
			return false
		}
		fields[name] = f.Type
	}
	return true
}

// hasStructs reports whether values of t can hold a struct whose shape the
// check knows, other than through an interface.
func hasStructs(t reflect.Type) bool {
	if v, ok := structsIn.Load(t); ok {
		return v.(bool)
	}
	v := structsWithin(t, map[reflect.Type]bool{})
	structsIn.Store(t, v)
	return v
}

func structsWithin(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return structsWithin(t.Elem(), seen)
	case reflect.Map:
		return structsWithin(t.Elem(), seen)
	case reflect.Struct:
		return shapeOf(t) != nil
	}
	return false
}

// nonNullable says why the codec cannot decode a JSON null into a value of
// type t without losing what null means ("is a struct"), or "" when it can:
// pointers, interfaces, slices and maps hold null as nil, and types with
// methods of their own decide for themselves.
func nonNullable(t reflect.Type) string {
	if encodesItself(t) {
		return ""
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return ""
	case reflect.Struct:
		return "is a struct"
	case reflect.Array:
		return "is an array"
	}
	return "cannot be null"
}

var (
	jsonMarshalerType     = reflect.TypeFor[json.Marshaler]()
	jsonMarshalerToType   = reflect.TypeFor[json.MarshalerTo]()
	jsonUnmarshalerType   = reflect.TypeFor[json.Unmarshaler]()
	jsonUnmarshalFromType = reflect.TypeFor[json.UnmarshalerFrom]()
	textMarshalerType     = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType   = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// encodesItself reports whether t, or a pointer to it, has a method with
// which the JSON codec writes or reads it instead of by its fields.
func encodesItself(t reflect.Type) bool {
	for _, m := range []reflect.Type{jsonMarshalerType, jsonMarshalerToType, jsonUnmarshalerType, jsonUnmarshalFromType, textMarshalerType, textUnmarshalerType} {
		if t.Implements(m) || t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(m) {
			return true
		}
	}
	return false
}

// gobShape checks the gob recording data, decoded without error into a
// value of type t, against t; see above.
func gobShape(data []byte, t reflect.Type) error {
	wire, err := gobdump.TypeOfValue(data)
	if err != nil {
		return nil // the decoder read it; a reading here that fails says nothing more
	}
	return gobCompare(wire, t, "", map[gobPair]bool{})
}

type gobPair struct {
	wire int64
	t    reflect.Type
}

var (
	gobDecoderType      = reflect.TypeFor[gob.GobDecoder]()
	binaryUnmarshalType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

// gobCompare compares the struct fields of the wire type with those of t,
// depth first, and describes the first difference, at path.
func gobCompare(wire gobdump.Type, t reflect.Type, path string, seen map[gobPair]bool) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if seen[gobPair{wire.ID(), t}] {
		return nil
	}
	seen[gobPair{wire.ID(), t}] = true
	for _, m := range []reflect.Type{gobDecoderType, binaryUnmarshalType, textUnmarshalerType} {
		if reflect.PointerTo(t).Implements(m) {
			return nil // it reads its own bytes
		}
	}
	switch {
	case wire.Kind() == "struct" && t.Kind() == reflect.Struct:
		goFields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.IsExported() && f.Type.Kind() != reflect.Chan && f.Type.Kind() != reflect.Func {
				goFields[f.Name] = f.Type
			}
		}
		var extra, missing []string
		wireFields := map[string]bool{}
		for _, f := range wire.Fields() {
			wireFields[f.Name] = true
			if _, ok := goFields[f.Name]; !ok {
				extra = append(extra, f.Name)
			}
		}
		for name := range goFields {
			if !wireFields[name] {
				missing = append(missing, name)
			}
		}
		if len(extra) > 0 || len(missing) > 0 {
			slices.Sort(missing)
			var parts []string
			if len(extra) > 0 {
				parts = append(parts, "has fields that "+t.String()+" does not have: "+strings.Join(extra, ", "))
			}
			if len(missing) > 0 {
				parts = append(parts, "lacks fields of "+t.String()+": "+strings.Join(missing, ", "))
			}
			return fmt.Errorf("%w: at %s: the recording's %s %s; it was recorded from another type, or another version of it",
				errShape, gobPath(path), wire.Name(), strings.Join(parts, ", and "))
		}
		for _, f := range wire.Fields() {
			if err := gobCompare(f.Type, goFields[f.Name], path+"."+f.Name, seen); err != nil {
				return err
			}
		}
	case (wire.Kind() == "slice" || wire.Kind() == "array") && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		return gobCompare(wire.Elem(), t.Elem(), path+"[]", seen)
	case wire.Kind() == "map" && t.Kind() == reflect.Map:
		if err := gobCompare(wire.Key(), t.Key(), path+"[key]", seen); err != nil {
			return err
		}
		return gobCompare(wire.Elem(), t.Elem(), path+"[]", seen)
	}
	return nil
}

// gobPath names a place in a gob value for a message.
func gobPath(path string) string {
	if path == "" {
		return "the top level"
	}
	return strings.TrimPrefix(path, ".")
}
