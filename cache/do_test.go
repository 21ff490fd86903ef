package cache_test

import (
	"errors"
	iofs "io/fs"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// disks returns the filesystems the store is tested on, each with the
// directory to put a store in: one in memory and one real.
func disks(t *testing.T) map[string]func(t *testing.T) (afero.Fs, string) {
	return map[string]func(t *testing.T) (afero.Fs, string){
		"mem": func(t *testing.T) (afero.Fs, string) { return afero.NewMemMapFs(), "/work/store" },
		"os":  func(t *testing.T) (afero.Fs, string) { return afero.NewOsFs(), filepath.Join(t.TempDir(), "store") },
	}
}

const storedJSON = `{
  "Name": "stored",
  "Rows": [
    1
  ],
  "Labels": null,
  "When": "0001-01-01T00:00:00Z"
}
`

// TestDo runs every access against an entry that is present, missing,
// corrupt, or recorded from another type, on a disk in memory and a real one,
// and checks the value returned, whether the function ran, and the file left
// behind: the access table of the package documentation, cell by cell.
func TestDo(t *testing.T) {
	fresh := dataset{Name: "fresh", Rows: []int{2, 3}}
	freshJSON, err := cache.JSON.Marshal(fresh)
	assert.NilError(t, err)
	stored := dataset{Name: "stored", Rows: []int{1}}

	const (
		present   = "present"
		missing   = "missing"
		corrupt   = "corrupt"
		otherType = "other type"
	)
	initial := map[string]string{
		present:   storedJSON,
		corrupt:   `{"Name": "sto`,
		otherType: `{"Title": "another type"}`,
	}
	type want struct {
		value  *dataset // nil: an error
		err    error
		ran    bool
		file   string // content after the call; "" for no file
		events []cache.EventKind
	}
	replay := want{value: &stored, file: storedJSON, events: []cache.EventKind{cache.EventHit}}
	recorded := func(before string, events ...cache.EventKind) want {
		return want{value: &fresh, ran: true, file: string(freshJSON), events: events}
	}
	computed := func(before string, events ...cache.EventKind) want {
		return want{value: &fresh, ran: true, file: before, events: events}
	}
	const (
		hit   = cache.EventHit
		bad   = cache.EventCorrupt
		exec  = cache.EventExecute
		wrote = cache.EventWrite
	)
	table := map[cache.Access]map[string]want{
		cache.ReadExecuteWrite: {
			present:   replay,
			missing:   recorded("", exec, wrote),
			corrupt:   recorded(initial[corrupt], bad, exec, wrote),
			otherType: recorded(initial[otherType], bad, exec, wrote),
		},
		cache.ReadExecute: {
			present:   replay,
			missing:   computed("", exec),
			corrupt:   computed(initial[corrupt], bad, exec),
			otherType: computed(initial[otherType], bad, exec),
		},
		cache.ReadOnly: {
			present:   replay,
			missing:   {err: cache.ErrNotCached},
			corrupt:   {err: cache.ErrCorrupt, file: initial[corrupt], events: []cache.EventKind{bad}},
			otherType: {err: cache.ErrCorrupt, file: initial[otherType], events: []cache.EventKind{bad}},
		},
		cache.Regenerate: {
			present:   recorded(storedJSON, exec, wrote),
			missing:   recorded("", exec, wrote),
			corrupt:   recorded(initial[corrupt], exec, wrote),
			otherType: recorded(initial[otherType], exec, wrote),
		},
		cache.Bypass: {
			present:   computed(storedJSON, exec),
			missing:   computed("", exec),
			corrupt:   computed(initial[corrupt], exec),
			otherType: computed(initial[otherType], exec),
		},
	}
	for access, states := range table {
		for state, w := range states {
			for diskName, newDisk := range disks(t) {
				t.Run(access.String()+"/"+state+"/"+diskName, func(t *testing.T) {
					base, dir := newDisk(t)
					path := filepath.Join(dir, "TestReport", "dataset.json")
					if content, ok := initial[state]; ok {
						assert.NilError(t, base.MkdirAll(filepath.Dir(path), 0o755))
						assert.NilError(t, afero.WriteFile(base, path, []byte(content), 0o644))
					}
					counter := faultfs.NewCounting(base)
					var events []cache.EventKind
					store, err := cache.NewStore(dir, cache.WithFs(counter), cache.WithAccess(access),
						cache.WithObserver(func(e cache.Event) {
							assert.Equal(t, e.Key, "TestReport/dataset")
							assert.Equal(t, e.Path, path)
							events = append(events, e.Kind)
						}))
					assert.NilError(t, err)

					ran := false
					got, err := cache.Do(store, "TestReport/dataset", func() (dataset, error) {
						ran = true
						return fresh, nil
					})

					if w.value != nil {
						assert.NilError(t, err)
						assert.DeepEqual(t, got, *w.value)
					} else {
						assert.Assert(t, errors.Is(err, w.err), "got %v, want %v", err, w.err)
						assert.ErrorContains(t, err, path)
						assert.ErrorContains(t, err, `"TestReport/dataset"`)
					}
					assert.Equal(t, ran, w.ran)
					assert.DeepEqual(t, events, w.events)

					content, err := afero.ReadFile(base, path)
					if w.file == "" {
						assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "want no file, got %q", content)
					} else {
						assert.NilError(t, err)
						assert.Equal(t, string(content), w.file)
					}
					if !access.CanWrite() {
						assert.DeepEqual(t, counter.Mutations(), []string(nil))
					}
					assertNoTempFiles(t, base, dir)
				})
			}
		}
	}
}

func assertNoTempFiles(t *testing.T, fsys afero.Fs, dir string) {
	t.Helper()
	_ = afero.Walk(fsys, dir, func(p string, info iofs.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func TestDoMessages(t *testing.T) {
	fsys := afero.NewMemMapFs()
	store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
	assert.NilError(t, err)
	_, err = cache.Do(store, "corpus/words", func() (int, error) { return 1, nil })
	assert.Error(t, err, `cache: "corpus/words": not cached: /store/corpus/words.json does not exist and access "r" has no e to compute it; compute and store it with access rew (PECAPIKU_ACCESS=rew)`)

	assert.NilError(t, afero.WriteFile(fsys, "/store/corpus/words.json", []byte("12 13"), 0o644))
	_, err = cache.Do(store, "corpus/words", func() (int, error) { return 1, nil })
	assert.Error(t, err, `cache: "corpus/words": corrupt entry: cannot decode /store/corpus/words.json with the json codec: invalid character '1' after top-level value at byte 3; delete the file or record it again with access ew (PECAPIKU_ACCESS=ew)`)

	_, err = cache.Do(store, "", func() (int, error) { return 1, nil })
	assert.Assert(t, errors.Is(err, cache.ErrInvalidKey))
	assert.Error(t, err, "cache: fs: invalid key: the key is empty")
}

func TestDoDirectoryInTheWay(t *testing.T) {
	for diskName, newDisk := range disks(t) {
		t.Run(diskName, func(t *testing.T) {
			fsys, dir := newDisk(t)
			path := filepath.Join(dir, "entry.json")
			assert.NilError(t, fsys.MkdirAll(path, 0o755))
			store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			ran := false
			_, err = cache.Do(store, "entry", func() (int, error) { ran = true; return 1, nil })
			assert.ErrorContains(t, err, "fs: read "+path+": is a directory, not a file")
			assert.Assert(t, !ran)
		})
	}
}

func TestDoFunctionError(t *testing.T) {
	errBoom := errors.New("boom")
	for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.Regenerate, cache.ReadExecute, cache.Bypass} {
		t.Run(access.String(), func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(access))
			assert.NilError(t, err)
			_, err = cache.Do(store, "k", func() (int, error) { return 0, errBoom })
			assert.Assert(t, errors.Is(err, errBoom))
			assert.Error(t, err, `cache: computing "k": boom`)
			exists, _ := afero.Exists(fsys, "/store/k.json")
			assert.Assert(t, !exists)
		})
	}
}

type panicValue struct{ msg string }

func TestDoFunctionPanics(t *testing.T) {
	fsys := afero.NewMemMapFs()
	store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	func() {
		defer func() {
			// The panic keeps its value.
			assert.Equal(t, recover(), any(panicValue{"bad"}))
		}()
		_, _ = cache.Do(store, "k", func() (int, error) { panic(panicValue{"bad"}) })
		t.Fatal("Do returned after its function panicked")
	}()
	exists, _ := afero.Exists(fsys, "/store/k.json")
	assert.Assert(t, !exists)

	// The entry is not stuck: the next call computes it.
	got, err := cache.Do(store, "k", func() (int, error) { return 7, nil })
	assert.NilError(t, err)
	assert.Equal(t, got, 7)
}

type withUnexported struct {
	Name  string
	count int
}

type withPointer struct {
	N *int
}

// TestDoRoundTrip checks that a value the codec would replay differently is
// never written, and that the error shows the difference.
func TestDoRoundTrip(t *testing.T) {
	zero := 0
	for _, tc := range []struct {
		name  string
		codec cache.Codec
		do    func(*cache.Store) error
		want  []string
	}{
		{
			name:  "unexported field under json",
			codec: cache.JSON,
			do: func(s *cache.Store) error {
				_, err := cache.Do(s, "k", func() (withUnexported, error) { return withUnexported{"a", 3}, nil })
				return err
			},
			want: []string{
				`cache: "k": value does not survive its codec: the json codec would replay cache_test.withUnexported as a different value, so nothing was written to /store/k.json (-computed +replayed):`,
				"count: 3,", "count: 0,",
				"exported fields for json and gob",
			},
		},
		{
			name:  "unexported field under gob",
			codec: cache.Gob,
			do: func(s *cache.Store) error {
				_, err := cache.Do(s, "k", func() (withUnexported, error) { return withUnexported{"a", 3}, nil })
				return err
			},
			want: []string{`the gob codec would replay cache_test.withUnexported as a different value, so nothing was written to /store/k.gob`},
		},
		{
			name:  "gob drops a pointer to zero",
			codec: cache.Gob,
			do: func(s *cache.Store) error {
				_, err := cache.Do(s, "k", func() (withPointer, error) { return withPointer{&zero}, nil })
				return err
			},
			want: []string{"the gob codec would replay cache_test.withPointer as a different value"},
		},
		{
			name:  "json any turns an int into a float",
			codec: cache.JSON,
			do: func(s *cache.Store) error {
				_, err := cache.Do(s, "k", func() (any, error) { return int64(1) << 60, nil })
				return err
			},
			want: []string{"the json codec would replay int64 as a different value"},
		},
		{
			name:  "json cannot encode NaN",
			codec: cache.JSON,
			do: func(s *cache.Store) error {
				_, err := cache.Do(s, "k", func() (float64, error) { return math.NaN(), nil })
				return err
			},
			want: []string{`cache: "k": cannot encode float64 with the json codec for /store/k.json: at the top level: cannot encode float64: unsupported value: NaN; JSON has no NaN or infinity: store such values with the gob codec (cache.Gob)`},
		},
		{
			name:  "json cannot keep invalid UTF-8",
			codec: cache.JSON,
			do: func(s *cache.Store) error {
				type inner struct{ Names []string }
				type outer struct{ In inner }
				_, err := cache.Do(s, "k", func() (outer, error) { return outer{inner{[]string{"ok", "caf\xe9"}}}, nil })
				return err
			},
			want: []string{`cache: "k": cannot encode cache_test.outer with the json codec for /store/k.json: at /In/Names/1: a string that is not valid UTF-8, which JSON cannot hold unchanged; store text as valid UTF-8 and binary data as a []byte (written in base64), or use the gob codec (cache.Gob)`},
		},
		{
			name:  "json cannot keep invalid UTF-8 in a map key",
			codec: cache.JSON,
			do: func(s *cache.Store) error {
				_, err := cache.Do(s, "k", func() (map[string]int, error) { return map[string]int{"\xff": 1}, nil })
				return err
			},
			want: []string{`at the top level: a string that is not valid UTF-8`},
		},
		{
			name:  "raw cannot store an int",
			codec: cache.Raw,
			do: func(s *cache.Store) error {
				_, err := cache.Do(s, "k", func() (int, error) { return 1, nil })
				return err
			},
			want: []string{"the raw codec stores only []byte and string values, not int"},
		},
		{
			name:  "store write",
			codec: cache.JSON,
			do:    func(s *cache.Store) error { return s.Write("k", withUnexported{"a", 3}) },
			want:  []string{"the json codec would replay cache_test.withUnexported as a different value"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithCodec(tc.codec), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			err = tc.do(store)
			for _, want := range tc.want {
				assert.ErrorContains(t, err, want)
			}
			entries, err := store.List()
			assert.NilError(t, err)
			assert.Equal(t, len(entries), 0, "something was written")
		})
	}
}

// TestDoKeepsWhatCodecsKeep covers values that do survive, with their
// awkward corners: NaN under gob, times in another zone under JSON.
func TestDoKeepsWhatCodecsKeep(t *testing.T) {
	type record struct {
		F    float64
		When time.Time
	}
	zone := time.FixedZone("UTC+2", 2*3600)
	for _, tc := range []struct {
		codec cache.Codec
		v     record
	}{
		{cache.Gob, record{F: math.NaN(), When: time.Now()}},
		{cache.JSON, record{F: math.Copysign(0, -1), When: time.Date(2026, 1, 2, 3, 4, 5, 6, zone)}},
	} {
		t.Run(tc.codec.Name(), func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithCodec(tc.codec), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			_, err = cache.Do(store, "k", func() (record, error) { return tc.v, nil })
			assert.NilError(t, err)
			got, err := cache.Do(store, "k", func() (record, error) { panic("must replay") })
			assert.NilError(t, err)
			assert.Assert(t, got.When.Equal(tc.v.When))
			assert.Equal(t, math.IsNaN(got.F), math.IsNaN(tc.v.F))
			assert.Equal(t, math.Signbit(got.F), math.Signbit(tc.v.F))
		})
	}
}

// TestDoConcurrent has many goroutines miss one entry at once: the function
// runs once, and each caller gets a copy of its own.
func TestDoConcurrent(t *testing.T) {
	for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadExecute, cache.Regenerate, cache.Bypass} {
		for diskName, newDisk := range disks(t) {
			t.Run(access.String()+"/"+diskName, func(t *testing.T) {
				fsys, dir := newDisk(t)
				var runs atomic.Int64
				release := make(chan struct{})
				const callers = 16
				results := make([][]int, callers)
				var wg sync.WaitGroup
				var started sync.WaitGroup
				started.Add(callers)
				for i := 0; i < callers; i++ {
					wg.Add(1)
					go func(i int) {
						defer wg.Done()
						// A store per caller, as pecatest makes one per call.
						store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(access))
						assert.Check(t, err)
						started.Done()
						got, err := cache.Do(store, "shared", func() ([]int, error) {
							runs.Add(1)
							<-release
							return []int{1, 2, 3}, nil
						})
						assert.Check(t, err)
						got[0] = 100 + i // must not reach any other caller
						results[i] = got
					}(i)
				}
				started.Wait()
				// Release the computation once every other caller waits
				// for it: one that arrived after it ended would compute
				// again under re, e and ew, which write nothing it could
				// read, as it should.
				probe, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(access))
				assert.NilError(t, err)
				for deadline := time.Now().Add(time.Minute); cache.Waiting(probe, "shared") < callers-1 && time.Now().Before(deadline); {
					time.Sleep(time.Millisecond)
				}
				close(release)
				wg.Wait()
				assert.Equal(t, runs.Load(), int64(1), "the function ran more than once")
				for i, got := range results {
					assert.DeepEqual(t, got, []int{100 + i, 2, 3})
				}
			})
		}
	}
}

// TestDoWaiterOfPanickedLeader checks that a goroutine waiting for an
// execution that panics gets an error, not the panic.
func TestDoWaiterOfPanickedLeader(t *testing.T) {
	fsys := afero.NewMemMapFs()
	store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	entered := make(chan struct{})
	release := make(chan struct{})
	leaderDone := make(chan any)
	go func() {
		defer func() { leaderDone <- recover() }()
		_, _ = cache.Do(store, "k", func() (int, error) {
			close(entered)
			<-release
			panic("leader panics")
		})
	}()
	<-entered
	waiterErr := make(chan error)
	go func() {
		_, err := cache.Do(store, "k", func() (int, error) { return 1, nil })
		waiterErr <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the waiter join the running call
	close(release)
	assert.Equal(t, <-leaderDone, any("leader panics"))
	err = <-waiterErr
	// Either the waiter joined the call and got an error, or it arrived
	// after the call and computed the value itself.
	if err != nil {
		assert.ErrorContains(t, err, "the goroutine computing it panicked or called runtime.Goexit")
	}
}

func TestStoreReadWriteDeleteList(t *testing.T) {
	for diskName, newDisk := range disks(t) {
		t.Run(diskName, func(t *testing.T) {
			fsys, dir := newDisk(t)
			store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)

			entries, err := store.List()
			assert.NilError(t, err)
			assert.Equal(t, len(entries), 0)

			var v dataset
			err = store.Read("a/b", &v)
			assert.Assert(t, errors.Is(err, iofs.ErrNotExist), err)

			assert.NilError(t, store.Write("a/b", sample))
			assert.NilError(t, store.Write("c", dataset{Name: "c"}))
			assert.NilError(t, store.Write("with space", dataset{Name: "s"}))
			assert.NilError(t, store.Read("a/b", &v))
			assert.DeepEqual(t, v, sample)

			// Files that are not entries: a temporary file of an
			// interrupted write, and a file of no known codec.
			assert.NilError(t, afero.WriteFile(fsys, filepath.Join(dir, "a", ".b.json.tmp-123"), []byte("{"), 0o600))
			assert.NilError(t, afero.WriteFile(fsys, filepath.Join(dir, "notes.txt"), []byte("hi"), 0o644))
			gobStore, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithCodec(cache.Gob), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			assert.NilError(t, gobStore.Write("g", 5))

			entries, err = store.List()
			assert.NilError(t, err)
			var got []string
			for _, e := range entries {
				codec := "?"
				if e.Codec != nil {
					codec = e.Codec.Name()
				}
				assert.Equal(t, e.Path, filepath.Join(dir, filepath.FromSlash(e.Key)+map[string]string{"json": ".json", "gob": ".gob", "?": ""}[codec]))
				assert.Assert(t, e.Size > 0)
				assert.Assert(t, !e.ModTime.IsZero())
				got = append(got, e.Key+" "+codec)
			}
			assert.Assert(t, sort.StringsAreSorted(got))
			assert.DeepEqual(t, got, []string{"a/b json", "c json", "g gob", "notes.txt ?", "with_space~b8b8f25a5fc7 json"})

			assert.NilError(t, store.Delete("c"))
			assert.NilError(t, store.Delete("c"), "deleting a missing entry is not an error")
			err = store.Read("c", &v)
			assert.Assert(t, errors.Is(err, iofs.ErrNotExist))

			err = store.Write("nil", nil)
			assert.ErrorContains(t, err, `cache: write "nil" to `+filepath.Join(dir, "nil.json")+": the value is nil")
		})
	}
}

func TestStoreForbidden(t *testing.T) {
	fsys := afero.NewMemMapFs()
	assert.NilError(t, afero.WriteFile(fsys, "/store/k.json", []byte("1\n"), 0o644))
	for _, tc := range []struct {
		access cache.Access
		op     string
		do     func(*cache.Store) error
		want   string
	}{
		{cache.ReadOnly, "write", func(s *cache.Store) error { return s.Write("k", 2) }, `cache: write "k" (/store/k.json): forbidden by access: access "r" has no w`},
		{cache.ReadExecute, "write", func(s *cache.Store) error { return s.Write("k", 2) }, `cache: write "k" (/store/k.json): forbidden by access: access "re" has no w`},
		{cache.Bypass, "delete", func(s *cache.Store) error { return s.Delete("k") }, `cache: delete "k" (/store/k.json): forbidden by access: access "e" has no w`},
		{cache.Regenerate, "read", func(s *cache.Store) error { var v int; return s.Read("k", &v) }, `cache: read "k" (/store/k.json): forbidden by access: access "ew" has no r`},
	} {
		t.Run(tc.access.String()+"/"+tc.op, func(t *testing.T) {
			store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(tc.access))
			assert.NilError(t, err)
			err = tc.do(store)
			assert.Assert(t, errors.Is(err, cache.ErrForbidden))
			assert.Error(t, err, tc.want)
			content, err := afero.ReadFile(fsys, "/store/k.json")
			assert.NilError(t, err)
			assert.Equal(t, string(content), "1\n")
		})
	}
}

func TestNewStoreAccess(t *testing.T) {
	t.Setenv(cache.EnvAccess, "")
	store, err := cache.NewStore("dir")
	assert.NilError(t, err)
	assert.Equal(t, store.Access(), cache.ReadExecuteWrite)
	assert.Equal(t, store.Codec(), cache.JSON)
	assert.Equal(t, store.Dir(), "dir")

	t.Setenv(cache.EnvAccess, "r")
	store, err = cache.NewStore("dir")
	assert.NilError(t, err)
	assert.Equal(t, store.Access(), cache.ReadOnly)

	store, err = cache.NewStore("dir", cache.WithAccess(cache.Bypass))
	assert.NilError(t, err)
	assert.Equal(t, store.Access(), cache.Bypass, "the option wins over the environment")

	t.Setenv(cache.EnvAccess, "rw")
	_, err = cache.NewStore("dir")
	assert.Assert(t, errors.Is(err, cache.ErrInvalidAccess))
	assert.ErrorContains(t, err, `cache: store dir: PECAPIKU_ACCESS="rw": cache: invalid access "rw": w without e`)

	_, err = cache.NewStore("dir", cache.WithAccess(cache.Access(4)))
	assert.Assert(t, errors.Is(err, cache.ErrInvalidAccess))
	assert.ErrorContains(t, err, "cache: store dir: invalid access Access(4); valid access is")
}
