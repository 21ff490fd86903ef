//go:build unix

package cache

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive flock(2) lock of the file name, creating it
// when missing, and returns the function that removes the file and releases
// the lock. It is written here rather than with github.com/gofrs/flock,
// which the other systems use, because removing a lock file safely needs
// the file that was locked, to compare it with the one at the path (see the
// comment at the top of lock.go), and gofrs/flock does not give it out.
func lockFile(name string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_RDONLY|syscall.O_NOFOLLOW, 0o600)
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link, which pecapiku does not follow; remove it", name)
		}
		if err != nil {
			return nil, err
		}
		if err := flock(f, unix.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
		held, err1 := f.Stat()
		now, err2 := os.Lstat(name)
		switch {
		case err1 != nil:
			f.Close()
			return nil, err1
		case err2 == nil && os.SameFile(held, now):
			return func() {
				// Removed while still held: a process that opens the
				// name from now on creates a new file, and one that
				// waits on this one sees that it is gone.
				os.Remove(name)
				_ = flock(f, unix.LOCK_UN)
				f.Close()
			}, nil
		case err2 != nil && !errors.Is(err2, iofs.ErrNotExist):
			f.Close()
			return nil, err2
		}
		// The file was removed, or replaced, while this process waited:
		// lock the one at the name now.
		f.Close()
	}
}

// flock applies how to f, retrying when a signal interrupts the wait.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// ownerProblem returns what is wrong with the owner and mode of the lock
// directory described by info ("belongs to user 1001", ...), or "".
func ownerProblem(info iofs.FileInfo) string {
	if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Sprintf("belongs to user %d, not to this user (%d)", st.Uid, os.Getuid())
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Sprintf("has mode %04o: others than its owner may use it (it must be 0700)", perm)
	}
	return ""
}
