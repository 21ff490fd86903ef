package pecatest

import (
	"fmt"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
)

// What this test binary knows of each entry it used: who asked for it first,
// with which type, so that two calls that would share one file by mistake
// fail with a message that names both, rather than replay each other's
// values.
var (
	claims   sync.Map // cache.EntryID → *claim: the first call for each entry
	asked    sync.Map // askedKey → *site: the call site of a test's Memo of a name
	thisFile = func() string { _, file, _, _ := runtime.Caller(0); return filepath.Dir(file) }()
)

// claim is the first call of the test binary for an entry.
type claim struct {
	kind string // "Memo" or "Golden"
	typ  reflect.Type
	test string
	at   *site
}

// askedKey identifies a test's Memo of one key: the test by its TB value,
// so that the same test run again (go test -count=2) is a new test.
type askedKey struct {
	t   TB
	key string
}

// checkIdentity fails the call when it would share its entry's file with
// another that means something else: the same test asking Memo for one name
// twice (the second would get the first's value without running its
// function), or two calls using the entry with different types, or as a
// Memo and as a Golden. It returns the message, or "".
//
// A Memo reads the stack (its program counters only) to remember where the
// test asked for the name; a Golden of an entry that an earlier call
// claimed with the same kind and type, the usual case, reads it not at all.
// Only a message turns program counters into a file and a line.
func (c *call) checkIdentity(kind string, typ reflect.Type) string {
	var at *site
	if kind == "Memo" && reflect.TypeOf(c.t).Comparable() {
		at = callSite()
		k := askedKey{c.t, c.key}
		if first, loaded := asked.LoadOrStore(k, at); loaded {
			return fmt.Sprintf("pecatest: %s is asked for twice in this test, at %s and before at %s; give each Memo of a test a name of its own (the second would get the first's value without running its function)",
				c.name, at, first)
		}
		if cl, ok := c.t.(interface{ Cleanup(func()) }); ok {
			cl.Cleanup(func() { asked.Delete(k) })
		}
	}
	id, err := c.store.EntryID(c.key)
	if err != nil {
		return ""
	}
	v, loaded := claims.Load(id)
	if !loaded {
		if at == nil {
			at = callSite()
		}
		v, loaded = claims.LoadOrStore(id, &claim{kind: kind, typ: typ, test: c.t.Name(), at: at})
	}
	first := v.(*claim)
	if !loaded || first.kind == kind && first.typ == typ {
		return ""
	}
	if at == nil {
		at = callSite()
	}
	mine := &claim{kind: kind, typ: typ, test: c.t.Name(), at: at}
	return fmt.Sprintf("pecatest: %s is %s here, at %s, and %s in %s, at %s; an entry has one type: give one of them another name",
		c.name, mine.what(first), at, first.what(mine), first.test, first.at)
}

// what says what cl makes of its entry, next to other: "a []float64", or
// "the Golden of a map[string]float64" when their kinds differ.
func (cl *claim) what(other *claim) string {
	if cl.kind != other.kind {
		return "the " + cl.kind + " of a " + cl.typ.String()
	}
	return "a " + cl.typ.String()
}

// A site is where the test called Memo or Golden: the program counters of
// the calling goroutine's stack, read by callSite. Its String, "file.go:line"
// of the first frame outside this package's own code, is made only for a
// message, since resolving frames costs more than all the rest of a
// matching Golden's own work.
type site struct {
	pcs [16]uintptr
	n   int
}

// callSite returns the site of the call of Memo or Golden that is running.
func callSite() *site {
	s := &site{}
	s.n = runtime.Callers(2, s.pcs[:])
	return s
}

func (s *site) String() string {
	frames := runtime.CallersFrames(s.pcs[:s.n])
	for {
		f, more := frames.Next()
		if f.File != "" && (filepath.Dir(f.File) != thisFile || strings.HasSuffix(f.File, "_test.go")) {
			return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return "an unknown place"
		}
	}
}
