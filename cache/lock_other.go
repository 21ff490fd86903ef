//go:build !unix

package cache

import (
	iofs "io/fs"

	"github.com/gofrs/flock"
)

// lockFile takes an exclusive lock of the file name with
// github.com/gofrs/flock (LockFileEx on Windows), creating it when
// missing, and returns the function that releases it. The file stays: a
// file open in another process cannot be removed there.
func lockFile(name string) (unlock func(), err error) {
	l := flock.New(name)
	if err := l.Lock(); err != nil {
		return nil, err
	}
	return func() { _ = l.Unlock() }, nil
}

// notPrivate returns what is wrong with the lock directory described by
// info, or "" when it is a directory. The temporary directory is the
// user's own on Windows.
func notPrivate(info iofs.FileInfo) string {
	switch {
	case info.Mode()&iofs.ModeSymlink != 0:
		return "is a symbolic link"
	case !info.IsDir():
		return "is not a directory"
	}
	return ""
}
