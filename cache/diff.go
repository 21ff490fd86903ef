package cache

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/aymanbagabas/go-udiff"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Diff returns the difference between x and y, "" when they are equal, as
// the round-trip check of a store and package pecatest's comparisons show
// it: lines starting with "-" hold what x has, lines starting with "+" what
// y has.
//
// Values are compared with go-cmp, unexported fields included, NaN equal to
// NaN, and with opts added. Two texts of several lines, strings or []byte
// holding UTF-8, are shown as a unified diff of their lines, so that a
// changed line of a report shows whole, old and new. A comparison that
// go-cmp refuses (it panics on some options and types) is an error.
func Diff(x, y any, opts ...cmp.Option) (diff string, err error) {
	defer func() {
		if p := recover(); p != nil {
			diff, err = "", fmt.Errorf("cannot compare the two values: %v", p)
		}
	}()
	// reflect.DeepEqual first: it compares a []byte of megabytes with
	// bytes.Equal where go-cmp walks it byte by byte, and what it finds
	// equal go-cmp does too.
	if reflect.DeepEqual(x, y) {
		return "", nil
	}
	opts = append([]cmp.Option{exportAll, cmpopts.EquateNaNs()}, opts...)
	if cmp.Equal(x, y, opts...) {
		return "", nil
	}
	if a, b, ok := texts(x, y); ok {
		return lineDiff(a, b), nil
	}
	return cmp.Diff(x, y, opts...), nil
}

// exportAll makes go-cmp compare unexported fields rather than panic on
// them: a value is all of what it holds.
var exportAll = cmp.Exporter(func(reflect.Type) bool { return true })

// texts returns x and y as strings when both are texts of more than one
// line: strings, or byte slices that hold UTF-8, of the same type.
func texts(x, y any) (a, b string, ok bool) {
	vx, vy := reflect.ValueOf(x), reflect.ValueOf(y)
	if !vx.IsValid() || !vy.IsValid() || vx.Type() != vy.Type() || !RawType(vx.Type()) {
		return "", "", false
	}
	if vx.Kind() == reflect.String {
		a, b = vx.String(), vy.String()
	} else {
		if !utf8.Valid(vx.Bytes()) || !utf8.Valid(vy.Bytes()) {
			return "", "", false
		}
		a, b = string(vx.Bytes()), string(vy.Bytes())
	}
	return a, b, strings.Contains(a, "\n") || strings.Contains(b, "\n")
}

// lineDiff returns the unified diff of the lines of a and b, without the
// file header: the hunks, each introduced by its "@@" line, and a note
// where a text does not end with a newline.
func lineDiff(a, b string) string {
	d := udiff.Unified("a", "b", a, b)
	if i := strings.Index(d, "@@"); i >= 0 {
		d = d[i:]
	}
	return d
}
