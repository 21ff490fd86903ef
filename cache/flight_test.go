package cache_test

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

// TestDoGobNilPointer: gob cannot encode a nil pointer; the call must
// fail with an error that says so, not panic, and write nothing.
func TestDoGobNilPointer(t *testing.T) {
	type T struct{ N int }
	fsys := afero.NewMemMapFs()
	store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithCodec(cache.Gob), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	_, err = cache.Do(store, "k", func() (*T, error) { return nil, nil })
	assert.ErrorContains(t, err, `cache: "k": cannot encode *cache_test.T with the gob codec for /store/k.gob: gob: cannot encode nil pointer of type *cache_test.T`)
	assert.ErrorContains(t, err, "gob cannot store a nil pointer at the top level; return a non-nil pointer, or the value itself")
	err = store.Write("k", (*T)(nil))
	assert.ErrorContains(t, err, "gob: cannot encode nil pointer")
	entries, err := store.List()
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 0)
}

// TestDoNestedSameKey: Do for a key, called from inside the function that
// computes that same key, would wait for itself forever; it fails at once.
func TestDoNestedSameKey(t *testing.T) {
	for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadExecute, cache.Regenerate, cache.Bypass} {
		t.Run(access.String(), func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(access))
			assert.NilError(t, err)
			done := make(chan error, 1)
			go func() {
				_, err := cache.Do(store, "outer", func() (int, error) {
					// Another key is fine.
					inner, err := cache.Do(store, "inner", func() (int, error) { return 1, nil })
					if err != nil {
						return 0, err
					}
					_, err = cache.Do(store, "outer", func() (int, error) { return inner, nil })
					return 0, err
				})
				done <- err
			}()
			select {
			case err := <-done:
				assert.Assert(t, errors.Is(err, cache.ErrRecursive), "%v", err)
				assert.ErrorContains(t, err, `cache: "outer": recursive call: computing it calls Do for "outer" again, from inside its own function (/store/outer.json), which would wait for itself forever`)
			case <-time.After(10 * time.Second):
				t.Fatal("the nested call deadlocked")
			}
		})
	}
}

// TestDoWaiterWithWriteAccess: a caller whose access has w that joins an
// execution started by a caller without w gets its entry written.
func TestDoWaiterWithWriteAccess(t *testing.T) {
	for _, first := range []cache.Access{cache.ReadExecute, cache.Bypass} {
		t.Run(first.String(), func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			noWrite, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(first))
			assert.NilError(t, err)
			writes, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			entered, release := make(chan struct{}), make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := cache.Do(noWrite, "k", func() (int, error) {
					close(entered)
					<-release
					return 7, nil
				})
				assert.Check(t, err)
			}()
			<-entered
			var got int
			var errW error
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, errW = cache.Do(writes, "k", func() (int, error) { return 8, nil })
			}()
			time.Sleep(20 * time.Millisecond) // let it join; either way it must end written
			close(release)
			wg.Wait()
			assert.NilError(t, errW)
			var stored int
			assert.NilError(t, writes.Read("k", &stored), "the caller with w got no entry written")
			assert.Equal(t, stored, got)
		})
	}
}

// TestDoLeaderExits: when the goroutine computing an entry ends without a
// value (runtime.Goexit, as t.Skip and t.FailNow do), the callers waiting
// for it compute the entry themselves: what ended it belongs to it alone.
func TestDoLeaderExits(t *testing.T) {
	fsys := afero.NewMemMapFs()
	store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	entered, release := make(chan struct{}), make(chan struct{})
	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		_, _ = cache.Do(store, "k", func() (int, error) {
			close(entered)
			<-release
			runtime.Goexit()
			return 0, nil
		})
	}()
	<-entered
	const waiters = 4
	results := make(chan error, waiters)
	for i := 0; i < waiters; i++ {
		go func() {
			got, err := cache.Do(store, "k", func() (int, error) { return 9, nil })
			if err == nil && got != 9 {
				err = errors.New("wrong value")
			}
			results <- err
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them join
	close(release)
	<-leaderDone
	for i := 0; i < waiters; i++ {
		assert.NilError(t, <-results)
	}
	var stored int
	assert.NilError(t, store.Read("k", &stored))
	assert.Equal(t, stored, 9)
}

// TestStoreMaxSize: an entry larger than the store's limit is an error
// naming the file, its size and the option that raises the limit, under
// every access; the function does not run in its place.
func TestStoreMaxSize(t *testing.T) {
	fsys := afero.NewMemMapFs()
	assert.NilError(t, afero.WriteFile(fsys, "/store/big.json", []byte(`"0123456789"`), 0o644))
	_, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithMaxSize(-1))
	assert.Error(t, err, "cache: store /store: WithMaxSize(-1): the size limit must be positive")
	for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadOnly} {
		store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(access), cache.WithMaxSize(8))
		assert.NilError(t, err)
		_, err = cache.Do(store, "big", func() (string, error) { return "computed", nil })
		assert.Assert(t, errors.Is(err, fs.ErrTooLarge), "%v", err)
		assert.Error(t, err, "cache: fs: read /store/big.json: larger than the size limit: it holds 12 bytes and the limit is 8; if the entry is meant to be that large, raise the limit with cache.WithMaxSize")
		var s string
		assert.Assert(t, errors.Is(store.Read("big", &s), fs.ErrTooLarge))
	}
}
