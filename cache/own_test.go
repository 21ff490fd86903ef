package cache_test

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

// writeFiles writes each file of files (path relative to dir: content) on
// fsys.
func writeFiles(t *testing.T, fsys afero.Fs, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		assert.NilError(t, fsys.MkdirAll(filepath.Dir(path), 0o755))
		assert.NilError(t, afero.WriteFile(fsys, path, []byte(content), 0o644))
	}
}

// exists reports whether name is on fsys, failing t on any other error.
func exists(t *testing.T, fsys afero.Fs, name string) bool {
	t.Helper()
	_, err := fsys.Stat(name)
	if errors.Is(err, iofs.ErrNotExist) {
		return false
	}
	assert.NilError(t, err)
	return true
}

// TestRemoveRefusesLinkedDirectories: a directory inside the store that is a
// symbolic link may lead anywhere, so Remove refuses to go through it, as
// Write and Delete do, and the file it leads to stays.
func TestRemoveRefusesLinkedDirectories(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "testdata", ".pecapiku")
	outside := filepath.Join(base, "outside")
	writeFiles(t, afero.NewOsFs(), base, map[string]string{
		"outside/important.json":                "1\n",
		"testdata/.pecapiku/TestA/kept.json":    "2\n",
		"testdata/.pecapiku/TestA/.x.json.tmp-": "{",
	})
	assert.NilError(t, os.Symlink(outside, filepath.Join(dir, "TestA", "link")))
	store, err := cache.NewStore(dir, cache.WithFs(afero.NewOsFs()), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)

	err = store.Remove(filepath.Join(dir, "TestA", "link", "important.json"))
	assert.Assert(t, errors.Is(err, fs.ErrOutsideRoot), "%v", err)
	assert.ErrorContains(t, err, "symbolic link")
	assert.Assert(t, exists(t, afero.NewOsFs(), filepath.Join(outside, "important.json")))

	// Nor does Remove take the link itself for an entry: only regular
	// files are.
	assert.NilError(t, os.Symlink(filepath.Join(outside, "important.json"), filepath.Join(dir, "TestA", "alias.json")))
	err = store.Remove(filepath.Join(dir, "TestA", "alias.json"))
	assert.ErrorContains(t, err, "not a regular file")
	assert.Assert(t, exists(t, afero.NewOsFs(), filepath.Join(outside, "important.json")))
}

// TestEmptyDirsNotLinks: after removing an entry, the store removes the
// directories that leaves empty, and never a link that stands where a
// directory would, wherever it leads: it did not make the link.
func TestEmptyDirsNotLinks(t *testing.T) {
	for name, target := range map[string]string{"full": "1\n", "empty": ""} {
		t.Run(name, func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, ".pecapiku")
			outside := filepath.Join(base, "outside")
			assert.NilError(t, os.MkdirAll(outside, 0o755))
			if target != "" {
				assert.NilError(t, os.WriteFile(filepath.Join(outside, "important.json"), []byte(target), 0o644))
			}
			assert.NilError(t, os.MkdirAll(filepath.Join(dir, "TestA"), 0o755))
			link := filepath.Join(dir, "TestA", "link")
			assert.NilError(t, os.Symlink(outside, link))
			store, err := cache.NewStore(dir, cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)

			cache.RemoveEmptyDirs(store, filepath.Join(link, "gone.json"))
			info, err := os.Lstat(link)
			assert.NilError(t, err, "the link is left alone")
			assert.Assert(t, info.Mode()&os.ModeSymlink != 0)
			_, err = os.Stat(filepath.Join(dir, "TestA"))
			assert.NilError(t, err, "the directory holding the link is not empty")
		})
	}
}

// TestOwnership: a store is pecapiku's own when its first write created its
// directory, which leaves a marker in it, or when the directory is named
// .pecapiku; a store in a directory that was already there is not.
func TestOwnership(t *testing.T) {
	for diskName, newDisk := range disks(t) {
		t.Run(diskName, func(t *testing.T) {
			fsys, base := newDisk(t)
			for _, tc := range []struct {
				name  string
				dir   string
				setup func(dir string)
				owned bool
			}{
				{name: "created by its first write", dir: "new/store", owned: true},
				{name: "named .pecapiku", dir: "pkg/testdata/.pecapiku", owned: true,
					setup: func(dir string) { assert.NilError(t, fsys.MkdirAll(dir, 0o755)) }},
				{name: "an existing directory", dir: "pkg", owned: false,
					setup: func(dir string) { writeFiles(t, fsys, dir, map[string]string{"package.json": "{}\n"}) }},
				{name: "marked by hand", dir: "old/store", owned: true,
					setup: func(dir string) { writeFiles(t, fsys, dir, map[string]string{cache.StoreMarker: ""}) }},
			} {
				t.Run(tc.name, func(t *testing.T) {
					dir := filepath.Join(base, tc.name, tc.dir)
					if tc.setup != nil {
						tc.setup(dir)
					}
					store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
					assert.NilError(t, err)
					assert.NilError(t, store.Write("TestA/x", 1))
					assert.NilError(t, store.Write("TestB/y", 2))
					owned, err := store.Owned()
					assert.NilError(t, err)
					assert.Equal(t, owned, tc.owned)
					if filepath.Base(dir) != ".pecapiku" {
						assert.Equal(t, exists(t, fsys, filepath.Join(dir, cache.StoreMarker)), tc.owned)
					}
					// The marker is not an entry.
					entries, err := store.List()
					assert.NilError(t, err)
					var keys []string
					for _, e := range entries {
						if e.Codec != nil && strings.HasPrefix(e.Key, "Test") {
							keys = append(keys, e.Key)
						}
					}
					assert.DeepEqual(t, keys, []string{"TestA/x", "TestB/y"})
				})
			}
		})
	}
}

// TestUnusedLeavesForeignFiles: the pruning of a store never reaches a file
// that pecapiku did not write. A store in a directory pecapiku did not
// create, such as a package's own directory, is refused whole; in a store
// of its own, only the files whose names pecapiku gives its entries count.
func TestUnusedLeavesForeignFiles(t *testing.T) {
	for diskName, newDisk := range disks(t) {
		t.Run(diskName, func(t *testing.T) {
			fsys, base := newDisk(t)
			pkg := filepath.Join(base, "pkg")
			foreign := map[string]string{
				"package.json":        "{}\n",
				"sub/config.json":     "{}\n",
				"testdata/input.json": "[1]\n",
			}
			writeFiles(t, fsys, pkg, foreign)
			store, err := cache.NewStore(pkg, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			assert.NilError(t, store.Write("TestA/x", 1))
			used := []string{filepath.Join(pkg, "TestA", "x.json")}

			_, err = store.Unused(used)
			assert.Assert(t, errors.Is(err, cache.ErrNotOwned), "%v", err)
			assert.ErrorContains(t, err, pkg)
			assert.ErrorContains(t, err, "touch "+filepath.Join(pkg, cache.StoreMarker))
			for _, name := range []string{"package.json", "sub/config.json", "testdata/input.json"} {
				p := filepath.Join(pkg, filepath.FromSlash(name))
				err := store.Remove(p)
				assert.Assert(t, errors.Is(err, cache.ErrNotOwned), "%s: %v", name, err)
				assert.Assert(t, exists(t, fsys, p), "%s was removed", name)
			}

			// A store of its own: entries no call used go, with the
			// leftovers of interrupted writes; files pecapiku would
			// never name an entry stay, whatever their extension.
			own := filepath.Join(base, "own")
			store, err = cache.NewStore(own, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			assert.NilError(t, store.Write("TestA/x", 1))
			assert.NilError(t, store.Write("TestOld/x", 1))
			assert.NilError(t, store.Write("weird name/ü", 1))
			weird, err := store.Path("weird name/ü")
			assert.NilError(t, err)
			writeFiles(t, fsys, own, map[string]string{
				"notes.txt":            "mine\n",
				"my notes.json":        "{}\n",
				".gitattributes":       "*.json -diff\n",
				"TestA/.x.json.tmp-42": "{",
				"TestA/.hidden.json":   "{}\n",
				"TestA/x.json~":        "1\n",
				"TestA/bad~zz.json":    "1\n",
				"TestA/.x.json.lock":   "",
			})
			unused, err := store.Unused([]string{filepath.Join(own, "TestA", "x.json")})
			assert.NilError(t, err)
			var got []string
			for _, e := range unused.Entries {
				got = append(got, e.Path)
			}
			assert.DeepEqual(t, got, []string{filepath.Join(own, "TestOld", "x.json"), weird})
			assert.DeepEqual(t, unused.Leftovers, []string{filepath.Join(own, "TestA", ".x.json.tmp-42")})
			assert.Equal(t, unused.Examined, 3)
			for _, name := range []string{"notes.txt", "my notes.json", ".gitattributes", "TestA/.hidden.json", "TestA/x.json~", "TestA/bad~zz.json", cache.StoreMarker} {
				err := store.Remove(filepath.Join(own, filepath.FromSlash(name)))
				assert.ErrorContains(t, err, "pecapiku did not write", name)
			}
		})
	}
}

// TestListThroughLinkedRoot: the store's directory itself may be a
// symbolic link, which every listing follows; links below it are not
// followed.
func TestListThroughLinkedRoot(t *testing.T) {
	base := t.TempDir()
	osFs := afero.NewOsFs()
	real := filepath.Join(base, "real", ".pecapiku")
	writeFiles(t, osFs, real, map[string]string{
		"TestA/x.json":       "1\n",
		"TestB/.y.json.tmp-": "{",
	})
	writeFiles(t, osFs, base, map[string]string{"elsewhere/TestC/z.json": "3\n"})
	assert.NilError(t, os.Symlink(filepath.Join(base, "elsewhere", "TestC"), filepath.Join(real, "TestC")))
	link := filepath.Join(base, "pkg", "testdata", ".pecapiku")
	assert.NilError(t, os.MkdirAll(filepath.Dir(link), 0o755))
	assert.NilError(t, os.Symlink(real, link))

	store, err := cache.NewStore(link, cache.WithFs(osFs), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	entries, err := store.List()
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 1, "%v", entries)
	assert.Equal(t, entries[0].Path, filepath.Join(link, "TestA", "x.json"))
	leftovers, err := store.Leftovers()
	assert.NilError(t, err)
	assert.DeepEqual(t, leftovers, []string{filepath.Join(link, "TestB", ".y.json.tmp-")})

	// An entry used under the real path is the same file.
	unused, err := store.Unused([]string{filepath.Join(real, "TestA", "x.json")})
	assert.NilError(t, err)
	assert.Equal(t, len(unused.Entries), 0)
	assert.Equal(t, unused.Examined, 1)

	// And removing goes through the root link.
	assert.NilError(t, store.Remove(filepath.Join(link, "TestA", "x.json")))
	assert.Assert(t, !exists(t, osFs, filepath.Join(real, "TestA")))
}

// TestNestedStoreIsItsOwn: a store inside the directory of another, marked
// as its own, is listed by itself and not with the outer store.
func TestNestedStoreIsItsOwn(t *testing.T) {
	fsys := afero.NewMemMapFs()
	outer, err := cache.NewStore("/w/outer", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	inner, err := cache.NewStore("/w/outer/inner", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	assert.NilError(t, outer.Write("a", 1))
	assert.NilError(t, inner.Write("b", 2))
	entries, err := outer.List()
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 1)
	assert.Equal(t, entries[0].Key, "a")
}

func TestCodecOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want cache.Codec
	}{
		{"a/b.json", cache.JSON},
		{"b.gob", cache.Gob},
		{"b.raw", cache.Raw},
		{"b.txt", nil},
		{"b", nil},
		{"b.JSON", nil},
	} {
		assert.Equal(t, cache.CodecOf(tc.path), tc.want, tc.path)
	}
}

func TestReadUses(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "testdata", ".pecapiku")
	entry := filepath.Join(store, "TestA", "x.json")
	file := filepath.Join(dir, "used.txt")
	assert.NilError(t, cache.RecordUse(file, store, entry))
	assert.NilError(t, cache.RecordUse(file, store, entry)) // another test binary
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	assert.NilError(t, err)
	_, err = f.WriteString("entry\trelative/x.json\n" + // not absolute: ignored
		"future\t/some/thing\n" + // a kind of a later version: ignored
		"entry\ts3://bucket/p/x.json\n" +
		"no tab here\n")
	assert.NilError(t, err)
	assert.NilError(t, f.Close())
	uses, err := cache.ReadUses(file)
	assert.NilError(t, err)
	assert.DeepEqual(t, uses.Stores, map[string]bool{store: true})
	assert.DeepEqual(t, uses.Entries, map[string]bool{entry: true, "s3://bucket/p/x.json": true})
}
