//go:build !unix

package cache

import (
	"errors"
	"os"
)

// rmdir removes dir from the real filesystem if it is an empty directory,
// and not a link to one. Where there is no rmdir(2) to refuse a link at
// once, it is looked at first, which a link put in its place at that very
// moment could race.
func rmdir(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return errors.New("not a directory")
	}
	return os.Remove(dir)
}
