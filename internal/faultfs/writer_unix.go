//go:build unix

package faultfs

import (
	"os"
	"syscall"
	"testing"
)

// HoldAsWriter opens name, an existing temporary file of fs.WriteAtomic,
// and holds its lock as a writer at work does, until the test ends or
// release is called: the file is meanwhile a live writer's, not a leftover
// to take over or remove.
func HoldAsWriter(t testing.TB, name string) (release func() error) {
	t.Helper()
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatalf("lock %s: %v", name, err)
	}
	return f.Close
}
