package s3

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

// ReadThrough is an [afero.Fs] that keeps a local copy of the files it
// reads from a remote filesystem, and never serves a copy that the remote
// filesystem no longer holds.
//
// # Revalidation
//
// The first time a process needs a file of a directory, ReadThrough lists
// that directory on the remote filesystem, with each file's version (its
// ETag and size on S3; its size and modification time elsewhere); for a
// store's directory made known with [ReadThrough.IndexStore] it lists the
// whole store at once, a thousand files per request. That listing is the
// truth for the rest of the process, together with what the process writes
// itself: a file it lists is read from the local copy of that version, or
// fetched (one GET) when there is none; a file it does not list does not
// exist, without a request. So a replay costs a listing per directory, or
// per store, and per process, and sees every change made on the remote
// filesystem before the process started: a re-recorded entry is fetched
// again, a removed one is gone.
//
// Changes made by other processes while this one runs are seen where they
// matter: [ReadThrough.LockEntry], which a store calls before it reads a
// missing or corrupt entry again and computes it, drops the local copy and
// makes the next read of that file ask the remote filesystem. A corrupt
// copy is thus fetched again before anything is computed, and a good
// object on the remote filesystem is never overwritten because of a bad
// copy.
//
// # Local copies
//
// A copy is a file next to where the file would be in the local directory,
// named after the file and its version ("name.json@<hash of the version>"),
// written as pecapiku writes entries (a temporary file renamed into place).
// Two versions never share a name, so processes sharing the local
// directory never see a copy of the wrong version, and a new version
// replaces the old copy. When the local copy cannot be written (a full
// disk, say), the file is read from the remote filesystem without one.
//
// # Fetching ahead
//
// On a machine whose local copy is empty or stale, the first file that must
// be fetched from a listing starts fetching the listing's other missing
// files in the background, a few at a time ([WithPrefetch]), so that a
// fresh CI runner does not replay a store one sequential GET at a time.
// Files larger than [PrefetchMaxFile] are left for when they are read, and
// no more than [PrefetchMaxTotal] bytes are fetched ahead per process.
//
// # Writes
//
// Writes go to the remote filesystem and, once it has them, to the local
// copy. [ReadThrough.WriteFileAtomic] (and so fs.WriteAtomic) writes the
// remote file with the remote filesystem's own atomic write when it has
// one. Removals and renames go to both. The access of a store on a
// ReadThrough applies to the remote filesystem: a store without w, which
// sits on [afero.NewReadOnlyFs], reads through and fills the local copy but
// never writes to the remote filesystem.
type ReadThrough struct {
	remote   afero.Fs
	local    afero.Fs
	prefetch int

	mu      sync.Mutex
	roots   map[string]bool   // store directories, listed whole
	units   map[string]*unit  // listings, by directory; recursive ones by store directory
	recheck map[string]bool   // files to ask the remote filesystem about on their next read
	fetches map[string]*fetch // copies being made, by file
	ahead   int64             // bytes fetched ahead so far
	slots   chan struct{}     // one per fetch ahead running
	wg      sync.WaitGroup    // fetches ahead running
}

var (
	_ afero.Fs           = (*ReadThrough)(nil)
	_ afero.Lstater      = (*ReadThrough)(nil)
	_ fs.AtomicWriter    = (*ReadThrough)(nil)
	_ cache.EntryLocker  = (*ReadThrough)(nil)
	_ cache.LockSweeper  = (*ReadThrough)(nil)
	_ cache.StoreIndexer = (*ReadThrough)(nil)
)

// A ReadThroughOption configures a [ReadThrough].
type ReadThroughOption func(*ReadThrough)

// WithPrefetch sets how many files a [ReadThrough] fetches ahead at once;
// 0 turns fetching ahead off. The default is [DefaultPrefetch]. In a store
// URL: ?prefetch=N.
func WithPrefetch(n int) ReadThroughOption {
	return func(c *ReadThrough) { c.prefetch = max(n, 0) }
}

// DefaultPrefetch is the default of [WithPrefetch]. PrefetchMaxFile and
// PrefetchMaxTotal bound what is fetched ahead: files larger than
// PrefetchMaxFile are fetched only when they are read, and a process fetches
// at most PrefetchMaxTotal bytes ahead.
const (
	DefaultPrefetch  = 8
	PrefetchMaxFile  = 16 << 20
	PrefetchMaxTotal = 256 << 20
)

// NewReadThrough returns the filesystem that reads remote through a copy
// kept in local, typically afero.NewBasePathFs(afero.NewOsFs(), dir).
func NewReadThrough(remote, local afero.Fs, opts ...ReadThroughOption) *ReadThrough {
	c := &ReadThrough{
		remote:   remote,
		local:    local,
		prefetch: DefaultPrefetch,
		roots:    map[string]bool{},
		units:    map[string]*unit{},
		recheck:  map[string]bool{},
		fetches:  map[string]*fetch{},
	}
	for _, opt := range opts {
		opt(c)
	}
	c.slots = make(chan struct{}, max(c.prefetch, 1))
	return c
}

// Remote returns the remote filesystem.
func (c *ReadThrough) Remote() afero.Fs { return c.remote }

// Local returns the filesystem of the local copy.
func (c *ReadThrough) Local() afero.Fs { return c.local }

// Name returns "ReadThrough".
func (c *ReadThrough) Name() string { return "ReadThrough" }

// Wait waits until the files being fetched ahead are in the local copy.
func (c *ReadThrough) Wait() { c.wg.Wait() }

// IndexStore makes dir known as the directory of a store, and makes
// ReadThrough a [cache.StoreIndexer]: the first read under dir lists
// everything under it at once, rather than directory by directory, and
// fetching ahead covers the whole store. It sends no request.
func (c *ReadThrough) IndexStore(dir string) {
	r := rel(dir)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.rootOf(r); !ok {
		c.roots[r] = true
	}
}

// version identifies the content of a remote file: its ETag and size when
// the remote filesystem has ETags (an S3 bucket), else its size and
// modification time.
type version struct {
	size    int64
	etag    string
	modTime time.Time
}

// versionOf returns the version a FileInfo of the remote filesystem
// describes.
func versionOf(info iofs.FileInfo) version {
	v := version{size: info.Size(), modTime: info.ModTime()}
	if fi, ok := info.(*fileInfo); ok {
		v.etag = fi.etag
	}
	return v
}

// known reports whether v identifies a content: a write that returned no
// ETag does not.
func (v version) known() bool { return v.etag != "" || !v.modTime.IsZero() }

// tag returns the short name of the version that its local copy carries:
// made of the ETag and the size where there is an ETag (the time an object
// was written is not part of its content), of the size and modification
// time elsewhere.
func (v version) tag() string {
	id := fmt.Sprintf("%d %s", v.size, v.etag)
	if v.etag == "" {
		id = fmt.Sprintf("%d %d", v.size, v.modTime.UnixNano())
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:10])
}

// copySep separates a file's name from its version in the name of its
// local copy.
const copySep = "@"

// copyName returns the local name of the copy of the file n at version v.
func copyName(n string, v version) string { return filepath.FromSlash(n) + copySep + v.tag() }

// A unit is a listing of the remote filesystem: the files and directories
// under dir, with the local copies found there. It is made once per process
// and kept up to date with the process's own writes.
type unit struct {
	dir       string
	recursive bool
	ready     chan struct{}
	err       error
	files     map[string]version  // by name relative to the root
	dirs      map[string]bool     // directories that hold something, by name
	copies    map[string][]string // the tags of the local copies of each file
	ahead     bool                // fetching ahead started
}

// rootOf returns the store directory that holds r, and whether one does.
// c.mu is held.
func (c *ReadThrough) rootOf(r string) (string, bool) {
	for root := range c.roots {
		if root == "" || r == root || strings.HasPrefix(r, root+"/") {
			return root, true
		}
	}
	return "", false
}

// unitFor returns the listing that tells what the file or directory r is:
// its store's, or its parent directory's.
func (c *ReadThrough) unitFor(r string) (*unit, error) {
	c.mu.Lock()
	root, isRoot := c.rootOf(r)
	c.mu.Unlock()
	if isRoot {
		return c.listing(root, true)
	}
	dir := path.Dir(r)
	if dir == "." || r == "" {
		dir = ""
	}
	return c.listing(dir, false)
}

// childrenUnit returns the listing that tells what the directory r holds.
func (c *ReadThrough) childrenUnit(r string) (*unit, error) {
	c.mu.Lock()
	root, isRoot := c.rootOf(r)
	c.mu.Unlock()
	if isRoot {
		return c.listing(root, true)
	}
	return c.listing(r, false)
}

// listing returns the listing of dir, made once per process: recursive
// lists everything under dir, otherwise only what is right under it.
func (c *ReadThrough) listing(dir string, recursive bool) (*unit, error) {
	key := dir
	if recursive {
		key = "\x00" + dir
	}
	c.mu.Lock()
	u := c.units[key]
	if u == nil {
		u = &unit{dir: dir, recursive: recursive, ready: make(chan struct{})}
		c.units[key] = u
		c.mu.Unlock()
		u.err = c.list(u)
		if u.err != nil {
			c.mu.Lock()
			delete(c.units, key) // the next call tries again
			c.mu.Unlock()
		}
		close(u.ready)
	} else {
		c.mu.Unlock()
		<-u.ready
	}
	return u, u.err
}

// remoteLister is a remote filesystem that lists versions itself: an [Fs]
// in one request per thousand objects, with their ETags.
type remoteLister interface {
	listVersions(dir string, recursive bool) (files map[string]version, dirs map[string]bool, err error)
}

// list fills u from the remote filesystem and the local directory.
func (c *ReadThrough) list(u *unit) error {
	var err error
	if l, ok := c.remote.(remoteLister); ok {
		u.files, u.dirs, err = l.listVersions(u.dir, u.recursive)
	} else {
		u.files, u.dirs, err = walkVersions(c.remote, u.dir, u.recursive)
	}
	if err != nil {
		return err
	}
	u.copies = map[string][]string{}
	addCopy := func(dir, base string) {
		name, tag, ok := strings.Cut(base, copySep)
		if ok && !strings.Contains(tag, copySep) && !strings.HasPrefix(name, ".") {
			n := path.Join(dir, name)
			u.copies[n] = append(u.copies[n], tag)
		}
	}
	local := filepath.FromSlash(u.dir)
	if u.dir == "" {
		local = "."
	}
	if u.recursive {
		_ = afero.Walk(c.local, local, func(p string, info iofs.FileInfo, err error) error {
			if err == nil && info.Mode().IsRegular() {
				addCopy(path.Dir(rel(p)), info.Name())
			}
			return nil // a local directory that cannot be read has no copies
		})
	} else if infos, err := afero.ReadDir(c.local, local); err == nil {
		for _, info := range infos {
			if info.Mode().IsRegular() {
				addCopy(u.dir, info.Name())
			}
		}
	}
	return nil
}

// listVersions lists the objects under the directory dir: every one under
// it when recursive, and otherwise the files and directories right under
// it.
func (f *Fs) listVersions(dir string, recursive bool) (map[string]version, map[string]bool, error) {
	files, dirs := map[string]version{}, map[string]bool{}
	r := rel(dir)
	if !recursive {
		infos, err := f.listDir(r)
		if err != nil {
			return nil, nil, err
		}
		f.remember(r, infos)
		for _, info := range infos {
			if info.IsDir() {
				dirs[path.Join(r, info.Name())] = true
			} else {
				files[path.Join(r, info.Name())] = versionOf(info)
			}
		}
		return files, dirs, nil
	}
	p := f.dirPrefix(r)
	err := f.listObjects(p, func(key string, info *fileInfo) {
		n := path.Join(r, strings.TrimPrefix(key, p))
		if n == r || strings.HasSuffix(key, "/") {
			return // a directory's marker object
		}
		files[n] = versionOf(info)
		for d := path.Dir(n); d != "." && d != r && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	})
	return files, dirs, err
}

// walkVersions lists dir on any filesystem, as [Fs.listVersions] does.
func walkVersions(fsys afero.Fs, dir string, recursive bool) (map[string]version, map[string]bool, error) {
	files, dirs := map[string]version{}, map[string]bool{}
	root := filepath.FromSlash(dir)
	if dir == "" {
		root = "."
	}
	if _, err := fsys.Stat(root); errors.Is(err, iofs.ErrNotExist) {
		return files, dirs, nil
	}
	err := afero.Walk(fsys, root, func(p string, info iofs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		n := rel(p)
		switch {
		case p == root:
			return nil
		case info.IsDir():
			dirs[n] = true
			if !recursive {
				return filepath.SkipDir
			}
		default:
			files[n] = versionOf(info)
		}
		return nil
	})
	return files, dirs, err
}

// file returns the version of the file r that the listing u knows, and
// whether it knows one.
func (c *ReadThrough) file(u *unit, r string) (version, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := u.files[r]
	return v, ok
}

// isDir reports whether the listing u shows the directory r.
func (c *ReadThrough) isDir(u *unit, r string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return r == "" || r == u.dir && (len(u.files) > 0 || len(u.dirs) > 0) || u.dirs[r]
}

// mustRecheck reports whether r must be asked of the remote filesystem.
func (c *ReadThrough) mustRecheck(r string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recheck[r]
}

// Open opens the file or directory name: a file from its local copy at the
// version the listing shows, fetching it first when there is none; a
// directory from the listing. A file the listing does not show does not
// exist. See the type's documentation.
func (c *ReadThrough) Open(name string) (afero.File, error) {
	r := rel(name)
	if c.mustRecheck(r) {
		return c.fetchOpen(name, r, nil)
	}
	u, err := c.unitFor(r)
	if err != nil {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
	}
	if v, ok := c.file(u, r); ok {
		if f, ok := c.openCopy(u, r, v); ok {
			return f, nil
		}
		c.fetchAhead(u)
		return c.fetchOpen(name, r, u)
	}
	if c.isDir(u, r) {
		return c.openDir(name, r)
	}
	return nil, &iofs.PathError{Op: "open", Path: name, Err: iofs.ErrNotExist}
}

// openCopy opens the local copy of r at version v, if it has one.
func (c *ReadThrough) openCopy(u *unit, r string, v version) (afero.File, bool) {
	c.mu.Lock()
	has := c.hasCopy(u, r, v)
	c.mu.Unlock()
	if !has {
		return nil, false
	}
	name := copyName(r, v)
	info, err := c.local.Stat(name)
	if err != nil || !info.Mode().IsRegular() || info.Size() != v.size {
		return nil, false
	}
	f, err := c.local.Open(name)
	return f, err == nil
}

// hasCopy reports whether the listing u knows a local copy of the file r
// at version v. c.mu is held.
func (c *ReadThrough) hasCopy(u *unit, r string, v version) bool {
	tag := v.tag()
	for _, t := range u.copies[r] {
		if t == tag {
			return true
		}
	}
	return false
}

// A fetch is the making of a local copy, which concurrent readers of the
// same file wait for.
type fetch struct {
	done chan struct{}
	v    version
	err  error // a failure to read the remote file
	ok   bool  // the local copy was made
}

// fetchOpen fetches the file r into the local copy and opens it, or opens
// the remote file when no local copy could be made. u is the listing to
// update, nil for none.
func (c *ReadThrough) fetchOpen(name, r string, u *unit) (afero.File, error) {
	ft := c.fetchCopy(name, r, u, nil)
	if ft.err != nil {
		return nil, ft.err
	}
	if ft.ok {
		if f, err := c.local.Open(copyName(r, ft.v)); err == nil {
			return f, nil
		}
	}
	return c.remote.Open(name)
}

// fetchCopy copies the remote file r into the local copy, once at a time,
// unless the listing u, when not nil, shows a copy of r's version by now:
// fetching ahead may have made it since the read looked.
//
// ahead, when not nil, is the version of r that fetching ahead listed: then
// it returns nil, fetching nothing, unless r is still at that version
// without a copy and no read is fetching it. Since the jobs were listed, a
// read may have made the copy (the one that started fetching ahead, say),
// or the process may have written or removed the file.
func (c *ReadThrough) fetchCopy(name, r string, u *unit, ahead *version) *fetch {
	c.mu.Lock()
	if ft := c.fetches[r]; ft != nil {
		c.mu.Unlock()
		if ahead != nil {
			return nil
		}
		<-ft.done
		return ft
	}
	if u != nil && !c.recheck[r] {
		v, listed := u.files[r]
		has := listed && c.hasCopy(u, r, v)
		switch {
		case ahead == nil && has:
			c.mu.Unlock()
			return &fetch{v: v, ok: true}
		case ahead != nil && (!listed || v != *ahead || has):
			c.mu.Unlock()
			return nil
		}
	} else if ahead != nil {
		c.mu.Unlock()
		return nil
	}
	ft := &fetch{done: make(chan struct{})}
	c.fetches[r] = ft
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.fetches, r)
		c.mu.Unlock()
		close(ft.done)
	}()

	var rf afero.File
	var err error
	if fo, ok := c.remote.(interface {
		openFile(string) (afero.File, error)
	}); ok {
		rf, err = fo.openFile(name) // one GET, without a listing to tell a directory from nothing
	} else {
		rf, err = c.remote.Open(name)
	}
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			c.gone(r)
		}
		ft.err = err
		return ft
	}
	defer rf.Close()
	info, err := rf.Stat()
	if err != nil {
		ft.err = err
		return ft
	}
	if info.IsDir() {
		ft.err = &iofs.PathError{Op: "open", Path: name, Err: fs.ErrIsDir}
		return ft
	}
	ft.v = versionOf(info)
	if !ft.v.known() {
		return ft
	}
	err = c.writeCopy(r, ft.v, rf)
	var readErr *remoteReadError
	switch {
	case errors.As(err, &readErr):
		ft.err = readErr.err
	case err == nil:
		ft.ok = true
		c.learn(r, ft.v)
	}
	return ft
}

// remoteReadError is a failure to read the remote file while copying it.
type remoteReadError struct{ err error }

func (e *remoteReadError) Error() string { return e.err.Error() }

// writeCopy writes the content of src, the remote file r at version v, as
// its local copy: to a temporary file first, renamed into place when
// complete; then removes the copies of its other versions.
func (c *ReadThrough) writeCopy(r string, v version, src io.Reader) error {
	name := copyName(r, v)
	dir := filepath.Dir(name)
	if err := c.local.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := afero.TempFile(c.local, dir, "."+filepath.Base(name)+".copy-*")
	if err != nil {
		return err
	}
	n, err := io.Copy(tmp, readerFunc(func(p []byte) (int, error) {
		n, err := src.Read(p)
		if err != nil && !errors.Is(err, io.EOF) {
			err = &remoteReadError{err}
		}
		return n, err
	}))
	if err == nil && n != v.size {
		err = &remoteReadError{fmt.Errorf("read %d bytes of %s where the remote filesystem announced %d", n, r, v.size)}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.local.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = c.local.Rename(tmp.Name(), name)
	}
	if err != nil {
		c.local.Remove(tmp.Name())
		return err
	}
	c.dropCopies(r, v.tag())
	return nil
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// dropCopies removes the local copies of r but the one of tag ("" for
// all), as far as the listings know them, and records tag as the one left.
func (c *ReadThrough) dropCopies(r, tag string) {
	c.mu.Lock()
	var old []string
	for _, u := range c.units {
		if !covers(u, r) {
			continue
		}
		for _, t := range u.copies[r] {
			if t != tag {
				old = append(old, t)
			}
		}
		if tag == "" {
			delete(u.copies, r)
		} else {
			u.copies[r] = []string{tag}
		}
	}
	c.mu.Unlock()
	for _, t := range old {
		c.local.Remove(filepath.FromSlash(r) + copySep + t)
	}
}

// covers reports whether the listing u is the one of the file r.
func covers(u *unit, r string) bool {
	if u.recursive {
		return u.dir == "" || strings.HasPrefix(r, u.dir+"/")
	}
	dir := path.Dir(r)
	if dir == "." {
		dir = ""
	}
	return dir == u.dir
}

// learn records that the remote file r is at version v, as the process
// read or wrote it.
func (c *ReadThrough) learn(r string, v version) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.recheck, r)
	for _, u := range c.units {
		if covers(u, r) && u.files != nil {
			u.files[r] = v
			for d := path.Dir(r); d != "." && d != u.dir && !u.dirs[d]; d = path.Dir(d) {
				u.dirs[d] = true
			}
		}
	}
}

// gone records that the remote file r does not exist.
func (c *ReadThrough) gone(r string) {
	c.mu.Lock()
	delete(c.recheck, r)
	for _, u := range c.units {
		if covers(u, r) && u.files != nil {
			delete(u.files, r)
		}
	}
	c.mu.Unlock()
	c.dropCopies(r, "")
}

// forget drops the local copies of r and makes its next read ask the remote
// filesystem: what the process knows of it may be out of date.
func (c *ReadThrough) forget(r string) {
	c.mu.Lock()
	c.recheck[r] = true
	c.mu.Unlock()
	c.dropCopies(r, "")
}

// fetchAhead starts fetching, in the background, the files of the listing
// u that have no local copy of their version, once per listing.
func (c *ReadThrough) fetchAhead(u *unit) {
	if c.prefetch == 0 {
		return
	}
	c.mu.Lock()
	if u.ahead {
		c.mu.Unlock()
		return
	}
	u.ahead = true
	type job struct {
		r string
		v version
	}
	var jobs []job
	for r, v := range u.files {
		if c.hasCopy(u, r, v) || c.recheck[r] || fs.Reserved(r) || v.size > PrefetchMaxFile || c.ahead+v.size > PrefetchMaxTotal {
			continue
		}
		c.ahead += v.size
		jobs = append(jobs, job{r, v})
	}
	c.mu.Unlock()
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].r < jobs[j].r })
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		var wg sync.WaitGroup
		for _, j := range jobs {
			c.slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-c.slots; wg.Done() }()
				c.fetchCopy(filepath.FromSlash(j.r), j.r, u, &j.v)
			}()
		}
		wg.Wait()
	}()
}

// openDir opens the directory r from the listing of what it holds.
func (c *ReadThrough) openDir(name, r string) (afero.File, error) {
	u, err := c.childrenUnit(r)
	if err != nil {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
	}
	c.mu.Lock()
	var infos []iofs.FileInfo
	for n, v := range u.files {
		if parent(n) == r {
			infos = append(infos, &fileInfo{name: path.Base(n), size: v.size, modTime: v.modTime, etag: v.etag})
		}
	}
	for d := range u.dirs {
		if parent(d) == r {
			infos = append(infos, dirInfo(path.Base(d)))
		}
	}
	c.mu.Unlock()
	sortInfos(infos)
	return &dirFile{name: name, rel: r, infos: infos, listed: true}, nil
}

// parent returns the directory of the relative name r, "" for the root.
func parent(r string) string {
	d := path.Dir(r)
	if d == "." {
		return ""
	}
	return d
}

// WriteFileAtomic writes data as the remote file name with the remote
// filesystem's own atomic write when it has one (see [fs.AtomicWriter]),
// and otherwise with [fs.WriteAtomic]; then keeps data as the local copy of
// the version written. On a failure, the local copy is dropped.
func (c *ReadThrough) WriteFileAtomic(name string, data []byte) error {
	r := rel(name)
	var v version
	var err error
	switch remote := c.remote.(type) {
	case interface {
		writeObject(string, []byte) (version, error)
	}:
		v, err = remote.writeObject(name, data)
	case fs.AtomicWriter:
		err = remote.WriteFileAtomic(name, data)
	default:
		err = fs.WriteAtomic(c.remote, name, data)
	}
	if err == nil && !v.known() {
		if info, serr := c.remote.Stat(name); serr == nil {
			v = versionOf(info)
		}
	}
	if err != nil || !v.known() {
		c.forget(r)
		return err
	}
	if c.writeCopy(r, v, bytes.NewReader(data)) == nil {
		c.learn(r, v)
	} else {
		c.forget(r)
	}
	return nil
}

// OpenFile opens name as os.OpenFile does. Opened for reading only it is
// [ReadThrough.Open]. Opened for writing, it is the remote file: the local
// copy is dropped, and the next read asks the remote filesystem.
func (c *ReadThrough) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) == 0 {
		return c.Open(name)
	}
	c.forget(rel(name))
	return c.remote.OpenFile(name, flag, perm)
}

// Create creates or truncates name, as OpenFile with os.O_RDWR, os.O_CREATE
// and os.O_TRUNC.
func (c *ReadThrough) Create(name string) (afero.File, error) {
	return c.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Mkdir creates the remote directory name.
func (c *ReadThrough) Mkdir(name string, perm os.FileMode) error { return c.remote.Mkdir(name, perm) }

// MkdirAll creates the remote directory path and its parents.
func (c *ReadThrough) MkdirAll(path string, perm os.FileMode) error {
	return c.remote.MkdirAll(path, perm)
}

// Remove removes the remote file name, then its local copy.
func (c *ReadThrough) Remove(name string) error {
	r := rel(name)
	c.forget(r)
	if err := c.remote.Remove(name); err != nil {
		return err
	}
	c.gone(r)
	return nil
}

// RemoveAll removes the remote path and everything under it, then their
// local copies; the next reads list the remote filesystem again.
func (c *ReadThrough) RemoveAll(path string) error {
	err := c.remote.RemoveAll(path)
	r := rel(path)
	c.mu.Lock()
	c.units = map[string]*unit{}
	c.mu.Unlock()
	if r == "" {
		return err
	}
	c.local.RemoveAll(path)
	c.dropCopies(r, "")
	if infos, lerr := afero.ReadDir(c.local, filepath.Dir(path)); lerr == nil {
		for _, info := range infos {
			if name, _, ok := strings.Cut(info.Name(), copySep); ok && name == filepath.Base(path) {
				c.local.Remove(filepath.Join(filepath.Dir(path), info.Name()))
			}
		}
	}
	return err
}

// Rename renames the remote file; the local copies of both names are
// dropped.
func (c *ReadThrough) Rename(oldname, newname string) error {
	c.forget(rel(oldname))
	c.forget(rel(newname))
	return c.remote.Rename(oldname, newname)
}

// Stat describes name from the listing.
func (c *ReadThrough) Stat(name string) (os.FileInfo, error) {
	r := rel(name)
	if c.mustRecheck(r) {
		return c.remote.Stat(name)
	}
	u, err := c.unitFor(r)
	if err != nil {
		return nil, &iofs.PathError{Op: "stat", Path: name, Err: err}
	}
	if v, ok := c.file(u, r); ok {
		return &fileInfo{name: path.Base("/" + r), size: v.size, modTime: v.modTime, etag: v.etag}, nil
	}
	if c.isDir(u, r) {
		return dirInfo(path.Base("/" + r)), nil
	}
	// A directory under a listing of one level, that nothing showed yet.
	if cu, err := c.childrenUnit(r); err == nil && !u.recursive && c.isDir(cu, r) {
		return dirInfo(path.Base(r)), nil
	}
	return nil, &iofs.PathError{Op: "stat", Path: name, Err: iofs.ErrNotExist}
}

// LstatIfPossible is [ReadThrough.Stat]: no remote filesystem here has
// symbolic links.
func (c *ReadThrough) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	info, err := c.Stat(name)
	return info, false, err
}

// Chmod changes the mode of the remote file.
func (c *ReadThrough) Chmod(name string, mode os.FileMode) error { return c.remote.Chmod(name, mode) }

// Chown changes the owner of the remote file.
func (c *ReadThrough) Chown(name string, uid, gid int) error { return c.remote.Chown(name, uid, gid) }

// Chtimes changes the times of the remote file.
func (c *ReadThrough) Chtimes(name string, atime, mtime time.Time) error {
	return c.remote.Chtimes(name, atime, mtime)
}

// LockEntry takes the remote filesystem's lock of an entry when it has
// locks (see [cache.EntryLocker]), and otherwise nothing. Either way it
// drops the local copy of the entry and makes its next read ask the remote
// filesystem: a store calls LockEntry before it reads a missing or corrupt
// entry again and computes it, and what it reads then must be what the
// remote filesystem holds now, not a copy that may be bad, nor a listing
// older than another process's write.
func (c *ReadThrough) LockEntry(name string) (func(), error) {
	unlock := func() {}
	if l, ok := c.remote.(cache.EntryLocker); ok {
		var err error
		if unlock, err = l.LockEntry(name); err != nil {
			return nil, err
		}
	}
	c.forget(rel(name))
	return unlock, nil
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

// IgnoresCase reports false: object keys that differ only in case are
// different objects. It makes the ReadThrough an [fs.CaseSensitivity], so that a
// store asks the bucket nothing to find out.
func (c *ReadThrough) IgnoresCase() bool { return false }
