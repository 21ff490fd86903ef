package cache

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/afero"
)

// EnvStore is the environment variable that puts stores on a shared,
// remote filesystem instead of the local disk: PECAPIKU_STORE=s3://bucket/prefix.
// It applies to every store made without [WithFs] ([NewStore] here, and
// package pecatest's entries), and its URL is opened with [OpenURL].
const EnvStore = "PECAPIKU_STORE"

// An Opener returns the filesystem that a store URL names, rooted where the
// URL points: a store directory "x" on it is the URL's location followed by
// "/x". Package github.com/pecapiku/pecapiku/s3 provides the opener of "s3"
// URLs; see [RegisterScheme].
type Opener func(u *url.URL) (afero.Fs, error)

// ErrUnknownScheme is returned, wrapped, by [OpenURL] for a URL whose scheme
// no opener is registered for. The message names the import that registers
// it when this package knows one.
var ErrUnknownScheme = errors.New("no filesystem is registered for the scheme")

// ErrUnavailable is wrapped by the errors of a remote filesystem that could
// not be reached: the server is down, did not answer in time or answered
// with a server error (5xx). Configuration errors, such as wrong credentials
// or a missing bucket, are not ErrUnavailable.
//
// [Do] with e granted treats such a store as empty: it executes the function
// and returns its value without storing it, and reports an
// [EventUnavailable]. Without e it returns the error.
var ErrUnavailable = errors.New("store unavailable")

// An EntryLocker is a filesystem on which processes, on one machine or on
// many, take turns to compute an entry. [Do] calls LockEntry on the
// filesystem of a store with access rew before it reads a missing entry
// again and executes the function: a second process that misses the same
// entry then waits, and reads the first one's value instead of executing.
//
// LockEntry blocks until the caller holds the lock of the entry whose file is
// name, and returns the function that releases it. A filesystem that cannot
// lock returns a function that does nothing. An error that wraps
// [ErrUnavailable] makes Do proceed as for an unreachable store.
type EntryLocker interface {
	LockEntry(name string) (unlock func(), err error)
}

// A LockSweeper is an [EntryLocker] whose locks are files in the store,
// next to the entries, which a process that stops while it holds one leaves
// behind, and which can tell such a stale lock from one a live process
// holds. A stale lock harms nobody: the next process that needs its entry
// takes it over. [Store.StaleLocks] lists them so that a tidy-up can remove
// them too. The filesystem of package github.com/pecapiku/pecapiku/s3 is a
// LockSweeper.
type LockSweeper interface {
	// StaleLocks returns the files of the stale locks under the directory
	// dir, in lexical order; none when dir does not exist.
	StaleLocks(dir string) ([]string, error)
}

// A StoreIndexer is a remote filesystem that reads a store better when it
// knows where the store is, such as the local copy of package
// github.com/pecapiku/pecapiku/s3, which then lists the whole store at
// once rather than directory by directory, and fetches its entries ahead.
// IndexStore tells it that dir is the directory of a store whose entries
// the process is about to read. It sends no request and returns nothing: a
// failure shows in the reads that follow. Package pecatest calls it for
// the stores it opens on [EnvStore].
type StoreIndexer interface {
	IndexStore(dir string)
}

// knownSchemes names the package that registers each scheme this module
// provides, for the message of a missing import.
var knownSchemes = map[string]string{
	"s3": "github.com/pecapiku/pecapiku/s3",
}

var registry = struct {
	sync.Mutex
	openers map[string]Opener
	opened  map[string]*opened
}{
	openers: map[string]Opener{"file": openFileURL},
	opened:  map[string]*opened{},
}

type opened struct {
	once sync.Once
	fsys afero.Fs
	err  error
}

// RegisterScheme makes [OpenURL], and so [EnvStore], open the URLs of scheme
// with open. A package that provides a remote filesystem calls it from its
// init function, as database/sql drivers do, so that a blank import enables
// it:
//
//	import _ "github.com/pecapiku/pecapiku/s3" // PECAPIKU_STORE=s3://bucket/prefix
//
// The scheme "file" is built in: file:///shared/dir is that directory of
// the local filesystem (an NFS mount, say). RegisterScheme panics when
// scheme is empty, open is nil or the scheme is registered already.
func RegisterScheme(scheme string, open Opener) {
	scheme = strings.ToLower(scheme)
	registry.Lock()
	defer registry.Unlock()
	switch {
	case scheme == "":
		panic("cache: RegisterScheme with an empty scheme")
	case open == nil:
		panic("cache: RegisterScheme(" + scheme + ") with a nil opener")
	case registry.openers[scheme] != nil:
		panic("cache: RegisterScheme(" + scheme + ") called twice")
	}
	registry.openers[scheme] = open
}

// OpenURL returns the filesystem that rawURL names, such as
// s3://bucket/prefix, from the opener registered for its scheme (see
// [RegisterScheme]). A URL is opened once per process: later calls return
// the same filesystem, or the same error, so that every store on it shares
// one client, one local copy and one set of locks.
//
// A scheme nobody registered is an error wrapping [ErrUnknownScheme] that
// names the import that registers it.
func OpenURL(rawURL string) (afero.Fs, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("cache: store URL %q: %w", rawURL, err)
	}
	scheme := strings.ToLower(u.Scheme)
	registry.Lock()
	open := registry.openers[scheme]
	o := registry.opened[rawURL]
	if o == nil && open != nil {
		o = new(opened)
		registry.opened[rawURL] = o
	}
	registry.Unlock()
	if open == nil {
		return nil, unknownScheme(rawURL, scheme)
	}
	o.once.Do(func() {
		o.fsys, o.err = open(u)
		if o.err != nil {
			o.err = fmt.Errorf("cache: store %s: %w", rawURL, o.err)
		}
	})
	return o.fsys, o.err
}

// unknownScheme returns the error of a URL whose scheme has no opener.
func unknownScheme(rawURL, scheme string) error {
	if scheme == "" {
		return fmt.Errorf("cache: store URL %q: %w \"\": it has none; write it as s3://bucket/prefix or file:///dir", rawURL, ErrUnknownScheme)
	}
	if pkg, ok := knownSchemes[scheme]; ok {
		return fmt.Errorf("cache: store %s: %w %q: add import _ %q to the program (for tests, to any _test.go file of each package under test)",
			rawURL, ErrUnknownScheme, scheme, pkg)
	}
	registry.Lock()
	var names []string
	for s := range registry.openers {
		names = append(names, s)
	}
	registry.Unlock()
	sort.Strings(names)
	return fmt.Errorf("cache: store %s: %w %q; the registered schemes are %s", rawURL, ErrUnknownScheme, scheme, strings.Join(names, ", "))
}

// FsFromEnv returns the filesystem that [EnvStore] names, opened with
// [OpenURL], and true; or false when the variable is unset or empty. Errors
// name the variable.
func FsFromEnv() (afero.Fs, bool, error) {
	s := os.Getenv(EnvStore)
	if s == "" {
		return nil, false, nil
	}
	fsys, err := OpenURL(s)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", EnvStore, err)
	}
	return fsys, true, nil
}

// defaultFs returns the filesystem of a store made without WithFs: the one
// PECAPIKU_STORE names, else the real filesystem.
func defaultFs() (afero.Fs, error) {
	fsys, ok, err := FsFromEnv()
	if err != nil || ok {
		return fsys, err
	}
	return afero.NewOsFs(), nil
}

// openFileURL opens file:///dir: dir on the real filesystem.
func openFileURL(u *url.URL) (afero.Fs, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, fmt.Errorf("a file URL names a local directory: write it as file:///absolute/dir")
	}
	dir := filepath.FromSlash(u.Path)
	if u.Opaque != "" || !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("a file URL names an absolute directory: write it as file:///absolute/dir")
	}
	return afero.NewBasePathFs(afero.NewOsFs(), dir), nil
}
