// Package cache is pecapiku's persistent memoization engine: it runs an
// expensive function once, keeps its typed result in a file, and returns the
// stored result on every later run, in any Go program. Package pecatest builds
// on it for tests.
//
// # Stores and entries
//
// A [Store] is a directory of entries on an [afero.Fs], one file per entry,
// named after its key (see [Store.Path]) with the extension of its [Codec].
// [Do] is the heart of the package: it returns the value stored under a key
// or computes, stores and returns it.
//
//	store, err := cache.NewStore("testdata/cache")
//	...
//	words, err := cache.Do(store, "corpus/words", countWords)
//
// # Keys and files
//
// A key is a "/"-separated name; each of its segments but the last is a
// directory of the store, the last its file (see [Store.Path]). The mapping
// is one-to-one: two keys never share a file, no directory of one key ever
// has the name of another key's file, and, since the disks of macOS and
// Windows take two names that differ only in case for one file, a store
// refuses to create a name that differs only in case from one already in
// its directory ([ErrCaseConflict]), on every system. Entries written by
// older versions of pecapiku, whose layout let a directory take the name
// of a file, are still found, and moved with w.
//
// # Access
//
// An [Access] says what a run may do: r read the store, e execute the
// function, w write its result.
//
//	access         entry present                entry missing
//	rew (default)  return stored value          execute, write, return
//	re             return stored value          execute, return, write nothing
//	r   (CI)       return stored value          error: ErrNotCached
//	ew  (refresh)  execute, overwrite, return   execute, write, return
//	e   (bypass)   execute, return              execute, return
//
// A store's access comes from [WithAccess], else from the environment
// variable PECAPIKU_ACCESS, else it is rew. A store without w does all
// that could change the disk through [afero.NewReadOnlyFs] (it reads its
// entries from its filesystem as given): however it is called, it cannot
// change a byte on disk.
//
// # What is never written
//
// A function that returns an error or panics writes nothing. Before writing,
// [Do] and [Store.Write] decode what the codec encoded and compare it with
// the value (unexported fields included); a value that would come back
// different, such as a struct with unexported fields under JSON, is refused
// with [ErrRoundTrip] and a diff. A stored entry that cannot be decoded is
// [ErrCorrupt] without e, and a miss, recomputed and (with w) overwritten,
// with it.
//
// # Memoizing functions
//
// [Func] wraps a function of one argument so that each distinct argument is
// computed once and stored under <dir>/<name>/, one file per key; the key is
// derived from the argument's value (see [Func] for the rules, which hold in
// every process, on every platform and with every Go version), chosen with
// [KeyFunc] or fixed with [ConstKey]. [SingleValue] wraps a function without
// arguments. [Version] and [MaxAge] invalidate entries, [EntryKey] names
// them, and [NewUserStore] puts a program's store in the user's cache
// directory.
//
//	store, err := cache.NewUserStore("embeddings")
//	...
//	embed, err := cache.Func(store, "embed", embedText)
//	...
//	vector, err := embed("hello") // computed once, then read from disk
//
// # Shared stores
//
// A store can live on any [afero.Fs], and the environment variable
// [EnvStore] puts every store made without [WithFs] on a shared one:
// PECAPIKU_STORE=s3://bucket/prefix, with the S3 support enabled by a blank
// import of github.com/pecapiku/pecapiku/s3 (see [RegisterScheme]), or
// PECAPIKU_STORE=file:///shared/dir for a directory. A store that cannot be
// reached is an error wrapping [ErrUnavailable], which [Do] turns into an
// execution when e is granted; on a filesystem that is an [EntryLocker],
// processes that miss the same entry take turns, and on one that is also a
// [LockSweeper], [Store.StaleLocks] finds the locks of processes that died.
//
// # What a store may delete
//
// A store deletes only files it can show it wrote. A store's directory is
// its own when pecapiku created it: the write that creates the directory
// also writes a [StoreMarker] file, .pecapiku-store, in it; a directory
// named .pecapiku ([ReservedStoreName], where package pecatest keeps its
// fixtures) is one by its name. A store kept in a directory that was there
// before, such as a package's own directory, is never pruned: it may hold
// a package.json or a hand-written testdata/input.json that merely looks
// like an entry. [Store.Unused] and [Store.Remove] refuse it with
// [ErrNotOwned], naming the directory and how to mark it by hand.
//
// Within a store of its own, only the files whose names pecapiku could
// have given a key (see [fs.IsKeySegment]), with a codec's extension, count
// as entries; a README.md, a "my notes.json" or a .gitattributes are never
// removed.
// [Store.Unused] lists the entries that no call used, with the leftovers of
// interrupted writes and stale locks: it is what pecatest.Run with
// PECAPIKU_PRUNE=1 and the pecapiku command's prune both remove. No
// listing and no removal follows a symbolic link below the store's
// directory; the directory itself may be one.
package cache

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/fs"
)

// Store is a directory of entries, one file per key. Its methods and [Do] are
// safe for concurrent use.
type Store struct {
	fsys     afero.Fs // read-only unless access has w
	base     afero.Fs // as given: for telling which stores share a disk, and for reading entries
	dir      string
	access   Access
	codec    Codec
	layout   fs.Layout
	former   func(key string) string
	observer func(Event)
	once     bool
	maxSize  int64
	known    *storeKnows // what it has found out, shared with its copies
}

// An Option configures a [Store].
type Option func(*settings)

type settings struct {
	fsys     afero.Fs
	access   Access
	codec    Codec
	former   func(key string) string
	observer func(Event)
	once     bool
	maxSize  int64
}

// WithAccess sets the store's access, overriding PECAPIKU_ACCESS.
func WithAccess(a Access) Option {
	if int(a) < len(accessOptions) {
		return accessOptions[a]
	}
	return func(s *settings) { s.access = a }
}

// accessOptions are the options of [WithAccess], made once: a caller that
// makes a store per call (pecatest) would otherwise allocate one each time.
var accessOptions = func() (opts [8]Option) {
	for a := range opts {
		opts[a] = func(s *settings) { s.access = Access(a) }
	}
	return opts
}()

// WithCodec sets the codec of the store's entries; the default is [JSON].
func WithCodec(c Codec) Option {
	switch c {
	case JSON:
		return withJSON
	case Gob:
		return withGob
	case Raw:
		return withRaw
	}
	return func(s *settings) { s.codec = c }
}

// The options of [WithCodec] for the codecs of this package, made once (see
// accessOptions).
var (
	withJSON Option = func(s *settings) { s.codec = JSON }
	withGob  Option = func(s *settings) { s.codec = Gob }
	withRaw  Option = func(s *settings) { s.codec = Raw }
)

// WithFs puts the store on fsys; the default is the filesystem that
// [EnvStore] (PECAPIKU_STORE) names, else the real filesystem,
// [afero.NewOsFs].
func WithFs(fsys afero.Fs) Option { return func(s *settings) { s.fsys = fsys } }

// WithFormerKeys tells the store that an older version of its caller
// stored the entry of a key under another key: former(key), or key itself
// when former returns "". An entry that is missing from its file is
// looked for in the file that [Store.FormerPath] gives its former key, as
// an older version of pecapiku laid it out; see [Store.Path] for what is
// then read and moved.
func WithFormerKeys(former func(key string) string) Option {
	return func(s *settings) { s.former = former }
}

// WithObserver has f called with an [Event] for each thing [Do] and
// [Store.Write] do: a hit, a corrupt entry, an execution, a write, an entry
// left unchanged or moved. f is called from the goroutine that did it and
// must be safe for concurrent use.
func WithObserver(f func(Event)) Option { return func(s *settings) { s.observer = f } }

// WithMaxSize sets the size in bytes of the largest entry the store reads;
// the default is [fs.DefaultMaxSize], 1 GiB. Reading a larger file fails,
// before anything is allocated for it, with an error that wraps
// [fs.ErrTooLarge] and names the file and its size, so that a damaged or
// planted file (a sparse file of gigabytes) cannot exhaust the memory of
// the process. n must be positive.
func WithMaxSize(n int64) Option { return func(s *settings) { s.maxSize = n } }

// OncePerProcess makes [Do] execute the function of an entry at most once
// in this process, whatever the access: a later call for the same entry, in
// this store or another with this option that reaches the same file, gets a
// copy of the value computed first (and writes it, when its access has w
// and the entry does not hold it yet) instead of executing the function
// again. The encoding of every value computed is kept in memory until the
// process ends. Package pecatest uses it, so that an entry's function runs
// at most once per test binary under access re or e too.
func OncePerProcess() Option { return oncePerProcess }

var oncePerProcess Option = func(s *settings) { s.once = true }

// NewStore returns the store of the entries under dir on the filesystem of
// [WithFs] (a relative dir is relative to the working directory of the
// process, or to the location of PECAPIKU_STORE). It touches nothing on
// disk: the directory is created by the first write.
//
// It fails when the access given with [WithAccess], or else read from
// PECAPIKU_ACCESS, is not valid, and when PECAPIKU_STORE names a store that
// cannot be opened (see [OpenURL]).
func NewStore(dir string, opts ...Option) (*Store, error) {
	var set settings
	for _, opt := range opts {
		opt(&set)
	}
	if set.access == 0 {
		a, ok, err := AccessFromEnv()
		if err != nil {
			return nil, fmt.Errorf("cache: store %s: %w", dir, err)
		}
		set.access = ReadExecuteWrite
		if ok {
			set.access = a
		}
	}
	if !set.access.Valid() {
		return nil, fmt.Errorf("cache: store %s: %w %s; %s", dir, ErrInvalidAccess, set.access, validForms)
	}
	if set.codec == nil {
		set.codec = JSON
	}
	switch {
	case set.maxSize == 0:
		set.maxSize = fs.DefaultMaxSize
	case set.maxSize < 0:
		return nil, fmt.Errorf("cache: store %s: WithMaxSize(%d): the size limit must be positive", dir, set.maxSize)
	}
	if set.fsys == nil {
		fsys, err := defaultFs()
		if err != nil {
			return nil, fmt.Errorf("cache: store %s: %w", dir, err)
		}
		set.fsys = fsys
	}
	s := &Store{
		fsys:     set.fsys,
		base:     set.fsys,
		dir:      filepath.Clean(dir),
		access:   set.access,
		codec:    set.codec,
		layout:   layoutOf(set.codec),
		former:   set.former,
		observer: set.observer,
		once:     set.once,
		maxSize:  set.maxSize,
		known:    &storeKnows{},
	}
	if !s.access.CanWrite() {
		if _, ok := set.fsys.(*afero.OsFs); ok {
			s.fsys = readOnlyOsFs // the real filesystem has no state: one wrapper serves all
		} else {
			s.fsys = afero.NewReadOnlyFs(set.fsys)
		}
	}
	return s, nil
}

var readOnlyOsFs = afero.NewReadOnlyFs(afero.NewOsFs())

// Observe returns a view of s that calls f, instead of the observer of
// [WithObserver], with the events of what is done through it; nil calls
// none. The view is s in all else, and shares what s has found out about
// its directory, so a program that serves many callers from one store can
// make it once and give each caller a view that reports to that caller,
// at the cost of one small allocation.
func (s *Store) Observe(f func(Event)) *Store {
	view := *s
	view.observer = f
	return &view
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Access returns the store's access.
func (s *Store) Access() Access { return s.access }

// Codec returns the codec of the store's entries.
func (s *Store) Codec() Codec { return s.codec }

// Path returns the file that holds the entry of key: the store's directory
// joined with the path of key in the store's [fs.Layout] and the codec's
// extension, so "TestReport/dataset" is <dir>/TestReport/dataset.json under
// JSON. Keys made of ASCII letters, digits, ".", "_", "-" and "/" are used as
// they are, but for a directory named like an entry's file: the segments of
// a key but the last that end with the extension of a codec of this package
// or of the store's, in any case, get a hash appended, so that the
// directory of "TestX/config.json/v", config.json~587cb980af76, never
// stands in the way of the file of "TestX/config", config.json. Other keys
// are mapped to a safe, distinct name inside the directory (see
// [fs.KeyPath]).
//
// # Entries of older versions
//
// Older versions of pecapiku laid every key out with [fs.KeyPath] alone,
// without hashing the directories named like files. When an entry's file
// is missing and the one that [Store.FormerPath] gives it (or its former
// key, see [WithFormerKeys]) exists, [Store.Read] and [Do] read that one
// instead; with w, they then move it to Path, byte for byte and with its
// modification time, removing the old file and the directories that leaves
// empty. [Store.Write] writes at Path and removes the old file too, and
// [Store.Delete] removes both.
func (s *Store) Path(key string) (string, error) {
	if last := s.known.lastPath.Load(); last != nil && last.key == key {
		return last.path, nil
	}
	rel, err := s.layout.Path(key)
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	path := s.join(rel)
	s.known.lastPath.Store(&keyPath{key, path})
	return path, nil
}

// FormerPath returns the file that held the entry of key in the layout of
// older versions of pecapiku: the store's directory joined with
// [fs.KeyPath] of key and the codec's extension. It differs from
// [Store.Path] only for a key with a directory named like an entry's file.
func (s *Store) FormerPath(key string) (string, error) {
	rel, err := fs.KeyPath(key)
	if err != nil {
		return "", fmt.Errorf("cache: %w", err)
	}
	return s.join(rel), nil
}

// join returns the file of rel, a path that a layout gave a key.
func (s *Store) join(rel string) string {
	// s.dir is clean, and so is rel, whose segments the layout made
	// plain names: filepath.Join would only clean them again, on every
	// call. Join remains for "." and for volume names (C: on Windows).
	rel = filepath.FromSlash(rel)
	switch {
	case s.dir == "." || filepath.VolumeName(s.dir) != "":
		return filepath.Join(s.dir, rel) + s.codec.Ext()
	case strings.HasSuffix(s.dir, string(filepath.Separator)):
		return s.dir + rel + s.codec.Ext()
	}
	return s.dir + string(filepath.Separator) + rel + s.codec.Ext()
}

// formerFile returns the file in which an older version of pecapiku kept
// the entry of key, whose file is path, and whether it is another file.
func (s *Store) formerFile(key, path string) (string, bool) {
	former := key
	if s.former != nil {
		if f := s.former(key); f != "" {
			former = f
		}
	}
	old, err := s.FormerPath(former)
	return old, err == nil && old != path
}

// defaultLayout is the layout of a store of a codec of this package.
var defaultLayout = newLayout()

// layoutOf returns the layout of a store of codec c: no directory may end
// with the extension of a codec of this package, nor with c's.
func layoutOf(c Codec) fs.Layout {
	for _, known := range codecs {
		if c.Ext() == known.Ext() {
			return defaultLayout
		}
	}
	return newLayout(c.Ext())
}

// newLayout returns the layout in which no directory ends with the
// extension of a codec of this package, nor with one of exts.
func newLayout(exts ...string) fs.Layout {
	for _, c := range codecs {
		exts = append(exts, c.Ext())
	}
	return fs.NewLayout(exts...)
}

// Read decodes the entry of key into the value v points to. An entry that
// an older version of pecapiku wrote elsewhere is read there, and with w
// moved to its path (see [Store.Path]).
//
// A missing entry is an error that satisfies errors.Is(err, fs.ErrNotExist)
// (io/fs's); one that cannot be decoded satisfies errors.Is(err,
// ErrCorrupt); one whose name differs only in case from that of an entry
// (or directory) that is there, [ErrCaseConflict]. Without r, Read fails
// with [ErrForbidden].
func (s *Store) Read(key string, v any) error {
	path, err := s.Path(key)
	if err != nil {
		return err
	}
	if !s.access.CanRead() {
		return s.forbidden("read", 'r', key, path)
	}
	data, from, err := s.readEntry(key, path)
	if err != nil {
		return err
	}
	if err := s.decode(key, readAt(path, from), data, v); err != nil {
		return err
	}
	return s.moveFormer(key, path, from, data)
}

// Write encodes v and writes it as the entry of key with [fs.WriteAtomic],
// creating the directories it needs, and removes the file in which an
// older version of pecapiku kept the entry, if any (see [Store.Path]). It
// first decodes the encoding and compares it with v, and writes nothing
// when they differ ([ErrRoundTrip]); an entry that holds the encoding
// already is left as it is. The observer is told of the write
// ([EventWrite]) or of the unchanged entry ([EventUnchanged]). A file or
// directory it would create whose name differs only in case from one
// already there is refused with [ErrCaseConflict]. Without w, Write fails
// with [ErrForbidden].
func (s *Store) Write(key string, v any) error {
	path, err := s.Path(key)
	if err != nil {
		return err
	}
	if !s.access.CanWrite() {
		return s.forbidden("write", 'w', key, path)
	}
	if v == nil {
		return fmt.Errorf("cache: write %q to %s: the value is nil; store a typed value", key, path)
	}
	back := reflectNew(v)
	data, err := s.encode(key, path, v, back)
	if err != nil {
		return err
	}
	same, existed := s.holds(key, path, data)
	return s.put(key, path, data, same, existed)
}

// Delete removes the entry of key, and the file in which an older version
// of pecapiku kept it, if any (see [Store.Path]). Deleting a missing entry
// is not an error, and an entry whose name differs only in case from the
// key's is not the key's: it is left alone. Without w, Delete fails with
// [ErrForbidden].
func (s *Store) Delete(key string) error {
	path, err := s.Path(key)
	if err != nil {
		return err
	}
	if !s.access.CanWrite() {
		return s.forbidden("delete", 'w', key, path)
	}
	if err := s.removeEntryFile(path); err != nil {
		return fmt.Errorf("cache: delete %q: %w", key, err)
	}
	if err := s.removeFormer(key, path); err != nil {
		return fmt.Errorf("cache: delete %q: %w", key, err)
	}
	return nil
}

// removeEntryFile removes the entry file at path, when it is there with
// its exact name, and the directories that leaves empty below the store's
// directory.
func (s *Store) removeEntryFile(path string) error {
	if err := fs.CheckUnder(s.fsys, s.dir, path); err != nil {
		return err
	}
	if s.ignoresCase(path) {
		if err := s.checkCase("", path); errors.Is(err, ErrCaseConflict) {
			return nil // the file of another name
		}
	}
	err := s.fsys.Remove(path)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return nil
	case err != nil:
		return err
	}
	s.forgetName(path)
	s.removeEmptyDirs(path)
	return nil
}

// Entry describes one entry of a store, as [Store.List] finds it.
type Entry struct {
	// Key is the entry's path relative to the store's directory,
	// "/"-separated, without the codec's extension. It equals the key the
	// entry was written under when that key needed no mapping (see
	// [Store.Path]).
	Key string
	// Path is the entry's file.
	Path string
	// Codec is the codec its extension names, or nil when the extension is
	// not one of a codec this package or the store knows.
	Codec Codec
	// Size is the length of the file in bytes.
	Size int64
	// ModTime is when the file was last written.
	ModTime time.Time
}

// List returns the entries of the store, in lexical order of their paths:
// the regular files under its directory, whatever their names (see
// [Entry.Codec] and [Store.Unused] for telling entries from other files).
// It follows the directory when it is a symbolic link, and no link below
// it. It skips the files of package fs (temporary files of an interrupted
// write, for instance; see [Store.Leftovers]) and the stores nested in this
// one (directories with a [StoreMarker] of their own), and lists nothing,
// without error, when the directory does not exist.
func (s *Store) List() ([]Entry, error) {
	var entries []Entry
	err := s.walk(func(path string, info iofs.FileInfo) error {
		if fs.Reserved(path) {
			return nil
		}
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return err
		}
		entries = append(entries, s.entry(rel, path, info))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: list %s: %w", s.dir, err)
	}
	return entries, nil
}

// entry describes the file at path, rel in the store's directory.
func (s *Store) entry(rel, path string, info iofs.FileInfo) Entry {
	e := Entry{Key: filepath.ToSlash(rel), Path: path, Size: info.Size(), ModTime: info.ModTime()}
	if c := s.codecOf(path); c != nil {
		e.Codec = c
		e.Key = strings.TrimSuffix(e.Key, c.Ext())
	}
	return e
}

// Leftovers returns the temporary files that interrupted writes left in the
// store (see [fs.IsTemp]), in lexical order. They never replaced an entry, no
// read or write of the store trips over them, and [Store.Remove] removes
// them.
func (s *Store) Leftovers() ([]string, error) {
	var paths []string
	err := s.walk(func(path string, info iofs.FileInfo) error {
		if fs.IsTemp(path) {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: list %s: %w", s.dir, err)
	}
	return paths, nil
}

// StaleLocks returns the locks of entries that processes which stopped
// while holding them left in the store, in lexical order, when its
// filesystem is a [LockSweeper]; on another filesystem none, since its
// locks, if any, are not in the store (those on the real filesystem live
// under the temporary directory and are released by the kernel).
// [Store.Remove] removes them.
func (s *Store) StaleLocks() ([]string, error) {
	sweeper, ok := s.base.(LockSweeper)
	if !ok {
		return nil, nil
	}
	locks, err := sweeper.StaleLocks(s.dir)
	if err != nil {
		return nil, fmt.Errorf("cache: list the stale locks of %s: %w", s.dir, err)
	}
	return locks, nil
}

// walk calls f for each regular file under the store's directory, in lexical
// order. It follows the directory itself when it is a symbolic link (where
// the store is kept is the caller's choice) and no link below it, which
// could lead anywhere. It skips directories whose names are reserved by
// package fs, and those of other stores nested in this one, which hold
// their own [StoreMarker]. A missing directory has no files.
func (s *Store) walk(f func(path string, info iofs.FileInfo) error) error {
	info, err := s.fsys.Stat(s.dir)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case !info.IsDir():
		return fmt.Errorf("%s is not a directory", s.dir)
	}
	return s.walkDir(s.dir, f)
}

// walkDir is walk below dir. afero.Walk would not do: it does not follow a
// root that is a link.
func (s *Store) walkDir(dir string, f func(path string, info iofs.FileInfo) error) error {
	// ReadDir sorts by name and describes each file as Lstat does, links
	// as links.
	infos, err := afero.ReadDir(s.fsys, dir)
	if err != nil {
		return err
	}
	if dir != s.dir {
		// A directory below the store that holds a marker is a store of
		// its own (see StoreMarker), whose files are not this store's.
		// The listing tells, without a request of its own per directory
		// on an object store.
		for _, info := range infos {
			if info.Name() == StoreMarker && info.Mode().IsRegular() {
				return nil
			}
		}
	}
	for _, info := range infos {
		path := filepath.Join(dir, info.Name())
		switch {
		case info.IsDir():
			if fs.Reserved(path) {
				continue
			}
			if err := s.walkDir(path, f); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if err := f(path, info); err != nil {
				return err
			}
		}
	}
	return nil
}

// Removable returns nil when [Store.Remove] may remove the file at path,
// and otherwise the error Remove would return, having removed nothing.
func (s *Store) Removable(path string) error {
	if err := fs.CheckUnder(s.fsys, s.dir, path); err != nil {
		if errors.Is(err, fs.ErrOutsideRoot) && !strings.Contains(err.Error(), "symbolic link") {
			return fmt.Errorf("cache: remove %s: not inside the store %s: %w", path, s.dir, err)
		}
		return fmt.Errorf("cache: remove %s: %w", path, err)
	}
	if !s.access.CanWrite() {
		return fmt.Errorf("cache: remove %s: %w: access %q has no w", path, ErrForbidden, s.access)
	}
	rel, err := filepath.Rel(s.dir, path)
	if err != nil {
		return fmt.Errorf("cache: remove %s: %w", path, err)
	}
	if s.kindOf(rel) == foreignFile {
		return fmt.Errorf("cache: remove %s: pecapiku did not write it: its name is not one pecapiku gives an entry, a temporary file or a lock, so it is left alone", path)
	}
	info, err := lstat(s.fsys, path)
	if err != nil {
		return fmt.Errorf("cache: remove %s: %w", path, fs.Pathless(path, err))
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("cache: remove %s: not a regular file, so not an entry", path)
	}
	if ok, err := s.Owned(); err != nil {
		return err
	} else if !ok {
		return notOwned("remove from", s.dir)
	}
	return nil
}

// Remove removes the file at path, an entry, a leftover or a stale lock of
// the store as [Store.List], [Store.Leftovers] and [Store.StaleLocks] report
// them, and then each directory above it that is left empty, up to but not
// including the store's directory.
//
// It removes only what the store can show it wrote: a regular file, inside
// the store's directory and reached through no symbolic link below it (see
// [fs.CheckUnder]), whose name pecapiku gives an entry (names of
// [fs.IsKeySegment], with a codec's extension), a temporary file of such an
// entry or its lock, in a store whose directory pecapiku created (see
// [Store.Owned]; else the error wraps [ErrNotOwned]). Anything else is
// refused, and so is everything without w ([ErrForbidden]).
func (s *Store) Remove(path string) error {
	if err := s.Removable(path); err != nil {
		return err
	}
	var err error
	if fs.IsTemp(path) {
		// Only if no writer holds it: a prune during a run of the tests
		// must not pull a file from under a writer at work.
		err = fs.RemoveLeftover(s.fsys, path)
	} else {
		err = s.fsys.Remove(path)
	}
	switch {
	case errors.Is(err, fs.ErrInUse):
		return fmt.Errorf("cache: remove %s: %w", path, fs.ErrInUse)
	case err != nil:
		return fmt.Errorf("cache: remove %s: %w", path, fs.Pathless(path, err))
	}
	s.forgetName(path)
	s.removeEmptyDirs(path)
	return nil
}

// removeEmptyDirs removes each directory above path, a file just removed,
// that is left empty, up to but not including the store's directory.
func (s *Store) removeEmptyDirs(path string) {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if rel, err := filepath.Rel(s.dir, dir); err != nil || rel == "." || !filepath.IsLocal(rel) {
			break
		}
		if !s.removeEmptyDir(dir) {
			break // not empty, or someone else just filled it: not an error
		}
		s.forgetName(dir)
	}
}

// removeEmptyDir removes dir when it is a directory, not a link to one, and
// holds no file, and reports whether it did. On the real filesystem it
// leaves both checks to rmdir (see rmdir_unix.go), which makes them
// atomically and at a cost that does not grow with the directory, whereas
// reading even one name of it makes the kernel read a whole block of names,
// which in a directory of many entries costs several times the removal
// itself. An afero.Fs in general promises no such refusal, so on others it
// looks at dir first.
func (s *Store) removeEmptyDir(dir string) bool {
	if _, ok := s.fsys.(*afero.OsFs); ok {
		return rmdir(dir) == nil
	}
	if info, err := lstat(s.fsys, dir); err != nil || !info.IsDir() {
		return false // a link the store did not make, whatever it leads to
	}
	return s.emptyDir(dir) && s.fsys.Remove(dir) == nil
}

// emptyDir reports whether dir holds no file. It reads one name, not the
// whole directory, so that removing k entries from a directory of n costs
// O(k), not O(k·n).
func (s *Store) emptyDir(dir string) bool {
	d, err := s.fsys.Open(dir)
	if err != nil {
		return false
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	return len(names) == 0 && errors.Is(err, io.EOF)
}

// readFile returns the content of the entry file at path, a regular file of
// at most the store's size limit.
func (s *Store) readFile(path string) ([]byte, error) {
	// From the filesystem as given, not through the read-only wrapper of
	// a store without w: reading changes nothing, and fs reads the real
	// filesystem, seen as it is, with one call fewer (a wrapper gets a
	// Stat first, to refuse a named pipe). Everything that writes still
	// goes through the wrapper.
	data, err := fs.ReadFile(s.base, path, s.maxSize)
	if errors.Is(err, fs.ErrTooLarge) {
		return nil, fmt.Errorf("cache: %w; if the entry is meant to be that large, raise the limit with cache.WithMaxSize", err)
	}
	return data, err
}

// readExact returns the content of the entry file at path, the file of
// key: when the filesystem ignores case, only when each name of path is
// there with its exact case, and otherwise an error wrapping
// [ErrCaseConflict].
func (s *Store) readExact(key, path string) ([]byte, error) {
	data, err := s.readFile(path)
	switch {
	case err == nil && s.ignoresCase(path):
		if err := s.checkCase(key, path); err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrIsDir):
		// No directory of this version takes the name of an entry's
		// file; older versions gave it to a subtest's directory.
		return nil, fmt.Errorf("%w; no directory of this version of pecapiku has that name, but older versions gave it to a subtest named like the entry's file: move the entries in it to this version's paths with: pecapiku migrate %s",
			err, s.dir)
	}
	return data, err
}

// readEntry returns the content of the entry of key, whose file is path,
// and from: "" when it was read at path, or the file in which an older
// version of pecapiku kept it (see [Store.Path]), where it was read
// instead since path does not exist.
func (s *Store) readEntry(key, path string) (data []byte, from string, err error) {
	data, err = s.readExact(key, path)
	if err == nil || !errors.Is(err, iofs.ErrNotExist) {
		return data, "", err
	}
	old, ok := s.formerFile(key, path)
	if !ok {
		return nil, "", err
	}
	data, oldErr := s.readFile(old)
	if oldErr == nil && s.ignoresCase(old) && s.checkCase(key, old) != nil {
		oldErr = iofs.ErrNotExist // the file of another name
	}
	switch {
	case oldErr == nil:
		return data, old, nil
	case !absent(oldErr):
		return nil, "", oldErr
	}
	// Another call may have moved it since path was read.
	data, err = s.readExact(key, path)
	return data, "", err
}

// absent reports whether err says that a file is not there: it does not
// exist, or one of its directories is a file (an entry's, in the layout of
// this version).
func absent(err error) bool {
	return errors.Is(err, iofs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// readAt returns the file that readEntry read for path: from, or path
// when from is "".
func readAt(path, from string) string {
	if from != "" {
		return from
	}
	return path
}

// moveFormer writes data, the entry of key read at from, the file of an
// older layout (nothing to do when from is ""), to path, its file, and
// removes from, when the store's access has w.
func (s *Store) moveFormer(key, path, from string, data []byte) error {
	if from == "" || !s.access.CanWrite() {
		return nil
	}
	info, statErr := s.fsys.Stat(from)
	err := s.writeEntry(key, path, data)
	switch {
	case errors.Is(err, ErrUnavailable):
		return nil // moved by a later call
	case err != nil:
		return fmt.Errorf("cache: %q: moving %s, where an older version of pecapiku wrote it, to %s: %w", key, from, path, err)
	}
	if statErr == nil {
		s.keepTime(path, info)
	}
	s.notify(Event{Kind: EventMoved, Key: key, Path: path, From: from})
	return nil
}

// keepTime gives the file path, an entry just moved, the modification time
// of its old file, info: the entry was written then (which its age and
// [MaxAge] count from), not when it moved. Where a filesystem cannot set
// times, the entry keeps the time of the move.
func (s *Store) keepTime(path string, info iofs.FileInfo) {
	_ = s.fsys.Chtimes(path, info.ModTime(), info.ModTime())
}

// writeEntry writes data as the entry of key at path, its file, and then
// removes the file in which an older version of pecapiku kept it. Before
// writing, it checks that no name it creates differs only in case from
// one that is there.
func (s *Store) writeEntry(key, path string, data []byte) error {
	release, err := s.reserveNames(key, path)
	if err != nil {
		return err
	}
	err = s.write(path, data)
	release(err == nil)
	if err != nil {
		return err
	}
	if err := s.removeFormer(key, path); err != nil {
		return fmt.Errorf("cache: %q: wrote %s, but %w", key, path, err)
	}
	return nil
}

// removeFormer removes the file in which an older version of pecapiku kept
// the entry of key, whose file is path, if it is there: a regular file
// (or a link), with its exact name, reached through no link below the
// store's directory. Anything else at its path is not the entry's, and is
// left alone.
func (s *Store) removeFormer(key, path string) error {
	old, ok := s.formerFile(key, path)
	if !ok {
		return nil
	}
	info, err := lstat(s.fsys, old)
	if err != nil || !info.Mode().IsRegular() && info.Mode()&iofs.ModeSymlink == 0 {
		return nil
	}
	if err := s.removeEntryFile(old); err != nil {
		return fmt.Errorf("could not remove %s, where an older version of pecapiku wrote the entry: %w; remove it by hand", old, err)
	}
	return nil
}

// codecOf returns the codec whose extension path has, the store's own first.
func (s *Store) codecOf(path string) Codec {
	ext := filepath.Ext(path)
	if ext == s.codec.Ext() {
		return s.codec
	}
	for _, c := range codecs {
		if ext == c.Ext() {
			return c
		}
	}
	return nil
}

func (s *Store) forbidden(op string, letter byte, key, path string) error {
	return fmt.Errorf("cache: %s %q (%s): %w: access %q has no %c", op, key, path, ErrForbidden, s.access, letter)
}

func (s *Store) notify(e Event) {
	if s.observer != nil {
		s.observer(e)
	}
}
