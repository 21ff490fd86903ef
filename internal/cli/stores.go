package cli

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pecapiku/pecapiku/cache"
)

// storeDirName is the name of the directories that package pecatest keeps
// its entries in: testdata/.pecapiku.
const storeDirName = ".pecapiku"

// codecs are the codecs whose entries the command knows.
var codecs = []cache.Codec{cache.JSON, cache.Gob, cache.Raw}

// codecOf returns the codec whose extension path has, or nil.
func codecOf(path string) cache.Codec {
	ext := filepath.Ext(path)
	for _, c := range codecs {
		if ext == c.Ext() {
			return c
		}
	}
	return nil
}

// extensions lists the codecs' extensions for a message: ".json, .gob or .raw".
func extensions() string {
	var exts []string
	for _, c := range codecs {
		exts = append(exts, c.Ext())
	}
	return strings.Join(exts[:len(exts)-1], ", ") + " or " + exts[len(exts)-1]
}

// abs returns path made absolute against the working directory of e.
func (e *env) abs(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(e.dir, path)
}

// rel returns the absolute path as the command prints it: relative to the
// working directory when it is below it, absolute otherwise.
func (e *env) rel(path string) string {
	rel, err := filepath.Rel(e.dir, path)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return path
	}
	return filepath.ToSlash(rel)
}

// moduleRoot returns the nearest directory at or above dir that has a
// go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod in %s or above, so there is no module to search; give the paths to search", dir)
		}
		d = parent
	}
}

// findStores returns the absolute directories of the stores the command
// works on, sorted and without duplicates: those below each of paths, or,
// without paths, the testdata/.pecapiku directories of the module of the
// working directory; and the directories given with -store.
func findStores(e *env, paths, stores []string) ([]string, error) {
	found := map[string]bool{}
	for _, s := range stores {
		dir := e.abs(s)
		if err := isDir(dir); err != nil {
			return nil, fmt.Errorf("-store %s: %w", s, err)
		}
		found[dir] = true
	}
	var walkErr error
	add := func(dir string) { found[dir] = true }
	switch {
	case len(paths) > 0:
		for _, p := range paths {
			dir := e.abs(p)
			if err := isDir(dir); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if err := walkStores(dir, false, add); err != nil {
				walkErr = err
			}
		}
	case len(stores) == 0:
		root, err := moduleRoot(e.dir)
		if err != nil {
			return nil, err
		}
		walkErr = walkStores(root, true, add)
	}
	if walkErr != nil {
		return nil, walkErr
	}
	return sortedKeys(found), nil
}

// isDir returns nil when dir is a directory, and otherwise an error that
// says what it is.
func isDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return pathless(err)
	}
	if !info.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// walkStores calls add with each store directory below root, root
// included: each directory named .pecapiku, and with module only those in
// a directory named testdata, as package pecatest keeps them. It leaves out
// vendor, node_modules and other hidden directories, and with module the
// directories of nested modules (those with a go.mod of their own).
func walkStores(root string, module bool, add func(dir string)) error {
	return filepath.WalkDir(root, func(path string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if name == storeDirName {
			if !module || filepath.Base(filepath.Dir(path)) == "testdata" {
				add(path)
			}
			return filepath.SkipDir
		}
		if path == root {
			return nil
		}
		if name == "vendor" || name == "node_modules" || strings.HasPrefix(name, ".") {
			return filepath.SkipDir
		}
		if module {
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		return nil
	})
}

// storeOf returns the directory of the store that holds the file path (both
// absolute): the one of stores that path is below, else the nearest
// directory above path named .pecapiku; or "" when there is none.
func storeOf(path string, stores []string) string {
	best := ""
	for _, s := range stores {
		if rel, err := filepath.Rel(s, path); err == nil && rel != "." && filepath.IsLocal(rel) && len(s) > len(best) {
			best = s
		}
	}
	if best != "" {
		return best
	}
	for d := filepath.Dir(path); ; {
		if filepath.Base(d) == storeDirName {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// openStore returns the store in dir with access a.
func openStore(dir string, a cache.Access) (*cache.Store, error) {
	return cache.NewStore(dir, cache.WithAccess(a))
}

// contents is what a store holds, as ls and verify report it.
type contents struct {
	entries   []cache.Entry // files with a known codec's extension
	others    []cache.Entry // files without one
	leftovers []string      // temporary files of interrupted writes
}

// read lists the store in dir.
func read(dir string) (*contents, error) {
	s, err := openStore(dir, cache.ReadOnly)
	if err != nil {
		return nil, err
	}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	c := &contents{}
	for _, e := range all {
		if e.Codec != nil {
			c.entries = append(c.entries, e)
		} else {
			c.others = append(c.others, e)
		}
	}
	if c.leftovers, err = s.Leftovers(); err != nil {
		return nil, err
	}
	sort.Strings(c.leftovers)
	return c, nil
}
