package s3_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gotest.tools/v3/assert"
	is "gotest.tools/v3/assert/cmp"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/cli"
	"github.com/pecapiku/pecapiku/s3"
)

// pecapiku runs the command of s3/cmd/pecapiku in this process, in the
// working directory of the test, and returns its exit status and output.
func pecapiku(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = cli.Main(args, &out, &errOut)
	return status, out.String(), errOut.String()
}

// matches checks that text matches the regular expression pattern.
func matches(t *testing.T, text, pattern string) {
	t.Helper()
	assert.Assert(t, regexp.MustCompile(pattern).MatchString(text), "%q does not match\n%s", text, pattern)
}

// TestCommandOnBucket runs ls, verify, show and rm on a bucket: by URL,
// and, with PECAPIKU_STORE set and no PATH, on the stores of the module of
// the working directory there.
func TestCommandOnBucket(t *testing.T) {
	bucket := testBucket(t)
	prefix := testPrefix(t)
	copyDir := t.TempDir()
	t.Setenv(cache.EnvStore, "s3://"+bucket+"/"+prefix+"?local="+copyDir)
	client, _ := newClient(t, nil)
	fsys, err := s3.New(bucket, prefix, s3.WithClient(client))
	assert.NilError(t, err)
	const report = "example.com/weather/report/testdata/.pecapiku"
	for name, content := range map[string]string{
		report + "/TestReport/stations.json":                         `["Bergen", "Dakar"]` + "\n",
		report + "/TestReport/count.json":                            "1 2\n",
		report + "/TestOld/banner.raw":                               "hello\n",
		"example.com/weather/testdata/.pecapiku/shared.json":         "{}\n",
		"example.com/weather/nested/testdata/.pecapiku/x.json":       "1\n", // a nested module's
		"example.com/weather/report/.pecapiku/outside-testdata.json": "1\n",
		"example.com/other/testdata/.pecapiku/x.json":                "1\n",  // another module's
		"example.com/weather/notes.json":                             "{}\n", // in no store
	} {
		putObject(t, fsys, name, []byte(content))
	}
	checkout := t.TempDir()
	for name, content := range map[string]string{
		"go.mod":        "module example.com/weather\n",
		"nested/go.mod": "module example.com/weather/nested\n",
		"report/r.go":   "package report\n",
	} {
		assert.NilError(t, os.MkdirAll(filepath.Join(checkout, filepath.Dir(name)), 0o755))
		assert.NilError(t, os.WriteFile(filepath.Join(checkout, name), []byte(content), 0o644))
	}
	t.Chdir(filepath.Join(checkout, "report"))
	url := "s3://" + bucket + "/" + prefix + "/"

	t.Run("ls without PATH lists the module's stores on the bucket", func(t *testing.T) {
		status, stdout, stderr := pecapiku(t, "ls")
		assert.Equal(t, status, 0, stderr)
		matches(t, stdout, `^`+regexp.QuoteMeta(url+report)+`
  KEY +CODEC +SIZE +AGE
  TestOld/banner +raw +6 B +\d+s
  TestReport/count +json +4 B +\d+s
  TestReport/stations +json +20 B +\d+s
  3 entries +30 B

`+regexp.QuoteMeta(url+"example.com/weather/testdata/.pecapiku")+`
  KEY +CODEC +SIZE +AGE
  shared +json +3 B +\d+s
  1 entry +3 B

2 stores, 4 entries, 33 B
$`)

		status, stdout, stderr = pecapiku(t, "ls", "--json", url+report)
		assert.Equal(t, status, 0, stderr)
		var out struct {
			Stores []struct {
				Dir     string
				Entries []struct {
					Key, Path string
					Size      int64
				}
			}
		}
		assert.NilError(t, json.Unmarshal([]byte(stdout), &out))
		assert.Equal(t, len(out.Stores), 1)
		assert.Equal(t, out.Stores[0].Dir, url+report)
		assert.Equal(t, len(out.Stores[0].Entries), 3)
		assert.Equal(t, out.Stores[0].Entries[2].Key, "TestReport/stations")
		assert.Equal(t, out.Stores[0].Entries[2].Path, url+report+"/TestReport/stations.json")
		assert.Equal(t, out.Stores[0].Entries[2].Size, int64(20))
	})

	t.Run("verify reports the corrupt entry by URL", func(t *testing.T) {
		status, stdout, stderr := pecapiku(t, "verify")
		assert.Equal(t, status, 1, stderr)
		assert.Equal(t, stderr, "")
		matches(t, stdout, `^`+regexp.QuoteMeta(url+report+"/TestReport/count.json")+`: corrupt: .*
FAIL  `+regexp.QuoteMeta(url+report)+`  3 entries, 1 problem
ok    `+regexp.QuoteMeta(url+"example.com/weather/testdata/.pecapiku")+`  1 entry
$`)
	})

	t.Run("a URL outside PECAPIKU_STORE, with its own settings", func(t *testing.T) {
		status, stdout, stderr := pecapiku(t, "verify", "s3://"+bucket+"/"+prefix+"/example.com/other?local=off")
		assert.Equal(t, status, 0, stderr)
		assert.Equal(t, stdout, "ok    s3://"+bucket+"/"+prefix+"/example.com/other/testdata/.pecapiku  1 entry\n")
	})

	t.Run("show prints an entry by URL", func(t *testing.T) {
		status, stdout, stderr := pecapiku(t, "show", url+report+"/TestReport/stations.json")
		assert.Equal(t, status, 0, stderr)
		assert.Equal(t, stdout, `["Bergen", "Dakar"]`+"\n")
	})

	t.Run("rm removes from the bucket and from the local copy", func(t *testing.T) {
		copied, err := filepath.Glob(filepath.Join(copyDir, filepath.FromSlash(report), "TestReport", "stations.json@*"))
		assert.NilError(t, err)
		assert.Assert(t, is.Len(copied, 1), "show read it through the local copy of PECAPIKU_STORE")

		status, _, stderr := pecapiku(t, "rm", url+report+"/TestReport/stations.json", url+report+"/TestReport")
		assert.Equal(t, status, 1)
		assert.Equal(t, stderr, "pecapiku: "+url+report+"/TestReport: is a directory; rm removes entries, one file each\n"+
			"pecapiku: nothing removed, since 1 argument was refused\n")
		status, _, stderr = pecapiku(t, "rm", url+"example.com/weather/notes.json")
		assert.Equal(t, status, 1)
		assert.Equal(t, stderr, "pecapiku: "+url+"example.com/weather/notes.json: not inside a store (a directory named .pecapiku, or one given with -store)\n"+
			"pecapiku: nothing removed, since 1 argument was refused\n")
		_, err = getObject(t, fsys, "example.com/weather/notes.json")
		assert.NilError(t, err)

		status, stdout, stderr := pecapiku(t, "rm", url+report+"/TestReport/stations.json", url+report+"/TestOld/banner.raw")
		assert.Equal(t, status, 0, stderr)
		assert.Equal(t, stdout, "removed "+url+report+"/TestReport/stations.json\nremoved "+url+report+"/TestOld/banner.raw\n")
		_, err = getObject(t, fsys, report+"/TestReport/stations.json")
		assert.ErrorContains(t, err, "NoSuchKey")
		_, err = os.Stat(copied[0])
		assert.Assert(t, os.IsNotExist(err), "the local copy is removed too")
	})

	t.Run("a scheme no filesystem is registered for", func(t *testing.T) {
		status, stdout, stderr := pecapiku(t, "ls", "gs://"+bucket+"/x")
		assert.Equal(t, status, 1)
		assert.Equal(t, stdout, "")
		assert.Equal(t, stderr, "pecapiku: gs://"+bucket+"/x: cache: store gs://"+bucket+"/: "+
			`no filesystem is registered for the scheme "gs"; the registered schemes are file, s3`+"\n")
	})
}

// pruneTest is the test of the package ./report of goModule's module for
// TestPruneOnBucket: it records a fixture on the bucket with pecatest and
// prunes with pecatest.Run.
const pruneTest = `package report

import (
	"os"
	"testing"

	"github.com/pecapiku/pecapiku/pecatest"
	_ "github.com/pecapiku/pecapiku/s3"
)

func TestMain(m *testing.M) { os.Exit(pecatest.Run(m)) }

func TestNew(t *testing.T) {
	pecatest.Memo(t, "dataset", func() ([]int, error) { return []int{1, 2}, nil })
}

func TestOther(t *testing.T) {}
`

// goModule writes the module example.com/weather, whose package ./report
// has the test file reportTest, requiring the working tree's modules, and
// returns its directory. The go commands that build it work offline, from
// the module cache of this test.
func goModule(t *testing.T, reportTest string) string {
	t.Helper()
	core, err := filepath.Abs("..")
	assert.NilError(t, err)
	dir := t.TempDir()
	var sums []byte
	for _, sum := range []string{filepath.Join(core, "go.sum"), "go.sum"} {
		data, err := os.ReadFile(sum)
		assert.NilError(t, err)
		sums = append(sums, data...)
	}
	for name, content := range map[string]string{
		"go.mod": "module example.com/weather\n\ngo 1.26\n\n" +
			"require (\n\tgithub.com/pecapiku/pecapiku v0.0.0\n\tgithub.com/pecapiku/pecapiku/s3 v0.0.0\n)\n\n" +
			"replace github.com/pecapiku/pecapiku => " + core + "\n\n" +
			"replace github.com/pecapiku/pecapiku/s3 => " + filepath.Join(core, "s3") + "\n",
		"go.sum":                string(sums),
		"report/report_test.go": reportTest,
	} {
		assert.NilError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755))
		assert.NilError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	for name, value := range map[string]string{
		"GOFLAGS": "-mod=mod", "GOPROXY": "off", "GOSUMDB": "off", "GOTOOLCHAIN": "local", "GOWORK": "off",
		cache.EnvAccess: "rew", "PECAPIKU_PRUNE": "", "PECAPIKU_USED": "", "PECAPIKU_VERIFY": "",
	} {
		t.Setenv(name, value)
	}
	return dir
}

// goTest runs go test -count=1 -v with args in the working directory, and
// returns its output.
func goTest(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"test", "-count=1", "-v"}, args...)...)
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "%s", out)
	return string(out)
}

// TestPruneOnBucket renames a test whose fixture is on the bucket, and
// leaves there the lock of a process that stopped, beside the lock of a
// live one: pecapiku prune removes the orphan and the stale lock and keeps
// the rest; a run of pecatest.Run filtered with -run prunes nothing, and a
// full one with PECAPIKU_PRUNE=1 removes the next orphan. The server is the
// test's own, so that it can age the stale lock.
func TestPruneOnBucket(t *testing.T) {
	g, client := privateGateway(t, "prune")
	for name, value := range map[string]string{
		"AWS_ENDPOINT_URL": g.url(), "AWS_ENDPOINT_URL_S3": "", "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": gatewayKey, "AWS_SECRET_ACCESS_KEY": gatewaySecret, "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		t.Setenv(name, value)
	}
	module := goModule(t, pruneTest)
	t.Setenv(cache.EnvStore, "s3://prune/ci?local="+t.TempDir())
	fsys, err := s3.New("prune", "ci", s3.WithClient(client))
	assert.NilError(t, err)
	const store = "example.com/weather/report/testdata/.pecapiku"
	const url = "s3://prune/ci/" + store
	putObject(t, fsys, store+"/TestOld/dataset.json", []byte("[1, 2]\n"))
	putObject(t, fsys, store+"/TestOld/.dataset.json.lock", []byte("left by a process that stopped"))
	g.age(t, "prune", fsys.Key(store+"/TestOld/.dataset.json.lock"), time.Hour)
	unlock, err := fsys.LockEntry(store + "/TestNew/computing.json")
	assert.NilError(t, err)
	defer unlock()
	t.Chdir(module)

	status, stdout, stderr := pecapiku(t, "prune")
	assert.Equal(t, status, 0, "%s%s", stdout, stderr)
	matches(t, stdout, `(?m)^ok\s+example.com/weather/report\s`)
	matches(t, stdout, `(?m)^`+regexp.QuoteMeta(url)+`
  removed TestOld/dataset.json +unused
  removed TestOld/.dataset.json.lock +stale lock of a process that stopped
  2 files, \d+ B
removed 2 files, \d+ B, from 1 store \(1 examined\)
$`)
	assert.DeepEqual(t, keys(t, fsys), []string{
		store + "/TestNew/.computing.json.lock",
		store + "/TestNew/dataset.json",
	})

	status, stdout, stderr = pecapiku(t, "prune")
	assert.Equal(t, status, 0, "%s%s", stdout, stderr)
	matches(t, stdout, `(?m)^nothing to prune: the tests use every entry \(1 entry in 1 store\)$`)

	// pecatest.Run: a filtered run prunes nothing, a full one prunes.
	putObject(t, fsys, store+"/TestGone/x.json", []byte("1\n"))
	t.Setenv("PECAPIKU_PRUNE", "1")
	out := goTest(t, "-run", "TestNew", "./...")
	assert.Assert(t, strings.Contains(out, "pecatest: unused fixtures not checked: the run was filtered with -run\n"), out)
	_, err = getObject(t, fsys, store+"/TestGone/x.json")
	assert.NilError(t, err, "a filtered run pruned")

	out = goTest(t, "./...")
	assert.Assert(t, strings.Contains(out, "pecatest: removed 1 fixture file that no test used:\n\t"+url+"/TestGone/x.json\n"), out)
	assert.DeepEqual(t, keys(t, fsys), []string{
		store + "/TestNew/.computing.json.lock",
		store + "/TestNew/dataset.json",
	})
}

// pecapikuProcess runs the command of s3/cmd/pecapiku in a process of its
// own, as a user runs it, and returns its exit status and output.
func pecapikuProcess(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	argv, err := json.Marshal(args)
	assert.NilError(t, err)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envRole+"=pecapiku", envArgs+"="+string(argv))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if exit, ok := err.(*exec.ExitError); ok {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	assert.NilError(t, err)
	return 0, out.String(), errOut.String()
}

// TestVerifyAndShowReadTheBucket checks that verify and show, on the
// machine that recorded an entry and so holds a good local copy of it, see
// the object as the bucket holds it now: truncated since.
func TestVerifyAndShowReadTheBucket(t *testing.T) {
	bucket := testBucket(t)
	prefix := testPrefix(t)
	copyDir := t.TempDir()
	t.Setenv(cache.EnvStore, "s3://"+bucket+"/"+prefix+"?local="+copyDir)
	url := "s3://" + bucket + "/" + prefix + "/store/.pecapiku"
	fsys, err := cache.OpenURL(os.Getenv(cache.EnvStore))
	assert.NilError(t, err)
	store, err := cache.NewStore("store/.pecapiku", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	assert.NilError(t, store.Write("k", []string{"Bergen", "Dakar"}))

	status, stdout, stderr := pecapikuProcess(t, "verify", url)
	assert.Equal(t, status, 0, stderr)
	assert.Equal(t, stdout, "ok    "+url+"  1 entry\n")

	remote, err := s3.New(bucket, prefix)
	assert.NilError(t, err)
	putObject(t, remote, "store/.pecapiku/k.json", []byte(`["Bergen", "Da`)) // truncated by someone

	status, stdout, _ = pecapikuProcess(t, "verify", url)
	assert.Equal(t, status, 1)
	matches(t, stdout, `^`+regexp.QuoteMeta(url+"/k.json")+`: (corrupt|truncated): .*
FAIL  `+regexp.QuoteMeta(url)+`  1 entry, 1 problem
$`)
	status, stdout, stderr = pecapikuProcess(t, "show", url+"/k.json")
	assert.Equal(t, status, 0, stderr)
	assert.Equal(t, stdout, `["Bergen", "Da`)
}
