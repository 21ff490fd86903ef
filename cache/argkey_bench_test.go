package cache_test

import (
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/mitchellh/hashstructure/v2"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/bench"
)

// BenchmarkKey: deriving the key of an argument, as cache.Func does on every
// call, against two others measured in the same run on the same value:
//
//   - SHA-256 of the argument's canonical encoding, made beforehand: the
//     floor, what hashing alone costs;
//   - github.com/mitchellh/hashstructure/v2, the usual way to hash a Go
//     value by its contents (a 64-bit FNV hash, not a content address, but
//     the same walk of the value).
//
// Each iteration calls the three in turn, in an order that rotates, and the
// medians are reported: ns/op (ours), sha256-ns/op and hashstructure-ns/op
// by the wall clock, the same with -cpu in their names by the CPU time of
// the process where Linux tells it, and the ratios x-sha256 and
// x-hashstructure (ours over theirs; below 1 is faster than theirs). Run it
// with
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
	calls := [3]func(){
		func() {
			if key, err := cache.EntryKey("f", arg); err != nil || key == "" {
				b.Fatal(key, err)
			}
		},
		func() { sha256.Sum256(encoded) },
		func() {
			if _, err := hashstructure.Hash(arg, hashstructure.FormatV2, nil); err != nil {
				b.Fatal(err)
			}
		},
	}
	var times [3][]bench.Time
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range calls {
			k := (i + j) % len(calls)
			t0 := bench.Start()
			calls[k]()
			times[k] = append(times[k], bench.Since(t0))
		}
	}
	b.StopTimer()
	wall := func(t bench.Time) time.Duration { return t.Wall }
	cpu := func(t bench.Time) time.Duration { return t.CPU }
	for _, clock := range []struct {
		suffix string
		of     func(bench.Time) time.Duration
	}{{"", wall}, {"-cpu", cpu}} {
		ours, sha, hs := medianOf(times[0], clock.of), medianOf(times[1], clock.of), medianOf(times[2], clock.of)
		if sha == 0 {
			continue // no CPU time on this platform
		}
		unit := "ns/op"
		if clock.suffix != "" {
			unit = "cpu-ns/op"
		}
		b.ReportMetric(float64(ours.Nanoseconds()), unit)
		b.ReportMetric(float64(sha.Nanoseconds()), "sha256"+clock.suffix+"-ns/op")
		b.ReportMetric(float64(hs.Nanoseconds()), "hashstructure"+clock.suffix+"-ns/op")
		b.ReportMetric(float64(ours)/float64(sha), "x-sha256"+clock.suffix)
		b.ReportMetric(float64(ours)/float64(hs), "x-hashstructure"+clock.suffix)
	}
}

// medianOf returns the median of the durations of ts by clock.
func medianOf(ts []bench.Time, clock func(bench.Time) time.Duration) time.Duration {
	d := make([]time.Duration, len(ts))
	for i, t := range ts {
		d[i] = clock(t)
	}
	slices.Sort(d)
	if len(d) == 0 {
		return 0
	}
	return (d[(len(d)-1)/2] + d[len(d)/2]) / 2
}
