package scripttest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/internal/scripttest"
)

func TestSetup(t *testing.T) {
	root, err := filepath.Abs("../..")
	assert.NilError(t, err)
	work := t.TempDir()
	assert.NilError(t, os.WriteFile(filepath.Join(work, "go.mod"), []byte("module example.com/m\n"), 0o644))
	env := &testscript.Env{WorkDir: work, Vars: []string{"PECAPIKU_ACCESS=ew", "CI=true"}}

	assert.NilError(t, scripttest.Setup(t, root)(env))

	mod, err := os.ReadFile(filepath.Join(work, "go.mod"))
	assert.NilError(t, err)
	assert.Assert(t, strings.HasSuffix(string(mod), "\nreplace github.com/pecapiku/pecapiku => "+root+"\n"), string(mod))
	_, err = os.Stat(filepath.Join(work, "go.sum"))
	assert.NilError(t, err)
	assert.Equal(t, env.Getenv("PECAPIKU_ACCESS"), "")
	assert.Equal(t, env.Getenv("CI"), "")
	assert.Equal(t, env.Getenv("GOPROXY"), "off")
	assert.Assert(t, env.Getenv("GOMODCACHE") != "")

	// A script without a go.mod is left as it is.
	empty := &testscript.Env{WorkDir: t.TempDir()}
	assert.NilError(t, scripttest.Setup(t, root)(empty))
	_, err = os.Stat(filepath.Join(empty.WorkDir, "go.mod"))
	assert.Assert(t, os.IsNotExist(err))
}
