package cache

import (
	"fmt"
	"reflect"
	"time"

	"github.com/pecapiku/pecapiku/fs"
)

// A FuncOption configures a function wrapped by [Func] or [SingleValue], or
// the key [EntryKey] returns.
type FuncOption func(*funcSettings)

type funcSettings struct {
	keyFunc    any          // func(A, string) (string, error), from KeyFunc
	keyFuncArg reflect.Type // that A, for a message when it is not the function's
	constKey   func(version string) (string, error)
	version    string
	maxAge     time.Duration
	err        error // the first option given a value it cannot use
}

// KeyFunc derives the key of each call from key(arg) instead of from the
// whole argument: for when only part of the argument identifies the result,
// or when the argument holds what cannot be keyed (a func, a channel, a
// context). The value key returns is encoded like an argument (see [Func]);
// a short plain string gives the entry's file a readable prefix.
//
// A must be the wrapped function's argument type, else wrapping fails.
// Giving both KeyFunc and [ConstKey] is an error at wrap time; of two
// KeyFuncs the last counts.
func KeyFunc[A, K any](key func(A) K) FuncOption {
	return func(s *funcSettings) {
		if key == nil {
			s.fail(fmt.Errorf("KeyFunc is given a nil function"))
			return
		}
		s.keyFuncArg = reflect.TypeFor[A]()
		s.keyFunc = func(arg A, version string) (string, error) {
			return keyFile(key(arg), version)
		}
	}
}

// ConstKey stores every call of the wrapped function under the one key k,
// fixed when the function is wrapped and never passed to it: the first call
// computes the entry and every later one, whatever its argument, returns it.
// k is encoded like an argument (see [Func]); a short plain string such as
// "latest" gives the file a readable name. A k that cannot be keyed (a func)
// is an error at wrap time, as is giving both ConstKey and [KeyFunc].
func ConstKey[K any](k K) FuncOption {
	return func(s *funcSettings) {
		s.constKey = func(version string) (string, error) { return keyFile(k, version) }
	}
}

// Version salts every key of the wrapped function with v: entries stored
// under another version (or none, the default "") are not found, and are
// recomputed where the access allows. Bump it when the function's logic
// changes. Entries of older versions stay on disk until deleted.
func Version(v string) FuncOption {
	return func(s *funcSettings) { s.version = v }
}

// MaxAge makes an entry whose file was last written more than d ago count as
// missing: with e in the access it is recomputed (and, with w, overwritten);
// without e the call fails with [ErrNotCached] and a message saying that the
// entry expired. The age is taken from the file's modification time. Zero,
// the default, means entries never expire; a negative d is an error at wrap
// time.
func MaxAge(d time.Duration) FuncOption {
	return func(s *funcSettings) {
		if d < 0 {
			s.fail(fmt.Errorf("MaxAge is given a negative duration %s; give a positive one, or 0 for no limit", d))
			return
		}
		s.maxAge = d
	}
}

func (s *funcSettings) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// Func wraps fn so that it is computed once per distinct argument and its
// results are stored in s: the returned function has fn's type, and calling
// it with an argument returns the value stored for that argument, or
// computes it with fn, as the store's [Access] allows, exactly as [Do] does.
// It is safe for concurrent use. A program that stopped halfway and is run
// again does not compute what it stored before it stopped.
//
// The entries of the function live under <dir>/<name>/, one file per key,
// named by 32 hex digits (128 bits) of the SHA-256 of the key's canonical
// encoding, with the key and "-" in front when the key is a string of at
// most 40 ASCII letters, digits, ".", "_" and "-" not beginning with ".":
// cached("hello") is stored in <dir>/<name>/hello-<32 hex digits>.json.
// [EntryKey] returns the key of an argument, for [Store.Read], [Store.Path]
// and [Store.Delete]. Wrapping touches nothing on disk.
//
// # Keys
//
// By default the key is the argument itself, which need not be comparable.
// It is encoded by value, so values built differently but equal give one key,
// and the same value gives the same key in every process, on every platform
// and with every Go version (a golden table in the tests holds this promise):
//
//   - integers by value, whatever their width (int8(1) and int64(1) share a
//     key; signed and unsigned integers do not); uintptr as an integer;
//   - floats by value, float32 widened to float64, with every NaN one key and
//     -0 the key of 0 (since -0 == 0); complex numbers as two floats;
//   - strings and byte slices by their bytes (a string and a []byte differ);
//   - slices and arrays element by element, a nil slice like an empty one;
//   - maps by their entries in an order that does not depend on how the map
//     was filled, a nil map like an empty one;
//   - structs field by field, by name, unexported fields included;
//   - pointers by the value they point to, not by address, so two pointers
//     to equal values share a key, and a nil pointer differs from a pointer
//     to a zero value; a pointer, map or slice that leads back to itself is
//     encoded as a reference to the enclosing value, not followed forever;
//   - interfaces by their dynamic type and value. The type is spelled with
//     import paths ("example.com/app.Doc"), and a named type other than a
//     predeclared one with its underlying type as well
//     ("example.com/app.Celsius(float64)"), so int(1) and int64(1) held in
//     an interface differ, and so do types of one name declared in
//     different functions whose structures differ. Renaming a type, moving
//     it to another package, or changing its fields changes the keys of its
//     values held in interfaces. A nil interface has a key of its own;
//   - time.Time by its instant (Unix seconds and nanoseconds), whatever its
//     location or monotonic reading;
//   - *time.Location by its name and by the zone (abbreviation, offset and
//     daylight-saving flag) it gives every instant from 1800 to 2100, so the
//     unnamed zones time.Parse makes for "+01:00" and "+05:00" differ, and
//     so do time.UTC and time.FixedZone("UTC", 3600);
//   - math/big's Int and Rat by their exact text, since their words differ
//     between 32- and 64-bit platforms, and Float by its precision and
//     rounding mode, which decide the results of arithmetic on it, and its
//     exact value. A type defined as one of these types or time's (type
//     Money big.Int) is keyed as that type.
//
// The static type of the argument is not part of the key; a struct type's
// field names and order are. Funcs, channels and unsafe pointers, wherever
// they sit in the argument, cannot be keyed: the call fails with an error
// wrapping [ErrInvalidKey] that says where, and names [KeyFunc], which
// chooses the key from part of the argument. Other values whose fields are
// not their meaning (a sync.Mutex, a type with a lazily filled cache) are
// keyed by their fields as they are: choose their key with KeyFunc too.
//
// These share a key on purpose, though Go tells them apart:
//
//   - the values listed above as equal: numbers of different widths, named
//     types and their underlying types, slices and arrays, nil and empty
//     slices or maps, values at different addresses;
//   - times at one instant in different locations: to key the location
//     too, let KeyFunc return it beside the time;
//   - locations of one name that give every instant from 1800 to 2100 the
//     same zone, however they were made: time.UTC and
//     time.FixedZone("UTC", 0), a location from the tz database and one
//     from other data with the same zones, a location before and after it
//     was used. A location of the tz database is keyed by what that database
//     says, so machines with different versions of it may give different
//     keys, and time.Local differs between machines in different zones; to
//     key a location by its name only, use KeyFunc with loc.String();
//   - big.Floats that differ only in accuracy, which tells how the last
//     operation on them rounded, and -0 and +0, as for float64;
//   - types of one name declared in different functions of one package
//     whose structures are spelled alike: reflect names both alike and tells
//     neither where it was declared. Within the structure of a named type,
//     the named types of other packages are spelled by name only, so a
//     generic type of another package instantiated with two such local
//     types of different structures shares a key too. Give such types
//     different names, or the key with KeyFunc.
//
// The argument is walked as a tree: a value that many pointers share is
// encoded once for each, so a deeply shared structure is better keyed with
// KeyFunc. [ConstKey] fixes the key instead, and [Version] salts every key.
//
// # Several arguments
//
// A function of several arguments is wrapped as a function of a struct that
// holds them, each field keyed as above:
//
//	type mulArgs struct{ A, B Matrix }
//	mul, err := cache.Func(store, "mul", func(a mulArgs) (Matrix, error) { return multiply(a.A, a.B) })
//	...
//	product, err := mul(mulArgs{a, b})
//
// # Errors
//
// Func fails when s is nil, name is empty, fn is nil, both KeyFunc and
// ConstKey are given, KeyFunc's argument type is not A, ConstKey's key cannot
// be keyed, or MaxAge is negative. The returned function returns fn's errors
// wrapped, and the errors of [Do].
func Func[A, R any](s *Store, name string, fn func(A) (R, error), opts ...FuncOption) (func(A) (R, error), error) {
	w, err := newWrapped(s, "Func", name, fn == nil, opts)
	if err != nil {
		return nil, err
	}
	keyOf, err := keyFor[A](w.form, name, &w.set)
	if err != nil {
		return nil, err
	}
	return func(arg A) (R, error) {
		key, err := keyOf(arg)
		if err != nil {
			var zero R
			return zero, err
		}
		return callWrapped(w, key, func() (R, error) { return fn(arg) })
	}, nil
}

// SingleValue wraps fn, a function without arguments, so that it is computed
// once and stored in s: the first call computes the value and every later
// call, in this process or another, returns the stored one, as the store's
// [Access] allows, exactly as [Do] does. This is the original pecapiku's
// single value cache. It is safe for concurrent use.
//
// Its one entry lives under <dir>/<name>/, named like those of [Func] after
// an empty key: [EntryKey](name, struct{}{}, opts...) returns it. [Version]
// and [MaxAge] work as with Func, and [ConstKey] replaces the empty key (to
// give the file a readable name); [KeyFunc] has no argument to work on and is
// an error.
func SingleValue[R any](s *Store, name string, fn func() (R, error), opts ...FuncOption) (func() (R, error), error) {
	w, err := newWrapped(s, "SingleValue", name, fn == nil, opts)
	if err != nil {
		return nil, err
	}
	if w.set.keyFunc != nil {
		return nil, fmt.Errorf("cache: SingleValue %q: KeyFunc is given, but a function without arguments has no argument to derive a key from; use ConstKey to name its entry", name)
	}
	keyOf, err := keyFor[struct{}](w.form, name, &w.set)
	if err != nil {
		return nil, err
	}
	key, err := keyOf(struct{}{})
	if err != nil {
		return nil, err
	}
	return func() (R, error) { return callWrapped(w, key, fn) }, nil
}

// EntryKey returns the key of the entry that a function wrapped with
// [Func](s, name, fn, opts...) stores for arg: "<name>/<file name>", for
// [Store.Read], [Store.Write], [Store.Path] and [Store.Delete]. It fails
// where Func would, at wrap time or at call time.
func EntryKey[A any](name string, arg A, opts ...FuncOption) (string, error) {
	set, err := funcOptions("EntryKey", name, opts)
	if err != nil {
		return "", err
	}
	keyOf, err := keyFor[A]("EntryKey", name, &set)
	if err != nil {
		return "", err
	}
	return keyOf(arg)
}

// wrapped is what Func and SingleValue know of the function they wrap.
type wrapped struct {
	store *Store
	form  string // "Func" or "SingleValue", for messages
	set   funcSettings
}

func newWrapped(s *Store, form, name string, nilFn bool, opts []FuncOption) (*wrapped, error) {
	if s == nil {
		return nil, fmt.Errorf("cache: %s %q: the store is nil; create one with NewStore or NewUserStore", form, name)
	}
	if nilFn {
		return nil, fmt.Errorf("cache: %s %q: the function is nil", form, name)
	}
	set, err := funcOptions(form, name, opts)
	if err != nil {
		return nil, err
	}
	return &wrapped{store: s, form: form, set: set}, nil
}

// funcOptions checks name and applies opts.
func funcOptions(form, name string, opts []FuncOption) (funcSettings, error) {
	var set funcSettings
	if _, err := fs.KeyPath(name); err != nil {
		return set, fmt.Errorf("cache: %s %q: %w; name the function, as in cache.%s(store, \"embed\", ...)", form, name, err, form)
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&set)
		}
	}
	if set.err != nil {
		return set, fmt.Errorf("cache: %s %q: %w", form, name, set.err)
	}
	if set.keyFunc != nil && set.constKey != nil {
		return set, fmt.Errorf("cache: %s %q: both KeyFunc and ConstKey are given; give one: KeyFunc to derive the key from the argument, ConstKey to fix it", form, name)
	}
	return set, nil
}

// keyFor returns the function that gives the entry key of an argument, as
// the settings say: constant, chosen by KeyFunc, or the argument itself.
func keyFor[A any](form, name string, set *funcSettings) (func(A) (string, error), error) {
	version := set.version
	switch {
	case set.constKey != nil:
		file, err := set.constKey(version)
		if err != nil {
			return nil, fmt.Errorf("cache: %s %q: %w: ConstKey: %w", form, name, ErrInvalidKey, err)
		}
		key := name + "/" + file
		return func(A) (string, error) { return key, nil }, nil
	case set.keyFunc != nil:
		keyFunc, ok := set.keyFunc.(func(A, string) (string, error))
		if !ok {
			return nil, fmt.Errorf("cache: %s %q: KeyFunc takes %s, but the function takes %s; give KeyFunc a func(%s) K",
				form, name, set.keyFuncArg, reflect.TypeFor[A](), reflect.TypeFor[A]())
		}
		return func(arg A) (string, error) {
			file, err := keyFunc(arg, version)
			if err != nil {
				return "", fmt.Errorf("cache: %s %q: %w: the result of KeyFunc: %w", form, name, ErrInvalidKey, err)
			}
			return name + "/" + file, nil
		}, nil
	}
	return func(arg A) (string, error) {
		file, err := keyFile(arg, version)
		if err != nil {
			return "", fmt.Errorf("cache: %s %q: %w: cannot derive a key from the argument (%s): %w", form, name, ErrInvalidKey, reflect.TypeFor[A](), err)
		}
		return name + "/" + file, nil
	}, nil
}

// callWrapped returns the entry of key as Do does, unless it is older than
// the maximum age: then it is missing, an error without e and recomputed
// with it.
func callWrapped[R any](w *wrapped, key string, fn func() (R, error)) (R, error) {
	s := w.store
	if w.set.maxAge > 0 && s.access.CanRead() {
		path, err := s.Path(key)
		if err != nil {
			var zero R
			return zero, err
		}
		if info, err := s.fsys.Stat(path); err == nil && info.Mode().IsRegular() {
			if age := time.Since(info.ModTime()); age > w.set.maxAge {
				if !s.access.CanExecute() {
					var zero R
					return zero, fmt.Errorf("cache: %q: %w: %s expired: it was written %s ago, at %s, and its maximum age is %s; access %q has no e to compute it again; recompute it with access rew (%s=rew)",
						key, ErrNotCached, path, age.Round(time.Second), info.ModTime().Format(time.RFC3339), w.set.maxAge, s.access, EnvAccess)
				}
				return Do(s.withoutRead(), key, fn)
			}
		}
	}
	return Do(s, key, fn)
}

// withoutRead returns a view of s that does not read its entries, for
// computing an entry that is present but expired.
func (s *Store) withoutRead() *Store {
	view := *s
	view.access &^= read
	return &view
}
