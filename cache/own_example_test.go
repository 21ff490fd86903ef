package cache_test

import (
	"fmt"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// A store whose directory pecapiku created lists the entries no call used;
// a store kept in a directory that was there before is refused.
func ExampleStore_Unused() {
	fsys := afero.NewMemMapFs()
	store, _ := cache.NewStore("/repo/testdata/golden", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	_ = store.Write("TestNew/page", "<p>new</p>")
	_ = store.Write("TestOld/page", "<p>old</p>")
	_ = afero.WriteFile(fsys, "/repo/testdata/golden/README.md", []byte("not an entry"), 0o644)

	unused, err := store.Unused([]string{"/repo/testdata/golden/TestNew/page.json"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range unused.Entries {
		fmt.Println("unused:", e.Key)
	}
	fmt.Println("entries:", unused.Examined)

	_ = afero.WriteFile(fsys, "/repo/package.json", []byte("{}\n"), 0o644)
	pkg, _ := cache.NewStore("/repo", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	owned, _ := pkg.Owned()
	fmt.Println("/repo owned:", owned)
	// Output:
	// unused: TestOld/page
	// entries: 2
	// /repo owned: false
}

func ExampleCodecOf() {
	for _, name := range []string{"x.json", "x.gob", "x.raw", "notes.txt"} {
		if c := cache.CodecOf(name); c != nil {
			fmt.Println(name, c.Name())
		} else {
			fmt.Println(name, "is not an entry")
		}
	}
	// Output:
	// x.json json
	// x.gob gob
	// x.raw raw
	// notes.txt is not an entry
}
