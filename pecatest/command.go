package pecatest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/remote"
)

// fixCommand returns the go test command that runs the test named testName
// again with access a, in the form that wins over the access in force: the
// environment variable, unless the access came from the flag.
func fixCommand(testName string, a cache.Access, src source) string {
	run := goTest() + " -run " + shellQuote(runPattern(testName)) + " " + packageDir()
	if src == fromFlag {
		return run + " -" + FlagName + "=" + a.String()
	}
	return cache.EnvAccess + "=" + a.String() + " " + run
}

// howTo returns the last line of a failure message, starting with verb
// ("Record it"): what to run, with access a, to fix it; or, when the access
// is fixed in the test's code, what to change.
func howTo(verb, testName string, a cache.Access, src source) string {
	if src == fromOption {
		drop := ""
		if a == cache.ReadExecuteWrite {
			drop = " (or dropping the option)" // rew is the default on a developer's machine
		}
		return fmt.Sprintf("%s by giving pecatest.WithAccess access %q%s and running: %s -run %s %s",
			verb, a, drop, goTest(), shellQuote(runPattern(testName)), packageDir())
	}
	return verb + " with: " + fixCommand(testName, a, src)
}

// runPattern returns the -run pattern that selects exactly the test or
// subtest named name: each level anchored and quoted, "^TestA$/^case_1$".
func runPattern(name string) string {
	levels := strings.Split(name, "/")
	for i, l := range levels {
		levels[i] = "^" + regexp.QuoteMeta(l) + "$"
	}
	return strings.Join(levels, "/")
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// packageDir returns the directory of the package under test as go test
// takes it from the module root: "./report", or "." at the root (see
// startDir); without a go.mod above it, ".".
func packageDir() string {
	if startDirErr != nil {
		return "."
	}
	root, _, ok := remote.Module(startDir)
	if !ok {
		return "."
	}
	rel, err := filepath.Rel(root, startDir)
	if err != nil || rel == "." {
		return "."
	}
	return "./" + filepath.ToSlash(rel)
}
