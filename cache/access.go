package cache

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// Access is the set of things a run may do with a store: read an entry (r),
// execute the function that computes it (e) and write its result (w).
//
// The zero Access grants nothing and is not valid; use one of the named
// values or [ParseAccess].
type Access uint8

const (
	read Access = 1 << iota
	execute
	write
)

// The five valid accesses. Write is only ever granted with Execute, since
// there is nothing to write that was not computed.
const (
	// ReadExecuteWrite ("rew") is the default: return the stored value, or
	// compute, store and return it.
	ReadExecuteWrite = read | execute | write
	// ReadExecute ("re") returns the stored value, or computes and returns
	// it without storing it.
	ReadExecute = read | execute
	// ReadOnly ("r") returns the stored value and fails with [ErrNotCached]
	// when there is none: a deterministic replay, as on CI.
	ReadOnly = read
	// Regenerate ("ew") computes every value and overwrites what is stored.
	Regenerate = execute | write
	// Bypass ("e") computes every value and touches nothing on disk.
	Bypass = execute
)

// ErrInvalidAccess is returned, wrapped, by [ParseAccess] for a string that is
// not a valid access.
var ErrInvalidAccess = errors.New("invalid access")

// validForms is the error message's list of what is accepted.
const validForms = `valid access is "rew" (read, execute, write; the default), "re", "r" (read-only), "ew" (regenerate) or "e" (bypass); letters in any order, each at most once, w only with e`

// ParseAccess parses the letters r, e and w, in any order and each at most
// once, into an Access: ParseAccess("wer") is [ReadExecuteWrite]. It rejects
// an empty string, unknown letters, repeated letters and w without e with an
// error that wraps [ErrInvalidAccess] and lists the valid forms.
func ParseAccess(s string) (Access, error) {
	if s == "" {
		return 0, fmt.Errorf("cache: %w \"\": it is empty; %s", ErrInvalidAccess, validForms)
	}
	var a Access
	for _, c := range s {
		var bit Access
		switch c {
		case 'r':
			bit = read
		case 'e':
			bit = execute
		case 'w':
			bit = write
		default:
			return 0, fmt.Errorf("cache: %w %q: unknown letter %q; %s", ErrInvalidAccess, s, c, validForms)
		}
		if a&bit != 0 {
			return 0, fmt.Errorf("cache: %w %q: the letter %q is repeated; %s", ErrInvalidAccess, s, c, validForms)
		}
		a |= bit
	}
	if a&write != 0 && a&execute == 0 {
		return 0, fmt.Errorf("cache: %w %q: w without e writes nothing, since only an executed function has a value to write; %s", ErrInvalidAccess, s, validForms)
	}
	return a, nil
}

// EnvAccess is the environment variable that chooses the access of stores
// created without [WithAccess], in programs and tests alike.
const EnvAccess = "PECAPIKU_ACCESS"

// AccessFromEnv returns the access named by the environment variable
// PECAPIKU_ACCESS and true, or false when the variable is unset or empty. An
// invalid value is an error that names the variable.
func AccessFromEnv() (Access, bool, error) {
	s := os.Getenv(EnvAccess)
	if s == "" {
		return 0, false, nil
	}
	a, err := ParseAccess(s)
	if err != nil {
		return 0, false, fmt.Errorf("%s=%q: %w", EnvAccess, s, err)
	}
	return a, true, nil
}

// String returns the letters of a in canonical order: "rew", "re", "r", "ew"
// or "e". An Access that is not valid prints as "Access(n)".
func (a Access) String() string {
	if !a.Valid() {
		return fmt.Sprintf("Access(%d)", uint8(a))
	}
	var b strings.Builder
	if a.CanRead() {
		b.WriteByte('r')
	}
	if a.CanExecute() {
		b.WriteByte('e')
	}
	if a.CanWrite() {
		b.WriteByte('w')
	}
	return b.String()
}

// Valid reports whether a is one of the five valid accesses.
func (a Access) Valid() bool {
	switch a {
	case ReadExecuteWrite, ReadExecute, ReadOnly, Regenerate, Bypass:
		return true
	}
	return false
}

// CanRead reports whether a lets a stored entry be read.
func (a Access) CanRead() bool { return a&read != 0 }

// CanExecute reports whether a lets the function be executed.
func (a Access) CanExecute() bool { return a&execute != 0 }

// CanWrite reports whether a lets a result be written to the store.
func (a Access) CanWrite() bool { return a&write != 0 }

// MarshalText returns the canonical letters of a; see [Access.String].
func (a Access) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("cache: %w: %s", ErrInvalidAccess, a)
	}
	return []byte(a.String()), nil
}

// UnmarshalText parses text with [ParseAccess]. With it, an *Access is a
// flag value: flag.TextVar(&a, "access", cache.ReadExecuteWrite, "...").
func (a *Access) UnmarshalText(text []byte) error {
	parsed, err := ParseAccess(string(text))
	if err != nil {
		return err
	}
	*a = parsed
	return nil
}
