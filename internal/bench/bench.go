// Package bench holds what the benchmarks of pecapiku's packages share: a
// value whose encoding has a chosen size, and the timing of one of our paths
// against its floor (the least any implementation must do) in the same run.
// Only _test.go files import it.
//
// # Ratios
//
// [Pair] calls our path and the floor alternately, b.N times each, and
// times every call twice: by the wall clock and by the CPU time of the
// process (all its threads, user and kernel, the garbage collector's
// included; Linux only). It reports the medians of each: ns/op and
// floor-ns/op, cpu-ns/op and floor-cpu-ns/op, and the ratios ours/floor,
// x-floor by the wall clock and x-floor-cpu by CPU time. Alternating (ours
// then floor on even iterations, floor then ours on odd ones) puts both under
// the same caches and garbage collector, and medians leave out the calls
// that another process stretched. On a machine whose cores are shared with
// other work, a call of milliseconds is preempted more often than a call of
// microseconds, which biases wall-clock ratios of unequal calls; CPU time is
// what the process itself spent, whatever else runs, and is the fair figure
// for calls that do not wait (a read from the page cache is kernel CPU
// time). A call that waits for the disk (a Sync) must be judged by the wall
// clock. B/op and allocs/op, when -benchmem asks for them, are those of all
// the calls together.
//
// [Compare] does the same with several floors in one run (ours against
// encoding/json and against another decoder, say), rotating the order of the
// calls from one iteration to the next, and reports each floor's times and
// ratios under its own name: x-name and x-name-cpu.
//
// Run the benchmarks with -count 5 or more and compare the medians of the
// runs with benchstat: one run's ratio moves with what else the machine does.
package bench

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Record is the element of the values the benchmarks store: the mix of
// fields a fixture typically holds.
type Record struct {
	ID     int64
	Name   string
	Score  float64
	Tags   []string
	Active bool
}

// Records returns records whose indented JSON (as the json codec writes it)
// is about size bytes, the same records for the same size.
func Records(size int) []Record {
	r := rand.New(rand.NewPCG(1, uint64(size)))
	words := []string{"alpha", "beta", "gamma", "delta", "epsilon", "zeta"}
	one := func(i int) Record {
		tags := make([]string, 1+r.IntN(3))
		for j := range tags {
			tags[j] = words[r.IntN(len(words))]
		}
		return Record{ID: int64(i), Name: "record-" + strconv.Itoa(i), Score: r.Float64() * 1000, Tags: tags, Active: r.IntN(2) == 0}
	}
	sample := make([]Record, 64)
	for i := range sample {
		sample[i] = one(i)
	}
	data, _ := json.MarshalIndent(sample, "", "  ")
	n := max(1, size*len(sample)/len(data))
	recs := make([]Record, n)
	for i := range recs {
		recs[i] = one(i)
	}
	return recs
}

// Sizes are the value sizes of the hit and write benchmarks.
var Sizes = []struct {
	Name  string
	Bytes int
}{{"1KB", 1 << 10}, {"64KB", 64 << 10}, {"1MB", 1 << 20}}

// Pair times ours and floor alternately; see the package documentation.
// It is [Compare] with one floor, named "floor".
func Pair(b *testing.B, ours, floor func()) {
	b.Helper()
	Compare(b, ours, Floor{"floor", floor})
}

// A Floor is a path that ours is compared with, and the name its metrics
// are reported under: name-ns/op and name-cpu-ns/op for its median times,
// x-name and x-name-cpu for the ratios ours/name.
type Floor struct {
	Name string
	Call func()
}

// Compare is [Pair] with several floors: each iteration calls ours and every
// floor once, in an order that rotates from one iteration to the next (ours
// first, then the first floor first, and so on), so that none of them always
// runs right after another one's garbage or in its warm caches. It reports
// ns/op and cpu-ns/op for ours and, for each floor, the metrics that
// [Floor] lists.
func Compare(b *testing.B, ours func(), floors ...Floor) {
	b.Helper()
	timedFloors := make([]TimedFloor, len(floors))
	for i, f := range floors {
		timedFloors[i] = TimedFloor{f.Name, timed(f.Call)}
	}
	CompareTimed(b, timed(ours), timedFloors...)
}

// A TimedFloor is a [Floor] whose call times itself.
type TimedFloor struct {
	Name string
	Call func() Time
}

// A Time is how long a call took.
type Time struct {
	Wall, CPU time.Duration
}

func now() Time {
	cpu, _ := cpuTime()
	return Time{time.Duration(time.Now().UnixNano()), cpu}
}

// Since returns the time since t, taken with [Start].
func Since(t Time) Time {
	n := now()
	return Time{n.Wall - t.Wall, n.CPU - t.CPU}
}

// Start returns the clocks to pass to [Since].
func Start() Time { return now() }

func timed(f func()) func() Time {
	return func() Time {
		t0 := Start()
		f()
		return Since(t0)
	}
}

// CompareTimed is [Compare] for calls that time themselves with [Start] and
// [Since], leaving out what they do before or after the part measured.
func CompareTimed(b *testing.B, ours func() Time, floors ...TimedFloor) {
	b.Helper()
	calls := []func() Time{ours}
	for _, f := range floors {
		calls = append(calls, f.Call)
	}
	times := make([][]Time, len(calls))
	for k := range times {
		times[k] = make([]Time, b.N)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range calls {
			k := (i + j) % len(calls)
			times[k][i] = calls[k]()
		}
	}
	b.StopTimer()
	report(b, times[0], floors, times[1:])
}

// report reports the median times of the calls of ours and of each floor,
// and the ratios; tFloors[i] are the times of floors[i].
func report(b *testing.B, tOurs []Time, floors []TimedFloor, tFloors [][]Time) {
	wall := func(t Time) time.Duration { return t.Wall }
	cpu := func(t Time) time.Duration { return t.CPU }
	o, oCPU := median(tOurs, wall), median(tOurs, cpu)
	b.ReportMetric(float64(o.Nanoseconds()), "ns/op")
	if oCPU > 0 {
		b.ReportMetric(float64(oCPU.Nanoseconds()), "cpu-ns/op")
	}
	for i, f := range floors {
		fWall, fCPU := median(tFloors[i], wall), median(tFloors[i], cpu)
		b.ReportMetric(float64(fWall.Nanoseconds()), f.Name+"-ns/op")
		if fWall > 0 {
			b.ReportMetric(float64(o)/float64(fWall), "x-"+f.Name)
		}
		if fCPU > 0 { // zero where the platform has no CPU time
			b.ReportMetric(float64(fCPU.Nanoseconds()), f.Name+"-cpu-ns/op")
			b.ReportMetric(float64(oCPU)/float64(fCPU), "x-"+f.Name+"-cpu")
		}
	}
}

// median returns the median of the durations of ts by the clock of.
func median(ts []Time, of func(Time) time.Duration) time.Duration {
	if len(ts) == 0 {
		return 0
	}
	d := make([]time.Duration, len(ts))
	for i, t := range ts {
		d[i] = of(t)
	}
	slices.Sort(d)
	return (d[(len(d)-1)/2] + d[len(d)/2]) / 2
}

// Parallel is [Pair] under b.RunParallel: each goroutine calls ours and
// floor alternately. ours and floor get the index of the goroutine, from 0.
func Parallel(b *testing.B, ours, floor func(g int)) {
	b.Helper()
	var mu sync.Mutex
	var tOurs, tFloor []Time
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(next.Add(1) - 1)
		var o, f []Time
		for i := 0; pb.Next(); i++ {
			t0 := time.Now()
			if i%2 == 0 {
				ours(g)
				t1 := time.Now()
				floor(g)
				o, f = append(o, Time{Wall: t1.Sub(t0)}), append(f, Time{Wall: time.Since(t1)})
			} else {
				floor(g)
				t1 := time.Now()
				ours(g)
				f, o = append(f, Time{Wall: t1.Sub(t0)}), append(o, Time{Wall: time.Since(t1)})
			}
		}
		mu.Lock()
		tOurs, tFloor = append(tOurs, o...), append(tFloor, f...)
		mu.Unlock()
	})
	b.StopTimer()
	// Per call as each goroutine saw it, by the wall clock only: the CPU
	// time of the process is shared by the goroutines.
	report(b, tOurs, []TimedFloor{{Name: "floor"}}, [][]Time{tFloor})
}

// HeapOf returns the bytes allocated on the heap while f runs, with the
// garbage collector off: an upper bound of how much f adds to the heap at its
// peak (exact when f keeps what it allocates, as a read does).
func HeapOf(f func()) uint64 {
	old := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(old)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	f()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}

// PeakRSS returns the peak resident set size of the process while f runs, in
// bytes, by resetting the kernel's high-water mark (Linux's
// /proc/self/clear_refs) and reading it back (VmHWM in /proc/self/status). It
// returns 0 where that is not possible. The heap the process had freed
// before f is returned to the system first, so that it does not count.
func PeakRSS(f func()) uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		f()
		return 0
	}
	f()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// Enabled reports whether the environment variable env is set to a true
// value, for the benchmarks too large or too slow to run by default; when
// not, it skips b with the command that runs them.
func Enabled(b *testing.B, env string) bool {
	b.Helper()
	if on, _ := strconv.ParseBool(os.Getenv(env)); on {
		return true
	}
	b.Skipf("skipped by default (memory, time); run with %s=1", env)
	return false
}
