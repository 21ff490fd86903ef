package cli

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
	"github.com/pecapiku/pecapiku/internal/remote"
)

// storeDirName is the name of the directories that package pecatest keeps
// its entries in: testdata/.pecapiku.
const storeDirName = ".pecapiku"

// codecOf returns the codec whose extension path has, or nil.
func codecOf(path string) cache.Codec { return cache.CodecOf(path) }

// extensions lists the codecs' extensions for a message: ".json, .gob or .raw".
func extensions() string {
	var exts []string
	for _, c := range cache.Codecs() {
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
// go.mod, and the module path it declares.
func moduleRoot(dir string) (root, modulePath string, err error) {
	root, modulePath, ok := remote.Module(dir)
	if !ok {
		return "", "", fmt.Errorf("no go.mod in %s or above, so there is no module to search; give the paths to search", dir)
	}
	return root, modulePath, nil
}

// findPlaces returns the stores the command works on: those below each of
// paths (local paths or URLs), and the directories given with -store; or,
// without either, the testdata/.pecapiku directories of the module of the
// working directory, on the shared store when PECAPIKU_STORE names one (see
// package internal/remote) and on the local disk otherwise. The local ones
// come first, as findStores returns them, then the others by URL.
func findPlaces(e *env, paths, stores []string) ([]place, error) {
	var localPaths, localStores, urlPaths, urlStores []string
	for _, p := range paths {
		if isURL(p) {
			urlPaths = append(urlPaths, p)
		} else {
			localPaths = append(localPaths, p)
		}
	}
	for _, s := range stores {
		if isURL(s) {
			urlStores = append(urlStores, s)
		} else {
			localStores = append(localStores, s)
		}
	}
	none := len(paths) == 0 && len(stores) == 0
	if none && remote.Location() != "" {
		return sharedModuleStores(e)
	}
	var places []place
	if none || len(localPaths)+len(localStores) > 0 {
		dirs, err := findStores(e, localPaths, localStores)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			places = append(places, local(d))
		}
	}
	found := map[string]place{}
	for _, s := range urlStores {
		p, err := openURL(s)
		if err != nil {
			return nil, fmt.Errorf("-store %w", err)
		}
		if err := isDirOn(p.fsys, p.path); err != nil {
			return nil, fmt.Errorf("-store %s: %w", s, err)
		}
		found[e.name(p, p.path)] = p
	}
	for _, u := range urlPaths {
		p, err := openURL(u)
		if err != nil {
			return nil, err
		}
		if err := isDirOn(p.fsys, p.path); err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		err = walkStores(p.fsys, p.path, nil, func(dir string) { found[e.name(p, dir)] = p.at(dir) })
		if err != nil {
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(found)) {
		places = append(places, found[name])
	}
	return places, nil
}

// sharedModuleStores returns the testdata/.pecapiku directories of the
// module of the working directory on the shared store of PECAPIKU_STORE,
// found under the module path there, as findStores finds them on the local
// disk: not those of nested modules (directories with a go.mod of their own
// in the checkout), vendor, node_modules or hidden directories.
func sharedModuleStores(e *env) ([]place, error) {
	root, mod, err := moduleRoot(e.dir)
	if err != nil {
		return nil, err
	}
	shared, err := openURL(remote.Location())
	if err != nil {
		return nil, err
	}
	top := filepath.Join(shared.path, filepath.FromSlash(mod))
	if _, err := shared.fsys.Stat(top); errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", e.name(shared, top), fs.Pathless(top, err))
	}
	nested := func(dir string) bool {
		rel, err := filepath.Rel(top, dir)
		if err != nil {
			return false
		}
		_, err = os.Stat(filepath.Join(root, rel, "go.mod"))
		return err == nil
	}
	var places []place
	err = walkStores(shared.fsys, top, nested, func(dir string) { places = append(places, shared.at(dir)) })
	if err != nil {
		return nil, err
	}
	sort.Slice(places, func(i, j int) bool { return places[i].path < places[j].path })
	return places, nil
}

// findStores returns the absolute directories of the local stores the
// command works on, sorted and without duplicates: those below each of
// paths, or, without paths, the testdata/.pecapiku directories of the
// module of the working directory; and the directories given with -store.
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
			if err := walkStores(osFs, dir, nil, add); err != nil {
				walkErr = err
			}
		}
	case len(stores) == 0:
		root, _, err := moduleRoot(e.dir)
		if err != nil {
			return nil, err
		}
		walkErr = walkStores(osFs, root, hasGoMod, add)
	}
	if walkErr != nil {
		return nil, walkErr
	}
	return slices.Sorted(maps.Keys(found)), nil
}

// hasGoMod reports whether the local directory dir has a go.mod: whether it
// is the root of a module.
func hasGoMod(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// isDir returns nil when dir is a local directory, and otherwise an error
// that says what it is.
func isDir(dir string) error { return isDirOn(osFs, dir) }

// isDirOn returns nil when dir is a directory on fsys, and otherwise an
// error that says what it is.
func isDirOn(fsys afero.Fs, dir string) error {
	info, err := fsys.Stat(dir)
	if err != nil {
		return fs.Pathless(dir, err)
	}
	if !info.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// walkStores calls add with each store directory below root on fsys, root
// included: each directory named .pecapiku, or link to one, leaving out vendor,
// node_modules and other hidden directories. With nested, it walks a
// module, as package pecatest keeps its stores there: it takes only the
// .pecapiku directories in a directory named testdata, and leaves out the
// directories for which nested reports true, those of nested modules.
func walkStores(fsys afero.Fs, root string, nested func(dir string) bool, add func(dir string)) error {
	module := nested != nil
	return afero.Walk(fsys, root, func(path string, info iofs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		name := info.Name()
		if info.Mode()&iofs.ModeSymlink != 0 && name == storeDirName && (!module || filepath.Base(filepath.Dir(path)) == "testdata") {
			// A store's directory may be a link (stores follow it);
			// no other link is followed.
			if target, err := fsys.Stat(path); err == nil && target.IsDir() {
				add(path)
			}
			return nil
		}
		if !info.IsDir() {
			return nil
		}
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
		if module && nested(path) {
			return filepath.SkipDir
		}
		return nil
	})
}

// storeOf returns the directory of the store that holds the file path (both
// on one filesystem): the one of stores that path is below, else the
// nearest directory above path named .pecapiku; or "" when there is none.
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

// openStore returns the store in the directory p with access a, on p's
// filesystem: the local disk is named, so that PECAPIKU_STORE does not move
// a local store to the shared one.
func openStore(p place, a cache.Access) (*cache.Store, error) {
	return cache.NewStore(p.path, cache.WithFs(p.fsys), cache.WithAccess(a))
}

// contents is what a store holds, as ls and verify report it.
type contents struct {
	entries   []cache.Entry // files with a known codec's extension
	others    []cache.Entry // files without one
	leftovers []string      // temporary files of interrupted writes
}

// read lists the store in the directory p.
func read(p place) (*contents, error) {
	s, err := openStore(p, cache.ReadOnly)
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
