//go:build unix

package cache

import "syscall"

// rmdir removes dir from the real filesystem if it is an empty directory.
// rmdir(2) refuses anything else, atomically: a directory that holds a
// file, and a symbolic link, whatever it leads to, even one that took the
// directory's place a moment ago. os.Remove would unlink such a link.
func rmdir(dir string) error { return syscall.Rmdir(dir) }
