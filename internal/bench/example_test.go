package bench_test

import (
	"fmt"

	"github.com/pecapiku/pecapiku/internal/bench"
)

// Records builds the values the benchmarks store: about size bytes of them
// once encoded, the same for every run.
func ExampleRecords() {
	small := bench.Records(1 << 10)
	large := bench.Records(64 << 10)
	fmt.Println(len(small) > 0, len(large) > len(small))
	fmt.Println(len(bench.Records(1<<10)) == len(small))
	// Output:
	// true true
	// true
}
