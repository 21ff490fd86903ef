//go:build unix

package fs_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/fs"
	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// TestReadFileRefusesWhatIsNotAFile: a named pipe, a link to /dev/zero and
// a sparse file of gigabytes, each where an entry should be, are refused at
// once, with an error naming the file, rather than blocking forever or
// exhausting memory.
func TestReadFileRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.json")
	assert.NilError(t, syscall.Mkfifo(fifo, 0o644))
	zero := filepath.Join(dir, "zero.json")
	assert.NilError(t, os.Symlink("/dev/zero", zero))
	sparse := filepath.Join(dir, "sparse.json")
	f, err := os.Create(sparse)
	assert.NilError(t, err)
	assert.NilError(t, f.Truncate(8<<30))
	assert.NilError(t, f.Close())

	for _, tc := range []struct {
		name, path, want string
		is               error
	}{
		{"named pipe", fifo, "fs: read " + fifo + ": not a regular file (a named pipe)", fs.ErrNotRegular},
		{"link to /dev/zero", zero, "fs: read " + zero + ": not a regular file (a character device)", fs.ErrNotRegular},
		{"sparse 8 GB", sparse, "fs: read " + sparse + ": larger than the size limit: it holds 8589934592 bytes and the limit is 1073741824", fs.ErrTooLarge},
	} {
		// The real filesystem as a store sees it: itself, read-only
		// (a store without w), or below a base directory.
		for fsName, fsys := range map[string]afero.Fs{
			"OsFs":       afero.NewOsFs(),
			"ReadOnlyFs": afero.NewReadOnlyFs(afero.NewOsFs()),
			"BasePathFs": afero.NewBasePathFs(afero.NewOsFs(), "/"),
		} {
			t.Run(tc.name+"/"+fsName, func(t *testing.T) {
				done := make(chan error, 1)
				go func() {
					_, err := fs.ReadFile(fsys, tc.path, fs.DefaultMaxSize)
					done <- err
				}()
				select {
				case err := <-done:
					assert.Assert(t, errors.Is(err, tc.is), "%v", err)
					assert.Error(t, err, tc.want)
				case <-time.After(10 * time.Second):
					t.Fatal("ReadFile blocked")
				}
			})
		}
	}
}

// TestLeftoversStayFew: the temporary files that writers killed before
// their rename leave behind are taken over by the next writes of the same
// file, so their number stays bounded; one that a live writer holds is
// never removed, however old.
func TestLeftoversStayFew(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "entry.json")
	old := time.Now().Add(-time.Hour)
	// Leftovers of 8 killed writers, and one writer still at work.
	for slot := 0; slot < 8; slot++ {
		left := filepath.Join(dir, ".entry.json.tmp-"+strconv.Itoa(slot))
		assert.NilError(t, os.WriteFile(left, []byte("half a value"), 0o600))
		assert.NilError(t, os.Chtimes(left, old, old))
	}
	faultfs.HoldAsWriter(t, filepath.Join(dir, ".entry.json.tmp-3"))

	for i := 0; i < 50; i++ {
		assert.NilError(t, fs.WriteAtomic(afero.NewOsFs(), name, []byte(strconv.Itoa(i))))
	}
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	// The first write took over the leftover it found first and the
	// others stay until a write needs their names; the live writer's
	// file stays in any case. Nothing else accumulates.
	assert.DeepEqual(t, left, []string{".entry.json.tmp-1", ".entry.json.tmp-2", ".entry.json.tmp-3", ".entry.json.tmp-4", ".entry.json.tmp-5", ".entry.json.tmp-6", ".entry.json.tmp-7", "entry.json"})
	data, err := os.ReadFile(filepath.Join(dir, ".entry.json.tmp-3"))
	assert.NilError(t, err)
	assert.Equal(t, string(data), "half a value", "the live writer's file was touched")

	// Writes that run into each other use the names in turn, and all end.
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.Check(t, fs.WriteAtomic(afero.NewOsFs(), name, []byte("concurrent")))
		}()
	}
	wg.Wait()
	entries, err = os.ReadDir(dir)
	assert.NilError(t, err)
	assert.Assert(t, len(entries) <= 9, "leftovers grew: %v", entries)
}

// TestFreshLeftoversTakenOver: a leftover of a writer killed a moment ago
// is taken over like an old one, so that writers killed in quick
// succession leave no more than the fixed names.
func TestFreshLeftoversTakenOver(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "entry.json")
	for slot := 0; slot < 8; slot++ {
		left := filepath.Join(dir, ".entry.json.tmp-"+strconv.Itoa(slot))
		assert.NilError(t, os.WriteFile(left, []byte("half a value"), 0o600))
	}
	assert.NilError(t, fs.WriteAtomic(afero.NewOsFs(), name, []byte("whole")))
	entries, err := os.ReadDir(dir)
	assert.NilError(t, err)
	var left []string
	for _, e := range entries {
		left = append(left, e.Name())
	}
	assert.DeepEqual(t, left, []string{".entry.json.tmp-1", ".entry.json.tmp-2", ".entry.json.tmp-3", ".entry.json.tmp-4", ".entry.json.tmp-5", ".entry.json.tmp-6", ".entry.json.tmp-7", "entry.json"})
}

// TestPipeAtTemporaryName: a named pipe planted at one of the temporary
// names of a destination is neither waited on nor removed; the write takes
// another name.
func TestPipeAtTemporaryName(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "entry.json")
	pipe := filepath.Join(dir, ".entry.json.tmp-0")
	assert.NilError(t, syscall.Mkfifo(pipe, 0o600))
	done := make(chan error, 1)
	go func() { done <- fs.WriteAtomic(afero.NewOsFs(), name, []byte("whole")) }()
	select {
	case err := <-done:
		assert.NilError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("WriteAtomic waited on the named pipe")
	}
	info, err := os.Lstat(pipe)
	assert.NilError(t, err)
	assert.Assert(t, info.Mode()&os.ModeNamedPipe != 0)
	err = fs.RemoveLeftover(afero.NewOsFs(), pipe)
	assert.Assert(t, errors.Is(err, fs.ErrNotRegular), "%v", err)
}
