package cache_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// caseDisks are the disks of disks, and one in memory that ignores case as
// the disks of macOS and Windows do.
func caseDisks(t *testing.T) map[string]func(t *testing.T) (afero.Fs, string) {
	d := disks(t)
	d["fold"] = func(t *testing.T) (afero.Fs, string) { return foldFs{afero.NewMemMapFs()}, "/work/store" }
	return d
}

// value returns the function of a Do that must compute v, or, with v "",
// must not run.
func value(t *testing.T, v string) func() (string, error) {
	return func() (string, error) {
		if v == "" {
			t.Error("the function ran")
		}
		return v, nil
	}
}

// TestEntryFileBesideDirectory: the file of an entry and the directory of
// another key never share a path, whichever is written first, whatever the
// codec of the entry and whatever the case of the directory.
func TestEntryFileBesideDirectory(t *testing.T) {
	keys := []struct {
		key   string
		codec cache.Codec
	}{
		{"TestX/config", cache.JSON},
		{"TestX/config.json/v", cache.JSON},
		{"TestX/report", cache.Raw},
		{"TestX/report.raw/v", cache.JSON},
		{"TestX/REPORT.RAW/v", cache.JSON},
		{"TestX/data", cache.Gob},
		{"TestX/Data.Gob/v", cache.Raw},
	}
	for diskName, newDisk := range caseDisks(t) {
		for _, reverse := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/reverse=%v", diskName, reverse), func(t *testing.T) {
				fsys, dir := newDisk(t)
				store := func(c cache.Codec, a cache.Access) *cache.Store {
					s, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(a), cache.WithCodec(c))
					assert.NilError(t, err)
					return s
				}
				for i := range keys {
					k := keys[i]
					if reverse {
						k = keys[len(keys)-1-i]
					}
					var err error
					if k.codec == cache.JSON {
						_, err = cache.Do(store(k.codec, cache.ReadExecuteWrite), k.key, value(t, k.key))
					} else {
						_, err = cache.Do(store(k.codec, cache.ReadExecuteWrite), k.key, func() ([]byte, error) { return []byte(k.key), nil })
					}
					assert.NilError(t, err, "writing %s", k.key)
				}
				for _, k := range keys {
					path, err := store(k.codec, cache.ReadOnly).Path(k.key)
					assert.NilError(t, err)
					data, err := afero.ReadFile(fsys, path)
					assert.NilError(t, err)
					assert.Assert(t, strings.Contains(string(data), k.key), "%s holds %q", path, data)
				}
			})
		}
	}
}

// TestCaseConflict: of two names that differ only in case, of entries or
// of directories, the store refuses the second, on every disk, whether it
// is written, computed or read, and names both; the first stays as it was.
func TestCaseConflict(t *testing.T) {
	for _, tc := range []struct {
		name, first, second  string
		dir, firstName, twin string // in the message: the directory, the refused name, the name there
		shadowed             bool   // a disk that ignores case opens the first's file for the second
	}{
		{"entries", "TestData/Data", "TestData/data", "TestData", "data.json", "Data.json", true},
		{"tests", "TestCase/v", "TestCASE/v", "", "TestCASE", "TestCase", true},
		{"subtests", "TestX/Sub/a/v", "TestX/sub/b/w", "TestX", "sub", "Sub", false},
		{"directories named like files", "TestX/config.json/v", "TestX/CONFIG.json/v", "", "", "", false},
		{"changed names", "TestX/a b", "TestX/A B", "", "", "", false},
	} {
		for diskName, newDisk := range caseDisks(t) {
			t.Run(tc.name+"/"+diskName, func(t *testing.T) {
				fsys, dir := newDisk(t)
				store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
				assert.NilError(t, err)
				assert.NilError(t, store.Write(tc.first, "first"))
				firstPath, _ := store.Path(tc.first)
				secondPath, _ := store.Path(tc.second)
				if tc.twin == "" {
					// Both names are hashed, each with its own hash.
					assert.NilError(t, store.Write(tc.second, "second"))
					return
				}
				check := func(err error) {
					t.Helper()
					assert.Assert(t, errors.Is(err, cache.ErrCaseConflict), "%v", err)
					assert.ErrorContains(t, err, fmt.Sprintf(`cache: %q: names differ only in case: %s differs only in case from %s, which is already there`,
						tc.second, filepath.Join(dir, tc.dir, tc.firstName), filepath.Join(dir, tc.dir, tc.twin)))
				}

				check(store.Write(tc.second, "second"))
				_, err = cache.Do(store, tc.second, value(t, "second"))
				check(err)
				// Reads: on a disk that ignores case they would find the
				// first's file, and refuse it; on the others there is
				// nothing to find.
				var got string
				readOnly, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
				assert.NilError(t, err)
				_, doErr := cache.Do(readOnly, tc.second, value(t, ""))
				if diskName == "fold" && tc.shadowed {
					check(store.Read(tc.second, &got))
					check(doErr)
				} else {
					assert.Assert(t, errors.Is(store.Read(tc.second, &got), iofs.ErrNotExist))
					assert.Assert(t, errors.Is(doErr, cache.ErrNotCached))
				}
				regenerate, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.Regenerate))
				assert.NilError(t, err)
				_, err = cache.Do(regenerate, tc.second, value(t, "second"))
				check(err)

				// Deleting the second deletes nothing.
				assert.NilError(t, store.Delete(tc.second))
				assert.NilError(t, store.Read(tc.first, &got))
				assert.Equal(t, got, "first")
				entries, err := store.List()
				assert.NilError(t, err)
				assert.Equal(t, len(entries), 1)
				assert.Equal(t, entries[0].Path, firstPath)

				// Once the first is gone, the second may be written.
				assert.NilError(t, store.Delete(tc.first))
				assert.NilError(t, store.Write(tc.second, "second"))
				assert.NilError(t, store.Read(tc.second, &got))
				assert.Equal(t, got, "second")
				entries, err = store.List()
				assert.NilError(t, err)
				assert.Equal(t, len(entries), 1)
				assert.Equal(t, entries[0].Path, secondPath)
				err = store.Write(tc.first, "first")
				assert.Assert(t, errors.Is(err, cache.ErrCaseConflict), "%v", err)
				assert.ErrorContains(t, err, fmt.Sprintf(`cache: %q: names differ only in case: %s differs only in case from %s, which is already there`,
					tc.first, filepath.Join(dir, tc.dir, tc.twin), filepath.Join(dir, tc.dir, tc.firstName)))
			})
		}
	}
}

// TestCaseConflictRemovedElsewhere: a name that differs only in case and
// was removed by another process since the store listed its directory
// does not stand in the way.
func TestCaseConflictRemovedElsewhere(t *testing.T) {
	for diskName, newDisk := range caseDisks(t) {
		t.Run(diskName, func(t *testing.T) {
			fsys, dir := newDisk(t)
			store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			assert.NilError(t, store.Write("TestX/Data", "first"))
			path, _ := store.Path("TestX/Data")
			assert.NilError(t, fsys.Remove(path)) // as another process would
			assert.NilError(t, store.Write("TestX/data", "second"))
			var got string
			assert.NilError(t, store.Read("TestX/data", &got))
			assert.Equal(t, got, "second")
		})
	}
}

// TestCaseConflictConcurrent: of two names that differ only in case and
// are written at the same time, one is refused.
func TestCaseConflictConcurrent(t *testing.T) {
	for diskName, newDisk := range caseDisks(t) {
		t.Run(diskName, func(t *testing.T) {
			for round := range 20 {
				fsys, dir := newDisk(t)
				dir = filepath.Join(dir, fmt.Sprint(round))
				store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
				assert.NilError(t, err)
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, key := range []string{"TestX/Data", "TestX/data"} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i] = cache.Do(store, key, func() (string, error) { return key, nil })
					}()
				}
				wg.Wait()
				refused := 0
				for _, err := range errs {
					if err != nil {
						assert.Assert(t, errors.Is(err, cache.ErrCaseConflict), "%v", err)
						refused++
					}
				}
				assert.Equal(t, refused, 1, "%v", errs)
			}
		})
	}
}

// TestCaseInsensitiveRead: on a disk that ignores case, the file of Data is
// never replayed as the entry data, though the disk opens it under that
// name.
func TestCaseInsensitiveRead(t *testing.T) {
	fsys := foldFs{afero.NewMemMapFs()}
	assert.NilError(t, afero.WriteFile(fsys, "/store/TestX/Data.json", []byte("\"Data\"\n"), 0o644))
	data, err := afero.ReadFile(fsys, "/store/testx/data.json")
	assert.NilError(t, err, "the fake disk ignores case")
	assert.Equal(t, string(data), "\"Data\"\n")

	store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
	assert.NilError(t, err)
	assert.Assert(t, cache.IgnoresCase(store, "/store/TestX/Data.json"))
	var got string
	assert.NilError(t, store.Read("TestX/Data", &got))
	assert.Equal(t, got, "Data")
	for _, key := range []string{"TestX/data", "testx/Data", "TESTX/DATA"} {
		err := store.Read(key, &got)
		assert.Assert(t, errors.Is(err, cache.ErrCaseConflict), "%s: %v", key, err)
		_, err = cache.Do(store, key, value(t, ""))
		assert.Assert(t, errors.Is(err, cache.ErrCaseConflict), "%s: %v", key, err)
	}

	// A file another process wrote since the listing is found.
	assert.NilError(t, afero.WriteFile(fsys, "/store/TestX/other.json", []byte("\"other\"\n"), 0o644))
	assert.NilError(t, store.Read("TestX/other", &got))
	assert.Equal(t, got, "other")

	for name, fsys := range map[string]afero.Fs{"mem": afero.NewMemMapFs(), "os": afero.NewOsFs()} {
		dir := "/store"
		if name == "os" {
			dir = t.TempDir()
		}
		writeOld(t, fsys, filepath.Join(dir, "TestX", "Data.json"), "\"Data\"\n")
		store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
		assert.NilError(t, err)
		assert.Assert(t, !cache.IgnoresCase(store, filepath.Join(dir, "TestX", "Data.json")), "%s", name)
	}
}

// writeOld writes a file as an older version of pecapiku would have.
func writeOld(t *testing.T, fsys afero.Fs, path, content string) {
	t.Helper()
	assert.NilError(t, fsys.MkdirAll(filepath.Dir(path), 0o755))
	assert.NilError(t, afero.WriteFile(fsys, path, []byte(content), 0o644))
}

// TestFormerLayout: an entry that an older version of pecapiku wrote under
// a directory named like an entry's file is read there, read-only; with w
// it is moved, byte for byte, to its path, and the old file and the
// directory it leaves empty are removed.
func TestFormerLayout(t *testing.T) {
	const key = "TestX/config.json/v"
	const recorded = "\"recorded\"\n"
	for diskName, newDisk := range caseDisks(t) {
		t.Run(diskName, func(t *testing.T) {
			setup := func(t *testing.T, a cache.Access) (afero.Fs, *cache.Store, string, string, *[]cache.Event) {
				fsys, dir := newDisk(t)
				var events []cache.Event
				var mu sync.Mutex
				store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(a), cache.WithObserver(func(e cache.Event) {
					mu.Lock()
					events = append(events, e)
					mu.Unlock()
				}))
				assert.NilError(t, err)
				path, err := store.Path(key)
				assert.NilError(t, err)
				old, err := store.FormerPath(key)
				assert.NilError(t, err)
				assert.Equal(t, path, filepath.Join(dir, "TestX", "config.json~587cb980af76", "v.json"))
				assert.Equal(t, old, filepath.Join(dir, "TestX", "config.json", "v.json"))
				writeOld(t, fsys, old, recorded)
				writeOld(t, fsys, filepath.Join(dir, "TestX", "config.json", "other.json"), "\"other\"\n")
				return fsys, store, path, old, &events
			}
			moved := func(t *testing.T, fsys afero.Fs, path, old string) {
				t.Helper()
				data, err := afero.ReadFile(fsys, path)
				assert.NilError(t, err)
				assert.Equal(t, string(data), recorded)
				assert.Assert(t, !exists(t, fsys, old))
			}

			t.Run("read-only", func(t *testing.T) {
				fsys, store, path, old, events := setup(t, cache.ReadOnly)
				v, err := cache.Do(store, key, value(t, ""))
				assert.NilError(t, err)
				assert.Equal(t, v, "recorded")
				var got string
				assert.NilError(t, store.Read(key, &got))
				assert.Equal(t, got, "recorded")
				assert.Assert(t, !exists(t, fsys, path))
				assert.Assert(t, exists(t, fsys, old))
				assert.DeepEqual(t, *events, []cache.Event{{Kind: cache.EventHit, Key: key, Path: path, From: old}})
			})
			t.Run("hit", func(t *testing.T) {
				fsys, store, path, old, events := setup(t, cache.ReadExecuteWrite)
				recordedAt := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
				assert.NilError(t, fsys.Chtimes(old, recordedAt, recordedAt))
				v, err := cache.Do(store, key, value(t, ""))
				assert.NilError(t, err)
				assert.Equal(t, v, "recorded")
				moved(t, fsys, path, old)
				assert.DeepEqual(t, *events, []cache.Event{
					{Kind: cache.EventHit, Key: key, Path: path, From: old},
					{Kind: cache.EventMoved, Key: key, Path: path, From: old},
				})
				assert.Assert(t, exists(t, fsys, filepath.Dir(old)), "the directory holds another file")
				info, err := fsys.Stat(path)
				assert.NilError(t, err)
				assert.Assert(t, info.ModTime().Equal(recordedAt), "moved, not written: %v", info.ModTime())
				v, err = cache.Do(store, key, value(t, ""))
				assert.NilError(t, err)
				assert.Equal(t, v, "recorded")
			})
			t.Run("Read", func(t *testing.T) {
				fsys, store, path, old, _ := setup(t, cache.ReadExecuteWrite)
				var got string
				assert.NilError(t, store.Read(key, &got))
				assert.Equal(t, got, "recorded")
				moved(t, fsys, path, old)
			})
			t.Run("regenerate", func(t *testing.T) {
				fsys, store, path, old, _ := setup(t, cache.Regenerate)
				v, err := cache.Do(store, key, value(t, "fresh"))
				assert.NilError(t, err)
				assert.Equal(t, v, "fresh")
				data, err := afero.ReadFile(fsys, path)
				assert.NilError(t, err)
				assert.Equal(t, string(data), "\"fresh\"\n")
				assert.Assert(t, !exists(t, fsys, old))
			})
			t.Run("Write", func(t *testing.T) {
				fsys, store, path, old, _ := setup(t, cache.ReadExecuteWrite)
				assert.NilError(t, store.Write(key, "written"))
				assert.Assert(t, exists(t, fsys, path))
				assert.Assert(t, !exists(t, fsys, old))
			})
			t.Run("Delete", func(t *testing.T) {
				fsys, store, path, old, _ := setup(t, cache.ReadExecuteWrite)
				assert.NilError(t, store.Delete(key))
				assert.Assert(t, !exists(t, fsys, old))
				var got string
				assert.Assert(t, errors.Is(store.Read(key, &got), iofs.ErrNotExist))
				assert.Assert(t, !exists(t, fsys, path))
			})
			t.Run("both", func(t *testing.T) {
				// The entry at its path is the entry; the old file is
				// left to the next write.
				fsys, store, path, old, _ := setup(t, cache.ReadExecuteWrite)
				writeOld(t, fsys, path, "\"current\"\n")
				v, err := cache.Do(store, key, value(t, ""))
				assert.NilError(t, err)
				assert.Equal(t, v, "current")
				assert.Assert(t, exists(t, fsys, old))
			})
			t.Run("emptied directory", func(t *testing.T) {
				fsys, store, path, old, _ := setup(t, cache.ReadExecuteWrite)
				assert.NilError(t, fsys.Remove(filepath.Join(filepath.Dir(old), "other.json")))
				_, err := cache.Do(store, key, value(t, ""))
				assert.NilError(t, err)
				moved(t, fsys, path, old)
				assert.Assert(t, !exists(t, fsys, filepath.Dir(old)))
			})
			t.Run("corrupt", func(t *testing.T) {
				fsys, store, path, old, events := setup(t, cache.ReadExecuteWrite)
				writeOld(t, fsys, old, "{")
				v, err := cache.Do(store, key, value(t, "fresh"))
				assert.NilError(t, err)
				assert.Equal(t, v, "fresh")
				assert.Assert(t, exists(t, fsys, path))
				assert.Assert(t, !exists(t, fsys, old))
				assert.Equal(t, (*events)[0].Kind, cache.EventCorrupt)
				assert.Equal(t, (*events)[0].From, old)

				readOnly, err := cache.NewStore(store.Dir(), cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
				assert.NilError(t, err)
				writeOld(t, fsys, old, "{")
				assert.NilError(t, fsys.Remove(path))
				_, err = cache.Do(readOnly, key, value(t, ""))
				assert.Assert(t, errors.Is(err, cache.ErrCorrupt))
				assert.ErrorContains(t, err, "cannot decode "+old)
			})
		})
	}
}

// TestFormerLayoutLink: the old file is removed only through no link: one
// whose directory is a symbolic link out of the store is read, but neither
// removed nor written through.
func TestFormerLayoutLink(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	writeOld(t, afero.NewOsFs(), filepath.Join(outside, "v.json"), "\"outside\"\n")
	dir := filepath.Join(root, "store")
	assert.NilError(t, os.MkdirAll(filepath.Join(dir, "TestX"), 0o755))
	assert.NilError(t, os.Symlink(outside, filepath.Join(dir, "TestX", "config.json")))
	store, err := cache.NewStore(dir, cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	_, err = cache.Do(store, "TestX/config.json/v", value(t, ""))
	assert.ErrorContains(t, err, "symbolic link")
	_, err = os.Stat(filepath.Join(outside, "v.json"))
	assert.NilError(t, err, "the file the link leads to is left alone")
}

// TestFormerKeys: with WithFormerKeys, an entry is also found, and moved,
// where an older caller stored it under another key.
func TestFormerKeys(t *testing.T) {
	for diskName, newDisk := range caseDisks(t) {
		t.Run(diskName, func(t *testing.T) {
			fsys, dir := newDisk(t)
			former := func(key string) string {
				if key == `TestX/a\\b` {
					return `TestX/a\b`
				}
				return ""
			}
			plain, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			assert.NilError(t, plain.Write(`TestX/a\b`, "recorded"))
			old, _ := plain.Path(`TestX/a\b`)

			readOnly, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly), cache.WithFormerKeys(former))
			assert.NilError(t, err)
			v, err := cache.Do(readOnly, `TestX/a\\b`, value(t, ""))
			assert.NilError(t, err)
			assert.Equal(t, v, "recorded")
			_, err = cache.Do(readOnly, `TestX/other`, value(t, ""))
			assert.Assert(t, errors.Is(err, cache.ErrNotCached))

			store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite), cache.WithFormerKeys(former))
			assert.NilError(t, err)
			v, err = cache.Do(store, `TestX/a\\b`, value(t, ""))
			assert.NilError(t, err)
			assert.Equal(t, v, "recorded")
			path, _ := store.Path(`TestX/a\\b`)
			assert.Assert(t, exists(t, fsys, path))
			assert.Assert(t, !exists(t, fsys, old))
		})
	}
}

// TestUnusedFindsBothLayouts: the files of both layouts are entries, which
// Unused may list and Remove may remove; a file named like neither is not.
func TestUnusedFindsBothLayouts(t *testing.T) {
	fsys := afero.NewMemMapFs()
	dir := "/work/.pecapiku"
	store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	assert.NilError(t, store.Write("TestX/config.json/v", 1))
	writeOld(t, fsys, filepath.Join(dir, "TestOld", "config.json", "v.json"), "1\n")
	writeOld(t, fsys, filepath.Join(dir, "TestOld", "my notes.json", "v.json"), "1\n")
	unused, err := store.Unused(nil)
	assert.NilError(t, err)
	var keys []string
	for _, e := range unused.Entries {
		keys = append(keys, e.Key)
	}
	assert.DeepEqual(t, keys, []string{"TestOld/config.json/v", "TestX/config.json~587cb980af76/v"})
}

// foldFs is a filesystem that ignores case, as the disks of macOS and
// Windows do by default: a name opens the file whose name differs from it
// only in case, and a new file keeps the case it was created with.
type foldFs struct{ afero.Fs }

// real returns the name of the file that name opens: each of its elements
// replaced by the element of its directory that differs from it only in
// case, if any.
func (f foldFs) real(name string) string {
	name = filepath.Clean(name)
	out, rest := ".", name
	if filepath.IsAbs(name) {
		out, rest = string(filepath.Separator), name[1:]
	}
	parts := strings.Split(rest, string(filepath.Separator))
	for i, p := range parts {
		d, err := f.Fs.Open(out)
		if err != nil {
			return filepath.Join(append([]string{out}, parts[i:]...)...)
		}
		names, _ := d.Readdirnames(-1)
		d.Close()
		match := ""
		for _, n := range names {
			if n == p {
				match = n
				break
			}
			if match == "" && strings.EqualFold(n, p) {
				match = n
			}
		}
		if match == "" {
			return filepath.Join(append([]string{out}, parts[i:]...)...)
		}
		out = filepath.Join(out, match)
	}
	return out
}

func (f foldFs) Create(name string) (afero.File, error) { return f.Fs.Create(f.real(name)) }
func (f foldFs) Mkdir(name string, perm os.FileMode) error {
	return f.Fs.Mkdir(f.real(name), perm)
}
func (f foldFs) MkdirAll(name string, perm os.FileMode) error {
	return f.Fs.MkdirAll(f.real(name), perm)
}
func (f foldFs) Open(name string) (afero.File, error) { return f.Fs.Open(f.real(name)) }
func (f foldFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	return f.Fs.OpenFile(f.real(name), flag, perm)
}
func (f foldFs) Remove(name string) error    { return f.Fs.Remove(f.real(name)) }
func (f foldFs) RemoveAll(name string) error { return f.Fs.RemoveAll(f.real(name)) }
func (f foldFs) Rename(oldname, newname string) error {
	return f.Fs.Rename(f.real(oldname), f.real(newname))
}
func (f foldFs) Stat(name string) (os.FileInfo, error) { return f.Fs.Stat(f.real(name)) }
func (f foldFs) Chmod(name string, mode os.FileMode) error {
	return f.Fs.Chmod(f.real(name), mode)
}
func (f foldFs) Chown(name string, uid, gid int) error { return f.Fs.Chown(f.real(name), uid, gid) }
func (f foldFs) Chtimes(name string, atime, mtime time.Time) error {
	return f.Fs.Chtimes(f.real(name), atime, mtime)
}

// TestCaseProbeNeedsAFile: deleting a missing entry first, on a disk that
// ignores case, does not make the store take the disk for one that
// respects case, which would let it delete the file of another name.
func TestCaseProbeNeedsAFile(t *testing.T) {
	fsys := foldFs{afero.NewMemMapFs()}
	writeOld(t, fsys, "/probe/TestX/Data.json", "\"Data\"\n")
	store, err := cache.NewStore("/probe", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	assert.NilError(t, store.Delete("TestY/missing"))
	assert.NilError(t, store.Delete("TestX/data"))
	assert.Assert(t, exists(t, fsys, "/probe/TestX/Data.json"), "the file of Data is not data's")
	assert.Assert(t, cache.IgnoresCase(store, ""))
}
