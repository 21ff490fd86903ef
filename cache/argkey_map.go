package cache

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sync"
	"unsafe"
)

// This file writes maps: each entry is encoded on its own, key then value,
// one after the other in a scratch buffer, and the entries are then written
// in the byte order of their keys' encodings (then of their values', for
// keys that encode alike, such as two NaNs), so that the order in which the
// map was filled never matters. The order is the one bytes.Compare gives;
// sortEntries finds it with a radix sort on the first 16 bytes of each key,
// which for the map of 10 000 strings of BenchmarkKey is about five times
// faster than slices.SortFunc with bytes.Compare.

// mapEntry is an entry of a map being encoded: the encoding of its key is
// buf[start:mid] of the scratch buffer, that of its value buf[mid:end].
type mapEntry struct{ start, mid, end int }

// sortKey is what sortEntries sorts: 16 bytes of the encoding of the key of
// entry i from some depth on, big-endian, zero past the key's end.
type sortKey struct {
	hi, lo uint64
	i      int
}

// mapScratch is the memory mapEntries works in, kept in mapScratches from
// one map to the next: fresh, the memory for a map of 10 000 entries is a
// megabyte that the kernel has to hand the process page by page on every
// key. It has a pool of its own: taken from buffers, the scratch of a map
// and the buffer of the encoder hashing it swapped places from one key to
// the next, so that the map got the small buffer and grew it anew every
// time (most of the 17% of the profile of such a key spent in memmove).
type mapScratch struct {
	buf       []byte
	entries   []mapEntry
	keys, tmp []sortKey
	counts    radixCounts
}

var mapScratches sync.Pool // of *mapScratch

// maxPooledEntries is the largest number of entries whose scratch is kept.
const maxPooledEntries = 1 << 17

func getMapScratch() *mapScratch {
	if s, ok := mapScratches.Get().(*mapScratch); ok {
		return s
	}
	return &mapScratch{}
}

func putMapScratch(s *mapScratch) {
	if cap(s.buf) <= maxPooled && cap(s.entries) <= maxPooledEntries {
		mapScratches.Put(s)
	}
}

// sortSlack is how many bytes the scratch buffer has past its last entry,
// so that 16 bytes of a key from any of its bytes, and 32 bytes of an entry
// from its start, can be read at once.
const sortSlack = 32

// mapEntries writes a non-empty map: its length, then its entries in the
// byte order of their encodings (see the top of this file).
func (e *encoder) mapEntries(v reflect.Value) error {
	s := getMapScratch()
	defer putMapScratch(s)
	out, buf := e.out, e.buf
	e.out, e.buf = nil, slices.Grow(s.buf[:0], 24*v.Len()+sortSlack)
	entries := slices.Grow(s.entries[:0], v.Len())
	var err error
	if !fastPaths || !e.scalarMap(v, &entries) {
		entries, err = e.reflectMap(v, entries)
	}
	all := append(e.buf, make([]byte, sortSlack)...)
	s.buf, s.entries = all, entries
	e.out, e.buf = out, buf
	if err != nil {
		return err
	}
	e.tag(tagMap)
	e.uvarint(uint64(len(entries)))
	if !fastPaths || uint64(len(entries)) > math.MaxUint32 {
		// The plain sort, which the tests compare sortEntries with, and
		// which takes the maps too large for the counts of radixSort.
		slices.SortFunc(entries, func(a, b mapEntry) int { return compareEntries(all, a, b) })
		for _, en := range entries {
			e.buf = append(e.buf, all[en.start:en.end]...)
			e.flush()
		}
		return nil
	}
	s.keys, s.tmp = slices.Grow(s.keys[:0], len(entries))[:len(entries)], slices.Grow(s.tmp[:0], len(entries))[:len(entries)]
	sortEntries(all, entries, s.keys, s.tmp, &s.counts)
	e.gather(all, entries, s.keys)
	return nil
}

// gather writes the entries in the order of keys. Most entries are short,
// and append, for each, checks the capacity and calls memmove with a length
// it does not know; an entry of up to 32 bytes is copied as 32 bytes
// instead (see copy32), the bytes past its end to be overwritten by the
// next. For the 10 000 entries of BenchmarkKey's map, that halves the time
// of writing them (~0.23 ms to ~0.11 ms), which is mostly that of reading
// them from all in an order unrelated to their places.
func (e *encoder) gather(all []byte, entries []mapEntry, keys []sortKey) {
	for _, k := range keys {
		en := entries[k.i]
		n := en.end - en.start
		if n > 32 || cap(e.buf)-len(e.buf) < 32 {
			e.buf = append(e.buf, all[en.start:en.end]...)
			e.flush()
			continue
		}
		// all has sortSlack >= 32 bytes past the last entry.
		at := len(e.buf)
		copy32((*[32]byte)(e.buf[at:at+32]), (*[32]byte)(all[en.start:en.start+32]))
		e.buf = e.buf[:at+n]
	}
	e.flush()
}

// copy32 copies src to dst 8 bytes at a time, in registers: an assignment
// of the arrays compiles to a call of memmove.
func copy32(dst, src *[32]byte) {
	binary.LittleEndian.PutUint64(dst[0:], binary.LittleEndian.Uint64(src[0:]))
	binary.LittleEndian.PutUint64(dst[8:], binary.LittleEndian.Uint64(src[8:]))
	binary.LittleEndian.PutUint64(dst[16:], binary.LittleEndian.Uint64(src[16:]))
	binary.LittleEndian.PutUint64(dst[24:], binary.LittleEndian.Uint64(src[24:]))
}

// reflectMap appends to entries the entries of v, a map of any type, each
// encoded by value.
func (e *encoder) reflectMap(v reflect.Value, entries []mapEntry) ([]mapEntry, error) {
	iter := v.MapRange()
	// The key and value are copied into one variable each, reused, where
	// the map can be read (not reached through an unexported field):
	// iter.Key and iter.Value would allocate a copy of each.
	reuse := fastPaths && v.CanInterface()
	var key, value reflect.Value
	if reuse {
		key, value = reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
	}
	for iter.Next() {
		if reuse {
			key.SetIterKey(iter)
			value.SetIterValue(iter)
		} else {
			key, value = iter.Key(), iter.Value()
		}
		start := len(e.buf)
		if err := e.value(key); err != nil {
			return entries, within(err, fmt.Sprintf("[key %v]", printable(key)))
		}
		mid := len(e.buf)
		if err := e.value(value); err != nil {
			return entries, within(err, fmt.Sprintf("[%v]", printable(key)))
		}
		entries = append(entries, mapEntry{start, mid, len(e.buf)})
	}
	return entries, nil
}

// compareEntries orders two entries by the bytes of their keys, then of
// their values.
func compareEntries(all []byte, a, b mapEntry) int {
	if c := bytes.Compare(all[a.start:a.mid], all[b.start:b.mid]); c != 0 {
		return c
	}
	return bytes.Compare(all[a.mid:a.end], all[b.mid:b.end])
}

// scalarMap appends to entries the entries of v when its keys are strings
// and its values booleans, numbers or strings (of any names: map[ID]Score
// as well as map[string]int64), ranging over the map directly rather than
// through a reflect.MapIter and encoding each key and value as value would,
// without a reflect.Value apiece. It reports false, having done nothing,
// for other maps.
func (e *encoder) scalarMap(v reflect.Value, entries *[]mapEntry) bool {
	if v.Type().Key().Kind() != reflect.String {
		return false
	}
	// A map value is a pointer to the runtime's map; viewed as a map of the
	// unnamed types with the same underlying types, it has the same layout,
	// which is all that ranging over it uses.
	p := v.UnsafePointer()
	m := unsafe.Pointer(&p)
	switch v.Type().Elem().Kind() {
	case reflect.Bool:
		stringMap(e, *(*map[string]bool)(m), entries, appendBool)
	case reflect.Int:
		stringMap(e, *(*map[string]int)(m), entries, appendInt[int])
	case reflect.Int8:
		stringMap(e, *(*map[string]int8)(m), entries, appendInt[int8])
	case reflect.Int16:
		stringMap(e, *(*map[string]int16)(m), entries, appendInt[int16])
	case reflect.Int32:
		stringMap(e, *(*map[string]int32)(m), entries, appendInt[int32])
	case reflect.Int64:
		stringMap(e, *(*map[string]int64)(m), entries, appendInt[int64])
	case reflect.Uint:
		stringMap(e, *(*map[string]uint)(m), entries, appendUint[uint])
	case reflect.Uint8:
		stringMap(e, *(*map[string]uint8)(m), entries, appendUint[uint8])
	case reflect.Uint16:
		stringMap(e, *(*map[string]uint16)(m), entries, appendUint[uint16])
	case reflect.Uint32:
		stringMap(e, *(*map[string]uint32)(m), entries, appendUint[uint32])
	case reflect.Uint64:
		stringMap(e, *(*map[string]uint64)(m), entries, appendUint[uint64])
	case reflect.Uintptr:
		stringMap(e, *(*map[string]uintptr)(m), entries, appendUint[uintptr])
	case reflect.Float32:
		stringMap(e, *(*map[string]float32)(m), entries, appendFloatOf[float32])
	case reflect.Float64:
		stringMap(e, *(*map[string]float64)(m), entries, appendFloatOf[float64])
	case reflect.String:
		stringMap(e, *(*map[string]string)(m), entries, appendString)
	default:
		return false
	}
	return true
}

// stringMap appends the entries of m to entries, each key encoded as value
// encodes a string and each value by put.
func stringMap[V any](e *encoder, m map[string]V, entries *[]mapEntry, put func([]byte, V) []byte) {
	b, ens := e.buf, *entries
	for k, x := range m {
		start := len(b)
		b = appendString(b, k)
		mid := len(b)
		b = put(b, x)
		ens = append(ens, mapEntry{start, mid, len(b)})
	}
	e.buf, *entries = b, ens
}

// The encodings of scalars, as value writes them, for stringMap.

func appendBool(b []byte, x bool) []byte {
	if x {
		return append(b, tagBool, 1)
	}
	return append(b, tagBool, 0)
}

func appendInt[T int | int8 | int16 | int32 | int64](b []byte, x T) []byte {
	return binary.AppendVarint(append(b, tagInt), int64(x))
}

func appendUint[T uint | uint8 | uint16 | uint32 | uint64 | uintptr](b []byte, x T) []byte {
	return binary.AppendUvarint(append(b, tagUint), uint64(x))
}

func appendFloatOf[T float32 | float64](b []byte, x T) []byte {
	return appendFloat(append(b, tagFloat), float64(x))
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(append(b, tagString), uint64(len(s)))
	return append(b, s...)
}

// sortEntries sets keys to the entries in the order of compareEntries,
// each naming its entry by index. all holds the encodings of the entries
// and at least 16 bytes past them; tmp has the length of keys, for the sort to
// work in.
//
// It sorts on the first 16 bytes of each key's encoding, read as two
// big-endian numbers (zero past the key's end): a radix sort by byte, most
// significant first, which skips the bytes that all keys share, such as the
// tag of a string and a common prefix. Keys whose 16 bytes are alike are
// then sorted among themselves on their next 16 bytes in the same way
// (sortTies), and compareEntries decides between the rest.
func sortEntries(all []byte, entries []mapEntry, keys, tmp []sortKey, counts *radixCounts) {
	for i, en := range entries {
		hi, lo := prefix16(all, en, 0)
		keys[i] = sortKey{hi, lo, i}
	}
	radixSort(keys, tmp, false, 0, boundsOf(keys), counts)
	sortTies(all, entries, keys, tmp, 16, counts)
}

// prefix16 returns the bytes depth to depth+16 of the encoding of the key of
// en, as two big-endian numbers, zero past the key's end.
func prefix16(all []byte, en mapEntry, depth int) (hi, lo uint64) {
	rest := en.mid - en.start - depth // bytes of the key from depth on
	if rest <= 0 {
		return 0, 0
	}
	p := en.start + depth
	hi = binary.BigEndian.Uint64(all[p:])
	lo = binary.BigEndian.Uint64(all[p+8:])
	if rest < 16 {
		if rest <= 8 {
			hi &^= ^uint64(0) >> (8 * rest) // shifting by 64 gives 0
			lo = 0
		} else {
			lo &^= ^uint64(0) >> (8 * (rest - 8))
		}
	}
	return hi, lo
}

// sortTies sorts, among themselves, each run of keys (sorted on the bytes
// before depth) whose 16 bytes before depth are alike.
func sortTies(all []byte, entries []mapEntry, keys, tmp []sortKey, depth int, counts *radixCounts) {
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j].hi == keys[i].hi && keys[j].lo == keys[i].lo {
			j++
		}
		if j-i > 1 {
			sortRun(all, entries, keys[i:j], tmp[i:j], depth, counts)
		}
		i = j
	}
}

// minRadixRun is the least number of keys alike in their first bytes that
// sortRun sorts on their next 16 bytes; fewer are sorted by compareEntries.
const minRadixRun = 32

// sortRun sorts keys whose encodings agree before depth (though some may
// end there, or earlier, with zero bytes after them alike).
func sortRun(all []byte, entries []mapEntry, keys, tmp []sortKey, depth int, counts *radixCounts) {
	longer := len(keys) >= minRadixRun
	for _, k := range keys {
		// A key that ends before depth ties with a longer one padded with
		// zeros; compareEntries knows them apart.
		if en := entries[k.i]; en.mid-en.start <= depth {
			longer = false
			break
		}
	}
	if !longer {
		slices.SortFunc(keys, func(a, b sortKey) int { return compareEntries(all, entries[a.i], entries[b.i]) })
		return
	}
	for j := range keys {
		keys[j].hi, keys[j].lo = prefix16(all, entries[keys[j].i], depth)
	}
	radixSort(keys, tmp, false, 0, boundsOf(keys), counts)
	sortTies(all, entries, keys, tmp, depth+16, counts)
}

// minRadix is the least number of keys radixSort distributes by a byte;
// it sorts fewer by insertion.
const minRadix = 32

// radixCounts is the memory radixSort counts bytes in: one table for each
// of the 16 bytes, as the sort of a group of keys by one byte finishes
// the sorts of its groups by the next bytes before it goes on.
type radixCounts [16][256]uint32

// radixSort sorts the keys of data by (hi, lo), which agree before byte d
// (0 to 15, hi's most significant byte first). The result goes to other
// when toOther is true, else stays in data; other has the length of data.
// Each level distributes the keys by byte d into other, and sorts each
// group from there into data, so no level copies its keys back.
//
// Most of the groups are small, so the work of a group is kept in
// proportion to its size rather than to the 256 values of a byte: the
// values of byte d of every key lie between those of the bitwise AND and
// the OR of all the keys, b, to which the counting is limited, and the bytes
// in which those agree are skipped without a pass.
func radixSort(data, other []sortKey, toOther bool, d int, b *radixBounds, counts *radixCounts) {
	for {
		if len(data) < minRadix || d == 16 { // d == 16: all alike
			insertionSort(data)
			if toOther {
				copy(other, data)
			}
			return
		}
		low, high := int(byteOf(b.andHi, b.andLo, d)), int(byteOf(b.orHi, b.orLo, d))
		if low == high {
			d++
			continue
		}
		count := counts[d][low : high+1]
		clear(count)
		shift := uint(56-8*d) & 63
		if d < 8 {
			for _, k := range data {
				count[int(byte(k.hi>>shift))-low]++
			}
		} else {
			for _, k := range data {
				count[int(byte(k.lo>>shift))-low]++
			}
		}
		if count[int(byteOf(data[0].hi, data[0].lo, d))-low] == uint32(len(data)) {
			d++ // all alike in this byte
			continue
		}
		// Turn the counts into where each group begins in other, and move
		// the keys there; each count then ends its group.
		sum := uint32(0)
		for i, n := range count {
			count[i] = sum
			sum += n
		}
		if d < 8 {
			for _, k := range data {
				i := int(byte(k.hi>>shift)) - low
				other[count[i]] = k
				count[i]++
			}
		} else {
			for _, k := range data {
				i := int(byte(k.lo>>shift)) - low
				other[count[i]] = k
				count[i]++
			}
		}
		start := 0
		for _, end := range count {
			switch n := int(end) - start; {
			case n == 1:
				if !toOther {
					data[start] = other[start]
				}
			case n > 1:
				radixSort(other[start:end], data[start:end], !toOther, d+1, b, counts)
			}
			start = int(end)
		}
		return
	}
}

// radixBounds are the bitwise AND and OR of the keys of a radix sort.
type radixBounds struct{ andHi, andLo, orHi, orLo uint64 }

// boundsOf returns the radixBounds of keys.
func boundsOf(keys []sortKey) *radixBounds {
	b := &radixBounds{^uint64(0), ^uint64(0), 0, 0}
	for _, k := range keys {
		b.andHi &= k.hi
		b.andLo &= k.lo
		b.orHi |= k.hi
		b.orLo |= k.lo
	}
	return b
}

// byteOf returns byte d of hi and lo, hi's most significant first.
func byteOf(hi, lo uint64, d int) byte {
	if d < 8 {
		return byte(hi >> ((56 - 8*d) & 63))
	}
	return byte(lo >> ((120 - 8*d) & 63))
}

// insertionSort sorts a few keys by (hi, lo).
func insertionSort(keys []sortKey) {
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		j := i
		for ; j > 0 && (keys[j-1].hi > k.hi || keys[j-1].hi == k.hi && keys[j-1].lo > k.lo); j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = k
	}
}
