package s3

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// ReadThrough is an [afero.Fs] that keeps a local copy of the files it
// reads from a remote filesystem: the first read of a file fetches it and
// stores it in the local filesystem, and every later read of it, in this
// process or another one using the same local directory, is a local read
// that sends no request. Writes go to the remote filesystem and, once it
// has them, to the local copy; removals and renames go to both.
//
// Directories are always listed on the remote filesystem, and a file the
// remote filesystem does not have is asked for again on the next read: only
// what exists is copied. A local copy is trusted for as long as it exists,
// so a file that another machine rewrites is seen here only once the copy is
// gone: delete the local directory to see such changes. Entries of a
// pecapiku store change only when a run with access ew records them again,
// and a CI runner usually starts with an empty directory.
//
// Copies are written as pecapiku writes entries (a temporary file renamed
// into place), so a reader never sees part of one, even while another
// process is copying the same file. The access of a store on a ReadThrough
// applies to the remote filesystem: a store without w, which sits on
// [afero.NewReadOnlyFs], reads through and fills the local copy but never
// writes to the remote filesystem.
type ReadThrough struct {
	remote afero.Fs
	local  afero.Fs
}

var (
	_ afero.Fs          = (*ReadThrough)(nil)
	_ afero.Lstater     = (*ReadThrough)(nil)
	_ cache.EntryLocker = (*ReadThrough)(nil)
	_ cache.LockSweeper = (*ReadThrough)(nil)
)

// NewReadThrough returns the filesystem that reads remote through a copy
// kept in local, typically afero.NewBasePathFs(afero.NewOsFs(), dir).
func NewReadThrough(remote, local afero.Fs) *ReadThrough {
	return &ReadThrough{remote: remote, local: local}
}

// Remote returns the remote filesystem.
func (c *ReadThrough) Remote() afero.Fs { return c.remote }

// Local returns the filesystem of the local copy.
func (c *ReadThrough) Local() afero.Fs { return c.local }

// Name returns "ReadThrough".
func (c *ReadThrough) Name() string { return "ReadThrough" }

// Open opens name from the local copy when it has the file, and otherwise
// from the remote filesystem, copying a file (not a directory) to the local
// copy as it goes. When the local copy cannot be written (a full disk, say)
// the file is read from the remote filesystem without it.
func (c *ReadThrough) Open(name string) (afero.File, error) {
	if f, ok := c.openLocal(name); ok {
		return f, nil
	}
	rf, err := c.remote.Open(name)
	if err != nil {
		return nil, err
	}
	info, err := rf.Stat()
	if err != nil || info.IsDir() {
		return rf, err
	}
	err = c.copyLocal(name, rf, info.ModTime())
	rf.Close()
	var readErr *remoteReadError
	if errors.As(err, &readErr) {
		return nil, readErr.err
	}
	if f, ok := c.openLocal(name); ok && err == nil {
		return f, nil
	}
	return c.remote.Open(name)
}

// openLocal opens the local copy of name, if it has a file of that name.
func (c *ReadThrough) openLocal(name string) (afero.File, bool) {
	info, err := c.local.Stat(name)
	if err != nil || !info.Mode().IsRegular() {
		return nil, false
	}
	f, err := c.local.Open(name)
	return f, err == nil
}

// remoteReadError is a failure to read the remote file while copying it.
type remoteReadError struct{ err error }

func (e *remoteReadError) Error() string { return e.err.Error() }

// copyLocal copies the content of rf, the remote file name, to the local
// copy: to a temporary file first, renamed into place when complete.
func (c *ReadThrough) copyLocal(name string, rf io.Reader, modTime time.Time) error {
	dir, base := filepath.Dir(name), filepath.Base(name)
	if err := c.local.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := afero.TempFile(c.local, dir, "."+base+".copy-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, readerFunc(func(p []byte) (int, error) {
		n, err := rf.Read(p)
		if err != nil && !errors.Is(err, io.EOF) {
			err = &remoteReadError{err}
		}
		return n, err
	}))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.local.Chmod(tmp.Name(), 0o644)
	}
	if err == nil && !modTime.IsZero() {
		err = c.local.Chtimes(tmp.Name(), modTime, modTime)
	}
	if err == nil {
		err = c.local.Rename(tmp.Name(), name)
	}
	if err != nil {
		c.local.Remove(tmp.Name())
	}
	return err
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// OpenFile opens name as os.OpenFile does. Opened for reading only it is
// [ReadThrough.Open]. Opened to be written from scratch (with os.O_TRUNC, or
// created with os.O_EXCL), what is written goes to the remote file and to a
// local temporary file that replaces the local copy once the remote file is
// closed without error; opened otherwise, the local copy is dropped.
func (c *ReadThrough) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) == 0 {
		return c.Open(name)
	}
	rf, err := c.remote.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	fresh := flag&os.O_APPEND == 0 && (flag&os.O_TRUNC != 0 || flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL)
	var shadow afero.File
	if fresh && c.local.MkdirAll(filepath.Dir(name), 0o755) == nil {
		shadow, _ = afero.TempFile(c.local, filepath.Dir(name), "."+filepath.Base(name)+".copy-*")
	}
	if shadow == nil {
		c.local.Remove(name)
		return rf, nil
	}
	return &teeFile{File: rf, rt: c, name: name, shadow: shadow}, nil
}

// Create creates or truncates name, as OpenFile with os.O_RDWR, os.O_CREATE
// and os.O_TRUNC.
func (c *ReadThrough) Create(name string) (afero.File, error) {
	return c.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// teeFile writes to a remote file and to the local temporary file that
// becomes its local copy when the remote file is closed.
type teeFile struct {
	afero.File
	rt     *ReadThrough
	name   string
	shadow afero.File // nil once dropped
}

func (t *teeFile) Write(p []byte) (int, error) {
	n, err := t.File.Write(p)
	if t.shadow != nil {
		if _, serr := t.shadow.Write(p[:n]); serr != nil {
			t.drop()
		}
	}
	return n, err
}

func (t *teeFile) WriteString(s string) (int, error) { return t.Write([]byte(s)) }

func (t *teeFile) WriteAt(p []byte, off int64) (int, error) {
	t.drop()
	return t.File.WriteAt(p, off)
}

func (t *teeFile) Truncate(size int64) error {
	t.drop()
	return t.File.Truncate(size)
}

func (t *teeFile) Seek(offset int64, whence int) (int64, error) {
	t.drop()
	return t.File.Seek(offset, whence)
}

// drop abandons the local copy: the written content is no longer a plain
// sequence of writes.
func (t *teeFile) drop() {
	if t.shadow != nil {
		t.shadow.Close()
		t.rt.local.Remove(t.shadow.Name())
		t.shadow = nil
	}
}

// Close closes the remote file and, when that succeeded, puts the local
// temporary file in place of the local copy, or removes the copy when the
// content was not followed.
func (t *teeFile) Close() error {
	err := t.File.Close()
	if t.shadow == nil {
		if err == nil {
			t.rt.local.Remove(t.name)
		}
		return err
	}
	serr := t.shadow.Close()
	switch {
	case err != nil:
		t.rt.local.Remove(t.shadow.Name())
	case serr != nil || t.rt.local.Chmod(t.shadow.Name(), 0o644) != nil || t.rt.local.Rename(t.shadow.Name(), t.name) != nil:
		t.rt.local.Remove(t.shadow.Name())
		t.rt.local.Remove(t.name)
	}
	return err
}

// Mkdir creates the remote directory name.
func (c *ReadThrough) Mkdir(name string, perm os.FileMode) error { return c.remote.Mkdir(name, perm) }

// MkdirAll creates the remote directory path and its parents.
func (c *ReadThrough) MkdirAll(path string, perm os.FileMode) error {
	return c.remote.MkdirAll(path, perm)
}

// Remove removes the local copy of name, then the remote file.
func (c *ReadThrough) Remove(name string) error {
	c.local.Remove(name)
	return c.remote.Remove(name)
}

// RemoveAll removes the local copy of path and everything under it, then
// the remote ones.
func (c *ReadThrough) RemoveAll(path string) error {
	c.local.RemoveAll(path)
	return c.remote.RemoveAll(path)
}

// Rename renames the remote file, then its local copy, or drops the local
// copy of newname when there is none of oldname.
func (c *ReadThrough) Rename(oldname, newname string) error {
	if err := c.remote.Rename(oldname, newname); err != nil {
		return err
	}
	if _, ok := c.openLocalInfo(oldname); !ok || c.local.Rename(oldname, newname) != nil {
		c.local.Remove(newname)
	}
	return nil
}

func (c *ReadThrough) openLocalInfo(name string) (os.FileInfo, bool) {
	info, err := c.local.Stat(name)
	if err != nil || !info.Mode().IsRegular() {
		return nil, false
	}
	return info, true
}

// Stat describes name from its local copy, if there is one, and otherwise
// from the remote filesystem.
func (c *ReadThrough) Stat(name string) (os.FileInfo, error) {
	if info, ok := c.openLocalInfo(name); ok {
		return info, nil
	}
	return c.remote.Stat(name)
}

// LstatIfPossible asks the remote filesystem, so that a walk sees what the
// remote directories hold.
func (c *ReadThrough) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	if l, ok := c.remote.(afero.Lstater); ok {
		return l.LstatIfPossible(name)
	}
	info, err := c.remote.Stat(name)
	return info, false, err
}

// Chmod changes the mode of the remote file and of its local copy.
func (c *ReadThrough) Chmod(name string, mode os.FileMode) error {
	if err := c.remote.Chmod(name, mode); err != nil {
		return err
	}
	if _, ok := c.openLocalInfo(name); ok {
		_ = c.local.Chmod(name, mode) // the copy's mode matters to nobody
	}
	return nil
}

// Chown changes the owner of the remote file.
func (c *ReadThrough) Chown(name string, uid, gid int) error { return c.remote.Chown(name, uid, gid) }

// Chtimes changes the times of the remote file.
func (c *ReadThrough) Chtimes(name string, atime, mtime time.Time) error {
	return c.remote.Chtimes(name, atime, mtime)
}

// LockEntry takes the remote filesystem's lock of an entry when it has
// locks (see [cache.EntryLocker]), and otherwise does nothing.
func (c *ReadThrough) LockEntry(name string) (func(), error) {
	if l, ok := c.remote.(cache.EntryLocker); ok {
		return l.LockEntry(name)
	}
	return func() {}, nil
}

// StaleLocks returns the stale locks of the remote filesystem under dir
// when it can tell them (see [cache.LockSweeper]), and otherwise none.
// Locks are never copied locally.
func (c *ReadThrough) StaleLocks(dir string) ([]string, error) {
	if s, ok := c.remote.(cache.LockSweeper); ok {
		return s.StaleLocks(dir)
	}
	return nil, nil
}

var _ iofs.FileInfo = (*fileInfo)(nil)
