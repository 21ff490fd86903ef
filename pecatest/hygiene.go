package pecatest

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
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
	// filesystem appends the store and the entry it used (see
	// [cache.RecordUse]), with absolute paths, so that a tool running go
	// test (the pecapiku command's prune) can tell the fixtures in use
	// from the orphans. A call on the shared store that PECAPIKU_STORE
	// names records the URLs of the store and the entry, the variable's
	// location (without its query) followed by their paths:
	// "s3://bucket/prefix/github.com/acme/app/report/testdata/.pecapiku/TestReport/x.json".
	EnvUsed = cache.EnvUsed
	// EnvUnused says what a full, passing run under [Run] does with the
	// fixtures no test used: "report" them (the default), or "fail" the
	// package, listing them on standard error (the default on CI, see
	// [EnvCI]). The flag -pecapiku.unused does the same.
	EnvUnused = "PECAPIKU_UNUSED"
)

const (
	verifyFlagName = "pecapiku.verify"
	pruneFlagName  = "pecapiku.prune"
	unusedFlagName = "pecapiku.unused"
)

func init() {
	if flag.Lookup(verifyFlagName) == nil {
		flag.Bool(verifyFlagName, false, "check recorded fixtures for drift: execute each Memo's function and compare with the recording; same as "+EnvVerify+"=1")
	}
	if flag.Lookup(unusedFlagName) == nil {
		flag.String(unusedFlagName, "", "with pecatest.Run in TestMain, what a full, passing run does with the fixtures no test used: report or fail (the default on CI); same as "+EnvUnused)
	}
	if flag.Lookup(failOnUpdateFlagName) == nil {
		flag.Bool(failOnUpdateFlagName, false, "with pecatest.Run in TestMain, fail a run that recorded anything new or changed; same as "+EnvFailOnUpdate+"=1")
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
	tests   map[string]bool        // the top-level tests that called Memo or Golden
}{stores: map[string]bool{}, remote: map[string]sharedStore{}, entries: map[string]bool{}, tests: map[string]bool{}}

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
// is set; otherwise nothing is recorded, which spares a replay the work.
func (c *call) track(location string) {
	usedFile := os.Getenv(EnvUsed)
	if usedFile == "" && !runRecords.Load() {
		return
	}
	// The file in which an older version of pecapiku kept the entry is
	// in use too, while the store reads it there.
	files := []string{c.path}
	if c.former != "" {
		files = append(files, c.former)
	}
	for _, file := range files {
		var store, entry string
		var shared *sharedStore
		switch {
		case c.set.fsys == osFs:
			var err1, err2 error
			store, err1 = c.abs(c.set.dir)
			entry, err2 = c.abs(file)
			if err1 != nil || err2 != nil {
				return
			}
		case location != "":
			shared = &sharedStore{fsys: c.set.fsys, dir: c.set.dir, location: location}
			store, entry = shared.url(c.set.dir), shared.url(file)
		default:
			return
		}
		usage.Lock()
		usage.tests[topLevel(c.t.Name())] = true
		seen := usage.entries[entry]
		if shared != nil {
			usage.remote[store] = *shared
		} else {
			usage.stores[store] = true
		}
		usage.entries[entry] = true
		usage.Unlock()
		if seen || usedFile == "" {
			continue
		}
		if err := cache.RecordUse(usedFile, store, entry); err != nil {
			c.t.Errorf("pecatest: recording the use of %s in %s=%s: %v", file, EnvUsed, usedFile, err)
		}
	}
}

// Run runs the tests of m and returns the exit code to pass to os.Exit:
//
//	func TestMain(m *testing.M) { os.Exit(pecatest.Run(m)) }
//
// When the run recorded anything, it ends with a summary on standard
// error: the entries changed, unchanged (not rewritten) and new. With
// PECAPIKU_FAIL_ON_UPDATE=1 or -pecapiku.fail-on-update, a run that changed
// or added a recording fails.
//
// After a run that passed and ran every test, it reports the fixtures in
// the package's stores (testdata/.pecapiku, and each directory given with
// [WithDir]) that no Memo or Golden call used, and the temporary files
// interrupted writes left there. On CI (see [EnvCI]), with
// PECAPIKU_UNUSED=fail or with -pecapiku.unused=fail, it lists them on
// standard error and fails the package, so that go test shows them without
// -v; otherwise it lists them on standard output. With PECAPIKU_PRUNE=1 or
// -pecapiku.prune it deletes them instead. Only stores that are pecapiku's
// own are checked, and only the files it wrote (see package cache, "What a
// store may delete"); a store in a directory pecapiku did not create is
// skipped with a line that says how to mark it. When PECAPIKU_STORE names a
// shared store, the package's stores on it are the ones checked
// (testdata/.pecapiku there, not on disk), by URL, and the locks of entries
// that stopped processes left there go too (see
// [cache.Store.StaleLocks]). A run filtered with -run, -skip or -short is
// not checked, since the tests it left out would look unused; Run says so.
//
// The fixtures of a top-level test of the binary that ran no Memo or
// Golden in the run, one that skipped itself (t.Skip) before reaching
// them, say, are kept and listed as kept: Run finds the tests of the binary
// by running it with -test.list.
func Run(m *testing.M) int {
	runRecords.Store(true)
	code := m.Run()
	if updated := summarize(os.Stderr); updated && switchOn(failOnUpdateFlagName, EnvFailOnUpdate) {
		fmt.Fprintf(os.Stderr, "pecatest: failing, since %s asks a run to change no recording; commit the recordings above, or run without it\n", EnvFailOnUpdate)
		code = 1
	}
	if code != 0 {
		return code
	}
	prune := switchOn(pruneFlagName, EnvPrune)
	if reason := filtered(); reason != "" {
		fmt.Fprintf(os.Stdout, "pecatest: unused fixtures not checked: %s\n", reason)
		return code
	}
	strict, err := unusedFails()
	if err != nil {
		fmt.Fprintf(os.Stderr, "pecatest: %v\n", err)
		return 1
	}
	w := io.Writer(os.Stdout)
	if strict && !prune {
		w = os.Stderr // a passing package's standard output shows only with -v
	}
	unused, err := reportUnused(w, prune)
	if err != nil {
		fmt.Fprintf(w, "pecatest: %v\n", err)
		return 1
	}
	if strict && !prune && unused > 0 {
		fmt.Fprintf(os.Stderr, "pecatest: failing, since unused fixtures fail the run %s\n", strictReason())
		return 1
	}
	return code
}

// unusedFails reports whether unused fixtures fail the run: with
// PECAPIKU_UNUSED=fail or -pecapiku.unused=fail, or on CI unless they say
// "report".
func unusedFails() (bool, error) {
	v := os.Getenv(EnvUnused)
	if f := flag.Lookup(unusedFlagName); f != nil && f.Value.String() != "" {
		v = f.Value.String()
	}
	switch v {
	case "fail":
		return true, nil
	case "report":
		return false, nil
	case "":
		ci, _ := onCI()
		return ci, nil
	}
	return false, fmt.Errorf("%s=%q: want report or fail", EnvUnused, v)
}

// strictReason says why unused fixtures fail the run, for the message.
func strictReason() string {
	if v := os.Getenv(EnvUnused); v == "fail" {
		return "(" + EnvUnused + "=fail)"
	}
	if f := flag.Lookup(unusedFlagName); f != nil && f.Value.String() == "fail" {
		return "(-" + unusedFlagName + "=fail)"
	}
	_, why := onCI()
	return "on CI (" + why + "; " + EnvUnused + "=report only reports them)"
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
	_, err := reportUnused(w, prune)
	return err
}

// reportUnused is checkUnused, and returns the number of unused files it
// reported or removed.
func reportUnused(w io.Writer, prune bool) (int, error) {
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

	var unused, kept, busy []string
	var tests map[string]bool
	listed := false
	testsOnce := func() map[string]bool {
		if !listed {
			tests, listed = listedTests(), true
		}
		return tests
	}
	// Each store on its own: one inside another is not listed with it
	// (see cache.Store.List), and may not be pecapiku's own when the
	// other is.
	for _, dir := range slices.Sorted(maps.Keys(stores)) {
		found, keep, inUse, err := unusedOn(osFs, dir, "", used, prune, testsOnce)
		unused, kept, busy = append(unused, found...), append(kept, keep...), append(busy, inUse...)
		if errors.Is(err, cache.ErrNotOwned) {
			fmt.Fprintf(w, "pecatest: unused fixtures not checked in %s: %v\n", relative(dir), err)
			continue
		}
		if err != nil {
			return len(unused), err
		}
	}
	for _, url := range slices.Sorted(maps.Keys(shared)) {
		s := shared[url]
		found, keep, inUse, err := unusedOn(s.fsys, s.dir, s.location, used, prune, testsOnce)
		unused, kept, busy = append(unused, found...), append(kept, keep...), append(busy, inUse...)
		if errors.Is(err, cache.ErrUnavailable) || errors.Is(err, cache.ErrNotOwned) {
			fmt.Fprintf(w, "pecatest: unused fixtures not checked in %s: %v\n", url, err)
			continue
		}
		if err != nil {
			return len(unused), err
		}
	}
	reportBusy(w, busy)
	if len(kept) > 0 {
		fmt.Fprintf(w, "pecatest: kept %d fixture files of tests that ran no Memo or Golden in this run (skipped, say):\n", len(kept))
		for _, p := range kept {
			fmt.Fprintf(w, "\t%s\n", relative(p))
		}
	}
	if len(unused) == 0 {
		return 0, nil
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
		fmt.Fprintf(&b, "\t%s%s\n", relative(p), fileNote(p))
	}
	if !prune {
		fmt.Fprintf(&b, "Remove them with: %s=1 %s %s\n", EnvPrune, goTest(), packageDir())
	}
	_, err = io.WriteString(w, b.String())
	return len(unused), err
}

// fileNote says what an unused file is when it is not an entry: a
// temporary file or a lock that a process which stopped left behind.
func fileNote(path string) string {
	base := filepath.Base(filepath.FromSlash(path))
	switch {
	case fs.IsTemp(base):
		return " (left by an interrupted write)"
	case fs.Reserved(base) && strings.HasSuffix(base, ".lock"):
		return " (a lock left by a process that stopped)"
	}
	return ""
}

// unusedOn returns the files of the store at dir on fsys that no call used
// (see [cache.Store.Unused]): its entries not in used, its leftovers and
// its stale locks; with prune it removes them, returning those it removed
// and, in busy, the temporary files it left to the writers using them.
// The store's files, and those of used, are named by location followed by
// their paths when location is not "" (a shared store), and by their
// absolute paths otherwise. A store that is not pecapiku's own is refused
// with an error wrapping cache.ErrNotOwned.
func unusedOn(fsys afero.Fs, dir, location string, used map[string]bool, prune bool, tests func() map[string]bool) (found, kept, busy []string, err error) {
	access := cache.ReadOnly
	if prune {
		access = cache.ReadExecuteWrite
	}
	store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(access))
	if err != nil {
		return nil, nil, nil, err
	}
	var paths []string
	for u := range used {
		switch {
		case location == "" && !strings.Contains(u, "://"):
			paths = append(paths, u)
		case location != "" && strings.HasPrefix(u, location):
			paths = append(paths, filepath.FromSlash(strings.TrimPrefix(u, location)))
		}
	}
	unused, err := store.Unused(paths)
	if err != nil {
		return nil, nil, nil, err
	}
	var entries []string
	for _, e := range unused.Entries {
		entries = append(entries, e.Path)
	}
	found, kept = keptForSkip(dir, entries, tests)
	found = append(append(found, unused.Leftovers...), unused.StaleLocks...)
	name := func(path string) string {
		if location == "" {
			return path
		}
		return location + filepath.ToSlash(path)
	}
	names := func(paths []string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = name(p)
		}
		return out
	}
	if !prune {
		return names(found), names(kept), nil, nil
	}
	var removed []string
	for _, p := range found {
		switch err := store.Remove(p); {
		case errors.Is(err, fs.ErrInUse):
			busy = append(busy, p)
		case err != nil:
			return names(removed), names(kept), names(busy), err
		default:
			removed = append(removed, p)
		}
	}
	return names(removed), names(kept), names(busy), nil
}

// reportBusy writes to w the temporary files that pruning left to the
// writers using them, if any.
func reportBusy(w io.Writer, busy []string) {
	if len(busy) == 0 {
		return
	}
	files := "temporary files"
	if len(busy) == 1 {
		files = "temporary file"
	}
	fmt.Fprintf(w, "pecatest: kept %d %s that a writer is using:\n", len(busy), files)
	for _, p := range busy {
		fmt.Fprintf(w, "\t%s\n", relative(p))
	}
}

// relative returns path relative to the package directory when it lies
// below it; a URL as it is.
func relative(path string) string {
	if strings.Contains(path, "://") {
		return path
	}
	return filepath.ToSlash(display(path))
}
