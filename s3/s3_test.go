package s3_test

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
	"github.com/pecapiku/pecapiku/s3"
)

type record struct {
	Name  string
	Score float64
	Tags  []string
	Attrs map[string]int
}

// TestCodecsRoundTrip stores a value with every codec on the bucket and
// reads it back with a second store, checking the object's bytes are what
// the codec encodes.
func TestCodecsRoundTrip(t *testing.T) {
	fsys, _ := newFs(t)
	value := record{Name: "stations", Score: 0.5, Tags: []string{"a", "b"}, Attrs: map[string]int{"x": 1}}
	tests := []struct {
		name  string
		codec cache.Codec
		value any
		read  func(*cache.Store) (any, error)
	}{
		{"json", cache.JSON, value, func(s *cache.Store) (any, error) {
			return cache.Do(s, "entry", func() (record, error) { return record{}, errors.New("must not run") })
		}},
		{"gob", cache.Gob, value, func(s *cache.Store) (any, error) {
			return cache.Do(s, "entry", func() (record, error) { return record{}, errors.New("must not run") })
		}},
		{"raw bytes", cache.Raw, []byte("verbatim\x00bytes"), func(s *cache.Store) (any, error) {
			return cache.Do(s, "entry", func() ([]byte, error) { return nil, errors.New("must not run") })
		}},
		{"raw string", cache.Raw, "a golden report\n", func(s *cache.Store) (any, error) {
			return cache.Do(s, "entry", func() (string, error) { return "", errors.New("must not run") })
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := "codecs/" + tc.name
			writer, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithCodec(tc.codec), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			assert.NilError(t, writer.Write("entry", tc.value))

			reader, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithCodec(tc.codec), cache.WithAccess(cache.ReadOnly))
			assert.NilError(t, err)
			got, err := tc.read(reader)
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.value)

			want, err := tc.codec.Marshal(tc.value)
			assert.NilError(t, err)
			stored, err := getObject(t, fsys, dir+"/entry"+tc.codec.Ext())
			assert.NilError(t, err)
			assert.DeepEqual(t, stored, want)
		})
	}
	assert.DeepEqual(t, keys(t, fsys), []string{
		"codecs/gob/entry.gob", "codecs/json/entry.json", "codecs/raw bytes/entry.raw", "codecs/raw string/entry.raw",
	})
}

// TestAccessLetters runs Do with every access against a present and a
// missing entry on the bucket, counting the requests that change it.
func TestAccessLetters(t *testing.T) {
	const stored, fresh = `"stored"`, "\"fresh\"\n"
	tests := []struct {
		access    cache.Access
		present   bool
		want      string
		wantErr   error
		wantPuts  int
		wantValue string // the stored object afterwards; "" for none
	}{
		{cache.ReadExecuteWrite, true, "stored", nil, 0, stored},
		{cache.ReadExecuteWrite, false, "fresh", nil, 3, fresh}, // lock, value, lock deleted
		{cache.ReadExecute, true, "stored", nil, 0, stored},
		{cache.ReadExecute, false, "fresh", nil, 0, ""},
		{cache.ReadOnly, true, "stored", nil, 0, stored},
		{cache.ReadOnly, false, "", cache.ErrNotCached, 0, ""},
		{cache.Regenerate, true, "fresh", nil, 1, fresh},
		{cache.Regenerate, false, "fresh", nil, 2, fresh}, // value, and the marker of the store's new directory
		{cache.Bypass, true, "fresh", nil, 0, stored},
		{cache.Bypass, false, "fresh", nil, 0, ""},
	}
	for _, tc := range tests {
		name := tc.access.String() + "/missing"
		if tc.present {
			name = tc.access.String() + "/present"
		}
		t.Run(name, func(t *testing.T) {
			fsys, count := newFs(t)
			if tc.present {
				putObject(t, fsys, "entries/k.json", []byte(stored))
			}
			count.take()
			store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(tc.access))
			assert.NilError(t, err)
			got, err := cache.Do(store, "k", func() (string, error) { return "fresh", nil })
			if tc.wantErr != nil {
				assert.Assert(t, errors.Is(err, tc.wantErr), "%v", err)
			} else {
				assert.NilError(t, err)
				assert.Equal(t, got, tc.want)
			}
			byOp := count.take()
			assert.Equal(t, byOp["PUT"]+byOp["DELETE"]+byOp["POST"], tc.wantPuts, "requests: %v", byOp)
			data, err := getObject(t, fsys, "entries/k.json")
			if tc.wantValue == "" {
				assert.Assert(t, err != nil, "no entry is stored")
			} else {
				assert.NilError(t, err)
				assert.Equal(t, string(data), tc.wantValue)
			}
			for _, k := range keys(t, fsys) {
				assert.Assert(t, !fs.Reserved(k), "a lock or temporary object is left: %s", k)
			}
		})
	}
}

// TestReadThroughCountsRequests reads an entry through a local copy twice
// and from a second ReadThrough on the same directory, as another process
// would: only the first read sends a request.
func TestReadThroughCountsRequests(t *testing.T) {
	remote, count := newFs(t)
	// A recording as the json codec writes it: every field of the type.
	const stored = `{"Name": "stored", "Score": 0, "Tags": null, "Attrs": null}`
	putObject(t, remote, "entries/k.json", []byte(stored))
	localDir := t.TempDir()
	local := afero.NewBasePathFs(afero.NewOsFs(), localDir)
	read := func(fsys afero.Fs, access cache.Access) record {
		t.Helper()
		store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(access))
		assert.NilError(t, err)
		v, err := cache.Do(store, "k", func() (record, error) { return record{}, errors.New("must not run") })
		assert.NilError(t, err)
		return v
	}
	count.take()
	assert.DeepEqual(t, read(s3.NewReadThrough(remote, local), cache.ReadOnly), record{Name: "stored"})
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 2}) // a listing and a GET
	assert.DeepEqual(t, read(s3.NewReadThrough(remote, local), cache.ReadOnly), record{Name: "stored"})
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 1}) // a listing that revalidates the local copy
	assert.DeepEqual(t, read(s3.NewReadThrough(remote, local), cache.ReadExecuteWrite), record{Name: "stored"})
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 1}) // a listing that revalidates the local copy
	assert.Equal(t, string(localCopy(t, local, "entries/k.json")), stored)

	// A value written through the ReadThrough is in the local copy at once.
	rt := s3.NewReadThrough(remote, local)
	store, err := cache.NewStore("entries", cache.WithFs(rt), cache.WithAccess(cache.Regenerate))
	assert.NilError(t, err)
	_, err = cache.Do(store, "k", func() (record, error) { return record{Name: "regenerated"}, nil })
	assert.NilError(t, err)
	count.take()
	assert.DeepEqual(t, read(rt, cache.ReadOnly), record{Name: "regenerated"})
	// No request: ew listed the store when it compared the fresh value
	// with the recording, and the value is read from the copy the write
	// made.
	assert.DeepEqual(t, count.take(), map[string]int{})
	data, err := getObject(t, remote, "entries/k.json")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "{\n  \"Name\": \"regenerated\",\n  \"Score\": 0,\n  \"Tags\": null,\n  \"Attrs\": null\n}\n")
	leftovers, err := afero.Glob(local, "entries/.*")
	assert.NilError(t, err)
	assert.Check(t, is.Len(leftovers, 0))
}

// TestList lists a store on the bucket: entries in nested directories, and
// none of the lock and temporary objects, with one listing per directory,
// or one for the whole store when it is known as one.
func TestList(t *testing.T) {
	fsys, count := newFs(t)
	for _, name := range []string{"store/TestA/x.json", "store/TestA/sub/y.gob", "store/z.raw", "store/.z.raw.lock", "store/TestA/.x.json.tmp-1", "other/w.json"} {
		putObject(t, fsys, name, []byte("1"))
	}
	fresh := func() *s3.Fs { // no directories seen yet
		f, err := s3.New(fsys.Bucket(), fsys.Prefix(), s3.WithClient(fsys.Client()))
		assert.NilError(t, err)
		return f
	}
	indexed := s3.NewReadThrough(fresh(), afero.NewMemMapFs())
	indexed.IndexStore("store")
	for _, tc := range []struct {
		on   afero.Fs
		want map[string]int
	}{
		// Stat of the store's directory (HEAD, then a listing since there
		// is no such object), then one listing for each of store,
		// store/TestA and store/TestA/sub.
		{fresh(), map[string]int{"HEAD": 1, "GET": 4}},
		// The listings of the root, store, store/TestA and store/TestA/sub.
		{s3.NewReadThrough(fresh(), afero.NewMemMapFs()), map[string]int{"GET": 4}},
		// One listing of the whole store.
		{indexed, map[string]int{"GET": 1}},
	} {
		on := tc.on
		store, err := cache.NewStore("store", cache.WithFs(on), cache.WithAccess(cache.ReadOnly))
		assert.NilError(t, err)
		count.take()
		entries, err := store.List()
		assert.NilError(t, err)
		var got []string
		for _, e := range entries {
			got = append(got, e.Key+" "+e.Codec.Name())
			assert.Equal(t, e.Size, int64(1))
			assert.Assert(t, !e.ModTime.IsZero())
		}
		assert.DeepEqual(t, got, []string{"TestA/sub/y gob", "TestA/x json", "z raw"})
		assert.DeepEqual(t, count.take(), tc.want)
	}
	empty, err := cache.NewStore("nothing", cache.WithFs(fsys))
	assert.NilError(t, err)
	entries, err := empty.List()
	assert.NilError(t, err)
	assert.Check(t, is.Len(entries, 0))
}

// TestFsFiles checks the afero.Fs methods that Store does not use.
func TestFsFiles(t *testing.T) {
	fsys, _ := newFs(t)
	assert.NilError(t, afero.WriteFile(fsys, "dir/a.txt", []byte("hello, world"), 0o644))

	f, err := fsys.Open("dir/a.txt")
	assert.NilError(t, err)
	buf := make([]byte, 5)
	_, err = f.ReadAt(buf, 7)
	assert.NilError(t, err)
	assert.Equal(t, string(buf), "world")
	_, err = f.Seek(7, io.SeekStart)
	assert.NilError(t, err)
	rest, err := io.ReadAll(f)
	assert.NilError(t, err)
	assert.Equal(t, string(rest), "world")
	_, err = f.Write([]byte("x"))
	assert.ErrorContains(t, err, "open for reading only")
	assert.NilError(t, f.Close())

	_, err = fsys.OpenFile("dir/a.txt", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	assert.Assert(t, errors.Is(err, iofs.ErrExist), "%v", err)
	_, err = fsys.OpenFile("dir/none.txt", os.O_WRONLY, 0o644)
	assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "%v", err)

	app, err := fsys.OpenFile("dir/a.txt", os.O_WRONLY|os.O_APPEND, 0o644)
	assert.NilError(t, err)
	_, err = app.WriteString("!")
	assert.NilError(t, err)
	assert.NilError(t, app.Close())
	data, err := afero.ReadFile(fsys, "dir/a.txt")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "hello, world!")

	assert.NilError(t, fsys.Rename("dir/a.txt", "dir/sub/b.txt"))
	_, err = fsys.Stat("dir/a.txt")
	assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "%v", err)
	info, err := fsys.Stat("dir/sub/b.txt")
	assert.NilError(t, err)
	assert.Equal(t, info.Size(), int64(13))
	info, err = fsys.Stat("dir")
	assert.NilError(t, err)
	assert.Assert(t, info.IsDir())

	d, err := fsys.Open("dir")
	assert.NilError(t, err)
	names, err := d.Readdirnames(-1)
	assert.NilError(t, err)
	assert.DeepEqual(t, names, []string{"sub"})

	assert.NilError(t, fsys.RemoveAll("dir"))
	assert.Check(t, is.Len(keys(t, fsys), 0))
}

// TestConditionalCreate checks that the server refuses a second create of
// one key, which locks depend on: of many concurrent creates, one wins.
func TestConditionalCreate(t *testing.T) {
	fsys, _ := newFs(t)
	const writers = 8
	errs := make(chan error, writers)
	for i := range writers {
		go func() {
			f, err := fsys.OpenFile("once.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err == nil {
				_, err = f.Write([]byte{byte('a' + i)})
				if err == nil {
					err = f.Close()
				}
			}
			errs <- err
		}()
	}
	var won, lost int
	for range writers {
		err := <-errs
		switch {
		case err == nil:
			won++
		case errors.Is(err, iofs.ErrExist):
			lost++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	assert.Equal(t, won, 1)
	assert.Equal(t, lost, writers-1)
}

// TestStoreMarkerOnBucket: the first write of a store whose directory has no
// object yet marks it as the store's own, once, so that prune on the bucket
// may later remove its unused entries; a store in a directory that held
// objects before is not marked, and pruning it is refused.
func TestStoreMarkerOnBucket(t *testing.T) {
	fsys, _ := newFs(t)
	store, err := cache.NewStore("fresh", cache.WithFs(fsys), cache.WithAccess(cache.Regenerate))
	assert.NilError(t, err)
	for _, key := range []string{"a", "b"} {
		assert.NilError(t, store.Write(key, key))
	}
	marker, err := getObject(t, fsys, "fresh/"+cache.StoreMarker)
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(marker), "This directory is a pecapiku store"))
	owned, err := store.Owned()
	assert.NilError(t, err)
	assert.Assert(t, owned)

	putObject(t, fsys, "theirs/notes.json", []byte(`{}`))
	theirs, err := cache.NewStore("theirs", cache.WithFs(fsys), cache.WithAccess(cache.Regenerate))
	assert.NilError(t, err)
	assert.NilError(t, theirs.Write("k", "v"))
	_, err = getObject(t, fsys, "theirs/"+cache.StoreMarker)
	assert.Assert(t, err != nil, "a directory that held objects before was marked")
	_, err = theirs.Unused(nil)
	assert.Assert(t, errors.Is(err, cache.ErrNotOwned), "%v", err)
}
