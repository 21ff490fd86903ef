package cache_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// TestMigrate: Migrate moves the entries below directories named like an
// entry's file to the paths this layout gives them, byte for byte, and
// leaves everything else where it is.
func TestMigrate(t *testing.T) {
	for diskName, newDisk := range caseDisks(t) {
		t.Run(diskName, func(t *testing.T) {
			fsys, parent := newDisk(t)
			dir := filepath.Join(parent, ".pecapiku")
			at := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }
			files := map[string]string{
				"TestX/config.json/v.json":                     "\"v\"\n",
				"TestX/config.json/notes.txt":                  "mine",
				"TestX/Report.RAW/w.raw":                       "w",
				"TestOld/x.json/y/z.gob":                       "z",
				"TestOld/x.json/y~0123456789ab/z.json":         "\"hashed\"\n",
				"TestNew/config.json~587cb980af76/v.json":      "\"new\"\n",
				"TestBoth/config.json/v.json":                  "\"old\"\n",
				"TestBoth/config.json~587cb980af76/v.json":     "\"current\"\n",
				"TestPlain/v.json":                             "\"plain\"\n",
				"TestOld/my notes.json/v.json":                 "\"not pecapiku's\"\n",
				"TestOld/x.json/.v.json.tmp-1":                 "{",
				"TestOld/config.json~587cb980af76.json/v.json": "\"no name of pecapiku's\"\n",
			}
			recordedAt := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
			for rel, content := range files {
				writeOld(t, fsys, at(rel), content)
				assert.NilError(t, fsys.Chtimes(at(rel), recordedAt, recordedAt))
			}
			store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			want := []cache.Move{
				{From: at("TestBoth/config.json/v.json"), To: at("TestBoth/config.json~587cb980af76/v.json")},
				{From: at("TestOld/x.json/y/z.gob"), To: at("TestOld/x.json~" + sum("x.json") + "/y/z.gob")},
				{From: at("TestOld/x.json/y~0123456789ab/z.json"), To: at("TestOld/x.json~" + sum("x.json") + "/y~0123456789ab/z.json")},
				{From: at("TestX/Report.RAW/w.raw"), To: at("TestX/Report.RAW~" + sum("Report.RAW") + "/w.raw")},
				{From: at("TestX/config.json/v.json"), To: at("TestX/config.json~587cb980af76/v.json")},
			}
			check := func(moves []cache.Move) {
				t.Helper()
				assert.Equal(t, len(moves), len(want), "%v", moves)
				for i, m := range moves {
					assert.Equal(t, m.From, want[i].From)
					assert.Equal(t, m.To, want[i].To)
					if i == 0 {
						assert.ErrorContains(t, m.Err, "is there already, and is the entry that this version reads; remove "+m.From+" if it is not needed")
					} else {
						assert.NilError(t, m.Err)
					}
				}
			}

			moves, err := store.Migrate(true)
			assert.NilError(t, err)
			check(moves)
			for rel := range files {
				assert.Assert(t, exists(t, fsys, at(rel)), "a dry run moves nothing: %s", rel)
			}

			readOnly, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
			assert.NilError(t, err)
			_, err = readOnly.Migrate(false)
			assert.Assert(t, errors.Is(err, cache.ErrForbidden))

			moves, err = store.Migrate(false)
			assert.NilError(t, err)
			check(moves)
			for _, m := range moves[1:] {
				assert.Assert(t, !exists(t, fsys, m.From))
				data, err := afero.ReadFile(fsys, m.To)
				assert.NilError(t, err)
				info, err := fsys.Stat(m.To)
				assert.NilError(t, err)
				assert.Assert(t, info.ModTime().Equal(recordedAt), "%s keeps its time: %v", m.To, info.ModTime())
				assert.Equal(t, string(data), files[filepath.ToSlash(must(filepath.Rel(dir, m.From)))])
			}
			for _, rel := range []string{"TestX/config.json/notes.txt", "TestBoth/config.json/v.json", "TestOld/my notes.json/v.json", "TestOld/x.json/.v.json.tmp-1", "TestPlain/v.json", "TestOld/config.json~587cb980af76.json/v.json"} {
				assert.Assert(t, exists(t, fsys, at(rel)), "%s stays", rel)
			}
			assert.Assert(t, !exists(t, fsys, at("TestX/Report.RAW")), "emptied directories go")
			var v string
			assert.NilError(t, store.Read("TestX/config.json/v", &v))
			assert.Equal(t, v, "v")

			moves, err = store.Migrate(false)
			assert.NilError(t, err)
			assert.Equal(t, len(moves), 1, "only the entry whose new file is taken is left: %v", moves)

			// A store whose directory pecapiku did not create may hold
			// files that only look like entries.
			foreign, err := cache.NewStore(parent, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			_, err = foreign.Migrate(true)
			assert.Assert(t, errors.Is(err, cache.ErrNotOwned))
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// sum is the hash that a layout appends to the segment s it changes.
func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:12]
}

// TestMigrateClearsTheWay: an entry whose file is where an older version
// put the directory of a subtest named like it cannot be read or written
// until Migrate moves that directory's entries; the error says so.
func TestMigrateClearsTheWay(t *testing.T) {
	fsys := afero.NewMemMapFs()
	dir := "/pkg/testdata/.pecapiku"
	writeOld(t, fsys, filepath.Join(dir, "TestX", "config.json", "v.json"), "\"v\"\n")
	store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	_, err = cache.Do(store, "TestX/config", value(t, ""))
	assert.ErrorContains(t, err, `fs: read /pkg/testdata/.pecapiku/TestX/config.json: is a directory, not a file; no directory of this version of pecapiku has that name, but older versions gave it to a subtest named like the entry's file: move the entries in it to this version's paths with: pecapiku migrate /pkg/testdata/.pecapiku`)
	_, err = store.Migrate(false)
	assert.NilError(t, err)
	v, err := cache.Do(store, "TestX/config", value(t, "config"))
	assert.NilError(t, err)
	assert.Equal(t, v, "config")
	var got string
	assert.NilError(t, store.Read("TestX/config.json/v", &got))
	assert.Equal(t, got, "v")
}
