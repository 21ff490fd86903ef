package faultfs_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/internal/faultfs"
)

func TestCounting(t *testing.T) {
	for _, tc := range []struct {
		name string
		do   func(fsys afero.Fs) error
		want []string
	}{
		{"stat and read", func(fsys afero.Fs) error {
			if _, err := fsys.Stat("/d/f"); err != nil {
				return err
			}
			_, err := afero.ReadFile(fsys, "/d/f")
			return err
		}, nil},
		{"write a file", func(fsys afero.Fs) error {
			return afero.WriteFile(fsys, "/d/g", []byte("x"), 0o644)
		}, []string{"openfile(0x241) /d/g", "write /d/g"}},
		{"rename, chmod, remove", func(fsys afero.Fs) error {
			return errors.Join(fsys.Rename("/d/f", "/d/h"), fsys.Chmod("/d/h", 0o600), fsys.Remove("/d/h"))
		}, []string{"rename /d/f /d/h", "chmod /d/h", "remove /d/h"}},
		{"mkdir", func(fsys afero.Fs) error { return fsys.MkdirAll("/e/f", 0o755) }, []string{"mkdirall /e/f"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := afero.NewMemMapFs()
			assert.NilError(t, afero.WriteFile(base, "/d/f", []byte("content"), 0o644))
			c := faultfs.NewCounting(base)
			assert.NilError(t, tc.do(c))
			assert.DeepEqual(t, c.Mutations(), tc.want)
		})
	}
}

func TestFaulty(t *testing.T) {
	for _, tc := range []struct {
		fault faultfs.Fault
		limit int64
		do    func(fsys afero.Fs) error
		want  string
		is    error
	}{
		{faultfs.NoSpace, 3, func(fsys afero.Fs) error {
			return afero.WriteFile(fsys, "/d/g", []byte("abcdef"), 0o644)
		}, "write /d/g: no space left on device (injected)", nil},
		{faultfs.SyncFails, 0, func(fsys afero.Fs) error {
			f, err := fsys.Create("/d/g")
			assert.NilError(t, err)
			defer f.Close()
			return f.Sync()
		}, "sync /d/g: input/output error (injected)", nil},
		{faultfs.RenameFails, 0, func(fsys afero.Fs) error {
			return fsys.Rename("/d/f", "/d/g")
		}, "rename /d/f /d/g: input/output error (injected)", nil},
		{faultfs.PermissionDenied, 0, func(fsys afero.Fs) error {
			return fsys.Remove("/d/f")
		}, "remove /d/f: permission denied (injected)", iofs.ErrPermission},
		{faultfs.PermissionDenied, 0, func(fsys afero.Fs) error {
			_, err := fsys.OpenFile("/d/f", os.O_WRONLY, 0)
			return err
		}, "open /d/f: permission denied (injected)", iofs.ErrPermission},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			base := afero.NewMemMapFs()
			assert.NilError(t, afero.WriteFile(base, "/d/f", []byte("content"), 0o644))
			err := tc.do(faultfs.NewFaulty(base, tc.fault, tc.limit))
			assert.Error(t, err, tc.want)
			assert.Assert(t, errors.Is(err, faultfs.ErrInjected))
			if tc.is != nil {
				assert.Assert(t, errors.Is(err, tc.is))
			}
			got, err := afero.ReadFile(base, "/d/f")
			assert.NilError(t, err)
			assert.Equal(t, string(got), "content")
		})
	}
}

func TestFaultyWritesWhatFits(t *testing.T) {
	base := afero.NewMemMapFs()
	fsys := faultfs.NewFaulty(base, faultfs.NoSpace, 4)
	f, err := fsys.Create("/a")
	assert.NilError(t, err)
	n, err := f.Write([]byte("abc"))
	assert.NilError(t, err)
	assert.Equal(t, n, 3)
	n, err = f.Write([]byte("def"))
	assert.Assert(t, errors.Is(err, faultfs.ErrInjected))
	assert.Equal(t, n, 1)
	assert.NilError(t, f.Close())
	got, err := afero.ReadFile(base, "/a")
	assert.NilError(t, err)
	assert.Equal(t, string(got), "abcd")
}

func TestLeftovers(t *testing.T) {
	dir := t.TempDir()
	fsys := afero.NewOsFs()
	got, err := faultfs.Leftovers(fsys, filepath.Join(dir, "missing"))
	assert.NilError(t, err)
	assert.Equal(t, len(got), 0)
	for _, name := range []string{"a.json", "sub/.a.json.tmp-1", ".gitkeep"} {
		assert.NilError(t, fsys.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		assert.NilError(t, afero.WriteFile(fsys, filepath.Join(dir, name), nil, 0o644))
	}
	got, err = faultfs.Leftovers(fsys, dir)
	assert.NilError(t, err)
	assert.DeepEqual(t, got, []string{filepath.Join(dir, "sub", ".a.json.tmp-1")})
}

// chunkCounter counts the writes that reach it.
type chunkCounter struct {
	afero.File
	writes *int
}

func (c chunkCounter) Write(p []byte) (int, error) { *c.writes++; return c.File.Write(p) }

type chunkCounterFs struct {
	afero.Fs
	writes *int
}

func (c chunkCounterFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := c.Fs.OpenFile(name, flag, perm)
	return chunkCounter{File: f, writes: c.writes}, err
}

func TestChunked(t *testing.T) {
	for _, tc := range []struct {
		size, data, writes int
	}{
		{4, 10, 3},
		{4, 8, 2},
		{100, 10, 1},
		{0, 3, 3},
	} {
		t.Run(fmt.Sprint(tc.size, "/", tc.data), func(t *testing.T) {
			writes := 0
			base := afero.NewMemMapFs()
			fsys := faultfs.NewChunked(chunkCounterFs{Fs: base, writes: &writes}, tc.size)
			data := []byte(strings.Repeat("x", tc.data))
			assert.NilError(t, afero.WriteFile(fsys, "/f", data, 0o644))
			assert.Equal(t, writes, tc.writes)
			got, err := afero.ReadFile(base, "/f")
			assert.NilError(t, err)
			assert.Equal(t, string(got), string(data))
		})
	}
}
