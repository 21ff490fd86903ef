package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"gotest.tools/v3/assert"
	"gotest.tools/v3/fs"

	"github.com/pecapiku/pecapiku/internal/pending"
)

// pendingModule is a module with three recordings and a pending new value
// of each, as tests leave them.
func pendingModule(t *testing.T) *fs.Dir {
	store := fs.WithDir("testdata", fs.WithDir(".pecapiku", fs.WithDir("TestA",
		fs.WithFile("one.raw", "old one\n"),
		fs.WithFile("two.raw", "old two\n"),
		fs.WithFile("three.json", "3\n"))))
	return fs.NewDir(t, "module",
		fs.WithFile("go.mod", "module example.com/m\n"),
		fs.WithDir("report", store),
		fs.WithDir(pending.LocalDir,
			fs.WithFile(".gitignore", "*\n"),
			fs.WithDir("report", fs.WithDir("testdata", fs.WithDir(".pecapiku", fs.WithDir("TestA",
				fs.WithFile("one.raw", "new one\n"),
				fs.WithFile("one.raw.diff", "TestA/one differs from its recording (-recorded +got):\n- old one\n+ new one\n"),
				fs.WithFile("two.raw", "new two\n"),
				fs.WithFile("three.json", "4\n")))))))
}

// TestReviewInTerminal drives review in a terminal, a pseudo-terminal, as a
// person would: it reads what review shows and types an answer to each
// question.
func TestReviewInTerminal(t *testing.T) {
	dir := pendingModule(t)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	done := make(chan int)
	go func() {
		done <- runWith(dir.Path(), []string{"review"}, tty, tty, tty)
		tty.Close()
	}()

	screen := bufio.NewReader(ptmx)
	var seen strings.Builder
	// waitFor reads the screen up to the next question and returns what
	// was shown since the last one.
	waitFor := func(prompt string) string {
		t.Helper()
		var shown strings.Builder
		deadline := time.Now().Add(30 * time.Second)
		for !strings.HasSuffix(shown.String(), prompt) {
			assert.Assert(t, time.Now().Before(deadline), "no %q on the screen:\n%s", prompt, seen.String())
			b, err := screen.ReadByte()
			assert.NilError(t, err, "the screen so far:\n%s", seen.String())
			shown.WriteByte(b)
			seen.WriteByte(b)
		}
		return strings.ReplaceAll(shown.String(), "\r\n", "\n")
	}
	const question = "accept, reject, skip or quit? [a/r/s/q] "
	type step struct{ want, keys string }
	for _, st := range []step{
		{"[1/3] report/testdata/.pecapiku/TestA/one.raw\n  TestA/one differs from its recording (-recorded +got):\n  - old one\n  + new one\n", "a\r"},
		{"accepted: report/testdata/.pecapiku/TestA/one.raw holds the new value\n\n[2/3] report/testdata/.pecapiku/TestA/three.json\n", "x\r"},
		{"\"x\": answer a to accept, r to reject, s to skip or q to quit\n", "r\r"},
		{"rejected: report/testdata/.pecapiku/TestA/three.json is left as it was\n\n[3/3] report/testdata/.pecapiku/TestA/two.raw\n" +
			"  report/testdata/.pecapiku/TestA/two.raw (-recorded +new):\n", "s\r"},
	} {
		shown := waitFor(question)
		// What the terminal echoes of the last answer comes first.
		assert.Assert(t, strings.Contains(shown, st.want), "want %q in:\n%s", st.want, shown)
		_, err := ptmx.Write([]byte(st.keys))
		assert.NilError(t, err)
	}
	var rest strings.Builder
	for !strings.Contains(rest.String(), "left pending") {
		b, err := screen.ReadByte()
		if err != nil {
			break
		}
		rest.WriteByte(b)
	}
	assert.Assert(t, strings.Contains(rest.String(), "1 accepted, 1 rejected, 1 left pending"), rest.String())
	assert.Equal(t, <-done, 0)

	read := func(rel string) string {
		data, err := os.ReadFile(filepath.Join(dir.Path(), filepath.FromSlash(rel)))
		if os.IsNotExist(err) {
			return "(missing)"
		}
		assert.NilError(t, err)
		return string(data)
	}
	assert.Equal(t, read("report/testdata/.pecapiku/TestA/one.raw"), "new one\n")
	assert.Equal(t, read("report/testdata/.pecapiku/TestA/three.json"), "3\n")
	assert.Equal(t, read("report/testdata/.pecapiku/TestA/two.raw"), "old two\n")
	assert.Equal(t, read(pending.LocalDir+"/report/testdata/.pecapiku/TestA/one.raw"), "(missing)")
	assert.Equal(t, read(pending.LocalDir+"/report/testdata/.pecapiku/TestA/three.json"), "(missing)")
	assert.Equal(t, read(pending.LocalDir+"/report/testdata/.pecapiku/TestA/two.raw"), "new two\n")
}
