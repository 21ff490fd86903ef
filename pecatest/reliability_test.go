package pecatest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// memoOps are the calls of this package that the read-only guarantee covers,
// run against a store seeded by seedFixtures: an entry that is present, one
// that is corrupt, and names that are missing. Failures are expected from
// some; what matters is what reaches the disk.
var memoOps = []struct {
	name string
	do   func(t TB, fsys afero.Fs)
}{
	{"Memo present", func(t TB, fsys afero.Fs) { Memo(t, "present", func() (int, error) { return 2, nil }, WithFs(fsys)) }},
	{"Memo missing", func(t TB, fsys afero.Fs) { Memo(t, "missing", func() (int, error) { return 2, nil }, WithFs(fsys)) }},
	{"Memo corrupt", func(t TB, fsys afero.Fs) { Memo(t, "corrupt", func() (int, error) { return 2, nil }, WithFs(fsys)) }},
	{"Memo shared", func(t TB, fsys afero.Fs) {
		Memo(t, "shared-missing", func() (int, error) { return 2, nil }, WithFs(fsys), Shared())
	}},
	{"Memo failing", func(t TB, fsys afero.Fs) {
		Memo(t, "missing", func() (int, error) { return 0, os.ErrInvalid }, WithFs(fsys))
	}},
	{"Golden equal", func(t TB, fsys afero.Fs) { Golden(t, "present", 1, WithFs(fsys)) }},
	{"Golden different", func(t TB, fsys afero.Fs) { Golden(t, "present", 5, WithFs(fsys)) }},
	{"Golden missing", func(t TB, fsys afero.Fs) { Golden(t, "missing", 5, WithFs(fsys)) }},
	{"Golden corrupt", func(t TB, fsys afero.Fs) { Golden(t, "corrupt", 5, WithFs(fsys)) }},
	{"Golden text", func(t TB, fsys afero.Fs) { Golden(t, "text", "new text\n", WithFs(fsys)) }},
}

// seedFixtures writes the entries memoOps expect for the test TestSeed.
func seedFixtures(t *testing.T, fsys afero.Fs) {
	t.Helper()
	for name, content := range map[string]string{
		"present.json": "1\n",
		"corrupt.json": "{",
		"text.raw":     "old text\n",
	} {
		assert.NilError(t, afero.WriteFile(fsys, filepath.Join(DefaultDir, "TestSeed", name), []byte(content), 0o644))
	}
}

// TestNothingWrittenWithoutW runs every call under each access without w,
// from the environment and from the option, with drift verification on and
// off, on a filesystem that counts the calls that could change it: not one
// may reach it.
func TestNothingWrittenWithoutW(t *testing.T) {
	for _, access := range []cache.Access{cache.ReadOnly, cache.ReadExecute, cache.Bypass} {
		for _, verify := range []string{"", "1"} {
			for _, op := range memoOps {
				t.Run(access.String()+"/verify="+verify+"/"+op.name, func(t *testing.T) {
					clearAccess(t)
					t.Setenv(cache.EnvAccess, access.String())
					t.Setenv(EnvVerify, verify)
					base := afero.NewMemMapFs()
					seedFixtures(t, base)
					counter := faultfs.NewCounting(base)
					op.do(&fakeT{name: "TestSeed"}, counter)
					assert.DeepEqual(t, counter.Mutations(), []string(nil))
				})
			}
		}
	}
}

// badNames are entry names a test may pass by mistake or on purpose; each
// must be stored inside the store, in a file of its own, or refused.
var badNames = []string{
	".", "..", "../x", "../../../../etc/passwd", "/abs", "a//b", "a/", "a\x00b",
	strings.Repeat("n", 300), "ключ/値/🔑", "\xff", "CON", "nul.txt", "name..", "name  ",
	".git", ".x.json.tmp-1", "a~b", "a\nb", `..\..\x`,
}

// TestBadNames records and replays an entry under every bad name, on a real
// directory: each replays its own value, every file lies inside the store,
// and nothing is written beside it.
func TestBadNames(t *testing.T) {
	clearAccess(t)
	top := t.TempDir()
	dir := filepath.Join(top, "store")
	beside := filepath.Join(top, "beside")
	assert.NilError(t, os.MkdirAll(beside, 0o755))
	for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadOnly} {
		for _, name := range badNames {
			ft := &fakeT{name: "TestBad"}
			// Quoted: JSON would replace invalid UTF-8 in a string, which
			// the round-trip check rightly refuses to record.
			value := "value of " + strconv.Quote(name)
			got := Memo(ft, name, func() (string, error) { return value, nil }, WithDir(dir), WithAccess(access))
			assert.DeepEqual(t, ft.failures(), []string(nil))
			assert.Equal(t, got, value, "access %s, name %q", access, name)
			ft = &fakeT{name: "TestBad"}
			Golden(ft, name, "golden "+name, WithDir(dir), WithAccess(access))
			assert.DeepEqual(t, ft.failures(), []string(nil))
		}
	}
	files := 0
	assert.NilError(t, filepath.Walk(top, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Name() == cache.StoreMarker {
			return err
		}
		files++
		assert.Assert(t, strings.HasPrefix(p, dir+string(filepath.Separator)), "written outside the store: %s", p)
		return nil
	}))
	assert.Equal(t, files, 2*len(badNames), "two names share a file")

	ft := &fakeT{name: "TestBad"}
	Golden(ft, "", "x", WithDir(dir))
	assert.DeepEqual(t, ft.errors, []string{"pecatest: Golden of TestBad: the name of the entry is empty"})
}

// TestBadFixtures covers fixture files that are not what Memo expects:
// recorded again with rew (and the log says so), a failure naming the file
// without e, and never a panic or a write beside the store.
func TestBadFixtures(t *testing.T) {
	gobBytes, err := cache.Gob.Marshal(dataset{Name: "x"})
	assert.NilError(t, err)
	const path = "testdata/.pecapiku/TestBad/entry.json"
	for _, tc := range []struct {
		name    string
		content string
		dir     bool // a directory where the file should be
		rew, r  string
	}{
		{name: "empty", content: "", rew: "cannot be decoded (the file is empty); computing TestBad/entry again", r: path + " cannot be decoded with the json codec: the file is empty"},
		{name: "truncated", content: `{"Name": "x`, rew: "cannot be decoded (unexpected EOF at byte 11 (at /Name))", r: "cannot be decoded with the json codec: unexpected EOF at byte 11 (at /Name)"},
		{name: "another codec", content: string(gobBytes), rew: "cannot be decoded (invalid character", r: "cannot be decoded with the json codec: invalid character"},
		{name: "another type", content: `[1, 2]`, rew: "cannot be decoded (at the top level: cannot decode a JSON array into pecatest.dataset)", r: "at the top level: cannot decode a JSON array into pecatest.dataset"},
		{name: "unknown field", content: `{"Title": "x"}`, rew: `cannot be decoded (at /Title: pecatest.dataset has no field of that name`, r: `at /Title: pecatest.dataset has no field of that name`},
		{name: "directory", dir: true, rew: "fs: read " + path + ": is a directory, not a file", r: "fs: read " + path + ": is a directory, not a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadOnly} {
				clearAccess(t)
				fsys := afero.NewMemMapFs()
				if tc.dir {
					assert.NilError(t, fsys.MkdirAll(path, 0o755))
				} else {
					assert.NilError(t, afero.WriteFile(fsys, path, []byte(tc.content), 0o644))
				}
				ft := &fakeT{name: "TestBad"}
				got := Memo(ft, "entry", func() (dataset, error) { return dataset{Name: "fresh"}, nil }, WithFs(fsys), WithAccess(access))
				messages := strings.Join(append(ft.logs, ft.failures()...), "\n")
				want := tc.r
				if access == cache.ReadExecuteWrite {
					want = tc.rew
				}
				assert.Assert(t, strings.Contains(messages, want), "%s: %q\ndoes not contain\n%q", access, messages, want)
				if access == cache.ReadExecuteWrite && !tc.dir {
					assert.Equal(t, got.Name, "fresh")
					assert.DeepEqual(t, ft.failures(), []string(nil))
					content, err := afero.ReadFile(fsys, path)
					assert.NilError(t, err)
					assert.Assert(t, strings.Contains(string(content), `"fresh"`), "not recorded again: %q", content)
				} else {
					assert.Equal(t, len(ft.fatals), 1, "%s: %q", access, ft.fatals)
				}
			}
		})
	}
}

// TestBadAccessStrings sets PECAPIKU_ACCESS to every kind of malformed value:
// the first Memo fails, naming the variable and listing the valid forms.
func TestBadAccessStrings(t *testing.T) {
	for _, s := range []string{"x", "rw", "w", "rr", "rewe", "REW", " r", "r\n", "r,e", "read", "\xff", "ré", "rwe "} {
		t.Run(s, func(t *testing.T) {
			clearAccess(t)
			t.Setenv(cache.EnvAccess, s)
			ft := &fakeT{name: "TestAccess"}
			Memo(ft, "x", func() (int, error) { panic("must not run") }, WithFs(afero.NewMemMapFs()))
			assert.Equal(t, len(ft.fatals), 1)
			assert.Assert(t, strings.HasPrefix(ft.fatals[0], "pecatest: Memo of TestAccess/x: PECAPIKU_ACCESS="+strconv.Quote(s)+": cache: invalid access "), ft.fatals[0])
			assert.Assert(t, strings.Contains(ft.fatals[0], `valid access is "rew"`), ft.fatals[0])
			assert.Assert(t, !strings.ContainsAny(ft.fatals[0], "\n\r"), "a raw newline in %q", ft.fatals[0])

			// The flag does not hide an invalid variable.
			*theFlag = accessFlag{set: true, access: cache.ReadExecuteWrite}
			ft = &fakeT{name: "TestAccess"}
			Memo(ft, "x", func() (int, error) { panic("must not run") }, WithFs(afero.NewMemMapFs()))
			assert.Equal(t, len(ft.fatals), 1, "an invalid %s is ignored when the flag is set", cache.EnvAccess)
			assert.Assert(t, strings.Contains(ft.fatals[0], "PECAPIKU_ACCESS="+strconv.Quote(s)+": cache: invalid access "), ft.fatals[0])
		})
	}
}

// TestGoldenCorrupt covers a recording that cannot be decoded: a Golden is
// an assertion, so it fails, naming the file and the command that records
// it again, under every access that reads it; only ew records it again.
func TestGoldenCorrupt(t *testing.T) {
	const path = "testdata/.pecapiku/TestBad/count.json"
	failure := "pecatest: TestBad/count: " + path + " cannot be decoded with the json codec: unexpected EOF at byte 4.\n" +
		`Record it again by giving pecatest.WithAccess access "ew" and running: go test -run '^TestBad$' ./pecatest`
	for _, tc := range []struct {
		access       cache.Access
		logs, errors []string
		file         string
	}{
		{cache.ReadExecuteWrite, nil, []string{failure}, "[1, "},
		{cache.ReadExecute, nil, []string{failure}, "[1, "},
		{cache.ReadOnly, nil, []string{failure}, "[1, "},
		{cache.Regenerate, []string{"pecatest: recorded TestBad/count in " + path}, nil, "5\n"},
	} {
		t.Run(tc.access.String(), func(t *testing.T) {
			clearAccess(t)
			fsys := afero.NewMemMapFs()
			assert.NilError(t, afero.WriteFile(fsys, path, []byte("[1, "), 0o644))
			ft := &fakeT{name: "TestBad"}
			Golden(ft, "count", 5, WithFs(fsys), WithAccess(tc.access))
			assert.DeepEqual(t, ft.logs, tc.logs)
			assert.DeepEqual(t, ft.errors, tc.errors)
			content, err := afero.ReadFile(fsys, path)
			assert.NilError(t, err)
			assert.Equal(t, string(content), tc.file)
		})
	}
}
