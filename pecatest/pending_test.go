package pecatest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/pending"
)

// TestPendingRecordings: a Golden that differs from its recording, and a
// Memo entry that drift verification finds changed, keep the fresh value
// as a pending recording outside the store, with the diff the test
// printed; the failure says where it is and how to accept it. The store
// itself is left as it was.
func TestPendingRecordings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		entry  string
		record string
		call   func(ft *fakeT, dir string)
		fresh  string
		head   string
	}{
		{
			name: "Golden", entry: "TestPage/page.raw", record: "old\n", fresh: "new\n",
			head: "TestPage/page differs from its recording ",
			call: func(ft *fakeT, dir string) { Golden(ft, "page", "new\n", WithDir(dir)) },
		},
		{
			name: "drift", entry: "TestPage/data.json", record: "1\n", fresh: "2\n",
			head: "TestPage/data has drifted: a fresh computation differs from its recording ",
			call: func(ft *fakeT, dir string) {
				t.Setenv(EnvVerify, "1")
				Memo(ft, "data", func() (int, error) { return 2, nil }, WithDir(dir), WithAccess(cache.ReadExecute))
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			t.Setenv(EnvCI, "true")
			top := t.TempDir()
			dir := filepath.Join(top, "store")
			entry := filepath.Join(dir, filepath.FromSlash(tc.entry))
			assert.NilError(t, os.MkdirAll(filepath.Dir(entry), 0o755))
			assert.NilError(t, os.WriteFile(entry, []byte(tc.record), 0o644))

			ft := &fakeT{name: "TestPage"}
			tc.call(ft, dir)
			assert.Equal(t, len(ft.errors), 1, "%q", ft.errors)
			kept := filepath.Join(top, pending.LocalDir, "store", filepath.FromSlash(tc.entry))
			msg := ft.errors[0]
			assert.Assert(t, strings.HasPrefix(msg, "pecatest: "+tc.head+entry), msg)
			assert.Assert(t, strings.HasSuffix(msg, "\nThe fresh value is kept in "+kept+".\n"+
				"Accept it with: pecapiku accept "+kept), msg)

			got, err := os.ReadFile(kept)
			assert.NilError(t, err)
			assert.Equal(t, string(got), tc.fresh)
			diff, err := os.ReadFile(kept + pending.DiffExt)
			assert.NilError(t, err)
			assert.Assert(t, strings.HasPrefix(string(diff), tc.head+entry), string(diff))
			assert.Assert(t, strings.Contains(msg, string(diff)), "the diff kept is not the one printed")
			ignore, err := os.ReadFile(filepath.Join(top, pending.LocalDir, ".gitignore"))
			assert.NilError(t, err)
			assert.Assert(t, strings.Contains(string(ignore), "\n*\n"))
			stored, err := os.ReadFile(entry)
			assert.NilError(t, err)
			assert.Equal(t, string(stored), tc.record, "the store changed")

			// Accepting it makes it the recording; the pending area goes.
			recs, err := pending.Find([]string{top}, "")
			assert.NilError(t, err)
			assert.Equal(t, len(recs), 1)
			assert.Equal(t, recs[0].Target, entry)
			assert.NilError(t, pending.Accept(recs[0]))
			stored, err = os.ReadFile(entry)
			assert.NilError(t, err)
			assert.Equal(t, string(stored), tc.fresh)
			_, err = os.Stat(filepath.Join(top, pending.LocalDir))
			assert.Assert(t, os.IsNotExist(err), "the pending directory is left")
		})
	}
}
