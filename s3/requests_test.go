package s3_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

// TestRequestsPerOperation counts the requests of each operation of a
// store on the bucket through its local copy, as s3/README.md publishes
// them: a replay of 1,000 entries on a fresh machine and on a warm one, a
// hit, a miss, and the listing of the store that the unused-fixture check
// makes.
func TestRequestsPerOperation(t *testing.T) {
	const n = 1000
	bucket, count := newFs(t)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			assert.Check(t, bucket.WriteFileAtomic(fmt.Sprintf("entries/e%04d.json", i), []byte(fmt.Sprintf("%d\n", i))))
		}()
	}
	wg.Wait()
	replay := func(fsys afero.Fs) {
		t.Helper()
		store := entries(t, fsys, cache.ReadOnly)
		for i := range n {
			v, err := cache.Do(store, fmt.Sprintf("e%04d", i), func() (int, error) { return -1, nil })
			assert.NilError(t, err)
			assert.Equal(t, v, i)
		}
	}
	machine := t.TempDir()

	fresh := process(t, bucket, machine)
	fresh.IndexStore("entries")
	count.take()
	count.most()
	replay(fresh)
	fresh.Wait()
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 1 + n}) // one listing, then each entry once
	assert.Assert(t, count.most() > 1, "fetched ahead in parallel")

	warm := process(t, bucket, machine)
	warm.IndexStore("entries")
	replay(warm)
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 1}) // the listing that revalidates every copy

	replay(warm)
	assert.DeepEqual(t, count.take(), map[string]int{}) // hits of the same process

	list, err := entries(t, warm, cache.ReadOnly).List()
	assert.NilError(t, err)
	assert.Equal(t, len(list), n)
	assert.DeepEqual(t, count.take(), map[string]int{}) // the unused-fixture check walks the listing

	v, err := cache.Do(entries(t, warm, cache.ReadExecuteWrite), "new", func() (string, error) { return "new", nil })
	assert.NilError(t, err)
	assert.Equal(t, v, "new")
	// The lock (a conditional PUT), the GET that checks the bucket once the
	// lock is held, the value's PUT, and the lock's DELETE.
	assert.DeepEqual(t, count.take(), map[string]int{"PUT": 2, "GET": 1, "DELETE": 1})

	unindexed := s3.NewReadThrough(process(t, bucket, machine).Remote(), afero.NewBasePathFs(afero.NewOsFs(), machine))
	replay(unindexed)
	// The listing of the one directory that holds the 1,001 entries: two
	// pages of a thousand.
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 2})
}
