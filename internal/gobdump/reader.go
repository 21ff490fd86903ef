// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// This file is adapted from src/encoding/gob/debug.go of Go 1.26.8, "an
// implementation of a reader that is independent of the one implemented by
// Decoder", which the gob package builds only for its own debugging. The
// grammar comments and the order of the reading functions are Go's. What
// changed:
//
//   - gob's internal names are replaced by local equivalents: typeId by
//     typeID, wireType and CommonType by the flat wireType and commonType
//     below, the builtin type ids by the constants fixed by the gob
//     specification, errorf by reader.errorf, decodeUintReader and toInt by
//     reader.uint64 and reader.int64;
//   - it reads a []byte rather than an io.Reader, so that every length in the
//     stream is checked against the bytes that follow before anything is
//     allocated, and every short read is an error (the original ignored the
//     counts of some reads);
//   - it builds a tree of the types and values instead of printing to
//     os.Stderr, and failures are returned as errors: the panics of errorf
//     are recovered in [read] and never leave the package;
//   - the fields of the structs that describe types are read by field
//     number, so that a zero-valued field the encoder left out (the length
//     of a [0]T array, an empty name) is read as gob's decoder reads it;
//   - the BinaryMarshaler and TextMarshaler kinds of wireType, which the
//     original read but could not print, are handled like GobEncoder;
//   - conditions that gob's Decoder rejects are errors here too: a type
//     defined twice or with an id below 64, an array of the wrong length, a
//     struct field number out of range, a nonzero singleton marker;
//   - every count-delimited part of the stream (each message, and the value
//     of each non-nil interface) must end exactly where its count says, which
//     the original did not check.

package gobdump

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
)

// typeID is a gob type id: negative in a stream to introduce a type's
// definition, positive to introduce a value of that type.
type typeID int64

// The ids of gob's builtin types, fixed by the gob specification: a stream
// uses them without defining them.
const (
	tBool      typeID = 1
	tInt       typeID = 2
	tUint      typeID = 3
	tFloat     typeID = 4
	tBytes     typeID = 5
	tString    typeID = 6
	tComplex   typeID = 7
	tInterface typeID = 8
	// Ids 9 to 15 are reserved; 16 to 24 are the types that describe
	// types, below.

	// firstUserID is the lowest id a stream may define.
	firstUserID typeID = 64
)

// gobTypes are the types gob uses to describe types, with the ids gob's
// bootstrap gives them. A stream may hold values of them without defining
// them (gob.CommonType is exported), and gob's Decoder reads such values.
func gobTypes() map[typeID]*wireType {
	const (
		tWireType       typeID = 16
		tArrayType      typeID = 17
		tCommonType     typeID = 18
		tSliceType      typeID = 19
		tStructType     typeID = 20
		tFieldType      typeID = 21
		tFieldTypeSlice typeID = 22
		tMapType        typeID = 23
		tGobEncoderType typeID = 24
	)
	strct := func(name string, fields ...fieldType) *wireType {
		return &wireType{kind: structKind, common: commonType{Name: name}, fields: fields}
	}
	common := fieldType{"CommonType", tCommonType}
	return map[typeID]*wireType{
		tWireType: strct("wireType",
			fieldType{"ArrayT", tArrayType}, fieldType{"SliceT", tSliceType}, fieldType{"StructT", tStructType},
			fieldType{"MapT", tMapType}, fieldType{"GobEncoderT", tGobEncoderType},
			fieldType{"BinaryMarshalerT", tGobEncoderType}, fieldType{"TextMarshalerT", tGobEncoderType}),
		tArrayType:      strct("arrayType", common, fieldType{"Elem", tInt}, fieldType{"Len", tInt}),
		tCommonType:     strct("CommonType", fieldType{"Name", tString}, fieldType{"Id", tInt}),
		tSliceType:      strct("sliceType", common, fieldType{"Elem", tInt}),
		tStructType:     strct("structType", common, fieldType{"Field", tFieldTypeSlice}),
		tFieldType:      strct("fieldType", fieldType{"Name", tString}, fieldType{"Id", tInt}),
		tFieldTypeSlice: {kind: sliceKind, elem: tFieldType},
		tMapType:        strct("mapType", common, fieldType{"Key", tInt}, fieldType{"Elem", tInt}),
		tGobEncoderType: strct("gobEncoderType", common),
	}
}

// builtinName returns the name of a builtin type, or "" when id is not one.
func builtinName(id typeID) string {
	switch id {
	case tBool:
		return "bool"
	case tInt:
		return "int"
	case tUint:
		return "uint"
	case tFloat:
		return "float"
	case tBytes:
		return "[]byte"
	case tString:
		return "string"
	case tComplex:
		return "complex"
	case tInterface:
		return "interface"
	}
	return ""
}

// wireKind tells which field of gob's wireType a definition sets; the values
// are the field numbers.
type wireKind int

const (
	arrayKind           wireKind = 0
	sliceKind           wireKind = 1
	structKind          wireKind = 2
	mapKind             wireKind = 3
	gobEncoderKind      wireKind = 4
	binaryMarshalerKind wireKind = 5
	textMarshalerKind   wireKind = 6
)

// commonType is gob's CommonType: the name the encoder gave the type (empty
// for most unnamed types) and its id.
type commonType struct {
	Name string
	ID   typeID
}

// wireType is gob's wireType, flattened: the definition of one type.
type wireType struct {
	kind   wireKind
	common commonType
	elem   typeID      // array, slice, map
	key    typeID      // map
	len    int         // array
	fields []fieldType // struct
}

// fieldType is gob's fieldType: one field of a struct.
type fieldType struct {
	Name string
	ID   typeID
}

// maxDepth bounds the nesting of values, so that a crafted stream cannot
// exhaust the stack.
const maxDepth = 10000

// reader holds the state of one reading of a stream.
type reader struct {
	data []byte
	off  int
	// chunks holds, for the top level and for each interface value being
	// read, the offset at which its current count-delimited part ends.
	chunks []int
	wire   map[typeID]*wireType
	depth  int
	s      *Stream
}

// dumpError carries an error from errorf to read.
type dumpError struct{ err error }

// errorf stops the reading with an error that gives the offset.
func (r *reader) errorf(format string, args ...any) {
	panic(dumpError{fmt.Errorf("offset %d: %w", r.off, fmt.Errorf(format, args...))})
}

// irregular stops the reading with an error that wraps ErrIrregular.
func (r *reader) irregular(format string, args ...any) {
	panic(dumpError{fmt.Errorf("offset %d: %s: %w", r.off, fmt.Sprintf(format, args...), ErrIrregular)})
}

// truncated stops the reading with an error that wraps io.ErrUnexpectedEOF.
func (r *reader) truncated(format string, args ...any) {
	panic(dumpError{fmt.Errorf("offset %d: %s: %w", r.off, fmt.Sprintf(format, args...), io.ErrUnexpectedEOF)})
}

// read reads the whole stream in data. It returns what it read even when it
// fails, for the types declared before the failure.
func read(data []byte) (s *Stream, err error) {
	s = &Stream{Size: len(data)}
	r := &reader{data: data, wire: gobTypes(), s: s}
	defer stop(&err)
	r.gobStream()
	return s, nil
}

// stop ends a reading that a method of reader stopped with a dumpError,
// setting *err to its error; any other panic is a bug, and goes on.
func stop(err *error) {
	if e := recover(); e != nil {
		de, ok := e.(dumpError)
		if !ok {
			panic(e)
		}
		*err = de.err
	}
}

// firstValueType reads the type definitions at the start of the stream and
// returns the type id of the value that follows them.
func (r *reader) firstValueType() (id typeID, err error) {
	defer stop(&err)
	r.chunks = append(r.chunks[:0], r.loadBlock())
	for {
		id := r.typeID()
		if id >= 0 {
			if builtinName(id) == "" && r.wire[id] == nil {
				r.errorf("type id %d is not defined", id)
			}
			return id, nil
		}
		r.typeDefinition(-id)
		r.endOfChunk("type definition")
		r.chunks[len(r.chunks)-1] = r.loadBlock()
	}
}

// remaining returns the number of unread bytes.
func (r *reader) remaining() int { return len(r.data) - r.off }

// uint64 decodes the next unsigned integer, which must be present: a byte
// below 0x80 is the value, otherwise the negated byte count of a big-endian
// value that follows.
func (r *reader) uint64() uint64 {
	if r.remaining() < 1 {
		r.truncated("an unsigned integer is cut off")
	}
	b := r.data[r.off]
	if b <= 0x7f {
		r.off++
		return uint64(b)
	}
	n := -int(int8(b))
	if n > 8 {
		r.errorf("invalid unsigned integer prefix %#x", b)
	}
	if r.remaining() < 1+n {
		r.truncated("an unsigned integer of %d bytes is cut off", n)
	}
	var x uint64
	for _, b := range r.data[r.off+1 : r.off+1+n] {
		x = x<<8 | uint64(b)
	}
	r.off += 1 + n
	return x
}

// int64 decodes the next signed integer: the low bit of the unsigned
// encoding is the sign, the rest the value (complemented when negative).
func (r *reader) int64() int64 {
	x := r.uint64()
	if x&1 != 0 {
		return ^int64(x >> 1)
	}
	return int64(x >> 1)
}

// typeID decodes a type id.
func (r *reader) typeID() typeID { return typeID(r.int64()) }

// count decodes a count of items that each take at least perItem bytes, and
// checks that the stream has room for them.
func (r *reader) count(what string, perItem int) int {
	n := r.uint64()
	if n > uint64(r.remaining()/perItem) {
		r.truncated("%d %s claimed, only %d bytes follow", n, what, r.remaining())
	}
	return int(n)
}

// bytes decodes a byte count and returns that many bytes.
func (r *reader) bytes(what string) []byte {
	n := r.count(what+" bytes", 1)
	b := r.data[r.off : r.off+n]
	r.off += n
	return b
}

// string decodes a string.
func (r *reader) string(what string) string { return string(r.bytes(what)) }

// GobStream:
//
//	DelimitedMessage* (until EOF)
func (r *reader) gobStream() {
	for r.remaining() > 0 {
		r.delimitedMessage()
	}
}

// DelimitedMessage:
//
//	uint(lengthOfMessage) Message
func (r *reader) delimitedMessage() {
	r.chunks = append(r.chunks[:0], r.loadBlock())
	r.message()
}

// loadBlock reads the length of the count-delimited part that follows and
// returns the offset at which it ends.
func (r *reader) loadBlock() int {
	n := r.uint64()
	if n == 0 {
		r.errorf("empty message")
	}
	if n > uint64(r.remaining()) {
		r.truncated("a message claims %d bytes, only %d follow", n, r.remaining())
	}
	return r.off + int(n)
}

// endOfChunk checks that the count-delimited part being read ends here.
func (r *reader) endOfChunk(what string) {
	switch end := r.chunks[len(r.chunks)-1]; {
	case r.off < end:
		// gob's Decoder drops what is left of a message, and ignores the
		// count of an interface value's bytes.
		r.irregular("%s ends %d bytes before the end of its message", what, end-r.off)
	case r.off > end && len(r.chunks) > 1:
		r.irregular("%s runs %d bytes past the end of its message", what, r.off-end)
	case r.off > end:
		r.errorf("%s runs %d bytes past the end of its message", what, r.off-end)
	}
}

// Message:
//
//	TypeSequence TypedValue
//
// TypeSequence
//
//	(TypeDefinition DelimitedTypeDefinition*)?
//
// DelimitedTypeDefinition:
//
//	uint(lengthOfTypeDefinition) TypeDefinition
//
// TypedValue:
//
//	int(typeId) Value
func (r *reader) message() {
	for {
		id := r.typeID()
		if id < 0 {
			r.typeDefinition(-id)
			r.endOfChunk("type definition")
			r.chunks[len(r.chunks)-1] = r.loadBlock()
			continue
		}
		v := r.value(id)
		r.endOfChunk("value")
		r.s.Values = append(r.s.Values, Value{v})
		return
	}
}

// fields reads the fields of a struct as gob encodes them,
//
//	(uint(fieldDelta) FieldValue)* uint(0)
//
// calling f with the number of each field present; numbers above last are
// an error.
func (r *reader) fields(what string, last int, f func(field int)) {
	field := -1
	for {
		if r.off == r.chunks[0] {
			// gob's Decoder takes the end of a message for the end of
			// every struct still open.
			r.irregular("%s has no end marker before the end of its message", what)
		}
		delta := r.uint64()
		if delta == 0 {
			return
		}
		if delta > uint64(last-field) {
			r.errorf("corrupt %s: field %d+%d does not exist", what, field, delta)
		}
		field += int(delta)
		f(field)
	}
}

// common returns the CommonType at the input point.
func (r *reader) common() commonType {
	var c commonType
	r.fields("type name", 1, func(field int) {
		switch field {
		case 0:
			c.Name = r.string("type name")
		case 1:
			c.ID = r.definedID()
		}
	})
	return c
}

// definedID reads the id of a type that a definition refers to.
func (r *reader) definedID() typeID {
	id := r.typeID()
	if id <= 0 {
		r.errorf("corrupt type definition: type id %d", id)
	}
	return id
}

// TypeDefinition:
//
//	[int(-typeId) (already read)] encodingOfWireType
func (r *reader) typeDefinition(id typeID) {
	if id < firstUserID {
		r.errorf("type id %d is gob's own and cannot be defined by a stream", id)
	}
	if r.wire[id] != nil {
		r.errorf("type id %d is defined twice", id)
	}
	w := &wireType{kind: -1}
	// A wireType sets exactly one of its fields, each a struct whose field 0
	// is the CommonType.
	r.fields("type definition", int(textMarshalerKind), func(kind int) {
		if w.kind >= 0 {
			r.errorf("corrupt type definition: it defines two kinds of type")
		}
		w.kind = wireKind(kind)
		switch w.kind {
		case arrayKind: // {{Common}, elem, length}
			r.fields("array type", 2, func(field int) {
				switch field {
				case 0:
					w.common = r.common()
				case 1:
					w.elem = r.definedID()
				case 2:
					n := r.int64()
					if n < 0 || n > math.MaxInt32 {
						r.errorf("corrupt array type: length %d", n)
					}
					w.len = int(n)
				}
			})
		case sliceKind: // {{Common}, elem}
			r.fields("slice type", 1, func(field int) {
				switch field {
				case 0:
					w.common = r.common()
				case 1:
					w.elem = r.definedID()
				}
			})
		case structKind: // {{Common}, []fieldType}
			r.fields("struct type", 1, func(field int) {
				switch field {
				case 0:
					w.common = r.common()
				case 1:
					n := r.count("struct fields", 1)
					w.fields = make([]fieldType, n)
					for i := range w.fields {
						f := &w.fields[i]
						r.fields("struct field", 1, func(field int) {
							switch field {
							case 0:
								f.Name = r.string("field name")
							case 1:
								f.ID = r.definedID()
							}
						})
					}
				}
			})
		case mapKind: // {{Common}, key, elem}
			r.fields("map type", 2, func(field int) {
				switch field {
				case 0:
					w.common = r.common()
				case 1:
					w.key = r.definedID()
				case 2:
					w.elem = r.definedID()
				}
			})
		default: // GobEncoder, BinaryMarshaler, TextMarshaler: {{Common}}
			r.fields("encoder type", 0, func(int) { w.common = r.common() })
		}
	})
	if w.kind < 0 {
		r.errorf("corrupt type definition: it defines no type")
	}
	for _, f := range w.fields {
		if f.ID == 0 {
			r.errorf("corrupt struct type: field %q has no type", f.Name)
		}
	}
	if (w.kind == arrayKind || w.kind == sliceKind || w.kind == mapKind) && w.elem == 0 {
		r.errorf("corrupt type definition: no element type")
	}
	if w.kind == mapKind && w.key == 0 {
		r.errorf("corrupt map type: no key type")
	}
	r.wire[id] = w
	r.s.Types = append(r.s.Types, Type{r: r, id: id})
}

// Value:
//
//	SingletonValue | StructValue
func (r *reader) value(id typeID) *node {
	if w := r.wire[id]; w != nil && w.kind == structKind {
		return r.structValue(id, w)
	}
	return r.singletonValue(id)
}

// SingletonValue:
//
//	uint(0) FieldValue
func (r *reader) singletonValue(id typeID) *node {
	if builtinName(id) == "" && r.wire[id] == nil {
		r.errorf("type id %d is not defined", id)
	}
	if m := r.uint64(); m != 0 {
		r.errorf("expected zero before a value that is not a struct; got %d", m)
	}
	return r.fieldValue(id)
}

// InterfaceValue:
//
//	NilInterfaceValue | NonNilInterfaceValue
//
// NilInterfaceValue:
//
//	uint(0)
//
// NonNilInterfaceValue:
//
//	ConcreteTypeName TypeSequence InterfaceContents
//
// ConcreteTypeName:
//
//	uint(lengthOfName) name
//
// InterfaceContents:
//
//	int(concreteTypeId) DelimitedValue
//
// DelimitedValue:
//
//	uint(length) Value
//
// A type definition inside an interface value ends a message of the level
// the interface is at: the encoder flushes what it has so far with the
// definition, and the rest of that level follows in a new count-delimited
// part.
func (r *reader) interfaceValue() *node {
	name := r.string("concrete type name")
	if name == "" {
		return &node{kind: nilNode}
	}
	for {
		id := r.typeID()
		if id < 0 {
			r.typeDefinition(-id)
			r.endOfChunk("type definition")
			r.chunks[len(r.chunks)-1] = r.loadBlock()
			continue
		}
		r.chunks = append(r.chunks, r.loadBlock())
		v := r.value(id)
		r.endOfChunk("interface value")
		r.chunks = r.chunks[:len(r.chunks)-1]
		return &node{kind: interfaceNode, typ: name, elems: []*node{v}}
	}
}

// fieldValue reads a value of any type, such as a struct field.
//
// FieldValue:
//
//	builtinValue | ArrayValue | MapValue | SliceValue | StructValue | InterfaceValue
func (r *reader) fieldValue(id typeID) *node {
	r.depth++
	defer func() { r.depth-- }()
	if r.depth > maxDepth {
		r.errorf("values nested more than %d deep", maxDepth)
	}
	if builtinName(id) != "" {
		if id == tInterface {
			return r.interfaceValue()
		}
		return r.builtinValue(id)
	}
	w := r.wire[id]
	if w == nil {
		r.errorf("type id %d is not defined", id)
	}
	switch w.kind {
	case arrayKind:
		return r.arrayValue(id, w)
	case mapKind:
		return r.mapValue(id, w)
	case sliceKind:
		return r.sliceValue(id, w)
	case structKind:
		return r.structValue(id, w)
	default:
		return r.encoderValue(id, w)
	}
}

// builtinValue reads a value of a type that is known to gobs at bootstrap
// time.
func (r *reader) builtinValue(id typeID) *node {
	n := &node{kind: scalarNode}
	switch id {
	case tBool:
		n.text = strconv.FormatBool(r.uint64() != 0)
	case tInt:
		n.text = strconv.FormatInt(r.int64(), 10)
	case tUint:
		n.text = strconv.FormatUint(r.uint64(), 10)
	case tFloat:
		n.text = formatFloat(r.float())
	case tComplex:
		re, im := r.float(), r.float()
		n.text = "(" + formatFloat(re)
		if im >= 0 || math.IsNaN(im) {
			n.text += "+"
		}
		n.text += formatFloat(im) + "i)"
	case tBytes:
		n.text = "[]byte(" + strconv.Quote(string(r.bytes("[]byte"))) + ")"
	case tString:
		n.text = strconv.Quote(r.string("string"))
	}
	return n
}

// float decodes a floating-point number, sent as the byte-reversed bits of
// a float64.
func (r *reader) float() float64 {
	return math.Float64frombits(bits.ReverseBytes64(r.uint64()))
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// ArrayValue:
//
//	uint(n) FieldValue*n
func (r *reader) arrayValue(id typeID, w *wireType) *node {
	n := r.count("array elements", 1)
	if n != w.len {
		r.errorf("array of length %d has %d elements", w.len, n)
	}
	v := &node{kind: listNode, typ: r.name(id, 0)}
	for i := 0; i < n; i++ {
		v.elems = append(v.elems, r.fieldValue(w.elem))
	}
	return v
}

// MapValue:
//
//	uint(n) (FieldValue FieldValue)*n  [n (key, value) pairs]
func (r *reader) mapValue(id typeID, w *wireType) *node {
	n := r.count("map entries", 2)
	v := &node{kind: mapNode, typ: r.name(id, 0)}
	for i := 0; i < n; i++ {
		v.keys = append(v.keys, r.fieldValue(w.key))
		v.elems = append(v.elems, r.fieldValue(w.elem))
	}
	return v
}

// SliceValue:
//
//	uint(n) (n FieldValue)
func (r *reader) sliceValue(id typeID, w *wireType) *node {
	n := r.count("slice elements", 1)
	v := &node{kind: listNode, typ: r.name(id, 0)}
	for i := 0; i < n; i++ {
		v.elems = append(v.elems, r.fieldValue(w.elem))
	}
	return v
}

// StructValue:
//
//	(uint(fieldDelta) FieldValue)* uint(0)
//
// Fields holding their zero value are not in the stream.
func (r *reader) structValue(id typeID, w *wireType) *node {
	v := &node{kind: structNode, typ: r.name(id, 0)}
	r.fields("value of "+v.typ, len(w.fields)-1, func(field int) {
		v.names = append(v.names, w.fields[field].Name)
		v.elems = append(v.elems, r.fieldValue(w.fields[field].ID))
	})
	return v
}

// GobEncoderValue:
//
//	uint(n) byte*n
//
// and likewise for BinaryMarshaler and TextMarshaler values.
func (r *reader) encoderValue(id typeID, w *wireType) *node {
	data := r.bytes("encoded value")
	v := &node{kind: scalarNode, typ: r.name(id, 0)}
	method, text := "GobEncode", hexBytes(data)
	switch w.kind {
	case textMarshalerKind:
		method, text = "MarshalText", strconv.Quote(string(data))
	case binaryMarshalerKind:
		method = "MarshalBinary"
	}
	if w.kind == gobEncoderKind && v.typ == "Time" {
		// Most likely a time.Time, whose encoding is documented; say what
		// it reads as, and leave the bytes, since another type may be named
		// Time too.
		var t time.Time
		if t.GobDecode(data) == nil {
			text += "; as a time.Time, " + t.Format(time.RFC3339Nano)
		}
	}
	if v.typ == r.literal(w, 0) {
		// Sent without a name, as gob sends the element type of a map or a
		// slice: "GobEncoder(01 1a)".
		v.text = v.typ + "(" + text + ")"
	} else {
		v.text = v.typ + "(" + method + ": " + text + ")"
	}
	return v
}

// hexBytes renders data as "01 ab ff", or "empty".
func hexBytes(data []byte) string {
	if len(data) == 0 {
		return "empty"
	}
	return fmt.Sprintf("% x", data)
}

// name returns the name of the type id as the dump shows it: the name the
// encoder sent, else one made from the definition, "[]T", "map[K]V",
// "[N]T" or "struct { F T; ... }". depth stops the recursion of a crafted
// stream whose unnamed types refer to each other.
func (r *reader) name(id typeID, depth int) string {
	if n := builtinName(id); n != "" {
		return n
	}
	w := r.wire[id]
	if w == nil || depth > 8 {
		return "type" + strconv.FormatInt(int64(id), 10)
	}
	if w.common.Name != "" && utf8.ValidString(w.common.Name) {
		return w.common.Name
	}
	return r.literal(w, depth)
}

// literal returns the type literal of a definition, ignoring its name.
func (r *reader) literal(w *wireType, depth int) string {
	switch w.kind {
	case arrayKind:
		return "[" + strconv.Itoa(w.len) + "]" + r.name(w.elem, depth+1)
	case sliceKind:
		return "[]" + r.name(w.elem, depth+1)
	case mapKind:
		return "map[" + r.name(w.key, depth+1) + "]" + r.name(w.elem, depth+1)
	case structKind:
		s := "struct {"
		for i, f := range w.fields {
			if i > 0 {
				s += ";"
			}
			s += " " + f.Name + " " + r.name(f.ID, depth+1)
		}
		return s + " }"
	case gobEncoderKind:
		return "GobEncoder"
	case binaryMarshalerKind:
		return "BinaryMarshaler"
	default:
		return "TextMarshaler"
	}
}

// errNoValue and errManyValues are the failures of Check on a stream that
// reads well.
var (
	// ErrIrregular is wrapped by the errors of [Read] and [Check] for a
	// stream that gob's Encoder never writes but its Decoder reads without
	// complaint: bytes left over at the end of a message, the wrong count
	// for an interface value, a struct cut off at the end of a message. Only
	// damage, or a hand-made stream, gives them, and the value gob then
	// decodes may not be the one that was written.
	ErrIrregular = errors.New("damaged in a way gob's Decoder does not notice")

	errNoValue    = fmt.Errorf("the stream ends before its value: %w", io.ErrUnexpectedEOF)
	errManyValues = errors.New("the stream holds more than one value")
)
