package s3_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

// greetingTest is the test of the package ./report of goModule's module
// for TestGoTestCacheCannotHideAChange: an assertion whose recording is on
// the bucket.
const greetingTest = `package report

import (
	"testing"

	"github.com/pecapiku/pecapiku/pecatest"
	_ "github.com/pecapiku/pecapiku/s3"
)

func TestGreeting(t *testing.T) { pecatest.Golden(t, "greeting", "hello\n") }
`

// TestGoTestCacheCannotHideAChange runs go test, as a CI job does, on a
// package whose golden file is on the bucket, before and after the object
// changes there. A run whose result go test may cache fails, and a failure
// is never cached; so every pass is of a run that read the bucket, and the
// runs with -count=1, or GOFLAGS=-count=1, after the change see it and fail.
func TestGoTestCacheCannotHideAChange(t *testing.T) {
	bucket := testBucket(t)
	prefix := testPrefix(t)
	module := goModule(t, greetingTest)
	location := "s3://" + bucket + "/" + prefix
	t.Setenv(cache.EnvStore, location+"?local="+t.TempDir())
	t.Setenv(cache.EnvAccess, "r")
	client, _ := newClient(t, nil)
	fsys, err := s3.New(bucket, prefix, s3.WithClient(client))
	assert.NilError(t, err)
	const golden = "example.com/weather/report/testdata/.pecapiku/TestGreeting/greeting.raw"
	putObject(t, fsys, golden, []byte("hello\n"))
	t.Chdir(module)

	// goTest runs go test with args and GOFLAGS=-mod=mod plus goflags, and
	// reports whether it passed.
	goTest := func(goflags string, args ...string) (passed bool, out string) {
		t.Helper()
		cmd := exec.Command("go", append([]string{"test"}, args...)...)
		cmd.Env = append(os.Environ(), strings.TrimSpace("GOFLAGS=-mod=mod "+goflags))
		output, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return false, string(output)
		}
		assert.NilError(t, err, "%s", output)
		return true, string(output)
	}
	uncached := func(out string) {
		t.Helper()
		assert.Assert(t, !strings.Contains(out, "(cached)"), "go test reused a result:\n%s", out)
	}

	passed, out := goTest("", "./report")
	assert.Assert(t, !passed, "a run whose pass go test may cache passed:\n%s", out)
	assert.Assert(t, strings.Contains(out, "pecatest: Golden of TestGreeting/greeting: it reads the shared store "+location+
		" (PECAPIKU_STORE), which go test's result cache does not see: a cached pass would hide an entry changed there since. "+
		"Run the tests with -count=1, which turns that cache off: go test -count=1 ./report, or set GOFLAGS=-count=1 wherever PECAPIKU_STORE is set"), out)
	uncached(out)

	for _, run := range []struct{ goflags, arg string }{{"", "-count=1"}, {"-count=1", ""}} {
		args := []string{"./report"}
		if run.arg != "" {
			args = []string{run.arg, "./report"}
		}
		passed, out := goTest(run.goflags, args...)
		assert.Assert(t, passed, "GOFLAGS=%s go test %s:\n%s", run.goflags, args, out)
		uncached(out)
	}

	putObject(t, fsys, golden, []byte("bye\n")) // re-recorded by another machine
	for _, run := range []struct{ goflags, arg string }{{"", "-count=1"}, {"-count=1", ""}} {
		args := []string{"./report"}
		if run.arg != "" {
			args = []string{run.arg, "./report"}
		}
		passed, out := goTest(run.goflags, args...)
		assert.Assert(t, !passed, "GOFLAGS=%s go test %s did not see the change:\n%s", run.goflags, args, out)
		assert.Assert(t, strings.Contains(out, "pecatest: TestGreeting/greeting differs from its recording "+location+"/"+
			"example.com/weather/report/testdata/.pecapiku/TestGreeting/greeting.raw (-recorded +got):"), out)
		assert.Assert(t, strings.Contains(out, "-bye"), "the diff shows the new recording:\n%s", out)
		uncached(out)
	}
}
