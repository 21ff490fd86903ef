package pecapiku_test

import (
	"fmt"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// A script that builds a dataset once and reuses it on every later run. The
// disk is in memory here so the example leaves nothing behind; a real script
// leaves out cache.WithFs.
func Example() {
	disk := afero.NewMemMapFs()
	for run := 1; run <= 3; run++ {
		store, err := cache.NewStore(".pecapiku", cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
		if err != nil {
			fmt.Println(err)
			return
		}
		squares, err := cache.Do(store, "squares", func() ([]int, error) {
			fmt.Println("run", run, "computes the squares")
			var out []int
			for i := 1; i <= 5; i++ {
				out = append(out, i*i)
			}
			return out, nil
		})
		fmt.Println("run", run, "has", squares, err)
	}
	// Output:
	// run 1 computes the squares
	// run 1 has [1 4 9 16 25] <nil>
	// run 2 has [1 4 9 16 25] <nil>
	// run 3 has [1 4 9 16 25] <nil>
}
