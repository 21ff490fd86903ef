//go:build unix

package pending_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/internal/pending"
)

// TestDiffNotAFile: a pending recording whose diff is a named pipe, in a
// folder downloaded from CI say, is found at once, without its diff, rather
// than waiting forever for a writer.
func TestDiffNotAFile(t *testing.T) {
	module := t.TempDir()
	rec := filepath.Join(module, pending.LocalDir, "testdata", ".pecapiku", "TestA", "x.json")
	assert.NilError(t, os.MkdirAll(filepath.Dir(rec), 0o755))
	assert.NilError(t, os.WriteFile(rec, []byte("1\n"), 0o644))
	assert.NilError(t, syscall.Mkfifo(rec+pending.DiffExt, 0o644))

	done := make(chan []pending.Recording, 1)
	go func() {
		recs, err := pending.Find([]string{module}, module)
		assert.Check(t, err)
		done <- recs
	}()
	select {
	case recs := <-done:
		assert.Equal(t, len(recs), 1)
		assert.Equal(t, recs[0].Diff, "")
	case <-time.After(10 * time.Second):
		t.Fatal("Find blocked on the named pipe")
	}
}
