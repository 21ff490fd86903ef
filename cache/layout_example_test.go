package cache_test

import (
	"errors"
	"fmt"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// An entry's file and a directory named like it are two paths, and of two
// names that differ only in case, the second is refused.
func ExampleStore_Path() {
	store, _ := cache.NewStore("/fixtures", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite))
	for _, key := range []string{"TestReport/config", "TestReport/config.json/v", "TestReport/with spaces"} {
		path, _ := store.Path(key)
		fmt.Println(path)
	}

	fmt.Println(store.Write("TestReport/Data", 1))
	err := store.Write("TestReport/data", 2)
	fmt.Println(errors.Is(err, cache.ErrCaseConflict))
	// Output:
	// /fixtures/TestReport/config.json
	// /fixtures/TestReport/config.json~587cb980af76/v.json
	// /fixtures/TestReport/with_spaces~ad7b4040fdfb.json
	// <nil>
	// true
}

// An entry that an older version of pecapiku recorded where a directory is
// named like an entry's file is read there, and moved with w.
func ExampleStore_FormerPath() {
	disk := afero.NewMemMapFs()
	store, _ := cache.NewStore("/fixtures", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
	old, _ := store.FormerPath("TestReport/config.json/v")
	_ = afero.WriteFile(disk, old, []byte("42\n"), 0o644)

	var v int
	fmt.Println(store.Read("TestReport/config.json/v", &v), v)
	path, _ := store.Path("TestReport/config.json/v")
	_, errOld := disk.Stat(old)
	_, errNew := disk.Stat(path)
	fmt.Println(old, errOld != nil)
	fmt.Println(path, errNew == nil)
	// Output:
	// <nil> 42
	// /fixtures/TestReport/config.json/v.json true
	// /fixtures/TestReport/config.json~587cb980af76/v.json true
}
