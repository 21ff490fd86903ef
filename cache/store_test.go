package cache_test

import (
	"errors"
	iofs "io/fs"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

func TestStoreRemoveAndLeftovers(t *testing.T) {
	for diskName, newDisk := range disks(t) {
		t.Run(diskName, func(t *testing.T) {
			fsys, dir := newDisk(t)
			store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			assert.NilError(t, store.Write("TestOld/deep/a", 1))
			assert.NilError(t, store.Write("TestOld/b", 2))
			assert.NilError(t, store.Write("kept", 3))
			tmp := filepath.Join(dir, "TestOld", ".b.json.tmp-42")
			assert.NilError(t, afero.WriteFile(fsys, tmp, []byte("{"), 0o600))

			leftovers, err := store.Leftovers()
			assert.NilError(t, err)
			assert.DeepEqual(t, leftovers, []string{tmp})

			a, err := store.Path("TestOld/deep/a")
			assert.NilError(t, err)
			assert.NilError(t, store.Remove(a))
			_, err = fsys.Stat(filepath.Join(dir, "TestOld", "deep"))
			assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "the emptied directory is removed")

			b, _ := store.Path("TestOld/b")
			assert.NilError(t, store.Remove(b))
			assert.NilError(t, store.Remove(tmp))
			_, err = fsys.Stat(filepath.Join(dir, "TestOld"))
			assert.Assert(t, errors.Is(err, iofs.ErrNotExist))
			_, err = fsys.Stat(dir)
			assert.NilError(t, err, "the store's own directory stays")

			entries, err := store.List()
			assert.NilError(t, err)
			assert.Equal(t, len(entries), 1)
			assert.Equal(t, entries[0].Key, "kept")

			err = store.Remove(filepath.Join(dir, "..", "outside.json"))
			assert.ErrorContains(t, err, "not inside the store")
			err = store.Remove(filepath.Join(dir, "missing.json"))
			assert.Assert(t, errors.Is(err, iofs.ErrNotExist))

			readOnly, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
			assert.NilError(t, err)
			kept, _ := store.Path("kept")
			err = readOnly.Remove(kept)
			assert.Assert(t, errors.Is(err, cache.ErrForbidden))
		})
	}
}
