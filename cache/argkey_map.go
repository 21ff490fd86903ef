package cache

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"sync"
)

// This file writes maps: each entry is encoded on its own, key then value,
// one after the other in a scratch buffer, and the entries are then written
// in the byte order of their keys' encodings (then of their values', for
// keys that encode alike, such as two NaNs), so that the order in which the
// map was filled never matters.

// mapEntry is an entry of a map being encoded: the encoding of its key is
// buf[start:mid] of the scratch buffer, that of its value buf[mid:end].
type mapEntry struct{ start, mid, end int }

// sortKey is what sortEntries sorts: 16 bytes of the encoding of the key of
// entry i, from the first byte in which the keys of the map differ, as two
// big-endian numbers, zero past the key's end.
type sortKey struct {
	hi, lo uint64
	i      int
}

// mapScratch is the memory mapEntries works in: the encodings of the
// entries, where they are, and their sortKeys. It is kept in mapScratches
// from one map to the next: for a map of 10 000 entries it is about 700 KB,
// which, allocated afresh on every key, kept the garbage collector busy
// for a good part of the key's time.
type mapScratch struct {
	buf     []byte
	entries []mapEntry
	keys    []sortKey
}

var mapScratches = sync.Pool{New: func() any { return new(mapScratch) }}

// A scratch of more entries or bytes than these is left to the garbage
// collector rather than kept for another map.
const (
	maxPooledEntries = 1 << 17
	maxPooledBytes   = 4 << 20
)

// mapEntries writes a non-empty map: its length, then its entries in the
// byte order of their encodings (see the top of this file).
func (e *encoder) mapEntries(v reflect.Value) error {
	s := mapScratches.Get().(*mapScratch)
	defer func() {
		if cap(s.entries) <= maxPooledEntries && cap(s.buf) <= maxPooledBytes {
			mapScratches.Put(s)
		}
	}()
	// Room for entries of a few bytes each, as most are, grown at once
	// rather than by append: a scratch may be new, when the garbage
	// collector has emptied the pool.
	out, buf := e.out, e.buf
	e.out, e.buf = nil, slices.Grow(s.buf[:0], 24*v.Len())
	entries, err := e.encodeEntries(v, slices.Grow(s.entries[:0], v.Len()))
	all := e.buf
	s.buf, s.entries = all, entries
	e.out, e.buf = out, buf
	if err != nil {
		return err
	}
	s.keys = sortEntries(all, entries, s.keys)
	e.tag(tagMap)
	e.uvarint(uint64(len(entries)))
	for _, k := range s.keys {
		en := entries[k.i]
		e.buf = append(e.buf, all[en.start:en.end]...)
		e.flush()
	}
	return nil
}

// encodeEntries appends to entries the entries of v, each encoded by value
// into e.buf.
func (e *encoder) encodeEntries(v reflect.Value, entries []mapEntry) ([]mapEntry, error) {
	iter := v.MapRange()
	// The key and value are copied into one variable each, reused, where
	// the map can be read (not reached through an unexported field):
	// iter.Key and iter.Value would allocate a copy of each.
	reuse := v.CanInterface()
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

// sortEntries returns the sortKeys of the entries, in keys' memory, in the
// order of compareEntries.
// Comparing two entries' bytes is most of the cost of a large map's key,
// and the keys of a map often begin alike (a string's tag and length, a
// common prefix), so each entry first gets a sortKey: two entries whose
// numbers differ are in the order of their numbers (a key that ends within
// the 16 bytes is padded with zeros, and so ties with, never passes, the
// longer keys it begins), and only those alike are compared by their bytes.
// The sortKeys are sorted rather than the entries, being what the
// comparisons read.
func sortEntries(all []byte, entries []mapEntry, keys []sortKey) []sortKey {
	keys = slices.Grow(keys[:0], len(entries))[:len(entries)]
	if len(entries) == 0 {
		return keys
	}
	first := all[entries[0].start:entries[0].mid]
	shared := len(first)
	for _, en := range entries[1:] {
		key := all[en.start:en.mid]
		n := min(shared, len(key))
		i := 0
		for i < n && key[i] == first[i] {
			i++
		}
		shared = i
	}
	for i, en := range entries {
		var b [16]byte
		copy(b[:], all[en.start+shared:en.mid])
		keys[i] = sortKey{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]), i}
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.hi != b.hi {
			return cmp.Compare(a.hi, b.hi)
		}
		if a.lo != b.lo {
			return cmp.Compare(a.lo, b.lo)
		}
		return compareEntries(all, entries[a.i], entries[b.i])
	})
	return keys
}

// compareEntries orders two entries by the bytes of their keys, then of
// their values.
func compareEntries(all []byte, a, b mapEntry) int {
	if c := bytes.Compare(all[a.start:a.mid], all[b.start:b.mid]); c != 0 {
		return c
	}
	return bytes.Compare(all[a.mid:a.end], all[b.mid:b.end])
}
