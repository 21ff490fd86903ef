package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/fs"

	"github.com/pecapiku/pecapiku/cache"
)

func TestFormatAge(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		ago  time.Duration
		want string
	}{
		{"now", 0, "0s"},
		{"seconds", 59*time.Second + 999*time.Millisecond, "59s"},
		{"a minute", time.Minute, "1m"},
		{"minutes", 59*time.Minute + 59*time.Second, "59m"},
		{"hours", 5*time.Hour + 59*time.Minute, "5h"},
		{"a day", 24 * time.Hour, "1d"},
		{"days", 3*24*time.Hour + time.Millisecond, "3d"},
		{"almost a year", 364 * 24 * time.Hour, "364d"},
		{"years", 2 * 365 * 24 * time.Hour, "2y"},
		{"in the future", -time.Hour, "0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, formatAge(now.Add(-tc.ago), now), tc.want)
		})
	}
}

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{10 * 1024, "10 KiB"},
		{5 << 20, "5.0 MiB"},
		{3 << 30, "3.0 GiB"},
		{7 << 50, "7.0 PiB"},
		{1 << 62, "4096 PiB"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, formatSize(tc.n), tc.want)
		})
	}
}

// tree is a module with stores where pecatest puts them and where it does
// not, and directories that the search of ls leaves out.
func tree(t *testing.T) *fs.Dir {
	entry := fs.WithFile("x.json", "1\n")
	return fs.NewDir(t, "module",
		fs.WithFile("go.mod", "module example.com/m\n"),
		fs.WithDir("testdata", fs.WithDir(".pecapiku", entry)),
		fs.WithDir("a", fs.WithDir("b", fs.WithDir("testdata", fs.WithDir(".pecapiku", entry)))),
		fs.WithDir("other", fs.WithDir(".pecapiku", entry)),
		fs.WithDir("nested",
			fs.WithFile("go.mod", "module example.com/nested\n"),
			fs.WithDir("testdata", fs.WithDir(".pecapiku", entry))),
		fs.WithDir("vendor", fs.WithDir("v", fs.WithDir("testdata", fs.WithDir(".pecapiku", entry)))),
		fs.WithDir("node_modules", fs.WithDir("testdata", fs.WithDir(".pecapiku", entry))),
		fs.WithDir(".git", fs.WithDir("testdata", fs.WithDir(".pecapiku", entry))),
	)
}

func TestFindStores(t *testing.T) {
	dir := tree(t)
	abs := func(rel ...string) []string {
		var paths []string
		for _, r := range rel {
			paths = append(paths, dir.Join(filepath.FromSlash(r)))
		}
		return paths
	}
	for _, tc := range []struct {
		name          string
		wd            string
		paths, stores []string
		want          []string
	}{
		{
			name: "the module, from its root",
			wd:   ".",
			want: abs("a/b/testdata/.pecapiku", "testdata/.pecapiku"),
		},
		{
			name: "the module, from below its root",
			wd:   "a/b",
			want: abs("a/b/testdata/.pecapiku", "testdata/.pecapiku"),
		},
		{
			name: "a nested module is a module of its own",
			wd:   "nested/testdata",
			want: abs("nested/testdata/.pecapiku"),
		},
		{
			name:  "paths: every .pecapiku below them",
			wd:    ".",
			paths: []string{".", "nested"},
			want:  abs("a/b/testdata/.pecapiku", "nested/testdata/.pecapiku", "other/.pecapiku", "testdata/.pecapiku"),
		},
		{
			name:  "a path that is a store",
			wd:    "other",
			paths: []string{".pecapiku"},
			want:  abs("other/.pecapiku"),
		},
		{
			name:   "-store alone",
			wd:     ".",
			stores: []string{"a/b"},
			want:   abs("a/b"),
		},
		{
			name:   "-store and paths, without duplicates",
			wd:     ".",
			stores: []string{"other/.pecapiku"},
			paths:  []string{"other", "other/.pecapiku"},
			want:   abs("other/.pecapiku"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{dir: dir.Join(filepath.FromSlash(tc.wd))}
			got, err := findStores(e, tc.paths, tc.stores)
			assert.NilError(t, err)
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

func TestFindStoresErrors(t *testing.T) {
	dir := tree(t)
	e := &env{dir: dir.Path()}
	_, err := findStores(e, []string{"missing"}, nil)
	assert.Error(t, err, "missing: no such file or directory")
	_, err = findStores(e, []string{"go.mod"}, nil)
	assert.Error(t, err, "go.mod: not a directory")
	_, err = findStores(e, nil, []string{"missing"})
	assert.Error(t, err, "-store missing: no such file or directory")

	outside := fs.NewDir(t, "nomodule")
	_, err = findStores(&env{dir: outside.Path()}, nil, nil)
	if _, statErr := os.Stat("/go.mod"); statErr == nil {
		t.Skip("/go.mod exists: every directory is in a module")
	}
	assert.ErrorContains(t, err, "no go.mod in "+outside.Path()+" or above")
}

func TestStoreOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		path   string
		stores []string
		want   string
	}{
		{"in a .pecapiku directory", "/m/testdata/.pecapiku/TestA/x.json", nil, "/m/testdata/.pecapiku"},
		{"the nearest .pecapiku", "/m/.pecapiku/testdata/.pecapiku/x.json", nil, "/m/.pecapiku/testdata/.pecapiku"},
		{"in no store", "/m/testdata/x.json", nil, ""},
		{"in a -store", "/m/cache/a/x.json", []string{"/m/other", "/m/cache"}, "/m/cache"},
		{"in the innermost -store", "/m/cache/a/x.json", []string{"/m/cache", "/m/cache/a"}, "/m/cache/a"},
		{"a -store is not its own entry", "/m/cache", []string{"/m/cache"}, ""},
		{"-store wins over .pecapiku", "/m/.pecapiku/c/x.json", []string{"/m/.pecapiku/c"}, "/m/.pecapiku/c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stores []string
			for _, s := range tc.stores {
				stores = append(stores, filepath.FromSlash(s))
			}
			want := tc.want
			if want != "" {
				want = filepath.FromSlash(want)
			}
			assert.Equal(t, storeOf(filepath.FromSlash(tc.path), stores), want)
		})
	}
}

// TestExitStatus runs the command in this process: 0 for success, 1 for a
// failed operation or problems found, 2 for a mistake in the command line,
// with every error on stderr.
func TestExitStatus(t *testing.T) {
	dir := fs.NewDir(t, "module",
		fs.WithFile("go.mod", "module example.com/m\n"),
		fs.WithDir("testdata", fs.WithDir(".pecapiku",
			fs.WithFile("good.json", "1\n"),
			fs.WithFile("bad.json", "{"))))
	for _, tc := range []struct {
		name   string
		args   []string
		status int
		stderr string
	}{
		{"no command", nil, 2, "pecapiku: no command given"},
		{"help", []string{"help"}, 0, ""},
		{"unknown command", []string{"lss"}, 2, `pecapiku: unknown command "lss"`},
		{"unknown flag", []string{"ls", "-x"}, 2, "pecapiku ls: flag provided but not defined: -x"},
		{"command help", []string{"verify", "-h"}, 0, ""},
		{"ls", []string{"ls"}, 0, ""},
		{"ls of nothing", []string{"ls", "missing"}, 1, "pecapiku: missing: no such file or directory"},
		{"show", []string{"show", "testdata/.pecapiku/good.json"}, 0, ""},
		{"show without entry", []string{"show"}, 2, "pecapiku show: want one ENTRY, got 0 arguments"},
		{"verify finds a problem", []string{"verify"}, 1, ""},
		{"rm refuses", []string{"rm", "go.mod"}, 1, "pecapiku: go.mod: not an entry"},
		{"rm without entry", []string{"rm"}, 2, "pecapiku rm: no ENTRY given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			assert.Equal(t, runIn(dir.Path(), tc.args, &stdout, &stderr), tc.status, "stderr: %s", stderr.String())
			if tc.stderr == "" {
				assert.Equal(t, stderr.String(), "")
			} else {
				assert.Assert(t, strings.HasPrefix(stderr.String(), tc.stderr), stderr.String())
			}
		})
	}
}

func TestCheck(t *testing.T) {
	dir := fs.NewDir(t, "store",
		fs.WithFile("ok.json", `{"a": 1}`),
		fs.WithFile("empty.raw", ""),
		fs.WithDir("dir.json"))
	for _, tc := range []struct {
		name, file string
		codec      cache.Codec
		kind, err  string
	}{
		{"sound", "ok.json", cache.JSON, "", ""},
		{"an empty raw entry is sound", "empty.raw", cache.Raw, "", ""},
		{"missing", "gone.json", cache.JSON, "unreadable", "no such file or directory"},
		{"a directory", "dir.json", cache.JSON, "unreadable", "not an entry: not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kind, err := check(osFs, cache.Entry{Path: dir.Join(tc.file), Codec: tc.codec}, 1<<20)
			assert.Equal(t, kind, tc.kind)
			if tc.err == "" {
				assert.NilError(t, err)
			} else {
				assert.ErrorContains(t, err, tc.err)
			}
		})
	}
}

func TestPlanPrune(t *testing.T) {
	dir := fs.NewDir(t, "store",
		fs.WithFile(cache.StoreMarker, ""),
		fs.WithDir("TestNew", fs.WithFile("x.json", "1\n")),
		fs.WithDir("TestOld", fs.WithFile("x.json", "1\n"), fs.WithFile("y.gob", "")),
		fs.WithFile("notes.txt", "not an entry"),
		fs.WithFile(".x.json.tmp-7", "half"))
	used := map[string]bool{dir.Join("TestNew", "x.json"): true}
	p, err := planPrune(local(dir.Path()), used)
	assert.NilError(t, err)
	assert.Equal(t, p.entries, 3)
	var unused []string
	for _, en := range p.unused {
		unused = append(unused, en.Key)
	}
	assert.DeepEqual(t, unused, []string{"TestOld/x", "TestOld/y"})
	assert.DeepEqual(t, p.leftovers, []string{dir.Join(".x.json.tmp-7")})

	p, err = planPrune(local(dir.Join("missing")), used)
	assert.NilError(t, err)
	assert.Assert(t, p == nil)

	// A directory pecapiku did not create is not planned at all.
	foreign := fs.NewDir(t, "pkg", fs.WithFile("package.json", "{}\n"))
	_, err = planPrune(local(foreign.Path()), used)
	assert.Assert(t, errors.Is(err, cache.ErrNotOwned), "%v", err)
}
