// Package remote holds what package pecatest and the pecapiku command both
// need to know about a shared store, the one that PECAPIKU_STORE
// ([cache.EnvStore]) names: where the entries of a module's packages live on
// it, and how its URL names them.
//
// The entries of a package live under the module path followed by the
// package's directory in the module, as the files would be in a checkout:
// the stores of package ./report of module github.com/acme/app are in
// github.com/acme/app/report/testdata/.pecapiku on the shared store, so
// that packages and modules sharing a bucket never share an entry by
// accident.
package remote

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pecapiku/pecapiku/cache"
)

// Outside is the namespace of a package in no module.
const Outside = "_"

// Location returns PECAPIKU_STORE without its query, which holds settings
// rather than a place, and without a trailing "/": "s3://bucket/prefix";
// or "" when the variable is unset. A path on the store is named by the
// location, "/" and the path.
func Location() string {
	s := os.Getenv(cache.EnvStore)
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, "/")
}

// Namespace returns the directory, on a shared store, of the package in
// dir, an absolute directory: the module path followed by dir's place in
// the module, "github.com/acme/app/report"; or [Outside] when dir is in no
// module.
func Namespace(dir string) string {
	root, mod, ok := Module(dir)
	if !ok {
		return Outside
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return mod
	}
	return path.Join(mod, filepath.ToSlash(rel))
}

// Module returns the root of the module that the absolute directory dir is
// in, the nearest directory at or above it with a go.mod, and the module
// path that go.mod declares ([Outside] when it declares none). It reports
// false when no directory above dir has a go.mod.
func Module(dir string) (root, modulePath string, ok bool) {
	for d := dir; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod := ModulePath(data)
			if mod == "" {
				mod = Outside
			}
			return d, mod, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", false
		}
		d = parent
	}
}

// ModulePath returns the module path that the go.mod data declares, or "".
func ModulePath(data []byte) string {
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
