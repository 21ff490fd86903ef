// Package pecatest records the result of a slow step of a test once and
// replays it on every later run, under the control of access letters: the
// testing integration of package [github.com/pecapiku/pecapiku/cache].
//
//	func TestReport(t *testing.T) {
//		data := pecatest.Memo(t, "dataset", func() (Dataset, error) {
//			return buildDataset() // slow: runs only when the fixture must be recorded
//		})
//		report := Render(data)
//		pecatest.Golden(t, "report", report) // compared with its recording
//	}
//
// # Where the fixtures live
//
// Under testdata/.pecapiku/ of the package under test (the directory go
// test starts the test binary in, whatever the test does with its working
// directory afterwards), one file per entry: testdata/.pecapiku/TestReport/dataset.json,
// with each level of a subtest's name a directory level. [Shared] entries sit
// at testdata/.pecapiku/<name>.json, for fixtures that several tests use. The
// files are meant to be committed: that is how a team shares them and how CI
// replays them.
//
// Each level is mapped by [github.com/pecapiku/pecapiku/fs.Layout], so names
// with spaces, unicode or ".." stay inside the directory, and two entries
// never share a file:
//
//   - an entry's name is one level, whatever it holds: Memo "a/b" is
//     TestReport/a_sb~735359431abc.json, apart from the Memo "b" of
//     subtest "a", TestReport/a/b.json;
//   - a subtest named like an entry's file gets a directory of its own:
//     subtest "config.json" is TestReport/config.json~587cb980af76/, apart
//     from Memo "config", TestReport/config.json;
//   - names that differ only in case are one file on macOS and Windows
//     disks, so of two such names (entries Data and data, tests TestCase and
//     TestCASE) the second is refused, on every system, with a failure that
//     names both files.
//
// Fixtures recorded by older versions, which laid those names out
// differently, are read where they are, and moved with w; one whose old
// path now belongs to another entry (that of a name with "/", now a
// subtest's entry) must be recorded again, as the failure that reports it
// missing says.
//
// With PECAPIKU_STORE naming a shared store (an S3 bucket: see package
// github.com/pecapiku/pecapiku/s3), they live there instead, which go test's
// result cache cannot see: a call that reads one fails unless go test runs
// without that cache, with -count=1 (or GOFLAGS=-count=1).
//
// # Access
//
// The letters r (read the fixture), e (execute the function) and w (write its
// result) decide what a call may do; see the table in package cache. The
// access in force is, in order:
//
//  1. the [WithAccess] option of the call;
//  2. the -pecapiku.access flag: go test -run TestReport -pecapiku.access=ew;
//  3. the PECAPIKU_ACCESS environment variable;
//  4. "r" when the CI environment variable holds a true value, so that CI
//     replays the committed fixtures and fails on a missing one;
//  5. "rew".
//
// Prefer the variable to the flag when testing several packages: in
// go test ./... -pecapiku.access=ew every package that does not import
// pecatest fails with "flag provided but not defined", while
// PECAPIKU_ACCESS=ew go test ./... works everywhere. An invalid value fails
// loudly, with the valid forms listed.
//
// # Failures
//
// Every failure names the entry, its file, the access in force and the
// command that fixes it:
//
//	pecatest: TestReport/dataset is not recorded (testdata/.pecapiku/TestReport/dataset.json
//	does not exist) and access "r" (the default on CI, since CI=true) forbids executing it.
//	Record it with: PECAPIKU_ACCESS=rew go test -run '^TestReport$' ./report
//
// # Fixture hygiene
//
// With [Run] in TestMain, a full, passing run reports the fixtures no test
// used (left behind by a renamed or deleted test), fails on CI when there
// are any, and PECAPIKU_PRUNE=1 deletes them, on the shared store of
// PECAPIKU_STORE too; PECAPIKU_VERIFY=1 makes Memo execute its function as
// well and fail when the recording has drifted from a fresh value (see
// [Memo]). A Golden that differs, and a Memo entry that drifted, keep the
// fresh value as a pending recording, which the pecapiku command's review,
// accept and reject act on (docs/review.md).
//
// # Recording HTTP
//
// [Transport] records the exchanges of a test with an HTTP API, under the
// same access letters, and replays them; CI replays offline and fails, with
// the closest recorded request as a diff, on one that is not recorded:
//
//	client := &http.Client{Transport: pecatest.Transport(t, "api", nil)}
//
// The exchanges go to testdata/.pecapiku/<TestName>/api.json, one readable
// JSON file, with large or binary bodies in files next to it.
//
// # Secrets
//
// Recordings are scrubbed before anything is written. Transport drops the
// [SensitiveHeaders]; [WithScrub] passes the value of Memo and Golden
// through a function before it is compared, written or returned, and
// [WithRequestScrub] and [WithResponseScrub] do so for Transport. A value
// that still looks like a credential (see [ErrCredential]) is refused,
// naming the field, unless the call says [AllowCredentials].
//
// # Parallel tests
//
// Within one test binary, an entry's function runs at most once, however
// many tests (parallel or not) ask for it, and every caller gets a copy of its
// own, decoded from the entry's bytes: one test changing the slice it got
// cannot change what another gets.
package pecatest

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// DefaultDir is the directory, relative to the package under test, that
// holds the fixtures unless [WithDir] says otherwise.
const DefaultDir = "testdata/.pecapiku"

// TB is the part of testing.TB that this package uses, so *testing.T,
// *testing.B, *testing.F and a test's own fake all fit. When the value also
// has a Helper method, as testing.TB does, it is called before anything is
// logged or failed, so that the lines point at the caller's.
type TB interface {
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// An Option configures one call of [Memo] or [Golden].
type Option func(*settings)

type settings struct {
	access  cache.Access
	codec   cache.Codec
	dir     string
	fsys    afero.Fs
	shared  bool
	cmpOpts []cmp.Option
	scrub   scrubbing    // see scrub.go
	http    httpSettings // see transport.go
}

// Shared makes the entry package-wide: it is stored at
// testdata/.pecapiku/<name>.<ext> instead of under the test's name, so that
// every test asking for name gets the same fixture.
func Shared() Option { return func(s *settings) { s.shared = true } }

// WithAccess sets the access of the call, overriding the flag, the
// environment and CI detection.
func WithAccess(a cache.Access) Option { return func(s *settings) { s.access = a } }

// WithCodec sets the codec of the entry. The default, which nil stands for
// too, is [cache.JSON], and for Golden of a string or a []byte, [cache.Raw],
// which stores it verbatim.
func WithCodec(c cache.Codec) Option { return func(s *settings) { s.codec = c } }

// WithDir sets the directory of the fixtures, instead of [DefaultDir].
func WithDir(dir string) Option { return func(s *settings) { s.dir = dir } }

// WithFs puts the fixtures on fsys instead of the real filesystem.
func WithFs(fsys afero.Fs) Option { return func(s *settings) { s.fsys = fsys } }

// WithCmpOptions adds go-cmp options to the comparisons of [Golden] and of
// Memo's drift verification, such as cmpopts.EquateApprox or
// cmpopts.IgnoreFields. Unexported fields are always compared.
func WithCmpOptions(opts ...cmp.Option) Option {
	return func(s *settings) { s.cmpOpts = append(s.cmpOpts, opts...) }
}

// Memo returns the value recorded under name for the test t, executing fn
// when the access in force says the value must be computed:
//
//   - with r, a recorded entry that decodes is returned and fn does not run;
//   - otherwise, with e, fn runs; with w its result is written to
//     testdata/.pecapiku/<t.Name()>/<name>.json (see [Shared], [WithDir],
//     [WithCodec]) and the test log says so;
//   - a missing entry without e fails the test with the file, the access in
//     force and the command that records it; so does a recorded entry that
//     cannot be decoded, which with e is computed again instead.
//
// T is any type the codec stores faithfully: a value that would replay as a
// different value (a struct with unexported fields under JSON, say) fails the
// test with a diff and nothing is written. An error from fn fails the test
// with that error; a panic in fn propagates; neither writes anything. fn runs
// at most once per entry in a test binary, and each caller gets its own copy.
//
// # Drift verification
//
// With PECAPIKU_VERIFY=1 or -pecapiku.verify, a recorded entry is also
// checked against a fresh value of fn, compared with go-cmp and the options
// of [WithCmpOptions]: when they differ, because the world the fixture
// recorded has changed, the test fails with the diff (-recorded +fresh) and
// the command that records it again. Verification writes nothing and returns
// the recorded value; it needs an access with r and e.
func Memo[T any](t TB, name string, fn func() (T, error), opts ...Option) T {
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	var zero T
	c, err := newCall(t, name, "Memo", opts, cache.JSON)
	if err == nil {
		fn, err = scrubbedFn(c, fn) // WithScrub and the credential check
	}
	if err != nil {
		t.Fatalf("%v", err)
		return zero
	}
	if msg := c.checkIdentity("Memo", reflect.TypeFor[T]()); msg != "" {
		t.Fatalf("%s", msg)
		return zero
	}
	if switchOn(verifyFlagName, EnvVerify) {
		if v, done := verifyDrift(c, fn); done {
			return v
		}
	}
	var fnErr error
	v, err := cache.Do(c.store, c.key, func() (T, error) {
		v, err := fn()
		fnErr = err
		return v, err
	})
	c.logEvents(err != nil)
	if err != nil {
		c.failMemo(err, fnErr)
		return zero
	}
	return v
}

// Golden compares got with the value recorded under name for the test t and
// fails the test with the difference (-recorded +got) when they differ,
// using go-cmp and the options of [WithCmpOptions]:
//
//   - with r and a recording, the two are compared, and a match logs
//     nothing; a missing recording is written with w (and the log says so),
//     and fails the test without it;
//   - without r and with w ("ew"), got is recorded, replacing what was
//     there; a recording that holds got already is left as it is, and
//     logs nothing, as a match (the summary of [Run] counts it);
//   - with access "e" alone, nothing is compared or written.
//
// A string or a []byte is stored verbatim (the raw codec: a golden file any
// tool can open); other values as JSON unless [WithCodec] says otherwise. A
// mismatch fails the test with Errorf, so the test goes on.
func Golden[T any](t TB, name string, got T, opts ...Option) {
	var r reports
	golden(t, name, got, opts, &r)
	if len(r) == 0 {
		return
	}
	// Marked only now: Helper looks at the stack, and a match or an
	// unchanged recording, the common cases, report nothing.
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	for _, x := range r {
		if x.failed {
			t.Errorf("%s", x.text)
		} else {
			t.Logf("%s", x.text)
		}
	}
}

// reports are what a call says, in order: Golden prints them once it is
// done.
type reports []report

type report struct {
	failed bool // Errorf rather than Logf
	text   string
}

func (r *reports) logf(format string, args ...any) {
	*r = append(*r, report{text: fmt.Sprintf(format, args...)})
}

func (r *reports) errorf(format string, args ...any) {
	*r = append(*r, report{failed: true, text: fmt.Sprintf(format, args...)})
}

// golden is Golden, which reports to r.
func golden[T any](t TB, name string, got T, opts []Option, r *reports) {
	var defaultCodec cache.Codec = cache.JSON
	if cache.RawType(reflect.TypeOf(&got).Elem()) {
		defaultCodec = cache.Raw
	}
	c, err := newCall(t, name, "Golden", opts, defaultCodec)
	if err == nil {
		got, err = scrubGot(c, got) // WithScrub
	}
	if err != nil {
		r.errorf("%v", err)
		return
	}
	if msg := c.checkIdentity("Golden", reflect.TypeFor[T]()); msg != "" {
		r.errorf("%s", msg)
		return
	}
	if !c.access.CanRead() {
		if !c.access.CanWrite() {
			r.logf("pecatest: %s is not compared: %s neither reads nor writes it", c.name, c.src.describe(c.access))
			return
		}
		c.record(got, r)
		return
	}
	var want T
	err = c.store.Read(c.key, &want)
	switch {
	case err == nil:
		c.moves(r)
		diff, err := goldenDiff(lfText(want), lfText(got), c.set.cmpOpts)
		switch {
		case err != nil:
			r.errorf("pecatest: %s: %v", c.name, err)
		case diff == "":
			// Silent, as a passing assertion of gotest.tools is: testing
			// formats and keeps a log line even without -v, a cost every
			// matching Golden would pay.
		default:
			head := fmt.Sprintf("%s differs from its recording %s (-recorded +got):\n", c.name, c.path)
			r.errorf("pecatest: %s%s%s%s", head, diff, c.fixLine("Record it again", cache.Regenerate), c.keepPending(got, head+diff))
		}
	case errors.Is(err, iofs.ErrNotExist) && c.access.CanWrite():
		c.record(got, r)
	case errors.Is(err, iofs.ErrNotExist):
		r.errorf("pecatest: %s is not recorded (%s does not exist) and %s forbids writing it.\n%s%s",
			c.name, c.path, c.src.describe(c.access), c.olderNote(), c.fixLine("Record it", cache.ReadExecuteWrite))
	case errors.Is(err, cache.ErrCorrupt):
		// An assertion whose recording cannot be read fails, with any
		// access: re-recording it quietly would hide the regression it
		// guards against. Only ew, which does not read it, records anew.
		r.errorf("pecatest: %s: %s cannot be decoded with the %s codec: %v.\n%s",
			c.name, c.path, c.store.Codec().Name(), corruptCause(err), c.fixLine("Record it again", cache.Regenerate))
	default:
		r.errorf("pecatest: %s: %v", c.name, err)
	}
}

// verifyDrift compares the recording of c's entry with a fresh value of fn,
// once per entry in a test binary, and fails the test when they differ. It
// reports whether it handled the call: a missing or corrupt recording is left
// to Memo's usual path.
func verifyDrift[T any](c *call, fn func() (T, error)) (T, bool) {
	if h, ok := c.t.(helper); ok {
		h.Helper()
	}
	var recorded T
	if !c.access.CanRead() || c.store.Read(c.key, &recorded) != nil {
		return recorded, false
	}
	if !c.access.CanExecute() {
		c.t.Errorf("pecatest: %s: drift verification (%s) executes the function, which %s forbids; give it access \"re\" as well (%s=re)",
			c.name, EnvVerify, c.src.describe(c.access), cache.EnvAccess)
		return recorded, true
	}
	// The fresh value is computed once per entry in the test binary, like
	// Memo's, and each caller compares it with its own recording.
	var fresh T
	verifier, err := cache.NewStore(c.store.Dir(), cache.WithFs(c.set.fsys), cache.WithAccess(cache.Bypass), cache.WithCodec(c.store.Codec()), cache.OncePerProcess())
	if err == nil {
		fresh, err = cache.Do(verifier, c.key, fn)
	}
	var diff string
	if err == nil {
		diff, err = goldenDiff(recorded, fresh, c.set.cmpOpts)
	}
	switch {
	case err != nil:
		c.t.Errorf("pecatest: verifying %s: %v", c.name, err)
	case diff != "":
		head := fmt.Sprintf("%s has drifted: a fresh computation differs from its recording %s (-recorded +fresh):\n", c.name, c.path)
		c.t.Errorf("pecatest: %s%s%s%s", head, diff, c.fixLine("Record it again", cache.Regenerate), c.keepPending(fresh, head+diff))
	default:
		c.t.Logf("pecatest: verified %s: a fresh computation matches %s", c.name, c.path)
	}
	return recorded, true
}

// call is what one call of Memo or Golden works with.
type call struct {
	t      TB
	set    settings
	access cache.Access
	src    source
	key    string // the key in the store
	name   string // the entry as messages name it
	path   string // its file
	store  *cache.Store

	entry    string // the name of the entry, as given
	former   string // the file of the entry in an older layout that the store reads, if any
	olderKey string // the key older versions gave the entry, when that is now another entry's
	location string // the location of the shared store of PECAPIKU_STORE, if it is on one

	mu     sync.Mutex
	events []cache.Event

	inModule bool // its pending recording is in the module's pending directory
}

// startDir is the working directory of the test binary when it started:
// the directory of the package under test, where go test runs it. Stores
// given by a relative directory, and the paths messages show, are anchored
// there, whatever a test does with its working directory afterwards
// (os.Chdir, t.Chdir), so that a fixture is recorded where the next run
// looks for it.
var startDir, startDirErr = os.Getwd()

// startDirSlash is startDir with a separator after it, the prefix of the
// paths below it.
var startDirSlash = startDir + string(filepath.Separator)

// abs returns path as an absolute path: a relative one is taken from the
// package directory (see startDir).
func (c *call) abs(path string) (string, error) {
	if filepath.IsAbs(path) {
		return filepath.Clean(path), nil
	}
	if startDirErr != nil {
		return "", startDirErr
	}
	return filepath.Join(startDir, path), nil
}

// display returns how messages show path, a file on this machine: relative
// to the package directory when it lies below it.
func display(path string) string {
	if startDirErr != nil {
		return path
	}
	// The usual case, a clean path below the package directory, without
	// the work of filepath.Rel.
	if rel, ok := strings.CutPrefix(path, startDirSlash); ok && rel != "" && filepath.Clean(rel) == rel && filepath.IsLocal(rel) {
		return rel
	}
	// A clean absolute path that does not start with the directory, in
	// any case (filepath.Rel ignores it on Windows), is not below it (a
	// store in a temporary directory, say): that needs no filepath.Rel
	// either.
	if filepath.IsAbs(path) && (hasPrefixFold(path, startDir) || filepath.Clean(path) != path) {
		if rel, err := filepath.Rel(startDir, path); err == nil && filepath.IsLocal(rel) {
			return rel
		}
	}
	return path
}

// hasPrefixFold reports whether s begins with prefix, in any case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func newCall(t TB, name, fn string, opts []Option, defaultCodec cache.Codec) (*call, error) {
	return newCallAt(t, name, "", fn, opts, defaultCodec)
}

// newCallAt is newCall for the file sub ("/"-separated, "" for the entry
// itself) below the entry name: Transport keeps a fixture's large bodies
// in the entries <name>.bodies/<hash>.
func newCallAt(t TB, name, sub, fn string, opts []Option, defaultCodec cache.Codec) (*call, error) {
	set := settings{dir: DefaultDir, codec: defaultCodec}
	for _, opt := range opts {
		opt(&set)
	}
	if set.codec == nil { // WithCodec(nil)
		set.codec = defaultCodec
	}
	// Without WithFs, PECAPIKU_STORE may put the entries on a shared store,
	// and a relative directory is anchored at the package directory; see
	// storeFs in remote.go.
	location := ""
	if set.fsys == nil {
		var err error
		if set.fsys, set.dir, location, err = storeFs(set.dir); err != nil {
			return nil, fmt.Errorf("pecatest: %s of %s: %w", fn, t.Name()+"/"+name, err)
		}
	}
	if name == "" {
		return nil, fmt.Errorf("pecatest: %s of %s: the name of the entry is empty", fn, t.Name())
	}
	access, src, err := resolveAccess(set.access)
	if err == nil {
		err = checkUncached(location, access) // see remote.go
	}
	if err != nil {
		return nil, fmt.Errorf("pecatest: %s of %s: %w", fn, t.Name()+"/"+name, err)
	}
	test := t.Name() + "/"
	c := &call{t: t, set: set, access: access, src: src, entry: name, location: location, name: test + name + sub}
	if set.shared {
		test, c.name = "", name+sub+" (shared)"
	}
	// The entry's name is one segment of its key, whatever it holds, so
	// that Memo "a/b" and the Memo "b" of subtest a are two entries.
	// Older versions used the name as it was, which changes the key of a
	// name with "/" or "\". Where they put a name with "/" is now the file
	// of a subtest's entry, and where they put a name that is the escape
	// of another (a\sb, of a/b) is now the file of that other entry:
	// neither is read, only mentioned in a failure. Where they put any
	// other name with "\" is no entry's file now: it is read, and moved
	// with w.
	c.key = test + escapeName(name) + sub
	formerKey := ""
	switch {
	case strings.Contains(name, "/") || isEscape(name):
		c.olderKey = test + name + sub
	case strings.Contains(name, `\`):
		formerKey = test + name + sub
	}
	observe := func(e cache.Event) {
		c.mu.Lock()
		c.events = append(c.events, e)
		c.mu.Unlock()
	}
	if set.fsys == osFs && formerKey == "" {
		c.store, err = osStore(set.dir, access, set.codec)
		if err == nil {
			c.store = c.store.Observe(observe)
		}
	} else {
		storeOpts := []cache.Option{cache.WithFs(set.fsys), cache.WithAccess(access), cache.WithCodec(set.codec), cache.OncePerProcess(), cache.WithObserver(observe)}
		if formerKey != "" {
			storeOpts = append(storeOpts, cache.WithFormerKeys(func(key string) string {
				if key == c.key {
					return formerKey
				}
				return ""
			}))
		}
		c.store, err = cache.NewStore(set.dir, storeOpts...)
	}
	if err != nil {
		return nil, fmt.Errorf("pecatest: %s of %s: %w", fn, c.name, err)
	}
	if c.path, err = c.store.Path(c.key); err != nil {
		return nil, fmt.Errorf("pecatest: %s of %s: %w", fn, c.name, err)
	}
	if formerKey == "" && strings.Contains(c.path, "~") {
		formerKey = c.key // a directory named like a file may have moved
	}
	if formerKey != "" {
		if old, err := c.store.FormerPath(formerKey); err == nil && old != c.path {
			c.former = old
		}
	}
	c.track(location)
	c.path, c.former = c.shown(c.path), c.shown(c.former)
	return c, nil
}

// escapeName returns the segment of a key that stands for the entry name:
// name with each "\" doubled and each "/" written "\s". Names without
// either are their own segment.
func escapeName(name string) string {
	if !strings.ContainsAny(name, `/\`) {
		return name
	}
	return strings.NewReplacer(`\`, `\\`, "/", `\s`).Replace(name)
}

// isEscape reports whether name has a "\" and is what escapeName returns
// for another name: each of its "\" begins "\\" or "\s".
func isEscape(name string) bool {
	if !strings.Contains(name, `\`) {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '\\' {
			continue
		}
		if i+1 == len(name) || name[i+1] != '\\' && name[i+1] != 's' {
			return false
		}
		i++
	}
	return true
}

// shown returns how messages name path, a file of c's store: by URL on
// a shared store, relative to the package directory on the real
// filesystem when it lies below it.
func (c *call) shown(path string) string {
	switch {
	case path == "":
		return ""
	case c.location != "":
		return c.location + filepath.ToSlash(path)
	case c.set.fsys == osFs:
		// The paths a store gives are clean (see cache.Store.Path), so
		// one below the package directory is usually the directory and
		// a separator away, and is local once they are cut; display
		// decides the others.
		if rel, ok := strings.CutPrefix(path, startDirSlash); ok && startDirErr == nil {
			return rel
		}
		return display(path)
	}
	return path
}

// olderNote returns, for an entry whose file older versions of pecapiku
// put where another entry's file now is (see newCallAt), a line that says
// where they recorded it, when a file is there.
func (c *call) olderNote() string {
	if c.olderKey == "" {
		return ""
	}
	old, err := c.store.FormerPath(c.olderKey)
	if err != nil {
		return ""
	}
	if _, err := c.set.fsys.Stat(old); err != nil {
		return ""
	}
	return fmt.Sprintf("It may have been recorded by an older pecapiku at %s, a path that now belongs to another entry and is not read for this one; record it again.\n", c.shown(old))
}

// osFs is the real filesystem, shared so that every call on it is known to
// be on one disk.
var osFs = afero.NewOsFs()

// osStores are the stores on the real filesystem that calls used last,
// each made once; a call gets a view of one that reports to it
// (cache.Store's Observe). A test binary calls Memo and Golden many times
// on a few stores, and making the store, and finding out again what it
// knows about its directory, was a good part of what a call cost. The list
// is short, and the store used least lately makes room, so that the stores
// in the temporary directories of many tests are not all kept.
var osStores struct {
	sync.Mutex
	list []osStoreEntry // the last used first
}

type osStoreEntry struct {
	dir    string
	access cache.Access
	codec  cache.Codec
	store  *cache.Store
}

// osStoresMax is how many stores osStores keeps.
const osStoresMax = 8

// osStore returns the store in dir on the real filesystem with access and
// codec, and the options every call's store has, from osStores when it is
// there. A codec of another package is given a store of its own each
// time: its type may not be comparable.
func osStore(dir string, access cache.Access, codec cache.Codec) (*cache.Store, error) {
	newStore := func() (*cache.Store, error) {
		return cache.NewStore(dir, cache.WithFs(osFs), cache.WithAccess(access), cache.WithCodec(codec), cache.OncePerProcess())
	}
	if cache.CodecOf("entry"+codec.Ext()) != codec {
		return newStore()
	}
	osStores.Lock()
	defer osStores.Unlock()
	list := osStores.list
	for i, e := range list {
		if e.dir == dir && e.access == access && e.codec == codec {
			copy(list[1:i+1], list[:i])
			list[0] = e
			return e.store, nil
		}
	}
	store, err := newStore()
	if err != nil {
		return nil, err
	}
	if len(list) < osStoresMax {
		list = append(list, osStoreEntry{})
	}
	copy(list[1:], list)
	list[0] = osStoreEntry{dir, access, codec, store}
	osStores.list = list
	return store, nil
}

// logEvents reports in the test log what the cache did. It runs after Do
// returns, in Memo's frame, so the log points at the test's line rather than
// into the cache. failed says that Do failed, which the test's failure
// explains.
func (c *call) logEvents(failed bool) {
	if h, ok := c.t.(helper); ok {
		h.Helper()
	}
	c.mu.Lock()
	events := c.events
	c.mu.Unlock()
	c.tally(events)
	settled := false // the value was written, found unchanged, or could not be stored
	for _, e := range events {
		switch e.Kind {
		case cache.EventWrite, cache.EventUnchanged, cache.EventUnavailable:
			settled = true
		}
	}
	for _, e := range events {
		switch e.Kind {
		case cache.EventHit:
			if e.From != "" {
				c.t.Logf("pecatest: replayed %s from %s, where an older pecapiku recorded it", c.name, c.shown(e.From))
				break
			}
			c.t.Logf("pecatest: replayed %s from %s", c.name, c.path)
		case cache.EventMoved:
			c.logMove(e)
		case cache.EventCorrupt:
			if c.access.CanExecute() {
				c.t.Logf("pecatest: %s cannot be decoded (%v); computing %s again", c.path, e.Err, c.name)
			}
		case cache.EventExecute:
			// Without a failure, an access without w is why nothing
			// was written; with w, the value was written or found
			// unchanged (logged below).
			if !failed && !settled && !c.access.CanWrite() {
				c.t.Logf("pecatest: computed %s; %s does not write it to %s", c.name, c.src.describe(c.access), c.path)
			}
		case cache.EventShared:
			c.t.Logf("pecatest: %s was computed by another call in this test binary; using a copy of its value", c.name)
		case cache.EventWrite:
			c.t.Logf("pecatest: recorded %s in %s%s", c.name, c.path, sizeHint(c.store.Codec(), e.Size))
		case cache.EventUnchanged:
			c.t.Logf("pecatest: computed %s; %s already holds this value and is left as it is", c.name, c.path)
		case cache.EventUnavailable:
			c.t.Logf("pecatest: computed %s without storing it, since its store cannot be reached: %v", c.name, e.Err)
		}
	}
}

// largeJSON is the size of a JSON recording above which the log suggests
// another codec.
const largeJSON = 1 << 20

// sizeHint returns what the log adds to the recording of size bytes with
// codec: for JSON of more than a megabyte, that gob stores such values in
// less space and time.
func sizeHint(codec cache.Codec, size int) string {
	if codec != cache.JSON || size <= largeJSON {
		return ""
	}
	return fmt.Sprintf(" (%.1f MB of JSON: cache.Gob stores a value this large smaller and faster, with pecatest.WithCodec(cache.Gob); and cache.Raw a []byte or a string as it is)", float64(size)/(1<<20))
}

// failMemo fails the test with the message for err, an error of cache.Do;
// fnErr is what the test's function returned.
func (c *call) failMemo(err, fnErr error) {
	if h, ok := c.t.(helper); ok {
		h.Helper()
	}
	switch {
	case errors.Is(err, ErrCredential): // see scrub.go
		c.t.Fatalf("%v", fnErr)
	case fnErr != nil && errors.Is(err, fnErr):
		c.t.Fatalf("pecatest: computing %s failed: %v", c.name, fnErr)
	case errors.Is(err, cache.ErrNotCached):
		c.t.Fatalf("pecatest: %s is not recorded (%s does not exist) and %s forbids executing it.\n%s%s",
			c.name, c.path, c.src.describe(c.access), c.olderNote(), c.fixLine("Record it", cache.ReadExecuteWrite))
	case errors.Is(err, cache.ErrCorrupt):
		c.t.Fatalf("pecatest: %s: %s cannot be decoded with the %s codec: %v; %s forbids computing it again.\n%s",
			c.name, c.path, c.store.Codec().Name(), corruptCause(err), c.src.describe(c.access), c.fixLine("Record it again", cache.ReadExecuteWrite))
	default:
		c.t.Fatalf("pecatest: %s: %v", c.name, err)
	}
}

// fixLine returns the line that says how to fix a failure by running the
// test with access a.
func (c *call) fixLine(verb string, a cache.Access) string {
	return howTo(verb, c.t.Name(), a, c.src)
}

// record writes got as the entry and says so to r, or fails. An entry
// that holds got already is not written, and says nothing: like a matching
// Golden, it would cost testing a log line without -v too, and the run's
// summary counts it.
func (c *call) record(got any, r *reports) {
	if err := c.refuseCredentials(got); err != nil { // see scrub.go
		r.errorf("%v", err)
		return
	}
	if err := c.store.Write(c.key, got); err != nil {
		r.errorf("pecatest: %s: %v", c.name, err)
		return
	}
	c.mu.Lock()
	events := c.events
	c.mu.Unlock()
	c.tally(events)
	for _, e := range events {
		if e.Kind == cache.EventWrite {
			r.logf("pecatest: recorded %s in %s", c.name, c.path)
		}
	}
}

// moves says to r where the entry was moved from, where an older
// pecapiku recorded it, by the reading that moved it: a Golden that
// matches says nothing else.
func (c *call) moves(r *reports) {
	c.mu.Lock()
	events := c.events
	c.mu.Unlock()
	for _, e := range events {
		if e.Kind == cache.EventMoved {
			r.logf("%s", c.moveText(e))
		}
	}
}

// logMove logs e, an EventMoved.
func (c *call) logMove(e cache.Event) {
	if h, ok := c.t.(helper); ok {
		h.Helper()
	}
	c.t.Logf("%s", c.moveText(e))
}

// moveText is the line that tells of e, an EventMoved.
func (c *call) moveText(e cache.Event) string {
	return fmt.Sprintf("pecatest: moved %s from %s, where an older pecapiku recorded it, to %s", c.name, c.shown(e.From), c.path)
}

// corruptCause returns the decoding error inside err, an ErrCorrupt error.
func corruptCause(err error) error {
	var u interface{ Unwrap() []error }
	if errors.As(err, &u) {
		for _, e := range u.Unwrap() {
			if e != cache.ErrCorrupt {
				return e
			}
		}
	}
	return err
}

// helper is the method of testing.TB that marks a function as a helper. It
// must be called by each function between the test and the t.Logf or
// t.Errorf: marking is per calling frame, so it cannot be factored out.
type helper interface{ Helper() }

// lfText returns v with its CRLF line ends made LF when it is a string, so
// that a text recording checked out with CRLF ends (git's autocrlf, on
// Windows) matches the text it recorded; other values, []byte among them,
// are compared as they are.
func lfText[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	if rv.Kind() == reflect.String && strings.Contains(rv.String(), "\r\n") {
		rv.SetString(strings.ReplaceAll(rv.String(), "\r\n", "\n"))
	}
	return v
}

// goldenDiff returns the difference between the recording and got, with
// the go-cmp options of the call; see cache.Diff.
func goldenDiff(want, got any, opts []cmp.Option) (string, error) {
	return cache.Diff(want, got, opts...)
}
