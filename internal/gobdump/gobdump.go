// Package gobdump reads a gob stream without the Go types that wrote it: it
// lists the types the stream declares and prints its values, and it checks
// that a stream is whole. The pecapiku command uses it to show and verify
// the entries of the gob codec.
//
// The reader is adapted from the one Go keeps, for debugging package gob,
// in src/encoding/gob/debug.go: it follows the grammar of the gob
// specification rather than reusing gob's Decoder, so it needs no
// registered types. See reader.go for what was changed.
//
// # What a dump shows
//
// Gob sends the names of named types and the shapes of all types, but not
// Go's sizes: every signed integer is an "int", every float a "float", and
// the dump names them so. Fields holding their zero value are not in a gob
// stream, so they are not in the dump either. Maps are shown in the order of
// the stream, which is the encoder's iteration order. The values of types that
// encode themselves (GobEncoder, BinaryMarshaler, TextMarshaler, time.Time
// among them) are shown as the bytes their method produced; a GobEncoder
// type named Time whose bytes decode as a time.Time is shown as that time
// too.
package gobdump

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Stream is what [Read] found in a gob stream.
type Stream struct {
	// Size is the length of the stream in bytes.
	Size int
	// Types are the types the stream defines, in the order it defines them.
	Types []Type
	// Values are the values the stream holds. A gob entry of pecapiku holds
	// exactly one.
	Values []Value
}

// Type is a type that a gob stream defines.
type Type struct {
	r  *reader
	id typeID
}

// Name returns the type's name: the one the encoder sent ("Station",
// "time.Time" is sent as "Time"), or, for a type sent without one, its type
// literal ("[]Station").
func (t Type) Name() string { return t.r.name(t.id, 0) }

// String returns the type's definition on one line: "Station struct { Name
// string; Rainfall []float64 }", "Names []string" for a named type,
// "[]Station" for an unnamed one, "Time GobEncoder" for a type that encodes
// itself ("GobEncoder" alone when gob sent it without a name, as it does for
// the element type of a map or a slice).
func (t Type) String() string {
	name, lit := t.Name(), t.r.literal(t.r.wire[t.id], 0)
	if !identifier(name) || name == lit {
		return name // a literal, either sent as the name or made here
	}
	return name + " " + lit
}

// identifier reports whether name is a type name rather than a type
// literal: letters, digits, "_" and ".", as in "Station" or "big.Int".
func identifier(name string) bool {
	for _, c := range name {
		if !(c == '_' || c == '.' || unicode.IsLetter(c) || unicode.IsDigit(c)) {
			return false
		}
	}
	return name != ""
}

// Kind reports what the type is: "struct", "slice", "array", "map",
// "encoder" for a type that encodes itself (GobEncoder, BinaryMarshaler,
// TextMarshaler), or, for one of gob's own types, its name: "int",
// "string", "interface", ...
func (t Type) Kind() string {
	w := t.r.wire[t.id]
	if w == nil {
		return builtinName(t.id)
	}
	switch w.kind {
	case structKind:
		return "struct"
	case sliceKind:
		return "slice"
	case arrayKind:
		return "array"
	case mapKind:
		return "map"
	}
	return "encoder"
}

// A Field is a field of a struct type, as a stream defines it.
type Field struct {
	Name string
	Type Type
}

// Fields returns the fields of a struct type, in the order the stream
// gives them: every exported field of the Go type that wrote it, whatever
// its value. It returns nil for other kinds.
func (t Type) Fields() []Field {
	w := t.r.wire[t.id]
	if w == nil || w.kind != structKind {
		return nil
	}
	fields := make([]Field, len(w.fields))
	for i, f := range w.fields {
		fields[i] = Field{f.Name, Type{t.r, f.ID}}
	}
	return fields
}

// Elem returns the element type of a slice, an array or a map.
func (t Type) Elem() Type {
	if w := t.r.wire[t.id]; w != nil {
		return Type{t.r, w.elem}
	}
	return Type{t.r, 0}
}

// Key returns the key type of a map.
func (t Type) Key() Type {
	if w := t.r.wire[t.id]; w != nil {
		return Type{t.r, w.key}
	}
	return Type{t.r, 0}
}

// ID returns the number the stream gives the type: equal for the same
// type of one stream, for telling types already visited.
func (t Type) ID() int64 { return int64(t.id) }

// TypeOfValue returns the type of the first value of the gob stream data,
// reading only the type definitions that come before that value: what a
// decoder needs to know of a value's shape, at a small cost next to reading
// the value.
func TypeOfValue(data []byte) (Type, error) {
	r := &reader{data: data, wire: gobTypes(), s: &Stream{Size: len(data)}}
	id, err := r.firstValueType()
	if err != nil {
		return Type{}, fmt.Errorf("gob: %w", err)
	}
	return Type{r, id}, nil
}

// Value is a value read from a gob stream.
type Value struct{ n *node }

// String returns the value as the dump shows it, a Go-like literal over
// several lines: Station{Name: "Auckland", ...}.
func (v Value) String() string {
	p := &printer{}
	p.node(v.n, 0)
	return p.b.String()
}

type nodeKind int

const (
	scalarNode    nodeKind = iota // text holds the whole rendering
	nilNode                       // a nil interface
	interfaceNode                 // typ is the concrete type's registered name; elems[0] the value
	structNode                    // names and elems are the fields present
	listNode                      // a slice or an array: elems
	mapNode                       // keys and elems, in the order of the stream
)

// node is a value as read, ready to print.
type node struct {
	kind  nodeKind
	typ   string
	text  string
	names []string
	keys  []*node
	elems []*node
}

// Read reads the gob stream data: its types and its values. When the
// stream is not well formed it returns the error and, with it, the types
// and values read before the failure. An error that satisfies
// errors.Is(err, io.ErrUnexpectedEOF) means the stream is cut short.
func Read(data []byte) (*Stream, error) {
	s, err := read(data)
	if err != nil {
		return s, fmt.Errorf("gob: %w", err)
	}
	return s, nil
}

// Check reports whether data is a whole gob stream holding exactly one
// value, as the gob codec of package cache writes it, and why not: it
// reads every type definition and every value to the end of the stream.
// An error that satisfies errors.Is(err, io.ErrUnexpectedEOF) means the
// stream is cut short.
//
// Check accepts every stream gob's Encoder writes. It is stricter than
// gob's Decoder: it reports the damage that decoder does not notice (see
// [ErrIrregular]), and it reads the parts of a stream that a decoder skips
// because its Go type has no field for them.
func Check(data []byte) error {
	s, err := Read(data)
	if err != nil {
		return err
	}
	switch {
	case len(s.Values) == 0:
		return fmt.Errorf("gob: %w", errNoValue)
	case len(s.Values) > 1:
		return fmt.Errorf("gob: %w: %d", errManyValues, len(s.Values))
	}
	return nil
}

// Limits bound what [DumpLimited] writes: a gob stream of a few kilobytes
// can describe a value whose dump is huge, such as a list nested thousands
// of levels deep, each line indented by its depth. A zero field is no limit.
type Limits struct {
	// Depth is the deepest level of nesting shown; a value below it is
	// shown as "…".
	Depth int
	// Bytes is the size of the dump, in bytes, after which it stops.
	Bytes int
}

// DefaultLimits are the limits of [Dump]: 100 levels, 1 MiB.
var DefaultLimits = Limits{Depth: 100, Bytes: 1 << 20}

// Dump is [DumpLimited] with [DefaultLimits].
func Dump(w io.Writer, data []byte) error { return DumpLimited(w, data, DefaultLimits) }

// DumpLimited writes the types and the values of the gob stream data to w,
// as
//
//	types:
//	  Station struct {
//	    Name     string
//	    Rainfall []float64
//	  }
//	  []Station
//	value:
//	  []Station{
//	    Station{
//	      Name: "Auckland",
//	      Rainfall: []float64{11, 48},
//	    },
//	  }
//
// within the limits lim. What a limit cuts is said at the end, one line
// each: "cut: values nested deeper than 100 levels are shown as …", "cut:
// the dump stopped at 1 MiB". When the stream is not well formed, it writes
// the types read before the failure and returns the error of [Read].
func DumpLimited(w io.Writer, data []byte, lim Limits) error {
	s, err := Read(data)
	p := &printer{lim: lim}
	p.types(s)
	if err == nil {
		for i, v := range s.Values {
			if len(s.Values) > 1 {
				fmt.Fprintf(&p.b, "value %d of %d:\n", i+1, len(s.Values))
			} else {
				p.b.WriteString("value:\n")
			}
			p.indent(1)
			p.node(v.n, 1)
			p.b.WriteString("\n")
		}
	}
	out := p.b.String()
	var notes strings.Builder
	if p.deep {
		fmt.Fprintf(&notes, "cut: values nested deeper than %d levels are shown as …\n", lim.Depth)
	}
	if lim.Bytes > 0 && len(out) > lim.Bytes {
		out = out[:lim.Bytes]
		for len(out) > 0 && !utf8.ValidString(out[max(0, len(out)-utf8.UTFMax):]) {
			out = out[:len(out)-1] // not in the middle of a character
		}
		fmt.Fprintf(&notes, "\ncut: the dump stopped at %s\n", sizeName(lim.Bytes))
	}
	if _, werr := io.WriteString(w, out+notes.String()); werr != nil && err == nil {
		err = werr
	}
	return err
}

// sizeName returns n bytes as a limit is named: "1 MiB", "200 bytes".
func sizeName(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// printer renders a stream, two spaces per level of indentation, within
// its limits.
type printer struct {
	b    strings.Builder
	lim  Limits
	deep bool // a value was cut for its depth
}

// full reports whether the dump has reached its size limit; the rest of it
// would be cut anyway.
func (p *printer) full() bool { return p.lim.Bytes > 0 && p.b.Len() > p.lim.Bytes }

func (p *printer) indent(n int) { p.b.WriteString(strings.Repeat("  ", n)) }

// types writes the types section.
func (p *printer) types(s *Stream) {
	if len(s.Types) == 0 {
		p.b.WriteString("types: none but gob's own\n")
		return
	}
	p.b.WriteString("types:\n")
	for _, t := range s.Types {
		w := t.r.wire[t.id]
		if w.kind != structKind {
			p.indent(1)
			p.b.WriteString(t.String() + "\n")
			continue
		}
		p.indent(1)
		if name := t.Name(); identifier(name) {
			p.b.WriteString(name + " ")
		}
		if len(w.fields) == 0 {
			p.b.WriteString("struct {}\n")
			continue
		}
		p.b.WriteString("struct {\n")
		width := 0
		for _, f := range w.fields {
			width = max(width, len(f.Name))
		}
		for _, f := range w.fields {
			p.indent(2)
			fmt.Fprintf(&p.b, "%-*s %s\n", width, f.Name, t.r.name(f.ID, 0))
		}
		p.indent(1)
		p.b.WriteString("}\n")
	}
}

// node writes v, starting at the current position, with the lines of a
// multi-line value indented by level.
func (p *printer) node(v *node, level int) {
	if p.full() {
		return
	}
	if p.lim.Depth > 0 && level > p.lim.Depth && v.kind != scalarNode && v.kind != nilNode {
		p.deep = true
		p.b.WriteString("…")
		return
	}
	switch v.kind {
	case scalarNode:
		p.b.WriteString(v.text)
	case nilNode:
		p.b.WriteString("nil")
	case interfaceNode:
		p.b.WriteString("(" + v.typ + ") ")
		p.node(v.elems[0], level)
	case structNode:
		p.b.WriteString(v.typ + "{")
		if len(v.elems) > 0 {
			p.b.WriteString("\n")
			for i, e := range v.elems {
				if p.full() {
					break
				}
				p.indent(level + 1)
				p.b.WriteString(v.names[i] + ": ")
				p.node(e, level+1)
				p.b.WriteString(",\n")
			}
			p.indent(level)
		}
		p.b.WriteString("}")
	case listNode, mapNode:
		p.b.WriteString(v.typ + "{")
		if flat(v.keys) && flat(v.elems) {
			for i, e := range v.elems {
				if p.full() {
					break
				}
				if i > 0 {
					p.b.WriteString(", ")
				}
				if v.kind == mapNode {
					p.node(v.keys[i], level)
					p.b.WriteString(": ")
				}
				p.node(e, level)
			}
			p.b.WriteString("}")
			return
		}
		p.b.WriteString("\n")
		for i, e := range v.elems {
			if p.full() {
				break
			}
			p.indent(level + 1)
			if v.kind == mapNode {
				p.node(v.keys[i], level+1)
				p.b.WriteString(": ")
			}
			p.node(e, level+1)
			p.b.WriteString(",\n")
		}
		p.indent(level)
		p.b.WriteString("}")
	}
}

// flat reports whether every node of vs prints on one line by itself.
func flat(vs []*node) bool {
	for _, v := range vs {
		if v.kind != scalarNode && v.kind != nilNode {
			return false
		}
	}
	return true
}
