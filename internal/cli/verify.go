package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/gobdump"
)

var verifyCommand = &command{
	name:    "verify",
	usage:   "verify [-max-size SIZE] [-store DIR]... [PATH...]",
	summary: "check that every entry decodes",
	help: `Verify decodes every entry of the stores it finds (as ls finds them, on
the shared store of PECAPIKU_STORE too) and reports each entry that is empty, truncated, corrupt or unreadable, and each
leftover of an interrupted write, one line each. Then it prints a line per
store: "ok" when all is well, "FAIL" otherwise. The exit status is 1 when it
finds a problem.

A JSON entry must hold one JSON value and nothing after it. A gob entry must
be one whole gob stream holding one value; verify reads it without the Go
types that wrote it, and reports too the damage gob's own decoder would not
notice (bytes left over inside a message, say). Any content is a valid raw
entry, none included: an empty raw entry is how pecatest.Golden records an
empty string.

Verify reads entries as stores read them: only regular files, and none
larger than -max-size, which it reports as unreadable without reading them
(a named pipe would block the reader, a sparse file of gigabytes would
exhaust its memory). A store whose directory is a symbolic link is read
through it; no link below it is followed.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var stores listStrings
		fs.Var(&stores, "store", "also verify the store in `DIR`, whatever its name (repeatable)")
		maxSize := sizeFlag(fs)
		return func(e *env, args []string) error { return verify(e, args, stores, int64(*maxSize)) }
	},
}

func verify(e *env, paths, stores []string, maxSize int64) error {
	places, err := findPlaces(e, paths, stores)
	if err != nil {
		return err
	}
	if len(places) == 0 {
		fmt.Fprintf(e.stdout, "no stores found (a store is a directory named %s, or one given with -store)\n", storeDirName)
		return nil
	}
	failed := false
	for _, p := range places {
		c, err := read(p)
		if err != nil {
			return err
		}
		problems := 0
		for _, en := range c.entries {
			if kind, err := check(p.fsys, en, maxSize); kind != "" {
				fmt.Fprintf(e.stdout, "%s: %s: %v\n", e.name(p, en.Path), kind, err)
				problems++
			}
		}
		for _, l := range c.leftovers {
			fmt.Fprintf(e.stdout, "%s: leftover of an interrupted write; nothing reads it (pecapiku prune removes it)\n", e.name(p, l))
			problems++
		}
		summary := plural(len(c.entries), "entry", "entries")
		if problems > 0 {
			failed = true
			fmt.Fprintf(e.stdout, "FAIL  %s  %s, %s\n", e.name(p, p.path), summary, plural(problems, "problem", "problems"))
		} else {
			fmt.Fprintf(e.stdout, "ok    %s  %s\n", e.name(p, p.path), summary)
		}
	}
	if failed {
		return errFound
	}
	return nil
}

// check decodes the entry en on fsys and returns what is wrong with it, ""
// when nothing is: "unreadable", "empty", "truncated" or "corrupt", and why.
func check(fsys afero.Fs, en cache.Entry, maxSize int64) (kind string, err error) {
	data, err := readEntry(fsys, en.Path, maxSize)
	if err != nil {
		return "unreadable", err
	}
	switch en.Codec {
	case cache.Raw:
		return "", nil
	case cache.Gob:
		err = gobdump.Check(data)
	default:
		var v json.RawMessage
		err = en.Codec.Unmarshal(data, &v)
	}
	switch {
	case err == nil:
		return "", nil
	case len(data) == 0:
		return "empty", errors.New("the file is empty; a value was expected")
	case en.Codec == cache.JSON && len(bytes.TrimSpace(data)) == 0:
		return "empty", errors.New("the file holds only white space; a value was expected")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated", err
	default:
		return "corrupt", err
	}
}
