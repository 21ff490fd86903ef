package cache

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"reflect"
	"sync"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/fs"
)

// Errors that [Do] and the methods of [Store] wrap; test for them with
// errors.Is. Every message also names the key and the file.
var (
	// ErrNotCached: the entry is missing and the access has no e, so the
	// function may not compute it.
	ErrNotCached = errors.New("not cached")
	// ErrCorrupt: the entry's file exists but cannot be decoded: it is
	// empty, cut short, of another codec or of another type.
	ErrCorrupt = errors.New("corrupt entry")
	// ErrRoundTrip: the codec cannot store the value faithfully: what it
	// encoded decodes to a different value, so nothing was written. Every
	// write decodes what it is about to write and compares it with the
	// value.
	ErrRoundTrip = errors.New("value does not survive its codec")
	// ErrForbidden: the store's access does not allow the operation.
	ErrForbidden = errors.New("forbidden by access")
	// ErrInvalidKey: the key cannot name an entry (it is empty).
	ErrInvalidKey = fs.ErrInvalidKey
)

// EventKind says what happened in an [Event].
type EventKind int

// The kinds of [Event], in the order they can happen for one call of [Do].
const (
	// EventHit: the entry was read and decoded.
	EventHit EventKind = iota + 1
	// EventCorrupt: the entry exists but cannot be decoded; Event.Err says
	// why. With e granted the function is executed instead.
	EventCorrupt
	// EventExecute: the function was executed and returned a value.
	EventExecute
	// EventWrite: the value was written to Event.Path.
	EventWrite
	// EventUnavailable: the store could not be reached (Event.Err wraps
	// [ErrUnavailable]) and e is granted, so the function is executed and
	// its value is not stored.
	EventUnavailable
)

// String returns the kind's name: "hit", "corrupt", "execute", "write" or
// "unavailable".
func (k EventKind) String() string {
	switch k {
	case EventHit:
		return "hit"
	case EventCorrupt:
		return "corrupt"
	case EventExecute:
		return "execute"
	case EventWrite:
		return "write"
	case EventUnavailable:
		return "unavailable"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// An Event is one thing [Do] did with an entry; see [WithObserver].
type Event struct {
	Kind EventKind
	Key  string
	Path string
	Err  error // the decoding error of EventCorrupt, the store's error of EventUnavailable
}

// Do returns the value stored under key in s, or computes it with fn, as the
// store's [Access] allows:
//
//   - with r, an entry that decodes is returned and fn is not called;
//   - a missing entry without e is an error wrapping [ErrNotCached];
//   - an entry that cannot be decoded is an error wrapping [ErrCorrupt]
//     without e, and is treated as missing with it;
//   - otherwise fn is called; with w its value is encoded, checked to decode
//     to an equal value ([ErrRoundTrip] if not) and written atomically to
//     [Store.Path] of key;
//   - a store that cannot be reached ([ErrUnavailable]) is an error without
//     e; with e, fn is called and its value returned without being stored,
//     and an [EventUnavailable] reports it.
//
// An error from fn is returned wrapped and nothing is written; a panic in fn
// propagates and nothing is written. When the value was computed but could
// not be written, Do returns it together with the error.
//
// Concurrent calls for one entry of one disk, in the same process, execute fn
// once: the others wait and each decodes its own copy of the value, so a
// caller may change what it got without affecting the others. With access
// rew the same holds across processes, and machines, wherever the store's
// disk can lock an entry: a process that misses an entry takes its lock
// before it executes fn, and one that waited for the lock reads the entry the
// other wrote instead of executing fn again. On the real filesystem the lock
// is a flock(2) lock of a file under os.TempDir(), never in the store, and it
// goes with the process that holds it, however that process ends; a
// filesystem that is an [EntryLocker], such as an S3 bucket that supports
// conditional writes, provides its own. A hit takes no lock.
func Do[T any](s *Store, key string, fn func() (T, error)) (T, error) {
	var zero T
	path, err := s.Path(key)
	if err != nil {
		return zero, err
	}
	unavailable := false
	if s.access.CanRead() {
		v, err := readValue[T](s, key, path)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, ErrCorrupt) && s.access.CanExecute():
			// A miss: computed again below, and overwritten with w.
		case errors.Is(err, iofs.ErrNotExist):
			// A miss.
		case errors.Is(err, ErrUnavailable) && s.access.CanExecute():
			unavailable = true
			s.notify(Event{Kind: EventUnavailable, Key: key, Path: path, Err: err})
		default:
			return zero, err
		}
	}
	if !s.access.CanExecute() {
		return zero, fmt.Errorf("cache: %q: %w: %s does not exist and access %q has no e to compute it; compute and store it with access rew (%s=rew)",
			key, ErrNotCached, path, s.access, EnvAccess)
	}

	var mine T
	data, leader, err := flights.do(s.flightKey(path), func() ([]byte, error) {
		if !unavailable {
			unlock, err := s.lockEntry(path)
			switch {
			case errors.Is(err, ErrUnavailable):
				unavailable = true
				s.notify(Event{Kind: EventUnavailable, Key: key, Path: path, Err: err})
			case err != nil:
				return nil, err
			default:
				defer unlock()
			}
		}
		if s.access.CanRead() && !unavailable {
			// Another caller, in this process or another, may have
			// stored it since this one looked; a corrupt entry may have
			// been rewritten.
			if data, err := fs.ReadFile(s.fsys, path); err == nil {
				var stored T // not mine: a failed decode can leave part of a value
				if err := s.decode(key, path, data, &stored); err == nil {
					mine = stored
					s.notify(Event{Kind: EventHit, Key: key, Path: path})
					return data, nil
				}
			}
		}
		v, err := fn()
		if err != nil {
			return nil, fmt.Errorf("cache: computing %q: %w", key, err)
		}
		s.notify(Event{Kind: EventExecute, Key: key, Path: path})
		data, err := s.encode(key, path, v, &mine)
		if err != nil {
			return nil, err
		}
		if s.access.CanWrite() && !unavailable {
			err := s.write(path, data)
			switch {
			case errors.Is(err, ErrUnavailable):
				s.notify(Event{Kind: EventUnavailable, Key: key, Path: path, Err: err})
			case err != nil:
				return data, err
			default:
				s.notify(Event{Kind: EventWrite, Key: key, Path: path})
			}
		}
		return data, nil
	})
	switch {
	case data == nil:
		return zero, err // nothing computed, or a value that failed its round trip
	case leader:
		return mine, err // err: the value could not be written
	}
	var v T
	if derr := s.decode(key, path, data, &v); derr != nil {
		return zero, derr
	}
	return v, err
}

// readValue reads and decodes the entry of key at path, reporting the hit or
// the corruption to the observer.
func readValue[T any](s *Store, key, path string) (T, error) {
	var v T
	data, err := fs.ReadFile(s.fsys, path)
	if err != nil {
		return v, err
	}
	if err := s.decode(key, path, data, &v); err != nil {
		var corrupt *corruptError
		if errors.As(err, &corrupt) {
			s.notify(Event{Kind: EventCorrupt, Key: key, Path: path, Err: corrupt.err})
		}
		return v, err
	}
	s.notify(Event{Kind: EventHit, Key: key, Path: path})
	return v, nil
}

// corruptError is the decoding failure of the entry of key at path.
type corruptError struct {
	key, path, codec string
	err              error
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("cache: %q: %v: cannot decode %s with the %s codec: %v; delete the file or record it again with access ew (%s=ew)",
		e.key, ErrCorrupt, e.path, e.codec, e.err, EnvAccess)
}

func (e *corruptError) Unwrap() []error { return []error{ErrCorrupt, e.err} }

// decode decodes data, the entry of key at path, into v, a pointer. A codec
// that panics on bad data gives an error like any other.
func (s *Store) decode(key, path string, data []byte, v any) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &corruptError{key, path, s.codec.Name(), fmt.Errorf("the decoder panicked: %v", p)}
		}
	}()
	if err := s.codec.Unmarshal(data, v); err != nil {
		return &corruptError{key, path, s.codec.Name(), err}
	}
	return nil
}

// roundTripOptions make the round-trip check compare everything the value
// holds, unexported fields included, and treat NaN as equal to NaN, since a
// codec that keeps a NaN has kept the value.
var roundTripOptions = []cmp.Option{
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmpopts.EquateNaNs(),
}

// encode encodes v with the store's codec, decodes the result into back, a
// pointer to a zero value of v's type, and fails with ErrRoundTrip unless the
// two values are equal. back is then the caller's copy of the value, sharing
// no memory with v, as a replay would give.
func (s *Store) encode(key, path string, v, back any) ([]byte, error) {
	data, err := s.codec.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cache: %q: cannot encode %s with the %s codec for %s: %w", key, typeName(v), s.codec.Name(), path, err)
	}
	if err := s.codec.Unmarshal(data, back); err != nil {
		return nil, fmt.Errorf("cache: %q: %w: the %s codec cannot decode what it encoded from %s, so nothing was written to %s: %v",
			key, ErrRoundTrip, s.codec.Name(), typeName(v), path, err)
	}
	got := reflect.ValueOf(back).Elem().Interface()
	if diff, err := roundTripDiff(v, got); err != nil || diff != "" {
		if err != nil {
			diff = err.Error()
		}
		return nil, fmt.Errorf("cache: %q: %w: the %s codec would replay %s as a different value, so nothing was written to %s (-computed +replayed):\n%s"+
			"store only what the codec keeps (exported fields for json and gob), give the type methods that encode all of it, or use another codec",
			key, ErrRoundTrip, s.codec.Name(), typeName(v), path, diff)
	}
	return data, nil
}

// roundTripDiff returns the difference between a value and its replay, or an
// error when go-cmp cannot compare them.
func roundTripDiff(v, back any) (diff string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot compare the value with its replay: %v", p)
		}
	}()
	// reflect.DeepEqual is the fast path: it compares a []byte of
	// megabytes with bytes.Equal where go-cmp walks it byte by byte (seconds
	// for a few megabytes), and when it reports equal so would go-cmp, which
	// differs only in using Equal methods and in treating NaNs as equal.
	if reflect.DeepEqual(v, back) || cmp.Equal(v, back, roundTripOptions...) {
		return "", nil
	}
	return cmp.Diff(v, back, roundTripOptions...), nil
}

// reflectNew returns a pointer to a new zero value of v's type.
func reflectNew(v any) any {
	return reflect.New(reflect.TypeOf(v)).Interface()
}

// write writes data as the entry at path, refusing a path that a symbolic
// link inside the store would lead outside of it.
func (s *Store) write(path string, data []byte) error {
	if err := fs.CheckUnder(s.fsys, s.dir, path); err != nil {
		return err
	}
	return fs.WriteAtomic(s.fsys, path, data)
}

// flightKey identifies the entry at path across all stores of the process
// that share its disk: every store on the real filesystem, or the stores on
// one afero.Fs value.
type flightKey struct {
	disk any
	path string
}

type osDisk struct{}

func (s *Store) flightKey(path string) flightKey {
	if _, ok := s.base.(*afero.OsFs); ok {
		if abs, err := filepath.Abs(path); err == nil {
			return flightKey{osDisk{}, abs}
		}
	}
	if reflect.TypeOf(s.base).Comparable() {
		return flightKey{s.base, path}
	}
	return flightKey{s, path}
}

// flights deduplicates concurrent executions of one entry in this process.
var flights = &flightGroup{calls: map[flightKey]*flight{}}

// flightGroup runs one function per key at a time and hands its result to the
// callers that arrive while it runs. It is written here rather than taken
// from golang.org/x/sync/singleflight because that package re-raises the
// leader's panic (wrapped in its own type) and its runtime.Goexit in every
// waiting goroutine: in a test, one t.FailNow inside fn would end unrelated
// tests. Here the leader's panic keeps its value and the waiters get an error.
type flightGroup struct {
	mu    sync.Mutex
	calls map[flightKey]*flight
}

type flight struct {
	done chan struct{}
	data []byte
	err  error
}

// errLeaderFailed is what waiters get when the leader's function panicked or
// called runtime.Goexit (t.FailNow, in a test).
var errLeaderFailed = errors.New("the goroutine computing it panicked or called runtime.Goexit (t.FailNow in a test)")

// do runs f unless a call with key is running, in which case it waits for
// that call and returns its result. leader reports whether f ran here.
func (g *flightGroup) do(key flightKey, f func() ([]byte, error)) (data []byte, leader bool, err error) {
	g.mu.Lock()
	if c, ok := g.calls[key]; ok {
		g.mu.Unlock()
		<-c.done
		return c.data, false, c.err
	}
	c := &flight{done: make(chan struct{}), err: fmt.Errorf("cache: %s: %w", key.path, errLeaderFailed)}
	g.calls[key] = c
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.data, c.err = f()
	return c.data, true, c.err
}
