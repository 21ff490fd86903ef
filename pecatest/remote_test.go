package pecatest

import (
	"flag"
	"fmt"
	iofs "io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// This package's namespace in a shared store.
const namespace = "github.com/pecapiku/pecapiku/pecatest"

// TestMain runs this package's tests as in a run whose result go test does
// not cache, whatever the flags: their shared stores are fakes and
// directories of their own, which nothing changes behind their back.
// TestReadOfSharedStoreNeedsUncachedRun checks the rule itself.
func TestMain(m *testing.M) {
	resultMayBeCached = func() bool { return false }
	os.Exit(m.Run())
}

// TestReadOfSharedStoreNeedsUncachedRun reads, and writes, a shared store
// in a run whose result go test may cache: a call that reads fails, with
// the command that runs the tests without the cache, and one that only
// writes or executes goes on.
func TestReadOfSharedStoreNeedsUncachedRun(t *testing.T) {
	clearAccess(t)
	shared := t.TempDir()
	url := "file://" + filepath.ToSlash(shared)
	t.Setenv(cache.EnvStore, url+"?ignored=1")
	resultMayBeCached = func() bool { return true }
	t.Cleanup(func() { resultMayBeCached = func() bool { return false } })
	const cause = "it reads the shared store %s (PECAPIKU_STORE), which go test's result cache does not see: " +
		"a cached pass would hide an entry changed there since. Run the tests with -count=1, which turns that cache off: " +
		"go test -count=1 ./pecatest, or set GOFLAGS=-count=1 wherever PECAPIKU_STORE is set"
	object := filepath.Join(shared, filepath.FromSlash(namespace), "testdata/.pecapiku/TestReport/dataset.json")
	tests := []struct {
		name     string
		call     func(ft *fakeT)
		failures []string
		written  bool
	}{
		{"Memo with r", func(ft *fakeT) {
			Memo(ft, "dataset", func() (int, error) { return 1, nil }, WithAccess(cache.ReadOnly))
		}, []string{"pecatest: Memo of TestReport/dataset: " + fmt.Sprintf(cause, url)}, false},
		{"Memo with rew", func(ft *fakeT) {
			Memo(ft, "dataset", func() (int, error) { return 1, nil }, WithAccess(cache.ReadExecuteWrite))
		}, []string{"pecatest: Memo of TestReport/dataset: " + fmt.Sprintf(cause, url)}, false},
		{"Golden with r", func(ft *fakeT) {
			Golden(ft, "report", "text\n", WithAccess(cache.ReadOnly))
		}, []string{"pecatest: Golden of TestReport/report: " + fmt.Sprintf(cause, url)}, false},
		{"Memo with ew reads nothing", func(ft *fakeT) {
			Memo(ft, "dataset", func() (int, error) { return 1, nil }, WithAccess(cache.Regenerate))
		}, nil, true},
		{"Memo with e reads nothing", func(ft *fakeT) {
			Memo(ft, "dataset", func() (int, error) { return 1, nil }, WithAccess(cache.Bypass))
		}, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.NilError(t, os.RemoveAll(shared))
			ft := &fakeT{name: "TestReport"}
			tc.call(ft)
			assert.DeepEqual(t, ft.failures(), tc.failures)
			_, err := os.Stat(object)
			assert.Equal(t, err == nil, tc.written, "%v", err)
		})
	}

	t.Run("the fix lines of messages carry -count=1", func(t *testing.T) {
		resultMayBeCached = func() bool { return false }
		ft := &fakeT{name: "TestReport"}
		Memo(ft, "missing", func() (int, error) { return 1, nil }, WithAccess(cache.ReadOnly))
		failures := ft.failures()
		assert.Equal(t, len(failures), 1)
		assert.Assert(t, strings.HasSuffix(failures[0], "Record it by giving pecatest.WithAccess access \"rew\" (or dropping the option) and running: go test -count=1 -run '^TestReport$' ./pecatest"), failures[0])
	})
}

// TestMayBeCached checks which flags of a test binary's command line, as
// go test hands them over, keep its result out of go test's cache.
func TestMayBeCached(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"-test.run=TestX", "-test.v=true", "-test.timeout=10m0s", "-test.short", "-test.paniconexit0"}, true},
		{[]string{"-pecapiku.access=r"}, true}, // a flag of the test's own may have been set by the test
		{[]string{"-test.count=1"}, false},
		{[]string{"-test.run=TestX", "-test.count=3"}, false},
		{[]string{"-test.bench=."}, false},
		{[]string{"-test.fuzz=FuzzX"}, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			flags := flag.NewFlagSet("pkg.test", flag.ContinueOnError)
			flags.String("test.run", "", "")
			flags.Bool("test.v", false, "")
			flags.Duration("test.timeout", 0, "")
			flags.Bool("test.short", false, "")
			flags.Bool("test.paniconexit0", false, "")
			flags.String("pecapiku.access", "", "")
			flags.Uint("test.count", 1, "")
			flags.String("test.bench", "", "")
			flags.String("test.fuzz", "", "")
			assert.NilError(t, flags.Parse(tc.args))
			assert.Equal(t, mayBeCached(flags), tc.want)
		})
	}
}

func TestMemoSharedStore(t *testing.T) {
	clearAccess(t)
	shared := t.TempDir()
	url := "file://" + filepath.ToSlash(shared)
	t.Setenv(cache.EnvStore, url+"?ignored=1")
	object := url + "/" + namespace + "/testdata/.pecapiku/TestReport/dataset.json"

	ft := &fakeT{name: "TestReport"}
	got := Memo(ft, "dataset", func() (dataset, error) { return dataset{Name: "fresh", Rows: []int{2, 3}}, nil })
	assert.DeepEqual(t, got, dataset{Name: "fresh", Rows: []int{2, 3}})
	assert.DeepEqual(t, ft.failures(), []string(nil))
	assert.DeepEqual(t, ft.logs, []string{"pecatest: recorded TestReport/dataset in " + object})
	data, err := os.ReadFile(filepath.Join(shared, filepath.FromSlash(namespace), "testdata/.pecapiku/TestReport/dataset.json"))
	assert.NilError(t, err)
	assert.Equal(t, string(data), freshJSON)
	_, err = os.Stat("testdata/.pecapiku/TestReport")
	assert.Assert(t, os.IsNotExist(err), "nothing is written to the local testdata")

	ft = &fakeT{name: "TestReport"}
	got = Memo(ft, "dataset", func() (dataset, error) { return dataset{}, fmt.Errorf("must not run") }, WithAccess(cache.ReadOnly))
	assert.DeepEqual(t, got, dataset{Name: "fresh", Rows: []int{2, 3}})
	assert.DeepEqual(t, ft.logs, []string{"pecatest: replayed TestReport/dataset from " + object})

	t.Run("an absolute WithDir stays local", func(t *testing.T) {
		dir := t.TempDir()
		ft := &fakeT{name: "TestLocal"}
		Memo(ft, "x", func() (int, error) { return 1, nil }, WithDir(dir))
		assert.DeepEqual(t, ft.failures(), []string(nil))
		_, err := os.Stat(filepath.Join(dir, "TestLocal", "x.json"))
		assert.NilError(t, err)
	})
}

func TestMemoSharedStoreErrors(t *testing.T) {
	clearAccess(t)
	t.Setenv(cache.EnvStore, "s3://bucket/prefix")
	ft := &fakeT{name: "TestReport"}
	Memo(ft, "dataset", func() (int, error) { return 1, nil })
	assert.DeepEqual(t, ft.failures(), []string{
		`pecatest: Memo of TestReport/dataset: PECAPIKU_STORE: cache: store s3://bucket/prefix: no filesystem is registered for the scheme "s3": ` +
			`add import _ "github.com/pecapiku/pecapiku/s3" to the program (for tests, to any _test.go file of each package under test)`,
	})
}

// downFs is a store whose server is down.
type downFs struct{ afero.Fs }

func (downFs) Open(name string) (afero.File, error) {
	return nil, fmt.Errorf("GetObject %s: connection refused: %w", name, cache.ErrUnavailable)
}

func (f downFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	return f.Open(name)
}

func (downFs) Stat(name string) (iofs.FileInfo, error) {
	return nil, fmt.Errorf("HeadObject %s: connection refused: %w", name, cache.ErrUnavailable)
}

func TestMemoSharedStoreUnavailable(t *testing.T) {
	cache.RegisterScheme("test-down", func(*url.URL) (afero.Fs, error) { return downFs{afero.NewMemMapFs()}, nil })
	clearAccess(t)
	t.Setenv(cache.EnvStore, "test-down://bucket")
	cause := "fs: read " + namespace + "/testdata/.pecapiku/TestReport/dataset.json: GetObject " + namespace + "/testdata/.pecapiku/TestReport/dataset.json: connection refused: store unavailable"
	tests := []struct {
		name     string
		access   cache.Access
		logs     []string
		failures []string
	}{
		{"with e it executes and says so", cache.ReadExecuteWrite,
			[]string{"pecatest: computed TestReport/dataset without storing it, since its store cannot be reached: " + cause}, nil},
		{"without e it fails", cache.ReadOnly, nil,
			[]string{"pecatest: TestReport/dataset: " + cause}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ft := &fakeT{name: "TestReport"}
			got := Memo(ft, "dataset", func() (int, error) { return 7, nil }, WithAccess(tc.access))
			assert.DeepEqual(t, ft.logs, tc.logs)
			assert.DeepEqual(t, ft.failures(), tc.failures)
			if tc.failures == nil {
				assert.Equal(t, got, 7)
			}
		})
	}
}

// TestModuleNamespace checks the namespace of this package, whose test
// binary runs in its directory; internal/remote tests the rule.
func TestModuleNamespace(t *testing.T) {
	assert.Equal(t, moduleNamespace(), namespace)
}
