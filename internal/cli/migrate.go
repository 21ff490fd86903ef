package cli

import (
	"flag"
	"fmt"

	"github.com/pecapiku/pecapiku/cache"
)

var migrateCommand = &command{
	name:    "migrate",
	usage:   "migrate [--dry-run] [-store DIR]... [PATH...]",
	summary: "move entries that older versions laid out to their new paths",
	help: `Migrate moves the entries that an older version of pecapiku recorded where
this version does not look for them first: those below a directory named like
an entry's file, with a .json, .gob or .raw extension in any case (the
directory of a subtest named config.json), which this version names
config.json~587cb980af76 so that it never stands where the file of an entry
(Memo "config") must go. It moves each entry byte for byte, and removes the
directories it leaves empty.

Tests find such entries without it, and move each one they read with access
w; migrate moves them all at once, those that tests only replay (on CI)
included, and clears the way for an entry whose file must go where such a
directory is ("is a directory"). The entries of Memo names with "\" are
moved only by the tests that read them, since their names cannot be told
from their files.

It finds stores as ls does. It moves only what pecapiku wrote: entries named
as pecapiku names them, in stores pecapiku created. An entry whose new file
is there already is left where it is, with a line on standard error, and the
exit status is 1.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		dryRun := fs.Bool("dry-run", false, "print what would be moved, and move nothing")
		var stores listStrings
		fs.Var(&stores, "store", "also migrate the store in `DIR`, whatever its name (repeatable)")
		return func(e *env, args []string) error { return migrate(e, args, stores, *dryRun) }
	},
}

func migrate(e *env, paths, stores []string, dryRun bool) error {
	places, err := findPlaces(e, paths, stores)
	if err != nil {
		return err
	}
	access, verb := cache.ReadExecuteWrite, "moved"
	if dryRun {
		access, verb = cache.ReadOnly, "would move"
	}
	moved, failed := 0, false
	for _, p := range places {
		s, err := openStore(p, access)
		if err != nil {
			return err
		}
		moves, err := s.Migrate(dryRun)
		if err != nil {
			fmt.Fprintf(e.stderr, "pecapiku: %v\n", err)
			failed = true
			continue
		}
		for _, m := range moves {
			if m.Err != nil {
				fmt.Fprintf(e.stderr, "pecapiku: left %s: %v\n", e.name(p, m.From), m.Err)
				failed = true
				continue
			}
			fmt.Fprintf(e.stdout, "%s %s to %s\n", verb, e.name(p, m.From), e.name(p, m.To))
			moved++
		}
	}
	switch {
	case moved == 0 && !failed:
		fmt.Fprintln(e.stdout, "nothing to move: every entry is where this version of pecapiku looks for it")
	case moved > 0:
		fmt.Fprintf(e.stdout, "%s %s\n", verb, plural(moved, "entry", "entries"))
	}
	if failed {
		return errFound
	}
	return nil
}
