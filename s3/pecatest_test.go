package s3_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/pecatest"
	"github.com/pecapiku/pecapiku/s3"
)

// TestPecatestOnBucket points pecatest at the bucket with PECAPIKU_STORE,
// as a CI job does: the entries land under the module path and the
// package's directory, and the local copy serves the replay.
func TestPecatestOnBucket(t *testing.T) {
	bucket := testBucket(t)
	prefix := testPrefix(t)
	local := t.TempDir()
	t.Setenv(cache.EnvStore, "s3://"+bucket+"/"+prefix+"?local="+local)
	t.Setenv(cache.EnvAccess, "rew")
	const store = "github.com/pecapiku/pecapiku/s3/testdata/.pecapiku"
	const dir = store + "/TestPecatestOnBucket"

	// The entry is shared, so that a second test can replay it: one test
	// asks Memo for a name once.
	t.Run("record", func(t *testing.T) {
		got := pecatest.Memo(t, "dataset", func() ([]int, error) { return []int{1, 2, 3}, nil }, pecatest.Shared())
		assert.DeepEqual(t, got, []int{1, 2, 3})
	})
	pecatest.Golden(t, "report", "three rows\n")

	client, _ := newClient(t, nil)
	fsys, err := s3.New(bucket, prefix, s3.WithClient(client))
	assert.NilError(t, err)
	data, err := getObject(t, fsys, store+"/dataset.json")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "[\n  1,\n  2,\n  3\n]\n")
	data, err = getObject(t, fsys, dir+"/report.raw")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "three rows\n")
	copied := localCopy(t, afero.NewBasePathFs(afero.NewOsFs(), local), filepath.Join(filepath.FromSlash(store), "dataset.json"))
	assert.Equal(t, string(copied), "[\n  1,\n  2,\n  3\n]\n")

	t.Run("replay", func(t *testing.T) {
		got := pecatest.Memo(t, "dataset", func() ([]int, error) {
			t.Fatal("recorded, so it must not run")
			return nil, nil
		}, pecatest.WithAccess(cache.ReadOnly), pecatest.Shared())
		assert.DeepEqual(t, got, []int{1, 2, 3})
	})
	_, err = os.Stat("testdata")
	assert.Assert(t, os.IsNotExist(err), "nothing is written to the package's testdata")
}
