//go:build unix

package fs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// The temporary files of WriteAtomic on the real filesystem
//
// A writer killed before its rename leaves its temporary file behind. To
// keep such leftovers bounded without a listing of the directory (which
// costs as much as the directory is large), the temporary files of one
// destination take a few fixed names, ".<name>.tmp-0" to ".<name>.tmp-7", in
// turn. A writer holds a flock(2) lock on its temporary file from just after
// it creates it until after it has renamed it, so a file of one of those
// names that can be locked was left by a writer that stopped: the next
// writer of the destination removes it and takes its name. A file that is
// locked belongs to a live writer and is never touched; when every name is
// taken, the writer falls back to a random name, as on other filesystems.
//
// A writer that has created its file but not yet locked it looks like one
// that stopped, and may see its file removed and the name taken by another.
// So, once it holds its lock, it checks that its file is still the one at
// the name, and takes another name if not: it never renames a file that is
// not its own. Once it holds the lock and has checked, no one removes its
// file, since removing takes the lock first.

// tempSlots is the number of fixed temporary names of a destination.
const tempSlots = 8

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
				if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil && stillAt(f, name) {
					return f, nil
				}
				// Locked, or removed and the name taken again, by
				// another writer between the creation and the lock:
				// the name is that writer's now.
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

// stillAt reports whether f is the file at name.
func stillAt(f *os.File, name string) bool {
	held, err1 := f.Stat()
	now, err2 := os.Lstat(name)
	return err1 == nil && err2 == nil && os.SameFile(held, now)
}

// removeIfLeft removes the temporary file name when a writer that stopped
// left it there: no one holds its lock. It reports whether it removed it.
func removeIfLeft(name string) bool { return removeLeftover(name) == nil }

// removeLeftover removes the temporary file name if no one holds its lock,
// and otherwise returns ErrInUse, or why it cannot tell.
func removeLeftover(name string) error {
	// Opened for writing where it can be, since flock on NFS needs it, and
	// without waiting, since a named pipe planted at the name would make a
	// plain open wait for a writer.
	f, err := os.OpenFile(name, os.O_RDWR|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if errors.Is(err, iofs.ErrPermission) {
		f, err = os.OpenFile(name, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return err
	} else if !info.Mode().IsRegular() {
		return fmt.Errorf("%w (%s)", ErrNotRegular, kind(info.Mode()))
	}
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return ErrInUse
	}
	if !stillAt(f, name) {
		return ErrInUse // the name was just taken over by another writer
	}
	// Still holding the lock of the very file at the name: no writer can
	// be using it, and none can create another of this name meanwhile.
	return os.Remove(name)
}

// RemoveLeftover removes name, a temporary file of [WriteAtomic] (see
// [IsTemp]) that a writer left behind, from fsys. On the real filesystem of
// a Unix system it first makes sure that no writer holds the file, and
// returns an error wrapping [ErrInUse], having removed nothing, if one does;
// elsewhere a writer's files cannot be told apart, and it removes name.
func RemoveLeftover(fsys afero.Fs, name string) error {
	if !IsTemp(name) {
		return fmt.Errorf("fs: remove %s: not a temporary file of an atomic write", name)
	}
	if _, ok := fsys.(*afero.OsFs); !ok {
		return fsys.Remove(name)
	}
	if err := removeLeftover(name); err != nil {
		return fmt.Errorf("fs: remove %s: %w", name, Pathless(name, err))
	}
	return nil
}
