package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// This file derives the file name of an entry of a wrapped function from a
// key value: a canonical, type-tagged, length-prefixed binary encoding of the
// value, walked with reflect, hashed with SHA-256. The encoding is a promise
// (the same value gives the same key in every process, on every platform,
// with every Go version), kept by testdata/argkeys.golden: any change to what
// follows that changes a key fails that test. A deliberate change of the
// encoding must change keyFormat, so that old and new keys never mix.

// keyFormat begins every encoding.
const keyFormat = "pecapiku key v1\x00"

// digestHex is the number of hex digits of SHA-256 in an entry's file name:
// 128 bits.
const digestHex = 32

// maxPrefix is the longest string key that gives its file a readable prefix.
const maxPrefix = 40

// The tags of the encoding: one byte before every value.
const (
	tagBool      = 'b' // then 0 or 1
	tagInt       = 'i' // any signed integer, then a zig-zag varint
	tagUint      = 'u' // any unsigned integer and uintptr, then a uvarint
	tagFloat     = 'f' // float32 and float64, then 8 bytes big-endian (see appendFloat)
	tagComplex   = 'c' // then two floats
	tagString    = 's' // then the length and the bytes
	tagBytes     = 'y' // slices and arrays of a one-byte unsigned kind, then the length and the bytes
	tagList      = 'l' // other slices and arrays, then the length and the elements
	tagMap       = 'm' // then the length and the entries, sorted
	tagStruct    = 'S' // then the number of fields and each field's name and value
	tagPointer   = 'p' // a non-nil pointer, then the value it points to
	tagNil       = 'z' // a nil pointer
	tagInterface = 'I' // a non-nil interface, then its dynamic type's name and its value
	tagNilIface  = 'n' // a nil interface
	tagBackRef   = 'r' // a cycle, then how many references up the path it points
	tagTime      = 'T' // time.Time, then Unix seconds (varint) and nanoseconds (uvarint)
	tagLocation  = 'L' // time.Location, then its name
	tagBigInt    = 'B' // big.Int, then its decimal text
	tagBigRat    = 'R' // big.Rat, then its text "a/b"
	tagBigFloat  = 'F' // big.Float, then its exact text in %p form
)

// keyFile returns the file name, without extension, of the entry whose key is
// k, salted with version: a readable prefix (see readablePrefix) and 32 hex
// digits of the SHA-256 of the canonical encoding. k is taken by its static
// type K, so an interface type K makes the dynamic type part of the key.
func keyFile[K any](k K, version string) (string, error) {
	v := reflect.ValueOf(&k).Elem()
	sum, err := keyDigest(v, version)
	if err != nil {
		return "", err
	}
	return readablePrefix(v) + hex.EncodeToString(sum[:])[:digestHex], nil
}

// keyDigest returns the SHA-256 of the canonical encoding of v salted with
// version. A panic of the walk, which would be a bug of this file, is an
// error: deriving a key never panics.
func keyDigest(v reflect.Value, version string) (sum [sha256.Size]byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot derive a key from %s: internal error: %v; please report it, and choose the key with cache.KeyFunc meanwhile", v.Type(), p)
		}
	}()
	h := sha256.New()
	e := newEncoder(h)
	e.buf = append(e.buf, keyFormat...)
	e.string(version)
	if err := e.value(v); err != nil {
		return sum, err
	}
	e.flushAll()
	h.Sum(sum[:0])
	return sum, nil
}

// canonical returns the whole canonical encoding of v, salt and format
// included, for the tests and the fuzz target. It panics on a bug.
func canonical(v reflect.Value, version string) ([]byte, error) {
	e := newEncoder(nil)
	e.buf = append(e.buf, keyFormat...)
	e.string(version)
	err := e.value(v)
	return e.buf, err
}

// readablePrefix returns s+"-" when v, looked at through interfaces, is a
// string s of 1 to 40 ASCII letters, digits, ".", "_" and "-" that does not
// begin with "."; otherwise "".
func readablePrefix(v reflect.Value) string {
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.String {
		return ""
	}
	s := v.String()
	if s == "" || len(s) > maxPrefix || s[0] == '.' {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return ""
		}
	}
	return s + "-"
}

// encoder writes the canonical encoding of values to buf, and from there to
// out when out is not nil.
type encoder struct {
	out    hash.Hash
	buf    []byte
	path   []refID       // the references (pointers, maps, slices) being walked, from the root
	onPath map[refID]int // their indexes in path
}

// refID identifies a reference being walked, for detecting cycles: its
// address, its length (for slices) and its type, since a struct and its first
// field share an address. The address is a uintptr (reflect's Value.Pointer),
// which is enough: everything walked is reachable from the argument for the
// whole walk, so none of it is freed, and the Go heap never moves an object.
type refID struct {
	addr uintptr
	len  int
	typ  reflect.Type
}

func newEncoder(out hash.Hash) *encoder {
	return &encoder{out: out}
}

// flush hands a full buffer to out.
func (e *encoder) flush() {
	if e.out != nil && len(e.buf) >= 64<<10 {
		e.flushAll()
	}
}

func (e *encoder) flushAll() {
	if e.out != nil {
		e.out.Write(e.buf) // a hash.Hash never fails
		e.buf = e.buf[:0]
	}
}

func (e *encoder) tag(t byte)              { e.buf = append(e.buf, t) }
func (e *encoder) uvarint(n uint64)        { e.buf = binary.AppendUvarint(e.buf, n) }
func (e *encoder) varint(n int64)          { e.buf = binary.AppendVarint(e.buf, n) }
func (e *encoder) float(f float64)         { e.buf = appendFloat(e.buf, f) }
func (e *encoder) string(s string)         { e.uvarint(uint64(len(s))); e.buf = append(e.buf, s...); e.flush() }
func (e *encoder) tagged(t byte, s string) { e.tag(t); e.string(s) }

// appendFloat appends the 8 bytes of f, big-endian, with every NaN written
// as the one quiet NaN 0x7ff8000000000000 and -0 written as +0: NaNs of any
// payload or sign give one key, and -0 gives the key of 0, as -0 == 0.
func appendFloat(b []byte, f float64) []byte {
	bits := math.Float64bits(f)
	switch {
	case f != f:
		bits = 0x7ff8000000000000
	case f == 0:
		bits = 0
	}
	return binary.BigEndian.AppendUint64(b, bits)
}

// keyError is a value that has no key: a func, a channel, an unsafe
// pointer. path is where it sits in the argument, built as the error
// travels up: ".Field", "[3]", "[key]".
type keyError struct {
	path []string // the steps from the value up to the argument, innermost first
	typ  reflect.Type
}

func (e *keyError) Error() string {
	where := ""
	if len(e.path) > 0 {
		p := slices.Clone(e.path)
		slices.Reverse(p)
		where = " at " + strings.Join(p, "")
	}
	return fmt.Sprintf("the value%s is a %s, which has no value to derive a key from; choose the key with cache.KeyFunc or cache.ConstKey", where, e.typ)
}

// within adds a step of the path to err when it is a keyError.
func within(err error, step string) error {
	if ke, ok := err.(*keyError); ok {
		ke.path = append(ke.path, step)
	}
	return err
}

var (
	timeType     = reflect.TypeOf(time.Time{})
	locationType = reflect.TypeOf(time.Location{})
	bigIntType   = reflect.TypeOf(big.Int{})
	bigRatType   = reflect.TypeOf(big.Rat{})
	bigFloatType = reflect.TypeOf(big.Float{})
)

// special encodes the types whose fields are not their value: a time's
// fields hold a zone and a monotonic reading, a location's fields fill a
// cache as it is used, and math/big's numbers hold words of the platform's
// size. It reports whether v was one of them.
func (e *encoder) special(v reflect.Value) bool {
	t := v.Type()
	if t != timeType && t.ConvertibleTo(timeType) {
		v, t = v.Convert(timeType), timeType
	}
	switch t {
	case timeType:
		tm := v.Interface().(time.Time)
		e.tag(tagTime)
		e.varint(tm.Unix())
		e.uvarint(uint64(tm.Nanosecond()))
	case locationType:
		e.tagged(tagLocation, v.Addr().Interface().(*time.Location).String())
	case bigIntType:
		e.tagged(tagBigInt, v.Addr().Interface().(*big.Int).String())
	case bigRatType:
		e.tagged(tagBigRat, v.Addr().Interface().(*big.Rat).String())
	case bigFloatType:
		e.tagged(tagBigFloat, v.Addr().Interface().(*big.Float).Text('p', 0))
	default:
		return false
	}
	return true
}

// settle returns v in a form whose fields can all be read with Interface:
// a value reached through an unexported field is read through its address
// (as go-cmp's Exporter does), and a struct or an array that has no address
// (a map's key or value, an interface's content) is copied to one that has.
// Values walked from an addressable root stay addressable or readable this
// way, so settle never meets a value it cannot make readable.
//
// This is the one use of package unsafe in the module, and it cannot be
// done without: reflect reads the numbers, strings and elements of an
// unexported field (Int, String, Index), but not a value whose key comes
// from its methods rather than its fields (a time.Time, a *time.Location, a
// math/big number), nor a copy of such a value, which Interface and Set both
// refuse. Reading the fields of those types instead would tie every key to
// another package's unexported layout.
func settle(v reflect.Value) reflect.Value {
	if !v.CanInterface() && v.CanAddr() {
		v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem()
	}
	if !v.CanAddr() && v.CanInterface() && (v.Kind() == reflect.Struct || v.Kind() == reflect.Array) {
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		v = c
	}
	return v
}

// reference writes the value of a reference (a pointer, a map or a slice)
// identified by id with write, unless id is already on the path being
// walked: then it writes a back-reference, how many references up the path
// it points. It is a function of its own so that value, which runs once
// per element, has no deferred call to pay for.
func (e *encoder) reference(id refID, write func() error) error {
	if i, ok := e.onPath[id]; ok {
		e.tag(tagBackRef)
		e.uvarint(uint64(len(e.path) - i))
		return nil
	}
	if e.onPath == nil {
		e.onPath = map[refID]int{}
	}
	e.onPath[id] = len(e.path)
	e.path = append(e.path, id)
	defer func() {
		e.path = e.path[:len(e.path)-1]
		delete(e.onPath, id)
	}()
	return write()
}

// value writes the canonical encoding of v.
func (e *encoder) value(v reflect.Value) error {
	v = settle(v)
	if v.Kind() == reflect.Struct && e.special(v) {
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		e.tag(tagBool)
		if v.Bool() {
			e.tag(1)
		} else {
			e.tag(0)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.tag(tagInt)
		e.varint(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.tag(tagUint)
		e.uvarint(v.Uint())
	case reflect.Float32, reflect.Float64:
		e.tag(tagFloat)
		e.float(v.Float())
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		e.tag(tagComplex)
		e.float(real(c))
		e.float(imag(c))
	case reflect.String:
		e.tagged(tagString, v.String())
	case reflect.Slice:
		if v.Len() == 0 {
			// nil and empty slices alike: the empty sequence.
			return e.list(v)
		}
		return e.reference(refID{v.Pointer(), v.Len(), v.Type()}, func() error { return e.list(v) })
	case reflect.Array:
		return e.list(v)
	case reflect.Map:
		if v.Len() == 0 {
			e.tag(tagMap)
			e.uvarint(0)
			return nil
		}
		return e.reference(refID{v.Pointer(), 0, v.Type()}, func() error { return e.mapEntries(v) })
	case reflect.Struct:
		t := v.Type()
		e.tag(tagStruct)
		e.uvarint(uint64(t.NumField()))
		for i := 0; i < t.NumField(); i++ {
			name := t.Field(i).Name
			e.string(name)
			if err := e.value(v.Field(i)); err != nil {
				return within(err, "."+name)
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			e.tag(tagNil)
			return nil
		}
		return e.reference(refID{v.Pointer(), 0, v.Type().Elem()}, func() error {
			e.tag(tagPointer)
			return e.value(v.Elem())
		})
	case reflect.Interface:
		if v.IsNil() {
			e.tag(tagNilIface)
			return nil
		}
		elem := v.Elem()
		e.tagged(tagInterface, keyTypeName(elem.Type()))
		return e.value(elem)
	default: // Func, Chan, UnsafePointer
		return &keyError{typ: v.Type()}
	}
	return nil
}

// list writes a slice or an array: as bytes when its elements are of a
// one-byte unsigned kind, else element by element.
func (e *encoder) list(v reflect.Value) error {
	n := v.Len()
	if v.Type().Elem().Kind() == reflect.Uint8 {
		e.tag(tagBytes)
		e.uvarint(uint64(n))
		if v.Kind() == reflect.Slice {
			e.buf = append(e.buf, v.Bytes()...)
		} else {
			for i := 0; i < n; i++ {
				e.buf = append(e.buf, byte(v.Index(i).Uint()))
			}
		}
		e.flush()
		return nil
	}
	e.tag(tagList)
	e.uvarint(uint64(n))
	for i := 0; i < n; i++ {
		if err := e.value(v.Index(i)); err != nil {
			return within(err, "["+strconv.Itoa(i)+"]")
		}
		e.flush()
	}
	return nil
}

// printable returns what a message can show of a map key.
func printable(v reflect.Value) any {
	v = settle(v)
	if v.CanInterface() {
		return v.Interface()
	}
	return v.Type().String()
}

// keyTypeName spells t for the key of a value held in an interface: the import
// path and name of a named type ("github.com/you/app.Doc", where reflect
// spells type arguments of a generic type with package names), the name of a
// predeclared one ("int", "error"), and Go's syntax built from those for the
// others ("[]github.com/you/app.Doc", "map[string]interface{}").
// Renaming a type, or moving it to another package, changes the keys of the
// values of that type held in interfaces.
func keyTypeName(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() != "" {
			return t.PkgPath() + "." + t.Name()
		}
		return t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + keyTypeName(t.Elem())
	case reflect.Slice:
		return "[]" + keyTypeName(t.Elem())
	case reflect.Array:
		return "[" + strconv.Itoa(t.Len()) + "]" + keyTypeName(t.Elem())
	case reflect.Map:
		return "map[" + keyTypeName(t.Key()) + "]" + keyTypeName(t.Elem())
	case reflect.Chan:
		switch t.ChanDir() {
		case reflect.RecvDir:
			return "<-chan " + keyTypeName(t.Elem())
		case reflect.SendDir:
			return "chan<- " + keyTypeName(t.Elem())
		}
		return "chan " + keyTypeName(t.Elem())
	case reflect.Func:
		var b strings.Builder
		b.WriteString("func(")
		for i := 0; i < t.NumIn(); i++ {
			if i > 0 {
				b.WriteString(",")
			}
			if t.IsVariadic() && i == t.NumIn()-1 {
				b.WriteString("..." + keyTypeName(t.In(i).Elem()))
			} else {
				b.WriteString(keyTypeName(t.In(i)))
			}
		}
		b.WriteString(")(")
		for i := 0; i < t.NumOut(); i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(keyTypeName(t.Out(i)))
		}
		b.WriteString(")")
		return b.String()
	case reflect.Struct:
		var b strings.Builder
		b.WriteString("struct{")
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if i > 0 {
				b.WriteString(";")
			}
			if f.PkgPath != "" {
				b.WriteString(f.PkgPath + ".")
			}
			if f.Anonymous {
				b.WriteString("embedded ")
			}
			b.WriteString(f.Name + " " + keyTypeName(f.Type))
		}
		b.WriteString("}")
		return b.String()
	case reflect.Interface:
		var b strings.Builder
		b.WriteString("interface{")
		for i := 0; i < t.NumMethod(); i++ {
			m := t.Method(i)
			if i > 0 {
				b.WriteString(";")
			}
			if m.PkgPath != "" {
				b.WriteString(m.PkgPath + ".")
			}
			b.WriteString(m.Name + strings.TrimPrefix(keyTypeName(m.Type), "func"))
		}
		b.WriteString("}")
		return b.String()
	}
	return t.String() // not reached: every unnamed kind is above
}
