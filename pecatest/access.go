package pecatest

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/gkampitakis/ciinfo"

	"github.com/pecapiku/pecapiku/cache"
)

// FlagName is the name of the test flag that sets the access of every Memo
// and Golden call without an access option: go test -pecapiku.access=ew.
const FlagName = "pecapiku.access"

// EnvCI is the environment variable that most CI services set. When it
// holds a true value (as strconv.ParseBool reads it: 1, t, true, ...) the
// run is on CI; when it holds a false one (0, false, ...), it is not,
// whatever else the environment says. Otherwise the run is on CI when
// github.com/gkampitakis/ciinfo recognises the service from the variables
// it sets: GitHub Actions, GitLab CI, Jenkins, Azure Pipelines, TeamCity,
// Buildkite, CircleCI, Bitbucket Pipelines, AWS CodeBuild, Google Cloud
// Build, Travis CI, Drone, Woodpecker, Gitea Actions and some forty more
// (docs/review.md has the list). On CI the access defaults to "r".
const EnvCI = "CI"

// onCI reports whether the run is on CI, and the reason, for messages:
// "CI=true" or the name of the service.
func onCI() (bool, string) {
	if v := os.Getenv(EnvCI); v != "" {
		if on, err := strconv.ParseBool(v); err == nil {
			return on, EnvCI + "=" + v
		}
	}
	// ciinfo reads the environment once, when the process starts; the
	// variables of the services do not change under a test binary.
	if ciinfo.Name != "" {
		return true, ciinfo.Name + " was detected"
	}
	return false, ""
}

// accessFlag is the value of the -pecapiku.access flag. It validates the
// letters when the flag is parsed, so a bad value fails the test binary at
// once with the valid forms listed.
type accessFlag struct {
	set    bool
	access cache.Access
}

func (f *accessFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return f.access.String()
}

func (f *accessFlag) Set(s string) error {
	a, err := cache.ParseAccess(s)
	if err != nil {
		return err
	}
	f.access, f.set = a, true
	return nil
}

var theFlag = new(accessFlag)

func init() { registerFlag() }

// registerFlag defines -pecapiku.access on the default flag set. Another copy
// of this package (a vendored one, say) may have defined it first; flag.Var
// would panic on a second definition, so then that one's value is read
// instead (see flagAccess).
func registerFlag() {
	if flag.Lookup(FlagName) == nil {
		flag.Var(theFlag, FlagName, "access letters for pecapiku fixtures: r read, e execute, w write (rew, re, r, ew or e); overrides "+cache.EnvAccess)
	}
}

// source says where the access in force came from, for messages.
type source int

const (
	fromDefault source = iota
	fromOption
	fromFlag
	fromEnv
	fromCI
)

// describe returns how a message names the origin of access a.
func (s source) describe(a cache.Access) string {
	switch s {
	case fromOption:
		return fmt.Sprintf("access %q (set by pecatest.WithAccess in the test)", a)
	case fromFlag:
		return fmt.Sprintf("access %q (from -%s)", a, FlagName)
	case fromEnv:
		return fmt.Sprintf("access %q (from %s)", a, cache.EnvAccess)
	case fromCI:
		_, why := onCI()
		return fmt.Sprintf("access %q (the default on CI, since %s)", a, why)
	}
	return fmt.Sprintf("access %q", a)
}

// resolveAccess returns the access in force: the option, else the flag, else
// PECAPIKU_ACCESS, else "r" on CI, else "rew". An invalid PECAPIKU_ACCESS
// is an error even when the option or the flag wins over it. The environment is read on
// every call, with os.Getenv, so that go test's result cache keys on it.
func resolveAccess(option cache.Access) (cache.Access, source, error) {
	// An invalid variable is an error whatever wins over it: a typo that
	// takes effect only once the flag or the option is dropped would
	// surprise.
	env, envSet, envErr := cache.AccessFromEnv()
	if envErr != nil {
		return 0, fromEnv, envErr
	}
	if option != 0 {
		if !option.Valid() {
			return 0, fromOption, fmt.Errorf("pecatest.WithAccess(%s): %w", option, cache.ErrInvalidAccess)
		}
		return option, fromOption, nil
	}
	if a, ok, err := flagAccess(); err != nil || ok {
		return a, fromFlag, err
	}
	if envSet {
		return env, fromEnv, nil
	}
	if ci, _ := onCI(); ci {
		return cache.ReadOnly, fromCI, nil
	}
	return cache.ReadExecuteWrite, fromDefault, nil
}

// flagAccess returns the access given with -pecapiku.access, if any.
func flagAccess() (cache.Access, bool, error) {
	f := flag.Lookup(FlagName)
	if f == nil {
		return 0, false, nil
	}
	if ours, ok := f.Value.(*accessFlag); ok {
		return ours.access, ours.set, nil
	}
	s := f.Value.String()
	if s == "" {
		return 0, false, nil
	}
	a, err := cache.ParseAccess(s)
	if err != nil {
		return 0, false, fmt.Errorf("-%s=%q: %w", FlagName, s, err)
	}
	return a, true, nil
}
