package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// sameBytes checks that the encoding of the value that value returns is the
// same with the fast paths (see fastPaths) as without.
func sameBytes(t *testing.T, value func() reflect.Value) {
	t.Helper()
	fast, err := canonical(value(), "")
	assert.NilError(t, err)
	fastPaths = false
	defer func() { fastPaths = true }()
	slow, err := canonical(value(), "")
	assert.NilError(t, err)
	if !bytes.Equal(fast, slow) {
		at := 0
		for at < min(len(fast), len(slow)) && fast[at] == slow[at] {
			at++
		}
		t.Fatalf("the fast paths write %d bytes, the general walk %d; they differ from byte %d:\n%q\n%q",
			len(fast), len(slow), at, fast[at:min(len(fast), at+64)], slow[at:min(len(slow), at+64)])
	}
}

// randomNumber returns a number of a random bit length, 0 to 64 bits, so
// that every length of varint turns up, next to each other in any order.
func randomNumber(r *rand.Rand) uint64 {
	return r.Uint64() >> r.IntN(65)
}

// TestFastSlicesRandom checks the varints of slices of every integer type
// against binary.AppendVarint and AppendUvarint, by way of the general walk,
// for numbers of random lengths in random order.
func TestFastSlicesRandom(t *testing.T) {
	type named int64
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, chunkLen - 1, chunkLen + 3, 3*chunkLen + 1} {
		int64s, uint64s := make([]int64, n), make([]uint64, n)
		ints, uints, int32s, uint16s, nameds := make([]int, n), make([]uint, n), make([]int32, n), make([]uint16, n), make([]named, n)
		for i := range n {
			u := randomNumber(r)
			int64s[i], uint64s[i] = int64(u), u
			ints[i], uints[i], int32s[i], uint16s[i], nameds[i] = int(u), uint(u), int32(u), uint16(u), named(u)
		}
		sameBytes(t, valueOf(int64s))
		sameBytes(t, valueOf(uint64s))
		sameBytes(t, valueOf(ints))
		sameBytes(t, valueOf(uints))
		sameBytes(t, valueOf(int32s))
		sameBytes(t, valueOf(uint16s))
		sameBytes(t, valueOf(nameds))
	}
}

// TestVarintsAgainstBinary checks varints directly against encoding/binary
// at the boundaries of every varint length, where the fast path for numbers
// of 57 bits or more meets the lookup of the others.
func TestVarintsAgainstBinary(t *testing.T) {
	var signed []int64
	for _, u := range varintEdges() {
		signed = append(signed, int64(u), -int64(u))
	}
	e := newEncoder(nil)
	ints(e, signed)
	var want []byte
	for _, x := range signed {
		want = binary.AppendVarint(append(want, tagInt), x)
	}
	assert.DeepEqual(t, e.buf, want)

	e = newEncoder(nil)
	uints(e, varintEdges())
	want = nil
	for _, u := range varintEdges() {
		want = binary.AppendUvarint(append(want, tagUint), u)
	}
	assert.DeepEqual(t, e.buf, want)
}

// randomKey returns a string of the alphabet from a few shared prefixes,
// some longer than the 16 bytes the radix sort looks at first and some
// ending exactly there, with zero bytes, and of lengths around 127 and 128,
// where the length prefix of the encoding grows from one byte to two.
func randomKey(r *rand.Rand) string {
	prefixes := []string{
		"",
		"a",
		"word-",
		strings.Repeat("p", 14),           // with the tag and the length: 16 bytes
		strings.Repeat("q", 15),           // 17
		"github.com/pecapiku/pecapiku/",   // longer than 16
		strings.Repeat("long-prefix/", 6), // longer than 32
		strings.Repeat("x", 125),          // around the two-byte length
		"\x00\x00",
	}
	alphabet := "\x00\x01az\xff"
	var b strings.Builder
	b.WriteString(prefixes[r.IntN(len(prefixes))])
	for n := r.IntN(6); n > 0; n-- {
		b.WriteByte(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// TestFastMapsRandom checks that maps of many sizes and types encode alike
// by the fast paths and by the general walk: scalarMap for string keys and
// scalar values of every kind, named or not, and sortEntries for all maps,
// on keys that share prefixes longer than 16 and 32 bytes, end within them,
// differ only in trailing zero bytes, or encode alike (NaNs, pointers to
// equal values), in numbers above and below the sizes where sortEntries
// changes method.
func TestFastMapsRandom(t *testing.T) {
	type ID string
	type Score int64
	type holder struct {
		m map[ID]Score // unexported: reached without Interface
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 5, minRadix - 1, minRadix, minRadix + 1, 100, 1000, 5000} {
		strs := map[string]int64{}
		named := map[ID]Score{}
		kinds := struct {
			bools    map[string]bool
			ints     map[string]int
			int8s    map[string]int8
			int16s   map[string]int16
			int32s   map[string]int32
			uints    map[string]uint
			uint8s   map[string]uint8
			uint16s  map[string]uint16
			uint32s  map[string]uint32
			uint64s  map[string]uint64
			uintptrs map[string]uintptr
			float32s map[string]float32
			float64s map[string]float64
			strings  map[string]string
			anys     map[string]any
		}{map[string]bool{}, map[string]int{}, map[string]int8{}, map[string]int16{}, map[string]int32{},
			map[string]uint{}, map[string]uint8{}, map[string]uint16{}, map[string]uint32{}, map[string]uint64{},
			map[string]uintptr{}, map[string]float32{}, map[string]float64{}, map[string]string{}, map[string]any{}}
		ints := map[int64]string{}
		floats := map[float64]int{}
		pointers := map[*int]int{}
		arrays := map[[2]string]bool{}
		mixed := map[any]any{}
		for len(strs) < n {
			k := randomKey(r)
			u := randomNumber(r)
			strs[k] = int64(u)
			named[ID(k)] = Score(u)
			kinds.bools[k] = u%2 == 1
			kinds.ints[k] = int(u)
			kinds.int8s[k] = int8(u)
			kinds.int16s[k] = int16(u)
			kinds.int32s[k] = int32(u)
			kinds.uints[k] = uint(u)
			kinds.uint8s[k] = uint8(u)
			kinds.uint16s[k] = uint16(u)
			kinds.uint32s[k] = uint32(u)
			kinds.uint64s[k] = u
			kinds.uintptrs[k] = uintptr(u)
			kinds.float32s[k] = float32(math.Float64frombits(u))
			kinds.float64s[k] = math.Float64frombits(u)
			kinds.strings[k] = randomKey(r)
			kinds.anys[k] = []any{u, k}[u%2]
			ints[int64(u)-int64(r.Uint64()>>1)] = k
			floats[[]float64{math.NaN(), float64(u), -float64(u)}[r.IntN(3)]] = int(u) // NaNs never collide
			p := int(u % 7)                                                            // pointers to equal ints
			pointers[&p] = int(u)
			arrays[[2]string{randomKey(r), k}] = u%3 == 0
			mixed[[]any{k, int64(u), math.NaN(), ID(k)}[r.IntN(4)]] = u
		}
		for name, value := range map[string]func() reflect.Value{
			"strings":      valueOf(strs),
			"named":        valueOf(named),
			"unexported":   valueOf(holder{named}),
			"kinds":        valueOf(kinds),
			"int keys":     valueOf(ints),
			"float keys":   valueOf(floats),
			"pointer keys": valueOf(pointers),
			"array keys":   valueOf(arrays),
			"any keys":     valueOf(mixed),
			"map of maps":  valueOf(map[string]map[ID]Score{"a": named, "b": named, "": {}}),
		} {
			t.Run(name, func(t *testing.T) { sameBytes(t, value) })
		}
	}
}

// TestSortEntriesOrders sorts keys built to meet every branch of
// sortEntries (keys alike in 16 and 32 bytes, in runs longer and shorter
// than minRadixRun, keys that end where the prefixes end or within them,
// keys alike but for their values) and checks the order against
// compareEntries.
func TestSortEntriesOrders(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, shared := range []int{0, 1, 8, 15, 16, 17, 31, 32, 33, 40} {
		for _, n := range []int{2, minRadixRun - 1, minRadixRun, 3 * minRadixRun, 1000} {
			var keys [][2]string
			prefix := strings.Repeat("k", shared)
			for range n {
				key := []byte(prefix)
				for m := r.IntN(4); m > 0; m-- {
					key = append(key, "\x00\x01\xfe"[r.IntN(3)])
				}
				keys = append(keys, [2]string{string(key), string(rune('0' + r.IntN(3)))})
			}
			checkSortEntries(t, keys)
		}
	}
	// Keys alike but for one, which differs in one byte from all the others
	// (which a radix sort must not skip as shared: the byte is 1 in the
	// others, 0 or 2 in the odd one) and then in the opposite direction,
	// first in the map or later.
	for _, at := range []int{0, 1, 7, 8, 9, 15, 16, 20} {
		for _, oddByte := range []byte{0, 2} {
			for _, first := range []bool{true, false} {
				var keys [][2]string
				for i := range 2 * minRadix {
					key := make([]byte, at+2)
					key[at], key[at+1] = 1, byte(1+i)
					keys = append(keys, [2]string{string(key), ""})
				}
				odd := make([]byte, at+2)
				odd[at], odd[at+1] = oddByte, 255 // first, though last on the next byte
				if oddByte > 1 {
					odd[at+1] = 0 // last, though first on the next byte
				}
				if first {
					keys = append([][2]string{{string(odd), ""}}, keys...)
				} else {
					keys = append(keys, [2]string{string(odd), ""})
				}
				checkSortEntries(t, keys)
			}
		}
	}
}

// checkSortEntries checks that sortEntries orders the entries of the given
// keys and values (as if encoded) as compareEntries does.
func checkSortEntries(t *testing.T, kvs [][2]string) {
	t.Helper()
	var all []byte
	var entries []mapEntry
	for _, kv := range kvs {
		start := len(all)
		all = append(all, kv[0]...)
		mid := len(all)
		all = append(all, kv[1]...)
		entries = append(entries, mapEntry{start, mid, len(all)})
	}
	all = append(all, make([]byte, sortSlack)...)
	n := len(entries)
	keys, tmp := make([]sortKey, n), make([]sortKey, n)
	var counts radixCounts
	sortEntries(all, entries, keys, tmp, &counts)
	seen := make([]bool, n)
	got := make([]mapEntry, n)
	for i, k := range keys {
		assert.Assert(t, !seen[k.i], "entry %d sorted twice", k.i)
		seen[k.i] = true
		got[i] = entries[k.i]
	}
	want := slices.Clone(entries)
	slices.SortFunc(want, func(a, b mapEntry) int { return compareEntries(all, a, b) })
	for i := range want {
		if compareEntries(all, want[i], got[i]) != 0 {
			t.Fatalf("%d keys: at %d, %q (%q) where %q (%q) belongs", n, i,
				all[got[i].start:got[i].mid], all[got[i].mid:got[i].end],
				all[want[i].start:want[i].mid], all[want[i].mid:want[i].end])
		}
	}
}

// TestDigestOfLargeValues checks that keyDigest, which hands its buffer to
// SHA-256 whenever it fills, hashes the bytes that canonical returns by the
// general walk, for values whose encodings span many fills: the fast paths
// write in chunks and gather writes entries without append.
func TestDigestOfLargeValues(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	words := map[string]int64{}
	long := map[string]string{}
	for len(words) < 20000 {
		k := randomKey(r)
		words[k] = int64(randomNumber(r))
		long[k] = strings.Repeat("v", r.IntN(40))
	}
	numbers := make([]int64, 100000)
	for i := range numbers {
		numbers[i] = int64(randomNumber(r))
	}
	for name, value := range map[string]func() reflect.Value{
		"map":             valueOf(words),
		"map, long items": valueOf(long),
		"int64s":          valueOf(numbers),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := keyDigest(value(), "v")
			assert.NilError(t, err)
			fastPaths = false
			defer func() { fastPaths = true }()
			enc, err := canonical(value(), "v")
			assert.NilError(t, err)
			assert.Assert(t, len(enc) > 4<<16, "the encoding (%d bytes) spans few buffers", len(enc))
			assert.Equal(t, got, sha256.Sum256(enc))
		})
	}
}
