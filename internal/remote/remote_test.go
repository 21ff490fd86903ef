package remote

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/fs"

	"github.com/pecapiku/pecapiku/cache"
)

func TestModulePath(t *testing.T) {
	tests := []struct {
		name, gomod, want string
	}{
		{"plain", "module github.com/acme/app\n\ngo 1.23\n", "github.com/acme/app"},
		{"quoted", "// comment\nmodule \"example.com/x\" // trailing\n", "example.com/x"},
		{"none", "go 1.23\n", ""},
		{"modulex is not module", "modulex foo\nmodule bar\n", "bar"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, ModulePath([]byte(tc.gomod)), tc.want)
		})
	}
}

func TestNamespace(t *testing.T) {
	dir := fs.NewDir(t, "tree",
		fs.WithDir("app",
			fs.WithFile("go.mod", "module github.com/acme/app\n"),
			fs.WithDir("report", fs.WithDir("testdata")),
			fs.WithDir("nested",
				fs.WithFile("go.mod", "module example.com/nested\n"),
				fs.WithDir("x"))),
		fs.WithDir("nameless", fs.WithFile("go.mod", "go 1.23\n"), fs.WithDir("p")),
		fs.WithDir("loose"))
	for _, tc := range []struct {
		dir, want string
	}{
		{"app", "github.com/acme/app"},
		{"app/report", "github.com/acme/app/report"},
		{"app/report/testdata", "github.com/acme/app/report/testdata"},
		{"app/nested/x", "example.com/nested/x"},
		{"nameless/p", "_/p"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			assert.Equal(t, Namespace(dir.Join(filepath.FromSlash(tc.dir))), tc.want)
		})
	}
	if _, err := os.Stat("/go.mod"); err == nil {
		t.Skip("/go.mod exists: every directory is in a module")
	}
	assert.Equal(t, Namespace(dir.Join("loose")), Outside)
	_, _, ok := Module(dir.Join("loose"))
	assert.Assert(t, !ok)
}

func TestModule(t *testing.T) {
	dir := fs.NewDir(t, "tree",
		fs.WithFile("go.mod", "module example.com/m\n"),
		fs.WithDir("a", fs.WithDir("b")))
	root, mod, ok := Module(dir.Join("a", "b"))
	assert.Assert(t, ok)
	assert.Equal(t, root, dir.Path())
	assert.Equal(t, mod, "example.com/m")
}

func TestLocation(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"", ""},
		{"s3://bucket/prefix", "s3://bucket/prefix"},
		{"s3://bucket/prefix/?local=/tmp/x", "s3://bucket/prefix"},
		{"s3://bucket", "s3://bucket"},
		{"file:///shared/dir", "file:///shared/dir"},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(cache.EnvStore, tc.env)
			assert.Equal(t, Location(), tc.want)
		})
	}
}
