package s3_test

import (
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

// process returns the filesystem that one process on a machine whose local
// copy is in localDir opens: a ReadThrough over a new Fs, which has listed
// nothing and remembers nothing.
func process(t *testing.T, bucket *s3.Fs, localDir string) *s3.ReadThrough {
	t.Helper()
	remote, err := s3.New(bucket.Bucket(), bucket.Prefix(), s3.WithClient(bucket.Client()))
	assert.NilError(t, err)
	return s3.NewReadThrough(remote, afero.NewBasePathFs(afero.NewOsFs(), localDir))
}

// entries returns the store "entries" on fsys.
func entries(t *testing.T, fsys afero.Fs, access cache.Access) *cache.Store {
	t.Helper()
	store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(access))
	assert.NilError(t, err)
	return store
}

// mustNotCompute is the function of an entry that must be read, not
// computed.
func mustNotCompute(t *testing.T) func() (string, error) {
	return func() (string, error) {
		t.Error("computed an entry that the bucket holds")
		return "computed", nil
	}
}

// TestWriteIsOneRequest checks that a store writes an entry on the bucket
// with one PUT, through fs.WriteAtomic's AtomicWriter path: no temporary
// object, no copy, no rename; and that a large entry is a multipart upload
// that leaves nothing else behind.
func TestWriteIsOneRequest(t *testing.T) {
	bucket, count := newFs(t)
	for i, fsys := range []afero.Fs{bucket, s3.NewReadThrough(bucket, afero.NewMemMapFs())} {
		store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.Regenerate), cache.WithCodec(cache.Raw))
		assert.NilError(t, err)
		count.take()
		// A value the entry does not hold yet, of another size, so that
		// comparing needs no read of the entry's bytes.
		assert.NilError(t, store.Write("small", []byte("small value"+strings.Repeat("!", i))))
		// Before it writes, the store asks for the entry's size (a HEAD,
		// and the listing that tells a missing object from a directory;
		// or the one listing of a ReadThrough), so that an entry that
		// already holds the value is left as it is. The first write of a
		// store of the process in its directory also asks whether the
		// directory exists (a HEAD and a listing, or one listing of its
		// parent) and, on the bucket where it does not, marks it as the
		// store's with one more PUT (see cache.StoreMarker).
		if i == 0 {
			assert.DeepEqual(t, count.take(), map[string]int{"HEAD": 2, "GET": 2, "PUT": 2})
			continue
		}
		assert.DeepEqual(t, count.take(), map[string]int{"GET": 2, "PUT": 1})
	}
	store, err := cache.NewStore("entries", cache.WithFs(bucket), cache.WithAccess(cache.Regenerate), cache.WithCodec(cache.Raw))
	assert.NilError(t, err)
	big := make([]byte, s3.PartSize+1)
	for i := range big {
		big[i] = byte(i % 251)
	}
	count.take()
	assert.NilError(t, store.Write("big", big))
	// The size of the entry asked for (a HEAD and a listing), then the
	// upload: create, two parts, complete.
	assert.DeepEqual(t, count.take(), map[string]int{"HEAD": 1, "GET": 1, "POST": 2, "PUT": 2})
	got, err := getObject(t, bucket, "entries/big.raw")
	assert.NilError(t, err)
	assert.Assert(t, string(got) == string(big), "the multipart upload holds the value")
	assert.DeepEqual(t, keys(t, bucket), []string{"entries/big.raw", "entries/small.raw"})
}

// TestLocalCopyStaysTrue checks that a warm machine, whose local copy holds
// an entry, sees what another machine did to the bucket since: a re-record
// and a removal.
func TestLocalCopyStaysTrue(t *testing.T) {
	bucket, _ := newFs(t)
	laptop, runner := t.TempDir(), t.TempDir()

	v, err := cache.Do(entries(t, process(t, bucket, laptop), cache.ReadExecuteWrite), "k", func() (string, error) { return "v1", nil })
	assert.NilError(t, err)
	assert.Equal(t, v, "v1")
	v, err = cache.Do(entries(t, process(t, bucket, runner), cache.ReadOnly), "k", mustNotCompute(t))
	assert.NilError(t, err)
	assert.Equal(t, v, "v1", "the runner is warm now")

	// The laptop records it again: the runner's next process replays the new value.
	v, err = cache.Do(entries(t, process(t, bucket, laptop), cache.Regenerate), "k", func() (string, error) { return "v2", nil })
	assert.NilError(t, err)
	assert.Equal(t, v, "v2")
	v, err = cache.Do(entries(t, process(t, bucket, runner), cache.ReadOnly), "k", mustNotCompute(t))
	assert.NilError(t, err)
	assert.Equal(t, v, "v2", "a re-recorded entry is fetched again")
	assert.Check(t, is.Len(localCopies(t, afero.NewBasePathFs(afero.NewOsFs(), runner), "entries/k.json"), 1),
		"the copy of the old version is gone")

	// The laptop removes it: the runner's next process does not replay it.
	assert.NilError(t, entries(t, process(t, bucket, laptop), cache.Regenerate).Delete("k"))
	_, err = cache.Do(entries(t, process(t, bucket, runner), cache.ReadOnly), "k", mustNotCompute(t))
	assert.Assert(t, errors.Is(err, cache.ErrNotCached), "%v", err)
}

// TestCorruptObjectDoesNotWinTwice checks that a truncated object read once
// does not stay in the local copy once the bucket is repaired, whether the
// next read is in a new process or in the same one with the access the
// error message advises; and that a bucket object that is really corrupt is
// recorded again.
func TestCorruptObjectDoesNotWinTwice(t *testing.T) {
	bucket, _ := newFs(t)
	good := "\"the value\"\n"
	truncated := "\"the val"
	machine := t.TempDir()

	putObject(t, bucket, "entries/k.json", []byte(truncated))
	rt := process(t, bucket, machine)
	_, err := cache.Do(entries(t, rt, cache.ReadOnly), "k", mustNotCompute(t))
	assert.Assert(t, errors.Is(err, cache.ErrCorrupt), "%v", err)

	putObject(t, bucket, "entries/k.json", []byte(good)) // repaired by another machine

	t.Run("the same process, with rew", func(t *testing.T) {
		// Its listing still shows the truncated version, and so does its
		// copy: the lock taken before computing drops both.
		v, err := cache.Do(entries(t, rt, cache.ReadExecuteWrite), "k", mustNotCompute(t))
		assert.NilError(t, err)
		assert.Equal(t, v, "the value")
		stored, err := getObject(t, bucket, "entries/k.json")
		assert.NilError(t, err)
		assert.Equal(t, string(stored), good, "the repaired object is not overwritten")
	})
	t.Run("a new process, read-only", func(t *testing.T) {
		v, err := cache.Do(entries(t, process(t, bucket, machine), cache.ReadOnly), "k", mustNotCompute(t))
		assert.NilError(t, err)
		assert.Equal(t, v, "the value")
	})
	t.Run("a corrupt object is recorded again with rew", func(t *testing.T) {
		putObject(t, bucket, "entries/k.json", []byte(truncated))
		v, err := cache.Do(entries(t, process(t, bucket, machine), cache.ReadExecuteWrite), "k", func() (string, error) { return "computed", nil })
		assert.NilError(t, err)
		assert.Equal(t, v, "computed")
		stored, err := getObject(t, bucket, "entries/k.json")
		assert.NilError(t, err)
		assert.Equal(t, string(stored), "\"computed\"\n")
	})
}

// countingSilentServer returns the address of a server that accepts
// connections and never answers, and the number of connections it accepted.
func countingSilentServer(t *testing.T) (string, *atomic.Int64) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	var n atomic.Int64
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(done)
				return
			}
			n.Add(1)
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String(), &n
}

// TestFailuresAreBounded checks that the timeout and the attempts of a
// store URL bound what a hung server costs, and that the process pays it
// once: later calls execute (with e) or fail (without) without a request.
func TestFailuresAreBounded(t *testing.T) {
	addr, conns := countingSilentServer(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	fsys, err := cache.OpenURL("s3://hung/prefix?timeout=200ms&attempts=2&local=" + t.TempDir())
	assert.NilError(t, err)

	var events []cache.Event
	store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite),
		cache.WithObserver(func(e cache.Event) { events = append(events, e) }))
	assert.NilError(t, err)
	for i := range 3 {
		v, err := cache.Do(store, "k", func() (int, error) { return i, nil })
		assert.NilError(t, err)
		assert.Equal(t, v, i)
	}
	assert.Equal(t, conns.Load(), int64(2), "two attempts of the first request, then nothing")
	assert.Equal(t, events[0].Kind, cache.EventUnavailable)
	assert.ErrorContains(t, events[0].Err, "no answer in time")

	ro, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
	assert.NilError(t, err)
	_, err = cache.Do(ro, "other", func() (int, error) { return 0, nil })
	assert.Assert(t, errors.Is(err, cache.ErrUnavailable), "%v", err)
	assert.ErrorContains(t, err, "not sent, since the store could not be reached earlier in this process")
	assert.Equal(t, conns.Load(), int64(2))
}

// TestURLSettings checks the settings of a store URL and the messages of
// wrong ones. No server is needed.
func TestURLSettings(t *testing.T) {
	tests := []struct {
		query   string
		wantErr string
	}{
		{"timeout=5s&attempts=1&prefetch=0&lease=1m&local=off", ""},
		{"timeout=soon", "the setting timeout=soon in the URL is not a positive duration such as 5s or 1m"},
		{"timeout=-1s", "the setting timeout=-1s in the URL is not a positive duration"},
		{"attempts=0", "the setting attempts=0 in the URL is not a number of attempts, 1 or more"},
		{"prefetch=many", "the setting prefetch=many in the URL is not a number of parallel fetches, 0 or more"},
		{"retries=3", `unknown setting "retries" in the URL; the settings are local, timeout, attempts, prefetch, lease, base`},
		{"timeout=1s&timeout=2s", `the setting "timeout" is given 2 times in the URL`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			_, err := cache.OpenURL("s3://settings/" + t.Name() + "?" + tc.query)
			if tc.wantErr == "" {
				assert.NilError(t, err)
				return
			}
			assert.ErrorContains(t, err, tc.wantErr)
		})
	}
}
