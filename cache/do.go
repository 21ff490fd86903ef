package cache

import (
	"bytes"
	"errors"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"

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
	// empty, cut short, of another codec or of another type, or it was
	// recorded from another version of its type and lacks fields the type
	// has now (see [JSON] and [Gob]).
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
	// ErrRecursive: the function computing an entry asked for that same
	// entry, a call that would wait for itself forever.
	ErrRecursive = errors.New("recursive call")
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
	// EventShared: the value was computed by another call of this process,
	// a concurrent one this call waited for or, with [OncePerProcess], an
	// earlier one; this call got a copy of it.
	EventShared
	// EventUnchanged: the value was computed and the entry already held
	// exactly its bytes, so nothing was written.
	EventUnchanged
	// EventMoved: the entry, read from Event.From, where an older version
	// of pecapiku wrote it, was moved to Event.Path (see [Store.Path]).
	EventMoved
)

// String returns the kind's name: "hit", "corrupt", "execute", "write",
// "unavailable", "shared", "unchanged" or "moved".
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
	case EventShared:
		return "shared"
	case EventUnchanged:
		return "unchanged"
	case EventMoved:
		return "moved"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// An Event is one thing [Do] did with an entry; see [WithObserver].
type Event struct {
	Kind EventKind
	Key  string
	Path string
	Err  error // the decoding error of EventCorrupt, the store's error of EventUnavailable
	// Replaced reports, for EventWrite, whether the write replaced an
	// entry that held other bytes (false: the entry is new).
	Replaced bool
	// Size is, for EventWrite, the number of bytes written.
	Size int
	// From is, for EventHit, EventCorrupt and EventMoved, the file where
	// an older version of pecapiku wrote the entry, when it was read there
	// rather than at Path (see [Store.Path]).
	From string
}

// Do returns the value stored under key in s, or computes it with fn, as the
// store's [Access] allows:
//
//   - with r, an entry that decodes is returned and fn is not called (one
//     that an older version of pecapiku wrote elsewhere is read there, and
//     with w moved to [Store.Path] of key);
//   - a missing entry without e is an error wrapping [ErrNotCached];
//   - an entry that cannot be decoded is an error wrapping [ErrCorrupt]
//     without e, and is treated as missing with it;
//   - otherwise fn is called; with w its value is encoded, checked to decode
//     to an equal value ([ErrRoundTrip] if not) and written atomically to
//     [Store.Path] of key, unless a name it would create differs only in
//     case from one that is there ([ErrCaseConflict]);
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
// caller may change what it got without affecting the others; a waiting
// caller whose access has w writes the value when the one that computed it
// did not. When fn ends its goroutine without returning (a panic, or
// runtime.Goexit, as t.Skip and t.FailNow call), the waiting callers execute
// fn themselves, one at a time. A call from inside fn for fn's own entry
// would wait for itself: it fails at once with [ErrRecursive]. A value
// whose encoding the entry already holds is not written again. With access
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

	return compute(s, key, path, unavailable, fn)
}

// compute executes fn for the entry of key at path, once for all the
// concurrent callers of this process (and, with OncePerProcess, once for the
// process), checks its value's round trip and writes it as the access
// allows. unavailable says that the store could not be reached.
func compute[T any](s *Store, key, path string, unavailable bool, fn func() (T, error)) (T, error) {
	var zero T
	id := s.entryID(path)
	if s.once {
		if data, ok := onceValues.get(id); ok {
			var v T
			if err := s.decode(key, path, data, &v); err != nil {
				return zero, err
			}
			s.notify(Event{Kind: EventShared, Key: key, Path: path})
			return v, s.writeShared(key, path, data, unavailable)
		}
	}
	var mine T
	c, leader, err := flights.do(id, key, path, func(c *flight) {
		if !unavailable {
			unlock, err := s.lockEntry(path)
			switch {
			case errors.Is(err, ErrUnavailable):
				unavailable = true
				s.notify(Event{Kind: EventUnavailable, Key: key, Path: path, Err: err})
			case err != nil:
				c.err = err
				return
			default:
				defer unlock()
			}
		}
		var old []byte // the entry's bytes, when it has some
		known := false // old is what the entry holds now
		if s.access.CanRead() && !unavailable {
			// Another caller, in this process or another, may have
			// stored it since this one looked; a corrupt entry may have
			// been rewritten.
			data, from, err := s.readEntry(key, path)
			if err == nil {
				var stored T // not mine: a failed decode can leave part of a value
				if err := s.decode(key, path, data, &stored); err == nil {
					mine = stored
					s.notify(Event{Kind: EventHit, Key: key, Path: path, From: from})
					c.data, c.stored = data, true
					c.err = s.moveFormer(key, path, from, data)
					return
				}
			}
			// What path holds, known when it was read there (not at an
			// older layout's file).
			old, known = data, from == "" && (err == nil || errors.Is(err, iofs.ErrNotExist))
		}
		if s.once {
			// An earlier call may have finished computing it since this
			// one looked.
			if data, ok := onceValues.get(id); ok {
				c.err = s.decode(key, path, data, &mine)
				if c.err == nil {
					c.data = data
					s.notify(Event{Kind: EventShared, Key: key, Path: path})
					if s.access.CanWrite() && !unavailable {
						c.stored, c.err = s.record(key, path, data)
					}
				}
				return
			}
		}
		v, err := fn()
		if err != nil {
			c.err = fmt.Errorf("cache: computing %q: %w", key, err)
			return
		}
		s.notify(Event{Kind: EventExecute, Key: key, Path: path})
		data, err := s.encode(key, path, v, &mine)
		if err != nil {
			c.err = err
			return
		}
		c.data = data
		if s.once {
			onceValues.put(id, data)
		}
		if s.access.CanWrite() && !unavailable {
			c.stored, c.err = s.recordOver(key, path, data, old, known)
		}
	})
	switch {
	case err != nil:
		return zero, err // a call that would wait for itself
	case c.data == nil:
		return zero, c.err // nothing computed, or a value that failed its round trip
	case leader:
		return mine, c.err // c.err: the value could not be written
	}
	var v T
	if err := s.decode(key, path, c.data, &v); err != nil {
		return zero, err
	}
	s.notify(Event{Kind: EventShared, Key: key, Path: path})
	if c.err != nil || c.stored {
		return v, c.err
	}
	// The caller that computed it did not write it (its access has no w):
	// this one's may.
	return v, s.writeShared(key, path, c.data, unavailable)
}

// writeShared writes data, a value computed by another call of this
// process, as the entry at path when the store's access has w.
func (s *Store) writeShared(key, path string, data []byte, unavailable bool) error {
	if !s.access.CanWrite() || unavailable {
		return nil
	}
	_, err := s.record(key, path, data)
	return err
}

// record writes data as the entry of key at path unless the entry already
// holds exactly these bytes, and reports the write or the unchanged entry
// to the observer. stored reports whether the entry now holds data.
func (s *Store) record(key, path string, data []byte) (stored bool, err error) {
	return s.recordOver(key, path, data, nil, false)
}

// recordOver is record when the entry's bytes are known to be old (nil:
// missing) because the caller just read them at path; with known false it
// reads them itself.
func (s *Store) recordOver(key, path string, data, old []byte, known bool) (stored bool, err error) {
	existed, same := old != nil, old != nil && bytes.Equal(old, data)
	if !known {
		same, existed = s.holds(key, path, data)
	}
	err = s.put(key, path, data, same, existed)
	if errors.Is(err, ErrUnavailable) {
		s.notify(Event{Kind: EventUnavailable, Key: key, Path: path, Err: err})
		return false, nil
	}
	return err == nil, err
}

// holds reports whether the entry of key, whose file is path, holds data,
// and whether it exists. It compares a piece at a time: re-recording a
// large entry must not hold two copies of it in memory. On a disk that
// ignores case, a file of another case is not this entry's (writeEntry
// refuses it).
func (s *Store) holds(key, path string, data []byte) (same, exists bool) {
	same, exists, _ = fs.SameContent(s.fsys, path, data)
	if exists && s.ignoresCase(path) && s.checkCase(key, path) != nil {
		return false, false
	}
	return same, exists
}

// put writes data as the entry of key at path (see writeEntry), unless
// the entry holds these bytes already (same), and tells the observer which
// it was; existed says that the entry was there before.
func (s *Store) put(key, path string, data []byte, same, existed bool) error {
	if same {
		// Rewriting equal bytes would only change the file's time and
		// make every tool that watches the tree look at it again.
		s.notify(Event{Kind: EventUnchanged, Key: key, Path: path})
		return nil
	}
	if err := s.writeEntry(key, path, data); err != nil {
		return err
	}
	s.notify(Event{Kind: EventWrite, Key: key, Path: path, Replaced: existed, Size: len(data)})
	return nil
}

// readValue reads and decodes the entry of key at path, reporting the hit or
// the corruption to the observer.
func readValue[T any](s *Store, key, path string) (T, error) {
	var v T
	data, from, err := s.readEntry(key, path)
	if err != nil {
		return v, err
	}
	if err := s.decode(key, readAt(path, from), data, &v); err != nil {
		var corrupt *corruptError
		if errors.As(err, &corrupt) {
			s.notify(Event{Kind: EventCorrupt, Key: key, Path: path, Err: corrupt.err, From: from})
		}
		return v, err
	}
	s.notify(Event{Kind: EventHit, Key: key, Path: path, From: from})
	return v, s.moveFormer(key, path, from, data)
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

// encode encodes v with the store's codec, decodes the result into back, a
// pointer to a zero value of v's type, and fails with ErrRoundTrip unless the
// two values are equal. back is then the caller's copy of the value, sharing
// no memory with v, as a replay would give.
func (s *Store) encode(key, path string, v, back any) ([]byte, error) {
	data, err := s.marshal(v)
	if err != nil {
		return nil, fmt.Errorf("cache: %q: cannot encode %s with the %s codec for %s: %w", key, typeName(v), s.codec.Name(), path, err)
	}
	if err := s.codec.Unmarshal(data, back); err != nil {
		return nil, fmt.Errorf("cache: %q: %w: the %s codec cannot decode what it encoded from %s, so nothing was written to %s: %v",
			key, ErrRoundTrip, s.codec.Name(), typeName(v), path, err)
	}
	got := reflect.ValueOf(back).Elem().Interface()
	if diff, err := Diff(v, got); err != nil || diff != "" {
		if err != nil {
			diff = err.Error()
		}
		return nil, fmt.Errorf("cache: %q: %w: the %s codec would replay %s as a different value, so nothing was written to %s (-computed +replayed):\n%s"+
			"store only what the codec keeps (exported fields for json and gob), give the type methods that encode all of it, or use another codec",
			key, ErrRoundTrip, s.codec.Name(), typeName(v), path, diff)
	}
	return data, nil
}

// marshal encodes v with the store's codec; a codec, or a method of v, that
// panics gives an error like any other.
func (s *Store) marshal(v any) (data []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			data, err = nil, fmt.Errorf("the encoder panicked: %v", p)
		}
	}()
	return s.codec.Marshal(v)
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
	fresh := s.unclaimed()
	if err := fs.WriteAtomic(s.fsys, path, data); err != nil {
		return err
	}
	if fresh {
		return s.claim(path)
	}
	return nil
}

// EntryID identifies an entry's file among all the stores of the process:
// two stores that reach the same file give equal EntryIDs. It is
// comparable, for use as a map key.
type EntryID struct {
	disk any
	path string
}

// EntryID returns the identity of the entry of key: on the real filesystem
// its absolute path, on another filesystem the filesystem value and the
// path (a filesystem whose type is not comparable identifies only the
// entries of this store).
func (s *Store) EntryID(key string) (EntryID, error) {
	path, err := s.Path(key)
	if err != nil {
		return EntryID{}, err
	}
	return s.entryID(path), nil
}

// entryID returns the EntryID of the entry at path.
func (s *Store) entryID(path string) EntryID {
	if _, ok := s.base.(*afero.OsFs); ok {
		if abs, err := filepath.Abs(path); err == nil {
			return EntryID{osDisk{}, abs}
		}
	}
	if reflect.TypeOf(s.base).Comparable() {
		return EntryID{s.base, path}
	}
	return EntryID{s, path}
}

type osDisk struct{}

// onceValues holds, with OncePerProcess, the encoding of each entry that a
// call of this process computed.
var onceValues = &onceRecord{m: map[EntryID][]byte{}}

type onceRecord struct {
	mu sync.Mutex
	m  map[EntryID][]byte
}

func (r *onceRecord) get(id EntryID) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data, ok := r.m[id]
	return data, ok
}

func (r *onceRecord) put(id EntryID, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[id] = data
}

// flights deduplicates concurrent executions of one entry in this process.
var flights = &flightGroup{calls: map[EntryID]*flight{}}

// flightGroup runs one function per entry at a time and hands its result to
// the callers that arrive while it runs. It is written here rather than
// taken from golang.org/x/sync/singleflight because that package re-raises
// the leader's panic (wrapped in its own type) and its runtime.Goexit in
// every waiting goroutine: in a test, one t.Skip or t.FailNow inside fn
// would end unrelated tests. Here a leader that ends without a result
// (a panic, runtime.Goexit) ends alone, and the callers that waited for it
// run the function themselves, one at a time.
type flightGroup struct {
	mu    sync.Mutex
	calls map[EntryID]*flight
}

// A flight is one execution of an entry's function.
type flight struct {
	done    chan struct{}
	leader  int64        // the goroutine running it; 0 when unknown
	waiters atomic.Int32 // the callers waiting for it, for the tests

	// Set by the function, read by the waiters once done is closed.
	data   []byte // the value's encoding, nil if there is none
	err    error  // why there is no value, or why it was not written
	stored bool   // the entry on disk holds data
	ended  bool   // the function returned (rather than panicked or exited)
}

// do runs f for the entry id unless a call for it is running, in which case
// it waits for that call and returns its result. leader reports whether f
// ran here. A goroutine that asks for the entry its own running call is
// computing gets ErrRecursive instead of waiting for itself.
func (g *flightGroup) do(id EntryID, key, path string, f func(c *flight)) (c *flight, leader bool, err error) {
	me := goroutineID()
	for {
		g.mu.Lock()
		if c, ok := g.calls[id]; ok {
			g.mu.Unlock()
			if me != 0 && c.leader == me {
				return nil, false, fmt.Errorf("cache: %q: %w: computing it calls Do for %q again, from inside its own function (%s), which would wait for itself forever",
					key, ErrRecursive, key, path)
			}
			c.waiters.Add(1)
			<-c.done
			if !c.ended {
				continue // the leader panicked or exited: compute it here
			}
			return c, false, nil
		}
		c := &flight{done: make(chan struct{}), leader: me}
		g.calls[id] = c
		g.mu.Unlock()
		func() {
			defer func() {
				g.mu.Lock()
				delete(g.calls, id)
				g.mu.Unlock()
				close(c.done)
			}()
			f(c)
			c.ended = true
		}()
		return c, true, nil
	}
}

// goroutineID returns the number the runtime gives the calling goroutine,
// or 0 if it cannot be read. Go has no API for a goroutine's identity, on
// purpose; a nested call of Do for the entry its own goroutine is computing
// can be told from a concurrent caller only by it. The number is read from
// the first line of the goroutine's stack trace, "goroutine 7 [running]:",
// a form Go has printed unchanged since its first release; should it ever
// change, the number is 0 and nested calls wait as concurrent ones do.
func goroutineID() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0
	}
	if i := bytes.IndexByte(b, ' '); i > 0 {
		if n, err := strconv.ParseInt(string(b[:i]), 10, 64); err == nil {
			return n
		}
	}
	return 0
}
