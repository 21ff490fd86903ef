package cache_test

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unique"
	"unsafe"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// keyOf returns the entry key of v under the name "f".
func keyOf[A any](t *testing.T, v A, opts ...cache.FuncOption) string {
	t.Helper()
	key, err := cache.EntryKey("f", v, opts...)
	assert.NilError(t, err)
	return key
}

// keyer computes a key later, whatever the type of the value.
type keyer func(t *testing.T) string

func k[A any](v A, opts ...cache.FuncOption) keyer {
	return func(t *testing.T) string { t.Helper(); return keyOf(t, v, opts...) }
}

// node makes linked structures, cycles among them.
type node struct {
	Value int
	Next  *node
}

// ring returns a cycle of n nodes holding values.
func ring(values ...int) *node {
	first := &node{Value: values[0]}
	last := first
	for _, v := range values[1:] {
		last.Next = &node{Value: v}
		last = last.Next
	}
	last.Next = first
	return first
}

type withHidden struct {
	Name   string
	hidden []float64
	when   time.Time
	inner  any
}

type goldenDoc struct {
	ID    string
	Words []string
}

type celsius float64

// manyKeys returns a map of n entries inserted in the order given.
func manyKeys(order []int) map[string]int {
	m := map[string]int{}
	for _, i := range order {
		m[fmt.Sprintf("key%03d", i)] = i
	}
	return m
}

func ascending(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func descending(n int) []int {
	out := ascending(n)
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func intPtr(n int) *int { return &n }

func selfSlice() []any {
	s := make([]any, 2)
	s[0] = "x"
	s[1] = s
	return s
}

func selfMap() map[string]any {
	m := map[string]any{"x": 1}
	m["self"] = m
	return m
}

func bigInt(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

// TestEntryKeyEqual checks that values that are equal, however they were
// built, share a key.
func TestEntryKeyEqual(t *testing.T) {
	// The rows of big.Float accuracy compare values that differ in it.
	assert.Equal(t, bigFloat(8, big.ToNearestEven, 1.5).Acc(), big.Exact)
	assert.Equal(t, bigFloat(8, big.ToNearestEven, 1.5000001).Acc(), big.Below)
	zone := time.FixedZone("UTC+5", 5*3600)
	instant := time.Date(2024, 2, 29, 12, 30, 0, 123456789, time.UTC)
	now := time.Now()
	for _, tc := range []struct {
		name string
		a, b keyer
	}{
		{"map insertion order", k(manyKeys(ascending(200))), k(manyKeys(descending(200)))},
		{"map of structs by insertion order", k(map[[2]string]int{{"a"}: 1, {"b"}: 2, {"c", "d"}: 3}), k(map[[2]string]int{{"c", "d"}: 3, {"b"}: 2, {"a"}: 1})},
		{"two pointers to equal values", k(&goldenDoc{ID: "x", Words: []string{"a"}}), k(&goldenDoc{ID: "x", Words: []string{"a"}})},
		{"one pointer shared or two", k([]*int{intPtr(1), intPtr(1)}), k(func() []*int { p := intPtr(1); return []*int{p, p} }())},
		{"integer widths", k(int8(7)), k(int64(7))},
		{"named and unnamed", k(celsius(21.5)), k(21.5)},
		{"negative zero", k(math.Copysign(0, -1)), k(0.0)},
		{"NaN payloads", k(math.NaN()), k(math.Float64frombits(0xfff0000000000001))},
		{"float32 widened", k(float32(0.5)), k(0.5)},
		{"nil and empty slice", k([]int(nil)), k([]int{})},
		{"nil and empty map", k(map[string]int(nil)), k(map[string]int{})},
		{"slice and array", k([]int{1, 2, 3}), k([3]int{1, 2, 3})},
		{"time zones", k(instant), k(instant.In(zone))},
		{"monotonic reading", k(now), k(now.Round(0))},
		{"time in an unexported field", k(withHidden{when: instant}), k(withHidden{when: instant.In(zone)})},
		{"unexported fields", k(withHidden{Name: "n", hidden: []float64{1}}), k(withHidden{Name: "n", hidden: []float64{1}})},
		{"interface in an unexported field", k(withHidden{inner: map[string]any{"t": instant}}), k(withHidden{inner: map[string]any{"t": instant.In(zone)}})},
		{"rings built apart", k(ring(1, 2, 3)), k(ring(1, 2, 3))},
		{"big.Int built differently", k(bigInt("1267650600228229401496703205376")), k(new(big.Int).Lsh(big.NewInt(1), 100))},
		{"big.Rat normalised", k(big.NewRat(2, 6)), k(big.NewRat(1, 3))},
		{"location used or not", k(func() *time.Location { l := time.FixedZone("Z", 3600); _ = time.Now().In(l).String(); return l }()), k(time.FixedZone("Z", 3600))},
		{"interface holding equal maps", k(any(manyKeys(ascending(50)))), k(any(manyKeys(descending(50))))},
		// Equal on purpose: locations that give every instant the same
		// name, offset and daylight-saving flag, however they were made.
		{"a zone named UTC with offset 0", k(time.UTC), k(time.FixedZone("UTC", 0))},
		{"a fixed zone from tz data", k(time.FixedZone("X", 3600)), k(tzLocation("X", tzif([]zoneType{{"X", 3600, false}}, nil, nil, "")))},
		{"a transition that changes nothing", k(tzLocation("X", tzif([]zoneType{{"X", 3600, false}}, nil, nil, ""))), k(tzLocation("X", tzif([]zoneType{{"X", 3600, false}, {"X", 3600, false}}, []int64{1e9}, []uint8{1}, "")))},
		{"transitions listed or made by the rule", k(euLocation(2000, euRule)), k(euLocation(2001, euRule))},
		{"a location and its copy", k(*time.FixedZone("X", 3600)), k(*time.FixedZone("X", 3600))},
		// Types defined as those whose keys come from their methods are
		// keyed as those: not by their fields, which hold words of the
		// platform's size, or the zone of the time a location was loaded.
		{"a type defined as big.Int", k(&money{}), k(new(big.Int))},
		{"a type defined as big.Int, of a large value", k((*money)(bigInt("1267650600228229401496703205376"))), k(bigInt("1267650600228229401496703205376"))},
		{"a type defined as big.Float", k((*ratio)(bigFloat(8, big.ToZero, 2.5))), k(bigFloat(8, big.ToZero, 2.5))},
		{"a type defined as time.Location", k(place(*euLocation(2000, euRule))), k(*euLocation(2000, euRule))},
		// Equal on purpose: a big.Float's accuracy tells how it was made,
		// not what it is; -0 is 0, as for float64.
		{"big.Float accuracy", k(bigFloat(8, big.ToNearestEven, 1.5)), k(bigFloat(8, big.ToNearestEven, 1.5000001))},
		{"big.Float negative zero", k(big.NewFloat(math.Copysign(0, -1))), k(big.NewFloat(0))},
		{"big.Float negative zero of another mode", k(bigFloat(20, big.AwayFromZero, math.Copysign(0, -1))), k(bigFloat(20, big.AwayFromZero, 0))},
		// Equal on purpose: reflect cannot tell apart types of one name
		// and one structure declared in different functions.
		{"local types of one name and one structure", k(localSameA()), k(localSameB())},
		{"generic types of local types of one name and one structure", k(localArgSameA()), k(localArgSameB())},
		// A limit, documented: a generic type of another package spells
		// its type arguments by name only.
		{"generic types of another package of local types of one name", k(localHandleInt8()), k(localHandleInt16())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.a(t), tc.b(t))
		})
	}
}

// TestEntryKeyDiffer checks that different values get different keys,
// including values that a careless encoding would run together.
func TestEntryKeyDiffer(t *testing.T) {
	instant := time.Date(2024, 2, 29, 12, 30, 0, 0, time.UTC)
	var nilDoc *goldenDoc
	for _, tc := range []struct {
		name string
		a, b keyer
	}{
		{"numbers", k(1), k(2)},
		{"signed and unsigned", k(1), k(uint(1))},
		{"int and float", k(1), k(1.0)},
		{"string and bytes", k("ab"), k([]byte("ab"))},
		{"string boundaries", k([]string{"ab", ""}), k([]string{"a", "b"})},
		{"nesting", k([][]int{{1}, {2}}), k([][]int{{1, 2}})},
		{"nil pointer and pointer to zero", k((*int)(nil)), k(intPtr(0))},
		{"nil interface and interface holding a nil pointer", k(any(nil)), k(any(nilDoc))},
		{"dynamic types", k(any(1)), k(any(int64(1)))},
		{"named dynamic types", k(any(celsius(1))), k(any(1.0))},
		{"interface and its content", k(any(1)), k(1)},
		{"field order", k(struct{ A, B int }{1, 2}), k(struct{ B, A int }{2, 1})},
		{"field names", k(struct{ A int }{1}), k(struct{ B int }{1})},
		{"map values", k(map[string]int{"a": 1}), k(map[string]int{"a": 2})},
		{"map keys", k(map[string]int{"a": 1}), k(map[string]int{"b": 1})},
		{"rings of different lengths", k(ring(7)), k(ring(7, 7))},
		{"ring and chain", k(ring(7)), k(&node{Value: 7, Next: &node{Value: 7}})},
		{"one nanosecond", k(instant), k(instant.Add(time.Nanosecond))},
		{"NaN and infinity", k(math.NaN()), k(math.Inf(1))},
		{"zero and NaN", k(0.0), k(math.NaN())},
		{"infinities", k(math.Inf(1)), k(math.Inf(-1))},
		{"complex parts", k(complex(1, 2)), k(complex(2, 1))},
		{"bools", k(true), k(false)},
		{"versions", k(1, cache.Version("2")), k(1)},
		{"versions of a constant key", k(1, cache.ConstKey("c"), cache.Version("2")), k(1, cache.ConstKey("c"))},
		{"big numbers", k(big.NewInt(1)), k(big.NewInt(-1))},
		{"locations", k(time.FixedZone("A", 0)), k(time.FixedZone("B", 0))},
		{"unnamed zones of time.Parse", k(parsedZone("+01:00")), k(parsedZone("+05:00"))},
		{"UTC and a zone named UTC", k(time.UTC), k(time.FixedZone("UTC", 3600))},
		{"locations held in structs", k(struct{ L *time.Location }{time.FixedZone("", 60)}), k(struct{ L *time.Location }{time.FixedZone("", 120)})},
		{"tz data of one name", k(tzLocation("X", tzif([]zoneType{{"X", 0, false}, {"Y", 3600, false}}, []int64{1e9}, []uint8{1}, ""))), k(tzLocation("X", tzif([]zoneType{{"X", 0, false}, {"Y", 3600, false}}, []int64{1e9 + 1}, []uint8{1}, "")))},
		{"daylight-saving flags", k(tzLocation("X", tzif([]zoneType{{"X", 3600, false}}, nil, nil, ""))), k(tzLocation("X", tzif([]zoneType{{"X", 3600, true}}, nil, nil, "")))},
		{"zone names within a location", k(tzLocation("X", tzif([]zoneType{{"A", 0, false}, {"B", 0, false}}, []int64{1e9}, []uint8{1}, ""))), k(tzLocation("X", tzif([]zoneType{{"A", 0, false}, {"C", 0, false}}, []int64{1e9}, []uint8{1}, "")))},
		{"rules after the last transition", k(euLocation(2000, euRule)), k(euLocation(2000, "CET-1CEST,M3.5.0,M10.4.0/3"))},
		{"big.Float precisions", k(bigFloat(8, big.ToNearestEven, 1.5)), k(bigFloat(200, big.ToNearestEven, 1.5))},
		{"big.Float rounding modes", k(bigFloat(53, big.ToNearestEven, 1.5)), k(bigFloat(53, big.ToZero, 1.5))},
		{"big.Float values in structs", k(struct{ F big.Float }{*bigFloat(8, big.ToNearestEven, 1)}), k(struct{ F big.Float }{*bigFloat(9, big.ToNearestEven, 1)})},
		{"local types of one name and other widths", k(localInt8()), k(localInt64())},
		{"local structs of one name and other field types", k(localFieldsInt8()), k(localFieldsInt16())},
		{"local slice and array of one name", k(localSlice()), k(localArray())},
		{"local types of one name whose nil pointers point to others", k(localNilInt()), k(localNilString())},
		{"local types of one name whose local field types differ", k(localInnerInt8()), k(localInnerInt16())},
		{"generic types of local types of one name", k(localArgInt8()), k(localArgInt16())},
		{"local types of one name in slices", k(any([]any{localInt8()})), k(any([]any{localInt64()}))},
		{"unit and empty string", k(struct{}{}), k("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Assert(t, tc.a(t) != tc.b(t), "both are %s", tc.a(t))
		})
	}
}

// TestEntryKeyFileNames checks the readable prefix and the length of the
// digest.
func TestEntryKeyFileNames(t *testing.T) {
	digest := `[0-9a-f]{32}`
	for _, tc := range []struct {
		name string
		key  keyer
		want string // a regular expression for the whole key
	}{
		{"short plain string", k("hello"), `f/hello-` + digest},
		{"named string type", k(goldenID("doc-1.txt")), `f/doc-1\.txt-` + digest},
		{"string in an interface", k(any("hello")), `f/hello-` + digest},
		{"string with a space", k("hello world"), `f/` + digest},
		{"string with a slash", k("a/b"), `f/` + digest},
		{"leading dot", k(".hidden"), `f/` + digest},
		{"empty string", k(""), `f/` + digest},
		{"40 characters", k(strings.Repeat("a", 40)), `f/a{40}-` + digest},
		{"41 characters", k(strings.Repeat("a", 41)), `f/` + digest},
		{"not a string", k(42), `f/` + digest},
		{"KeyFunc returning a plain string", k(goldenDoc{ID: "doc7"}, cache.KeyFunc(func(d goldenDoc) string { return d.ID })), `f/doc7-` + digest},
		{"ConstKey", k(3, cache.ConstKey("latest")), `f/latest-` + digest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.key(t)
			assert.Assert(t, regexp.MustCompile(`^`+tc.want+`$`).MatchString(got), "got %s, want %s", got, tc.want)
		})
	}
}

type goldenID string

type withFunc struct {
	Name     string
	Progress func(int)
}

// TestEntryKeyErrors checks that values that cannot be keyed are errors
// that say where they sit and what to do.
func TestEntryKeyErrors(t *testing.T) {
	var x int
	for _, tc := range []struct {
		name string
		key  func() (string, error)
		want string
	}{
		{
			name: "func in a field",
			key:  func() (string, error) { return cache.EntryKey("f", withFunc{Name: "a"}) },
			want: `cache: EntryKey "f": invalid key: cannot derive a key from the argument (cache_test.withFunc): the value at .Progress is a func(int), which has no value to derive a key from; choose the key with cache.KeyFunc or cache.ConstKey`,
		},
		{
			name: "channel in a map",
			key: func() (string, error) {
				return cache.EntryKey("f", map[string][]any{"jobs": {1, make(chan int)}})
			},
			want: `cache: EntryKey "f": invalid key: cannot derive a key from the argument (map[string][]interface {}): the value at [jobs][1] is a chan int, which has no value to derive a key from; choose the key with cache.KeyFunc or cache.ConstKey`,
		},
		{
			name: "unsafe pointer behind a pointer",
			key: func() (string, error) {
				return cache.EntryKey("f", &struct{ P unsafe.Pointer }{unsafe.Pointer(&x)})
			},
			want: `the value at .P is a unsafe.Pointer, which has no value`,
		},
		{
			name: "func as a map key's field",
			key: func() (string, error) {
				type key struct{ F *func() }
				f := func() {}
				return cache.EntryKey("f", map[key]int{{&f}: 1})
			},
			want: `the value at [key {`,
		},
		{
			name: "func from KeyFunc",
			key: func() (string, error) {
				return cache.EntryKey("f", 1, cache.KeyFunc(func(int) func() { return nil }))
			},
			want: `cache: EntryKey "f": invalid key: the result of KeyFunc: the value is a func(), which has no value to derive a key from`,
		},
		{
			name: "func as a constant key",
			key:  func() (string, error) { return cache.EntryKey("f", 1, cache.ConstKey(func() {})) },
			want: `cache: EntryKey "f": invalid key: ConstKey: the value is a func()`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := tc.key()
			assert.Assert(t, errors.Is(err, cache.ErrInvalidKey), "got key %q, error %v", key, err)
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// Types defined as types whose keys come from their methods.
type (
	money big.Int
	ratio big.Float
	place time.Location
)

// parsedZone returns the location that time.Parse gives a time with the
// offset zone, unnamed when no zone of time.Local has that offset.
func parsedZone(zone string) *time.Location {
	t, err := time.Parse(time.RFC3339, "2024-01-01T00:00:00"+zone)
	if err != nil {
		panic(err)
	}
	return t.Location()
}

// zoneType is a local time type of a TZif file: what a location says of
// the instants it applies to.
type zoneType struct {
	name   string
	offset int32
	dst    bool
}

// tzif returns a TZif file (RFC 8536, version 2, with an empty version 1
// block) for time.LoadLocationFromTZData: its local time types, the
// transitions at the Unix seconds of at to the types of the indexes of to,
// and the rule rule, in the syntax of the TZ variable, for the instants after
// the last transition ("" for none).
func tzif(types []zoneType, at []int64, to []uint8, rule string) []byte {
	var chars []byte
	index := map[string]int{}
	for _, z := range types {
		if _, ok := index[z.name]; !ok {
			index[z.name] = len(chars)
			chars = append(append(chars, z.name...), 0)
		}
	}
	header := func(b []byte, transitions, types, chars int) []byte {
		b = append(b, "TZif2"...)
		b = append(b, make([]byte, 15)...)
		for _, n := range []int{0, 0, 0, transitions, types, chars} {
			b = binary.BigEndian.AppendUint32(b, uint32(n))
		}
		return b
	}
	b := header(nil, 0, 0, 0)
	b = header(b, len(at), len(types), len(chars))
	for _, sec := range at {
		b = binary.BigEndian.AppendUint64(b, uint64(sec))
	}
	b = append(b, to...)
	for _, z := range types {
		b = binary.BigEndian.AppendUint32(b, uint32(z.offset))
		dst := byte(0)
		if z.dst {
			dst = 1
		}
		b = append(b, dst, byte(index[z.name]))
	}
	b = append(b, chars...)
	return append(b, "\n"+rule+"\n"...)
}

// tzLocation returns the location of the TZif file data.
func tzLocation(name string, data []byte) *time.Location {
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		panic(err)
	}
	return loc
}

// euRule is the European Union's daylight-saving rule for Central European
// Time.
const euRule = "CET-1CEST,M3.5.0,M10.5.0/3"

// euLocation returns a location of Central European Time whose transitions
// are listed up to the end of daylight-saving time of the year last, as
// rule (the European Union's) places them, and follow rule after that.
func euLocation(last int, rule string) *time.Location {
	types := []zoneType{{"CET", 3600, false}, {"CEST", 7200, true}}
	var at []int64
	var to []uint8
	for year := 1980; year <= last; year++ {
		// The last Sundays of March and October, at 01:00 UTC.
		for _, month := range []time.Month{time.March, time.October} {
			day := time.Date(year, month+1, 0, 1, 0, 0, 0, time.UTC)
			for day.Weekday() != time.Sunday {
				day = day.AddDate(0, 0, -1)
			}
			at = append(at, day.Unix())
			to = append(to, map[time.Month]uint8{time.March: 1, time.October: 0}[month])
		}
	}
	return tzLocation("Europe/Test", tzif(types, at, to, rule))
}

// bigFloat returns x at precision prec, rounded by mode.
func bigFloat(prec uint, mode big.RoundingMode, x float64) *big.Float {
	return new(big.Float).SetPrec(prec).SetMode(mode).SetFloat64(x)
}

// Types of one name declared in different functions: Go tells them apart,
// reflect names them alike.

func localInt8() any  { type local int8; return local(1) }
func localInt64() any { type local int64; return local(1) }

func localFieldsInt8() any  { type local struct{ N int8 }; return local{1} }
func localFieldsInt16() any { type local struct{ N int16 }; return local{1} }

func localSlice() any { type local []int; return local{1} }
func localArray() any { type local [1]int; return local{1} }

func localNilInt() any    { type local struct{ P *int }; return local{} }
func localNilString() any { type local struct{ P *string }; return local{} }

func localInnerInt8() any {
	type inner int8
	type local struct{ N inner }
	return local{1}
}

func localInnerInt16() any {
	type inner int16
	type local struct{ N inner }
	return local{1}
}

func localSameA() any { type local struct{ N int }; return local{1} }
func localSameB() any { type local struct{ N int }; return local{1} }

// box is a generic type, which reflect names with its type arguments.
type box[T any] struct{ V T }

func localArgInt8() any  { type local struct{ N int8 }; return box[local]{} }
func localArgInt16() any { type local struct{ N int16 }; return box[local]{} }

func localHandleInt8() any  { type local struct{ N int8 }; return unique.Make(local{1}) }
func localHandleInt16() any { type local struct{ N int16 }; return unique.Make(local{1}) }

func localArgSameA() any { type local struct{ N int }; return box[local]{} }
func localArgSameB() any { type local struct{ N int }; return box[local]{} }

var addArgKeys = flag.Bool("add-argkeys", false, "add the rows missing from testdata/argkeys.golden (existing rows are never changed)")

// goldenKeys are the values whose keys testdata/argkeys.golden records. Add
// rows at will; never change a row's value: the table exists to catch every
// change of key derivation, which would strand every stored entry.
func goldenKeys() []struct {
	name string
	key  keyer
} {
	instant := time.Date(2024, 2, 29, 12, 30, 0, 123456789, time.UTC)
	var nilDoc *goldenDoc
	type row = struct {
		name string
		key  keyer
	}
	return []row{
		{"int 0", k(0)},
		{"int -1", k(-1)},
		{"int 1", k(1)},
		{"int64 max", k(int64(math.MaxInt64))},
		{"int64 min", k(int64(math.MinInt64))},
		{"uint8 255", k(uint8(255))},
		{"uint64 max", k(uint64(math.MaxUint64))},
		{"uintptr 1", k(uintptr(1))},
		{"bool true", k(true)},
		{"bool false", k(false)},
		{"float64 0", k(0.0)},
		{"float64 -0", k(math.Copysign(0, -1))},
		{"float64 1.5", k(1.5)},
		{"float64 0.1", k(0.1)},
		{"float64 NaN", k(math.NaN())},
		{"float64 +Inf", k(math.Inf(1))},
		{"float64 -Inf", k(math.Inf(-1))},
		{"float32 0.1", k(float32(0.1))},
		{"complex128 1+2i", k(complex(1, 2))},
		{"string empty", k("")},
		{"string hello", k("hello")},
		{"string hello world", k("hello world")},
		{"string unicode", k("naïve café ✓")},
		{"string 100 bytes", k(strings.Repeat("0123456789", 10))},
		{"named string", k(goldenID("doc-1"))},
		{"[]byte abc", k([]byte("abc"))},
		{"[3]byte abc", k([3]byte{'a', 'b', 'c'})},
		{"[]int nil", k([]int(nil))},
		{"[]int 1 2 3", k([]int{1, 2, 3})},
		{"[]string a b", k([]string{"a", "b"})},
		{"[][]int", k([][]int{{1}, {2, 3}, nil})},
		{"map[string]int", k(map[string]int{"b": 2, "a": 1, "c": 3})},
		{"map[int]string", k(map[int]string{3: "c", -1: "a"})},
		{"map[float64]int with NaNs", k(map[float64]int{math.NaN(): 1, math.NaN(): 2, 0: 3})},
		{"map[any]any", k(map[any]any{1: "int", "1": "string", int64(1): nil})},
		{"struct", k(goldenDoc{ID: "doc", Words: []string{"a", "b"}})},
		{"struct with unexported fields", k(withHidden{Name: "n", hidden: []float64{0.5}, when: instant, inner: 1})},
		{"struct empty", k(struct{}{})},
		{"*int 5", k(intPtr(5))},
		{"*int 0", k(intPtr(0))},
		{"*int nil", k((*int)(nil))},
		{"**int", k(func() **int { p := intPtr(5); return &p }())},
		{"any nil", k(any(nil))},
		{"any int 1", k(any(1))},
		{"any int64 1", k(any(int64(1)))},
		{"any named float", k(any(celsius(21.5)))},
		{"any named struct", k(any(goldenDoc{ID: "doc"}))},
		{"any pointer to named struct", k(any(&goldenDoc{ID: "doc"}))},
		{"any nil pointer", k(any(nilDoc))},
		{"any []any", k(any([]any{1, "a", nil, 2.5}))},
		{"any map[string]any", k(any(map[string]any{"k": []int{1}}))},
		{"any unnamed struct", k(any(struct {
			A int
			b string
		}{1, "x"}))},
		{"ring of 1", k(ring(1))},
		{"ring of 3", k(ring(1, 2, 3))},
		{"slice holding itself", k(selfSlice())},
		{"map holding itself", k(selfMap())},
		{"time", k(instant)},
		{"time zero", k(time.Time{})},
		{"time before 1970", k(time.Date(1900, 1, 1, 0, 0, 0, 1, time.UTC))},
		{"*time.Location UTC", k(time.UTC)},
		{"*time.Location fixed", k(time.FixedZone("UTC+5", 5*3600))},
		{"*big.Int 2^100", k(new(big.Int).Lsh(big.NewInt(1), 100))},
		{"*big.Int -7", k(big.NewInt(-7))},
		{"*big.Rat 1/3", k(big.NewRat(1, 3))},
		{"*big.Float 1.5", k(big.NewFloat(1.5))},
		{"version v2 of int 1", k(1, cache.Version("v2"))},
		{"version v2 of string hello", k("hello", cache.Version("v2"))},
		{"ConstKey latest", k(99, cache.ConstKey("latest"))},
		{"ConstKey int 7", k(99, cache.ConstKey(7))},
		{"KeyFunc ID", k(goldenDoc{ID: "doc", Words: []string{"ignored"}}, cache.KeyFunc(func(d goldenDoc) string { return d.ID }))},
		{"SingleValue's empty key", k(struct{}{})},
		{"*time.Location unnamed +01:00", k(time.FixedZone("", 3600))},
		{"*time.Location unnamed +05:00", k(time.FixedZone("", 5*3600))},
		{"*time.Location named UTC at +01:00", k(time.FixedZone("UTC", 3600))},
		{"*time.Location with transitions and a rule", k(euLocation(2000, euRule))},
		{"time.Location", k(*time.FixedZone("UTC+5", 5*3600))},
		{"*big.Float 1.5 at precision 8", k(bigFloat(8, big.ToNearestEven, 1.5))},
		{"*big.Float 1.5 at precision 200", k(bigFloat(200, big.ToNearestEven, 1.5))},
		{"*big.Float 1.5 rounded to zero", k(bigFloat(53, big.ToZero, 1.5))},
		{"*big.Float -0", k(big.NewFloat(math.Copysign(0, -1)))},
		{"*big.Float -Inf", k(big.NewFloat(math.Inf(-1)))},
		{"any local type", k(localInt8())},
		{"any local struct of a local type", k(localInnerInt8())},
		{"any generic of a local type", k(localArgInt8())},
		{"any []named struct", k(any([]goldenDoc{{ID: "doc"}}))},
		{"any map of named types", k(any(map[goldenID]celsius{"a": 1}))},
		{"any named type of another package", k(any(time.Duration(5)))},
		{"any time", k(any(instant))},
		{"any *time.Location", k(any(time.UTC))},
		{"any *big.Int", k(any(big.NewInt(7)))},
		{"any node", k(any(ring(1, 2)))},
		{"*type defined as big.Int", k((*money)(big.NewInt(7)))},
		{"any type defined as big.Int", k(any(money(*big.NewInt(7))))},
	}
}

const goldenPath = "testdata/argkeys.golden"

// TestArgKeysGolden compares the key of every value of goldenKeys with the
// one recorded in testdata/argkeys.golden. Keys are a promise across
// processes, platforms and Go versions: a failure here means that a change
// would strand every stored entry. With -add-argkeys, rows missing from the
// file are added; a row that differs is never rewritten.
func TestArgKeysGolden(t *testing.T) {
	recorded := map[string]string{}
	var order []string
	if f, err := os.Open(goldenPath); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			name, key, ok := strings.Cut(line, "\t")
			assert.Assert(t, ok, "%s: a line without a tab: %q", goldenPath, line)
			recorded[name] = key
			order = append(order, name)
		}
		assert.NilError(t, sc.Err())
		f.Close()
	} else if !errors.Is(err, os.ErrNotExist) || !*addArgKeys {
		t.Fatal(err)
	}

	var missing []string
	seen := map[string]bool{}
	for _, row := range goldenKeys() {
		assert.Assert(t, !seen[row.name], "two rows named %q", row.name)
		seen[row.name] = true
		got := row.key(t)
		want, ok := recorded[row.name]
		switch {
		case !ok:
			missing = append(missing, row.name+"\t"+got)
		case got != want:
			t.Errorf("the key of %q changed:\n  recorded %s\n  now      %s\nkeys must never change: every entry stored under the old key would be lost", row.name, want, got)
		}
	}
	for _, name := range order {
		if !seen[name] {
			t.Errorf("%s records %q, which goldenKeys no longer has: rows must not be removed", goldenPath, name)
		}
	}
	if len(missing) == 0 {
		return
	}
	if !*addArgKeys {
		t.Fatalf("%s lacks %d rows; add them with: go test ./cache -run TestArgKeysGolden -add-argkeys\n%s", goldenPath, len(missing), strings.Join(missing, "\n"))
	}
	content := ""
	if len(order) == 0 {
		content = "# The keys of cache.EntryKey(\"f\", ...) for the values of goldenKeys in argkey_test.go,\n" +
			"# one per line: a name, a tab, the key. Rows are only ever added (go test -run TestArgKeysGolden\n" +
			"# -add-argkeys): a key that changes strands every entry stored under it.\n"
	}
	content += strings.Join(missing, "\n") + "\n"
	assert.NilError(t, os.MkdirAll(filepath.Dir(goldenPath), 0o755))
	f, err := os.OpenFile(goldenPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	assert.NilError(t, err)
	_, err = f.WriteString(content)
	assert.NilError(t, err)
	assert.NilError(t, f.Close())
	t.Logf("added %d rows to %s", len(missing), goldenPath)
}
