// Package fs holds the storage primitives of pecapiku: an atomic write, a read
// that tells a missing file from every other failure, and the mapping from a
// key to a relative path that can never leave the store's root.
//
// Everything works on an [afero.Fs], so the same code runs on a real directory
// ([afero.NewOsFs]), in memory ([afero.NewMemMapFs]) or on any filesystem a user
// plugs in.
//
// # Atomic writes
//
// [WriteAtomic] writes a temporary file next to the destination, syncs it,
// closes it, makes it readable by everyone (0644) and renames it over the
// destination. A reader sees either the old content or the new, never a part
// of it, and a failure on any step removes the temporary file.
//
// A filesystem that can write a whole file atomically by itself, as an
// object store writes an object in one request, says so by being an
// [AtomicWriter], and WriteAtomic hands it the write in one call instead.
//
// # Keys and paths
//
// A key is a "/"-separated name such as "TestReport/dataset". [KeyPath] turns
// each segment into a file-name-safe form and appends a short hash of the
// original segment to every segment it had to change, so that two different
// keys never share a file and no key reaches outside the root. A [Layout]
// does the same and also hashes every directory named like an entry's file,
// so that a directory never stands where a file must go; [IsKeySegment]
// tells the names they give from all others.
//
// # Symbolic links
//
// Reads follow symbolic links, so an entry may be a link to a file kept
// elsewhere. Writes never go through one: [WriteAtomic] renames its temporary
// file over the destination, which replaces a link with a regular file and
// leaves the link's target as it was, and [CheckUnder] refuses a destination
// whose directories below the store's root include a link, which could lead
// outside of it.
//
// # Reserved names
//
// Names that begin with "." are reserved for this package's own files (the
// temporary files of [WriteAtomic], for instance): [KeyPath] never produces
// one, and [Reserved] tells them apart when listing a directory.
package fs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/spf13/afero"
)

// tempInfix marks the temporary files of WriteAtomic: ".<base>.tmp-<random>".
const tempInfix = ".tmp-"

// An AtomicWriter is a filesystem that writes a whole file atomically by
// itself: a reader of name, in this process or another, sees either its
// previous content or data, never a part of it, and a failure leaves the
// previous content. An S3 bucket is one, since an object appears only once
// the request that writes it is complete. [WriteAtomic] uses it when the
// filesystem has it, as afero's helpers use [afero.Lstater].
//
// WriteFileAtomic creates whatever directories name needs, and leaves the
// file readable by everyone (0644) where the filesystem has modes.
type AtomicWriter interface {
	WriteFileAtomic(name string, data []byte) error
}

// CaseSensitivity is implemented by a filesystem that knows whether it
// tells apart names that differ only in case, so that a store need not find
// out by asking the filesystem for a name with its case swapped: on an
// object store each such question is a request. An S3 bucket respects case.
type CaseSensitivity interface {
	// IgnoresCase reports whether names that differ only in case name
	// the same file.
	IgnoresCase() bool
}

// WriteAtomic writes data to the file name on fsys so that a concurrent reader,
// or a reader after a crash, sees either the previous content of name or data,
// never a mix and never a truncated file.
//
// When fsys is an [AtomicWriter], WriteAtomic is one call of its
// WriteFileAtomic. Otherwise it creates the parent directories of name (0755)
// when they are missing, writes data to a temporary file in the same
// directory, syncs it, sets its mode to 0644, renames it over name and
// closes it (on Windows, which cannot rename an open file, it closes it
// before the rename). On any failure the temporary file is removed, the
// previous content of name is left untouched, and the error names the file
// and the step that failed. On the real filesystem of a Unix system the
// temporary files of a destination take a few fixed names in turn, and the
// next write of the destination removes one that a writer which stopped
// left behind, so such leftovers stay few; a file a live writer uses is
// never touched.
func WriteAtomic(fsys afero.Fs, name string, data []byte) error {
	dir, base := filepath.Dir(name), filepath.Base(name)
	if strings.HasSuffix(name, "/") || strings.HasSuffix(name, string(filepath.Separator)) || base == "." || base == ".." {
		return fmt.Errorf("fs: write %s: not a file name", name)
	}
	if aw, ok := fsys.(AtomicWriter); ok {
		if err := aw.WriteFileAtomic(name, data); err != nil {
			return fmt.Errorf("fs: write %s: %w", name, Pathless(name, err))
		}
		return nil
	}
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fs: write %s: create directory: %w", name, err)
	}
	tmp, err := createTemp(fsys, dir, base)
	if errors.Is(err, iofs.ErrNotExist) {
		// The directory was removed since MkdirAll, by a store that
		// removed the last entry in it: make it again, once.
		if err = fsys.MkdirAll(dir, 0o755); err == nil {
			tmp, err = createTemp(fsys, dir, base)
		}
	}
	if err != nil {
		return fmt.Errorf("fs: write %s: create temporary file: %w", name, err)
	}
	tmpName := tmp.Name()
	fail := func(step string, err error) error {
		// Best effort, both: the error being returned matters more. The
		// file is removed before it is closed, while its lock says the
		// name is this writer's (see temp_unix.go): once closed, another
		// writer may take the name over, and removing it then would
		// remove that writer's file. Where the file must be closed before
		// it can be removed (closeBeforeRename), names are random.
		if !closeBeforeRename {
			fsys.Remove(tmpName)
		}
		tmp.Close() // may already be closed
		if closeBeforeRename {
			fsys.Remove(tmpName)
		}
		return fmt.Errorf("fs: write %s: %s %s: %w", name, step, tmpName, Pathless(tmpName, err))
	}
	n, err := tmp.Write(data)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fail("write", err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("sync", err)
	}
	if closeBeforeRename {
		if err := tmp.Close(); err != nil {
			return fail("close", err)
		}
	}
	// Temporary files are created 0600, which would make a committed
	// fixture unreadable to everyone but its author.
	if err := fsys.Chmod(tmpName, 0o644); err != nil {
		return fail("chmod", err)
	}
	if err := fsys.Rename(tmpName, name); err != nil {
		return fail("rename", err)
	}
	if !closeBeforeRename {
		// Kept open until renamed, so that its lock (see createTemp)
		// shows it in use to the end. The data was synced before the
		// rename, so closing can lose nothing: its error, if any, is not
		// the write's.
		_ = tmp.Close()
	}
	syncDir(fsys, dir)
	return nil
}

// closeBeforeRename says that a file must be closed before it is renamed,
// as on Windows.
const closeBeforeRename = runtime.GOOS == "windows"

// ErrOutsideRoot is returned, wrapped, by [CheckUnder] for a name that a
// write or a removal could not reach without leaving the root.
var ErrOutsideRoot = errors.New("outside the root")

// CheckUnder returns an error wrapping [ErrOutsideRoot] unless writing or
// removing name on fsys stays inside the directory root: name must be a path
// under root (lexically, as [filepath.Rel] sees it), and no directory between
// root and name may be a symbolic link, which could point anywhere. Root
// itself may be a link: it is the caller's choice. Directories that do not
// exist yet are fine, since [WriteAtomic] creates real ones; the final
// element of name may be a link too, since WriteAtomic replaces it rather than
// writing through it. On a filesystem that cannot tell links apart (one that
// is not an [afero.Lstater]), only the lexical check is made.
//
// The check guards against links that are already there, such as links
// committed with a store; a process that makes links inside the store while
// another writes to it can still race it.
func CheckUnder(fsys afero.Fs, root, name string) error {
	rel, err := filepath.Rel(root, name)
	if err != nil || rel == "." || !filepath.IsLocal(rel) {
		return fmt.Errorf("fs: %s: %w %s", name, ErrOutsideRoot, root)
	}
	lst, ok := fsys.(afero.Lstater)
	if !ok {
		return nil
	}
	dir := root
	for _, elem := range strings.Split(filepath.Dir(rel), string(filepath.Separator)) {
		if elem == "." {
			break
		}
		dir = filepath.Join(dir, elem)
		info, _, err := lst.LstatIfPossible(dir)
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("fs: %s: %w", name, err)
		}
		if info.Mode()&iofs.ModeSymlink != 0 {
			return fmt.Errorf("fs: %s: %w %s: its directory %s is a symbolic link, which pecapiku does not write through; replace the link with a directory",
				name, ErrOutsideRoot, root, dir)
		}
		if !info.IsDir() {
			return fmt.Errorf("fs: %s: %s is not a directory", name, dir)
		}
	}
	return nil
}

// syncDir makes a finished rename durable across a power loss where the
// platform allows it. Directories cannot be synced everywhere (Windows, some
// afero filesystems), and the rename is already atomic for readers, so a
// failure here is not reported.
func syncDir(fsys afero.Fs, dir string) {
	d, err := fsys.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// DefaultMaxSize is the size limit that stores give [ReadFile] unless told
// otherwise: 1 GiB.
const DefaultMaxSize = 1 << 30

// ErrNotRegular is returned, wrapped, by [ReadFile] for a name that is not a
// regular file: a device, a named pipe, a socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned, wrapped, by [ReadFile] for a file larger than its
// limit.
var ErrTooLarge = errors.New("larger than the size limit")

// ReadFile returns the content of the file name on fsys, a regular file of
// at most limit bytes.
//
// When name does not exist the error satisfies errors.Is(err, fs.ErrNotExist)
// (io/fs's ErrNotExist). A directory is [ErrIsDir]; a device, a named pipe
// or a socket, such as a link to /dev/zero, is [ErrNotRegular], found
// without blocking and without reading from it; a file larger than limit is
// [ErrTooLarge], found before anything is allocated for it. On the real
// filesystem a file is read up to the size it has when it is opened, so
// bytes that a writer appends in place meanwhile are not read (a store
// replaces its files whole); elsewhere it is read to its end, and a file
// that grows past limit while it is read is ErrTooLarge too. Every error
// names the file.
func ReadFile(fsys afero.Fs, name string, limit int64) ([]byte, error) {
	f, info, err := openRegular(fsys, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > limit {
		return nil, fmt.Errorf("fs: read %s: %w: it holds %d bytes and the limit is %d", name, ErrTooLarge, info.Size(), limit)
	}
	size := max(info.Size(), 0)
	if sizeIsExact(fsys, info) {
		data := make([]byte, size)
		n, err := io.ReadFull(f, data)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, readError(name, err)
		}
		return data[:n], nil // shorter if it shrank since
	}
	// One allocation of the right size in the common case: the file size as
	// reported, plus one byte so that reading to EOF needs no second buffer.
	data := make([]byte, 0, size+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, fmt.Errorf("fs: read %s: %w: it grew past the limit of %d bytes while it was read", name, ErrTooLarge, limit)
		}
		if errors.Is(err, io.EOF) {
			return data, nil
		}
		if err != nil {
			return nil, readError(name, err)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

// sizeIsExact reports whether info, the Stat of an open file of fsys,
// gives the size that reading the file finds, so that reading that many
// bytes reads it all, without the read that would find its end. That holds
// on the real filesystem, unless a writer changes the file in place (a
// store's writes rename a whole file over it instead), for a file that
// reports a size: those of /proc report none. Elsewhere the size may come
// from a listing made earlier (an object store's), and reads go to the end.
func sizeIsExact(fsys afero.Fs, info iofs.FileInfo) bool {
	_, real := fsys.(*afero.OsFs)
	return real && info.Size() > 0
}

// openRegular opens the regular file name on fsys for reading, refusing a
// directory, a device, a named pipe or a socket, with errors as ReadFile's.
func openRegular(fsys afero.Fs, name string) (afero.File, iofs.FileInfo, error) {
	// Opening a named pipe for reading waits for a writer, forever if none
	// comes. On the real filesystem the open does not wait (O_NONBLOCK),
	// and the Stat below refuses the pipe; the flag also spares os.Open
	// four system calls, which make the file non-blocking and back again.
	// Other filesystems may not ignore the flag (a MemMapFs opens the file
	// for writing), so where one of afero's wrappers may lead to the real
	// filesystem, a Stat refuses what is not a regular file before the
	// open (a named pipe put there between the two could still make the
	// open wait: the real filesystem, as a store reads it, has no such
	// gap); filesystems of their own have no named pipes.
	var f afero.File
	var err error
	switch fsys.(type) {
	case *afero.OsFs:
		f, err = fsys.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	case *afero.ReadOnlyFs, *afero.BasePathFs, *afero.CopyOnWriteFs, *afero.CacheOnReadFs, *afero.RegexpFs:
		if info, err := fsys.Stat(name); err == nil && !info.IsDir() && !info.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("fs: read %s: %w (%s)", name, ErrNotRegular, kind(info.Mode()))
		}
		f, err = fsys.Open(name)
	default:
		f, err = fsys.Open(name)
	}
	if err != nil {
		return nil, nil, readError(name, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, readError(name, err)
	}
	switch {
	case info.IsDir():
		f.Close()
		return nil, nil, fmt.Errorf("fs: read %s: %w", name, ErrIsDir)
	case !info.Mode().IsRegular():
		f.Close()
		return nil, nil, fmt.Errorf("fs: read %s: %w (%s)", name, ErrNotRegular, kind(info.Mode()))
	}
	return f, info, nil
}

// SameContent reports whether the file name on fsys holds exactly data,
// and whether it exists, reading it a piece at a time, so that comparing a
// large file costs no copy of it in memory; a file of another size is not
// read (nor, on a filesystem other than the real one, opened: its size
// comes from a Stat). As for [ReadFile], on the real filesystem the file is
// read up to the size it has when it is opened. A missing file is no
// error; one that is not regular is an error as for ReadFile.
func SameContent(fsys afero.Fs, name string, data []byte) (same, exists bool, err error) {
	// The size first, from a Stat: on an object store it comes from a
	// listing, where opening the file would fetch it. On the real
	// filesystem opening costs no more than a Stat, and the size comes
	// from the open file.
	if _, real := fsys.(*afero.OsFs); !real {
		switch info, err := fsys.Stat(name); {
		case errors.Is(err, iofs.ErrNotExist):
			return false, false, nil
		case err == nil && info.Mode().IsRegular() && info.Size() != int64(len(data)):
			return false, true, nil
		}
	}
	f, info, err := openRegular(fsys, name)
	if errors.Is(err, iofs.ErrNotExist) {
		return false, false, nil
	}
	if err != nil {
		return false, true, err
	}
	defer f.Close()
	if info.Size() != int64(len(data)) {
		return false, true, nil
	}
	if sizeIsExact(fsys, info) {
		buf := make([]byte, min(len(data), 64<<10))
		for len(data) > 0 {
			n, err := io.ReadFull(f, buf[:min(len(buf), len(data))])
			switch {
			case !bytes.Equal(buf[:n], data[:n]), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
				return false, true, nil
			case err != nil:
				return false, true, readError(name, err)
			}
			data = data[n:]
		}
		return true, true, nil
	}
	buf := make([]byte, min(len(data)+1, 64<<10))
	for {
		n, err := io.ReadFull(f, buf)
		if n > len(data) || !bytes.Equal(buf[:n], data[:n]) {
			return false, true, nil
		}
		data = data[n:]
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return len(data) == 0, true, nil
		case err != nil:
			return false, true, readError(name, err)
		}
	}
}

// kind names the type of a file that is not regular, for a message.
func kind(m iofs.FileMode) string {
	switch {
	case m&iofs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&iofs.ModeCharDevice != 0:
		return "a character device"
	case m&iofs.ModeDevice != 0:
		return "a device"
	case m&iofs.ModeSocket != 0:
		return "a socket"
	case m&iofs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "mode " + m.String()
}

// readError wraps err, a failure to read name, so that the message names the
// file once: "fs: read testdata/x.json: file does not exist".
func readError(name string, err error) error {
	return fmt.Errorf("fs: read %s: %w", name, Pathless(name, err))
}

// Pathless returns the error inside err when err is an *iofs.PathError, or
// the *os.LinkError of a rename, about name, for a message that names the
// file already: "read testdata/x.json: file does not exist" rather than
// "read testdata/x.json: open testdata/x.json: file does not exist". An
// error about a path that ends in name, after a separator, is about it too,
// seen through a filesystem below a base directory (an afero.BasePathFs).
// Other errors it returns as they are.
func Pathless(name string, err error) error {
	var pathErr *iofs.PathError
	if errors.As(err, &pathErr) && isAbout(pathErr.Path, name) {
		return pathErr.Err
	}
	var linkErr *os.LinkError
	if errors.As(err, &linkErr) && linkErr.Old == name {
		return linkErr.Err
	}
	return err
}

// isAbout reports whether the path p names the file name, as it is or below
// a base directory: p ends in name, after a separator.
func isAbout(p, name string) bool {
	if name == "" || !strings.HasSuffix(p, name) {
		return false
	}
	rest := p[:len(p)-len(name)]
	return rest == "" || os.IsPathSeparator(name[0]) || os.IsPathSeparator(rest[len(rest)-1])
}

// ErrIsDir is returned, wrapped, by [ReadFile] when the name it is given is a
// directory.
var ErrIsDir = errors.New("is a directory, not a file")

// Reserved reports whether the base name of path is reserved for this
// package's own files, such as the temporary files of [WriteAtomic]: that is,
// whether it begins with ".". [KeyPath] never produces such a name, so a
// listing of a store skips them.
func Reserved(path string) bool {
	return strings.HasPrefix(filepath.Base(path), ".")
}

// ErrInUse is returned, wrapped, by [RemoveLeftover] for a temporary file
// that a writer at work holds.
var ErrInUse = errors.New("a writer is using it")

// IsTemp reports whether the base name of path is a temporary file of
// [WriteAtomic]. One that is on disk and that no writer holds was left by a
// process that stopped while writing; it never replaced its destination and
// can be removed with [RemoveLeftover].
func IsTemp(path string) bool {
	base := filepath.Base(path)
	return strings.HasPrefix(base, ".") && strings.Contains(base, tempInfix)
}
