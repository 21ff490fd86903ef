package pecatest_test

import (
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pecapiku/pecapiku/internal/scripttest"
)

// TestScripts runs the real go test on the small modules in
// testdata/script/*.txtar, as a user would: recording, replaying, CI, the flag
// and the environment variable, end to end. Each module's go.mod is pointed
// at this working tree with a replace directive and builds offline, from the
// module cache this test runs with.
func TestScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test on small modules; skipped with -short")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireUniqueNames:  true,
		RequireExplicitExec: true,
		Setup:               scripttest.Setup(t, root),
	})
}
