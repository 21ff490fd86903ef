package cache_test

import (
	"fmt"
	"testing"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/bench"
)

// BenchmarkHitIgnoringCase: BenchmarkHit on a store whose filesystem is
// taken to ignore case, as the disks of macOS and Windows do, so that each
// hit also checks the exact case of each name of the entry's path against
// the listings of its directories (listed once); floor: os.ReadFile and the
// codec's decode into the same type.
func BenchmarkHitIgnoringCase(b *testing.B) {
	for _, c := range bench.Codecs[:1] {
		for _, size := range bench.Sizes {
			b.Run(c.Codec.Name()+"/"+size.Name, func(b *testing.B) {
				store, path := hitStore(b, c.Codec, size.Bytes, true)
				fn := bench.MustNot[[]bench.Record](b)
				bench.Pair(b, func() {
					if _, err := cache.Do(store, "BenchmarkHit/value", fn); err != nil {
						b.Fatal(err)
					}
				}, func() { bench.ReadRecords(b, path, c.Decode) })
			})
		}
	}
}

// BenchmarkScaleIgnoringCase: BenchmarkScale's hits on stores whose
// filesystem is taken to ignore case, where each hit looks up the names of
// its path in the listings of their directories: a hit in a directory of
// n entries against one in a directory of 10, x-10entries.
func BenchmarkScaleIgnoringCase(b *testing.B) {
	stores, _ := scaleStores(b, bench.Records(256), cache.AssumeIgnoresCase)
	fail := bench.MustNot[[]bench.Record](b)
	for n, store := range stores {
		// The one listing of each directory in the process, made by
		// the first hit, is not what is measured.
		if _, err := cache.Do(store, scaleKey(n-1), fail); err != nil {
			b.Fatal(err)
		}
	}
	hit := func(n int) func() bench.Time {
		i := 0
		return func() bench.Time {
			i = (i + 7919) % n
			key := scaleKey(i)
			t0 := bench.Start()
			_, err := cache.Do(stores[n], key, fail)
			d := bench.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			return d
		}
	}
	for _, n := range scaleSizes {
		b.Run(fmt.Sprintf("hit/entries=%d", n), func(b *testing.B) {
			bench.CompareTimed(b, hit(n), bench.TimedFloor{Name: "10entries", Call: hit(10)})
		})
	}
}
