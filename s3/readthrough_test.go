package s3_test

import (
	"errors"
	iofs "io/fs"
	"os"
	"sync"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
	"github.com/pecapiku/pecapiku/s3"
)

// recordingFs records the calls made to a filesystem.
type recordingFs struct {
	afero.Fs
	mu    sync.Mutex
	calls []string
	// readErr, when set, is what reading any opened file fails with.
	readErr error
}

func (r *recordingFs) record(op, name string) {
	r.mu.Lock()
	r.calls = append(r.calls, op+" "+name)
	r.mu.Unlock()
}

func (r *recordingFs) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

func (r *recordingFs) Open(name string) (afero.File, error) {
	r.record("open", name)
	f, err := r.Fs.Open(name)
	if err == nil && r.readErr != nil {
		return failingFile{f, r.readErr}, nil
	}
	return f, err
}

func (r *recordingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	r.record("openfile", name)
	return r.Fs.OpenFile(name, flag, perm)
}

func (r *recordingFs) Rename(oldname, newname string) error {
	r.record("rename", newname)
	return r.Fs.Rename(oldname, newname)
}

func (r *recordingFs) Remove(name string) error {
	r.record("remove", name)
	return r.Fs.Remove(name)
}

// localCopies returns the local copies of name in local: the files
// name@<version>.
func localCopies(t testing.TB, local afero.Fs, name string) []string {
	t.Helper()
	copies, err := afero.Glob(local, name+"@*")
	assert.NilError(t, err)
	return copies
}

// localCopy returns the content of the one local copy of name in local.
func localCopy(t testing.TB, local afero.Fs, name string) []byte {
	t.Helper()
	copies := localCopies(t, local, name)
	assert.Assert(t, is.Len(copies, 1), "the local copies of %s", name)
	data, err := afero.ReadFile(local, copies[0])
	assert.NilError(t, err)
	return data
}

type failingFile struct {
	afero.File
	err error
}

func (f failingFile) Read([]byte) (int, error) { return 0, f.err }

// TestReadThrough checks the local copy with filesystems in memory: what is
// read once is read locally after, what is written or removed is written or
// removed on both sides, and a store without w never writes remotely.
func TestReadThrough(t *testing.T) {
	remote := &recordingFs{Fs: afero.NewMemMapFs()}
	local := afero.NewMemMapFs()
	rt := s3.NewReadThrough(remote, local)
	assert.NilError(t, afero.WriteFile(remote.Fs, "store/a.json", []byte(`"a"`), 0o644))

	ro, err := cache.NewStore("store", cache.WithFs(rt), cache.WithAccess(cache.ReadOnly))
	assert.NilError(t, err)
	for range 3 {
		var v string
		assert.NilError(t, ro.Read("a", &v))
		assert.Equal(t, v, "a")
	}
	assert.DeepEqual(t, remote.take(), []string{"open store", "open store/a.json"}) // one listing, one read
	assert.Equal(t, string(localCopy(t, local, "store/a.json")), `"a"`)

	// A missing entry is known missing from the listing: no request.
	var v string
	assert.Assert(t, errors.Is(ro.Read("missing", &v), iofs.ErrNotExist))
	assert.Assert(t, errors.Is(ro.Read("missing", &v), iofs.ErrNotExist))
	assert.Check(t, is.Len(remote.take(), 0))

	// A write goes to the remote filesystem, and to the local copy once it is there.
	rw, err := cache.NewStore("store", cache.WithFs(rt), cache.WithAccess(cache.Regenerate))
	assert.NilError(t, err)
	assert.NilError(t, rw.Write("a", "new a"))
	assert.NilError(t, rw.Write("b", "b"))
	for _, name := range []string{"store/a.json", "store/b.json"} {
		want, err := afero.ReadFile(remote.Fs, name)
		assert.NilError(t, err)
		assert.DeepEqual(t, localCopy(t, local, name), want)
	}
	remote.take()
	assert.NilError(t, ro.Read("b", &v))
	assert.Equal(t, v, "b")
	assert.NilError(t, ro.Read("a", &v))
	assert.Equal(t, v, "new a")
	assert.Check(t, is.Len(remote.take(), 0))
	leftovers, err := afero.Glob(local, "store/.*")
	assert.NilError(t, err)
	assert.Check(t, is.Len(leftovers, 0), "no temporary file is left in the local copy")

	// A removal removes both.
	assert.NilError(t, rw.Delete("b"))
	_, err = remote.Fs.Stat("store/b.json")
	assert.Assert(t, errors.Is(err, iofs.ErrNotExist))
	assert.Check(t, is.Len(localCopies(t, local, "store/b.json"), 0))
	assert.Assert(t, errors.Is(ro.Read("b", &v), iofs.ErrNotExist))

	remote.take()

	// A store without w reads through but cannot write.
	assert.Assert(t, errors.Is(ro.Write("c", "c"), cache.ErrForbidden))
	_, err = cache.Do(ro, "c", func() (string, error) { return "c", nil })
	assert.Assert(t, errors.Is(err, cache.ErrNotCached))
	assert.Check(t, is.Len(remote.take(), 0), "a store without w sends nothing")

	// Listing is from the remote listing of the process; the next process
	// sees what others wrote meanwhile.
	assert.NilError(t, afero.WriteFile(remote.Fs, "store/only-remote.json", []byte(`1`), 0o644))
	keys := func(store *cache.Store) []string {
		entries, err := store.List()
		assert.NilError(t, err)
		var got []string
		for _, e := range entries {
			got = append(got, e.Key)
		}
		return got
	}
	assert.DeepEqual(t, keys(ro), []string{"a"})
	next, err := cache.NewStore("store", cache.WithFs(s3.NewReadThrough(remote, local)), cache.WithAccess(cache.ReadOnly))
	assert.NilError(t, err)
	assert.DeepEqual(t, keys(next), []string{"a", "only-remote"})
}

// TestReadThroughLocalFailures checks that a local copy that cannot be
// written does not stop reads, and that a remote read that fails leaves no
// local copy.
func TestReadThroughLocalFailures(t *testing.T) {
	t.Run("read-only local copy", func(t *testing.T) {
		remote := afero.NewMemMapFs()
		assert.NilError(t, afero.WriteFile(remote, "x.json", []byte("1"), 0o644))
		rt := s3.NewReadThrough(remote, afero.NewReadOnlyFs(afero.NewMemMapFs()))
		data, err := fs.ReadFile(rt, "x.json", fs.DefaultMaxSize)
		assert.NilError(t, err)
		assert.Equal(t, string(data), "1")
	})
	t.Run("remote read fails", func(t *testing.T) {
		remote := &recordingFs{Fs: afero.NewMemMapFs(), readErr: errors.New("connection reset")}
		assert.NilError(t, afero.WriteFile(remote.Fs, "x.json", []byte("1"), 0o644))
		local := afero.NewMemMapFs()
		_, err := fs.ReadFile(s3.NewReadThrough(remote, local), "x.json", fs.DefaultMaxSize)
		assert.ErrorContains(t, err, "connection reset")
		names, err := afero.Glob(local, "*")
		assert.NilError(t, err)
		assert.Check(t, is.Len(names, 0))
		names, err = afero.Glob(local, ".*")
		assert.NilError(t, err)
		assert.Check(t, is.Len(names, 0))
	})
}
