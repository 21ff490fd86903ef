package pecatest_test

// Benchmarks of Memo against the physical floor; see cache/bench_test.go and
// package internal/bench for how ours and the floor are timed in one run.
//
//	go test -run '^$' -bench . -benchmem ./pecatest
//
// BenchmarkEndToEnd runs go test on a generated package of 1 000 fixtures
// and runs only with PECAPIKU_BENCH_E2E=1.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/golden"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/bench"
	"github.com/pecapiku/pecapiku/pecatest"
)

// benchT is the T that Memo and Golden get in the benchmarks, and the floors
// too. Its Helper is testing's; its Logf formats the message, as testing's
// does, and drops it, since a benchmark's log is printed whatever -v says.
// What testing adds to a log line (the caller's line, the lock, the output
// buffer) is measured end to end by BenchmarkEndToEnd. Its Cleanup runs the
// function at once: a benchmark calls Memo for one name b.N times, and each
// call stands for a test of its own, cleanup included, so each gets a new
// benchT.
type benchT struct {
	b    *testing.B
	name string
}

func (t *benchT) Name() string                    { return t.name }
func (t *benchT) Logf(format string, args ...any) { _ = fmt.Sprintf(format, args...) }
func (t *benchT) Errorf(format string, args ...any) {
	t.b.Errorf(format, args...)
}
func (t *benchT) Fatalf(format string, args ...any) { t.b.Fatalf(format, args...) }
func (t *benchT) Helper()                           { t.b.Helper() }
func (t *benchT) Cleanup(f func())                  { f() }
func (t *benchT) Log(args ...any)                   { _ = fmt.Sprint(args...) }
func (t *benchT) FailNow()                          { t.b.FailNow() }
func (t *benchT) Fail()                             { t.b.Fail() }

// BenchmarkMemoHit: Memo returning a recorded value; floor: os.ReadFile and
// the codec's decode into the same type.
func BenchmarkMemoHit(b *testing.B) {
	for _, c := range bench.Codecs {
		for _, size := range bench.Sizes {
			b.Run(c.Codec.Name()+"/"+size.Name, func(b *testing.B) {
				dir := filepath.Join(b.TempDir(), pecatest.DefaultDir)
				opts := []pecatest.Option{pecatest.WithDir(dir), pecatest.WithCodec(c.Codec), pecatest.WithAccess(cache.ReadExecuteWrite)}
				value := bench.Records(size.Bytes)
				pecatest.Memo(&benchT{b, "TestReport"}, "value", func() ([]bench.Record, error) { return value, nil }, opts...)
				store, err := cache.NewStore(dir, cache.WithCodec(c.Codec))
				if err != nil {
					b.Fatal(err)
				}
				path, _ := store.Path("TestReport/value")
				fn := bench.MustNot[[]bench.Record](b)
				bench.Pair(b, func() {
					pecatest.Memo(&benchT{b, "TestReport"}, "value", fn, opts...)
				}, func() { bench.ReadRecords(b, path, c.Decode) })
			})
		}
	}
}

// BenchmarkGolden: Golden of 1 KB of text, recorded as it is (the raw
// codec), for two entries in turn, as a test suite asks for one entry after
// another. match compares the text with its recording, which holds the same
// text; floor: gotest.tools' golden.Assert of the same text against the
// same file. rerecord records it again with access ew, and the recording
// already holds it, so nothing is written; floor: os.ReadFile of the
// recording. Neither waits for the disk: judge them by CPU time,
// x-floor-cpu.
func BenchmarkGolden(b *testing.B) {
	text := goldenText(1 << 10)
	names := []string{"report", "summary"}
	setup := func(b *testing.B) (dir string, paths []string) {
		dir = filepath.Join(b.TempDir(), pecatest.DefaultDir)
		store, err := cache.NewStore(dir, cache.WithCodec(cache.Raw))
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range names {
			pecatest.Golden(&benchT{b, "TestReport"}, name, text, pecatest.WithDir(dir), pecatest.WithAccess(cache.ReadExecuteWrite))
			path, _ := store.Path("TestReport/" + name)
			if data, err := os.ReadFile(path); err != nil || string(data) != text {
				b.Fatalf("the recording %s does not hold the text: %v", path, err)
			}
			paths = append(paths, path)
		}
		return dir, paths
	}
	b.Run("match/1KB", func(b *testing.B) {
		dir, paths := setup(b)
		t := &benchT{b, "TestReport"}
		opts := []pecatest.Option{pecatest.WithDir(dir), pecatest.WithAccess(cache.ReadOnly)}
		ours, floor := 0, 0
		bench.Pair(b, func() {
			pecatest.Golden(t, names[ours%2], text, opts...)
			ours++
		}, func() {
			golden.Assert(t, text, paths[floor%2])
			floor++
		})
	})
	b.Run("rerecord/1KB", func(b *testing.B) {
		dir, paths := setup(b)
		t := &benchT{b, "TestReport"}
		opts := []pecatest.Option{pecatest.WithDir(dir), pecatest.WithAccess(cache.Regenerate)}
		info, err := os.Stat(paths[0])
		if err != nil {
			b.Fatal(err)
		}
		ours, floor := 0, 0
		bench.Pair(b, func() {
			pecatest.Golden(t, names[ours%2], text, opts...)
			ours++
		}, func() {
			if _, err := os.ReadFile(paths[floor%2]); err != nil {
				b.Fatal(err)
			}
			floor++
		})
		if again, err := os.Stat(paths[0]); err != nil || !again.ModTime().Equal(info.ModTime()) {
			b.Fatalf("the recording %s was written again: %v", paths[0], err)
		}
	})
}

// goldenText returns about size bytes of text in lines, as a report a test
// compares with its golden file.
func goldenText(size int) string {
	var s strings.Builder
	for i := 0; s.Len() < size; i++ {
		fmt.Fprintf(&s, "line %03d: the quick brown fox jumps over the lazy dog\n", i)
	}
	return s.String()
}

// EnvBenchE2E enables BenchmarkEndToEnd.
const EnvBenchE2E = "PECAPIKU_BENCH_E2E"

// e2eFixtures is the number of fixtures of BenchmarkEndToEnd's package.
const e2eFixtures = 1000

// e2eTest is the test file of BenchmarkEndToEnd's package: 10 tests of 100
// Memo calls each. With E2E_DIRECT=1 the tests call the function themselves,
// without Memo: the cost of the test binary alone.
const e2eTest = `package e2e

import (
	"fmt"
	"os"
	"testing"

	"github.com/pecapiku/pecapiku/pecatest"
)

type Fixture struct {
	ID    int
	Name  string
	Score float64
	Tags  []string
}

func build(i int) func() (Fixture, error) {
	return func() (Fixture, error) {
		return Fixture{ID: i, Name: fmt.Sprintf("fixture-%d", i), Score: float64(i) / 7, Tags: []string{"alpha", "beta"}}, nil
	}
}

func run(t *testing.T, base int) {
	direct := os.Getenv("E2E_DIRECT") == "1"
	for i := base; i < base+100; i++ {
		var f Fixture
		if direct {
			f, _ = build(i)()
		} else {
			f = pecatest.Memo(t, fmt.Sprintf("f%03d", i), build(i))
		}
		if f.ID != i {
			t.Fatalf("fixture %d: got %d", i, f.ID)
		}
	}
}
`

// BenchmarkEndToEnd runs go test -count=1 on a generated package whose
// tests Memo 1 000 recorded fixtures, under PECAPIKU_ACCESS=r (replay) and
// =e (execute, write nothing), and once with the tests calling the
// functions without Memo (direct). It reports the mean wall time of each
// command (r-ms, e-ms, direct-ms) and of the test binary that go test -c
// built, run alone five times as often (bin-r-ms, ...), where the go
// command's own second does not blur the difference; and from the binary's
// times, per fixture: replay-us/fixture, (r - e)/1000, what replaying a
// fixture costs more than executing a trivial function, and
// memo-us/fixture, (r - direct)/1000, Memo's whole cost per replayed fixture.
// Run it with
//
//	PECAPIKU_BENCH_E2E=1 go test -run '^$' -bench EndToEnd -benchtime 5x ./pecatest
//
// With PECAPIKU_BENCH_E2E_DIR=dir the package is generated in dir and kept,
// for timing the commands with another tool (hyperfine).
func BenchmarkEndToEnd(b *testing.B) {
	if !bench.Enabled(b, EnvBenchE2E) {
		return
	}
	dir := os.Getenv("PECAPIKU_BENCH_E2E_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	root, err := filepath.Abs("..")
	if err != nil {
		b.Fatal(err)
	}
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		b.Fatal(err)
	}
	var src strings.Builder
	src.WriteString(e2eTest)
	for i := 0; i < e2eFixtures/100; i++ {
		fmt.Fprintf(&src, "\nfunc TestFixtures%d(t *testing.T) { run(t, %d) }\n", i, i*100)
	}
	files := map[string]string{
		"go.mod":        "module example.com/e2e\n\ngo 1.26\n\nrequire github.com/pecapiku/pecapiku v0.0.0\n\nreplace github.com/pecapiku/pecapiku => " + root + "\n",
		"go.sum":        string(goSum),
		"e2e_test.go":   src.String(),
		"doc.go":        "// Package e2e is pecapiku's end-to-end benchmark.\npackage e2e\n",
		"run-r.sh":      "#!/bin/sh\nPECAPIKU_ACCESS=r exec go test -count=1 .\n",
		"run-e.sh":      "#!/bin/sh\nPECAPIKU_ACCESS=e exec go test -count=1 .\n",
		"run-direct.sh": "#!/bin/sh\nE2E_DIRECT=1 exec go test -count=1 .\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local", "GOSUMDB=off", "CI=")
	// timed runs name with args in dir, with env and extra, and returns how
	// long it took.
	timed := func(name string, args []string, extra ...string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(append([]string(nil), env...), extra...)
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("%s %v: %v\n%s", name, extra, err, out)
		}
		return d
	}
	goTest := func(extra ...string) time.Duration {
		return timed("go", []string{"test", "-count=1", "."}, extra...)
	}
	goTest("PECAPIKU_ACCESS=ew") // records the fixtures and fills the build cache
	n, err := filepath.Glob(filepath.Join(dir, pecatest.DefaultDir, "*", "*.json"))
	if err != nil || len(n) != e2eFixtures {
		b.Fatalf("recorded %d fixtures, want %d (%v)", len(n), e2eFixtures, err)
	}
	// The test binary alone, without the go command's own second or so.
	build := exec.Command("go", "test", "-c", "-o", "e2e.test", ".")
	build.Dir, build.Env = dir, env
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go test -c: %v\n%s", err, out)
	}
	binary := func(extra ...string) time.Duration {
		return timed("./e2e.test", []string{"-test.count=1"}, extra...)
	}
	var r, e, direct, binR, binE, binDirect time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r += goTest("PECAPIKU_ACCESS=r")
		e += goTest("PECAPIKU_ACCESS=e")
		direct += goTest("E2E_DIRECT=1")
		for j := 0; j < 5; j++ {
			binR += binary("PECAPIKU_ACCESS=r")
			binE += binary("PECAPIKU_ACCESS=e")
			binDirect += binary("E2E_DIRECT=1")
		}
	}
	b.StopTimer()
	ms := func(d time.Duration, runs int) float64 { return float64(d.Microseconds()) / 1000 / float64(runs) }
	perFixture := func(d time.Duration, runs int) float64 {
		return float64(d.Microseconds()) / float64(runs) / e2eFixtures
	}
	b.ReportMetric(ms(r, b.N), "r-ms")
	b.ReportMetric(ms(e, b.N), "e-ms")
	b.ReportMetric(ms(direct, b.N), "direct-ms")
	b.ReportMetric(ms(binR, 5*b.N), "bin-r-ms")
	b.ReportMetric(ms(binE, 5*b.N), "bin-e-ms")
	b.ReportMetric(ms(binDirect, 5*b.N), "bin-direct-ms")
	b.ReportMetric(perFixture(binR-binE, 5*b.N), "replay-us/fixture")
	b.ReportMetric(perFixture(binR-binDirect, 5*b.N), "memo-us/fixture")
}
