package cache

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/fs"
)

// StoreMarker is the name of the file that marks a directory as a store
// pecapiku created: the write that creates a store's directory writes it
// there first. Its name begins with "." so that no key's file is ever named
// so (see [fs.Reserved]).
const StoreMarker = ".pecapiku-store"

// ReservedStoreName is the name of the directories that are stores by their
// name alone, marker or not: package pecatest keeps its fixtures in
// testdata/.pecapiku.
const ReservedStoreName = ".pecapiku"

// markerText is what the marker says to someone who opens it.
const markerText = `This directory is a pecapiku store: pecapiku created it for its entries.
pecapiku prune, and pecatest.Run with PECAPIKU_PRUNE=1, may remove the files in
it whose names pecapiku gives its entries (.json, .gob and .raw files) when no
test uses them. Delete this file to keep every file of this directory from
being pruned.
`

// ErrNotOwned is returned, wrapped, by [Store.Unused] and [Store.Remove] for
// a store whose directory pecapiku cannot show it created, and which may
// therefore hold files that are not its entries.
var ErrNotOwned = errors.New("not a directory pecapiku created")

// Owned reports whether the store's directory is pecapiku's own: whether it
// is named .pecapiku ([ReservedStoreName]) or holds the [StoreMarker] that
// the write which created it left there. Only such a store has its files
// removed by [Store.Remove], and so pruned: a store kept in a directory
// that was already there, such as a package's own directory, may hold files
// that merely look like entries.
func (s *Store) Owned() (bool, error) {
	return owned(s.base, s.dir)
}

// owned reports whether dir on fsys is a store pecapiku created; see
// [Store.Owned].
func owned(fsys afero.Fs, dir string) (bool, error) {
	if filepath.Base(dir) == ReservedStoreName {
		return true, nil
	}
	info, err := lstat(fsys, filepath.Join(dir, StoreMarker))
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("cache: %s: %w", dir, err)
	}
	return info.Mode().IsRegular(), nil
}

// notOwned returns the error that says the store in dir is not pecapiku's
// own, and how to make it so.
func notOwned(op, dir string) error {
	return fmt.Errorf("cache: %s %s: %w: it is not named %s and has no %s file, so it may hold files that pecapiku did not write, and pecapiku removes none of them. "+
		"Keep the entries in a directory of their own (the first write creates it and marks it), "+
		"or, if every file with a .json, .gob or .raw extension below it is an entry, mark it with: touch %s",
		op, dir, ErrNotOwned, ReservedStoreName, StoreMarker, filepath.Join(dir, StoreMarker))
}

// unclaimed reports whether the store's directory does not exist yet, so
// that the write about to create it must mark it as the store's own (see
// [Store.Owned]) with [Store.claim]. A directory that exists already is
// left as it is, since pecapiku cannot tell who created it, and so is one
// named .pecapiku, which needs no marker. It asks with a stat rather than
// a Mkdir because object stores (S3) have no directories of their own:
// there Mkdir succeeds whether or not the store has entries. It asks once
// per store directory in a process: after this process's first write
// there, the directory exists.
func (s *Store) unclaimed() bool {
	if filepath.Base(s.dir) == ReservedStoreName {
		return false
	}
	id := s.entryID(s.dir)
	if _, seen := storesSeen.Load(id); seen {
		return false
	}
	_, err := s.fsys.Stat(s.dir)
	if !errors.Is(err, iofs.ErrNotExist) {
		storesSeen.Store(id, true)
	}
	return errors.Is(err, iofs.ErrNotExist)
}

// storesSeen holds the directories of the stores this process has found,
// or made, existing: EntryID of the directory → true.
var storesSeen sync.Map

// claim writes the marker of the store's directory, which the write of the
// entry at path has just created.
func (s *Store) claim(path string) error {
	marker := filepath.Join(s.dir, StoreMarker)
	if err := fs.WriteAtomic(s.fsys, marker, []byte(markerText)); err != nil {
		return fmt.Errorf("cache: wrote %s, but could not mark its new store %s as pecapiku's own, so it will never be pruned: %w; mark it with: touch %s",
			path, s.dir, err, marker)
	}
	storesSeen.Store(s.entryID(s.dir), true)
	return nil
}

// CodecOf returns the codec of this package whose extension the file path
// has (".json", ".gob", ".raw"), or nil.
func CodecOf(path string) Codec {
	ext := filepath.Ext(path)
	for _, c := range codecs {
		if ext == c.Ext() {
			return c
		}
	}
	return nil
}

// Codecs returns the codecs of this package: JSON, Gob and Raw.
func Codecs() []Codec { return slices.Clone(codecs) }

// fileKind is what a file of a store is, by its name.
type fileKind int

const (
	foreignFile   fileKind = iota // a name pecapiku never gives a file
	entryFile                     // the file of a key, with a codec's extension
	tempFile                      // a temporary file of fs.WriteAtomic
	staleLockFile                 // the lock of an entry, on a filesystem that keeps them in the store
)

// kindOf returns what the file at rel, a path relative to the store's
// directory, is by its name: an entry's file when every directory of it is
// a segment that pecapiku gives a key (see [fs.IsKeySegment]; the files of
// older layouts are entries too) and its name is such a segment
// followed by the extension of a codec the store knows; a temporary file
// or a lock of such an entry, or of the marker; or else a foreign file.
func (s *Store) kindOf(rel string) fileKind {
	rel = filepath.ToSlash(rel)
	dir, base := "", rel
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		dir, base = rel[:i], rel[i+1:]
	}
	if dir != "" {
		for _, seg := range strings.Split(dir, "/") {
			if !fs.IsKeySegment(seg) {
				return foreignFile
			}
		}
	}
	if s.entryName(base) {
		return entryFile
	}
	if fs.IsTemp(base) {
		target, _, _ := strings.Cut(strings.TrimPrefix(base, "."), ".tmp-")
		if s.entryName(target) || target == StoreMarker && dir == "" {
			return tempFile
		}
		return foreignFile
	}
	if target, ok := strings.CutSuffix(strings.TrimPrefix(base, "."), ".lock"); ok && strings.HasPrefix(base, ".") && s.entryName(target) {
		return staleLockFile
	}
	return foreignFile
}

// entryName reports whether name, a base name, is the file of a key: a
// segment that pecapiku gives a key and the extension of a codec.
func (s *Store) entryName(name string) bool {
	c := s.codecOf(name)
	return c != nil && fs.IsKeySegment(strings.TrimSuffix(name, c.Ext()))
}

// Unused is what a store holds that no call needs, as [Store.Unused] finds
// it: the files [Store.Remove] may remove.
type Unused struct {
	// Entries are the entries not among the files used, in lexical order.
	Entries []Entry
	// Leftovers are the temporary files of interrupted writes.
	Leftovers []string
	// StaleLocks are the locks of entries that stopped processes left in
	// a store on a [LockSweeper].
	StaleLocks []string
	// Examined is the number of entries the store holds.
	Examined int
}

// Files returns every file of u: its entries' files, its leftovers and its
// stale locks.
func (u *Unused) Files() []string {
	files := make([]string, 0, len(u.Entries)+len(u.Leftovers)+len(u.StaleLocks))
	for _, e := range u.Entries {
		files = append(files, e.Path)
	}
	files = append(files, u.Leftovers...)
	return append(files, u.StaleLocks...)
}

// Unused returns the files of the store that no call needs: the entries
// whose files are not in used, the leftovers of interrupted writes and the
// stale locks (see [Store.StaleLocks]). It reads and changes nothing else.
//
// used are the files of the entries in use, on the store's filesystem:
// absolute, or relative to the working directory. On the real filesystem,
// the symbolic links of their directories, and of the store's, are
// resolved before comparing, so that a store reached through a link and an
// entry named through the real directory are one file.
//
// Only the store's own files count: an entry is a file whose name
// [fs.KeyPath] could have given a key, with a codec's extension; any other
// file, a README.md, a notes.json or a .gitattributes, is never listed. A
// store whose directory pecapiku cannot show it created (see
// [Store.Owned]) is refused whole with an error wrapping [ErrNotOwned], which
// names the directory and how to mark it.
func (s *Store) Unused(used []string) (*Unused, error) {
	ok, err := s.Owned()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notOwned("prune", s.dir)
	}
	canon := newCanonicalizer(s.base)
	inUse := make(map[string]bool, len(used))
	for _, u := range used {
		inUse[canon.path(u)] = true
	}
	u := &Unused{}
	err = s.walk(func(path string, info iofs.FileInfo) error {
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return err
		}
		switch s.kindOf(rel) {
		case entryFile:
			u.Examined++
			if !inUse[canon.path(path)] {
				u.Entries = append(u.Entries, s.entry(rel, path, info))
			}
		case tempFile:
			u.Leftovers = append(u.Leftovers, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: list %s: %w", s.dir, err)
	}
	if u.StaleLocks, err = s.StaleLocks(); err != nil {
		return nil, err
	}
	return u, nil
}

// canonicalizer names files so that two spellings of one file compare
// equal: on the real filesystem, absolute with the symbolic links of their
// directory resolved; elsewhere, clean.
type canonicalizer struct {
	os   bool
	dirs map[string]string
}

func newCanonicalizer(fsys afero.Fs) *canonicalizer {
	_, isOs := fsys.(*afero.OsFs)
	return &canonicalizer{os: isOs, dirs: map[string]string{}}
}

func (c *canonicalizer) path(p string) string {
	p = filepath.Clean(p)
	if !c.os {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	dir, base := filepath.Split(p)
	real, ok := c.dirs[dir]
	if !ok {
		real = dir
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			real = r
		}
		c.dirs[dir] = real
	}
	return filepath.Join(real, base)
}

// lstat describes the file name on fsys without following a symbolic link
// when fsys can tell one.
func lstat(fsys afero.Fs, name string) (iofs.FileInfo, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		info, _, err := l.LstatIfPossible(name)
		return info, err
	}
	return fsys.Stat(name)
}
