package cache_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/mitchellh/hashstructure/v2"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/bench"
)

// BenchmarkKey: deriving the key of an argument, as cache.Func does on every
// call, against two others measured in the same run on the same value (see
// bench.Compare):
//
//   - SHA-256 of the argument's canonical encoding, made beforehand: the
//     floor, what hashing alone costs (x-sha256);
//   - github.com/mitchellh/hashstructure/v2, the usual way to hash a Go
//     value by its contents (a 64-bit FNV hash, not a content address, but
//     the same walk of the value) (x-hashstructure).
//
// Below 1 is faster than theirs. Run it with
//
//	go test -run '^$' -bench Key -count 5 ./cache
//
// hashstructure is a dependency of this benchmark only: no file of the
// library imports it.
func BenchmarkKey(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	ints := make([]int64, (1<<20)/8)
	for i := range ints {
		ints[i] = r.Int64()
	}
	words := make(map[string]int64, 10000)
	for len(words) < 10000 {
		words["word-"+strconv.Itoa(r.IntN(1<<30))] = r.Int64N(1 << 20)
	}
	b.Run("int64s=1MB", func(b *testing.B) { benchmarkKey(b, ints) })
	b.Run("map=10000", func(b *testing.B) { benchmarkKey(b, words) })
}

func benchmarkKey[A any](b *testing.B, arg A) {
	encoded, err := cache.Canonical(arg)
	if err != nil {
		b.Fatal(err)
	}
	bench.Compare(b, func() {
		if key, err := cache.EntryKey("f", arg); err != nil || key == "" {
			b.Fatal(key, err)
		}
	}, bench.Floor{Name: "sha256", Call: func() { sha256.Sum256(encoded) }},
		bench.Floor{Name: "hashstructure", Call: func() {
			if _, err := hashstructure.Hash(arg, hashstructure.FormatV2, nil); err != nil {
				b.Fatal(err)
			}
		}})
}
