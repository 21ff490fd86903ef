//go:build !unix

package fs

import "github.com/spf13/afero"

// createTemp creates the temporary file of a write of base in dir, with a
// random name.
func createTemp(fsys afero.Fs, dir, base string) (afero.File, error) {
	return afero.TempFile(fsys, dir, "."+base+tempInfix+"*")
}
