package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/afero"
)

// The cross-process lock of an entry
//
// Two processes that miss one entry of a store on the real filesystem, with
// e and w granted, must not both execute its function: the first takes the
// entry's lock, computes and writes; the second waits for the lock, then finds
// the entry and reads it. Within a process the flight group of Do already
// does this; the lock extends it to processes.
//
// The lock is a flock(2) lock (LockFileEx on Windows) taken with
// github.com/gofrs/flock. The kernel releases it when the process that holds
// it ends, however it ends, so a process killed while computing leaves
// nothing that blocks the next one.
//
// Where the lock files live: not next to the entries. Stores sit in
// testdata/.pecapiku/ and are committed, and a lock file there would show up
// in every "git status" and end up committed. They live instead in one
// directory per user under the temporary directory,
// <os.TempDir()>/pecapiku-locks-<uid>/, named after a SHA-256 of the entry's
// absolute path with the symbolic links of its existing directories resolved,
// so that every process that reaches the same file, by whatever path, takes
// the same lock. Processes of different users, or with different TMPDIR, do
// not exclude each other: they still write atomically, and at worst both
// execute.
//
// The directory is created private (0700) and used only when it is: a
// directory of that name that another user created first, or that others
// may write to, could hold a lock that blocks this user's processes forever,
// or a symbolic link that makes them create a file where that user chose;
// it is refused with an error that says how to fix it. Lock files are
// opened without following symbolic links.
//
// On Unix a lock file is removed by the process that held it, while it still
// holds it, so that the directory does not fill up with the lock files of
// every entry ever computed. A process that was waiting for the removed file
// then holds a lock on a file no other process can open any more; so a
// process that gets a lock checks that the file it locked is still the one
// at the lock's path, and locks again when it is not. Elsewhere lock files
// are left in place.
//
// Locks are taken only with access rew, the one access where waiting saves
// an execution: the process that waited reads what the other wrote. Without
// w nothing may be created on disk, a lock file included; with ew both
// processes execute anyway, and the atomic writes leave the last value. They
// are taken only on the miss path, after the flight group has chosen this
// goroutine: a hit never takes one.
//
// A filesystem other than the real one locks its entries when it is an
// EntryLocker (the S3 store of github.com/pecapiku/pecapiku/s3 is one);
// others are not locked across processes.

// lockEntry takes the cross-process lock of the entry at path, waiting for
// another process that holds it, and returns the function that releases it.
// On a store whose access is not rew, or whose disk cannot lock, it does
// nothing.
func (s *Store) lockEntry(path string) (unlock func(), err error) {
	if s.access != ReadExecuteWrite {
		return func() {}, nil
	}
	if locker, ok := s.base.(EntryLocker); ok {
		unlock, err = locker.LockEntry(path)
		if err != nil {
			return nil, fmt.Errorf("cache: lock %s: %w", path, err)
		}
		return unlock, nil
	}
	if _, real := s.base.(*afero.OsFs); !real {
		return func() {}, nil
	}
	name, err := lockPath(path)
	if err != nil {
		return nil, err
	}
	unlock, err = lockFile(name)
	if err != nil {
		return nil, fmt.Errorf("cache: lock %s: take the lock %s: %w", path, name, err)
	}
	return unlock, nil
}

// lockDirName is the name of the directory of lock files under os.TempDir.
func lockDirName() string {
	if uid := os.Getuid(); uid >= 0 {
		return "pecapiku-locks-" + strconv.Itoa(uid)
	}
	return "pecapiku-locks"
}

// lockPath returns the lock file of the entry at path, creating the directory
// of lock files when it is missing.
func lockPath(path string) (string, error) {
	abs, err := resolve(path)
	if err != nil {
		return "", fmt.Errorf("cache: lock %s: %w", path, err)
	}
	dir := filepath.Join(os.TempDir(), lockDirName())
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, iofs.ErrExist) {
		return "", fmt.Errorf("cache: lock %s: create the lock directory: %w", path, err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("cache: lock %s: %w", path, err)
	}
	if problem := notPrivate(info); problem != "" {
		return "", fmt.Errorf("cache: lock %s: the lock directory %s %s, so another user could block or redirect this user's locks; remove it, or set TMPDIR to a directory of your own",
			path, dir, problem)
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+".lock"), nil
}

// notPrivate returns what is wrong with the lock directory described by
// info ("is a symbolic link", "belongs to user 1001", ...), or "" when it
// is a directory of this user's that no one else can write to.
func notPrivate(info iofs.FileInfo) string {
	switch {
	case info.Mode()&iofs.ModeSymlink != 0:
		return "is a symbolic link"
	case !info.IsDir():
		return "is not a directory"
	}
	return ownerProblem(info)
}

// resolve returns path made absolute, with the symbolic links of its longest
// existing directory resolved: processes that see the same file under
// different names (a linked working directory, macOS's /tmp and
// /private/tmp) get the same result, whether or not the entry's directories
// exist yet.
func resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	dir, rest := filepath.Dir(abs), filepath.Base(abs)
	for {
		real, err := filepath.EvalSymlinks(dir)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, iofs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = parent
	}
}
