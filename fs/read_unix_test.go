//go:build unix

package fs_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/fs"
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
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := fs.ReadFile(afero.NewOsFs(), tc.path, fs.DefaultMaxSize)
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
