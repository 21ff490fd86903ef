package cache

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"reflect"
	"strings"
	"unicode"
)

// The json codec rejects fields its type does not have. encoding/json does
// that only in its Decoder (DisallowUnknownFields), whose reading costs
// 10–20% more than json.Unmarshal on the same bytes: it copies the input into
// a buffer that it grows from 512 bytes, and scans it with a slower loop than
// Unmarshal's validity check (issue 6's profile). So the codec decodes with
// json.Unmarshal and then walks the bytes, which are then known to be valid
// JSON, checking the keys of every object that decodes into a struct against
// the fields of that struct: a walk over valid JSON skips what it need not
// check eight bytes at a time and costs about 6% of the decode. Anything the
// walk is not sure of (a key that matches a field only case-insensitively or
// has an escape in it, a type whose fields it cannot list the way
// encoding/json does) sends the decode to the Decoder, whose answer is
// final: the walk only ever picks between two ways of getting the Decoder's
// result. On that rare path the type's own UnmarshalJSON and UnmarshalText
// methods, if it has any, run twice, once for each decode.

// A jsonPlan says where, in a JSON document decoded into one Go type, there
// are object keys that encoding/json matches to struct fields.
type jsonPlan struct {
	kind planKind
	// elem is the plan of a slice's, an array's or a map's elements.
	elem *jsonPlan
	// n is an array's length: encoding/json ignores the elements after it.
	n int
	// fields are a struct's fields, by the names encoding/json writes, in
	// the order it writes them. A short list is searched faster than a map.
	fields []planField
}

type planField struct {
	name string
	plan *jsonPlan
}

// at reports whether d holds, at i, f's name and a quote.
func (f *planField) at(d []byte, i int) bool {
	e := i + len(f.name)
	return e < len(d) && d[e] == '"' && string(d[i:e]) == f.name
}

type planKind uint8

const (
	planPending planKind = iota // being built: a recursive type
	planSkip                    // no struct below: nothing to check
	planStruct
	planSlice
	planArray
	planMap
	planUnsure // fields not listed as encoding/json would: use the Decoder
)

var (
	jsonUnmarshalerType = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	skipPlan            = &jsonPlan{kind: planSkip}
	unsurePlan          = &jsonPlan{kind: planUnsure}
	// jsonPlans holds the plan of each type decoded, nil when the walk
	// cannot be trusted for the type.
	jsonPlans typeCache[*jsonPlan]
)

// planFor returns the plan of t, or nil when some part of t has fields
// that the walk cannot list the way encoding/json does.
func planFor(t reflect.Type) *jsonPlan {
	return jsonPlans.get(t, func(t reflect.Type) *jsonPlan {
		p := planBuilder{plans: map[reflect.Type]*jsonPlan{}}.plan(t)
		if !sure(p, map[*jsonPlan]bool{}) {
			return nil
		}
		return p
	})
}

// sure reports whether no plan reachable from p is unsure.
func sure(p *jsonPlan, seen map[*jsonPlan]bool) bool {
	if seen[p] {
		return true
	}
	seen[p] = true
	switch p.kind {
	case planUnsure:
		return false
	case planSlice, planArray, planMap:
		return sure(p.elem, seen)
	case planStruct:
		for _, f := range p.fields {
			if !sure(f.plan, seen) {
				return false
			}
		}
	}
	return true
}

type planBuilder struct {
	plans map[reflect.Type]*jsonPlan
}

// decodesItself reports whether encoding/json hands values of t to a method
// of t or *t instead of decoding them itself.
func decodesItself(t reflect.Type) bool {
	return hasMethodOf(t, jsonUnmarshalerType, textUnmarshalerType)
}

func (b planBuilder) plan(t reflect.Type) *jsonPlan {
	if p, ok := b.plans[t]; ok {
		return p
	}
	if decodesItself(t) {
		return skipPlan
	}
	switch t.Kind() {
	case reflect.Pointer:
		return b.plan(t.Elem())
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Struct:
	default:
		// Interfaces get maps and slices of their own: no fields.
		return skipPlan
	}
	p := &jsonPlan{kind: planPending}
	b.plans[t] = p
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map:
		elem := b.plan(t.Elem())
		if elem.kind == planSkip {
			*p = *skipPlan
			break
		}
		p.elem = elem
		p.kind = map[reflect.Kind]planKind{reflect.Slice: planSlice, reflect.Array: planArray, reflect.Map: planMap}[t.Kind()]
		p.n = -1
		if t.Kind() == reflect.Array {
			p.n = t.Len()
		}
	case reflect.Struct:
		var fields []planField
		if !b.fields(t, &fields, map[reflect.Type]bool{}) {
			*p = *unsurePlan
			break
		}
		p.kind, p.fields = planStruct, fields
	}
	return p
}

// fields adds the fields of struct t to fields, by their JSON names, and
// those of the structs it embeds, which encoding/json promotes. It follows
// encoding/json's typeFields where that is simple, and reports false where
// it is not: a name given twice (encoding/json drops or picks by depth and
// tags), an embedded type within itself.
func (b planBuilder) fields(t reflect.Type, fields *[]planField, embedding map[reflect.Type]bool) bool {
	if embedding[t] {
		return false
	}
	embedding[t] = true
	defer delete(embedding, t)
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		ft := sf.Type
		if ft.Name() == "" && ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous {
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if !validJSONTag(name) {
			name = ""
		}
		if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
			if !b.fields(ft, fields, embedding) {
				return false
			}
			continue
		}
		if sf.Anonymous && !sf.IsExported() && (decodesItself(sf.Type) || decodesItself(ft)) {
			// A named, unexported embedded field: encoding/json
			// reaches it through a read-only reflect.Value, whose
			// UnmarshalJSON or UnmarshalText it cannot call, and
			// decodes it field by field instead.
			return false
		}
		if name == "" {
			name = sf.Name
		}
		for _, f := range *fields {
			if f.name == name {
				return false
			}
		}
		*fields = append(*fields, planField{name, b.plan(sf.Type)})
	}
	return true
}

// validJSONTag is encoding/json's isValidTag: a tag name it does not accept
// leaves the field its Go name.
func validJSONTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// knownFields reports whether every object key in data that encoding/json
// would match to a field of p's structs is exactly the name of one. data
// must be valid JSON, as json.Unmarshal found it: the walk relies on that
// (any byte up to ' ' outside a string is a space, a value ends at the
// first ',', '}', ']' or space) and, on anything else, returns an answer
// that means nothing but never fails.
func knownFields(data []byte, p *jsonPlan) bool {
	_, ok := walkValue(data, skipSpace(data, 0), p)
	return ok
}

// The walk is written as functions of the data and a position, not methods
// of a walker, so the position stays in a register: the walk must be a
// small fraction of json.Unmarshal to be worth doing.

// skipSpace returns the position of the first byte from i that is not a
// space. Between tokens there is mostly no space: it looks at one byte,
// small enough to be inlined, before calling skipSpaces.
func skipSpace(d []byte, i int) int {
	if i < len(d) && d[i] > ' ' {
		return i
	}
	return skipSpaces(d, i)
}

func skipSpaces(d []byte, i int) int {
	// Then mostly one space: look at one more byte before eight.
	if i+1 < len(d) && d[i+1] > ' ' {
		return i + 1
	}
	for i+8 <= len(d) {
		if m := above(binary.LittleEndian.Uint64(d[i:]), ' '); m != 0 {
			return i + first(m)
		}
		i += 8
	}
	for i < len(d) && d[i] <= ' ' {
		i++
	}
	return i
}

// The skips look at eight bytes at a time, as one uint64 ("SWAR": SIMD
// within a register). Each of these returns the high bit of every byte of x
// that passes its test, of which only the lowest is exact (a borrow or a
// carry can set bits above it), and first gives that byte's index.
const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// equal marks the bytes of x that are c.
func equal(x uint64, c byte) uint64 {
	y := x ^ lows*uint64(c)
	return (y - lows) &^ y & highs
}

// below marks the bytes of x less than c, which is at most 0x80.
func below(x uint64, c byte) uint64 { return (x - lows*uint64(c)) &^ x & highs }

// above marks the bytes of x greater than c, which is less than 0x80.
func above(x uint64, c byte) uint64 { return (x + lows*uint64(0x7f-c) | x) & highs }

func first(m uint64) int { return bits.TrailingZeros64(m) / 8 }

// walkValue walks the value at i, which is not a space, under plan p, and
// returns the position after it and its spaces.
func walkValue(d []byte, i int, p *jsonPlan) (int, bool) {
	if i >= len(d) {
		return i, false
	}
	switch c := d[i]; {
	case c == '{' && (p.kind == planStruct || p.kind == planMap):
		return walkObject(d, i, p)
	case c == '[' && (p.kind == planSlice || p.kind == planArray):
		return walkArray(d, i, p)
	}
	// A value of another shape (null, or one that json.Unmarshal found
	// fits the type some other way) holds no fields to check.
	return skipValue(d, i)
}

// walkObject walks the object at i, checking its keys against p's fields if
// p is a struct's, and its values under the fields' or the map's elements'
// plan.
func walkObject(d []byte, i int, p *jsonPlan) (int, bool) {
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == '}' {
		return skipSpace(d, i+1), true
	}
	// next is where the search for a key's field starts: after the field
	// of the key before, since encoding/json writes them in order.
	next := 0
	for i < len(d) && d[i] == '"' {
		var end int
		var ok bool
		vp := p.elem
		if p.kind == planStruct && next < len(p.fields) && p.fields[next].at(d, i+1) {
			// The field after the last one found: no search, and the
			// string's end is known (a name has no backslash to escape
			// the quote after it).
			vp, end, ok = p.fields[next].plan, i+2+len(p.fields[next].name), true
			next++
		} else if end, ok = skipString(d, i); !ok {
			return end, false
		} else if p.kind == planStruct {
			if vp, next = p.field(d[i+1:end-1], next); vp == nil {
				return end, false
			}
		}
		i = skipSpace(d, end)
		if i >= len(d) || d[i] != ':' {
			return i, false
		}
		i = skipSpace(d, i+1)
		if vp.kind == planSkip {
			i, ok = skipValue(d, i)
		} else {
			i, ok = walkValue(d, i, vp)
		}
		if !ok || i >= len(d) {
			return i, false
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case '}':
			return skipSpace(d, i+1), true
		default:
			return i, false
		}
	}
	return i, false
}

// field returns the plan of the field named key, searching from the field
// at next, and where to search for the key after it. It returns nil if key
// is not exactly a field's name (or has an escape, which a name written by
// encoding/json never has).
func (p *jsonPlan) field(key []byte, next int) (*jsonPlan, int) {
	fs := p.fields
	for k := range fs {
		j := next + k
		if j >= len(fs) {
			j -= len(fs)
		}
		if string(key) == fs[j].name {
			return fs[j].plan, j + 1
		}
	}
	return nil, next
}

// walkArray walks the array at i, its elements under p's elements' plan;
// an array type's elements beyond its length, which encoding/json skips,
// are skipped.
func walkArray(d []byte, i int, p *jsonPlan) (int, bool) {
	i = skipSpace(d, i+1)
	if i < len(d) && d[i] == ']' {
		return skipSpace(d, i+1), true
	}
	for n := 0; i < len(d); n++ {
		ep := p.elem
		if p.kind == planArray && n >= p.n {
			ep = skipPlan
		}
		var ok bool
		if i, ok = walkValue(d, i, ep); !ok || i >= len(d) {
			return i, false
		}
		switch d[i] {
		case ',':
			i = skipSpace(d, i+1)
		case ']':
			return skipSpace(d, i+1), true
		default:
			return i, false
		}
	}
	return i, false
}

// scalarEnd marks the bytes that end a number, true, false or null.
var scalarEnd = func() (end [256]bool) {
	for _, c := range []byte(",}] \t\n\r") {
		end[c] = true
	}
	return end
}()

// skipString returns the position after the string that starts at i.
func skipString(d []byte, i int) (int, bool) {
	j := i + 1
	// Most strings are short: look at them eight bytes at a time; a long
	// one is left to bytes.IndexByte, which is faster once its call is
	// paid for.
	for n := min(len(d)-8, j+64); j <= n; j += 8 {
		x := binary.LittleEndian.Uint64(d[j:])
		if m := equal(x, '"') | equal(x, '\\'); m != 0 {
			j += first(m)
			if d[j] == '"' {
				return j + 1, true
			}
			break
		}
	}
	return skipEscaped(d, i+1, j)
}

// skipEscaped returns the position after the string whose content starts
// at start, searching for its end from j.
func skipEscaped(d []byte, start, j int) (int, bool) {
	for {
		k := bytes.IndexByte(d[j:], '"')
		if k < 0 {
			return len(d), false
		}
		j += k
		// The quote ends the string unless an odd number of
		// backslashes escapes it.
		b := j
		for b > start && d[b-1] == '\\' {
			b--
		}
		if (j-b)%2 == 0 {
			return j + 1, true
		}
		j++
	}
}

// skipValue returns the position after the value at i, whatever it holds,
// and its spaces.
func skipValue(d []byte, i int) (int, bool) {
	if i >= len(d) {
		return i, false
	}
	switch d[i] {
	case '"':
		i, ok := skipString(d, i)
		return skipSpace(d, i), ok
	case '{', '[':
	default:
		for ; i+8 <= len(d); i += 8 {
			x := binary.LittleEndian.Uint64(d[i:])
			if m := equal(x, ',') | equal(x, '}') | equal(x, ']') | below(x, ' '+1); m != 0 {
				return skipSpace(d, i+first(m)), true
			}
		}
		for i < len(d) && !scalarEnd[d[i]] {
			i++
		}
		return skipSpace(d, i), true
	}
	depth := 0
	for i < len(d) {
		switch c := d[i]; c {
		case '"':
			var ok bool
			if i, ok = skipString(d, i); !ok {
				return i, false
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return skipSpace(d, i+1), true
			}
		case ',', ':':
			i = skipSpace(d, i+1)
			continue
		default:
			if c <= ' ' {
				i = skipSpace(d, i)
				continue
			}
			for i < len(d) && !scalarEnd[d[i]] {
				i++
			}
			continue
		}
		i++
	}
	return i, false
}
