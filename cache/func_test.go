package cache_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// counted wraps a function of one argument and counts its executions.
type counted[A, R any] struct {
	runs atomic.Int64
	fn   func(A) (R, error)
}

func (c *counted[A, R]) call(a A) (R, error) {
	c.runs.Add(1)
	return c.fn(a)
}

func square(n int) (int, error) { return n * n, nil }

func memStore(t *testing.T, access cache.Access, opts ...cache.Option) (*cache.Store, afero.Fs) {
	t.Helper()
	disk := afero.NewMemMapFs()
	store, err := cache.NewStore("/store", append([]cache.Option{cache.WithFs(disk), cache.WithAccess(access)}, opts...)...)
	assert.NilError(t, err)
	return store, disk
}

// entryKeys lists the keys of the store's entries.
func entryKeys(t *testing.T, store *cache.Store) []string {
	t.Helper()
	entries, err := store.List()
	assert.NilError(t, err)
	var keys []string
	for _, e := range entries {
		keys = append(keys, e.Key)
	}
	return keys
}

func TestFunc(t *testing.T) {
	for diskName, newDisk := range disks(t) {
		t.Run(diskName, func(t *testing.T) {
			disk, dir := newDisk(t)
			store, err := cache.NewStore(dir, cache.WithFs(disk), cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			sq := &counted[int, int]{fn: square}
			cached, err := cache.Func(store, "square", sq.call)
			assert.NilError(t, err)

			for _, n := range []int{3, 4, 3, 4, 3} {
				got, err := cached(n)
				assert.NilError(t, err)
				assert.Equal(t, got, n*n)
			}
			assert.Equal(t, sq.runs.Load(), int64(2))

			// A second wrapping, as in a program run again, executes nothing.
			again, err := cache.Func(store, "square", func(int) (int, error) { panic("must not run") })
			assert.NilError(t, err)
			got, err := again(4)
			assert.NilError(t, err)
			assert.Equal(t, got, 16)

			key3, err := cache.EntryKey("square", 3)
			assert.NilError(t, err)
			key4, err := cache.EntryKey("square", 4)
			assert.NilError(t, err)
			keys := entryKeys(t, store)
			assert.DeepEqual(t, keys, sortedStrings(key3, key4))
			for _, key := range keys {
				assert.Assert(t, regexp.MustCompile(`^square/[0-9a-f]{32}$`).MatchString(key), key)
			}
			var stored int
			assert.NilError(t, store.Read(key3, &stored))
			assert.Equal(t, stored, 9)
		})
	}
}

func sortedStrings(s ...string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestFuncAccess runs a wrapped function under each access with its entry
// present and missing.
func TestFuncAccess(t *testing.T) {
	for _, tc := range []struct {
		access  cache.Access
		present bool
		want    int // 0: ErrNotCached
		ran     bool
		stored  int // the entry afterwards; 0: none
	}{
		{cache.ReadExecuteWrite, true, 1, false, 1},
		{cache.ReadExecuteWrite, false, 25, true, 25},
		{cache.ReadExecute, true, 1, false, 1},
		{cache.ReadExecute, false, 25, true, 0},
		{cache.ReadOnly, true, 1, false, 1},
		{cache.ReadOnly, false, 0, false, 0},
		{cache.Regenerate, true, 25, true, 25},
		{cache.Regenerate, false, 25, true, 25},
		{cache.Bypass, true, 25, true, 1},
		{cache.Bypass, false, 25, true, 0},
	} {
		t.Run(fmt.Sprintf("%s/present=%v", tc.access, tc.present), func(t *testing.T) {
			store, disk := memStore(t, tc.access)
			key, err := cache.EntryKey("square", 5)
			assert.NilError(t, err)
			path, err := store.Path(key)
			assert.NilError(t, err)
			if tc.present {
				assert.NilError(t, disk.MkdirAll(filepath.Dir(path), 0o755))
				assert.NilError(t, afero.WriteFile(disk, path, []byte("1\n"), 0o644))
			}
			sq := &counted[int, int]{fn: square}
			cached, err := cache.Func(store, "square", sq.call)
			assert.NilError(t, err)
			got, err := cached(5)
			if tc.want == 0 {
				assert.Assert(t, errors.Is(err, cache.ErrNotCached), err)
				assert.ErrorContains(t, err, path)
			} else {
				assert.NilError(t, err)
				assert.Equal(t, got, tc.want)
			}
			assert.Equal(t, sq.runs.Load() == 1, tc.ran)
			content, err := afero.ReadFile(disk, path)
			if tc.stored == 0 {
				assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "want no entry, got %q", content)
			} else {
				assert.NilError(t, err)
				assert.Equal(t, string(content), strconv.Itoa(tc.stored)+"\n")
			}
		})
	}
}

type document struct {
	ID       string
	Text     string
	Progress func(string) // cannot be keyed
}

func TestFuncKeyFunc(t *testing.T) {
	store, _ := memStore(t, cache.ReadExecuteWrite)
	length := &counted[document, int]{fn: func(d document) (int, error) { return len(d.Text), nil }}
	cached, err := cache.Func(store, "length", length.call, cache.KeyFunc(func(d document) string { return d.ID }))
	assert.NilError(t, err)

	got, err := cached(document{ID: "a", Text: "four", Progress: func(string) {}})
	assert.NilError(t, err)
	assert.Equal(t, got, 4)
	// Same ID, other text: the ID alone identifies the result.
	got, err = cached(document{ID: "a", Text: "much longer"})
	assert.NilError(t, err)
	assert.Equal(t, got, 4)
	got, err = cached(document{ID: "b", Text: "xy"})
	assert.NilError(t, err)
	assert.Equal(t, got, 2)
	assert.Equal(t, length.runs.Load(), int64(2))

	keyA, err := cache.EntryKey("length", document{ID: "a"}, cache.KeyFunc(func(d document) string { return d.ID }))
	assert.NilError(t, err)
	assert.Assert(t, strings.HasPrefix(keyA, "length/a-"), keyA)
	assert.Assert(t, contains(entryKeys(t, store), keyA))

	// Without KeyFunc the func field cannot be keyed: an error, and fn does
	// not run.
	auto, err := cache.Func(store, "auto", length.call)
	assert.NilError(t, err)
	_, err = auto(document{ID: "a", Progress: func(string) {}})
	assert.Assert(t, errors.Is(err, cache.ErrInvalidKey))
	assert.Error(t, err, `cache: Func "auto": invalid key: cannot derive a key from the argument (cache_test.document): the value at .Progress is a func(string), which has no value to derive a key from; choose the key with cache.KeyFunc or cache.ConstKey`)
	assert.Equal(t, length.runs.Load(), int64(2))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestFuncConstKey(t *testing.T) {
	store, _ := memStore(t, cache.ReadExecuteWrite)
	sq := &counted[int, int]{fn: square}
	cached, err := cache.Func(store, "first", sq.call, cache.ConstKey("latest"))
	assert.NilError(t, err)
	for _, n := range []int{2, 3, 4} {
		got, err := cached(n)
		assert.NilError(t, err)
		assert.Equal(t, got, 4, "every call returns the first one's result")
	}
	assert.Equal(t, sq.runs.Load(), int64(1))
	keys := entryKeys(t, store)
	assert.Equal(t, len(keys), 1)
	assert.Assert(t, regexp.MustCompile(`^first/latest-[0-9a-f]{32}$`).MatchString(keys[0]), keys[0])
}

func TestFuncVersion(t *testing.T) {
	store, _ := memStore(t, cache.ReadExecuteWrite)
	calls := 0
	v1, err := cache.Func(store, "f", func(n int) (string, error) { calls++; return "v1", nil }, cache.Version("1"))
	assert.NilError(t, err)
	v2, err := cache.Func(store, "f", func(n int) (string, error) { calls++; return "v2", nil }, cache.Version("2"))
	assert.NilError(t, err)
	for _, tc := range []struct {
		fn   func(int) (string, error)
		want string
	}{{v1, "v1"}, {v2, "v2"}, {v1, "v1"}, {v2, "v2"}} {
		got, err := tc.fn(7)
		assert.NilError(t, err)
		assert.Equal(t, got, tc.want)
	}
	assert.Equal(t, calls, 2)
	assert.Equal(t, len(entryKeys(t, store)), 2, "the older version's entry stays")
}

func TestFuncMaxAge(t *testing.T) {
	const maxAge = time.Hour
	for _, tc := range []struct {
		name    string
		access  cache.Access
		age     time.Duration
		ran     bool
		err     string // a part of the error; "" for none
		refresh bool   // the file is rewritten
	}{
		{"fresh", cache.ReadExecuteWrite, 59 * time.Minute, false, "", false},
		{"expired", cache.ReadExecuteWrite, 61 * time.Minute, true, "", true},
		{"expired without w", cache.ReadExecute, 2 * time.Hour, true, "", false},
		{"fresh read-only", cache.ReadOnly, time.Minute, false, "", false},
		{"expired read-only", cache.ReadOnly, 2 * time.Hour, false, `expired: it was written 2h0m0s ago, at `, false},
		{"expired regenerate", cache.Regenerate, 2 * time.Hour, true, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store, disk := memStore(t, tc.access)
			key, err := cache.EntryKey("square", 5)
			assert.NilError(t, err)
			path, err := store.Path(key)
			assert.NilError(t, err)
			assert.NilError(t, disk.MkdirAll(filepath.Dir(path), 0o755))
			assert.NilError(t, afero.WriteFile(disk, path, []byte("1\n"), 0o644))
			written := time.Now().Add(-tc.age)
			assert.NilError(t, disk.Chtimes(path, written, written))

			sq := &counted[int, int]{fn: square}
			cached, err := cache.Func(store, "square", sq.call, cache.MaxAge(maxAge))
			assert.NilError(t, err)
			got, err := cached(5)
			assert.Equal(t, sq.runs.Load() == 1, tc.ran)
			if tc.err != "" {
				assert.Assert(t, errors.Is(err, cache.ErrNotCached), err)
				assert.ErrorContains(t, err, tc.err)
				assert.ErrorContains(t, err, path)
				assert.ErrorContains(t, err, `its maximum age is 1h0m0s; access "r" has no e to compute it again; recompute it with access rew (PECAPIKU_ACCESS=rew)`)
				return
			}
			assert.NilError(t, err)
			if tc.ran {
				assert.Equal(t, got, 25)
			} else {
				assert.Equal(t, got, 1)
			}
			content, err := afero.ReadFile(disk, path)
			assert.NilError(t, err)
			info, err := disk.Stat(path)
			assert.NilError(t, err)
			if tc.refresh {
				assert.Equal(t, string(content), "25\n")
				assert.Assert(t, time.Since(info.ModTime()) < maxAge)
			} else {
				assert.Equal(t, string(content), "1\n")
				assert.Assert(t, info.ModTime().Equal(written))
			}
		})
	}
}

func TestSingleValue(t *testing.T) {
	store, _ := memStore(t, cache.ReadExecuteWrite)
	calls := 0
	answer, err := cache.SingleValue(store, "answer", func() (int, error) { calls++; return 42, nil })
	assert.NilError(t, err)
	for i := 0; i < 3; i++ {
		got, err := answer()
		assert.NilError(t, err)
		assert.Equal(t, got, 42)
	}
	assert.Equal(t, calls, 1)
	key, err := cache.EntryKey("answer", struct{}{})
	assert.NilError(t, err)
	assert.DeepEqual(t, entryKeys(t, store), []string{key})

	named, err := cache.SingleValue(store, "named", func() (int, error) { return 1, nil }, cache.ConstKey("value"))
	assert.NilError(t, err)
	_, err = named()
	assert.NilError(t, err)
	assert.Assert(t, regexp.MustCompile(`^named/value-[0-9a-f]{32}$`).MatchString(entryKeys(t, store)[1]))

	_, err = cache.SingleValue(store, "answer", func() (int, error) { return 0, nil }, cache.KeyFunc(func(int) int { return 0 }))
	assert.Error(t, err, `cache: SingleValue "answer": KeyFunc is given, but a function without arguments has no argument to derive a key from; use ConstKey to name its entry`)
}

func TestFuncWrapErrors(t *testing.T) {
	store, _ := memStore(t, cache.ReadExecuteWrite)
	for _, tc := range []struct {
		name string
		wrap func() error
		want string
	}{
		{
			name: "nil store",
			wrap: func() error { _, err := cache.Func(nil, "f", square); return err },
			want: `cache: Func "f": the store is nil; create one with NewStore or NewUserStore`,
		},
		{
			name: "empty name",
			wrap: func() error { _, err := cache.Func(store, "", square); return err },
			want: `cache: Func "": fs: invalid key: the key is empty; name the function, as in cache.Func(store, "embed", ...)`,
		},
		{
			name: "nil function",
			wrap: func() error { _, err := cache.SingleValue[int](store, "f", nil); return err },
			want: `cache: SingleValue "f": the function is nil`,
		},
		{
			name: "both KeyFunc and ConstKey",
			wrap: func() error {
				_, err := cache.Func(store, "f", square, cache.KeyFunc(func(n int) int { return n % 10 }), cache.ConstKey("k"))
				return err
			},
			want: `cache: Func "f": both KeyFunc and ConstKey are given; give one: KeyFunc to derive the key from the argument, ConstKey to fix it`,
		},
		{
			name: "KeyFunc of another type",
			wrap: func() error {
				_, err := cache.Func(store, "f", square, cache.KeyFunc(func(s string) string { return s }))
				return err
			},
			want: `cache: Func "f": KeyFunc takes string, but the function takes int; give KeyFunc a func(int) K`,
		},
		{
			name: "nil KeyFunc",
			wrap: func() error { _, err := cache.Func(store, "f", square, cache.KeyFunc[int, string](nil)); return err },
			want: `cache: Func "f": KeyFunc is given a nil function`,
		},
		{
			name: "ConstKey that cannot be keyed",
			wrap: func() error { _, err := cache.Func(store, "f", square, cache.ConstKey(make(chan int))); return err },
			want: `cache: Func "f": invalid key: ConstKey: the value is a chan int, which has no value to derive a key from`,
		},
		{
			name: "negative MaxAge",
			wrap: func() error { _, err := cache.Func(store, "f", square, cache.MaxAge(-time.Second)); return err },
			want: `cache: Func "f": MaxAge is given a negative duration -1s; give a positive one, or 0 for no limit`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorContains(t, tc.wrap(), tc.want)
		})
	}
}

func TestFuncErrorsOfTheFunction(t *testing.T) {
	store, disk := memStore(t, cache.ReadExecuteWrite)
	errBoom := errors.New("boom")
	cached, err := cache.Func(store, "f", func(n int) (int, error) { return 0, errBoom })
	assert.NilError(t, err)
	_, err = cached(1)
	assert.Assert(t, errors.Is(err, errBoom))
	key, _ := cache.EntryKey("f", 1)
	assert.Error(t, err, fmt.Sprintf("cache: computing %q: boom", key))
	exists, _ := afero.DirExists(disk, "/store/f")
	assert.Assert(t, !exists, "nothing is written")
}

// TestFuncConcurrent calls a wrapped function from many goroutines with
// few distinct arguments: each argument is computed once.
func TestFuncConcurrent(t *testing.T) {
	store, _ := memStore(t, cache.ReadExecuteWrite)
	var runs sync.Map
	cached, err := cache.Func(store, "f", func(n int) (int, error) {
		count, _ := runs.LoadOrStore(n, new(atomic.Int64))
		count.(*atomic.Int64).Add(1)
		time.Sleep(time.Millisecond)
		return n * 10, nil
	})
	assert.NilError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got, err := cached(i % 4)
			assert.Check(t, err)
			assert.Check(t, got == i%4*10)
		}(i)
	}
	wg.Wait()
	runs.Range(func(n, count any) bool {
		assert.Equal(t, count.(*atomic.Int64).Load(), int64(1), "argument %v", n)
		return true
	})
}

// funcChildEnv names the store of TestFuncChildProcess, which runs only as the
// child of TestFuncAcrossProcesses.
const funcChildEnv = "PECAPIKU_TEST_CHILD_DIR"

// TestFuncChildProcess is a small program: it squares 1, 2 and 3 through a
// wrapped function stored in the default store, saying when it computes.
func TestFuncChildProcess(t *testing.T) {
	if os.Getenv(funcChildEnv) == "" {
		t.Skip("runs as the child process of TestFuncAcrossProcesses")
	}
	store, err := cache.NewUserStore("child")
	assert.NilError(t, err)
	cached, err := cache.Func(store, "square", func(n int) (int, error) {
		fmt.Println("computing", n)
		return n * n, nil
	})
	assert.NilError(t, err)
	for n := 1; n <= 3; n++ {
		got, err := cached(n)
		assert.NilError(t, err)
		fmt.Printf("square(%d) = %d\n", n, got)
	}
}

// TestFuncAcrossProcesses runs TestFuncChildProcess twice, as separate
// processes sharing one store: the second run computes nothing.
func TestFuncAcrossProcesses(t *testing.T) {
	if os.Getenv(funcChildEnv) != "" {
		t.Skip("this is the child")
	}
	dir := t.TempDir()
	run := func() string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestFuncChildProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), funcChildEnv+"=1", cache.EnvDir+"="+dir, cache.EnvAccess+"=rew")
		out, err := cmd.CombinedOutput()
		assert.NilError(t, err, "%s", out)
		return string(out)
	}
	results := "square(1) = 1\nsquare(2) = 4\nsquare(3) = 9\n"
	first := run()
	assert.Assert(t, strings.HasPrefix(first, "computing 1\nsquare(1) = 1\ncomputing 2\nsquare(2) = 4\ncomputing 3\nsquare(3) = 9\n"), first)
	second := run()
	assert.Assert(t, strings.HasPrefix(second, results), second)
	assert.Assert(t, !strings.Contains(second, "computing"), second)

	entries, err := filepath.Glob(filepath.Join(dir, "child", "square", "*.json"))
	assert.NilError(t, err)
	assert.Equal(t, len(entries), 3)
}

// TestReadmeMemoizing checks that the code of docs/func.md's section
// "Memoizing functions" is the body of ExampleFunc, so that it compiles and
// prints what the example says.
func TestReadmeMemoizing(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "docs", "func.md"))
	assert.NilError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Memoizing functions\n")
	assert.Assert(t, ok, "docs/func.md has no section \"## Memoizing functions\"")
	_, block, ok := strings.Cut(section, "```go\n")
	assert.Assert(t, ok, "the section has no go block")
	block, _, ok = strings.Cut(block, "```\n")
	assert.Assert(t, ok, "the go block does not end")

	source, err := os.ReadFile("func_example_test.go")
	assert.NilError(t, err)
	_, body, ok := strings.Cut(string(source), "\nfunc ExampleFunc() {\n")
	assert.Assert(t, ok, "func_example_test.go has no ExampleFunc")
	body, _, ok = strings.Cut(body, "\t// Output:\n")
	assert.Assert(t, ok, "ExampleFunc has no output")
	lines := strings.SplitAfter(body, "\n")
	for i, line := range lines {
		lines[i] = strings.TrimPrefix(line, "\t")
	}
	assert.Equal(t, block, strings.Join(lines, ""), "docs/func.md's block differs from the body of ExampleFunc; copy one onto the other")
}
