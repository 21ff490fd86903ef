package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
	"github.com/pecapiku/pecapiku/internal/gobdump"
)

var showCommand = &command{
	name:    "show",
	usage:   "show [-max-size SIZE] [-max-depth N] [-max-output SIZE] ENTRY",
	summary: "print an entry",
	help: `Show prints the entry in the file ENTRY (a .json, .gob or .raw file): a
path, or the URL of an entry on a shared store (s3://bucket/prefix/...).

JSON and raw entries are printed as they are, byte for byte, when the
output is a file or a pipe. On a terminal, the control characters of the
entry other than newline and tab, which a terminal would obey (escape
sequences move the cursor, clear the screen or retitle the window), and
bytes that are not UTF-8 are printed escaped, as Go writes them in a
string: \x1b, \r, \u0085.

A gob entry is printed as its size, the types its stream declares and its
value as a Go-like literal, read without the Go types that wrote it. Gob
sends no Go sizes: every signed integer is an int, every unsigned one a
uint, every float a float. It leaves out struct fields that hold their
zero value, so the dump does too. Types that encode themselves (time.Time,
for one) are shown as the bytes their method produced. A few kilobytes of
gob can describe a value whose dump is huge: values nested deeper than
-max-depth are shown as …, and the dump stops after -max-output; a last
line says what was cut.

When a gob entry does not read to its end, show prints the types read
before the failure, and the failure, with exit status 1.

Show reads only regular files, and none larger than -max-size, which it
refuses before reading them.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		maxSize := sizeFlag(fs)
		depth := fs.Int("max-depth", gobdump.DefaultLimits.Depth, "show gob values nested at most `N` levels deep")
		output := byteSize(gobdump.DefaultLimits.Bytes)
		fs.Var(&output, "max-output", "stop a gob dump after `SIZE`")
		return func(e *env, args []string) error {
			return show(e, args, int64(*maxSize), gobdump.Limits{Depth: *depth, Bytes: int(output)})
		}
	},
}

// sizeFlag defines the -max-size flag of the commands that read entries.
func sizeFlag(flags *flag.FlagSet) *byteSize {
	size := byteSize(fs.DefaultMaxSize)
	flags.Var(&size, "max-size", "read no entry larger than `SIZE` (bytes, or with a unit: 512KiB, 64MiB, 2GiB)")
	return &size
}

// byteSize is a flag that holds a size in bytes, given as a number with an
// optional unit: 1048576, 1024KiB, 1MiB, 1MB (also a power of 1024, as for
// files). The standard library has no parser of sizes, and a two-line table
// does not call for a dependency.
type byteSize int64

// String returns the size as Set reads it: "1GiB", "1536KiB", "100".
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		name  string
		shift uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		shift  uint
	}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"KB", 10}, {"MB", 20}, {"GB", 30}, {"TB", 40}, {"K", 10}, {"M", 20}, {"G", 30}, {"B", 0}}
	num, shift := strings.TrimSpace(s), uint(0)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, shift = strings.TrimSpace(n), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)>>shift {
		return fmt.Errorf("%q is not a size: give a positive number of bytes, or one with a unit (512KiB, 64MiB, 2GiB)", s)
	}
	*b = byteSize(n << shift)
	return nil
}

func show(e *env, args []string, maxSize int64, lim gobdump.Limits) error {
	if len(args) != 1 {
		return usageError{fmt.Sprintf("want one ENTRY, got %d arguments", len(args))}
	}
	p, err := e.place(args[0])
	if err != nil {
		return err
	}
	data, err := readEntry(p.fsys, p.path, maxSize)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if codecOf(p.path) != cache.Gob {
		if isTerminal(e.stdout) {
			data = []byte(escapeControls(string(data)))
		}
		_, err := e.stdout.Write(data)
		return err
	}
	fmt.Fprintf(e.stdout, "%s: gob, %s\n", args[0], plural(len(data), "byte", "bytes"))
	if err := gobdump.DumpLimited(e.stdout, data, lim); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

// isTerminal reports whether w is a terminal: a character device, as a
// terminal is (and /dev/null, where escaping does no harm). It needs no
// dependency, which golang.org/x/term would be, for one bit of a stat.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// escapeControls returns s with its control characters other than newline
// and tab, and its bytes that are not UTF-8, escaped as in a Go string
// literal: what a terminal would obey is shown instead.
func escapeControls(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 || r == '\u2028' || r == '\u2029':
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// readEntry returns the content of the entry in the file path on fsys,
// which must be a regular file with a codec's extension, of at most limit
// bytes: it is read as a store reads it (see fs.ReadFile), refused before
// anything is allocated when it is larger, without blocking when it is a
// named pipe. Its errors do not repeat the path.
func readEntry(fsys afero.Fs, path string, limit int64) ([]byte, error) {
	if codecOf(path) == nil {
		return nil, fmt.Errorf("not an entry: its extension is not %s", extensions())
	}
	data, err := fs.ReadFile(fsys, path, limit)
	if err == nil {
		return data, nil
	}
	why := strings.TrimPrefix(err.Error(), "fs: read "+path+": ")
	switch {
	case errors.Is(err, fs.ErrIsDir):
		return nil, errors.New("not an entry: not a regular file")
	case errors.Is(err, fs.ErrNotRegular):
		return nil, fmt.Errorf("not an entry: %s", why)
	case errors.Is(err, fs.ErrTooLarge):
		return nil, fmt.Errorf("%s; if it is meant to be that large, raise the limit with -max-size", why)
	}
	return nil, &messageError{why, err}
}

// messageError is err with another message, which does not repeat the
// path.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg }
func (e *messageError) Unwrap() error { return e.err }
