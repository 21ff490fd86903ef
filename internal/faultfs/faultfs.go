// Package faultfs holds the [afero.Fs] wrappers that pecapiku's tests use to
// prove what reaches a disk: [Counting] records every call that could change
// it, and [Faulty] makes one kind of call fail the way a full, broken or
// forbidding disk does.
//
// Both pass every other call through to the filesystem they wrap, including
// [afero.Lstater], so that code which looks for symbolic links behaves as it
// does on the wrapped filesystem.
package faultfs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/fs"
)

// mutatingFlags are the flags of OpenFile that can change a file.
const mutatingFlags = os.O_WRONLY | os.O_RDWR | os.O_CREATE | os.O_TRUNC | os.O_APPEND

// Counting is an [afero.Fs] that records every call that could change
// something on the filesystem it wraps: creating, opening for writing,
// removing, renaming, changing modes, owners or times, making directories or
// links, and writing, truncating or syncing a file it opened. The calls still
// happen; Counting only records them.
//
// Put it under the layer being tested: a store without w sits on a read-only
// view of the Counting, so a call recorded here is one that got past that view
// to the disk.
type Counting struct {
	afero.Fs

	mu    sync.Mutex
	calls []string
}

// NewCounting returns a Counting over fsys.
func NewCounting(fsys afero.Fs) *Counting { return &Counting{Fs: fsys} }

// Mutations returns the mutating calls made so far, in order, each as the
// operation and its path: "rename /a/.x.tmp-1 /a/x".
func (c *Counting) Mutations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

func (c *Counting) record(op string, paths ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := op
	for _, p := range paths {
		s += " " + p
	}
	c.calls = append(c.calls, s)
}

// Create records the call and creates name.
func (c *Counting) Create(name string) (afero.File, error) {
	c.record("create", name)
	f, err := c.Fs.Create(name)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, c: c}, nil
}

// Mkdir records the call and makes the directory name.
func (c *Counting) Mkdir(name string, perm os.FileMode) error {
	c.record("mkdir", name)
	return c.Fs.Mkdir(name, perm)
}

// MkdirAll records the call and makes the directory path and its parents.
func (c *Counting) MkdirAll(path string, perm os.FileMode) error {
	c.record("mkdirall", path)
	return c.Fs.MkdirAll(path, perm)
}

// Open opens name for reading; it records nothing, but writes through the
// file it returns are recorded.
func (c *Counting) Open(name string) (afero.File, error) {
	f, err := c.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, c: c}, nil
}

// OpenFile records the call when flag can change the file, and opens name.
func (c *Counting) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&mutatingFlags != 0 {
		c.record(fmt.Sprintf("openfile(%#x)", flag), name)
	}
	f, err := c.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: f, c: c}, nil
}

// Remove records the call and removes name.
func (c *Counting) Remove(name string) error {
	c.record("remove", name)
	return c.Fs.Remove(name)
}

// RemoveAll records the call and removes path and what it holds.
func (c *Counting) RemoveAll(path string) error {
	c.record("removeall", path)
	return c.Fs.RemoveAll(path)
}

// Rename records the call and renames oldname to newname.
func (c *Counting) Rename(oldname, newname string) error {
	c.record("rename", oldname, newname)
	return c.Fs.Rename(oldname, newname)
}

// Chmod records the call and changes the mode of name.
func (c *Counting) Chmod(name string, mode os.FileMode) error {
	c.record("chmod", name)
	return c.Fs.Chmod(name, mode)
}

// Chown records the call and changes the owner of name.
func (c *Counting) Chown(name string, uid, gid int) error {
	c.record("chown", name)
	return c.Fs.Chown(name, uid, gid)
}

// Chtimes records the call and changes the times of name.
func (c *Counting) Chtimes(name string, atime, mtime time.Time) error {
	c.record("chtimes", name)
	return c.Fs.Chtimes(name, atime, mtime)
}

// LstatIfPossible passes the call through; see [afero.Lstater].
func (c *Counting) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	return lstat(c.Fs, name)
}

// SymlinkIfPossible records the call and makes the link; see [afero.Linker].
func (c *Counting) SymlinkIfPossible(oldname, newname string) error {
	c.record("symlink", oldname, newname)
	return symlink(c.Fs, oldname, newname)
}

// ReadlinkIfPossible passes the call through; see [afero.LinkReader].
func (c *Counting) ReadlinkIfPossible(name string) (string, error) {
	return readlink(c.Fs, name)
}

// countingFile records the calls that change an open file.
type countingFile struct {
	afero.File
	c *Counting
}

func (f *countingFile) Write(p []byte) (int, error) {
	f.c.record("write", f.Name())
	return f.File.Write(p)
}

func (f *countingFile) WriteAt(p []byte, off int64) (int, error) {
	f.c.record("writeat", f.Name())
	return f.File.WriteAt(p, off)
}

func (f *countingFile) WriteString(s string) (int, error) {
	f.c.record("writestring", f.Name())
	return f.File.WriteString(s)
}

func (f *countingFile) Truncate(size int64) error {
	f.c.record("truncate", f.Name())
	return f.File.Truncate(size)
}

// Sync is recorded although it changes no content: a read-only store has
// nothing to sync, so a call to it means something was written.
func (f *countingFile) Sync() error {
	f.c.record("sync", f.Name())
	return f.File.Sync()
}

// Fault is the kind of failure a [Faulty] filesystem injects.
type Fault int

// The faults [Faulty] can inject.
const (
	// NoSpace fails a file write once Limit bytes have been written
	// through the filesystem in all, after writing what fits: a full disk.
	NoSpace Fault = iota + 1
	// SyncFails fails every Sync of a file: a disk that cannot make data
	// durable.
	SyncFails
	// RenameFails fails every Rename.
	RenameFails
	// PermissionDenied fails every call that would change the filesystem,
	// as a directory without write permission does.
	PermissionDenied
)

// String names the fault, as test names and messages show it.
func (f Fault) String() string {
	switch f {
	case NoSpace:
		return "no space"
	case SyncFails:
		return "sync fails"
	case RenameFails:
		return "rename fails"
	case PermissionDenied:
		return "permission denied"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// ErrInjected is wrapped by every error a [Faulty] filesystem makes up.
var ErrInjected = errors.New("injected fault")

// injected is an error made up by Faulty: its message reads like the system's,
// and it matches ErrInjected and, for PermissionDenied, fs.ErrPermission.
type injected struct {
	msg string
	is  error
}

func (e *injected) Error() string { return e.msg + " (injected)" }

func (e *injected) Is(target error) bool {
	return target == ErrInjected || e.is != nil && target == e.is
}

// Faulty is an [afero.Fs] that injects one [Fault] into the filesystem it
// wraps. Every error it makes up is an *os.PathError (an *os.LinkError for
// Rename) that names the file and the operation and wraps [ErrInjected].
type Faulty struct {
	afero.Fs
	// Fault is the failure to inject.
	Fault Fault
	// Limit is, for NoSpace, the number of bytes that can be written
	// before writes fail.
	Limit int64

	mu      sync.Mutex
	written int64
}

// NewFaulty returns a Faulty over fsys that injects fault; limit is the byte
// budget of [NoSpace] and is ignored by the other faults.
func NewFaulty(fsys afero.Fs, fault Fault, limit int64) *Faulty {
	return &Faulty{Fs: fsys, Fault: fault, Limit: limit}
}

func (f *Faulty) denied(op, name string) error {
	if f.Fault != PermissionDenied {
		return nil
	}
	return &os.PathError{Op: op, Path: name, Err: &injected{"permission denied", iofs.ErrPermission}}
}

// Create creates name, unless permission is denied.
func (f *Faulty) Create(name string) (afero.File, error) {
	if err := f.denied("open", name); err != nil {
		return nil, err
	}
	file, err := f.Fs.Create(name)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

// Mkdir makes the directory name, unless permission is denied.
func (f *Faulty) Mkdir(name string, perm os.FileMode) error {
	if err := f.denied("mkdir", name); err != nil {
		return err
	}
	return f.Fs.Mkdir(name, perm)
}

// MkdirAll makes the directory path and its parents, unless permission is
// denied and one of them is missing.
func (f *Faulty) MkdirAll(path string, perm os.FileMode) error {
	if info, err := f.Fs.Stat(path); err == nil && info.IsDir() {
		return nil
	}
	if err := f.denied("mkdir", path); err != nil {
		return err
	}
	return f.Fs.MkdirAll(path, perm)
}

// Open opens name for reading.
func (f *Faulty) Open(name string) (afero.File, error) {
	file, err := f.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

// OpenFile opens name, unless flag can change it and permission is denied.
func (f *Faulty) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&mutatingFlags != 0 {
		if err := f.denied("open", name); err != nil {
			return nil, err
		}
	}
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: file, fs: f}, nil
}

// Remove removes name, unless permission is denied.
func (f *Faulty) Remove(name string) error {
	if err := f.denied("remove", name); err != nil {
		return err
	}
	return f.Fs.Remove(name)
}

// RemoveAll removes path and what it holds, unless permission is denied.
func (f *Faulty) RemoveAll(path string) error {
	if err := f.denied("unlinkat", path); err != nil {
		return err
	}
	return f.Fs.RemoveAll(path)
}

// Rename renames oldname to newname, unless renames fail or permission is
// denied.
func (f *Faulty) Rename(oldname, newname string) error {
	switch f.Fault {
	case RenameFails:
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: &injected{"input/output error", nil}}
	case PermissionDenied:
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: &injected{"permission denied", iofs.ErrPermission}}
	}
	return f.Fs.Rename(oldname, newname)
}

// Chmod changes the mode of name, unless permission is denied.
func (f *Faulty) Chmod(name string, mode os.FileMode) error {
	if err := f.denied("chmod", name); err != nil {
		return err
	}
	return f.Fs.Chmod(name, mode)
}

// Chown changes the owner of name, unless permission is denied.
func (f *Faulty) Chown(name string, uid, gid int) error {
	if err := f.denied("chown", name); err != nil {
		return err
	}
	return f.Fs.Chown(name, uid, gid)
}

// Chtimes changes the times of name, unless permission is denied.
func (f *Faulty) Chtimes(name string, atime, mtime time.Time) error {
	if err := f.denied("chtimes", name); err != nil {
		return err
	}
	return f.Fs.Chtimes(name, atime, mtime)
}

// LstatIfPossible passes the call through; see [afero.Lstater].
func (f *Faulty) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	return lstat(f.Fs, name)
}

// SymlinkIfPossible makes the link, unless permission is denied; see
// [afero.Linker].
func (f *Faulty) SymlinkIfPossible(oldname, newname string) error {
	if f.Fault == PermissionDenied {
		return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: &injected{"permission denied", iofs.ErrPermission}}
	}
	return symlink(f.Fs, oldname, newname)
}

// ReadlinkIfPossible passes the call through; see [afero.LinkReader].
func (f *Faulty) ReadlinkIfPossible(name string) (string, error) {
	return readlink(f.Fs, name)
}

// take returns how many of n bytes may still be written, and counts them as
// written.
func (f *Faulty) take(n int) int {
	if f.Fault != NoSpace {
		return n
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	room := f.Limit - f.written
	if room < 0 {
		room = 0
	}
	if int64(n) > room {
		n = int(room)
	}
	f.written += int64(n)
	return n
}

type faultyFile struct {
	afero.File
	fs *Faulty
}

func (f *faultyFile) Write(p []byte) (int, error) {
	allowed := f.fs.take(len(p))
	n, err := f.File.Write(p[:allowed])
	if err == nil && allowed < len(p) {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: &injected{"no space left on device", nil}}
	}
	return n, err
}

func (f *faultyFile) WriteAt(p []byte, off int64) (int, error) {
	allowed := f.fs.take(len(p))
	n, err := f.File.WriteAt(p[:allowed], off)
	if err == nil && allowed < len(p) {
		err = &os.PathError{Op: "write", Path: f.Name(), Err: &injected{"no space left on device", nil}}
	}
	return n, err
}

func (f *faultyFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *faultyFile) Sync() error {
	if f.fs.Fault == SyncFails {
		return &os.PathError{Op: "sync", Path: f.Name(), Err: &injected{"input/output error", nil}}
	}
	return f.File.Sync()
}

func lstat(fsys afero.Fs, name string) (os.FileInfo, bool, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		return l.LstatIfPossible(name)
	}
	info, err := fsys.Stat(name)
	return info, false, err
}

func symlink(fsys afero.Fs, oldname, newname string) error {
	if l, ok := fsys.(afero.Linker); ok {
		return l.SymlinkIfPossible(oldname, newname)
	}
	return &os.LinkError{Op: "symlink", Old: oldname, New: newname, Err: afero.ErrNoSymlink}
}

func readlink(fsys afero.Fs, name string) (string, error) {
	if l, ok := fsys.(afero.LinkReader); ok {
		return l.ReadlinkIfPossible(name)
	}
	return "", &os.PathError{Op: "readlink", Path: name, Err: afero.ErrNoReadlink}
}

// Leftovers returns the files under dir on fsys whose base name marks them as
// temporary files of [fs.WriteAtomic], sorted. A missing dir has none.
func Leftovers(fsys afero.Fs, dir string) ([]string, error) {
	var out []string
	if _, err := fsys.Stat(dir); errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	err := afero.Walk(fsys, dir, func(p string, info iofs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fs.IsTemp(p) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// Chunked is an [afero.Fs] whose files write at most Size bytes per call to
// the filesystem they wrap, as a network filesystem or a pipe may: one Write
// of a large buffer becomes many, so a process killed while writing stops
// between two of them far more often than within one.
type Chunked struct {
	afero.Fs
	// Size is the most bytes written per call.
	Size int
}

// NewChunked returns a Chunked over fsys that writes size bytes at a time.
func NewChunked(fsys afero.Fs, size int) *Chunked { return &Chunked{Fs: fsys, Size: size} }

// Create creates name.
func (c *Chunked) Create(name string) (afero.File, error) {
	f, err := c.Fs.Create(name)
	if err != nil {
		return nil, err
	}
	return &chunkedFile{File: f, size: c.Size}, nil
}

// OpenFile opens name.
func (c *Chunked) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	f, err := c.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &chunkedFile{File: f, size: c.Size}, nil
}

// LstatIfPossible passes the call through; see [afero.Lstater].
func (c *Chunked) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	return lstat(c.Fs, name)
}

type chunkedFile struct {
	afero.File
	size int
}

func (f *chunkedFile) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		end := min(written+max(f.size, 1), len(p))
		n, err := f.File.Write(p[written:end])
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

func (f *chunkedFile) WriteString(s string) (int, error) { return f.Write([]byte(s)) }
