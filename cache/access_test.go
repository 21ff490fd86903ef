package cache_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

func TestParseAccess(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cache.Access
	}{
		{"rew", cache.ReadExecuteWrite},
		{"wer", cache.ReadExecuteWrite},
		{"ewr", cache.ReadExecuteWrite},
		{"re", cache.ReadExecute},
		{"er", cache.ReadExecute},
		{"r", cache.ReadOnly},
		{"ew", cache.Regenerate},
		{"we", cache.Regenerate},
		{"e", cache.Bypass},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cache.ParseAccess(tc.in)
			assert.NilError(t, err)
			assert.Equal(t, got, tc.want)
			assert.Assert(t, got.Valid())
		})
	}
}

func TestParseAccessInvalid(t *testing.T) {
	const valid = `; valid access is "rew" (read, execute, write; the default), "re", "r" (read-only), "ew" (regenerate) or "e" (bypass); letters in any order, each at most once, w only with e`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"empty", "", `cache: invalid access "": it is empty` + valid},
		{"unknown letter", "rx", `cache: invalid access "rx": unknown letter 'x'` + valid},
		{"upper case", "REW", `cache: invalid access "REW": unknown letter 'R'` + valid},
		{"space", "r w", `cache: invalid access "r w": unknown letter ' '` + valid},
		{"comma", "r,e", `cache: invalid access "r,e": unknown letter ','` + valid},
		{"repeated", "rr", `cache: invalid access "rr": the letter 'r' is repeated` + valid},
		{"repeated later", "rewe", `cache: invalid access "rewe": the letter 'e' is repeated` + valid},
		{"w alone", "w", `cache: invalid access "w": w without e writes nothing, since only an executed function has a value to write` + valid},
		{"rw", "rw", `cache: invalid access "rw": w without e writes nothing, since only an executed function has a value to write` + valid},
		{"unicode", "ré", `cache: invalid access "ré": unknown letter 'é'` + valid},
		{"word", "read", `cache: invalid access "read": unknown letter 'a'` + valid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cache.ParseAccess(tc.in)
			assert.Assert(t, errors.Is(err, cache.ErrInvalidAccess))
			assert.Error(t, err, tc.want)
		})
	}
}

func TestAccessString(t *testing.T) {
	for a, want := range map[cache.Access]string{
		cache.ReadExecuteWrite: "rew",
		cache.ReadExecute:      "re",
		cache.ReadOnly:         "r",
		cache.Regenerate:       "ew",
		cache.Bypass:           "e",
		0:                      "Access(0)",
		cache.Access(4):        "Access(4)",
		cache.Access(200):      "Access(200)",
	} {
		assert.Equal(t, a.String(), want)
		if a.Valid() {
			back, err := cache.ParseAccess(a.String())
			assert.NilError(t, err)
			assert.Equal(t, back, a)
		}
	}
}

func TestAccessLetters(t *testing.T) {
	for _, tc := range []struct {
		a             cache.Access
		r, e, w, good bool
	}{
		{cache.ReadExecuteWrite, true, true, true, true},
		{cache.ReadExecute, true, true, false, true},
		{cache.ReadOnly, true, false, false, true},
		{cache.Regenerate, false, true, true, true},
		{cache.Bypass, false, true, false, true},
		{0, false, false, false, false},
	} {
		assert.Equal(t, tc.a.CanRead(), tc.r, tc.a)
		assert.Equal(t, tc.a.CanExecute(), tc.e, tc.a)
		assert.Equal(t, tc.a.CanWrite(), tc.w, tc.a)
		assert.Equal(t, tc.a.Valid(), tc.good, tc.a)
	}
}

func TestAccessFlag(t *testing.T) {
	set := flag.NewFlagSet("test", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	var a cache.Access
	set.TextVar(&a, "access", cache.ReadExecuteWrite, "access letters")
	assert.Equal(t, a, cache.ReadExecuteWrite)

	assert.NilError(t, set.Parse([]string{"-access=we"}))
	assert.Equal(t, a, cache.Regenerate)

	err := set.Parse([]string{"-access=wr"})
	assert.ErrorContains(t, err, `invalid value "wr" for flag -access: cache: invalid access "wr": w without e`)
	assert.Equal(t, a, cache.Regenerate, "a failed parse must leave the value alone")

	text, err := cache.ReadOnly.MarshalText()
	assert.NilError(t, err)
	assert.Equal(t, string(text), "r")
	_, err = cache.Access(0).MarshalText()
	assert.Assert(t, errors.Is(err, cache.ErrInvalidAccess))
}

func TestAccessFromEnv(t *testing.T) {
	t.Setenv(cache.EnvAccess, "")
	_, ok, err := cache.AccessFromEnv()
	assert.NilError(t, err)
	assert.Assert(t, !ok)

	t.Setenv(cache.EnvAccess, "er")
	a, ok, err := cache.AccessFromEnv()
	assert.NilError(t, err)
	assert.Assert(t, ok)
	assert.Equal(t, a, cache.ReadExecute)

	t.Setenv(cache.EnvAccess, "x")
	_, _, err = cache.AccessFromEnv()
	assert.Assert(t, errors.Is(err, cache.ErrInvalidAccess))
	assert.ErrorContains(t, err, `PECAPIKU_ACCESS="x": cache: invalid access "x": unknown letter 'x'`)
}

// FuzzParseAccess checks, for any string, that ParseAccess either returns one
// of the five accesses, spelled with the same letters as the input, or an
// error wrapping ErrInvalidAccess that quotes the input; never a panic, and
// UnmarshalText agrees. Its seed corpus runs in every go test.
func FuzzParseAccess(f *testing.F) {
	for _, seed := range []string{"", "r", "re", "rew", "wer", "ew", "e", "w", "rw", "rr", "rewe", "R", "r w", "ré", "\x00", "\xff", "rew\n", " rew"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := cache.ParseAccess(s)
		var b cache.Access
		uerr := b.UnmarshalText([]byte(s))
		if (err == nil) != (uerr == nil) || a != b {
			t.Fatalf("ParseAccess(%q) = %v, %v but UnmarshalText gives %v, %v", s, a, err, b, uerr)
		}
		if err != nil {
			if !errors.Is(err, cache.ErrInvalidAccess) {
				t.Fatalf("ParseAccess(%q): %v does not wrap ErrInvalidAccess", s, err)
			}
			if a != 0 {
				t.Fatalf("ParseAccess(%q) failed but returned %v", s, a)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", s)) {
				t.Fatalf("ParseAccess(%q): the error does not quote the input: %v", s, err)
			}
			return
		}
		if !a.Valid() {
			t.Fatalf("ParseAccess(%q) = %v, which is not valid", s, a)
		}
		letters := []byte(s)
		sort.Slice(letters, func(i, j int) bool {
			return strings.IndexByte("rew", letters[i]) < strings.IndexByte("rew", letters[j])
		})
		if string(letters) != a.String() {
			t.Fatalf("ParseAccess(%q) = %v, spelled with other letters", s, a)
		}
		if back, err := cache.ParseAccess(a.String()); err != nil || back != a {
			t.Fatalf("ParseAccess(%q) = %v, but its spelling parses to %v, %v", s, a, back, err)
		}
	})
}
