package cache

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"reflect"
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
