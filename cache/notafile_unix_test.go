//go:build unix

package cache_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// TestEntryNotAFile: a named pipe where an entry should be is an error
// naming the file under every access, at once rather than waiting forever
// for a writer, whether the store may write (the real filesystem as it is)
// or not (read-only over it); the function does not run in its place, and
// the pipe, which the store did not make, is left where it is.
func TestEntryNotAFile(t *testing.T) {
	for _, access := range []cache.Access{cache.ReadOnly, cache.ReadExecute, cache.ReadExecuteWrite} {
		t.Run(access.String(), func(t *testing.T) {
			dir := t.TempDir()
			store, err := cache.NewStore(dir, cache.WithAccess(access))
			assert.NilError(t, err)
			path, err := store.Path("TestA/v")
			assert.NilError(t, err)
			assert.NilError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			assert.NilError(t, syscall.Mkfifo(path, 0o644))

			done := make(chan error, 1)
			go func() {
				_, err := cache.Do(store, "TestA/v", func() (string, error) {
					t.Error("the function ran")
					return "computed", nil
				})
				done <- err
			}()
			select {
			case err := <-done:
				assert.ErrorContains(t, err, path)
				assert.ErrorContains(t, err, "not a regular file (a named pipe)")
			case <-time.After(10 * time.Second):
				t.Fatal("Do blocked on the named pipe")
			}
			info, err := os.Lstat(path)
			assert.NilError(t, err)
			assert.Assert(t, info.Mode()&os.ModeNamedPipe != 0, "the pipe is left where it is")
		})
	}
}

// TestRemoveLiveLeftover: a temporary file that a writer holds, at work in
// another process say, is not a leftover: Remove refuses it, naming it,
// and removes it once no one holds it.
func TestRemoveLiveLeftover(t *testing.T) {
	dir := filepath.Join(t.TempDir(), cache.ReservedStoreName)
	store, err := cache.NewStore(dir, cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	assert.NilError(t, store.Write("TestA/v", "recorded"))
	path, err := store.Path("TestA/v")
	assert.NilError(t, err)
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-0")
	assert.NilError(t, os.WriteFile(tmp, []byte("half a val"), 0o600))
	release := faultfs.HoldAsWriter(t, tmp)

	leftovers, err := store.Leftovers()
	assert.NilError(t, err)
	assert.DeepEqual(t, leftovers, []string{tmp})
	err = store.Remove(tmp)
	assert.ErrorContains(t, err, "cache: remove "+tmp+": a writer is using it")
	_, err = os.Stat(tmp)
	assert.NilError(t, err, "the live writer's file is left alone")

	assert.NilError(t, release())
	assert.NilError(t, store.Remove(tmp))
	_, err = os.Stat(tmp)
	assert.Assert(t, os.IsNotExist(err))
}
