package cli_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/pecapiku/pecapiku/internal/cli"
)

// Main is the whole pecapiku command: the arguments after the program's
// name, and where its output goes. Its result is the exit status.
func ExampleMain() {
	dir, err := os.MkdirTemp("", "pecapiku-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store := filepath.Join(dir, "testdata", ".pecapiku")
	if err := os.MkdirAll(filepath.Join(store, "TestA"), 0o755); err != nil {
		fmt.Println(err)
		return
	}
	if err := os.WriteFile(filepath.Join(store, "TestA", "x.json"), []byte("42\n"), 0o644); err != nil {
		fmt.Println(err)
		return
	}

	status := cli.Main([]string{"show", filepath.Join(store, "TestA", "x.json")}, os.Stdout, os.Stdout)
	fmt.Println("exit status", status)
	status = cli.Main([]string{"frobnicate"}, os.Stdout, os.Stdout)
	fmt.Println("exit status", status)
	// Output:
	// 42
	// exit status 0
	// pecapiku: unknown command "frobnicate"; the commands are ls, show, verify, rm, prune, migrate, review, accept, reject (pecapiku --help)
	// exit status 2
}
