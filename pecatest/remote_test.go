package pecatest

import (
	"fmt"
	iofs "io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// This package's namespace in a shared store.
const namespace = "github.com/pecapiku/pecapiku/pecatest"

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
