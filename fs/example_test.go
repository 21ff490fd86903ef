package fs_test

import (
	"fmt"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/fs"
)

func ExampleKeyPath() {
	for _, key := range []string{
		"TestReport/dataset",
		"TestReport/with spaces",
		"TestEscape/../../etc/passwd",
	} {
		p, err := fs.KeyPath(key)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(p)
	}
	_, err := fs.KeyPath("")
	fmt.Println(err)
	// Output:
	// TestReport/dataset
	// TestReport/with_spaces~ad7b4040fdfb
	// TestEscape/_.~5ec1f7e700f3/_.~5ec1f7e700f3/etc/passwd
	// fs: invalid key: the key is empty
}

func ExampleWriteAtomic() {
	fsys := afero.NewMemMapFs()
	if err := fs.WriteAtomic(fsys, "/store/TestReport/dataset.json", []byte("[1, 2, 3]\n")); err != nil {
		fmt.Println(err)
		return
	}
	data, err := fs.ReadFile(fsys, "/store/TestReport/dataset.json", fs.DefaultMaxSize)
	fmt.Printf("%s%v\n", data, err)

	_, err = fs.ReadFile(fsys, "/store/TestReport/missing.json", fs.DefaultMaxSize)
	fmt.Println(fs.IsTemp("/store/TestReport/.dataset.json.tmp-1234"), err)
	// Output:
	// [1, 2, 3]
	// <nil>
	// true fs: read /store/TestReport/missing.json: file does not exist
}

func ExampleLayout() {
	layout := fs.NewLayout(".json", ".gob", ".raw")
	for _, key := range []string{
		"TestReport/config",
		"TestReport/config.json/v",
		"TestReport/Report.RAW/v",
		"TestReport/with spaces",
	} {
		p, _ := layout.Path(key)
		fmt.Println(p)
	}
	fmt.Println(fs.IsKeySegment("config.json~587cb980af76"), fs.IsKeySegment("my notes"))
	// Output:
	// TestReport/config
	// TestReport/config.json~587cb980af76/v
	// TestReport/Report.RAW~d3ac9b70ce47/v
	// TestReport/with_spaces~ad7b4040fdfb
	// true false
}
