package gobdump_test

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"os"

	"github.com/pecapiku/pecapiku/internal/gobdump"
)

type point struct {
	X, Y  int
	Label string
}

// Dump prints a gob stream's types and value without the Go types that made
// it, as the pecapiku command's show does for a gob entry.
func ExampleDump() {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(point{X: 1, Y: 2, Label: "origin"}); err != nil {
		fmt.Println(err)
		return
	}
	if err := gobdump.Dump(os.Stdout, buf.Bytes()); err != nil {
		fmt.Println(err)
	}
	fmt.Println(gobdump.Check(buf.Bytes()[:buf.Len()-1]) != nil)
	// Output:
	// types:
	//   point struct {
	//     X     int
	//     Y     int
	//     Label string
	//   }
	// value:
	//   point{
	//     X: 1,
	//     Y: 2,
	//     Label: "origin",
	//   }
	// true
}
