package pecatest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// lossy is a value the json codec cannot keep: its unexported field is lost.
type lossy struct {
	Name   string
	secret int
}

// TestRoundTripGuardEveryCall: a value the codec would change fails every
// Memo call that computes it in a test binary, not the first alone, and is
// never written, whatever the access (a second test sharing the fixture, or
// go test -count=2, used to replay the changed value and record it).
func TestRoundTripGuardEveryCall(t *testing.T) {
	for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadExecute, cache.Regenerate, cache.Bypass} {
		t.Run(access.String(), func(t *testing.T) {
			clearAccess(t)
			fsys := afero.NewMemMapFs()
			for i := 0; i < 2; i++ {
				ft := &fakeT{name: "TestLossy"}
				Memo(ft, "value", func() (lossy, error) { return lossy{"x", 1}, nil }, WithFs(fsys), WithAccess(access), Shared())
				assert.Equal(t, len(ft.fatals), 1, "call %d: %q", i+1, ft.fatals)
				assert.ErrorContains(t, fmt.Errorf("%s", ft.fatals[0]), "value does not survive its codec")
				for _, line := range ft.logs {
					assert.Assert(t, !strings.Contains(line, "does not write it"), "call %d blames the access: %q", i+1, line)
				}
			}
			exists, err := afero.Exists(fsys, "testdata/.pecapiku/value.json")
			assert.NilError(t, err)
			assert.Assert(t, !exists, "the changed value was recorded")
		})
	}
}

// TestFailedWriteDoesNotBlameAccess: when an ew write fails, the log says
// the write failed, not that the access forbids it.
func TestFailedWriteDoesNotBlameAccess(t *testing.T) {
	clearAccess(t)
	fsys := faultfs.NewFaulty(afero.NewMemMapFs(), faultfs.RenameFails, 0)
	ft := &fakeT{name: "TestWrite"}
	Memo(ft, "value", func() (int, error) { return 1, nil }, WithFs(fsys), WithAccess(cache.Regenerate))
	assert.Equal(t, len(ft.fatals), 1, "%q", ft.fatals)
	assert.ErrorContains(t, fmt.Errorf("%s", ft.fatals[0]), "rename")
	for _, line := range ft.logs {
		assert.Assert(t, !strings.Contains(line, "does not write it"), "the log blames the access: %q", line)
	}
}

// TestWaitersLog: every caller of an entry says in its log where its value
// came from, the ones that waited for another's computation included.
func TestWaitersLog(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	const callers = 8
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	fts := make([]*fakeT, callers)
	call := func(ft *fakeT) {
		defer wg.Done()
		Memo(ft, "shared", func() (int, error) {
			once.Do(func() { close(entered) })
			<-release
			return 42, nil
		}, WithFs(fsys), WithAccess(cache.ReadExecuteWrite), Shared())
	}
	for i := range fts {
		fts[i] = &fakeT{name: fmt.Sprintf("TestWait%d", i)}
		wg.Add(1)
		go call(fts[i])
		if i == 0 {
			<-entered // the first computes; the others join it
		}
	}
	time.Sleep(50 * time.Millisecond) // let them join; a late one replays the entry, which logs too
	close(release)
	wg.Wait()
	for _, ft := range fts {
		assert.Equal(t, len(ft.failures()), 0, "%q", ft.failures())
		assert.Equal(t, len(ft.logs), 1, "%s logged %q", ft.name, ft.logs)
	}
}

// TestSameNameTwice: a test that asks Memo for one name twice gets the
// second call refused, naming both call sites, rather than the first value
// without its function running.
func TestSameNameTwice(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	ft := &fakeT{name: "TestTwice"}
	first := Memo(ft, "data", func() (int, error) { return 1, nil }, WithFs(fsys))
	ran := false
	Memo(ft, "data", func() (int, error) { ran = true; return 2, nil }, WithFs(fsys))
	assert.Equal(t, first, 1)
	assert.Assert(t, !ran)
	assert.Equal(t, len(ft.fatals), 1, "%q", ft.fatals)
	assert.Assert(t, strings.HasPrefix(ft.fatals[0], "pecatest: TestTwice/data is asked for twice in this test, at process_test.go:"), ft.fatals[0])
	assert.Assert(t, strings.Contains(ft.fatals[0], " and before at process_test.go:"), ft.fatals[0])
	assert.Assert(t, strings.HasSuffix(ft.fatals[0], "; give each Memo of a test a name of its own (the second would get the first's value without running its function)"), ft.fatals[0])

	// Another test, or the same test run again (-count=2), may.
	again := &fakeT{name: "TestTwice"}
	Memo(again, "data", func() (int, error) { return 1, nil }, WithFs(fsys))
	assert.Equal(t, len(again.failures()), 0, "%q", again.failures())
}

// TestOneEntryTwoTypes: a shared entry asked for with two types fails the
// second caller with both types and both tests, the same on every run,
// instead of each run rewriting it for the other.
func TestOneEntryTwoTypes(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	a := &fakeT{name: "TestA"}
	Memo(a, "model", func() (map[string]float64, error) { return map[string]float64{"w": 1}, nil }, WithFs(fsys), Shared())
	assert.Equal(t, len(a.failures()), 0, "%q", a.failures())
	b := &fakeT{name: "TestB"}
	Memo(b, "model", func() ([]float64, error) { return []float64{1}, nil }, WithFs(fsys), Shared())
	assert.Equal(t, len(b.fatals), 1, "%q", b.fatals)
	assert.Assert(t, strings.HasPrefix(b.fatals[0], "pecatest: model (shared) is a []float64 here, at process_test.go:"), b.fatals[0])
	assert.Assert(t, strings.Contains(b.fatals[0], ", and a map[string]float64 in TestA, at process_test.go:"), b.fatals[0])
	assert.Assert(t, strings.HasSuffix(b.fatals[0], "; an entry has one type: give one of them another name"), b.fatals[0])

	// Golden and Memo on one entry file.
	g := &fakeT{name: "TestC"}
	Golden(g, "model", map[string]float64{"w": 1}, WithFs(fsys), Shared())
	assert.Equal(t, len(g.errors), 1, "%q", g.errors)
	assert.Assert(t, strings.Contains(g.errors[0], "is the Golden of a map[string]float64 here"), g.errors[0])
}

// TestGoldenLineEndings: a text recording checked out with CRLF line ends
// (git's autocrlf, Windows) still matches the same text with LF ends, and
// the other way round; bytes are compared as they are.
func TestGoldenLineEndings(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	const path = "testdata/.pecapiku/TestText/"
	assert.NilError(t, afero.WriteFile(fsys, path+"report.raw", []byte("Bergen  1310 mm\r\nDakar     45 mm\r\n"), 0o644))
	ft := &fakeT{name: "TestText"}
	Golden(ft, "report", "Bergen  1310 mm\nDakar     45 mm\n", WithFs(fsys), WithAccess(cache.ReadOnly))
	assert.Equal(t, len(ft.errors), 0, "%q", ft.errors)

	assert.NilError(t, afero.WriteFile(fsys, path+"lf.raw", []byte("a\nb\n"), 0o644))
	ft = &fakeT{name: "TestText"}
	Golden(ft, "lf", "a\r\nb\r\n", WithFs(fsys), WithAccess(cache.ReadOnly))
	assert.Equal(t, len(ft.errors), 0, "%q", ft.errors)

	assert.NilError(t, afero.WriteFile(fsys, path+"bytes.raw", []byte("a\r\nb\r\n"), 0o644))
	ft = &fakeT{name: "TestText"}
	Golden(ft, "bytes", []byte("a\nb\n"), WithFs(fsys), WithAccess(cache.ReadOnly))
	assert.Equal(t, len(ft.errors), 1, "bytes must stay exact: %q", ft.errors)

	// A changed line shows whole, old and new.
	ft = &fakeT{name: "TestText"}
	Golden(ft, "report", "Bergen  1310 mm\nDakar     46 mm\n", WithFs(fsys), WithAccess(cache.ReadOnly))
	assert.Equal(t, len(ft.errors), 1)
	assert.Assert(t, strings.Contains(ft.errors[0], "@@ -1,2 +1,2 @@\n Bergen  1310 mm\n-Dakar     45 mm\n+Dakar     46 mm\n"), ft.errors[0])
}

// TestLargeJSONHint: recording more than a megabyte of JSON says in the log
// that gob or raw would serve better.
func TestLargeJSONHint(t *testing.T) {
	clearAccess(t)
	ft := &fakeT{name: "TestLarge"}
	Memo(ft, "big", func() ([]int, error) { return make([]int, 600_000), nil }, WithFs(afero.NewMemMapFs()))
	assert.Equal(t, len(ft.logs), 1)
	assert.Assert(t, strings.HasSuffix(ft.logs[0], " (2.9 MB of JSON: cache.Gob stores a value this large smaller and faster, with pecatest.WithCodec(cache.Gob); and cache.Raw a []byte or a string as it is)"), ft.logs[0])
	small := &fakeT{name: "TestLarge"}
	Memo(small, "small", func() ([]int, error) { return make([]int, 10), nil }, WithFs(afero.NewMemMapFs()))
	assert.Assert(t, !strings.Contains(small.logs[0], "MB of JSON"), small.logs[0])
}

// TestGoldenReRecordUnchanged: re-recording a Golden with ew writes nothing
// when the recording holds the value already, and logs nothing, as a
// matching Golden does (the run's summary counts it); a changed value is
// written.
func TestGoldenReRecordUnchanged(t *testing.T) {
	clearAccess(t)
	fsys := faultfs.NewCounting(afero.NewMemMapFs())
	ft := &fakeT{name: "TestReRecord"}
	Golden(ft, "report", "one\n", WithFs(fsys), WithAccess(cache.Regenerate))
	assert.DeepEqual(t, ft.logs, []string{"pecatest: recorded TestReRecord/report in testdata/.pecapiku/TestReRecord/report.raw"})
	before := len(fsys.Mutations())

	ft = &fakeT{name: "TestReRecord"}
	Golden(ft, "report", "one\n", WithFs(fsys), WithAccess(cache.Regenerate))
	assert.DeepEqual(t, ft.logs, []string(nil))
	recorded.Lock()
	counted := recorded.unchanged["testdata/.pecapiku/TestReRecord/report.raw"]
	recorded.Unlock()
	assert.Assert(t, counted, "the summary does not count the unchanged recording")
	assert.Equal(t, len(fsys.Mutations()), before, "an unchanged recording was written: %v", fsys.Mutations()[before:])

	ft = &fakeT{name: "TestReRecord"}
	Golden(ft, "report", "two\n", WithFs(fsys), WithAccess(cache.Regenerate))
	assert.DeepEqual(t, ft.logs, []string{"pecatest: recorded TestReRecord/report in testdata/.pecapiku/TestReRecord/report.raw"})
}
