package pecatest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
	goEnv := map[string]string{}
	out, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	for i, v := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		goEnv[[]string{"GOCACHE", "GOMODCACHE", "GOPATH"}[i]] = v
	}
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireUniqueNames:  true,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			env.Setenv("GOPROXY", "off")
			env.Setenv("GOFLAGS", "-mod=mod")
			env.Setenv("GOTOOLCHAIN", "local")
			env.Setenv("GOSUMDB", "off")
			// Point the script's module at this working tree.
			modFile := filepath.Join(env.WorkDir, "go.mod")
			mod, err := os.ReadFile(modFile)
			if err != nil {
				return err
			}
			mod = append(mod, []byte("\nreplace github.com/pecapiku/pecapiku => "+root+"\n")...)
			if err := os.WriteFile(modFile, mod, 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "go.sum"), goSum, 0o644)
		},
	})
}
