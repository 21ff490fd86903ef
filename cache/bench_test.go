package cache_test

// Benchmarks of the cache engine against the physical floor: run them with
//
//	go test -run '^$' -bench . -benchmem ./...
//
// Each reports ns/op for our path, floor-ns/op for the floor measured in the
// same run on the same bytes and the same Go type, and their ratio, x-floor,
// by the wall clock and (-cpu) by CPU time; a benchmark with several floors
// names each (see package internal/bench for how the calls are
// interleaved). docs/performance.md has the bars they are held to and the
// command that measures them. The large values (BenchmarkLarge) run only
// with PECAPIKU_BENCH_LARGE=1.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/bench"
)

// BenchmarkHit: Do returning a stored value; floor: os.ReadFile and the
// codec's decode into the same type. For the JSON codec there are three
// floors, measured in the same run: encoding/json (encoding-json), the
// Unmarshal of github.com/go-json-experiment/json with its default options
// (jsonv2), and the same with the options the codec passes it (jsonv2-codec):
// what the codec costs over the library it is built on.
// hitStore returns a store in a temporary directory, taken to ignore case
// with ignoreCase, that holds records of about size bytes under
// "BenchmarkHit/value", and the path of their file.
func hitStore(b *testing.B, codec cache.Codec, size int, ignoreCase bool) (*cache.Store, string) {
	b.Helper()
	store, err := cache.NewStore(b.TempDir(), cache.WithCodec(codec), cache.WithAccess(cache.ReadExecuteWrite))
	if err != nil {
		b.Fatal(err)
	}
	if ignoreCase {
		cache.AssumeIgnoresCase(store)
	}
	if err := store.Write("BenchmarkHit/value", bench.Records(size)); err != nil {
		b.Fatal(err)
	}
	path, _ := store.Path("BenchmarkHit/value")
	return store, path
}

func BenchmarkHit(b *testing.B) {
	for _, c := range bench.Codecs {
		for _, size := range bench.Sizes {
			b.Run(c.Codec.Name()+"/"+size.Name, func(b *testing.B) {
				store, path := hitStore(b, c.Codec, size.Bytes, false)
				fn := bench.MustNot[[]bench.Record](b)
				ours := func() {
					if _, err := cache.Do(store, "BenchmarkHit/value", fn); err != nil {
						b.Fatal(err)
					}
				}
				floor := func(decode func(data []byte, v any) error) func() {
					return func() { bench.ReadRecords(b, path, decode) }
				}
				if c.Codec != cache.JSON {
					bench.Pair(b, ours, floor(c.Decode))
					return
				}
				bench.Compare(b, ours,
					bench.Floor{Name: "encoding-json", Call: floor(json.Unmarshal)},
					bench.Floor{Name: "jsonv2", Call: floor(func(data []byte, v any) error { return jsonv2.Unmarshal(data, v) })},
					bench.Floor{Name: "jsonv2-codec", Call: floor(cache.UnmarshalJSONLibrary)})
			})
		}
	}
}

// BenchmarkMissWrite: Do with access rew on a missing entry: it reads
// nothing, executes a function that returns a ready value, encodes it, checks
// that it decodes to an equal value and writes it atomically, the file and
// the directory synced; floor: the codec's encoding, written to a new file
// with os.WriteFile's open, write and close plus a Sync. Each call is timed
// alone, and the files both wrote are removed outside the timing, so that
// every call writes a new file (a store leaves an entry that already holds
// the bytes as it is, which would measure no write at all). Both wait for the
// disk: judge it by the wall clock, x-floor.
func BenchmarkMissWrite(b *testing.B) {
	for _, c := range bench.Codecs {
		for _, size := range bench.Sizes {
			b.Run(c.Codec.Name()+"/"+size.Name, func(b *testing.B) {
				dir := b.TempDir()
				store, err := cache.NewStore(dir, cache.WithCodec(c.Codec), cache.WithAccess(cache.ReadExecuteWrite))
				if err != nil {
					b.Fatal(err)
				}
				value := bench.Records(size.Bytes)
				fn := func() ([]bench.Record, error) { return value, nil }
				const key = "BenchmarkMissWrite/value"
				// Another entry keeps the entry's directory, which Delete
				// would remove once empty: both write a file into a
				// directory that is there.
				if err := store.Write("BenchmarkMissWrite/kept", value); err != nil {
					b.Fatal(err)
				}
				path, _ := store.Path(key)
				floorPath := filepath.Join(filepath.Dir(path), "floor")
				ours := func() bench.Time {
					t0 := bench.Start()
					_, err := cache.Do(store, key, fn)
					d := bench.Since(t0)
					if err != nil {
						b.Fatal(err)
					}
					if err := store.Delete(key); err != nil {
						b.Fatal(err)
					}
					return d
				}
				floor := func() bench.Time {
					t0 := bench.Start()
					data, err := c.Encode(value)
					if err != nil {
						b.Fatal(err)
					}
					bench.WriteSync(b, floorPath, data)
					d := bench.Since(t0)
					if err := os.Remove(floorPath); err != nil {
						b.Fatal(err)
					}
					return d
				}
				bench.CompareTimed(b, ours, bench.TimedFloor{Name: "floor", Call: floor})
			})
		}
	}
}

// scaleSizes are the numbers of entries of BenchmarkScale's stores.
var scaleSizes = []int{10, 1000, 10000, 100000}

// BenchmarkScale: the cost of one call in a store of n entries, all in one
// directory as cache.Func puts them, against the same call in a store of 10
// entries, interleaved in the same run: x-10entries is the ratio. hit reads
// an entry; miss reads nothing, executes and writes a new entry (removed
// again outside the timing, so the store keeps its size); remove is
// Store.Remove of an entry, as pruning does, which also looks whether the
// directory became empty (the entry is made again outside the timing).
// Neither hit nor remove waits for the disk: judge them by CPU time,
// x-10entries-cpu; miss syncs, and is judged by the wall clock.
func BenchmarkScale(b *testing.B) {
	value := bench.Records(256)
	stores, entry := scaleStores(b, value, nil)
	fail := bench.MustNot[[]bench.Record](b)
	compute := func() ([]bench.Record, error) { return value, nil }
	hit := func(n int) func() bench.Time {
		r := rand.New(rand.NewPCG(2, uint64(n)))
		return func() bench.Time {
			key := scaleKey(r.IntN(n))
			t0 := bench.Start()
			_, err := cache.Do(stores[n], key, fail)
			d := bench.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			return d
		}
	}
	miss := func(n int) func() bench.Time {
		i := 0
		return func() bench.Time {
			i++
			key := "entries/new-" + strconv.Itoa(i)
			t0 := bench.Start()
			_, err := cache.Do(stores[n], key, compute)
			d := bench.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if err := stores[n].Delete(key); err != nil {
				b.Fatal(err)
			}
			return d
		}
	}
	remove := func(n int) func() bench.Time {
		r := rand.New(rand.NewPCG(3, uint64(n)))
		return func() bench.Time {
			i := r.IntN(n)
			path, _ := stores[n].Path(scaleKey(i))
			t0 := bench.Start()
			err := stores[n].Remove(path)
			d := bench.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if err := os.Link(entry(i), path); err != nil {
				b.Fatal(err)
			}
			return d
		}
	}
	for _, op := range []struct {
		name string
		call func(n int) func() bench.Time
	}{{"hit", hit}, {"miss", miss}, {"remove", remove}} {
		for _, n := range scaleSizes {
			b.Run(fmt.Sprintf("%s/entries=%d", op.name, n), func(b *testing.B) {
				bench.CompareTimed(b, op.call(n), bench.TimedFloor{Name: "10entries", Call: op.call(10)})
			})
		}
	}
}

func scaleKey(i int) string { return fmt.Sprintf("entries/k%06d", i) }

// scaleStores returns a store of n entries holding value for each n of
// scaleSizes, all in one directory as cache.Func puts them, each made by
// prepare (if not nil) before it is filled, and entry(i), the file that
// entry i of any of them is a link to.
//
// Every entry is a hard link to a file holding the bytes store.Write
// writes: filling 100 000 entries through the atomic write would take
// minutes, and even creating and later removing 100 000 files of their own
// takes minutes on a busy disk, where links take seconds. A link is an
// entry like any other to a lookup, a read and a removal. A file has at
// most 65 000 links on ext4: entry(i) is one of a few files.
func scaleStores(b *testing.B, value []bench.Record, prepare func(*cache.Store)) (stores map[int]*cache.Store, entry func(i int) string) {
	data, err := cache.JSON.Marshal(value)
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	const linksPerFile = 50000
	for i := 0; i <= slices.Max(scaleSizes)/linksPerFile; i++ {
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("entry-%d.json", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	entry = func(i int) string { return filepath.Join(root, fmt.Sprintf("entry-%d.json", i/linksPerFile)) }
	stores = map[int]*cache.Store{}
	for _, n := range scaleSizes {
		// Named .pecapiku, a store that pecapiku owns without a marker,
		// so that Remove may remove its entries.
		store, err := cache.NewStore(filepath.Join(root, strconv.Itoa(n), cache.ReservedStoreName), cache.WithAccess(cache.ReadExecuteWrite))
		if err != nil {
			b.Fatal(err)
		}
		if prepare != nil {
			prepare(store)
		}
		first, _ := store.Path(scaleKey(0))
		if err := os.MkdirAll(filepath.Dir(first), 0o755); err != nil {
			b.Fatal(err)
		}
		for i := 0; i < n; i++ {
			path, _ := store.Path(scaleKey(i))
			if err := os.Link(entry(i), path); err != nil {
				b.Fatal(err)
			}
		}
		stores[n] = store
	}
	return stores, entry
}

// BenchmarkParallel: hits from b.RunParallel's goroutines on one key, and on
// a key of each goroutine; floor: os.ReadFile and json.Unmarshal of the same
// file, from the same goroutines.
func BenchmarkParallel(b *testing.B) {
	for _, distinct := range []bool{false, true} {
		name := "one-key"
		if distinct {
			name = "distinct-keys"
		}
		b.Run(name, func(b *testing.B) {
			store, err := cache.NewStore(b.TempDir(), cache.WithAccess(cache.ReadExecuteWrite))
			if err != nil {
				b.Fatal(err)
			}
			value := bench.Records(1 << 10)
			const keys = 64
			for i := 0; i < keys; i++ {
				if err := store.Write(scaleKey(i), value); err != nil {
					b.Fatal(err)
				}
			}
			keyOf := func(g int) string {
				if distinct {
					return scaleKey(g % keys)
				}
				return scaleKey(0)
			}
			fn := bench.MustNot[[]bench.Record](b)
			bench.Parallel(b, func(g int) {
				if _, err := cache.Do(store, keyOf(g), fn); err != nil {
					b.Error(err)
				}
			}, func(g int) {
				path, _ := store.Path(keyOf(g))
				data, err := os.ReadFile(path)
				if err != nil {
					b.Error(err)
				}
				var v []bench.Record
				if err := json.Unmarshal(data, &v); err != nil {
					b.Error(err)
				}
			})
		})
	}
}

// EnvBenchLarge enables BenchmarkLarge, which needs about 1.5 GB of memory
// and a minute. Set to "ours", it makes BenchmarkLarge read each value with
// Do only, b.N times, reporting nothing else: for measuring the peak RSS of
// a process that does just that, with /usr/bin/time -v.
const EnvBenchLarge = "PECAPIKU_BENCH_LARGE"

// BenchmarkLarge: a hit on a 256 MB []byte under the raw codec and on a
// 64 MB JSON value; floor: os.ReadFile (and json.Unmarshal). Besides the
// times it reports, for one call of each, the heap allocated over the size
// of the file (heap/value, with the collector off: the peak the call adds)
// and the peak resident set size of the process during the call (peak-RSS-MB,
// from /proc/self/status after resetting it). Run it with
//
//	PECAPIKU_BENCH_LARGE=1 go test -run '^$' -bench Large -benchtime 3x ./cache
//
// and the peak RSS of a process that only reads the raw value with
//
//	go test -c -o cache.test ./cache
//	PECAPIKU_BENCH_LARGE=ours /usr/bin/time -v ./cache.test -test.run '^$' -test.bench Large/raw -test.benchtime 3x
func BenchmarkLarge(b *testing.B) {
	if os.Getenv(EnvBenchLarge) != "ours" && !bench.Enabled(b, EnvBenchLarge) {
		return
	}
	b.Run("raw=256MB", func(b *testing.B) {
		const size = 256 << 20
		store, err := cache.NewStore(b.TempDir(), cache.WithCodec(cache.Raw), cache.WithAccess(cache.ReadOnly))
		if err != nil {
			b.Fatal(err)
		}
		path, _ := store.Path("large")
		// Written in pieces, so that the process never held the value and
		// its peak RSS is the read's.
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		r := rand.NewChaCha8([32]byte{5})
		chunk := make([]byte, 1<<20)
		for i := 0; i < size/len(chunk); i++ {
			r.Read(chunk)
			if _, err := f.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		fn := bench.MustNot[[]byte](b)
		ours := func() {
			v, err := cache.Do(store, "large", fn)
			if err != nil || len(v) != size {
				b.Fatal(len(v), err)
			}
		}
		floor := func() {
			v, err := os.ReadFile(path)
			if err != nil || len(v) != size {
				b.Fatal(len(v), err)
			}
		}
		largeReport(b, size, ours, floor)
	})
	b.Run("json=64MB", func(b *testing.B) {
		store, err := cache.NewStore(b.TempDir(), cache.WithAccess(cache.ReadOnly))
		if err != nil {
			b.Fatal(err)
		}
		path, _ := store.Path("large")
		data, err := cache.JSON.Marshal(bench.Records(64 << 20))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		size := len(data)
		data = nil
		fn := bench.MustNot[[]bench.Record](b)
		ours := func() {
			if _, err := cache.Do(store, "large", fn); err != nil {
				b.Fatal(err)
			}
		}
		floor := func() {
			data, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			var v []bench.Record
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
		largeReport(b, size, ours, floor)
	})
}

// largeReport reports the heap and peak RSS of one call of ours and of
// floor, then their times.
func largeReport(b *testing.B, size int, ours, floor func()) {
	if os.Getenv(EnvBenchLarge) == "ours" {
		for i := 0; i < b.N; i++ {
			ours()
			runtime.GC()
		}
		return
	}
	mb := float64(size) / (1 << 20)
	rssOurs, rssFloor := bench.PeakRSS(ours), bench.PeakRSS(floor)
	heapOurs, heapFloor := bench.HeapOf(ours), bench.HeapOf(floor)
	bench.Pair(b, ours, floor)
	b.ReportMetric(float64(heapOurs)/float64(size), "heap/value")
	b.ReportMetric(float64(heapFloor)/float64(size), "floor-heap/value")
	b.ReportMetric(float64(rssOurs)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(rssFloor)/(1<<20), "floor-peak-RSS-MB")
	b.ReportMetric(mb, "value-MB")
}
