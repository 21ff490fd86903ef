package pecatest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// SensitiveHeaders lists the HTTP headers that [Transport] never records,
// in canonical form: the credentials a client sends and the sessions a
// server hands out. They are dropped from every recorded request and
// response before any hook of [WithRequestScrub] or [WithResponseScrub]
// runs, and the client is given the response without them in every run,
// recording or replaying, so that both behave alike.
func SensitiveHeaders() []string {
	return []string{
		"Authorization",
		"Cookie",
		"Private-Token", // GitLab
		"Proxy-Authorization",
		"Set-Cookie",
		"X-Amz-Security-Token",
		"X-Amz-Server-Side-Encryption-Customer-Key",
		"X-Api-Key",
		"X-Auth-Token",
		"X-Goog-Api-Key",
		"X-Vault-Token",
	}
}

// sensitiveHeaders is the set of SensitiveHeaders, built once.
var sensitiveHeaders = func() map[string]bool {
	m := map[string]bool{}
	for _, h := range SensitiveHeaders() {
		m[h] = true
	}
	return m
}()

// scrubbing is what a call was told about scrubbing: the function of
// WithScrub (a func(T) T, held as any since settings has no type parameter),
// the type T it takes, and whether AllowCredentials lifted the check.
type scrubbing struct {
	fn    any
	typ   reflect.Type
	allow bool
}

// WithScrub has [Memo] and [Golden] pass their value through scrub before
// anything else sees it: Memo scrubs what its function returns before it is
// encoded, checked, written, compared by drift verification and returned;
// Golden scrubs got before it is compared or recorded. The recording run and
// every replay thus return the same, scrubbed value. scrub may change its
// argument in place (a map, say) and return it.
//
// T must be the type of the value: WithScrub(func(c Config) Config) given to
// a Memo of another type fails the test at once. A nil scrub is none, and
// of two WithScrub the last counts. For [Transport], see
// [WithRequestScrub] and [WithResponseScrub].
func WithScrub[T any](scrub func(T) T) Option {
	return func(s *settings) {
		if scrub == nil { // no scrub, rather than one that panics
			s.scrub.fn, s.scrub.typ = nil, nil
			return
		}
		s.scrub.fn, s.scrub.typ = scrub, reflect.TypeFor[T]()
	}
}

// AllowCredentials lets the call record values that look like credentials
// (see [ErrCredential]): use it for fixtures that hold known fakes, such as a
// test server's own signing key.
func AllowCredentials() Option { return func(s *settings) { s.scrub.allow = true } }

// ErrCredential is wrapped by the errors of recordings refused because they
// hold something that looks like a credential. The patterns are:
//
//   - an AWS access key ID: AKIA (long-term) or ASIA (temporary) and 16
//     capital letters or digits, except the documentation's examples, which
//     end in EXAMPLE (AKIAIOSFODNN7EXAMPLE);
//   - a bearer token: "Bearer " and 20 or more token characters, or a JSON
//     Web Token (three base64url parts, the first two starting with "eyJ");
//   - a private key block: "-----BEGIN ... PRIVATE KEY-----", of any kind
//     (RSA, EC, OPENSSH, ENCRYPTED, PGP ... BLOCK).
//
// Memo and Golden check every string and []byte the value holds, at any
// depth, and name the field; Transport checks the URL, every header and both
// bodies of each exchange (a gzip-encoded body after decompressing it) and
// names the part. The check runs only when the value is about to be written
// (access with w), after scrubbing. The error shows a credential's first
// characters only, so that the failure does not leak it into a CI log.
var ErrCredential = errors.New("holds what looks like a credential")

// credentialPattern is one kind of credential the check looks for.
//
// Every match starts with one of a few literals, and the check looks for
// those first, at memory speed, then tries the regular expression only
// where one starts, on a window of the longest match: run over a whole
// body instead, the expressions made recording a body of a megabyte take
// ten times as long, and a hundred times where the literals occur.
type credentialPattern struct {
	what      string         // "an AWS access key ID"
	lits      []string       // what a match starts with
	fold      bool           // the literals in any case (they are lower case)
	wordStart bool           // a match does not follow a letter, digit or _
	re        *regexp.Regexp // a match, from the start of the window
	max       int            // the length of the window after a literal
	shown     int            // how many leading bytes a message may show
	example   string         // the end of the documentation's examples, which are no match
}

var credentialPatterns = []credentialPattern{
	{
		what:      "an AWS access key ID",
		lits:      []string{"AKIA", "ASIA"},
		wordStart: true,
		re:        regexp.MustCompile(`^(?:AKIA|ASIA)[A-Z0-9]{16}\b`),
		max:       20,
		shown:     4,
		example:   "EXAMPLE",
	},
	{
		what:      "a bearer token",
		lits:      []string{"bearer"},
		fold:      true,
		wordStart: true,
		re:        regexp.MustCompile(`(?i)^bearer[ \t]+[A-Za-z0-9._~+/-]{20,}=*`),
		max:       8 << 10,
		shown:     len("Bearer "),
	},
	{
		what:      "a JSON Web Token",
		lits:      []string{"eyJ"},
		wordStart: true,
		re:        regexp.MustCompile(`^eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),
		max:       16 << 10,
		shown:     3,
	},
	{
		what:  "a private key block",
		lits:  []string{"-----BEGIN"},
		re:    regexp.MustCompile(`^-----BEGIN[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----`),
		max:   100,
		shown: 1 << 10, // the BEGIN line is not the secret; it says what is
	},
}

// text is what the check reads: a string or a []byte, read where it is,
// so that checking a string costs no copy of it.
type text interface{ ~string | ~[]byte }

// matches returns where in data the pattern p matches, in order, at most n
// of them (n < 0 for all).
func matches[S text](p credentialPattern, data S, n int) [][2]int {
	var locs [][2]int
	for _, lit := range p.lits {
		find := newLitFinder(data, lit, p.fold)
		for off := 0; off < len(data) && n != 0; {
			i := find.from(off)
			if i < 0 {
				break
			}
			off = i + 1
			if p.wordStart && i > 0 && isWordByte(data[i-1]) {
				continue
			}
			// One byte more than the longest match, so that a \b at its
			// end sees what follows.
			loc := findIndex(p.re, data[i:min(len(data), i+p.max+1)])
			if loc == nil || p.example != "" && hasSuffix(data[i:i+loc[1]], p.example) {
				continue
			}
			locs = append(locs, [2]int{i, i + loc[1]})
			off = i + loc[1]
			n--
		}
	}
	slices.SortFunc(locs, func(a, b [2]int) int { return a[0] - b[0] })
	return locs
}

// indexLit returns the index of lit in data, in any case with fold, or -1.
func indexLit[S text](data S, lit string, fold bool) int {
	f := newLitFinder(data, lit, fold)
	return f.from(0)
}

// The functions below are those of packages bytes, strings and regexp for
// a text of either kind; the type switches cost no allocation.

func indexByte[S text](s S, c byte) int {
	switch s := any(s).(type) {
	case string:
		return strings.IndexByte(s, c)
	case []byte:
		return bytes.IndexByte(s, c)
	}
	return bytes.IndexByte([]byte(s), c) // a named type
}

func equalFold[S text](s S, lit string) bool {
	switch s := any(s).(type) {
	case string:
		return strings.EqualFold(s, lit)
	case []byte:
		return bytes.EqualFold(s, []byte(lit))
	}
	return strings.EqualFold(string(s), lit)
}

// equal reports whether s is lit, byte for byte: lit is short, and a
// conversion to string might copy s.
func equal[S text](s S, lit string) bool {
	if len(s) != len(lit) {
		return false
	}
	for i := 0; i < len(lit); i++ {
		if s[i] != lit[i] {
			return false
		}
	}
	return true
}

func hasSuffix[S text](s S, suffix string) bool {
	return len(s) >= len(suffix) && equal(s[len(s)-len(suffix):], suffix)
}

func findIndex[S text](re *regexp.Regexp, s S) []int {
	switch s := any(s).(type) {
	case string:
		return re.FindStringIndex(s)
	case []byte:
		return re.FindIndex(s)
	}
	return re.FindIndex([]byte(s))
}

// A litFinder finds the literal lit (lower case, with fold) in data, from
// offsets that only grow. With fold, it finds the first letter in either
// case with two IndexByte, which are many times faster than one IndexAny
// with both: it remembers the next lower case one until it is passed, and
// looks for the upper case one only up to it, so that each byte is looked
// at a bounded number of times, however the cases mix and however many
// times it is asked.
//
// Without fold, it looks for lit's first capital letter (the J of "eyJ")
// with IndexByte, and compares lit around each one found. bytes.Index looks
// for the first byte, and text is full of e: "eyJ" took it 30 times as long
// in a kilobyte of prose as a letter that text seldom holds.
type litFinder[S text] struct {
	data      S
	lit       string
	fold      bool
	nextLower int // the next lower case first letter, len(data) for none, -1 before the first look
	capital   int // the index in lit of its first capital letter, 0 if it has none
}

func newLitFinder[S text](data S, lit string, fold bool) litFinder[S] {
	return litFinder[S]{data: data, lit: lit, fold: fold, nextLower: -1,
		capital: max(0, strings.IndexFunc(lit, func(r rune) bool { return 'A' <= r && r <= 'Z' }))}
}

// from returns the index of the first lit in data at or after off, or -1.
func (f *litFinder[S]) from(off int) int {
	data, lit := f.data, f.lit
	if !f.fold {
		k := f.capital
		for len(data)-off >= len(lit) {
			j := indexByte(data[off+k:len(data)-len(lit)+k+1], lit[k])
			if j < 0 {
				return -1
			}
			if i := off + j; equal(data[i:i+len(lit)], lit) {
				return i
			}
			off += j + 1
		}
		return -1
	}
	lower, upper := lit[0], lit[0]-'a'+'A'
	for len(data)-off >= len(lit) {
		if f.nextLower < off {
			f.nextLower = len(data)
			if i := indexByte(data[off:], lower); i >= 0 {
				f.nextLower = off + i
			}
		}
		i := f.nextLower
		if j := indexByte(data[off:f.nextLower], upper); j >= 0 {
			i = off + j
		}
		if len(data)-i < len(lit) {
			return -1
		}
		if equalFold(data[i:i+len(lit)], lit) {
			return i
		}
		off = i + 1
	}
	return -1
}

func isWordByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '_'
}

// credential is one credential-looking thing found in a recording.
type credential struct {
	where string // the field or part: ".Auth.Token", "the response body"
	what  string // "an AWS access key ID"
	shown string // its first characters, and how long it is
}

// String says where and what the credential is; a place named by a map key
// that is itself a credential is shown masked too.
func (c credential) String() string {
	return maskCredentials(c.where) + " holds " + c.what + " (" + c.shown + ")"
}

// findCredentials returns what in data looks like a credential, naming its
// place where: the first of each kind, which is enough to say where to
// look.
func findCredentials[S text](where string, data S) []credential {
	var found []credential
	for _, p := range credentialPatterns {
		for _, loc := range matches(p, data, 1) {
			m := data[loc[0]:loc[1]]
			shown := fmt.Sprintf("%q, %d characters", m, len(m))
			if len(m) > p.shown {
				shown = fmt.Sprintf("%q…, %d characters", m[:p.shown], len(m))
			}
			found = append(found, credential{where: where, what: p.what, shown: shown})
		}
	}
	return found
}

// maskCredentials returns s with what looks like a credential in it cut
// to the characters a message may show, for naming a URL that holds one.
func maskCredentials(s string) string {
	for _, p := range credentialPatterns {
		locs := matches(p, s, -1)
		for i := len(locs) - 1; i >= 0; i-- {
			if loc := locs[i]; loc[1]-loc[0] > p.shown {
				s = s[:loc[0]+p.shown] + "…" + s[loc[1]:]
			}
		}
	}
	return s
}

// credentialError returns the error that refuses a recording for holding
// found, or nil when found is empty: what begins it ("pecatest: TestA/x is
// not recorded: its value"), and fix says how to scrub it.
func credentialError(what string, found []credential, fix string) error {
	if len(found) == 0 {
		return nil
	}
	slices.SortStableFunc(found, func(a, b credential) int { return strings.Compare(a.where, b.where) })
	const most = 10
	lines := make([]string, 0, most+1)
	for i, c := range found {
		if i == most {
			lines = append(lines, fmt.Sprintf("and %d more", len(found)-most))
			break
		}
		lines = append(lines, c.String())
	}
	return fmt.Errorf("%s %w:\n\t%s\n%s, or allow it with pecatest.AllowCredentials() if it is a known fake",
		what, ErrCredential, strings.Join(lines, "\n\t"), fix)
}

// scrubbedFn returns fn followed by the scrub of c's WithScrub option and,
// when c may write, by the credential check; it fails when that option's
// function takes another type than T. Memo calls it first, so that a wrong
// type fails the test whether the value is recorded or not.
func scrubbedFn[T any](c *call, fn func() (T, error)) (func() (T, error), error) {
	scrub, err := scrubFor[T](c)
	if err != nil {
		return nil, err
	}
	return func() (T, error) {
		v, err := fn()
		if err != nil {
			return v, err
		}
		if scrub != nil {
			v = scrub(v)
		}
		if c.access.CanWrite() {
			if err := c.refuseCredentials(v); err != nil {
				var zero T
				return zero, err
			}
		}
		return v, nil
	}, nil
}

// scrubGot returns got passed through the scrub of c's WithScrub option,
// for Golden.
func scrubGot[T any](c *call, got T) (T, error) {
	scrub, err := scrubFor[T](c)
	if err != nil || scrub == nil {
		return got, err
	}
	return scrub(got), nil
}

// scrubFor returns the function of c's WithScrub option, nil for none.
func scrubFor[T any](c *call) (func(T) T, error) {
	if c.set.scrub.fn == nil {
		return nil, nil
	}
	scrub, ok := c.set.scrub.fn.(func(T) T)
	if !ok {
		return nil, fmt.Errorf("pecatest: %s: pecatest.WithScrub was given a func(%s) %s, but the value is a %s; give it a func(%s) %s",
			c.name, c.set.scrub.typ, c.set.scrub.typ, reflect.TypeFor[T](), reflect.TypeFor[T](), reflect.TypeFor[T]())
	}
	return scrub, nil
}

// refuseCredentials returns an error naming each field of v that looks like
// a credential, unless the call allows them.
func (c *call) refuseCredentials(v any) error {
	if c.set.scrub.allow {
		return nil
	}
	var found []credential
	walkStrings(reflect.ValueOf(v), "", &visits{}, func(path string, v reflect.Value) {
		if path == "" {
			path = "the value"
		}
		if v.Kind() == reflect.String {
			found = append(found, findCredentials(path, v.String())...)
		} else {
			found = append(found, findCredentials(path, v.Bytes())...)
		}
	})
	if len(found) == 0 {
		return nil
	}
	return credentialError("pecatest: "+c.name+" is not recorded: its value", found, "Remove it with pecatest.WithScrub")
}

// visit identifies a pointer, map or slice already walked, so that a value
// that refers to itself is walked once.
type visit struct {
	ptr uintptr
	typ reflect.Type
	len int
}

// visits are the pointers, maps and slices a walk has been through. The
// map is made at the first: most values recorded are a string or a slice
// of structs without pointers.
type visits struct{ m map[visit]bool }

// first reports whether k is visited for the first time, and notes it.
func (v *visits) first(k visit) bool {
	if v.m[k] {
		return false
	}
	if v.m == nil {
		v.m = map[visit]bool{}
	}
	v.m[k] = true
	return true
}

// walkStrings calls f with every string and []byte that v holds, at any
// depth, unexported fields included, and the path that leads to it in the
// form of go-cmp's diffs: .Field, [3], ["key"].
func walkStrings(v reflect.Value, path string, seen *visits, f func(path string, v reflect.Value)) {
	switch v.Kind() {
	case reflect.String:
		f(path, v)
	case reflect.Slice:
		if v.IsNil() {
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			f(path, v)
			return
		}
		k := visit{v.Pointer(), v.Type(), v.Len()}
		if !seen.first(k) {
			return
		}
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), seen, f)
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), fmt.Sprintf("%s[%d]", path, i), seen, f)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		k := visit{v.Pointer(), v.Type(), 0}
		if !seen.first(k) {
			return
		}
		for it := v.MapRange(); it.Next(); {
			key := it.Key()
			var at string
			if key.Kind() == reflect.String {
				at = fmt.Sprintf("%s[%q]", path, key.String())
			} else {
				at = fmt.Sprintf("%s[%v]", path, key)
			}
			walkStrings(key, at+" (the key)", seen, f)
			walkStrings(it.Value(), at, seen, f)
		}
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		k := visit{v.Pointer(), v.Type(), 0}
		if !seen.first(k) {
			return
		}
		walkStrings(v.Elem(), path, seen, f)
	case reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, seen, f)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			walkStrings(v.Field(i), path+"."+t.Field(i).Name, seen, f)
		}
	}
}

// exchangeCredentials returns what in the recorded exchange looks like a
// credential, naming the part that holds it.
func exchangeCredentials(req *HTTPRequest, resp *HTTPResponse) []credential {
	found := findCredentials("the URL", req.URL)
	found = append(found, headerCredentials("request", req.Header)...)
	found = append(found, bodyCredentials("the request body", req.Header, req.Body)...)
	found = append(found, headerCredentials("response", resp.Header)...)
	return append(found, bodyCredentials("the response body", resp.Header, resp.Body)...)
}

func headerCredentials(side string, h http.Header) []credential {
	var found []credential
	for name, values := range h {
		for _, v := range values {
			found = append(found, findCredentials(fmt.Sprintf("the %s header %s", side, name), v)...)
		}
	}
	return found
}

// maxInflated bounds how much of a gzip-encoded body the check decompresses.
const maxInflated = 64 << 20

// bodyCredentials checks a body as it is and, when its header says it is
// gzip-encoded, decompressed: the credential a client would see.
func bodyCredentials(where string, h http.Header, body []byte) []credential {
	found := findCredentials(where, body)
	if strings.EqualFold(strings.TrimSpace(h.Get("Content-Encoding")), "gzip") {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if plain, err := io.ReadAll(io.LimitReader(zr, maxInflated)); err == nil || len(plain) > 0 {
				found = append(found, findCredentials(where+" (decompressed)", plain)...)
			}
		}
	}
	return found
}

// dropSensitive removes the SensitiveHeaders from h, in place.
func dropSensitive(h http.Header) {
	for name := range h {
		if sensitiveHeaders[http.CanonicalHeaderKey(name)] {
			delete(h, name)
		}
	}
}
