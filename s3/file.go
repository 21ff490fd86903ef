package s3

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"sync"

	"github.com/spf13/afero"
	"github.com/spf13/afero/mem"

	"github.com/pecapiku/pecapiku/cache"
)

// errReadOnly is the error of writing to a file opened for reading.
var errReadOnly = errors.New("the file is open for reading only")

// errNotDir is the error of listing a file.
var errNotDir = errors.New("not a directory")

// readFile is an object opened for reading. Its content streams from the
// GET that opened it; a Seek elsewhere or a ReadAt starts a ranged GET of the
// same version (If-Match its ETag), so a file never mixes two versions.
type readFile struct {
	fs   *Fs
	name string
	rel  string
	info *fileInfo
	etag string

	mu      sync.Mutex
	body    io.ReadCloser // nil until needed again after a Seek
	bodyOff int64         // the offset body reads next
	off     int64
	closed  bool
}

var _ afero.File = (*readFile)(nil)

func (r *readFile) Name() string { return r.name }

func (r *readFile) Stat() (os.FileInfo, error) { return r.info, nil }

func (r *readFile) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, r.pathErr("read", afero.ErrFileClosed)
	}
	if r.off >= r.info.size {
		return 0, io.EOF
	}
	if r.body != nil && r.bodyOff != r.off {
		r.body.Close()
		r.body = nil
	}
	if r.body == nil {
		out, err := r.fs.getObject(r.rel, r.off, r.etag)
		if err != nil {
			return 0, r.pathErr("read", err)
		}
		r.body, r.bodyOff = out.Body, r.off
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	r.bodyOff += int64(n)
	switch {
	case errors.Is(err, io.EOF) && r.off < r.info.size:
		err = r.pathErr("read", r.fs.fail("GetObject", r.fs.key(r.rel), io.ErrUnexpectedEOF))
	case err != nil && !errors.Is(err, io.EOF):
		err = r.pathErr("read", r.fs.fail("GetObject", r.fs.key(r.rel), err))
	}
	return n, err
}

func (r *readFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.info.size {
		return 0, io.EOF
	}
	out, err := r.fs.getObject(r.rel, off, r.etag)
	if err != nil {
		return 0, r.pathErr("read", err)
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p)
	if errors.Is(err, io.ErrUnexpectedEOF) && off+int64(n) == r.info.size {
		return n, io.EOF
	}
	if err != nil {
		return n, r.pathErr("read", r.fs.fail("GetObject", r.fs.key(r.rel), err))
	}
	return n, nil
}

func (r *readFile) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch whence {
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.info.size
	}
	if offset < 0 {
		return 0, r.pathErr("seek", errors.New("negative position"))
	}
	r.off = offset
	return offset, nil
}

func (r *readFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return r.pathErr("close", afero.ErrFileClosed)
	}
	r.closed = true
	if r.body != nil {
		return r.body.Close()
	}
	return nil
}

func (r *readFile) Readdir(int) ([]os.FileInfo, error) { return nil, r.pathErr("readdir", errNotDir) }
func (r *readFile) Readdirnames(int) ([]string, error) { return nil, r.pathErr("readdir", errNotDir) }
func (r *readFile) Sync() error                        { return nil }
func (r *readFile) Truncate(int64) error               { return r.pathErr("truncate", errReadOnly) }
func (r *readFile) Write([]byte) (int, error)          { return 0, r.pathErr("write", errReadOnly) }
func (r *readFile) WriteAt([]byte, int64) (int, error) { return 0, r.pathErr("write", errReadOnly) }
func (r *readFile) WriteString(string) (int, error)    { return 0, r.pathErr("write", errReadOnly) }

func (r *readFile) pathErr(op string, err error) error {
	return &iofs.PathError{Op: op, Path: r.name, Err: err}
}

// dirFile is a directory opened for listing. Its entries are listed on the
// first call that needs them, one ListObjectsV2 per thousand, unless they
// were known when it was opened.
type dirFile struct {
	list func(r string) ([]os.FileInfo, error) // lists the directory r
	name string
	rel  string

	mu     sync.Mutex
	infos  []os.FileInfo
	listed bool
	next   int
}

var _ afero.File = (*dirFile)(nil)

func (f *Fs) openDir(name, r string) *dirFile { return &dirFile{list: f.readDir, name: name, rel: r} }

// readDir lists the directory r and remembers the listing for
// LstatIfPossible.
func (f *Fs) readDir(r string) ([]os.FileInfo, error) {
	infos, err := f.listDir(r)
	if err == nil {
		f.remember(r, infos)
	}
	return infos, err
}

func (d *dirFile) Name() string { return d.name }

func (d *dirFile) Stat() (os.FileInfo, error) { return dirInfo(d.rel), nil }

// Readdir returns the next count entries, or all of the rest when count <= 0,
// as os.File.Readdir does.
func (d *dirFile) Readdir(count int) ([]os.FileInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.listed {
		infos, err := d.list(d.rel)
		if err != nil {
			return nil, &iofs.PathError{Op: "readdir", Path: d.name, Err: err}
		}
		d.infos, d.listed = infos, true
	}
	rest := d.infos[d.next:]
	if count <= 0 {
		d.next = len(d.infos)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if count > len(rest) {
		count = len(rest)
	}
	d.next += count
	return rest[:count], nil
}

func (d *dirFile) Readdirnames(n int) ([]string, error) {
	infos, err := d.Readdir(n)
	names := make([]string, len(infos))
	for i, info := range infos {
		names[i] = info.Name()
	}
	return names, err
}

func (d *dirFile) Close() error                       { return nil }
func (d *dirFile) Sync() error                        { return nil }
func (d *dirFile) Read([]byte) (int, error)           { return 0, d.pathErr("read") }
func (d *dirFile) ReadAt([]byte, int64) (int, error)  { return 0, d.pathErr("read") }
func (d *dirFile) Seek(int64, int) (int64, error)     { return 0, d.pathErr("seek") }
func (d *dirFile) Truncate(int64) error               { return d.pathErr("truncate") }
func (d *dirFile) Write([]byte) (int, error)          { return 0, d.pathErr("write") }
func (d *dirFile) WriteAt([]byte, int64) (int, error) { return 0, d.pathErr("write") }
func (d *dirFile) WriteString(string) (int, error)    { return 0, d.pathErr("write") }

func (d *dirFile) pathErr(op string) error {
	return &iofs.PathError{Op: op, Path: d.name, Err: errors.New("is a directory")}
}

// writeFile is a file opened for writing: its content is kept in memory
// and uploaded by Close.
type writeFile struct {
	*mem.File
	fs   *Fs
	name string
	rel  string
	excl bool // create only: If-None-Match: *

	mu     sync.Mutex
	closed bool
}

var _ afero.File = (*writeFile)(nil)

func (w *writeFile) Name() string { return w.name }

// Close uploads the content as [Fs.WriteFileAtomic] does: the object
// appears whole or, on an error, not at all. A file opened with os.O_EXCL
// is uploaded with one PUT and If-None-Match: *, and fails with io/fs's
// ErrExist when the object was created meanwhile (on a service without
// conditional writes, the check at open time is the only one).
func (w *writeFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return &iofs.PathError{Op: "close", Path: w.name, Err: afero.ErrFileClosed}
	}
	w.closed = true
	data := readAll(w.File.Data())
	if err := w.File.Close(); err != nil {
		return err
	}
	var err error
	if w.excl {
		err = w.fs.putObject(w.rel, data, true)
		if err != nil && !errors.Is(err, errPrecondition) && !errors.Is(err, cache.ErrUnavailable) &&
			!errors.Is(err, ErrAccessDenied) && !errors.Is(err, ErrNoSuchBucket) {
			// No conditional writes here: the check when the file was
			// opened is all there is.
			err = w.fs.putObject(w.rel, data, false)
		}
	} else {
		_, err = w.fs.upload(w.rel, data)
	}
	if errors.Is(err, errPrecondition) {
		err = iofs.ErrExist
	}
	if err != nil {
		return &iofs.PathError{Op: "close", Path: w.name, Err: err}
	}
	return nil
}

// readAll returns the content of fd.
func readAll(fd *mem.FileData) []byte {
	h := mem.NewReadOnlyFileHandle(fd)
	size := mem.GetFileInfo(fd).Size()
	data := make([]byte, size)
	n, _ := h.ReadAt(data, 0)
	return data[:n]
}
