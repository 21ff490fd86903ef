//go:build unix

package cache_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// lockDir points the lock directory of this test at a fresh temporary
// directory and returns the lock directory's path.
func lockDir(t *testing.T) string {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return filepath.Join(tmp, fmt.Sprintf("pecapiku-locks-%d", os.Getuid()))
}

// missOnce makes a store on the real disk miss an entry with access rew,
// which takes the entry's lock, and returns Do's error.
func missOnce(t *testing.T, key string) error {
	t.Helper()
	store, err := cache.NewStore(t.TempDir(), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := cache.Do(store, key, func() (int, error) { return 1, nil })
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Do blocked on its lock")
		return nil
	}
}

// TestLockDirectoryTakenOver: a lock directory that another user created
// first, that others may write to, or that is a link, is refused with an
// error saying how to fix it, rather than trusted.
func TestLockDirectoryTakenOver(t *testing.T) {
	t.Run("created private", func(t *testing.T) {
		dir := lockDir(t)
		assert.NilError(t, missOnce(t, "k"))
		info, err := os.Lstat(dir)
		assert.NilError(t, err)
		assert.Equal(t, info.Mode().Perm(), os.FileMode(0o700))
	})
	t.Run("mode 777", func(t *testing.T) {
		dir := lockDir(t)
		assert.NilError(t, os.Mkdir(dir, 0o777))
		assert.NilError(t, os.Chmod(dir, 0o777))
		err := missOnce(t, "k")
		assert.ErrorContains(t, err, "the lock directory "+dir+" has mode 0777: others than its owner may use it (it must be 0700), so another user could block or redirect this user's locks; remove it, or set TMPDIR to a directory of your own")
	})
	t.Run("another user's", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("only root can give a directory to another user")
		}
		dir := lockDir(t)
		assert.NilError(t, os.Mkdir(dir, 0o700))
		assert.NilError(t, os.Chown(dir, 4242, 4242))
		err := missOnce(t, "k")
		assert.ErrorContains(t, err, "the lock directory "+dir+" belongs to user 4242, not to this user (0)")
	})
	t.Run("a link", func(t *testing.T) {
		dir := lockDir(t)
		elsewhere := t.TempDir()
		assert.NilError(t, os.Chmod(elsewhere, 0o700))
		assert.NilError(t, os.Symlink(elsewhere, dir))
		err := missOnce(t, "k")
		assert.ErrorContains(t, err, "the lock directory "+dir+" is a symbolic link")
		entries, err := os.ReadDir(elsewhere)
		assert.NilError(t, err)
		assert.Equal(t, len(entries), 0, "a file was created through the link")
	})
}

// TestLockFileLinkNotFollowed: a symbolic link planted where a lock file
// goes is not followed: nothing is created at its target.
func TestLockFileLinkNotFollowed(t *testing.T) {
	dir := lockDir(t)
	store, err := cache.NewStore(t.TempDir(), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	path, err := store.Path("k")
	assert.NilError(t, err)
	assert.NilError(t, os.Mkdir(dir, 0o700))
	name, err := cache.LockPath(path)
	assert.NilError(t, err)
	target := filepath.Join(t.TempDir(), "planted")
	assert.NilError(t, os.Symlink(target, name))
	_, err = cache.Do(store, "k", func() (int, error) { return 1, nil })
	assert.ErrorContains(t, err, name+" is a symbolic link, which pecapiku does not follow; remove it")
	_, err = os.Lstat(target)
	assert.Assert(t, errors.Is(err, os.ErrNotExist), "the link was followed: %v", err)
}

// TestLockFilesDoNotAccumulate: a process removes the lock files it took
// once it is done with them.
func TestLockFilesDoNotAccumulate(t *testing.T) {
	dir := lockDir(t)
	for i := 0; i < 50; i++ {
		assert.NilError(t, missOnce(t, fmt.Sprintf("k%d", i)))
	}
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 0, "lock files left behind: %v", entries)
}
