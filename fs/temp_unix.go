//go:build unix

package fs

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// The temporary files of WriteAtomic on the real filesystem
//
// A writer killed before its rename leaves its temporary file behind. To
// keep such leftovers bounded without a listing of the directory (which
// costs as much as the directory is large), the temporary files of one
// destination take a few fixed names, ".<name>.tmp-0" to ".<name>.tmp-7", in
// turn. A writer holds a flock(2) lock on its temporary file from the moment
// it creates it until after it has renamed it, so a file of one of those
// names that can be locked, and that is not brand new (a writer creates its
// file and locks it at once), was left by a writer that stopped: the next
// writer of the destination removes it and takes its name. A file that is
// locked, or new, belongs to a live writer and is never touched; when every
// name is taken, the writer falls back to a random name, as on other
// filesystems.

// tempSlots is the number of fixed temporary names of a destination.
const tempSlots = 8

// staleAfter is how old a temporary file that no one holds must be before it
// counts as left behind: far longer than the moment between a writer's
// creation of its file and its lock.
const staleAfter = 2 * time.Second

// createTemp creates the temporary file of a write of base in dir.
func createTemp(fsys afero.Fs, dir, base string) (afero.File, error) {
	if _, ok := fsys.(*afero.OsFs); !ok {
		return afero.TempFile(fsys, dir, "."+base+tempInfix+"*")
	}
	for slot := 0; slot < tempSlots; slot++ {
		name := filepath.Join(dir, "."+base+tempInfix+strconv.Itoa(slot))
		for attempt := 0; attempt < 2; attempt++ {
			f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
			if err == nil {
				if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
					return f, nil
				}
				// Locked already: another writer has just taken the name.
				f.Close()
				break
			}
			if !errors.Is(err, iofs.ErrExist) || !removeIfLeft(name) {
				break
			}
		}
	}
	return afero.TempFile(fsys, dir, "."+base+tempInfix+"*")
}

// removeIfLeft removes the temporary file name when a writer that stopped
// left it there: no one holds its lock and no one wrote to it for a while.
// It reports whether it removed it.
func removeIfLeft(name string) bool {
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return false // a live writer holds it
	}
	held, err1 := f.Stat()
	now, err2 := os.Lstat(name)
	if err1 != nil || err2 != nil || !os.SameFile(held, now) || !held.Mode().IsRegular() || time.Since(held.ModTime()) < staleAfter {
		return false
	}
	// Still holding the lock of the very file at the name: no writer can
	// be using it, and none can create another of this name meanwhile.
	return os.Remove(name) == nil
}
