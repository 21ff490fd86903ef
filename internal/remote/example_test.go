package remote_test

import (
	"fmt"

	"github.com/pecapiku/pecapiku/internal/remote"
)

func ExampleModulePath() {
	gomod := []byte("// The weather app.\nmodule github.com/acme/weather\n\ngo 1.23\n")
	fmt.Println(remote.ModulePath(gomod))
	// Output: github.com/acme/weather
}
