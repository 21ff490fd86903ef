package pecatest_test

import (
	"fmt"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/pecatest"
)

// printT is a pecatest.TB that prints what it is told, standing in for the
// *testing.T of a real test.
type printT struct{ name string }

func (t printT) Name() string                      { return t.name }
func (t printT) Logf(format string, args ...any)   { print("", format, args) }
func (t printT) Errorf(format string, args ...any) { print("FAIL: ", format, args) }
func (t printT) Fatalf(format string, args ...any) { print("FATAL: ", format, args) }

// print prints a message. go-cmp puts non-breaking spaces at random into its
// diffs, to keep programs from depending on their exact form; the example's
// output is only for reading, so they become plain spaces.
func print(prefix, format string, args []any) {
	fmt.Println(prefix + strings.ReplaceAll(fmt.Sprintf(format, args...), "\u00a0", " "))
}

func ExampleMemo() {
	// In a test: t is the *testing.T, and the options below are left out,
	// so the fixture goes to testdata/.pecapiku on disk and the access
	// comes from the flag, PECAPIKU_ACCESS or CI.
	t := printT{"TestReport"}
	disk := afero.NewMemMapFs()
	opts := []pecatest.Option{pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite)}

	for run := 1; run <= 2; run++ {
		words := pecatest.Memo(t, "corpus", func() ([]string, error) {
			fmt.Println("downloading the corpus...")
			return strings.Fields("to be or not to be"), nil
		}, opts...)
		fmt.Println(run, len(words), "words")
	}
	// Output:
	// downloading the corpus...
	// pecatest: recorded TestReport/corpus in testdata/.pecapiku/TestReport/corpus.json
	// 1 6 words
	// pecatest: replayed TestReport/corpus from testdata/.pecapiku/TestReport/corpus.json
	// 2 6 words
}

// On CI the access is "r": a fixture nobody recorded fails the test, with the
// command that records it.
func ExampleMemo_notRecorded() {
	t := printT{"TestReport"}
	pecatest.Memo(t, "dataset", func() (int, error) { return 42, nil },
		pecatest.WithFs(afero.NewMemMapFs()), pecatest.WithAccess(cache.ReadOnly))
	// Output:
	// FATAL: pecatest: TestReport/dataset is not recorded (testdata/.pecapiku/TestReport/dataset.json does not exist) and access "r" (set by pecatest.WithAccess in the test) forbids executing it.
	// Record it by giving pecatest.WithAccess access "rew" (or dropping the option) and running: go test -run '^TestReport$' ./pecatest
}

func ExampleGolden() {
	t := printT{"TestRender"}
	disk := afero.NewMemMapFs()
	pecatest.Golden(t, "page", "<h1>hello</h1>\n", pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite))
	pecatest.Golden(t, "page", "<h1>goodbye</h1>\n", pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadOnly))
	// Output:
	// pecatest: recorded TestRender/page in testdata/.pecapiku/TestRender/page.raw
	// FAIL: pecatest: TestRender/page differs from its recording testdata/.pecapiku/TestRender/page.raw (-recorded +got):
	//   string(
	// - 	"<h1>hello</h1>\n",
	// + 	"<h1>goodbye</h1>\n",
	//   )
	// Record it again by giving pecatest.WithAccess access "ew" and running: go test -run '^TestRender$' ./pecatest
}

// Tests that need the same fixture share it: it is recorded once, at
// testdata/.pecapiku/<name>.json, and each test gets its own copy.
func ExampleShared() {
	disk := afero.NewMemMapFs()
	opts := []pecatest.Option{pecatest.Shared(), pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite)}
	for _, test := range []string{"TestA", "TestB"} {
		model := pecatest.Memo(printT{test}, "model", func() (map[string]float64, error) {
			fmt.Println("training...")
			return map[string]float64{"bias": 0.5}, nil
		}, opts...)
		fmt.Println(test, model)
	}
	// Output:
	// training...
	// pecatest: recorded model (shared) in testdata/.pecapiku/model.json
	// TestA map[bias:0.5]
	// pecatest: replayed model (shared) from testdata/.pecapiku/model.json
	// TestB map[bias:0.5]
}
