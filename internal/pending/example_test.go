package pending_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/internal/pending"
)

// A test keeps a new value it could not record; accepting it makes it the
// recording.
func Example() {
	module, _ := os.MkdirTemp("", "module")
	defer os.RemoveAll(module)
	entry := filepath.Join(module, "report", "testdata", ".pecapiku", "TestPage", "page.raw")
	_ = os.MkdirAll(filepath.Dir(entry), 0o755)
	_ = os.WriteFile(entry, []byte("old\n"), 0o644)

	dir := filepath.Join(module, pending.LocalDir)
	rel, _ := filepath.Rel(module, entry)
	if _, err := pending.Keep(afero.NewOsFs(), dir, rel, []byte("new\n"), "-old\n+new\n", true); err != nil {
		fmt.Println(err)
		return
	}
	recs, _ := pending.Find([]string{module}, module)
	for _, r := range recs {
		fmt.Printf("%s replaces %s\n%s", must(filepath.Rel(module, r.Path)), must(filepath.Rel(module, r.Target)), r.Diff)
		_ = pending.Accept(r)
	}
	data, _ := os.ReadFile(entry)
	fmt.Printf("recorded: %s", data)
	// Output:
	// .pecapiku-pending/report/testdata/.pecapiku/TestPage/page.raw replaces report/testdata/.pecapiku/TestPage/page.raw
	// -old
	// +new
	// recorded: new
}

func must(s string, _ error) string { return s }
