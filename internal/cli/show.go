package cli

import (
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/gobdump"
)

var showCommand = &command{
	name:    "show",
	usage:   "show ENTRY",
	summary: "print an entry",
	help: `Show prints the entry in the file ENTRY (a .json, .gob or .raw file): a
path, or the URL of an entry on a shared store (s3://bucket/prefix/...).

JSON and raw entries are printed as they are, byte for byte. A gob entry is
printed as its size, the types its stream declares and its value as a
Go-like literal, read without the Go types that wrote it. Gob sends no Go
sizes: every signed integer is an int, every unsigned one a uint, every
float a float. It leaves out struct fields that hold their zero value, so
the dump does too. Types that encode themselves (time.Time, for one) are
shown as the bytes their method produced.

When a gob entry does not read to its end, show prints the types read
before the failure, and the failure, with exit status 1.
`,
	setup: func(*flag.FlagSet) func(*env, []string) error { return show },
}

func show(e *env, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Sprintf("want one ENTRY, got %d arguments", len(args))}
	}
	p, err := e.place(args[0])
	if err != nil {
		return err
	}
	data, err := readEntry(p.fsys, p.path)
	if err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	if codecOf(p.path) != cache.Gob {
		_, err := e.stdout.Write(data)
		return err
	}
	fmt.Fprintf(e.stdout, "%s: gob, %s\n", args[0], plural(len(data), "byte", "bytes"))
	if err := gobdump.Dump(e.stdout, data); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	return nil
}

// readEntry returns the content of the entry in the file path on fsys,
// which must be a regular file with a codec's extension. Its errors do not
// repeat the path.
func readEntry(fsys afero.Fs, path string) ([]byte, error) {
	if codecOf(path) == nil {
		return nil, fmt.Errorf("not an entry: its extension is not %s", extensions())
	}
	info, err := fsys.Stat(path)
	if err != nil {
		return nil, pathless(err)
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("not an entry: not a regular file")
	}
	data, err := afero.ReadFile(fsys, path)
	return data, pathless(err)
}

// pathless returns the error inside an *fs.PathError, for messages that name
// the path already.
func pathless(err error) error {
	var pe *iofs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
