package cache_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

// badKeys are keys a caller may pass by mistake or on purpose: each must be
// stored inside the store's directory, under a file of its own, or refused
// with ErrInvalidKey. tooLong is the error a real disk gives for a key whose
// path is longer than the system allows ("" when it allows it).
var badKeys = []struct {
	name, key string
	tooLong   string
}{
	{"empty", "", ""},
	{"dot", ".", ""},
	{"dot dot", "..", ""},
	{"escape", "../x", ""},
	{"deep escape", "../../../../../../../../etc/passwd", ""},
	{"absolute", "/abs", ""},
	{"empty segment", "a//b", ""},
	{"trailing slash", "a/", ""},
	{"NUL byte", "a\x00b", ""},
	{"backslash", `..\..\x`, ""},
	{"300-byte name", strings.Repeat("n", 300), ""},
	{"300 bytes of segments", strings.Repeat("s/", 150), ""},
	{"8 KiB key", strings.Repeat("abcdefghi/", 820), "file name too long"},
	{"unicode", "ключ/値/🔑", ""},
	{"invalid UTF-8", "\xff\xfe", ""},
	{"CON", "CON", ""},
	{"device with extension", "nul.txt", ""},
	{"trailing dots", "name..", ""},
	{"trailing spaces", "name  ", ""},
	{"leading dot", ".git/config", ""},
	{"temporary file name", ".k.json.tmp-1", ""},
	{"tilde", "a~b", ""},
	{"newline", "a\nb", ""},
}

// noPanic runs f and turns a panic into a test failure naming what panicked.
func noPanic(t *testing.T, what string, f func() error) (err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s panicked: %v", what, p)
		}
	}()
	return f()
}

// TestBadKeys runs every store operation with every bad key, on a disk in
// memory and a real one: no panic; the empty key is ErrInvalidKey
// everywhere; every other key reads back what was written, from a file
// inside the store's directory that List shows, and nothing is written
// outside that directory.
func TestBadKeys(t *testing.T) {
	for _, tc := range badKeys {
		for diskName, newDisk := range disks(t) {
			t.Run(tc.name+"/"+diskName, func(t *testing.T) {
				fsys, dir := newDisk(t)
				parent := filepath.Dir(dir)
				assert.NilError(t, fsys.MkdirAll(parent, 0o755))
				assert.NilError(t, afero.WriteFile(fsys, filepath.Join(parent, "outside.json"), []byte("\"outside\"\n"), 0o644))
				store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
				assert.NilError(t, err)
				readOnly, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
				assert.NilError(t, err)

				path, pathErr := store.Path(tc.key)
				writeErr := noPanic(t, "Write", func() error { return store.Write(tc.key, "value") })
				var got string
				readErr := noPanic(t, "Read", func() error { return store.Read(tc.key, &got) })
				var ran bool
				doErr := noPanic(t, "Do", func() error {
					_, err := cache.Do(store, tc.key+"/do", func() (string, error) { ran = true; return "done", nil })
					return err
				})
				notCachedErr := noPanic(t, "Do without e", func() error {
					_, err := cache.Do(readOnly, tc.key+"/missing", func() (string, error) { return "", nil })
					return err
				})
				deleteErr := noPanic(t, "Delete", func() error { return store.Delete(tc.key) })

				switch {
				case tc.key == "":
					for _, err := range []error{pathErr, writeErr, readErr, deleteErr} {
						assert.Assert(t, errors.Is(err, cache.ErrInvalidKey), err)
					}
					assert.NilError(t, doErr) // "/do" is a valid key
				case tc.tooLong != "" && diskName == "os":
					assert.NilError(t, pathErr)
					assert.ErrorContains(t, writeErr, tc.tooLong)
					assert.ErrorContains(t, writeErr, path)
					assert.ErrorContains(t, readErr, tc.tooLong)
					assert.ErrorContains(t, doErr, tc.tooLong) // reading fails, so Do stops there
					assert.Assert(t, !ran)
				default:
					assert.NilError(t, pathErr)
					rel, err := filepath.Rel(dir, path)
					assert.NilError(t, err)
					assert.Assert(t, filepath.IsLocal(rel), "%q maps to %s, outside %s", tc.key, path, dir)
					assert.NilError(t, writeErr)
					assert.NilError(t, readErr)
					assert.Equal(t, got, "value")
					assert.NilError(t, doErr)
					assert.Assert(t, ran)
					assert.Assert(t, errors.Is(notCachedErr, cache.ErrNotCached), notCachedErr)
					assert.NilError(t, deleteErr)
					_, err = fsys.Stat(path)
					assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "Delete left %s", path)
					entries, err := store.List()
					assert.NilError(t, err)
					assert.Equal(t, len(entries), 1, "%v", entries)
					doPath, err := store.Path(tc.key + "/do")
					assert.NilError(t, err)
					assert.Equal(t, entries[0].Path, doPath)
				}
				// Nothing outside the store: its parent holds the store
				// and the file put there, unchanged.
				names, err := afero.ReadDir(fsys, parent)
				assert.NilError(t, err)
				var found []string
				for _, n := range names {
					found = append(found, n.Name())
				}
				assert.DeepEqual(t, found, []string{"outside.json", "store"})
				content, err := afero.ReadFile(fsys, filepath.Join(parent, "outside.json"))
				assert.NilError(t, err)
				assert.Equal(t, string(content), "\"outside\"\n")
			})
		}
	}
}

// TestKeysNeverShareAFile writes every bad key, and its variants that differ
// only in what the mapping replaces, into one store: each reads back its
// own value, or, when its file's path differs only in case from that of a
// key written before it, is refused.
func TestKeysNeverShareAFile(t *testing.T) {
	store, err := cache.NewStore("/store", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	var keys []string
	for _, tc := range badKeys {
		if tc.key != "" && tc.tooLong == "" {
			keys = append(keys, tc.key, strings.ToUpper(tc.key), tc.key+"_", strings.ReplaceAll(tc.key, "/", "_"))
		}
	}
	written := map[string]bool{}
	var paths []string
	for _, k := range keys {
		if written[k] {
			continue
		}
		path, err := store.Path(k)
		assert.NilError(t, err)
		err = store.Write(k, fmt.Sprintf("%q", k))
		if errors.Is(err, cache.ErrCaseConflict) {
			assert.Assert(t, slices.ContainsFunc(paths, func(p string) bool { return sharesAFold(p, path) }),
				"%q is refused, though no path differs from %s only in case: %v", k, path, err)
			var got string
			assert.Assert(t, errors.Is(store.Read(k, &got), iofs.ErrNotExist), "this disk respects case")
			continue
		}
		assert.NilError(t, err)
		written[k] = true
		paths = append(paths, path)
	}
	assert.Assert(t, len(written) > len(keys)/2)
	for k := range written {
		var got string
		assert.NilError(t, store.Read(k, &got))
		assert.Equal(t, got, fmt.Sprintf("%q", k))
	}
}

// sharesAFold reports whether the files a and b, or one of their
// directories, have names that differ only in case.
func sharesAFold(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] != bs[i] {
			return strings.EqualFold(as[i], bs[i])
		}
	}
	return false
}

// TestBadAccess checks that no store is made with an invalid access, from an
// option or from PECAPIKU_ACCESS, and that the error says where it came from.
func TestBadAccess(t *testing.T) {
	for n := 1; n < 256; n++ {
		a := cache.Access(n)
		if a.Valid() {
			continue
		}
		store, err := cache.NewStore("dir", cache.WithAccess(a))
		assert.Assert(t, errors.Is(err, cache.ErrInvalidAccess), "%v: %v", a, err)
		assert.Assert(t, store == nil)
		assert.ErrorContains(t, err, fmt.Sprintf("cache: store dir: invalid access Access(%d)", n))
	}
	for _, s := range []string{"x", "rw", "w", "rr", "rewe", "REW", " r", "r\n", "r,e", "read", "\xff", "ré"} {
		t.Run(s, func(t *testing.T) {
			t.Setenv(cache.EnvAccess, s)
			store, err := cache.NewStore("dir")
			assert.Assert(t, errors.Is(err, cache.ErrInvalidAccess), err)
			assert.Assert(t, store == nil)
			assert.ErrorContains(t, err, fmt.Sprintf("cache: store dir: PECAPIKU_ACCESS=%q: cache: invalid access %q", s, s))
		})
	}
}

// TestBadFiles puts, where an entry's file should be, each kind of file that
// is not a good entry, then reads it, replays it read-only, computes it with
// rew and regenerates it with ew. Each gives a value or an error that names
// the file; none panics; and nothing outside the store changes.
func TestBadFiles(t *testing.T) {
	const key = "TestX/entry"
	gobBytes, err := cache.Gob.Marshal(sample)
	assert.NilError(t, err)
	type want struct {
		read, replay, compute, regenerate string // "" for success, else a part of the error
	}
	corrupt := want{read: "corrupt entry: cannot decode", replay: "corrupt entry: cannot decode"}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir, outside string) // dir is the store, outside a directory beside it
		want  want
		value string // the value read, when it is read
	}{
		{"empty file", func(t *testing.T, dir, _ string) { writeFile(t, filepath.Join(dir, "TestX", "entry.json"), "") }, corrupt, ""},
		{"truncated", func(t *testing.T, dir, _ string) { writeFile(t, filepath.Join(dir, "TestX", "entry.json"), `"val`) }, corrupt, ""},
		{"another codec", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, "TestX", "entry.json"), string(gobBytes))
		}, corrupt, ""},
		{"another type", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, "TestX", "entry.json"), `{"Name": "x"}`)
		}, corrupt, ""},
		{"two values", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, "TestX", "entry.json"), `"a" "b"`)
		}, corrupt, ""},
		{"directory", func(t *testing.T, dir, _ string) {
			writeFile(t, filepath.Join(dir, "TestX", "entry.json", "inside"), "x")
		}, want{
			read: "is a directory, not a file", replay: "is a directory, not a file", compute: "is a directory, not a file",
			regenerate: "rename " + "DIR/TestX/.entry.json.tmp-",
		}, ""},
		{"parent is a file", func(t *testing.T, dir, _ string) { writeFile(t, filepath.Join(dir, "TestX"), "x") }, want{
			read: "not a directory", replay: "not a directory", compute: "not a directory", regenerate: "DIR/TestX is not a directory",
		}, ""},
		{"link to a file outside", func(t *testing.T, dir, outside string) {
			writeFile(t, filepath.Join(outside, "target.json"), `"outside"`)
			symlink(t, filepath.Join(outside, "target.json"), filepath.Join(dir, "TestX", "entry.json"))
		}, want{}, "outside"},
		{"dangling link", func(t *testing.T, dir, outside string) {
			symlink(t, filepath.Join(outside, "missing.json"), filepath.Join(dir, "TestX", "entry.json"))
		}, want{read: "fs: read DIR/TestX/entry.json: ", replay: "not cached"}, ""},
		{"link to a directory outside", func(t *testing.T, dir, outside string) {
			writeFile(t, filepath.Join(outside, "linked", "entry.json"), `"outside"`)
			symlink(t, filepath.Join(outside, "linked"), filepath.Join(dir, "TestX"))
		}, want{
			regenerate: "outside the root DIR: its directory DIR/TestX is a symbolic link",
		}, "outside"},
		{"link to a missing directory outside", func(t *testing.T, dir, outside string) {
			symlink(t, filepath.Join(outside, "nowhere"), filepath.Join(dir, "TestX"))
		}, want{
			read: "fs: read DIR/TestX/entry.json: ", replay: "not cached",
			compute:    "outside the root DIR: its directory DIR/TestX is a symbolic link",
			regenerate: "outside the root DIR: its directory DIR/TestX is a symbolic link",
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, op := range []struct {
				name   string
				access cache.Access
				want   string
			}{
				{"read", cache.ReadOnly, tc.want.read},
				{"replay", cache.ReadOnly, tc.want.replay},
				{"compute", cache.ReadExecuteWrite, tc.want.compute},
				{"regenerate", cache.Regenerate, tc.want.regenerate},
			} {
				t.Run(op.name, func(t *testing.T) {
					top := t.TempDir()
					dir, outside := filepath.Join(top, "store"), filepath.Join(top, "outside")
					assert.NilError(t, os.MkdirAll(dir, 0o755))
					assert.NilError(t, os.MkdirAll(outside, 0o755))
					tc.setup(t, dir, outside)
					before := snapshot(t, outside)
					store, err := cache.NewStore(dir, cache.WithAccess(op.access))
					assert.NilError(t, err)
					var got string
					err = noPanic(t, op.name, func() error {
						if op.name == "read" {
							return store.Read(key, &got)
						}
						var err error
						got, err = cache.Do(store, key, func() (string, error) { return "computed", nil })
						return err
					})
					path := filepath.Join(dir, "TestX", "entry.json")
					if op.want != "" {
						assert.ErrorContains(t, err, strings.ReplaceAll(op.want, "DIR", dir))
						assert.ErrorContains(t, err, path)
					} else {
						assert.NilError(t, err)
						switch {
						case op.access.CanExecute() && (!op.access.CanRead() || tc.value == ""):
							assert.Equal(t, got, "computed")
							// Written as a regular file inside the store, whatever was there.
							info, err := os.Lstat(path)
							assert.NilError(t, err)
							assert.Assert(t, info.Mode().IsRegular(), info.Mode())
						default:
							assert.Equal(t, got, tc.value)
						}
					}
					assert.DeepEqual(t, snapshot(t, outside), before)
					leftovers, err := os.ReadDir(filepath.Dir(path))
					if err == nil {
						for _, e := range leftovers {
							assert.Assert(t, !fs.IsTemp(e.Name()), "temporary file left: %s", e.Name())
						}
					}
				})
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	assert.NilError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	assert.NilError(t, os.WriteFile(name, []byte(content), 0o644))
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	assert.NilError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	if err := os.Symlink(target, name); err != nil {
		t.Skipf("cannot make symbolic links here: %v", err)
	}
}

// TestDeleteThroughLink checks that Delete refuses to remove an entry
// through a linked directory, which would remove a file outside the store,
// and removes a linked entry itself, not its target.
func TestDeleteThroughLink(t *testing.T) {
	top := t.TempDir()
	dir, outside := filepath.Join(top, "store"), filepath.Join(top, "outside")
	writeFile(t, filepath.Join(outside, "linked", "entry.json"), `"outside"`)
	writeFile(t, filepath.Join(outside, "target.json"), `"target"`)
	symlink(t, filepath.Join(outside, "linked"), filepath.Join(dir, "TestX"))
	symlink(t, filepath.Join(outside, "target.json"), filepath.Join(dir, "entry.json"))
	before := snapshot(t, outside)
	store, err := cache.NewStore(dir, cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)

	err = store.Delete("TestX/entry")
	assert.Assert(t, errors.Is(err, fs.ErrOutsideRoot), err)
	assert.ErrorContains(t, err, `cache: delete "TestX/entry": fs: `+filepath.Join(dir, "TestX", "entry.json"))

	assert.NilError(t, store.Delete("entry"))
	_, err = os.Lstat(filepath.Join(dir, "entry.json"))
	assert.Assert(t, errors.Is(err, iofs.ErrNotExist), err)
	assert.DeepEqual(t, snapshot(t, outside), before)
}

// TestFuncBadNames wraps a function under every bad key as its name, on a
// real disk: the empty name is refused when wrapping; every other name keeps
// its entries inside the store's directory, apart from those of every other
// name, and replays them.
func TestFuncBadNames(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "store")
	store, err := cache.NewStore(dir, cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	wrapped := 0
	for _, tc := range badKeys {
		if tc.tooLong != "" {
			continue
		}
		var runs int
		var f func(string) (string, error)
		err := noPanic(t, "Func", func() (err error) {
			f, err = cache.Func(store, tc.key, func(arg string) (string, error) {
				runs++
				return tc.name + ": " + arg, nil
			})
			return err
		})
		if tc.key == "" {
			assert.ErrorContains(t, err, "name")
			continue
		}
		assert.NilError(t, err, tc.name)
		wrapped++
		for i := 0; i < 2; i++ {
			got, err := f("arg")
			assert.NilError(t, err, tc.name)
			assert.Equal(t, got, tc.name+": arg")
		}
		assert.Equal(t, runs, 1, "%s: computed again instead of replayed", tc.name)
	}
	files := 0
	assert.NilError(t, filepath.Walk(top, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Name() == cache.StoreMarker {
			return err
		}
		files++
		assert.Assert(t, strings.HasPrefix(p, dir+string(filepath.Separator)), "written outside the store: %s", p)
		return nil
	}))
	assert.Equal(t, files, wrapped, "two names share a file")
}
