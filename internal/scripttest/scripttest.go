// Package scripttest prepares the testscript runs of this repository, whose
// scripts run the real go test on small modules kept in txtar files.
package scripttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// Setup returns a testscript Setup function for scripts that build Go
// modules requiring github.com/pecapiku/pecapiku. It gives each script this
// process's build and module caches, builds offline (GOPROXY=off, the local
// toolchain), clears every variable that changes what pecapiku does (CI and
// the PECAPIKU_* switches, so that the developer's own settings do not leak
// in), and, when the script has a go.mod at its top, points it at root (the
// working tree) with a replace directive and gives it root's go.sum.
func Setup(t testing.TB, root string) func(*testscript.Env) error {
	t.Helper()
	names := []string{"GOCACHE", "GOMODCACHE", "GOPATH"}
	out, err := exec.Command("go", append([]string{"env"}, names...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	values := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(values) != len(names) {
		t.Fatalf("go env %s printed %q", strings.Join(names, " "), out)
	}
	goSum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	return func(env *testscript.Env) error {
		for i, name := range names {
			env.Setenv(name, values[i])
		}
		env.Setenv("GOPROXY", "off")
		env.Setenv("GOFLAGS", "-mod=mod")
		env.Setenv("GOTOOLCHAIN", "local")
		env.Setenv("GOSUMDB", "off")
		for _, name := range []string{"CI", "PECAPIKU_ACCESS", "PECAPIKU_VERIFY", "PECAPIKU_PRUNE", "PECAPIKU_USED", "PECAPIKU_STORE", "PECAPIKU_DIR"} {
			env.Setenv(name, "")
		}
		modFile := filepath.Join(env.WorkDir, "go.mod")
		mod, err := os.ReadFile(modFile)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		mod = append(mod, []byte("\nreplace github.com/pecapiku/pecapiku => "+root+"\n")...)
		if err := os.WriteFile(modFile, mod, 0o644); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(env.WorkDir, "go.sum"), goSum, 0o644)
	}
}
