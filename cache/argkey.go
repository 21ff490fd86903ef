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
// encoding of some values gets new tags, and the tags it replaces are never
// written again, so that an old key and a new one never mix; keyFormat
// changes only with the whole encoding.

// keyFormat begins every encoding.
const keyFormat = "pecapiku key v1\x00"

// digestHex is the number of hex digits of SHA-256 in an entry's file name:
// 128 bits.
const digestHex = 32

// maxPrefix is the longest string key that gives its file a readable prefix.
const maxPrefix = 40

// The tags of the encoding: one byte before every value.
const (
	tagBool         = 'b' // then 0 or 1
	tagInt          = 'i' // any signed integer, then a zig-zag varint
	tagUint         = 'u' // any unsigned integer and uintptr, then a uvarint
	tagFloat        = 'f' // float32 and float64, then 8 bytes big-endian (see appendFloat)
	tagComplex      = 'c' // then two floats
	tagString       = 's' // then the length and the bytes
	tagBytes        = 'y' // slices and arrays of a one-byte unsigned kind, then the length and the bytes
	tagList         = 'l' // other slices and arrays, then the length and the elements
	tagMap          = 'm' // then the length and the entries, sorted
	tagStruct       = 'S' // then the number of fields and each field's name and value
	tagPointer      = 'p' // a non-nil pointer, then the value it points to
	tagNil          = 'z' // a nil pointer
	tagInterface    = 'I' // a non-nil interface holding a value of a type spelled without structure (see keyTypeName), then that spelling and the value
	tagShapedIface  = 'J' // a non-nil interface holding a value of a type spelled with the structure of a named type, then that spelling and the value
	tagNilIface     = 'n' // a nil interface
	tagBackRef      = 'r' // a cycle, then how many references up the path it points
	tagTime         = 'T' // time.Time, then Unix seconds (varint) and nanoseconds (uvarint)
	tagZones        = 'Z' // time.Location, then its name and its zones (see location)
	tagBigInt       = 'B' // big.Int, then its decimal text
	tagBigRat       = 'R' // big.Rat, then its text "a/b"
	tagBigFloatPrec = 'G' // big.Float, then its precision (uvarint), its rounding mode's name and its exact text in %p form, -0 as 0

	// Tags of earlier keys, never written again: a time.Location by its
	// name alone, which let locations that differ share a key, and a
	// big.Float by its text alone, which let precisions share a key and
	// kept -0 apart from 0.
	_ = 'L'
	_ = 'F'
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

// special encodes the types whose fields are not their value, and the
// types defined as those: a time's fields hold a zone and a monotonic
// reading, a location's fields hold the zone of the time it was loaded, and
// math/big's numbers hold words of the platform's size. It reports whether
// v was one of them.
func (e *encoder) special(v reflect.Value) bool {
	s := specialOf(v.Type())
	if s == nil {
		return false
	}
	if v.Type() != s {
		// A copy, addressable for the methods of s.
		c := reflect.New(s).Elem()
		c.Set(v.Convert(s))
		v = c
	}
	switch s {
	case timeType:
		tm := v.Interface().(time.Time)
		e.tag(tagTime)
		e.varint(tm.Unix())
		e.uvarint(uint64(tm.Nanosecond()))
	case locationType:
		e.location(v.Addr().Interface().(*time.Location))
	case bigIntType:
		e.tagged(tagBigInt, v.Addr().Interface().(*big.Int).String())
	case bigRatType:
		e.tagged(tagBigRat, v.Addr().Interface().(*big.Rat).String())
	case bigFloatType:
		e.bigFloat(v.Addr().Interface().(*big.Float))
	}
	return true
}

// specialOf returns the type that special encodes whose underlying type t
// has, or nil.
func specialOf(t reflect.Type) reflect.Type {
	if t.Kind() != reflect.Struct {
		return nil
	}
	if s, ok := specials.Load(t); ok {
		special, _ := s.(reflect.Type) // nil for none
		return special
	}
	var found reflect.Type
	for _, s := range []reflect.Type{timeType, locationType, bigIntType, bigRatType, bigFloatType} {
		if t.ConvertibleTo(s) {
			found = s
			break
		}
	}
	specials.Store(t, found)
	return found
}

// specials holds the results of specialOf by type: it runs on every struct
// walked.
var specials sync.Map // of reflect.Type to reflect.Type, nil for none

// bigFloat writes f: its precision and rounding mode, which decide the
// results of arithmetic on it, and its exact value, with -0 written as 0
// as for float64s. Its accuracy, which tells how the last operation on it
// rounded, is left out: 1.5 is 1.5 however it was reached.
func (e *encoder) bigFloat(f *big.Float) {
	e.tag(tagBigFloatPrec)
	e.uvarint(uint64(f.Prec()))
	e.string(f.Mode().String())
	if f.Sign() == 0 {
		e.string("0")
		return
	}
	e.string(f.Text('p', 0))
}

// zone is what a location says of an instant: the abbreviation of its
// zone, its offset east of UTC in seconds, and whether it is daylight
// saving time.
type zone struct {
	name   string
	offset int
	dst    bool
}

func zoneAt(t time.Time, loc *time.Location) zone {
	t = t.In(loc)
	name, offset := t.Zone()
	return zone{name, offset, t.IsDST()}
}

// zonesFrom and zonesUntil bound the instants whose zones key a location.
// The tz database lists no transition before 1835 nor after 2087, and past
// the last it lists, a location's rule repeats every year, so that a decade
// of it tells two rules apart. The bounds also keep the work of a key
// bounded for any location, whatever its data: a few steps a year of rules.
var (
	zonesFrom  = time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)
	zonesUntil = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// location writes loc by what its exported methods show: its name, the
// zone it gives zonesFrom, and the changes of zone up to zonesUntil (see
// zoneChanges). So two locations that give every instant between those
// bounds the same zone have one key, however they were made
// (time.FixedZone, time.LoadLocation, time.LoadLocationFromTZData, with a
// transition that changes nothing, or with a rule rather than a list), and
// whatever zone it keeps of the time it was loaded.
func (e *encoder) location(loc *time.Location) {
	e.tagged(tagZones, loc.String())
	e.zone(zoneAt(zonesFrom, loc))
	changes := zoneChanges(loc)
	e.uvarint(uint64(len(changes)))
	for _, c := range changes {
		e.varint(c.at)
		e.zone(c.to)
	}
}

// zoneChange is a change of zone in a location: at Unix seconds at, to the
// zone to.
type zoneChange struct {
	at int64
	to zone
}

// zoneChanges returns the changes of zone of loc after zonesFrom and before
// zonesUntil, in order.
//
// They are found with Time.ZoneBounds, which gives the end of the zone of
// an instant. Past a location's last listed transition, where its rule
// applies, time reports the end of a year as an end too, and at the end of
// a leap year an end that is not after the instant asked about: the walk
// then steps a day, and looks for a change of zone in that day, if any,
// second by second by bisection. Each step moves at least a second
// forward, and the steps over a rule are a few a year.
func zoneChanges(loc *time.Location) []zoneChange {
	var changes []zoneChange
	t := zonesFrom
	cur := zoneAt(t, loc)
	for {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(zonesUntil) {
			return changes // the zone of t lasts past zonesUntil
		}
		next, trusted := end, true
		if !end.After(t) {
			next, trusted = t.Add(24*time.Hour), false
			if !next.Before(zonesUntil) {
				return changes
			}
		}
		z := zoneAt(next, loc)
		if z == cur {
			t = next
			continue
		}
		if !trusted {
			next = firstChange(loc, t, next, cur)
			z = zoneAt(next, loc)
		}
		changes = append(changes, zoneChange{next.Unix(), z})
		cur, t = z, next
	}
}

// firstChange returns the first whole second after from, up to to, whose
// zone in loc is not was, given that the zone of to is not.
func firstChange(loc *time.Location, from, to time.Time, was zone) time.Time {
	lo, hi := from.Unix(), to.Unix()
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if zoneAt(time.Unix(mid, 0), loc) == was {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Unix(hi, 0)
}

func (e *encoder) zone(z zone) {
	e.string(z.name)
	e.varint(int64(z.offset))
	if z.dst {
		e.tag(1)
	} else {
		e.tag(0)
	}
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
		if name, shaped := keyTypeName(elem.Type()); shaped {
			e.tagged(tagShapedIface, name)
		} else {
			e.tagged(tagInterface, name)
		}
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

// keyTypeName spells t for the key of a value held in an interface, and
// reports whether the spelling holds the structure of a named type.
//
// A type is spelled in Go's syntax, with the import path of every named type
// ("[]github.com/you/app.Doc", "map[string]interface{}"; reflect spells the
// type arguments of a generic type that way too), and a named type other
// than a predeclared one with its underlying type after it in parentheses
// ("github.com/you/app.Celsius(float64)"): the types of one name declared in
// different functions of one package, which reflect names alike, are told
// apart by their structure. Within that structure, the named types of the
// same package are spelled with their structure too (the only types a local
// type can refer to besides package-level types of other packages), those
// of other packages by name, and so are the types of the parameters and
// results of funcs and methods. The number that the compiler gives a local
// type in the name of a generic type ("Box[app.T·1]") is left out: it
// counts the local types of the package and changes with the source.
//
// time.Time, time.Location and math/big's Int, Rat and Float, whose keys come
// from their methods, are spelled by name, and a named type defined as one
// of them with that name in parentheses ("github.com/you/app.Money(math/big.Int)"):
// their fields are another package's business.
//
// Renaming a type, moving it to another package, or changing its structure
// changes the keys of the values of that type held in interfaces.
func keyTypeName(t reflect.Type) (name string, shaped bool) {
	if s, ok := typeSpellings.Load(t); ok {
		s := s.(typeSpelling)
		return s.name, s.shaped
	}
	var s speller
	s.spell(t, "")
	typeSpellings.Store(t, typeSpelling{s.b.String(), s.shaped})
	return s.b.String(), s.shaped
}

// typeSpellings holds the spellings of keyTypeName by type: a slice of a
// million values held in interfaces needs only a few.
var typeSpellings sync.Map // of reflect.Type to typeSpelling

type typeSpelling struct {
	name   string
	shaped bool
}

// speller builds the spelling of keyTypeName.
type speller struct {
	b      strings.Builder
	open   []reflect.Type // the named types whose structures are being spelled
	shaped bool           // whether b holds the structure of a named type
}

// namesOnly, as the package of spell, spells every named type by name.
const namesOnly = "\x00"

// spell writes t, met within the structure of a named type of package
// within, or at the top of the spelling when within is "".
func (s *speller) spell(t reflect.Type, within string) {
	name := t.Name()
	if name == "" {
		s.structure(t, within)
		return
	}
	if t.PkgPath() == "" { // predeclared
		s.b.WriteString(name)
		return
	}
	s.b.WriteString(t.PkgPath() + "." + withoutLocalNumbers(name))
	special := specialOf(t)
	if special == t || within != "" && t.PkgPath() != within || slices.Contains(s.open, t) {
		return
	}
	s.shaped = true
	s.open = append(s.open, t)
	s.b.WriteString("(")
	if special != nil {
		s.b.WriteString(special.PkgPath() + "." + special.Name())
	} else {
		s.structure(t, t.PkgPath())
	}
	s.b.WriteString(")")
	s.open = s.open[:len(s.open)-1]
}

// structure writes the underlying type of t, whose named types are spelled
// as spell spells them within package within.
func (s *speller) structure(t reflect.Type, within string) {
	b := &s.b
	switch t.Kind() {
	case reflect.Pointer:
		b.WriteString("*")
		s.spell(t.Elem(), within)
	case reflect.Slice:
		b.WriteString("[]")
		s.spell(t.Elem(), within)
	case reflect.Array:
		b.WriteString("[" + strconv.Itoa(t.Len()) + "]")
		s.spell(t.Elem(), within)
	case reflect.Map:
		b.WriteString("map[")
		s.spell(t.Key(), within)
		b.WriteString("]")
		s.spell(t.Elem(), within)
	case reflect.Chan:
		switch t.ChanDir() {
		case reflect.RecvDir:
			b.WriteString("<-chan ")
		case reflect.SendDir:
			b.WriteString("chan<- ")
		default:
			b.WriteString("chan ")
		}
		s.spell(t.Elem(), within)
	case reflect.Func:
		b.WriteString("func")
		s.signature(t)
	case reflect.Struct:
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
			b.WriteString(f.Name + " ")
			s.spell(f.Type, within)
		}
		b.WriteString("}")
	case reflect.Interface:
		b.WriteString("interface{")
		for i := 0; i < t.NumMethod(); i++ {
			m := t.Method(i)
			if i > 0 {
				b.WriteString(";")
			}
			if m.PkgPath != "" {
				b.WriteString(m.PkgPath + ".")
			}
			b.WriteString(m.Name)
			s.signature(m.Type)
		}
		b.WriteString("}")
	default: // the kinds of the predeclared types, and unsafe.Pointer
		b.WriteString(t.Kind().String())
	}
}

// signature writes the parameters and results of the func type t.
func (s *speller) signature(t reflect.Type) {
	b := &s.b
	b.WriteString("(")
	for i := 0; i < t.NumIn(); i++ {
		if i > 0 {
			b.WriteString(",")
		}
		if t.IsVariadic() && i == t.NumIn()-1 {
			b.WriteString("...")
			s.spell(t.In(i).Elem(), namesOnly)
		} else {
			s.spell(t.In(i), namesOnly)
		}
	}
	b.WriteString(")(")
	for i := 0; i < t.NumOut(); i++ {
		if i > 0 {
			b.WriteString(",")
		}
		s.spell(t.Out(i), namesOnly)
	}
	b.WriteString(")")
}

// withoutLocalNumbers returns name without the numbers the compiler adds
// to local types, "·" and digits, where they appear in the type arguments
// of a generic type. No identifier holds a "·".
func withoutLocalNumbers(name string) string {
	for {
		before, after, found := strings.Cut(name, "·")
		if !found {
			return name
		}
		name = before + strings.TrimLeft(after, "0123456789")
	}
}
