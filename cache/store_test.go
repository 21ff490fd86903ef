package cache_test

import (
	"errors"
	iofs "io/fs"
	"path/filepath"
	"sort"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
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

// sweeperFs is a filesystem whose locks are files named .<entry>.lock, of
// which those named in stale are stale.
type sweeperFs struct {
	afero.Fs
	stale map[string]bool
	asked []string
}

func (f *sweeperFs) LockEntry(string) (func(), error) { return func() {}, nil }

func (f *sweeperFs) StaleLocks(dir string) ([]string, error) {
	f.asked = append(f.asked, dir)
	var locks []string
	for l := range f.stale {
		if rel, err := filepath.Rel(dir, l); err == nil && filepath.IsLocal(rel) {
			locks = append(locks, l)
		}
	}
	sort.Strings(locks)
	return locks, nil
}

func TestStoreStaleLocks(t *testing.T) {
	dir := filepath.Join("ci", "testdata", ".pecapiku")
	stale := filepath.Join(dir, "TestA", ".x.json.lock")
	live := filepath.Join(dir, "TestA", ".y.json.lock")
	fsys := &sweeperFs{Fs: afero.NewMemMapFs(), stale: map[string]bool{
		stale: true,
		filepath.Join("ci", "elsewhere", ".z.json.lock"): true,
	}}
	for _, name := range []string{stale, live, filepath.Join(dir, "TestA", "x.json")} {
		assert.NilError(t, afero.WriteFile(fsys, name, []byte("1\n"), 0o644))
	}

	// Without w too: listing them writes nothing.
	readOnly, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
	assert.NilError(t, err)
	locks, err := readOnly.StaleLocks()
	assert.NilError(t, err)
	assert.DeepEqual(t, locks, []string{stale})
	assert.DeepEqual(t, fsys.asked, []string{dir})

	entries, err := readOnly.List()
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 1, "locks are not entries")

	store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	assert.NilError(t, store.Remove(stale))
	_, err = fsys.Stat(live)
	assert.NilError(t, err)

	// Elsewhere, locks are not in the store: none.
	plain, err := cache.NewStore(dir, cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadOnly))
	assert.NilError(t, err)
	locks, err = plain.StaleLocks()
	assert.NilError(t, err)
	assert.Assert(t, locks == nil)
}

// TestStorePathJoins: Path puts the file of a key where filepath.Join would,
// whatever the store's directory looks like.
func TestStorePathJoins(t *testing.T) {
	for _, dir := range []string{".", "/", "store", "./store/", "a/../b", "/abs/store", "../up", "a//b/"} {
		store, err := cache.NewStore(dir, cache.WithAccess(cache.ReadOnly))
		assert.NilError(t, err)
		for _, key := range []string{"k", "TestX/sub/name", "../esc", "a/./b"} {
			rel, err := fs.KeyPath(key)
			assert.NilError(t, err)
			got, err := store.Path(key)
			assert.NilError(t, err)
			assert.Equal(t, got, filepath.Join(dir, filepath.FromSlash(rel))+".json", "dir %q key %q", dir, key)
		}
	}
}

// TestObserve: a view made with Observe reports its events to its own
// observer, and only those: the store it was made from, and other views of
// it, go on reporting theirs to their own.
func TestObserve(t *testing.T) {
	var mine []cache.EventKind
	var views [2][]cache.EventKind
	store, err := cache.NewStore("cache", cache.WithFs(afero.NewMemMapFs()), cache.WithAccess(cache.ReadExecuteWrite),
		cache.WithObserver(func(e cache.Event) { mine = append(mine, e.Kind) }))
	assert.NilError(t, err)
	one := store.Observe(func(e cache.Event) { views[0] = append(views[0], e.Kind) })
	two := store.Observe(func(e cache.Event) { views[1] = append(views[1], e.Kind) })
	_, err = cache.Do(one, "k", func() (int, error) { return 1, nil })
	assert.NilError(t, err)
	_, err = cache.Do(two, "k", func() (int, error) { return 2, nil })
	assert.NilError(t, err)
	assert.NilError(t, two.Write("k", 3))
	_, err = cache.Do(store, "k", func() (int, error) { return 4, nil })
	assert.NilError(t, err)
	assert.DeepEqual(t, views[0], []cache.EventKind{cache.EventExecute, cache.EventWrite})
	assert.DeepEqual(t, views[1], []cache.EventKind{cache.EventHit, cache.EventWrite})
	assert.DeepEqual(t, mine, []cache.EventKind{cache.EventHit})
	assert.Equal(t, one.Dir(), store.Dir())
	assert.Equal(t, one.Access(), store.Access())
	assert.Equal(t, one.Codec(), store.Codec())

	quiet := store.Observe(nil)
	_, err = cache.Do(quiet, "k", func() (int, error) { return 5, nil })
	assert.NilError(t, err)
	assert.Equal(t, len(mine), 1, "a view without an observer reported to the store's: %v", mine)
}
