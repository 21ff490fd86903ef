package cli

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/remote"
)

// A place is a directory or a file that the command works on: on the local
// disk, or on the filesystem that a store URL names (s3://bucket/prefix/...).
type place struct {
	fsys afero.Fs
	path string // on fsys: absolute on the local disk, relative to root on a URL's filesystem ("." for root itself)
	root string // the URL of fsys's root without a trailing "/", as messages name it, "s3://bucket"; "" on the local disk
}

// osFs is the local disk.
var osFs = afero.NewOsFs()

// local returns the place of the absolute path on the local disk.
func local(path string) place { return place{fsys: osFs, path: path} }

// at returns the place of path on p's filesystem.
func (p place) at(path string) place { p.path = path; return p }

// isRemote reports whether p is on a URL's filesystem.
func (p place) isRemote() bool { return p.root != "" }

// name returns how messages name path on the filesystem of p: relative to
// the working directory of e when it is a local path below it, else
// absolute; a URL on a URL's filesystem.
func (e *env) name(p place, path string) string {
	if !p.isRemote() {
		return e.rel(path)
	}
	if path == "." || path == "" {
		return p.root
	}
	return p.root + "/" + filepath.ToSlash(path)
}

// isURL reports whether arg is a URL, scheme://..., rather than a path.
func isURL(arg string) bool {
	scheme, _, ok := strings.Cut(arg, "://")
	if !ok || scheme == "" {
		return false
	}
	for i, r := range scheme {
		letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
		if !letter && (i == 0 || !('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

// place returns the place that arg names: a URL, or a path on the local
// disk relative to the working directory.
func (e *env) place(arg string) (place, error) {
	if isURL(arg) {
		return openURL(arg)
	}
	return local(e.abs(arg)), nil
}

// openURL returns the place that the URL rawURL names. A URL below the
// location of PECAPIKU_STORE is on the very filesystem that tests use with
// it, the same local copy included. Any other is opened at the root of its
// bucket (scheme://host, with the URL's query), where its path is a
// directory like any other.
func openURL(rawURL string) (place, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return place{}, fmt.Errorf("%s: %w", rawURL, err)
	}
	clean := strings.TrimSuffix(rawURL, "/")
	if loc := remote.Location(); loc != "" && u.RawQuery == "" && (clean == loc || strings.HasPrefix(clean, loc+"/")) {
		fsys, _, err := cache.FsFromEnv()
		if err != nil {
			return place{}, schemeError(rawURL, u.Scheme, err)
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(clean, loc), "/")
		return place{fsys: fsys, path: dirPath(rest), root: loc}, nil
	}
	root := u.Scheme + "://" + u.Host
	open := root + "/"
	if u.RawQuery != "" {
		open += "?" + u.RawQuery
	}
	fsys, err := cache.OpenURL(open)
	if err != nil {
		return place{}, schemeError(rawURL, u.Scheme, err)
	}
	return place{fsys: fsys, path: dirPath(u.Path), root: root}, nil
}

// dirPath returns the path of a URL as a clean relative path, "." for the
// root.
func dirPath(p string) string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return filepath.FromSlash(p)
}

// programs names the program that opens the URLs of each scheme this
// repository provides a filesystem for, when this one may not.
var programs = map[string]string{
	"s3": "github.com/pecapiku/pecapiku/s3/cmd/pecapiku",
}

// schemeError returns err, the failure to open the URL rawURL, with the
// program to install when its scheme is one this program lacks.
func schemeError(rawURL, scheme string, err error) error {
	if prog, ok := programs[strings.ToLower(scheme)]; ok && errors.Is(err, cache.ErrUnknownScheme) {
		return fmt.Errorf("%s: this pecapiku does not open %s:// URLs; the one that does is installed with: go install %s@latest",
			rawURL, scheme, prog)
	}
	return fmt.Errorf("%s: %w", rawURL, err)
}
