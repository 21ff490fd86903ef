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

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/bench"
	"github.com/pecapiku/pecapiku/pecatest"
)

// benchT is the T that Memo gets in the benchmarks: its Logf formats the
// message, as testing's does, and drops it, since a benchmark's log is
// printed whatever -v says. What testing adds (the caller's line, the lock,
// the output buffer) is measured end to end by BenchmarkEndToEnd.
type benchT struct {
	b    *testing.B
	name string
}

func (t benchT) Name() string                    { return t.name }
func (t benchT) Logf(format string, args ...any) { _ = fmt.Sprintf(format, args...) }
func (t benchT) Errorf(format string, args ...any) {
	t.b.Errorf(format, args...)
}
func (t benchT) Fatalf(format string, args ...any) { t.b.Fatalf(format, args...) }
func (t benchT) Helper()                           {}

// BenchmarkMemoHit: Memo returning a recorded value; floor: os.ReadFile and
// the codec's decode into the same type.
func BenchmarkMemoHit(b *testing.B) {
	for _, c := range bench.Codecs {
		for _, size := range bench.Sizes {
			b.Run(c.Codec.Name()+"/"+size.Name, func(b *testing.B) {
				// In a directory of its own, with the fixtures in
				// testdata/.pecapiku as in a real test: a relative
				// directory costs Memo the working directory's lookup.
				chdir(b, b.TempDir())
				dir := pecatest.DefaultDir
				t := benchT{b, "TestReport"}
				opts := []pecatest.Option{pecatest.WithCodec(c.Codec), pecatest.WithAccess(cache.ReadExecuteWrite)}
				value := bench.Records(size.Bytes)
				pecatest.Memo(t, "value", func() ([]bench.Record, error) { return value, nil }, opts...)
				store, err := cache.NewStore(dir, cache.WithCodec(c.Codec))
				if err != nil {
					b.Fatal(err)
				}
				path, _ := store.Path("TestReport/value")
				fn := bench.MustNot[[]bench.Record](b)
				bench.Pair(b, func() {
					pecatest.Memo(t, "value", fn, opts...)
				}, func() { bench.ReadRecords(b, path, c.Decode) })
			})
		}
	}
}

// chdir makes dir the working directory until b ends.
func chdir(b *testing.B, dir string) {
	wd, err := os.Getwd()
	if err != nil {
		b.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := os.Chdir(wd); err != nil {
			b.Fatal(err)
		}
	})
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
