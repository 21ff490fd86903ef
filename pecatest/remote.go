package pecatest

import (
	"flag"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/remote"
)

// storeFs returns where the entries of a call without [WithFs] live: the
// filesystem, the directory on it, and the text that messages put before a
// path on it ("" for the local disk). A relative dir on the local disk is
// taken from the package directory (see startDir), not from the working
// directory of the moment.
//
// When PECAPIKU_STORE names a shared store (see [cache.EnvStore]) and dir is
// relative, the entries are on that store, in the directory that dir would
// be in a checkout of the module, under the module's path:
// s3://bucket/prefix/github.com/acme/app/report/testdata/.pecapiku/... for
// the package ./report of module github.com/acme/app. Packages and modules
// that share a bucket thus never share an entry by accident. A filesystem
// that is a [cache.StoreIndexer] is told where the store is. An absolute dir
// (a t.TempDir(), say) names a place on this machine and stays local.
func storeFs(dir string) (fsys afero.Fs, storeDir, location string, err error) {
	if filepath.IsAbs(dir) {
		return osFs, dir, "", nil
	}
	fsys, ok, err := cache.FsFromEnv()
	if err != nil || !ok {
		if startDirErr != nil {
			return osFs, dir, "", err
		}
		return osFs, filepath.Join(startDir, dir), "", err
	}
	storeDir = path.Join(moduleNamespace(), filepath.ToSlash(dir))
	if ix, ok := fsys.(cache.StoreIndexer); ok {
		ix.IndexStore(storeDir)
	}
	return fsys, storeDir, remote.Location() + "/", nil
}

// moduleNamespace returns the directory of the package under test on a
// shared store, "github.com/acme/app/report"; see [remote.Namespace].
func moduleNamespace() string {
	if startDirErr != nil {
		return remote.Outside
	}
	return remote.Namespace(startDir)
}

// checkUncached returns an error when a call with access a reads the
// shared store at location (the text storeFs returns, "" for none) in a
// test binary whose passing result go test may cache, and nil otherwise.
//
// go test reuses a passing result while the test binary, its flags, the
// environment variables it read and the files of the module it opened are
// unchanged (go help test). An entry on a shared store is none of these: a
// cached pass would hide an entry changed there since, on this machine or
// any other. So a read of a shared store demands a run whose result is not
// cached: one with -count, which go help test gives as the way to turn the
// cache off. The call fails otherwise, rather than warning, since go test
// shows nothing of a passing package's output without -v, and a failure is
// never cached. A call without r reads nothing there, and is let through.
func checkUncached(location string, a cache.Access) error {
	if location == "" || !a.CanRead() || !resultMayBeCached() {
		return nil
	}
	return fmt.Errorf("it reads the shared store %s (%s), which go test's result cache does not see: "+
		"a cached pass would hide an entry changed there since. Run the tests with -count=1, which turns that cache off: "+
		"go test -count=1 %s, or set GOFLAGS=-count=1 wherever %s is set",
		strings.TrimSuffix(location, "/"), cache.EnvStore, packageDir(), cache.EnvStore)
}

// resultMayBeCached reports whether go test may cache the result of this
// test binary (see mayBeCached). The tests of this package replace it.
var resultMayBeCached = func() bool { return mayBeCached(flag.CommandLine) }

// mayBeCached reports whether go test may cache the result of a test
// binary whose command line flags parsed: whether none of -count, -bench
// and -fuzz was given. go help test keeps them out of its cacheable set, so
// a run with any of them is never cached, and go help testflag shows go
// test rewriting them for the test binary as -test.count, -test.bench and
// -test.fuzz. Other flags prove nothing: go test adds flags of its own that
// it documents nowhere, and a test may set any flag itself.
func mayBeCached(flags *flag.FlagSet) bool {
	cached := true
	flags.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "test.count", "test.bench", "test.fuzz":
			cached = false
		}
	})
	return cached
}

// goTest returns the go test command that messages tell to run: with
// -count=1 when PECAPIKU_STORE names a shared store, since a call that
// reads one fails in a run whose result go test may cache (see
// checkUncached).
func goTest() string {
	if remote.Location() != "" {
		return "go test -count=1"
	}
	return "go test"
}
