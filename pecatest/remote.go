package pecatest

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// storeFs returns where the entries of a call without [WithFs] live: the
// filesystem, the directory on it, and the text that messages put before a
// path on it ("" for the local disk).
//
// When PECAPIKU_STORE names a shared store (see [cache.EnvStore]) and dir is
// relative, the entries are on that store, in the directory that dir would
// be in a checkout of the module, under the module's path:
// s3://bucket/prefix/github.com/acme/app/report/testdata/.pecapiku/... for
// the package ./report of module github.com/acme/app. Packages and modules
// that share a bucket thus never share an entry by accident. An absolute dir
// (a t.TempDir(), say) names a place on this machine and stays local.
func storeFs(dir string) (fsys afero.Fs, storeDir, location string, err error) {
	if filepath.IsAbs(dir) {
		return osFs, dir, "", nil
	}
	remote, ok, err := cache.FsFromEnv()
	if err != nil || !ok {
		return osFs, dir, "", err
	}
	storeDir = path.Join(moduleNamespace(), filepath.ToSlash(dir))
	return remote, storeDir, strings.TrimSuffix(storeLocation(), "/") + "/", nil
}

// storeLocation returns PECAPIKU_STORE without its query, which holds
// settings rather than a place.
func storeLocation() string {
	s := os.Getenv(cache.EnvStore)
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return s
}

// moduleNamespace returns the directory of the package under test as the
// module path followed by the package's directory in the module,
// "github.com/acme/app/report"; or, outside a module, "_".
func moduleNamespace() string {
	wd, err := os.Getwd()
	if err != nil {
		return "_"
	}
	for dir := wd; ; {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			mod := modulePath(data)
			if mod == "" {
				mod = "_"
			}
			rel, err := filepath.Rel(dir, wd)
			if err != nil {
				return mod
			}
			return path.Join(mod, filepath.ToSlash(rel))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "_"
		}
		dir = parent
	}
}

// modulePath returns the module path that the go.mod data declares, or "".
func modulePath(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if unq, err := strconv.Unquote(rest); err == nil {
			return unq
		}
		return rest
	}
	return ""
}
