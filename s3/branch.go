package s3

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

// Branch is an [afero.Fs] over two prefixes of one bucket: its own, where
// every write goes, and a base, which it reads through to and never
// changes. A file is read from the branch's prefix when it is there, and
// from the base's otherwise; a directory lists what both hold. A store on a
// Branch thus starts as the base's store, at no cost, and what the tests of
// a branch of the code record (a re-record with ew, say) shadows the base's
// recording for that branch alone, instead of changing what every other
// branch replays.
//
// A store URL makes one with the setting base: PECAPIKU_STORE=
// s3://bucket/branches/feature-x?base=branches/main (see the package
// documentation). The branch's prefix and its base may not lie one inside
// the other.
//
// # Requests
//
// Listing a directory, or a store, lists both prefixes, at once. A file
// that a listing showed in the base only is read with one GET of the
// base's object; any other file with a GET of the branch's object first,
// and of the base's when the branch has none. Locks ([Fs.LockEntry]) live
// in the branch's prefix: processes working on one branch compute an entry
// once, and two branches that miss it compute it each.
//
// # Removals
//
// A Branch never changes its base. Remove, RemoveAll and Rename fail with
// an error wrapping [ErrInBase], and change nothing, when the base holds
// the file (or, for RemoveAll, something under the directory): the file
// would still be there afterwards. What only the branch holds they remove.
// Remove the rest from the base's own store once the branch is merged.
//
// # Promoting and discarding
//
// When the branch of the code is merged, [Branch.Promote] moves the
// branch's objects over the base's; when it is abandoned,
// [Branch.Discard] deletes them. Both work on the server, a request per
// object copied and one per thousand deleted.
type Branch struct {
	top, base *Fs

	memo listingMemo // of the merged listings

	mu     sync.Mutex
	inBase map[string]bool // files the listings found in the base only
}

var (
	_ afero.Fs          = (*Branch)(nil)
	_ afero.Lstater     = (*Branch)(nil)
	_ fs.AtomicWriter   = (*Branch)(nil)
	_ cache.EntryLocker = (*Branch)(nil)
	_ cache.LockSweeper = (*Branch)(nil)
)

// ErrInBase is wrapped, with io/fs's ErrPermission, by the error of a
// [Branch] asked to remove or rename a file that its base holds, which a
// branch never changes.
var ErrInBase = errors.New("the base of the branch holds it")

// inBaseError is the error of a [Branch] asked to change the file that the
// object url of its base holds.
type inBaseError struct{ url string }

func (e *inBaseError) Error() string {
	return "s3: the base of the branch holds it (" + e.url + "), and a branch never changes its base: " +
		"remove it with the base's own store once the branch is merged"
}

func (e *inBaseError) Unwrap() []error { return []error{ErrInBase, iofs.ErrPermission} }

// NewBranch returns the branch of the objects under prefix in bucket, over
// those under base in the same bucket (see [Branch]). Both filesystems send
// their requests with one client, made as [New] makes it with opts, and
// share what they learn of the store's reachability. It sends no request.
func NewBranch(bucket, prefix, base string, opts ...Option) (*Branch, error) {
	top, err := New(bucket, prefix, opts...)
	if err != nil {
		return nil, err
	}
	return top.branch(base)
}

// branch returns the branch of f over the prefix base of its bucket.
func (f *Fs) branch(base string) (*Branch, error) {
	b := cleanPrefix(base)
	switch {
	case f.prefix == "":
		return nil, fmt.Errorf("s3: s3://%s/ names the whole bucket, which cannot be a branch of base=%s: give the branch a prefix of its own, as in s3://%s/branches/feature-x?base=branches/main", f.bucket, b, f.bucket)
	case b == f.prefix:
		return nil, fmt.Errorf("s3: the base of the branch s3://%s/%s is its own prefix; give another prefix of the bucket, or no base", f.bucket, f.prefix)
	case inside(f.prefix, b) || inside(b, f.prefix):
		return nil, fmt.Errorf("s3: the branch s3://%s/%s and its base s3://%s/%s lie one inside the other; give them prefixes side by side, such as branches/feature-x and branches/main", f.bucket, f.prefix, f.bucket, b)
	}
	return &Branch{top: f, base: f.sibling(b), inBase: map[string]bool{}}, nil
}

// inside reports whether the prefix p lies inside the prefix q.
func inside(p, q string) bool { return q == "" || strings.HasPrefix(p, q+"/") }

// Top returns the filesystem of the branch's own prefix, where its writes
// go.
func (b *Branch) Top() *Fs { return b.top }

// Base returns the filesystem of the base's prefix, which the branch reads
// through to.
func (b *Branch) Base() *Fs { return b.base }

// Name returns "s3 branch".
func (b *Branch) Name() string { return "s3 branch" }

// baseFirst reports whether a read of the file r asks the base first: a
// listing found it there and not in the branch.
func (b *Branch) baseFirst(r string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inBase[r]
}

// inBranch records that the branch holds the file r, as this process wrote
// it or is about to, or may hold it, as another process may have written it
// (the entry is locked to be computed): its reads ask the branch first.
func (b *Branch) inBranch(r string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.inBase, r)
}

// layers returns the two filesystems in the order a read of the file r asks
// them.
func (b *Branch) layers(r string) [2]*Fs {
	if b.baseFirst(r) {
		return [2]*Fs{b.base, b.top}
	}
	return [2]*Fs{b.top, b.base}
}

// openFile opens the file name for reading, from the branch or else the
// base, without telling a directory from nothing; the [ReadThrough] on a
// Branch fetches with it.
func (b *Branch) openFile(name string) (afero.File, error) {
	r := rel(name)
	var err error
	for _, l := range b.layers(r) {
		var f *readFile
		if f, err = l.openObject(name, r); err == nil {
			return f, nil
		}
		if !errors.Is(err, iofs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, err
}

// Open opens the file or directory name for reading: the branch's file,
// else the base's; a directory lists both.
func (b *Branch) Open(name string) (afero.File, error) {
	r := rel(name)
	if r == "" || b.memo.seenDir(r) {
		return b.openDir(name, r), nil
	}
	f, err := b.openFile(name)
	if !errors.Is(err, iofs.ErrNotExist) {
		return f, err
	}
	isDir, derr := b.isDir(r)
	switch {
	case derr != nil:
		return nil, &iofs.PathError{Op: "open", Path: name, Err: derr}
	case isDir:
		return b.openDir(name, r), nil
	}
	return nil, err
}

// isDir reports whether the branch or the base has the directory r.
func (b *Branch) isDir(r string) (bool, error) {
	for _, l := range [2]*Fs{b.top, b.base} {
		isDir, err := l.isDir(r)
		if err != nil || isDir {
			if isDir {
				b.memo.sawDirs(r)
			}
			return isDir, err
		}
	}
	return false, nil
}

func (b *Branch) openDir(name, r string) *dirFile {
	return &dirFile{list: b.readDir, name: name, rel: r}
}

// both runs list on the branch and on the base at once, and returns their
// results in that order.
func both[T any](b *Branch, list func(*Fs) (T, error)) (top, base T, err error) {
	var wg sync.WaitGroup
	var baseErr error
	wg.Go(func() { base, baseErr = list(b.base) })
	top, err = list(b.top)
	wg.Wait()
	return top, base, errors.Join(err, baseErr)
}

// readDir lists the directory r in the branch and in the base, and merges
// the two: a name the branch has is the branch's.
func (b *Branch) readDir(r string) ([]iofs.FileInfo, error) {
	top, base, err := both(b, func(f *Fs) ([]iofs.FileInfo, error) { return f.listDir(r) })
	if err != nil {
		return nil, err
	}
	infos := top
	has := make(map[string]bool, len(top))
	for _, info := range top {
		has[info.Name()] = true
	}
	b.mu.Lock()
	for _, info := range top {
		delete(b.inBase, path.Join(r, info.Name()))
	}
	for _, info := range base {
		if has[info.Name()] {
			continue
		}
		infos = append(infos, info)
		if !info.IsDir() {
			b.inBase[path.Join(r, info.Name())] = true
		}
	}
	b.mu.Unlock()
	sortInfos(infos)
	b.memo.remember(r, infos)
	return infos, nil
}

// listVersions lists the files under the directory dir in the branch and in
// the base, as [Fs.listVersions] does, and merges the two: a file the
// branch has is the branch's. It makes a Branch a remote filesystem that a
// [ReadThrough] lists with two requests per thousand files.
func (b *Branch) listVersions(dir string, recursive bool) (map[string]version, map[string]bool, error) {
	type listing struct {
		files map[string]version
		dirs  map[string]bool
	}
	top, base, err := both(b, func(f *Fs) (listing, error) {
		files, dirs, err := f.listVersions(dir, recursive)
		return listing{files, dirs}, err
	})
	if err != nil {
		return nil, nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for n := range top.files {
		delete(b.inBase, n)
	}
	for n, v := range base.files {
		if _, ok := top.files[n]; !ok {
			top.files[n] = v
			b.inBase[n] = true
		}
	}
	for d := range base.dirs {
		top.dirs[d] = true
	}
	return top.files, top.dirs, nil
}

// Stat describes the file or directory name: the branch's file, else the
// base's, else a directory that either has.
func (b *Branch) Stat(name string) (os.FileInfo, error) {
	r := rel(name)
	if r == "" || b.memo.seenDir(r) {
		return dirInfo(path.Base("/" + r)), nil
	}
	for _, l := range b.layers(r) {
		info, err := l.headObject(r)
		if err == nil {
			return info, nil
		}
		if !errors.Is(err, iofs.ErrNotExist) {
			return nil, &iofs.PathError{Op: "stat", Path: name, Err: err}
		}
	}
	isDir, err := b.isDir(r)
	switch {
	case err != nil:
		return nil, &iofs.PathError{Op: "stat", Path: name, Err: err}
	case isDir:
		return dirInfo(path.Base(r)), nil
	}
	return nil, &iofs.PathError{Op: "stat", Path: name, Err: iofs.ErrNotExist}
}

// LstatIfPossible is [Branch.Stat], answered without a request for a name
// that the last listing of its directory returned, as [Fs.LstatIfPossible]
// is.
func (b *Branch) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	if info, ok := b.memo.listed(rel(name)); ok {
		return info, false, nil
	}
	info, err := b.Stat(name)
	return info, false, err
}

// WriteFileAtomic writes data as the object name of the branch, as
// [Fs.WriteFileAtomic] does, and makes Branch an [fs.AtomicWriter].
func (b *Branch) WriteFileAtomic(name string, data []byte) error {
	_, err := b.writeObject(name, data)
	return err
}

// writeObject is WriteFileAtomic, and returns the version it wrote.
func (b *Branch) writeObject(name string, data []byte) (version, error) {
	b.inBranch(rel(name))
	return b.top.writeObject(name, data)
}

// Create creates or truncates the file name in the branch, as
// [Branch.OpenFile] with os.O_RDWR, os.O_CREATE and os.O_TRUNC.
func (b *Branch) Create(name string) (afero.File, error) {
	return b.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// OpenFile opens the file name with the flags of os.OpenFile. Opened for
// reading only it is [Branch.Open]. Opened for writing it is the branch's
// file, as [Fs.OpenFile] opens it; a file only the base holds is first
// copied into the branch, on the server, unless os.O_TRUNC empties it, and
// exists for os.O_EXCL.
func (b *Branch) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) == 0 {
		return b.Open(name)
	}
	r := rel(name)
	if r != "" && (flag&os.O_TRUNC == 0 || flag&os.O_EXCL != 0 || flag&os.O_CREATE == 0) {
		_, err := b.top.headObject(r)
		inTop := err == nil
		if err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
		}
		inBase := false
		if !inTop {
			_, err := b.base.headObject(r)
			inBase = err == nil
			if err != nil && !errors.Is(err, iofs.ErrNotExist) {
				return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
			}
		}
		switch {
		case inBase && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
			return nil, &iofs.PathError{Op: "open", Path: name, Err: iofs.ErrExist}
		case inBase && flag&os.O_TRUNC == 0:
			if err := b.top.copyKey(b.base.key(r), b.top.key(r)); err != nil {
				return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
			}
		case inBase:
			flag |= os.O_CREATE // truncating the base's file is creating the branch's
		}
	}
	b.inBranch(r)
	return b.top.OpenFile(name, flag, perm)
}

// refuseBase returns the error of op on the file name, or of RemoveAll on
// the directory name when dir is set, when the base holds it; and nil when
// it does not.
func (b *Branch) refuseBase(op, name string, dir bool) error {
	r := rel(name)
	held := false
	if r != "" {
		_, err := b.base.headObject(r)
		if err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return &iofs.PathError{Op: op, Path: name, Err: err}
		}
		held = err == nil
	}
	if !held && dir {
		isDir, err := b.base.isDir(r)
		if err != nil {
			return &iofs.PathError{Op: op, Path: name, Err: err}
		}
		held = isDir
	}
	if !held {
		return nil
	}
	return &iofs.PathError{Op: op, Path: name, Err: &inBaseError{url: b.base.URL(name)}}
}

// Remove deletes the branch's object name. It fails with [ErrInBase],
// deleting nothing, when the base holds name too, since it would still be
// there.
func (b *Branch) Remove(name string) error {
	if err := b.refuseBase("remove", name, false); err != nil {
		return err
	}
	return b.top.Remove(name)
}

// RemoveAll deletes the branch's object name and every object of the
// branch under name/. It fails with [ErrInBase], deleting nothing, when the
// base holds name or something under it.
func (b *Branch) RemoveAll(name string) error {
	if err := b.refuseBase("removeall", name, true); err != nil {
		return err
	}
	return b.top.RemoveAll(name)
}

// Rename moves the branch's file oldname to newname in the branch, as
// [Fs.Rename] does. It fails with [ErrInBase], changing nothing, when the
// base holds oldname.
func (b *Branch) Rename(oldname, newname string) error {
	if err := b.refuseBase("rename", oldname, false); err != nil {
		var pe *iofs.PathError
		if errors.As(err, &pe) {
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: pe.Err}
		}
		return err
	}
	b.inBranch(rel(newname))
	return b.top.Rename(oldname, newname)
}

// Mkdir does nothing: directories are implicit in S3.
func (b *Branch) Mkdir(name string, perm os.FileMode) error { return nil }

// MkdirAll does nothing: directories are implicit in S3.
func (b *Branch) MkdirAll(path string, perm os.FileMode) error { return nil }

// Chmod does nothing: objects have no mode.
func (b *Branch) Chmod(name string, mode os.FileMode) error { return nil }

// Chown does nothing: objects have no owner.
func (b *Branch) Chown(name string, uid, gid int) error { return nil }

// Chtimes does nothing: an object's modification time is when it was
// written.
func (b *Branch) Chtimes(name string, atime, mtime time.Time) error { return nil }

// LockEntry takes the lock of the entry whose file is name in the branch's
// prefix, as [Fs.LockEntry] does, and makes the next read of the entry ask
// the branch first: a store locks an entry to read it again and compute it,
// and another process of the branch may have written it meanwhile.
func (b *Branch) LockEntry(name string) (func(), error) {
	unlock, err := b.top.LockEntry(name)
	if err != nil {
		return nil, err
	}
	b.inBranch(rel(name))
	return unlock, nil
}

// StaleLocks returns the stale locks under the directory dir of the
// branch's prefix, where its locks are; see [Fs.StaleLocks].
func (b *Branch) StaleLocks(dir string) ([]string, error) { return b.top.StaleLocks(dir) }

// Promote moves the branch's objects into the base, for when the branch of
// the code is merged: it copies every object under the branch's prefix but
// the locks to the same name under the base's prefix, on the server
// (CopyObject, up to 5 GiB an object), replacing the base's; then, once
// every copy is made, it deletes the objects it copied and the locks, as
// [Branch.Discard] does. It returns how many objects it copied. A failed
// copy stops it before anything is deleted, so that running it again
// finishes the work.
//
// Run it when no process writes to the branch: an object written there
// during the promotion may be deleted without having been copied.
func (b *Branch) Promote() (int, error) {
	keys, err := b.top.listKeys(b.top.dirPrefix(""))
	if err != nil {
		return 0, fmt.Errorf("s3: promote s3://%s/%s: %w", b.top.bucket, b.top.prefix, err)
	}
	copied := 0
	for _, k := range keys {
		name := strings.TrimPrefix(k, b.top.dirPrefix(""))
		if isLock(path.Base(name)) {
			continue
		}
		if err := b.top.copyKey(k, b.base.key(name)); err != nil {
			return copied, fmt.Errorf("s3: promote s3://%s/%s: %w; nothing was deleted from the branch: run it again", b.top.bucket, b.top.prefix, err)
		}
		copied++
	}
	if _, err := b.top.deleteKeys(keys); err != nil {
		return copied, fmt.Errorf("s3: promote s3://%s/%s: every object was copied to s3://%s/%s, then: %w", b.top.bucket, b.top.prefix, b.base.bucket, b.base.prefix, err)
	}
	return copied, nil
}

// Discard deletes every object under the branch's prefix, locks included,
// for when the branch of the code is abandoned or has been promoted, and
// returns how many it deleted: one request per thousand objects after the
// listing. The base is not touched.
func (b *Branch) Discard() (int, error) {
	keys, err := b.top.listKeys(b.top.dirPrefix(""))
	deleted := 0
	if err == nil {
		deleted, err = b.top.deleteKeys(keys)
	}
	if err != nil {
		return deleted, fmt.Errorf("s3: discard s3://%s/%s: %w", b.top.bucket, b.top.prefix, err)
	}
	return deleted, nil
}

// IgnoresCase reports false: object keys that differ only in case are
// different objects. It makes the Branch an [fs.CaseSensitivity], so that a
// store asks the bucket nothing to find out.
func (b *Branch) IgnoresCase() bool { return false }
