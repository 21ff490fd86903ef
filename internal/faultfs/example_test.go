package faultfs_test

import (
	"errors"
	"fmt"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/fs"
	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// A test puts Counting under the layer it tests and asserts that nothing
// reached the disk; Faulty makes one kind of call fail.
func Example() {
	counting := faultfs.NewCounting(afero.NewMemMapFs())
	_ = fs.WriteAtomic(counting, "/store/a.json", []byte("1\n"))
	fmt.Println(len(counting.Mutations()) > 0)

	readOnly := faultfs.NewCounting(afero.NewMemMapFs())
	_, _ = fs.ReadFile(afero.NewReadOnlyFs(readOnly), "/store/a.json", fs.DefaultMaxSize)
	fmt.Println(readOnly.Mutations())

	faulty := faultfs.NewFaulty(afero.NewMemMapFs(), faultfs.RenameFails, 0)
	err := fs.WriteAtomic(faulty, "/store/a.json", []byte("1\n"))
	fmt.Println(errors.Is(err, faultfs.ErrInjected))
	leftovers, _ := faultfs.Leftovers(faulty, "/store")
	fmt.Println(len(leftovers))
	// Output:
	// true
	// []
	// true
	// 0
}
