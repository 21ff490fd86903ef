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

// ownerProblem returns "": the temporary directory is the user's own on
// Windows, and other systems without Unix ownership have no other user.
func ownerProblem(iofs.FileInfo) string { return "" }
