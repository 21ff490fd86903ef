//go:build !unix

package fs

import (
	"fmt"

	"github.com/spf13/afero"
)

// createTemp creates the temporary file of a write of base in dir, with a
// random name.
func createTemp(fsys afero.Fs, dir, base string) (afero.File, error) {
	return afero.TempFile(fsys, dir, "."+base+tempInfix+"*")
}

// RemoveLeftover removes name, a temporary file of [WriteAtomic] (see
// [IsTemp]) that a writer left behind, from fsys. Here the temporary files
// of a writer cannot be told apart from those of one that stopped; a file
// that a live writer holds open cannot be removed on Windows.
func RemoveLeftover(fsys afero.Fs, name string) error {
	if !IsTemp(name) {
		return fmt.Errorf("fs: remove %s: not a temporary file of an atomic write", name)
	}
	return fsys.Remove(name)
}
