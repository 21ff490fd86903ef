package cache

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
)

// A Move is an entry that [Store.Migrate] moved, or would move, from where
// an older version of pecapiku laid it out to its path in this version's
// layout.
type Move struct {
	From, To string // the entry's file, and its file in this layout
	// Err says why the entry was not moved, and is nil when it was (or,
	// with a dry run, would be).
	Err error
}

// Migrate moves the entries of the store that an older version of
// pecapiku laid out where this version does not look first, those below a
// directory named like an entry's file (see [Store.Path]), to their paths,
// byte for byte and with their modification times, and removes the old
// files and the directories they leave empty. It returns the moves, in lexical order of the old files. With
// dryRun it changes nothing and returns what it would move.
//
// Calls of [Do] and [Store.Read] find such entries without it, and move
// each one they read with w; Migrate moves them all at once, those that
// are only ever read (on CI) and those whose old directory stands where a
// new entry's file must go included. It cannot move the entries of keys
// whose segments older versions changed in another way (an entry name with
// "\" in package pecatest): their keys cannot be told from their files.
//
// An entry whose new file exists already is left where it is, with
// Move.Err saying so. Migrate moves only what [Store.Remove] may remove: it
// fails with [ErrNotOwned] for a store whose directory pecapiku did not
// create, and, unless dryRun, with [ErrForbidden] without w.
func (s *Store) Migrate(dryRun bool) ([]Move, error) {
	if !dryRun && !s.access.CanWrite() {
		return nil, fmt.Errorf("cache: migrate %s: %w: access %q has no w", s.dir, ErrForbidden, s.access)
	}
	if ok, err := s.Owned(); err != nil {
		return nil, err
	} else if !ok {
		return nil, notOwned("migrate", s.dir)
	}
	var moves []Move
	err := s.walk(func(path string, info iofs.FileInfo) error {
		rel, err := filepath.Rel(s.dir, path)
		if err != nil || s.kindOf(rel) != entryFile {
			return err
		}
		to := filepath.Join(s.dir, filepath.FromSlash(s.layout.FromKeyPath(filepath.ToSlash(rel))))
		if to != path {
			moves = append(moves, Move{From: path, To: to})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cache: migrate %s: %w", s.dir, err)
	}
	// Moved once the walk is over, which moving would disturb.
	for i := range moves {
		m := &moves[i]
		_, err := lstat(s.fsys, m.To)
		switch {
		case err == nil:
			m.Err = fmt.Errorf("%s is there already, and is the entry that this version reads; remove %s if it is not needed", m.To, m.From)
		case !errors.Is(err, iofs.ErrNotExist):
			m.Err = err
		case !dryRun:
			m.Err = s.move(m.From, m.To)
		}
	}
	return moves, nil
}

// move writes the content of the entry file from at to, and removes from
// and the directories that leaves empty.
func (s *Store) move(from, to string) error {
	if err := s.Removable(from); err != nil {
		return err
	}
	info, err := s.fsys.Stat(from)
	if err != nil {
		return err
	}
	data, err := s.readFile(from)
	if err != nil {
		return err
	}
	rel, _ := s.below(to)
	release, err := s.reserveNames(filepath.ToSlash(rel), to)
	if err != nil {
		return err
	}
	err = s.write(to, data)
	release(err == nil)
	if err != nil {
		return err
	}
	s.keepTime(to, info)
	return s.Remove(from)
}
