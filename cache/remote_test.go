package cache_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/pecapiku/pecapiku/cache"
)

func TestRegisterSchemePanics(t *testing.T) {
	cache.RegisterScheme("test-registered", func(*url.URL) (afero.Fs, error) { return afero.NewMemMapFs(), nil })
	open := func(*url.URL) (afero.Fs, error) { return nil, nil }
	tests := []struct {
		name   string
		scheme string
		open   cache.Opener
		want   string
	}{
		{"empty scheme", "", open, "cache: RegisterScheme with an empty scheme"},
		{"nil opener", "test-nil", nil, "cache: RegisterScheme(test-nil) with a nil opener"},
		{"twice", "test-registered", open, "cache: RegisterScheme(test-registered) called twice"},
		{"built in", "file", open, "cache: RegisterScheme(file) called twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() { assert.Equal(t, recover(), tc.want) }()
			cache.RegisterScheme(tc.scheme, tc.open)
		})
	}
}

func TestOpenURL(t *testing.T) {
	opens := 0
	cache.RegisterScheme("test-once", func(u *url.URL) (afero.Fs, error) {
		opens++
		if u.Host == "broken" {
			return nil, errors.New("cannot open")
		}
		return afero.NewMemMapFs(), nil
	})
	first, err := cache.OpenURL("test-once://bucket/prefix")
	assert.NilError(t, err)
	second, err := cache.OpenURL("test-once://bucket/prefix")
	assert.NilError(t, err)
	assert.Assert(t, first == second, "a URL is opened once per process")
	assert.Equal(t, opens, 1)

	errTests := []struct {
		name    string
		url     string
		want    string
		unknown bool
	}{
		{"s3 without its import", "s3://bucket/prefix",
			`cache: store s3://bucket/prefix: no filesystem is registered for the scheme "s3": add import _ "github.com/pecapiku/pecapiku/s3" to the program (for tests, to any _test.go file of each package under test)`, true},
		{"unknown scheme", "gopher://bucket",
			`cache: store gopher://bucket: no filesystem is registered for the scheme "gopher"; the registered schemes are file, `, true},
		{"no scheme", "bucket/prefix",
			`cache: store URL "bucket/prefix": no filesystem is registered for the scheme "": it has none; write it as s3://bucket/prefix or file:///dir`, true},
		{"relative file URL", "file:dir",
			"cache: store file:dir: a file URL names an absolute directory: write it as file:///absolute/dir", false},
		{"file URL with a host", "file://server/dir",
			"cache: store file://server/dir: a file URL names a local directory: write it as file:///absolute/dir", false},
		{"opener error", "test-once://broken/x", "cache: store test-once://broken/x: cannot open", false},
		{"bad URL", "s3://bucket/%zz", `cache: store URL "s3://bucket/%zz": parse "s3://bucket/%zz": invalid URL escape "%zz"`, false},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cache.OpenURL(tc.url)
			assert.ErrorContains(t, err, tc.want)
			assert.Equal(t, errors.Is(err, cache.ErrUnknownScheme), tc.unknown)
		})
	}
}

func TestStoreFromEnv(t *testing.T) {
	t.Run("unset", func(t *testing.T) {
		t.Setenv(cache.EnvStore, "")
		_, ok, err := cache.FsFromEnv()
		assert.NilError(t, err)
		assert.Assert(t, !ok)
	})
	t.Run("missing import", func(t *testing.T) {
		t.Setenv(cache.EnvStore, "s3://bucket/prefix")
		_, err := cache.NewStore("entries")
		assert.ErrorContains(t, err, `cache: store entries: PECAPIKU_STORE: cache: store s3://bucket/prefix: no filesystem is registered for the scheme "s3": add import _ "github.com/pecapiku/pecapiku/s3"`)
	})
	t.Run("file URL", func(t *testing.T) {
		shared := t.TempDir()
		t.Setenv(cache.EnvStore, "file://"+filepath.ToSlash(shared))
		store, err := cache.NewStore("entries", cache.WithAccess(cache.ReadExecuteWrite))
		assert.NilError(t, err)
		got, err := cache.Do(store, "answer", func() (int, error) { return 42, nil })
		assert.NilError(t, err)
		assert.Equal(t, got, 42)
		data, err := os.ReadFile(filepath.Join(shared, "entries", "answer.json"))
		assert.NilError(t, err)
		assert.Equal(t, string(data), "42\n")
	})
}

// flakyFs fails the operations of names in down with an error that wraps
// cache.ErrUnavailable, as a remote store does when its server is down.
type flakyFs struct {
	afero.Fs
	openDown, renameDown bool
}

func (f *flakyFs) unavailable(op, name string) error {
	return fmt.Errorf("%s %s: connection refused: %w", op, name, cache.ErrUnavailable)
}

func (f *flakyFs) Open(name string) (afero.File, error) {
	if f.openDown {
		return nil, f.unavailable("open", name)
	}
	return f.Fs.Open(name)
}

func (f *flakyFs) Stat(name string) (iofs.FileInfo, error) {
	if f.openDown {
		return nil, f.unavailable("stat", name)
	}
	return f.Fs.Stat(name)
}

func (f *flakyFs) Rename(oldname, newname string) error {
	if f.renameDown {
		return f.unavailable("rename", newname)
	}
	return f.Fs.Rename(oldname, newname)
}

func TestDoUnavailable(t *testing.T) {
	tests := []struct {
		name       string
		access     cache.Access
		openDown   bool
		renameDown bool
		wantErr    string
		wantEvents []cache.EventKind
	}{
		{"read fails with e", cache.ReadExecuteWrite, true, true, "", []cache.EventKind{cache.EventUnavailable, cache.EventExecute}},
		{"read fails with re", cache.ReadExecute, true, false, "", []cache.EventKind{cache.EventUnavailable, cache.EventExecute}},
		{"read fails without e", cache.ReadOnly, true, false, "open /store/k.json: connection refused: store unavailable", nil},
		{"write fails with rew", cache.ReadExecuteWrite, false, true, "", []cache.EventKind{cache.EventExecute, cache.EventUnavailable}},
		{"write fails with ew", cache.Regenerate, false, true, "", []cache.EventKind{cache.EventExecute, cache.EventUnavailable}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := afero.NewMemMapFs()
			fsys := &flakyFs{Fs: mem, openDown: tc.openDown, renameDown: tc.renameDown}
			var events []cache.EventKind
			store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(tc.access),
				cache.WithObserver(func(e cache.Event) {
					events = append(events, e.Kind)
					if e.Kind == cache.EventUnavailable {
						assert.Assert(t, errors.Is(e.Err, cache.ErrUnavailable))
					}
				}))
			assert.NilError(t, err)
			got, err := cache.Do(store, "k", func() (string, error) { return "computed", nil })
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Assert(t, errors.Is(err, cache.ErrUnavailable))
			} else {
				assert.NilError(t, err)
				assert.Equal(t, got, "computed")
			}
			assert.DeepEqual(t, events, tc.wantEvents)
			_, err = mem.Stat("/store/k.json")
			assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "nothing is stored")
			assertNoTempFiles(t, mem, "/store")
		})
	}
}

// lockingFs is an EntryLocker that records what happens and can act as
// another process would while the caller waits for the lock.
type lockingFs struct {
	afero.Fs
	mu           sync.Mutex
	log          []string
	err          error
	whileWaiting func()
}

func (l *lockingFs) record(s string) {
	l.mu.Lock()
	l.log = append(l.log, s)
	l.mu.Unlock()
}

func (l *lockingFs) LockEntry(name string) (func(), error) {
	if l.err != nil {
		return nil, l.err
	}
	if l.whileWaiting != nil {
		l.whileWaiting()
	}
	l.record("lock " + name)
	return func() { l.record("unlock " + name) }, nil
}

func TestDoEntryLocker(t *testing.T) {
	tests := []struct {
		name        string
		access      cache.Access
		err         error
		otherWrites bool
		wantLog     []string
		wantErr     string
		wantEvents  []cache.EventKind
	}{
		{name: "rew locks around execute and write", access: cache.ReadExecuteWrite,
			wantLog:    []string{"lock /store/k.json", "execute", "unlock /store/k.json"},
			wantEvents: []cache.EventKind{cache.EventExecute, cache.EventWrite}},
		{name: "another process stored it while this one waited", access: cache.ReadExecuteWrite, otherWrites: true,
			wantLog:    []string{"lock /store/k.json", "unlock /store/k.json"},
			wantEvents: []cache.EventKind{cache.EventHit}},
		{name: "re does not lock", access: cache.ReadExecute,
			wantLog: []string{"execute"}, wantEvents: []cache.EventKind{cache.EventExecute}},
		{name: "ew does not lock", access: cache.Regenerate,
			wantLog: []string{"execute"}, wantEvents: []cache.EventKind{cache.EventExecute, cache.EventWrite}},
		{name: "unreachable lock executes", access: cache.ReadExecuteWrite, err: fmt.Errorf("timeout: %w", cache.ErrUnavailable),
			wantLog: []string{"execute"}, wantEvents: []cache.EventKind{cache.EventUnavailable, cache.EventExecute}},
		{name: "failing lock fails", access: cache.ReadExecuteWrite, err: errors.New("access denied"),
			wantErr: "cache: lock /store/k.json: access denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := &lockingFs{Fs: afero.NewMemMapFs(), err: tc.err}
			if tc.otherWrites {
				fsys.whileWaiting = func() { assert.NilError(t, afero.WriteFile(fsys.Fs, "/store/k.json", []byte(`"theirs"`), 0o644)) }
			}
			var events []cache.EventKind
			store, err := cache.NewStore("/store", cache.WithFs(fsys), cache.WithAccess(tc.access),
				cache.WithObserver(func(e cache.Event) { events = append(events, e.Kind) }))
			assert.NilError(t, err)
			got, err := cache.Do(store, "k", func() (string, error) {
				fsys.record("execute")
				return "mine", nil
			})
			if tc.wantErr != "" {
				assert.Error(t, err, tc.wantErr)
				return
			}
			assert.NilError(t, err)
			want := "mine"
			if tc.otherWrites {
				want = "theirs"
			}
			assert.Equal(t, got, want)
			assert.DeepEqual(t, fsys.log, tc.wantLog)
			assert.DeepEqual(t, events, tc.wantEvents)
		})
	}
}

func TestEventKindString(t *testing.T) {
	assert.Check(t, is.Equal(cache.EventUnavailable.String(), "unavailable"))
}
