package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"math/big"
	"math/bits"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	e.buf = getBuffer()
	defer func() { putBuffer(e.buf) }()
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
// field share an address.
type refID struct {
	ptr unsafe.Pointer
	len int
	typ reflect.Type
}

func newEncoder(out hash.Hash) *encoder {
	return &encoder{out: out, onPath: map[refID]int{}}
}

// buffers are the buffers of the encoders that hash keys, kept from one key
// to the next: the profile of the key of a map of 10 000 entries showed a
// fifth of its time in the first writes to a fresh buffer of a few hundred
// kilobytes (the kernel handing the process new pages), every time. The
// maps they sort keep their scratch in a pool of their own (mapScratches).
var buffers sync.Pool // of *[]byte

// maxPooled is the largest buffer kept in buffers.
const maxPooled = 4 << 20

func getBuffer() []byte {
	if p, ok := buffers.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, 64<<10+1<<10)
}

func putBuffer(b []byte) {
	if cap(b) <= maxPooled {
		buffers.Put(&b)
	}
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

// enter records the reference id on the path and reports false when it is
// already there, after writing the back-reference that stands for it.
func (e *encoder) enter(id refID) bool {
	if i, ok := e.onPath[id]; ok {
		e.tag(tagBackRef)
		e.uvarint(uint64(len(e.path) - i))
		return false
	}
	e.onPath[id] = len(e.path)
	e.path = append(e.path, id)
	return true
}

func (e *encoder) leave() {
	id := e.path[len(e.path)-1]
	e.path = e.path[:len(e.path)-1]
	delete(e.onPath, id)
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
		if !e.enter(refID{v.UnsafePointer(), v.Len(), v.Type()}) {
			return nil
		}
		defer e.leave()
		return e.list(v)
	case reflect.Array:
		return e.list(v)
	case reflect.Map:
		if v.Len() == 0 {
			e.tag(tagMap)
			e.uvarint(0)
			return nil
		}
		if !e.enter(refID{v.UnsafePointer(), 0, v.Type()}) {
			return nil
		}
		defer e.leave()
		return e.mapEntries(v)
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
		if !e.enter(refID{v.UnsafePointer(), 0, v.Type().Elem()}) {
			return nil
		}
		defer e.leave()
		e.tag(tagPointer)
		return e.value(v.Elem())
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
	if fastPaths && (v.Kind() == reflect.Slice || v.CanAddr()) && e.scalars(v) {
		return nil
	}
	for i := 0; i < n; i++ {
		if err := e.value(v.Index(i)); err != nil {
			return within(err, "["+strconv.Itoa(i)+"]")
		}
	}
	return nil
}

// fastPaths turns on the walks of scalars and maps that avoid a
// reflect.Value per element, and the radix sort of map entries
// (argkey_map.go); a test turns it off to check that they write the same
// bytes as the general walk and the plain sort.
var fastPaths = true

// scalars writes the elements of v, a slice or an addressable array, when
// their kind is a bool, a number or a string, exactly as value would write
// each, reading them in place rather than through a reflect.Value apiece:
// for a large slice of numbers that is most of the cost of its key. It
// reports false, having written nothing, for elements of other kinds.
func (e *encoder) scalars(v reflect.Value) bool {
	n := v.Len()
	var p unsafe.Pointer
	if v.Kind() == reflect.Slice {
		p = v.UnsafePointer()
	} else {
		p = unsafe.Pointer(v.UnsafeAddr())
	}
	switch v.Type().Elem().Kind() {
	case reflect.Bool:
		for _, x := range unsafe.Slice((*bool)(p), n) {
			b := byte(0)
			if x {
				b = 1
			}
			e.buf = append(e.buf, tagBool, b)
			e.flush()
		}
	case reflect.Int:
		ints(e, unsafe.Slice((*int)(p), n))
	case reflect.Int8:
		ints(e, unsafe.Slice((*int8)(p), n))
	case reflect.Int16:
		ints(e, unsafe.Slice((*int16)(p), n))
	case reflect.Int32:
		ints(e, unsafe.Slice((*int32)(p), n))
	case reflect.Int64:
		ints(e, unsafe.Slice((*int64)(p), n))
	case reflect.Uint:
		uints(e, unsafe.Slice((*uint)(p), n))
	case reflect.Uint16:
		uints(e, unsafe.Slice((*uint16)(p), n))
	case reflect.Uint32:
		uints(e, unsafe.Slice((*uint32)(p), n))
	case reflect.Uint64:
		uints(e, unsafe.Slice((*uint64)(p), n))
	case reflect.Uintptr:
		uints(e, unsafe.Slice((*uintptr)(p), n))
	case reflect.Float32:
		floats(e, unsafe.Slice((*float32)(p), n))
	case reflect.Float64:
		floats(e, unsafe.Slice((*float64)(p), n))
	case reflect.String:
		for _, s := range unsafe.Slice((*string)(p), n) {
			e.tagged(tagString, s)
		}
	default:
		return false
	}
	return true
}

// ints writes xs as value writes each: tagInt and the zig-zag varint of
// binary.AppendVarint.
func ints[T int | int8 | int16 | int32 | int64](e *encoder, xs []T) {
	varints(e, tagInt, xs, true)
}

// uints writes xs as value writes each: tagUint and the varint of
// binary.AppendUvarint.
func uints[T uint | uint16 | uint32 | uint64 | uintptr](e *encoder, xs []T) {
	varints(e, tagUint, xs, false)
}

// varints writes each number of xs as tag and its varint, zig-zag encoded
// when signed, as binary.AppendVarint and AppendUvarint would append it,
// into room reserved for a chunk of numbers at a time: one bounds check per
// number, and no call.
//
// A number of 57 bits or more (after zig-zag), such as a random 64-bit one,
// a hash or a time in nanoseconds, has a varint of 9 or 10 bytes whose first
// 8 all carry the continuation bit: it is written without finding its
// length. Its first 8 bytes are its low 56 bits spread seven to a byte (see
// spread7), byte 8 is bits 56 to 62 with bit 63 as its continuation bit,
// set exactly when the varint has 10 bytes, and byte 9 is bit 63. The
// branch is predictable for numbers of one magnitude, and cheap next to the
// length lookup it saves (the profile of BenchmarkKey: half the time of the
// encoding of random int64s went to the length and the shifts).
// Smaller numbers take their length and continuation bits from
// varintLens and varintMores, by bit length.
func varints[T int | int8 | int16 | int32 | int64 | uint | uint16 | uint32 | uint64 | uintptr](e *encoder, tag byte, xs []T, signed bool) {
	for len(xs) > 0 {
		chunk := xs[:min(len(xs), chunkLen)]
		xs = xs[len(chunk):]
		b, i := e.reserve(len(chunk) * (1 + binary.MaxVarintLen64))
		for _, x := range chunk {
			u := uint64(x) // sign-extended when T is signed
			if signed {
				u = uint64(int64(u)<<1 ^ int64(u)>>63)
			}
			w := (*[1 + binary.MaxVarintLen64]byte)(b[i : i+1+binary.MaxVarintLen64])
			w[0] = tag
			if u>>56 != 0 {
				binary.LittleEndian.PutUint64(w[1:9], spread7(u)|0x8080808080808080)
				w[9] = byte(u >> 56)
				w[10] = byte(u >> 63)
				i += 10 + int(u>>63)
				continue
			}
			n := bits.Len64(u) & 63 // at most 56 here; the mask spares a bounds check
			binary.LittleEndian.PutUint64(w[1:9], spread7(u)|varintMores[n])
			i += 1 + int(varintLens[n])
		}
		e.buf = b[:i]
		e.flush()
	}
}

// spread7 returns the low 56 bits of u spread seven to a byte, from the
// lowest byte up, the top bit of every byte clear: the seven-bit groups of
// a varint without their continuation bits. Three rounds halve the width of
// the groups moved apart (28 bits to 32-bit lanes, 14 to 16, 7 to 8), fewer
// operations than moving each of the 8 groups on its own.
func spread7(u uint64) uint64 {
	x := u & (1<<56 - 1)
	x = x&0x000000000fffffff | x&0x00fffffff0000000<<4
	x = x&0x00003fff00003fff | x&0x0fffc0000fffc000<<2
	x = x&0x007f007f007f007f | x&0x3f803f803f803f80<<1
	return x
}

// varintLens and varintMores hold, for each bit length of a number below
// 2^56 (as bits.Len64 gives it, 0 to 56; the tables are larger so that
// indexing them with a masked length needs no bounds check), the length of
// its varint and the continuation bits of its bytes: 0x80 on every byte
// followed by another.
var varintLens, varintMores = func() (lens [64]uint8, mores [64]uint64) {
	for bitLen := range 57 {
		n := max(1, (bitLen+6)/7)
		lens[bitLen] = uint8(n)
		for j := 0; j < n-1; j++ {
			mores[bitLen] |= 0x80 << (8 * j)
		}
	}
	return lens, mores
}()

// chunkLen is how many numbers ints and uints write between two flushes.
const chunkLen = 4096

// reserve makes the capacity of e.buf at least n bytes more than its length
// and returns it, with its length as it was, where to write next.
func (e *encoder) reserve(n int) ([]byte, int) {
	e.buf = slices.Grow(e.buf, n)
	return e.buf, len(e.buf)
}

func floats[T float32 | float64](e *encoder, xs []T) {
	for _, x := range xs {
		e.buf = appendFloat(append(e.buf, tagFloat), float64(x))
		e.flush()
	}
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
