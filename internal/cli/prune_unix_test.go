//go:build unix

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// TestPruneLeavesLiveWriter: a temporary file that a writer at work holds,
// in a test running beside prune say, is not a leftover: prune keeps it,
// says so, and goes on with the rest.
func TestPruneLeavesLiveWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "testdata", ".pecapiku")
	assert.NilError(t, os.MkdirAll(filepath.Join(dir, "TestA"), 0o755))
	for name, data := range map[string]string{"TestA/a.json": "1\n", "TestA/b.json": "2\n", "TestA/.a.json.tmp-0": "{"} {
		assert.NilError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	tmp := filepath.Join(dir, "TestA", ".a.json.tmp-0")
	faultfs.HoldAsWriter(t, tmp)

	pl, err := planPrune(place{fsys: osFs, path: dir}, map[string]bool{filepath.Join(dir, "TestA", "a.json"): true})
	assert.NilError(t, err)
	var out strings.Builder
	assert.NilError(t, carryOut(&env{stdout: &out, dir: filepath.Dir(filepath.Dir(dir))}, []*plan{pl}, false))
	assert.Equal(t, out.String(), "testdata/.pecapiku\n"+
		"  removed TestA/b.json      unused\n"+
		"  kept TestA/.a.json.tmp-0  a writer is using it\n"+
		"  1 file, 2 B\n"+
		"removed 1 file, 2 B, from 1 store (1 examined)\n")
	_, err = os.Stat(tmp)
	assert.NilError(t, err, "the live writer's file is left alone")
}
