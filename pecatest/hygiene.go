package pecatest

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// Environment variables and flags of fixture hygiene.
const (
	// EnvVerify, when true, makes Memo check recorded fixtures for drift:
	// see [Memo]. The flag -pecapiku.verify does the same.
	EnvVerify = "PECAPIKU_VERIFY"
	// EnvPrune, when true, makes [Run] delete the fixtures no test used.
	// The flag -pecapiku.prune does the same.
	EnvPrune = "PECAPIKU_PRUNE"
	// EnvUsed names a file to which every Memo and Golden call on the real
	// filesystem appends the store and the entry it used, one
	// "store\t<dir>" and one "entry\t<file>" line with absolute paths, so
	// that a tool running go test (the pecapiku command's prune) can tell
	// the fixtures in use from the orphans. A call on the shared store that
	// PECAPIKU_STORE names writes the same lines with the URLs of the store
	// and the entry, the variable's location (without its query) followed
	// by their paths: "entry\ts3://bucket/prefix/github.com/acme/app/report/testdata/.pecapiku/TestReport/x.json".
	EnvUsed = "PECAPIKU_USED"
)

const (
	verifyFlagName = "pecapiku.verify"
	pruneFlagName  = "pecapiku.prune"
)

func init() {
	if flag.Lookup(verifyFlagName) == nil {
		flag.Bool(verifyFlagName, false, "check recorded fixtures for drift: execute each Memo's function and compare with the recording; same as "+EnvVerify+"=1")
	}
	if flag.Lookup(pruneFlagName) == nil {
		flag.Bool(pruneFlagName, false, "with pecatest.Run in TestMain, delete the fixtures no test used after a full, passing run; same as "+EnvPrune+"=1")
	}
}

// switchOn reports whether the boolean flag name or the environment variable
// env is set to a true value.
func switchOn(name, env string) bool {
	if f := flag.Lookup(name); f != nil {
		if on, err := strconv.ParseBool(f.Value.String()); err == nil && on {
			return true
		}
	}
	on, err := strconv.ParseBool(os.Getenv(env))
	return err == nil && on
}

// usage is what the Memo and Golden calls of this test binary used: on the
// real filesystem, absolute store directories and entry files; on the
// shared store of PECAPIKU_STORE, stores and entries by URL.
var usage = struct {
	sync.Mutex
	stores  map[string]bool        // on the real filesystem
	remote  map[string]sharedStore // on a shared store, by URL
	entries map[string]bool        // absolute files and URLs
}{stores: map[string]bool{}, remote: map[string]sharedStore{}, entries: map[string]bool{}}

// runRecords is set by [Run], whose report needs the record of usage.
var runRecords atomic.Bool

// sharedStore is a store on the shared store that PECAPIKU_STORE names.
type sharedStore struct {
	fsys     afero.Fs
	dir      string // the store's directory on fsys
	location string // what names a path on fsys: "s3://bucket/prefix/"
}

// url returns the URL of path on the shared store.
func (s sharedStore) url(path string) string { return s.location + filepath.ToSlash(path) }

// track records that c uses its entry, in this process and in the file
// named by PECAPIKU_USED. It tracks the entries on the real filesystem and,
// by URL, those on the shared store that location names ("" for none);
// entries on other filesystems (WithFs) cannot be pruned and are not
// tracked.
//
// Nothing reads the record unless [Run] runs the tests or PECAPIKU_USED
// is set; otherwise nothing is recorded: finding the entry's absolute path
// asks the system for the working directory, a fifth of what Memo adds to
// replaying a small fixture (issue 6's profile).
func (c *call) track(location string) {
	usedFile := os.Getenv(EnvUsed)
	if usedFile == "" && !runRecords.Load() {
		return
	}
	var store, entry string
	var shared *sharedStore
	switch {
	case c.set.fsys == osFs:
		var err1, err2 error
		store, err1 = c.abs(c.set.dir)
		entry, err2 = c.abs(c.path)
		if err1 != nil || err2 != nil {
			return
		}
	case location != "":
		shared = &sharedStore{fsys: c.set.fsys, dir: c.set.dir, location: location}
		store, entry = shared.url(c.set.dir), shared.url(c.path)
	default:
		return
	}
	usage.Lock()
	seen := usage.entries[entry]
	if shared != nil {
		usage.remote[store] = *shared
	} else {
		usage.stores[store] = true
	}
	usage.entries[entry] = true
	usage.Unlock()
	if seen {
		return
	}
	if usedFile != "" {
		if err := appendLine(usedFile, "store\t"+store+"\nentry\t"+entry+"\n"); err != nil {
			c.t.Errorf("pecatest: recording the use of %s in %s=%s: %v", c.path, EnvUsed, usedFile, err)
		}
	}
}

// appendLine appends s to the file name in one write, which O_APPEND keeps
// whole when several test binaries append at once.
func appendLine(name, s string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Run runs the tests of m and returns the exit code to pass to os.Exit:
//
//	func TestMain(m *testing.M) { os.Exit(pecatest.Run(m)) }
//
// After a run that passed and ran every test, it reports on standard output
// the fixtures in the package's stores (testdata/.pecapiku, and each
// directory given with [WithDir]) that no Memo or Golden call used, and the
// temporary files interrupted writes left there. With PECAPIKU_PRUNE=1 or
// -pecapiku.prune it deletes them. When PECAPIKU_STORE names a shared store,
// the package's stores on it are the ones checked (testdata/.pecapiku there,
// not on disk), by URL, and the locks of entries that stopped processes left
// there go too (see [cache.Store.StaleLocks]). A run filtered with -run, -skip or -short
// is not checked, since the tests it left out would look unused; Run says so.
//
// A test that skips itself (t.Skip) before calling Memo looks, to Run, like
// a test that does not use its fixtures: prune where every test runs.
func Run(m *testing.M) int {
	runRecords.Store(true)
	code := m.Run()
	if code != 0 {
		return code
	}
	prune := switchOn(pruneFlagName, EnvPrune)
	if reason := filtered(); reason != "" {
		fmt.Fprintf(os.Stdout, "pecatest: unused fixtures not checked: %s\n", reason)
		return code
	}
	if err := checkUnused(os.Stdout, prune); err != nil {
		fmt.Fprintf(os.Stdout, "pecatest: %v\n", err)
		return 1
	}
	return code
}

// filtered returns why this run did not run every test, or "".
func filtered() string {
	for _, f := range []struct{ name, why string }{
		{"test.run", "the run was filtered with -run"},
		{"test.skip", "the run was filtered with -skip"},
		{"test.list", "tests were listed, not run"},
		{"test.fuzz", "the run was fuzzing"},
	} {
		if fl := flag.Lookup(f.name); fl != nil && fl.Value.String() != "" {
			return f.why
		}
	}
	if fl := flag.Lookup("test.short"); fl != nil && fl.Value.String() == "true" {
		return "-short may have skipped tests"
	}
	return ""
}

// checkUnused reports, or with prune deletes, the entries and leftovers of
// the stores this process used (and of DefaultDir) that no call used, and
// the stale locks of those on a shared store. DefaultDir is on the shared
// store when PECAPIKU_STORE names one, since that is where the calls that
// use it put their entries. A shared store that cannot be opened or reached
// is not checked, and a line says so.
func checkUnused(w io.Writer, prune bool) error {
	usage.Lock()
	stores := map[string]bool{}
	for s := range usage.stores {
		stores[s] = true
	}
	shared := map[string]sharedStore{}
	for url, s := range usage.remote {
		shared[url] = s
	}
	used := map[string]bool{}
	for e := range usage.entries {
		used[e] = true
	}
	usage.Unlock()
	fsys, dir, location, err := storeFs(DefaultDir)
	switch {
	case err != nil:
		// No call could have used it either.
		fmt.Fprintf(w, "pecatest: unused fixtures not checked in %s: %v\n", cache.EnvStore, err)
	case location != "":
		s := sharedStore{fsys: fsys, dir: dir, location: location}
		shared[s.url(dir)] = s
	default:
		if def, err := filepath.Abs(DefaultDir); err == nil {
			stores[def] = true
		}
	}

	var unused []string
	for _, dir := range outermost(stores, string(filepath.Separator)) {
		found, err := unusedIn(dir, used, prune)
		unused = append(unused, found...)
		if err != nil {
			return err
		}
	}
	for _, url := range outermost(shared, "/") {
		s := shared[url]
		found, err := unusedOn(s.fsys, s.dir, s.location, used, prune)
		unused = append(unused, found...)
		if errors.Is(err, cache.ErrUnavailable) {
			fmt.Fprintf(w, "pecatest: unused fixtures not checked in %s: %v\n", url, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	if len(unused) == 0 {
		return nil
	}
	var b strings.Builder
	files, were := "fixture files", "were"
	if len(unused) == 1 {
		files, were = "fixture file", "was"
	}
	if prune {
		fmt.Fprintf(&b, "pecatest: removed %d %s that no test used:\n", len(unused), files)
	} else {
		fmt.Fprintf(&b, "pecatest: %d %s %s used by no test:\n", len(unused), files, were)
	}
	for _, p := range unused {
		fmt.Fprintf(&b, "\t%s\n", relative(p))
	}
	if !prune {
		fmt.Fprintf(&b, "Remove them with: %s=1 %s %s\n", EnvPrune, goTest(), packageDir())
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// outermost returns the keys of stores in order, without those inside
// another (a store inside another is listed with it); sep separates the
// levels of their names.
func outermost[V any](stores map[string]V, sep string) []string {
	dirs := make([]string, 0, len(stores))
	for d := range stores {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	var outer []string
	for _, d := range dirs {
		inside := false
		for _, o := range outer {
			inside = inside || strings.HasPrefix(d, o+sep)
		}
		if !inside {
			outer = append(outer, d)
		}
	}
	return outer
}

// unusedIn returns the entries of the store at dir that are not in used, and
// its leftovers; with prune it removes them, returning those it removed.
func unusedIn(dir string, used map[string]bool, prune bool) ([]string, error) {
	return unusedOn(osFs, dir, "", used, prune)
}

// unusedOn is unusedIn for the store at dir on fsys, whose files are named
// by location followed by their paths when location is not "" (a shared
// store), and by their paths otherwise; it adds the store's stale locks
// (see [cache.Store.StaleLocks]).
func unusedOn(fsys afero.Fs, dir, location string, used map[string]bool, prune bool) ([]string, error) {
	access := cache.ReadOnly
	if prune {
		access = cache.ReadExecuteWrite
	}
	store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(access))
	if err != nil {
		return nil, err
	}
	name := func(path string) string {
		if location == "" {
			return path
		}
		return location + filepath.ToSlash(path)
	}
	entries, err := store.List()
	if err != nil {
		return nil, err
	}
	var found []string
	for _, e := range entries {
		if e.Codec != nil && !used[name(e.Path)] {
			found = append(found, e.Path)
		}
	}
	leftovers, err := store.Leftovers()
	if err != nil {
		return nil, err
	}
	found = append(found, leftovers...)
	locks, err := store.StaleLocks()
	if err != nil {
		return nil, err
	}
	found = append(found, locks...)
	names := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = name(p)
		}
		return out
	}
	if !prune {
		return names(found), nil
	}
	for i, p := range found {
		if err := store.Remove(p); err != nil {
			return names(found[:i]), err
		}
	}
	return names(found), nil
}

// relative returns path relative to the working directory when it lies
// below it; a URL as it is.
func relative(path string) string {
	if strings.Contains(path, "://") {
		return path
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && filepath.IsLocal(rel) {
			return filepath.ToSlash(rel)
		}
	}
	return path
}
