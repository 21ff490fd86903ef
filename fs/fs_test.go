package fs_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/pecapiku/pecapiku/fs"
)

// filesystems returns the filesystems every test of this package runs on: one
// in memory and one over a real temporary directory.
func filesystems(t *testing.T) map[string]func(t *testing.T) (afero.Fs, string) {
	return map[string]func(t *testing.T) (afero.Fs, string){
		"mem": func(t *testing.T) (afero.Fs, string) { return afero.NewMemMapFs(), "/store" },
		"os":  func(t *testing.T) (afero.Fs, string) { return afero.NewOsFs(), t.TempDir() },
	}
}

// names lists the files and directories under dir, relative to it.
func names(t *testing.T, fsys afero.Fs, dir string) []string {
	t.Helper()
	var out []string
	err := afero.Walk(fsys, dir, func(p string, info iofs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, err := filepath.Rel(dir, p)
			assert.NilError(t, err)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	assert.NilError(t, err)
	sort.Strings(out)
	return out
}

func TestWriteAtomic(t *testing.T) {
	for fsName, newFs := range filesystems(t) {
		t.Run(fsName, func(t *testing.T) {
			fsys, dir := newFs(t)
			name := filepath.Join(dir, "TestX", "sub", "entry.json")

			assert.NilError(t, fs.WriteAtomic(fsys, name, []byte("first\n")))
			got, err := fs.ReadFile(fsys, name, fs.DefaultMaxSize)
			assert.NilError(t, err)
			assert.Equal(t, string(got), "first\n")

			assert.NilError(t, fs.WriteAtomic(fsys, name, []byte("second, longer\n")))
			got, err = fs.ReadFile(fsys, name, fs.DefaultMaxSize)
			assert.NilError(t, err)
			assert.Equal(t, string(got), "second, longer\n")

			assert.NilError(t, fs.WriteAtomic(fsys, name, nil))
			got, err = fs.ReadFile(fsys, name, fs.DefaultMaxSize)
			assert.NilError(t, err)
			assert.Equal(t, len(got), 0)

			info, err := fsys.Stat(name)
			assert.NilError(t, err)
			assert.Equal(t, info.Mode().Perm(), iofs.FileMode(0o644))
			if fsName == "os" {
				dirInfo, err := fsys.Stat(filepath.Dir(name))
				assert.NilError(t, err)
				// MkdirAll applies the umask, which can only remove bits.
				assert.Assert(t, dirInfo.Mode().Perm()&^0o755 == 0, dirInfo.Mode())
			}
			assert.DeepEqual(t, names(t, fsys, dir), []string{"TestX", "TestX/sub", "TestX/sub/entry.json"})
		})
	}
}

func TestWriteAtomicNotAFileName(t *testing.T) {
	err := fs.WriteAtomic(afero.NewMemMapFs(), "dir/", []byte("x"))
	assert.Error(t, err, "fs: write dir/: not a file name")
}

func TestReadFile(t *testing.T) {
	for fsName, newFs := range filesystems(t) {
		t.Run(fsName, func(t *testing.T) {
			fsys, dir := newFs(t)

			_, err := fs.ReadFile(fsys, filepath.Join(dir, "missing.json"), fs.DefaultMaxSize)
			assert.Assert(t, errors.Is(err, iofs.ErrNotExist), err)
			assert.ErrorContains(t, err, "missing.json")

			sub := filepath.Join(dir, "a-directory.json")
			assert.NilError(t, fsys.MkdirAll(sub, 0o755))
			_, err = fs.ReadFile(fsys, sub, fs.DefaultMaxSize)
			assert.Assert(t, errors.Is(err, fs.ErrIsDir), err)
			assert.Assert(t, !errors.Is(err, iofs.ErrNotExist))
			assert.Error(t, err, "fs: read "+sub+": is a directory, not a file")

			big := make([]byte, 3<<20)
			for i := range big {
				big[i] = byte(i * 7)
			}
			name := filepath.Join(dir, "big.raw")
			assert.NilError(t, fs.WriteAtomic(fsys, name, big))
			got, err := fs.ReadFile(fsys, name, fs.DefaultMaxSize)
			assert.NilError(t, err)
			assert.Assert(t, string(got) == string(big), "content differs")
		})
	}
}

// TestReadFileWithoutSize: a file that reports no size, as those of /proc
// do, is read to its end.
func TestReadFileWithoutSize(t *testing.T) {
	const name = "/proc/self/status"
	info, err := os.Stat(name)
	if err != nil || !info.Mode().IsRegular() || info.Size() != 0 {
		t.Skipf("%s is not a regular file without a size here: %v", name, err)
	}
	data, err := fs.ReadFile(afero.NewOsFs(), name, fs.DefaultMaxSize)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(data), "Name:"), "%q", data)
	same, exists, err := fs.SameContent(afero.NewOsFs(), name, nil)
	assert.NilError(t, err)
	assert.Assert(t, exists && !same, "a file without a size was taken to be empty")
}

func TestReadFilePermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "secret.json")
	assert.NilError(t, os.WriteFile(name, []byte("{}"), 0o000))
	_, err := fs.ReadFile(afero.NewOsFs(), name, fs.DefaultMaxSize)
	assert.Assert(t, errors.Is(err, iofs.ErrPermission), err)
	assert.Assert(t, !errors.Is(err, iofs.ErrNotExist))
}

func TestReservedAndIsTemp(t *testing.T) {
	for _, tc := range []struct {
		name           string
		reserved, temp bool
	}{
		{"entry.json", false, false},
		{"dir/entry.json", false, false},
		{".entry.json.tmp-123456", true, true},
		{"dir/.entry.json.tmp-1", true, true},
		{".gitkeep", true, false},
		{"entry.json.tmp-1", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Check(t, is.Equal(fs.Reserved(tc.name), tc.reserved))
			assert.Check(t, is.Equal(fs.IsTemp(tc.name), tc.temp))
		})
	}
}

// failingFs fails one step of an atomic write.
type failingFs struct {
	afero.Fs
	step string // "mkdir", "create", "write", "sync", "close", "chmod" or "rename"
}

var errInjected = errors.New("injected failure")

func (f failingFs) MkdirAll(name string, perm os.FileMode) error {
	if f.step == "mkdir" {
		return &os.PathError{Op: "mkdir", Path: name, Err: errInjected}
	}
	return f.Fs.MkdirAll(name, perm)
}

func (f failingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if f.step == "create" && flag&os.O_CREATE != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: errInjected}
	}
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return failingFile{File: file, step: f.step}, nil
}

func (f failingFs) Chmod(name string, mode os.FileMode) error {
	if f.step == "chmod" {
		return &os.PathError{Op: "chmod", Path: name, Err: errInjected}
	}
	return f.Fs.Chmod(name, mode)
}

func (f failingFs) Rename(oldname, newname string) error {
	if f.step == "rename" {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errInjected}
	}
	return f.Fs.Rename(oldname, newname)
}

type failingFile struct {
	afero.File
	step string
}

func (f failingFile) Write(p []byte) (int, error) {
	if f.step == "write" {
		// Half the bytes reach the file before the failure.
		n, _ := f.File.Write(p[:len(p)/2])
		return n, errInjected
	}
	return f.File.Write(p)
}

func (f failingFile) Sync() error {
	if f.step == "sync" {
		return errInjected
	}
	return f.File.Sync()
}

func (f failingFile) Close() error {
	err := f.File.Close()
	if f.step == "close" {
		return errInjected
	}
	return err
}

// TestWriteAtomicFailures injects a failure at every step of an atomic write
// and checks that the previous entry survives intact, that no temporary file
// is left, and that the error names the file and the step.
func TestWriteAtomicFailures(t *testing.T) {
	for _, tc := range []struct {
		step, want string
	}{
		{"mkdir", "fs: write DIR/new/entry.json: create directory: mkdir DIR/new: injected failure"},
		{"create", "fs: write DIR/new/entry.json: create temporary file: open DIR/new/.entry.json.tmp-"},
		{"write", "fs: write DIR/new/entry.json: write DIR/new/.entry.json.tmp-"},
		{"sync", "fs: write DIR/new/entry.json: sync DIR/new/.entry.json.tmp-"},
		{"close", "fs: write DIR/new/entry.json: close DIR/new/.entry.json.tmp-"},
		{"chmod", "fs: write DIR/new/entry.json: chmod DIR/new/.entry.json.tmp-"},
		{"rename", "fs: write DIR/new/entry.json: rename DIR/new/.entry.json.tmp-"},
	} {
		for fsName, newFs := range filesystems(t) {
			t.Run(tc.step+"/"+fsName, func(t *testing.T) {
				base, dir := newFs(t)
				name := filepath.Join(dir, "new", "entry.json")
				if tc.step != "mkdir" {
					assert.NilError(t, fs.WriteAtomic(base, name, []byte("previous\n")))
				}

				err := fs.WriteAtomic(failingFs{Fs: base, step: tc.step}, name, []byte("replacement that must not land\n"))
				if tc.step == "close" && runtime.GOOS != "windows" {
					// The file is closed after its rename, its data
					// synced before: the write is whole.
					assert.NilError(t, err)
					got, err := fs.ReadFile(base, name, fs.DefaultMaxSize)
					assert.NilError(t, err)
					assert.Equal(t, string(got), "replacement that must not land\n")
					return
				}
				assert.Assert(t, errors.Is(err, errInjected), err)
				assert.ErrorContains(t, err, filepathReplace(tc.want, dir))

				if tc.step == "mkdir" {
					_, err := base.Stat(filepath.Dir(name))
					assert.Assert(t, errors.Is(err, iofs.ErrNotExist), err)
					return
				}
				got, err := fs.ReadFile(base, name, fs.DefaultMaxSize)
				assert.NilError(t, err)
				assert.Equal(t, string(got), "previous\n")
				assert.DeepEqual(t, names(t, base, dir), []string{"new", "new/entry.json"})
			})
		}
	}
}

// filepathReplace puts dir in place of DIR in s and uses the platform's
// separator.
func filepathReplace(s, dir string) string {
	return filepath.FromSlash(strings.ReplaceAll(s, "DIR", filepath.ToSlash(dir)))
}

// TestCheckUnder covers the names a write may and may not reach from a root
// with a symbolic link to a directory outside it, one to a file outside it,
// and a root that is itself a link.
func TestCheckUnder(t *testing.T) {
	if _, err := os.Lstat("/"); err != nil {
		t.Skip(err)
	}
	outside := t.TempDir()
	top := t.TempDir()
	root := filepath.Join(top, "root")
	assert.NilError(t, os.MkdirAll(filepath.Join(root, "real", "deeper"), 0o755))
	assert.NilError(t, os.WriteFile(filepath.Join(outside, "target.json"), []byte("outside\n"), 0o644))
	if err := os.Symlink(outside, filepath.Join(root, "linkdir")); err != nil {
		t.Skipf("cannot make symbolic links here: %v", err)
	}
	assert.NilError(t, os.Symlink(filepath.Join(outside, "target.json"), filepath.Join(root, "real", "linkfile.json")))
	assert.NilError(t, os.Symlink(root, filepath.Join(top, "rootlink")))
	assert.NilError(t, os.WriteFile(filepath.Join(root, "afile"), nil, 0o644))

	fsys := afero.NewOsFs()
	for _, tc := range []struct {
		name, root, path string
		want             string // "" for no error
	}{
		{"entry at the root", root, "e.json", ""},
		{"entry in a real directory", root, "real/deeper/e.json", ""},
		{"entry in a directory to be made", root, "new/sub/e.json", ""},
		{"entry that is a link", root, "real/linkfile.json", ""},
		{"root that is a link", filepath.Join(top, "rootlink"), "real/e.json", ""},
		{"through a linked directory", root, "linkdir/e.json", "its directory ROOT/linkdir is a symbolic link"},
		{"deeper through a linked directory", root, "linkdir/a/b/e.json", "its directory ROOT/linkdir is a symbolic link"},
		{"dot dot", root, "../e.json", "outside the root"},
		{"the root itself", root, ".", "outside the root"},
		{"under a file", root, "afile/e.json", "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := filepath.Join(tc.root, filepath.FromSlash(tc.path))
			err := fs.CheckUnder(fsys, tc.root, name)
			if tc.want == "" {
				assert.NilError(t, err)
				return
			}
			assert.ErrorContains(t, err, strings.ReplaceAll(tc.want, "ROOT", root))
		})
	}

	// A write of the linked entry replaces the link, and its target is
	// left as it was.
	link := filepath.Join(root, "real", "linkfile.json")
	assert.NilError(t, fs.WriteAtomic(fsys, link, []byte("inside\n")))
	info, err := os.Lstat(link)
	assert.NilError(t, err)
	assert.Assert(t, info.Mode().IsRegular(), info.Mode())
	got, err := os.ReadFile(filepath.Join(outside, "target.json"))
	assert.NilError(t, err)
	assert.Equal(t, string(got), "outside\n")
}

// TestCheckUnderWithoutLinks checks the lexical part on a filesystem that has
// no symbolic links.
func TestCheckUnderWithoutLinks(t *testing.T) {
	fsys := afero.NewMemMapFs()
	assert.NilError(t, fs.CheckUnder(fsys, "/store", "/store/a/b.json"))
	assert.NilError(t, fs.CheckUnder(fsys, "store", "store/a/b.json"))
	err := fs.CheckUnder(fsys, "/store", "/elsewhere/b.json")
	assert.Assert(t, errors.Is(err, fs.ErrOutsideRoot), err)
	assert.Error(t, err, "fs: /elsewhere/b.json: outside the root /store")
}

// TestReadFileLimit: a file larger than the limit is refused, on every
// filesystem; one of exactly the limit is read.
func TestReadFileLimit(t *testing.T) {
	for fsName, newFs := range filesystems(t) {
		t.Run(fsName, func(t *testing.T) {
			fsys, dir := newFs(t)
			name := filepath.Join(dir, "ten.raw")
			assert.NilError(t, fs.WriteAtomic(fsys, name, []byte("0123456789")))
			_, err := fs.ReadFile(fsys, name, 9)
			assert.Assert(t, errors.Is(err, fs.ErrTooLarge), err)
			assert.Error(t, err, "fs: read "+name+": larger than the size limit: it holds 10 bytes and the limit is 9")
			got, err := fs.ReadFile(fsys, name, 10)
			assert.NilError(t, err)
			assert.Equal(t, string(got), "0123456789")
		})
	}
}

// atomicFs is a filesystem that writes whole files atomically by itself, as
// an object store does, into store; it records each call and fails with err
// when set. Every other way of writing fails, so that a test sees that none
// is used.
type atomicFs struct {
	afero.Fs
	store afero.Fs
	calls []string
	err   error
}

func newAtomicFs(err error) *atomicFs {
	store := afero.NewMemMapFs()
	return &atomicFs{Fs: afero.NewReadOnlyFs(store), store: store, err: err}
}

func (a *atomicFs) WriteFileAtomic(name string, data []byte) error {
	a.calls = append(a.calls, name+"="+string(data))
	if a.err != nil {
		return a.err
	}
	return afero.WriteFile(a.store, name, data, 0o644)
}

// TestWriteAtomicOnAtomicWriter checks that a filesystem which is an
// AtomicWriter is handed the whole write in one call: no temporary file, no
// rename, nothing else on it; and that its failure names the file.
func TestWriteAtomicOnAtomicWriter(t *testing.T) {
	refused := errors.New("the service refused it")
	tests := []struct {
		name    string
		err     error
		wantErr string
	}{
		{name: "written", err: nil},
		{name: "fails", err: refused, wantErr: "fs: write /store/a/b.json: the service refused it"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aw := newAtomicFs(tc.err)
			err := fs.WriteAtomic(aw, "/store/a/b.json", []byte(`"v"`))
			assert.DeepEqual(t, aw.calls, []string{`/store/a/b.json="v"`})
			if tc.wantErr != "" {
				assert.Error(t, err, tc.wantErr)
				assert.Assert(t, errors.Is(err, refused))
				return
			}
			assert.NilError(t, err)
			data, err := afero.ReadFile(aw, "/store/a/b.json")
			assert.NilError(t, err)
			assert.Equal(t, string(data), `"v"`)
		})
	}
	t.Run("not a file name", func(t *testing.T) {
		aw := newAtomicFs(nil)
		assert.ErrorContains(t, fs.WriteAtomic(aw, "/store/a/", nil), "not a file name")
		assert.Assert(t, is.Len(aw.calls, 0))
	})
}

// TestSameContent compares files with bytes on every filesystem: equal,
// of another size, of the same size but other bytes, larger than the
// piece it reads at a time, missing, and a directory.
func TestSameContent(t *testing.T) {
	for fsName, newFs := range filesystems(t) {
		t.Run(fsName, func(t *testing.T) {
			fsys, dir := newFs(t)
			big := make([]byte, 200<<10)
			for i := range big {
				big[i] = byte(i % 251)
			}
			name := filepath.Join(dir, "big.raw")
			assert.NilError(t, fs.WriteAtomic(fsys, name, big))
			changed := append([]byte(nil), big...)
			changed[len(changed)-1]++
			for _, tc := range []struct {
				name         string
				data         []byte
				same, exists bool
			}{
				{"equal", big, true, true},
				{"shorter", big[:len(big)-1], false, true},
				{"last byte differs", changed, false, true},
				{"empty", nil, false, true},
			} {
				same, exists, err := fs.SameContent(fsys, name, tc.data)
				assert.NilError(t, err, tc.name)
				assert.Equal(t, same, tc.same, tc.name)
				assert.Equal(t, exists, tc.exists, tc.name)
			}
			same, exists, err := fs.SameContent(fsys, filepath.Join(dir, "missing.raw"), nil)
			assert.NilError(t, err)
			assert.Assert(t, !same && !exists)
			_, _, err = fs.SameContent(fsys, dir, nil)
			assert.Assert(t, errors.Is(err, fs.ErrIsDir), err)
		})
	}
}

// TestSameContentStaleSize: on a filesystem whose sizes may be out of date
// (an object store's listing), a file that holds the bytes and more is not
// the same, even when its size says it holds only the bytes.
func TestSameContentStaleSize(t *testing.T) {
	mem := afero.NewMemMapFs()
	assert.NilError(t, afero.WriteFile(mem, "/store/a.raw", []byte("recorded, and then some"), 0o644))
	stale := staleSizeFs{mem, int64(len("recorded"))}
	same, exists, err := fs.SameContent(stale, "/store/a.raw", []byte("recorded"))
	assert.NilError(t, err)
	assert.Assert(t, exists && !same, "a file longer than its stale size was taken for the same")
}

// staleSizeFs reports size as the size of every file.
type staleSizeFs struct {
	afero.Fs
	size int64
}

func (f staleSizeFs) Stat(name string) (iofs.FileInfo, error) {
	info, err := f.Fs.Stat(name)
	if err != nil {
		return nil, err
	}
	return sizedInfo{info, f.size}, nil
}

func (f staleSizeFs) Open(name string) (afero.File, error) {
	file, err := f.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return staleSizeFile{file, f.size}, nil
}

type staleSizeFile struct {
	afero.File
	size int64
}

func (f staleSizeFile) Stat() (iofs.FileInfo, error) {
	info, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return sizedInfo{info, f.size}, nil
}

type sizedInfo struct {
	iofs.FileInfo
	size int64
}

func (i sizedInfo) Size() int64 { return i.size }

// TestPathless: the path is taken out of an error about the file a message
// names already, seen as it is or below a base directory, and left in an
// error about another file.
func TestPathless(t *testing.T) {
	sep := string(filepath.Separator)
	inner := errors.New("no such file or directory")
	for _, tc := range []struct {
		path, name string
		stripped   bool
	}{
		{"x.json", "x.json", true},
		{sep + "base" + sep + "TestA" + sep + "x.json", sep + "TestA" + sep + "x.json", true},
		{sep + "base" + sep + "TestA" + sep + "x.json", "TestA" + sep + "x.json", true},
		{"TestA" + sep + "sub.json", "b.json", false},
		{"TestA" + sep + "x.json", "", false},
		{"other.json", "x.json", false},
	} {
		err := fmt.Errorf("wrapped: %w", &iofs.PathError{Op: "lstat", Path: tc.path, Err: inner})
		got := fs.Pathless(tc.name, err)
		if tc.stripped {
			assert.Equal(t, got, inner, "%s about %s", tc.path, tc.name)
		} else {
			assert.Equal(t, got, err, "%s about %s", tc.path, tc.name)
		}
	}
}

// raceDirFs is a filesystem on which another process removes a directory
// just made, as a store does when it removes the last entry of a
// directory, before the write puts its temporary file in it: once.
type raceDirFs struct {
	afero.Fs
	raced bool
}

func (f *raceDirFs) MkdirAll(path string, perm os.FileMode) error {
	if err := f.Fs.MkdirAll(path, perm); err != nil || f.raced {
		return err
	}
	f.raced = true
	return f.Fs.Remove(path)
}

// TestWriteAtomicDirectoryRemoved: a directory removed between its
// creation and the write of the temporary file is made again, and the
// write succeeds.
func TestWriteAtomicDirectoryRemoved(t *testing.T) {
	fsys := &raceDirFs{Fs: afero.NewOsFs()}
	name := filepath.Join(t.TempDir(), "TestA", "x.json")
	assert.NilError(t, fs.WriteAtomic(fsys, name, []byte("1\n")))
	assert.Assert(t, fsys.raced)
	got, err := os.ReadFile(name)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "1\n")
}
