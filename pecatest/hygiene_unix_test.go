//go:build unix

package pecatest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// TestPruneLeavesLiveWriter: pruning keeps the temporary file of a write
// that is going on, says so, and prunes the rest.
func TestPruneLeavesLiveWriter(t *testing.T) {
	dir := filepath.Join(t.TempDir(), DefaultDir)
	assert.NilError(t, os.MkdirAll(filepath.Join(dir, "TestA"), 0o755))
	for name, data := range map[string]string{"TestA/a.json": "1\n", "TestA/b.json": "2\n", "TestA/.a.json.tmp-0": "{"} {
		assert.NilError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644))
	}
	tmp := filepath.Join(dir, "TestA", ".a.json.tmp-0")
	faultfs.HoldAsWriter(t, tmp)

	removed, kept, busy, err := unusedOn(osFs, dir, "", map[string]bool{filepath.Join(dir, "TestA", "a.json"): true}, true, func() map[string]bool { return nil })
	assert.NilError(t, err)
	assert.DeepEqual(t, removed, []string{filepath.Join(dir, "TestA", "b.json")})
	assert.Equal(t, len(kept), 0)
	assert.DeepEqual(t, busy, []string{tmp})
	_, err = os.Stat(tmp)
	assert.NilError(t, err, "the live writer's file is left alone")

	var out strings.Builder
	reportBusy(&out, busy)
	assert.Equal(t, out.String(), "pecatest: kept 1 temporary file that a writer is using:\n\t"+relative(tmp)+"\n")
}
