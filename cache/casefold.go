package cache

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/pecapiku/pecapiku/fs"
	"github.com/spf13/afero"
)

// ErrCaseConflict is returned, wrapped, for an entry whose file, or one of
// whose directories, would have a name that differs only in case from a
// name already in its directory: entries "Data" and "data" of one test, or
// tests TestCase and TestCASE. On the disks of macOS and Windows, which
// ignore case by default, the two names are one file, and the second entry
// would read or overwrite the first. A store refuses to write the second
// on every system, so that what is recorded on one replays the same on the
// others, and on a filesystem that ignores case it refuses to read the
// first's file as the second; the message names both files.
var ErrCaseConflict = errors.New("names differ only in case")

// How a store keeps names that differ only in case apart.
//
// A write that creates a file or a directory in a store first looks for a
// name in that directory that differs from the new one only in case (as
// strings.EqualFold compares them), and refuses to create it if there is
// one. On a filesystem that ignores case, a read that finds its file also
// checks that each of its names is there with its exact case, since the
// filesystem would open the file of the other name; on one that respects
// case, the second name is simply not there to read.
//
// The names of each directory are listed once per process and kept, with
// the names this process creates and removes since: a hit costs no listing
// on a filesystem that respects case, and at most one per directory in the
// process otherwise (and one more when the directory changed behind the
// process's back). Whether a store's filesystem ignores case is found once
// per process, from the first file of the store that it reads, by asking
// for that file with its case swapped.
//
// A filesystem that says it respects case (fs.CaseSensitivity: an S3
// bucket) is not checked: a bucket is not checked out by git, and two
// names there are two objects.
//
// A name another process adds after the listing is not seen by the check
// of a write on a filesystem that respects case (where case is ignored,
// the read that precedes the write in Do finds it); a name another process
// removed is looked for on disk before it is reported.

// bucketLike reports whether the store's filesystem says that it keeps
// apart names that differ only in case (see fs.CaseSensitivity), as an S3
// bucket does. Such a store is not a directory that git checks out on a
// disk that ignores case, so two such names are two entries there, and
// the names of its directories are not listed for the check: on a bucket,
// each listing is a request.
func (s *Store) bucketLike() bool {
	cs, ok := s.base.(fs.CaseSensitivity)
	return ok && !cs.IgnoresCase()
}

// storeKnows is what a store, and the copies of it that share its
// directory, have found out: the case rules of its filesystem, its
// directory made absolute, and the path of the key asked for last.
type storeKnows struct {
	insensitive atomic.Pointer[bool] // nil until found
	absOnce     sync.Once
	absDir      string // the store's directory made absolute, on the real filesystem

	// lastPath is the key whose path Store.Path found last, and the path:
	// a caller often asks for the path of one key several times over (for
	// its messages, for the entry's identity, to read it), and laying out
	// a key is the costly part.
	lastPath atomic.Pointer[keyPath]
}

type keyPath struct{ key, path string }

// caseRoots holds, by the EntryID of a store's directory, whether its
// filesystem ignores case, once found.
var caseRoots sync.Map

// dirListings holds, by the EntryID of a directory, its *dirNames.
var dirListings sync.Map

// dirNames is what this process knows of the names in one directory.
type dirNames struct {
	mu sync.Mutex
	// byFold maps the fold key of each name (see foldKey) to the name,
	// or to the names joined by "/" when there are several.
	byFold map[string]string
	// pending counts, by name, the writes of this process that are
	// creating it and have not finished.
	pending map[string]int
}

// lookup reports whether name is in d and returns a name of d that differs
// from it only in case, "" if there is none. d.mu is held.
func (d *dirNames) lookup(name string) (exact bool, twin string) {
	var names string
	var ok bool
	var buf [maxLowered]byte
	if b, ascii := lowerASCII(name, buf[:0]); ascii {
		names, ok = d.byFold[string(b)] // the compiler does not copy b here
	} else {
		names, ok = d.byFold[foldKey(name)]
	}
	if !ok {
		return false, ""
	}
	for n := range strings.SplitSeq(names, "/") {
		switch {
		case n == name:
			return true, ""
		case twin == "" && strings.EqualFold(n, name):
			twin = n
		}
	}
	return false, twin
}

// add adds name to d. d.mu is held.
func (d *dirNames) add(name string) {
	key := foldKey(name)
	names, ok := d.byFold[key]
	switch {
	case !ok:
		d.byFold[key] = name
	case !hasName(names, name):
		d.byFold[key] = names + "/" + name
	}
}

// remove removes name from d. d.mu is held.
func (d *dirNames) remove(name string) {
	key := foldKey(name)
	names, ok := d.byFold[key]
	if !ok {
		return
	}
	var kept []string
	for n := range strings.SplitSeq(names, "/") {
		if n != name {
			kept = append(kept, n)
		}
	}
	if len(kept) == 0 {
		delete(d.byFold, key)
		return
	}
	d.byFold[key] = strings.Join(kept, "/")
}

// hasName reports whether name is one of the "/"-separated names.
func hasName(names, name string) bool {
	for n := range strings.SplitSeq(names, "/") {
		if n == name {
			return true
		}
	}
	return false
}

// fill replaces what d knows with the names listed in dir on the store's
// filesystem, keeping those that writes of this process are creating. A
// directory that does not exist has no names. d.mu is held.
func (s *Store) fill(d *dirNames, dir string) error {
	names, err := readNames(s, dir)
	if err != nil {
		return err
	}
	d.byFold = make(map[string]string, len(names)+len(d.pending))
	for _, n := range names {
		// Names that begin with "." are those of the store's own
		// files (temporary files, locks, the marker), which no key's
		// name can be.
		if !strings.HasPrefix(n, ".") {
			d.add(n)
		}
	}
	for n := range d.pending {
		d.add(n)
	}
	return nil
}

// readNames lists the names in dir; none when it does not exist.
func readNames(s *Store, dir string) ([]string, error) {
	f, err := s.fsys.Open(dir)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return names, nil
}

// names returns what the process knows of the names in dir, listing it if
// it has not yet, and nil when the listing fails: a directory that cannot
// be listed is not checked.
func (s *Store) names(dir string) *dirNames {
	id := s.dirID(dir)
	if d, ok := dirListings.Load(id); ok {
		return d.(*dirNames)
	}
	d := &dirNames{pending: map[string]int{}}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := s.fill(d, dir); err != nil {
		return nil
	}
	if prev, loaded := dirListings.LoadOrStore(id, d); loaded {
		return prev.(*dirNames)
	}
	return d
}

// dirID returns the identity of the directory dir of the store, as
// EntryID gives that of a file, without asking the system for the working
// directory more than once per store.
func (s *Store) dirID(dir string) EntryID {
	if _, ok := s.base.(*afero.OsFs); ok {
		// The directories of a store are clean (see checkCase): only
		// a relative one needs the working directory, once.
		if filepath.IsAbs(dir) {
			return EntryID{osDisk{}, dir}
		}
		if abs := s.absDir(); filepath.IsAbs(abs) {
			if rel, ok := s.below(dir); ok {
				return EntryID{osDisk{}, filepath.Join(abs, rel)}
			}
		}
	}
	return s.entryID(dir)
}

// absDir returns the store's directory, made absolute on the real
// filesystem.
func (s *Store) absDir() string {
	s.known.absOnce.Do(func() {
		s.known.absDir = s.dir
		if _, ok := s.base.(*afero.OsFs); ok {
			if abs, err := filepath.Abs(s.dir); err == nil {
				s.known.absDir = abs
			}
		}
	})
	return s.known.absDir
}

// below returns path relative to the store's directory, and whether it is
// inside it (the directory itself is "."), cheaply for the paths that
// Path builds.
func (s *Store) below(path string) (string, bool) {
	if path == s.dir {
		return ".", true
	}
	if s.dir != "." && len(path) > len(s.dir) && strings.HasPrefix(path, s.dir) {
		rel := path[len(s.dir):]
		switch {
		case strings.HasSuffix(s.dir, string(filepath.Separator)):
		case rel[0] == filepath.Separator:
			rel = rel[1:]
		default:
			rel = "" // another directory that begins with the same name
		}
		if rel != "" && filepath.IsLocal(rel) {
			return rel, true
		}
	}
	rel, err := filepath.Rel(s.dir, path)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return rel, true
}

// ignoresCase reports whether the store's filesystem ignores case, as far
// as the process knows. path is a file or directory of the store that is
// there, from which it finds out, once per process, when it does not know
// yet; "" when there is none to ask with, in which case it reports false.
func (s *Store) ignoresCase(path string) bool {
	if v := s.known.insensitive.Load(); v != nil {
		return *v
	}
	id := s.dirID(s.dir)
	if v, ok := caseRoots.Load(id); ok {
		b := v.(bool)
		s.known.insensitive.Store(&b)
		return b
	}
	if path == "" {
		return false
	}
	b, known := false, false
	if cs, ok := s.base.(fs.CaseSensitivity); ok {
		b, known = cs.IgnoresCase(), true
	} else {
		b, known = s.probeCase(path)
	}
	if !known {
		return false
	}
	caseRoots.Store(id, b)
	s.known.insensitive.Store(&b)
	return b
}

// probeCase finds out whether the store's filesystem ignores case from
// path, a file or directory of the store that is there: it asks for the
// last of its names that has a letter with the case of its letters
// swapped. The name is not there when the filesystem respects case; when
// it is, it is the same file as the original on a filesystem that ignores
// case, and a file of its own, listed in its directory, on one that does
// not. known is false when no name of path has a letter (case makes no
// difference to it) or when the filesystem fails to answer.
func (s *Store) probeCase(path string) (insensitive, known bool) {
	rel, ok := s.below(path)
	if !ok || rel == "." {
		return false, false
	}
	names := strings.Split(rel, string(filepath.Separator))
	for i := len(names) - 1; i >= 0; i-- {
		swapped := swapCase(names[i])
		if swapped == names[i] {
			continue
		}
		dir := filepath.Join(append([]string{s.dir}, names[:i]...)...)
		info, err := s.fsys.Stat(filepath.Join(dir, names[i]))
		if err != nil {
			return false, false // not there to ask with
		}
		swappedInfo, err := s.fsys.Stat(filepath.Join(dir, swapped))
		switch {
		case errors.Is(err, iofs.ErrNotExist):
			return false, true
		case err != nil:
			return false, false
		}
		if _, ok := s.base.(*afero.OsFs); ok {
			return os.SameFile(info, swappedInfo), true
		}
		// Elsewhere FileInfos cannot be compared: the listing tells.
		listed, err := readNames(s, dir)
		if err != nil {
			return false, false
		}
		return !slices.Contains(listed, swapped), true
	}
	return false, false
}

// swapCase returns name with the case of its ASCII letters swapped.
func swapCase(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z':
			b[i] = c - 'A' + 'a'
		}
	}
	return string(b)
}

// maxLowered is the length of the longest name that lowerASCII lowers: the
// names pecapiku gives are at most fs.MaxSegment bytes and a hash, and an
// extension.
const maxLowered = 160

// lowerASCII appends name in lower case, which is its fold key, to buf and
// returns it, when name is ASCII and fits in buf, as the names pecapiku
// gives do; with a buf on the caller's stack, the lookup of a name
// allocates nothing.
func lowerASCII(name string, buf []byte) ([]byte, bool) {
	if len(name) > cap(buf) {
		return nil, false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= utf8.RuneSelf:
			return nil, false
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf, true
}

// foldKey returns the key under which names that strings.EqualFold finds
// equal are kept: each rune replaced by the representative of its case
// folding orbit (see foldRune). Names of lower-case ASCII, as most names
// of entries are, are their own key.
func foldKey(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			var b strings.Builder
			b.Grow(len(name))
			for _, r := range name {
				b.WriteRune(foldRune(r))
			}
			return b.String()
		}
	}
	return name
}

// foldRune returns the representative of the runes that unicode.SimpleFold
// cycles through from r, which strings.EqualFold treats as equal: the
// lower-case ASCII letter among them when there is one (so that the Kelvin
// sign stands for k), and the smallest otherwise.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return unicode.ToLower(r)
	}
	rep := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		switch {
		case f < utf8.RuneSelf:
			return unicode.ToLower(f)
		case f < rep:
			rep = f
		}
	}
	return rep
}

// caseError returns the error for the name of path's directory dir that
// differs only in case from twin, a name already there.
func (s *Store) caseError(key, path, dir, name, twin string) error {
	return fmt.Errorf("cache: %q: %w: %s differs only in case from %s, which is already there, and the disks of macOS and Windows take the two for one file; give one of them another name (an entry, a test or a subtest), and remove the file of the old name if it was renamed",
		key, ErrCaseConflict, filepath.Join(dir, name), filepath.Join(dir, twin))
}

// checkCase checks the names of path, the file of the entry of key that
// was just read on a filesystem that ignores case, one directory at a time
// from the store's directory down, and returns an error wrapping
// ErrCaseConflict for the first that is not in its directory with its
// exact case while a name that differs from it only in case is: the
// filesystem gave the read the file of that other name. A name missing
// from what the process knows of its directory in both forms was added
// since the listing, which is read again.
func (s *Store) checkCase(key, path string) error {
	rel, ok := s.below(path)
	if !ok {
		return nil
	}
	dir, names := s.dir, rel
	if strings.HasSuffix(path, rel) {
		// Each directory is a prefix of path: no path is built.
		for start := len(path) - len(rel); start <= len(path); {
			end := strings.IndexByte(path[start:], filepath.Separator)
			if end < 0 {
				end = len(path)
			} else {
				end += start
			}
			if err := s.checkName(key, path, dir, path[start:end]); err != errCaseGo {
				return err
			}
			dir, start = path[:end], end+1
		}
		return nil
	}
	for name := range strings.SplitSeq(names, string(filepath.Separator)) {
		if err := s.checkName(key, path, dir, name); err != errCaseGo {
			return err
		}
		dir = joinName(dir, name)
	}
	return nil
}

// errCaseGo tells checkCase that a name is there, and to check the next.
var errCaseGo = errors.New("next")

// checkName checks name, in dir, for checkCase: errCaseGo when it is there
// with its exact case, an ErrCaseConflict error when a name that differs
// only in case is there instead, nil when neither is (or dir cannot be
// listed).
func (s *Store) checkName(key, path, dir, name string) error {
	d := s.names(dir)
	if d == nil {
		return nil
	}
	d.mu.Lock()
	exact, twin := d.lookup(name)
	if !exact {
		exact, twin = s.confirm(d, dir, name, twin)
	}
	d.mu.Unlock()
	switch {
	case twin != "":
		return s.caseError(key, path, dir, name, twin)
	case !exact:
		return nil
	}
	return errCaseGo
}

// joinName returns the path of name, a plain file name, in dir, a clean
// path: filepath.Join, without cleaning again what is clean.
func joinName(dir, name string) string {
	if dir == "." {
		return name
	}
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return dir + name
	}
	return dir + string(filepath.Separator) + name
}

// confirm checks on disk what d, the names of dir as the process knows
// them, says of name: that a name that differs from it only in case, twin,
// is there ("" for none). A twin that a write of this process is creating
// is taken as there; another is looked for on disk, and d is listed again
// when the filesystem ignores case, or when twin is "" (name was found on
// disk, so d is out of date). d.mu is held.
func (s *Store) confirm(d *dirNames, dir, name, twin string) (exact bool, confirmed string) {
	if twin != "" {
		if d.pending[twin] > 0 {
			return false, twin
		}
		if _, err := s.fsys.Stat(filepath.Join(dir, twin)); errors.Is(err, iofs.ErrNotExist) {
			d.remove(twin) // removed by another process since the listing
			return false, ""
		}
		if !s.ignoresCase(filepath.Join(dir, twin)) {
			return false, twin
		}
	}
	if err := s.fill(d, dir); err != nil {
		return false, twin
	}
	return d.lookup(name)
}

// reserveNames checks the names of path, the file a write of the entry of
// key is about to create or replace, as checkCase does, and notes in what
// the process knows of their directories those that the write creates, so
// that a concurrent write of a name that differs only in case is refused.
// release, called once the write is done, says whether it succeeded.
func (s *Store) reserveNames(key, path string) (release func(written bool), err error) {
	rel, ok := s.below(path)
	if !ok || s.bucketLike() {
		return func(bool) {}, nil
	}
	type reserved struct {
		d         *dirNames
		dir, name string
	}
	var made []reserved
	release = func(written bool) {
		for _, r := range made {
			r.d.mu.Lock()
			if r.d.pending[r.name]--; r.d.pending[r.name] <= 0 {
				delete(r.d.pending, r.name)
			}
			if !written && r.d.pending[r.name] == 0 {
				// A failed write may have created the directories.
				if _, err := s.fsys.Stat(filepath.Join(r.dir, r.name)); err != nil {
					r.d.remove(r.name)
				}
			}
			r.d.mu.Unlock()
		}
	}
	dir := s.dir
	for name := range strings.SplitSeq(rel, string(filepath.Separator)) {
		d := s.names(dir)
		if d == nil {
			break
		}
		d.mu.Lock()
		exact, twin := d.lookup(name)
		if !exact && twin != "" {
			exact, twin = s.confirm(d, dir, name, twin)
		}
		if twin != "" {
			d.mu.Unlock()
			release(false)
			return nil, s.caseError(key, path, dir, name, twin)
		}
		if !exact || d.pending[name] > 0 {
			d.add(name)
			d.pending[name]++
			made = append(made, reserved{d, dir, name})
		}
		d.mu.Unlock()
		dir = joinName(dir, name)
	}
	return release, nil
}

// forgetName notes that the file or directory path of the store was
// removed.
func (s *Store) forgetName(path string) {
	id := s.dirID(filepath.Dir(path))
	if v, ok := dirListings.Load(id); ok {
		d := v.(*dirNames)
		d.mu.Lock()
		if d.pending[filepath.Base(path)] == 0 {
			d.remove(filepath.Base(path))
		}
		d.mu.Unlock()
	}
	dirListings.Delete(s.dirID(path))
}
