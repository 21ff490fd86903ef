package pecatest

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

// TestUsageUnderParallelSubtests checks the bookkeeping of used entries when
// parallel tests and nested subtests call Memo and Golden at once, and the
// unused set it leads to.
func TestUsageUnderParallelSubtests(t *testing.T) {
	clearAccess(t)
	dir := filepath.Join(t.TempDir(), "store")
	usedFile := filepath.Join(t.TempDir(), "used.txt")
	t.Setenv(EnvUsed, usedFile)
	var want []string
	var mu sync.Mutex
	t.Run("group", func(t *testing.T) {
		for i := 0; i < 8; i++ {
			i := i
			t.Run(fmt.Sprint("case ", i), func(t *testing.T) {
				t.Parallel()
				Memo(t, "shared", func() (int, error) { return 1, nil }, WithDir(dir), Shared())
				Memo(t, "own", func() (int, error) { return i, nil }, WithDir(dir))
				t.Run("inner", func(t *testing.T) {
					Golden(t, "text", fmt.Sprint(i), WithDir(dir))
				})
				own, _ := fs.KeyPath(t.Name() + "/own")
				inner, _ := fs.KeyPath(t.Name() + "/inner/text")
				mu.Lock()
				want = append(want, filepath.Join(dir, own+".json"), filepath.Join(dir, inner+".raw"))
				mu.Unlock()
			})
		}
	})
	want = append(want, filepath.Join(dir, "shared.json"))
	sort.Strings(want)

	usage.Lock()
	var got []string
	for e := range usage.entries {
		if strings.HasPrefix(e, dir+string(filepath.Separator)) {
			got = append(got, e)
		}
	}
	storeTracked := usage.stores[dir]
	usage.Unlock()
	sort.Strings(got)
	assert.DeepEqual(t, got, want)
	assert.Assert(t, storeTracked)

	// The file for the pecapiku command says the same, a line per use.
	lines, err := os.ReadFile(usedFile)
	assert.NilError(t, err)
	var entries []string
	for _, line := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		kind, path, ok := strings.Cut(line, "\t")
		assert.Assert(t, ok, line)
		switch kind {
		case "store":
			assert.Equal(t, path, dir)
		case "entry":
			entries = append(entries, path)
		default:
			t.Errorf("unexpected line %q", line)
		}
	}
	sort.Strings(entries)
	assert.DeepEqual(t, entries, want)

	// An orphan of a renamed test and a leftover of an interrupted write
	// are unused; every entry the tests touched is not.
	orphan := filepath.Join(dir, "TestOld", "own.json")
	leftover := filepath.Join(dir, ".shared.json.tmp-7")
	assert.NilError(t, os.MkdirAll(filepath.Dir(orphan), 0o755))
	assert.NilError(t, os.WriteFile(orphan, []byte("1\n"), 0o644))
	assert.NilError(t, os.WriteFile(leftover, []byte("{"), 0o600))
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a fixture"), 0o644))
	used := map[string]bool{}
	for _, e := range want {
		used[e] = true
	}
	found, _, _, err := unusedOn(osFs, dir, "", used, false, func() map[string]bool { return nil })
	assert.NilError(t, err)
	assert.DeepEqual(t, found, []string{orphan, leftover})

	found, _, _, err = unusedOn(osFs, dir, "", used, true, func() map[string]bool { return nil })
	assert.NilError(t, err)
	assert.DeepEqual(t, found, []string{orphan, leftover})
	_, err = os.Stat(filepath.Dir(orphan))
	assert.Assert(t, os.IsNotExist(err), "the emptied directory of the old test is removed")
	for _, e := range want {
		_, err := os.Stat(e)
		assert.NilError(t, err, "a used entry was removed")
	}
	_, err = os.Stat(filepath.Join(dir, "README.md"))
	assert.NilError(t, err, "a file that is not a fixture was removed")
}

// recordAsRun makes the calls of t record their usage as under Run.
func recordAsRun(t *testing.T) {
	runRecords.Store(true)
	t.Cleanup(func() { runRecords.Store(false) })
}

// TestNoRecordUnlessRead: without Run or PECAPIKU_USED nothing would read
// the record of usage, and the calls make none.
func TestNoRecordUnlessRead(t *testing.T) {
	clearAccess(t)
	dir := filepath.Join(t.TempDir(), "store")
	Memo(&fakeT{name: "TestUnread"}, "x", func() (int, error) { return 1, nil }, WithDir(dir))
	entry := filepath.Join(dir, "TestUnread", "x.json")
	usage.Lock()
	recorded := usage.entries[entry]
	usage.Unlock()
	assert.Assert(t, !recorded, "recorded %s without Run", entry)

	recordAsRun(t)
	Memo(&fakeT{name: "TestUnread"}, "x", func() (int, error) { return 1, nil }, WithDir(dir))
	usage.Lock()
	recorded = usage.entries[entry]
	usage.Unlock()
	assert.Assert(t, recorded, "%s not recorded under Run", entry)
}

func TestCheckUnusedReport(t *testing.T) {
	clearAccess(t)
	recordAsRun(t)
	dir := filepath.Join(t.TempDir(), "store")
	Memo(&fakeT{name: "TestKept"}, "x", func() (int, error) { return 1, nil }, WithDir(dir))
	orphan := filepath.Join(dir, "TestGone", "x.json")
	assert.NilError(t, os.MkdirAll(filepath.Dir(orphan), 0o755))
	assert.NilError(t, os.WriteFile(orphan, []byte("1\n"), 0o644))

	var out bytes.Buffer
	assert.NilError(t, checkUnused(&out, false))
	assert.Assert(t, strings.Contains(out.String(), "1 fixture file was used by no test:\n\t"+orphan+"\n"), out.String())
	assert.Assert(t, strings.HasSuffix(out.String(), "Remove them with: PECAPIKU_PRUNE=1 go test ./pecatest\n"), out.String())
	_, err := os.Stat(orphan)
	assert.NilError(t, err, "reporting removes nothing")

	out.Reset()
	assert.NilError(t, checkUnused(&out, true))
	assert.Assert(t, strings.Contains(out.String(), "removed 1 fixture file that no test used:\n\t"+orphan+"\n"), out.String())
	_, err = os.Stat(orphan)
	assert.Assert(t, os.IsNotExist(err))
}

func TestFiltered(t *testing.T) {
	// This test binary may itself run filtered; set each flag in turn on a
	// flag set of our own.
	for _, tc := range []struct {
		flag, value, want string
	}{
		{"", "", ""},
		{"test.run", "TestX", "the run was filtered with -run"},
		{"test.skip", "TestX", "the run was filtered with -skip"},
		{"test.short", "true", "-short may have skipped tests"},
		{"test.list", ".", "tests were listed, not run"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			saved := flag.CommandLine
			t.Cleanup(func() { flag.CommandLine = saved })
			set := flag.NewFlagSet("test", flag.ContinueOnError)
			for _, name := range []string{"test.run", "test.skip", "test.list", "test.fuzz"} {
				set.String(name, "", "")
			}
			set.Bool("test.short", false, "")
			flag.CommandLine = set
			if tc.flag != "" {
				assert.NilError(t, set.Set(tc.flag, tc.value))
			}
			assert.Equal(t, filtered(), tc.want)
		})
	}
}

// TestDriftVerification covers PECAPIKU_VERIFY: a recording that still
// matches a fresh computation passes, one that drifted fails with the diff
// and the command that records it again, and nothing is written either way.
func TestDriftVerification(t *testing.T) {
	type point struct{ X, Y float64 }
	const path = "testdata/.pecapiku/TestDrift/p.json"
	for _, tc := range []struct {
		name    string
		access  string
		fresh   point
		opts    []Option
		logs    []string
		errors  []string // prefixes
		suffix  string
		fnCalls int
	}{
		{name: "matches", access: "rew", fresh: point{1, 2}, fnCalls: 1,
			logs: []string{"pecatest: verified TestDrift/p: a fresh computation matches " + path}},
		{name: "drifted", access: "rew", fresh: point{1, 2.5}, fnCalls: 1,
			errors: []string{"pecatest: TestDrift/p has drifted: a fresh computation differs from its recording " + path + " (-recorded +fresh):\n"},
			suffix: "Record it again with: PECAPIKU_ACCESS=ew go test -run '^TestDrift$' ./pecatest"},
		{name: "within the caller's tolerance", access: "re", fresh: point{1, 2.0001}, fnCalls: 1,
			opts: []Option{WithCmpOptions(cmpopts.EquateApprox(0, 0.01))},
			logs: []string{"pecatest: verified TestDrift/p: a fresh computation matches " + path}},
		{name: "read-only access", access: "r", fresh: point{1, 2},
			errors: []string{`pecatest: TestDrift/p: drift verification (PECAPIKU_VERIFY) executes the function, which access "r" (from PECAPIKU_ACCESS) forbids; give it access "re" as well (PECAPIKU_ACCESS=re)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			t.Setenv(cache.EnvAccess, tc.access)
			t.Setenv(EnvVerify, "1")
			fsys := afero.NewMemMapFs()
			recorded := "{\n  \"X\": 1,\n  \"Y\": 2\n}\n"
			assert.NilError(t, afero.WriteFile(fsys, path, []byte(recorded), 0o644))
			calls := 0
			fn := func() (point, error) { calls++; return tc.fresh, nil }
			for i := 0; i < 2; i++ { // a second call reuses the verdict
				ft := &fakeT{name: "TestDrift"}
				got := Memo(ft, "p", fn, append(tc.opts, WithFs(fsys))...)
				assert.Equal(t, got, point{1, 2}, "verification returns the recording")
				assert.DeepEqual(t, ft.logs, tc.logs)
				assert.Equal(t, len(ft.errors), len(tc.errors), "%q", ft.errors)
				for i, want := range tc.errors {
					assert.Assert(t, strings.HasPrefix(ft.errors[i], want), "%q\ndoes not start with\n%q", ft.errors[i], want)
					assert.Assert(t, strings.HasSuffix(ft.errors[i], tc.suffix), ft.errors[i])
				}
			}
			assert.Equal(t, calls, tc.fnCalls)
			content, err := afero.ReadFile(fsys, path)
			assert.NilError(t, err)
			assert.Equal(t, string(content), recorded, "verification wrote")
		})
	}
}

func TestDriftVerificationRecordsWhatIsMissing(t *testing.T) {
	clearAccess(t)
	t.Setenv(EnvVerify, "true")
	fsys := afero.NewMemMapFs()
	ft := &fakeT{name: "TestDrift"}
	got := Memo(ft, "new", func() (int, error) { return 3, nil }, WithFs(fsys))
	assert.Equal(t, got, 3)
	assert.DeepEqual(t, ft.logs, []string{"pecatest: recorded TestDrift/new in testdata/.pecapiku/TestDrift/new.json"})
}

// sweepFs is a shared store whose locks, files named .<entry>.lock, are all
// stale.
type sweepFs struct{ afero.Fs }

func (sweepFs) LockEntry(string) (func(), error) { return func() {}, nil }

func (f sweepFs) StaleLocks(dir string) ([]string, error) {
	var locks []string
	err := afero.Walk(f.Fs, dir, func(path string, info iofs.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(path, ".lock") {
			locks = append(locks, path)
		}
		return nil
	})
	return locks, err
}

var (
	registerSweep sync.Once
	sweepRuns     int
)

// TestUnusedOnSharedStore puts the package's store on a shared store with
// PECAPIKU_STORE: the calls are tracked by URL, in this process and in the
// file of PECAPIKU_USED, and the unused entries and stale locks of the
// package's store there are reported and pruned, the used ones kept.
func TestUnusedOnSharedStore(t *testing.T) {
	clearAccess(t)
	registerSweep.Do(func() {
		cache.RegisterScheme("test-sweep", func(*url.URL) (afero.Fs, error) { return sweepFs{afero.NewMemMapFs()}, nil })
	})
	// A bucket of its own for each run of the test, since a URL is opened
	// once per process.
	sweepRuns++
	location := fmt.Sprintf("test-sweep://bucket-%d/prefix/", sweepRuns)
	fsys, err := cache.OpenURL(location + "?ignored=1")
	assert.NilError(t, err)
	t.Setenv(cache.EnvStore, location+"?ignored=1")
	usedFile := filepath.Join(t.TempDir(), "used.txt")
	t.Setenv(EnvUsed, usedFile)
	const store = namespace + "/testdata/.pecapiku"

	Memo(&fakeT{name: "TestKept"}, "x", func() (int, error) { return 1, nil })
	Golden(&fakeT{name: "TestKept"}, "y", "text\n", WithDir("testdata/golden"))
	lines, err := os.ReadFile(usedFile)
	assert.NilError(t, err)
	assert.Equal(t, string(lines), "store\t"+location+store+"\n"+
		"entry\t"+location+store+"/TestKept/x.json\n"+
		"store\t"+location+namespace+"/testdata/golden\n"+
		"entry\t"+location+namespace+"/testdata/golden/TestKept/y.raw\n")

	orphan := store + "/TestGone/x.json"
	lock := store + "/TestKept/.z.json.lock"
	goldenOrphan := namespace + "/testdata/golden/TestGone/y.raw"
	for _, name := range []string{orphan, lock, goldenOrphan} {
		assert.NilError(t, afero.WriteFile(fsys, name, []byte("1\n"), 0o644))
	}

	var out bytes.Buffer
	assert.NilError(t, checkUnused(&out, false))
	assert.Assert(t, strings.Contains(out.String(), "fixture files were used by no test:\n"+
		"\t"+location+store+"/TestGone/x.json\n"+
		"\t"+location+store+"/TestKept/.z.json.lock (a lock left by a process that stopped)\n"+
		"\t"+location+goldenOrphan+"\n"), out.String())

	out.Reset()
	assert.NilError(t, checkUnused(&out, true))
	assert.Assert(t, strings.Contains(out.String(), "removed 3 fixture files that no test used:\n"), out.String())
	for _, name := range []string{orphan, lock, goldenOrphan} {
		_, err := fsys.Stat(name)
		assert.Assert(t, errors.Is(err, iofs.ErrNotExist), name)
	}
	for _, name := range []string{store + "/TestKept/x.json", namespace + "/testdata/golden/TestKept/y.raw"} {
		_, err := fsys.Stat(name)
		assert.NilError(t, err)
	}
}

// TestPruneLeavesForeignFiles: a store kept in a directory that pecapiku
// did not create, here the package's own directory (WithDir(".") in a
// test), holds files that look like entries and are not: the report and
// the pruning of Run leave it alone, say so, and say how to fix it.
func TestPruneLeavesForeignFiles(t *testing.T) {
	clearAccess(t)
	recordAsRun(t)
	pkg := t.TempDir()
	foreign := []string{"package.json", "sub/config.json", "testdata/input.json"}
	for _, name := range foreign {
		p := filepath.Join(pkg, filepath.FromSlash(name))
		assert.NilError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		assert.NilError(t, os.WriteFile(p, []byte("{}\n"), 0o644))
	}
	Memo(&fakeT{name: "TestKept"}, "x", func() (int, error) { return 1, nil }, WithDir(pkg))

	for _, prune := range []bool{false, true} {
		var out bytes.Buffer
		assert.NilError(t, checkUnused(&out, prune))
		assert.Assert(t, strings.Contains(out.String(), "pecatest: unused fixtures not checked in "+pkg+": cache: prune "+pkg+": not a directory pecapiku created"), out.String())
		assert.Assert(t, strings.Contains(out.String(), "touch "+filepath.Join(pkg, cache.StoreMarker)), out.String())
		assert.Assert(t, !strings.Contains(out.String(), "package.json"), out.String())
		for _, name := range foreign {
			_, err := os.Stat(filepath.Join(pkg, filepath.FromSlash(name)))
			assert.NilError(t, err, "%s was removed (prune %v)", name, prune)
		}
	}
}
