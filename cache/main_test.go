package cache_test

import (
	"fmt"
	"os"
	"testing"
)

// childEnv names the environment variable that turns the test binary into
// one of the child processes of the crash and multi-process tests: its value
// is the role (see children), and the role's settings come in other
// PECAPIKU_TEST_* variables.
const childEnv = "PECAPIKU_TEST_CHILD"

// children are the roles a re-executed test binary can play.
var children = map[string]func() error{}

// TestMain runs the role named by PECAPIKU_TEST_CHILD when the binary was
// started as a child; otherwise it runs the tests with TMPDIR pointing to a
// directory of their own, so that the lock files of stores on the real disk
// stay out of the machine's temporary directory and every child shares them.
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		run, ok := children[role]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown child role %q\n", role)
			os.Exit(2)
		}
		if err := run(); err != nil {
			fmt.Fprintf(os.Stderr, "child %s: %v\n", role, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	tmp, err := os.MkdirTemp("", "pecapiku-cache-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("TMPDIR", tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}
