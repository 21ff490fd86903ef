package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
	"gotest.tools/v3/fs"

	"github.com/pecapiku/pecapiku/cache"
)

func TestIsURL(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want bool
	}{
		{"s3://bucket/prefix", true},
		{"file:///shared/dir", true},
		{"git+ssh://host/x", true},
		{"testdata/.pecapiku", false},
		{"/abs/path", false},
		{"://nothing", false},
		{"a b://x", false},
		{"1s3://x", false},
		{`C:\dir`, false},
	} {
		assert.Equal(t, isURL(tc.arg), tc.want, tc.arg)
	}
}

// run runs the command in wd and returns its status and outputs.
func run(t *testing.T, wd string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	status := runIn(wd, args, &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

// shared is a shared store on the local disk, named by a file URL, with the
// stores of two packages of module example.com/m, one of a nested module,
// and one outside testdata.
func shared(t *testing.T) (dir *fs.Dir, url string) {
	entry := fs.WithFile("x.json", "1\n")
	dir = fs.NewDir(t, "shared",
		fs.WithDir("example.com", fs.WithDir("m",
			fs.WithDir("testdata", fs.WithDir(".pecapiku", entry)),
			fs.WithDir("report", fs.WithDir("testdata", fs.WithDir(".pecapiku",
				fs.WithDir("TestA", fs.WithFile("a.json", "[1, 2]\n"), fs.WithFile("bad.json", "{")),
				fs.WithFile(".a.json.tmp-1", "{")))),
			fs.WithDir("nested", fs.WithDir("testdata", fs.WithDir(".pecapiku", entry))),
			fs.WithDir("other", fs.WithDir(".pecapiku", entry)))))
	return dir, "file://" + filepath.ToSlash(dir.Path())
}

// checkout is the checkout of module example.com/m, with a nested module.
func checkout(t *testing.T) *fs.Dir {
	return fs.NewDir(t, "module",
		fs.WithFile("go.mod", "module example.com/m\n"),
		fs.WithDir("report"),
		fs.WithDir("testdata", fs.WithDir(".pecapiku", fs.WithFile("local.json", "1\n"))),
		fs.WithDir("nested", fs.WithFile("go.mod", "module example.com/m/nested\n")))
}

func TestURLs(t *testing.T) {
	t.Setenv(cache.EnvStore, "")
	dir, url := shared(t)
	wd := checkout(t).Path()
	report := url + "/example.com/m/report/testdata/.pecapiku"

	status, stdout, stderr := run(t, wd, "ls", url+"/example.com/m/report")
	assert.Equal(t, status, 0, stderr)
	assert.Assert(t, regexp.MustCompile(`^`+regexp.QuoteMeta(report)+`\n  KEY +CODEC +SIZE +AGE\n  TestA/a +json +7 B +\d+s\n  TestA/bad +json +1 B +\d+s\n  2 entries +8 B\n  leftover of an interrupted write: `+regexp.QuoteMeta(report)+`/.a.json.tmp-1\n$`).MatchString(stdout), stdout)

	status, stdout, _ = run(t, wd, "verify", url+"/example.com/m")
	assert.Equal(t, status, 1)
	assert.Equal(t, stdout, "ok    "+url+"/example.com/m/nested/testdata/.pecapiku  1 entry\n"+
		"ok    "+url+"/example.com/m/other/.pecapiku  1 entry\n"+
		report+"/TestA/bad.json: truncated: unexpected EOF at byte 1\n"+
		report+"/.a.json.tmp-1: leftover of an interrupted write; nothing reads it (pecapiku prune removes it)\n"+
		"FAIL  "+report+"  2 entries, 2 problems\n"+
		"ok    "+url+"/example.com/m/testdata/.pecapiku  1 entry\n")

	status, stdout, stderr = run(t, wd, "show", report+"/TestA/a.json")
	assert.Equal(t, status, 0, stderr)
	assert.Equal(t, stdout, "[1, 2]\n")

	status, _, stderr = run(t, wd, "rm", report+"/TestA/a.json", url+"/example.com/m/x.json")
	assert.Equal(t, status, 1)
	assert.Equal(t, stderr, "pecapiku: "+url+"/example.com/m/x.json: no such file or directory\n"+
		"pecapiku: nothing removed, since 1 argument was refused\n")
	status, stdout, stderr = run(t, wd, "rm", report+"/TestA/a.json")
	assert.Equal(t, status, 0, stderr)
	assert.Equal(t, stdout, "removed "+report+"/TestA/a.json\n")
	_, err := os.Stat(dir.Join("example.com", "m", "report", "testdata", ".pecapiku", "TestA", "a.json"))
	assert.Assert(t, os.IsNotExist(err))

	// -store takes URLs too.
	status, stdout, stderr = run(t, wd, "ls", "-store", url+"/example.com/m/report/testdata", "--json")
	assert.Equal(t, status, 0, stderr)
	assert.Assert(t, strings.Contains(stdout, `"dir": "`+url+`/example.com/m/report/testdata"`), stdout)
	status, _, stderr = run(t, wd, "ls", "-store", url+"/nowhere")
	assert.Equal(t, status, 1)
	assert.Equal(t, stderr, "pecapiku: -store "+url+"/nowhere: no such file or directory\n")
}

// TestSharedModuleStores sets PECAPIKU_STORE: without PATH, ls and verify
// take the stores of the module of the working directory on the shared
// store, by the namespace rule, and not those of the nested module, nor
// the local ones.
func TestSharedModuleStores(t *testing.T) {
	_, url := shared(t)
	t.Setenv(cache.EnvStore, url+"?ignored=1")
	wd := checkout(t)
	for _, dir := range []string{wd.Path(), wd.Join("report"), wd.Join("testdata")} {
		status, stdout, stderr := run(t, dir, "verify")
		assert.Equal(t, status, 1, stderr)
		assert.Assert(t, strings.Contains(stdout, "FAIL  "+url+"/example.com/m/report/testdata/.pecapiku  2 entries, 2 problems\n"+
			"ok    "+url+"/example.com/m/testdata/.pecapiku  1 entry\n"), stdout)
		assert.Assert(t, !strings.Contains(stdout, "nested"), stdout)
		assert.Assert(t, !strings.Contains(stdout, "other"), stdout)
		assert.Assert(t, !strings.Contains(stdout, "local"), stdout)
	}

	// A PATH given is a PATH: the local disk.
	status, stdout, stderr := run(t, wd.Path(), "ls", ".")
	assert.Equal(t, status, 0, stderr)
	assert.Assert(t, strings.HasPrefix(stdout, "testdata/.pecapiku\n"), stdout)

	// A module with nothing on the shared store.
	other := fs.NewDir(t, "other", fs.WithFile("go.mod", "module example.com/other\n"))
	status, stdout, _ = run(t, other.Path(), "ls")
	assert.Equal(t, status, 0)
	assert.Equal(t, stdout, "no stores found (a store is a directory named .pecapiku, or one given with -store)\n")
}

// TestUnknownScheme checks the messages for URLs that this program cannot
// open: s3://, which another program opens, and a scheme nobody provides.
func TestUnknownScheme(t *testing.T) {
	t.Setenv(cache.EnvStore, "")
	wd := checkout(t).Path()
	const install = "this pecapiku does not open s3:// URLs; the one that does is installed with: go install github.com/pecapiku/pecapiku/s3/cmd/pecapiku@latest\n"
	for _, args := range [][]string{
		{"ls", "s3://bucket/prefix"},
		{"verify", "-store", "s3://bucket/prefix/cache"},
		{"show", "s3://bucket/prefix/x.json"},
		{"rm", "s3://bucket/prefix/.pecapiku/x.json"},
	} {
		status, _, stderr := run(t, wd, args...)
		assert.Equal(t, status, 1)
		url := args[len(args)-1]
		assert.Assert(t, strings.HasPrefix(stderr, "pecapiku: "), stderr)
		assert.Assert(t, strings.HasSuffix(stderr, url+": "+install), stderr)
	}
	t.Setenv(cache.EnvStore, "s3://bucket/prefix")
	status, _, stderr := run(t, wd, "ls")
	assert.Equal(t, status, 1)
	assert.Equal(t, stderr, "pecapiku: s3://bucket/prefix: "+install)

	status, _, stderr = run(t, wd, "ls", "gs://bucket/prefix")
	assert.Equal(t, status, 1)
	assert.Equal(t, stderr, `pecapiku: gs://bucket/prefix: cache: store gs://bucket/: no filesystem is registered for the scheme "gs"; the registered schemes are file`+"\n")
}

// TestPruneURLs reads the lines that pecatest writes for a shared store,
// and plans the pruning of a store there by URL.
func TestPruneURLs(t *testing.T) {
	t.Setenv(cache.EnvStore, "")
	dir, url := shared(t)
	report := url + "/example.com/m/report/testdata/.pecapiku"
	file := filepath.Join(t.TempDir(), "used.txt")
	lines := "store\t" + report + "\n" +
		"entry\t" + report + "/TestA/a.json\n" +
		"entry\ts3://bucket/prefix/x.json\n"
	assert.NilError(t, os.WriteFile(file, []byte(lines), 0o644))
	uses, err := cache.ReadUses(file)
	assert.NilError(t, err)
	assert.DeepEqual(t, uses.Stores, map[string]bool{report: true})
	entries := uses.Entries
	assert.DeepEqual(t, entries, map[string]bool{report + "/TestA/a.json": true, "s3://bucket/prefix/x.json": true})

	p, err := openURL(report)
	assert.NilError(t, err)
	pl, err := planPrune(p, entries)
	assert.NilError(t, err)
	assert.Equal(t, pl.entries, 2)
	assert.Equal(t, len(pl.unused), 1)
	assert.Equal(t, pl.unused[0].Key, "TestA/bad")
	assert.DeepEqual(t, pl.leftovers, []string{filepath.Join(p.path, ".a.json.tmp-1")})

	var out strings.Builder
	assert.NilError(t, carryOut(&env{stdout: &out, dir: dir.Path()}, []*plan{pl}, false))
	assert.Equal(t, out.String(), report+"\n"+
		"  removed TestA/bad.json  unused\n"+
		"  removed .a.json.tmp-1   leftover of an interrupted write\n"+
		"  2 files, 2 B\n"+
		"removed 2 files, 2 B, from 1 store (1 examined)\n")
	_, err = os.Stat(dir.Join("example.com", "m", "report", "testdata", ".pecapiku", "TestA", "bad.json"))
	assert.Assert(t, os.IsNotExist(err))

	p, err = openURL(url + "/nowhere")
	assert.NilError(t, err)
	pl, err = planPrune(p, entries)
	assert.NilError(t, err)
	assert.Assert(t, pl == nil)
}
