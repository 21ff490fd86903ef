// Pecapiku lists, shows, verifies and removes the entries that pecapiku
// stores, prunes the fixtures no test uses any more, and reviews the
// recordings that runs which could not write left pending.
//
// Install it with
//
//	go install github.com/pecapiku/pecapiku/cmd/pecapiku@latest
//
// or run it from a module that requires pecapiku with go run
// github.com/pecapiku/pecapiku/cmd/pecapiku.
//
// Usage:
//
//	pecapiku <command> [flags] [arguments]
//
// The commands are:
//
//	ls      list the entries of stores
//	show    print an entry
//	verify  check that every entry decodes
//	rm      remove entries
//	prune   remove the entries that the tests of packages do not use
//	migrate move entries that older versions laid out to their new paths
//	review  show each pending recording and accept, reject or skip it
//	accept  make pending recordings the recordings
//	reject  delete pending recordings
//
// Every command takes --help. Errors go to standard error as
// "pecapiku: ..."; the exit status is 2 for a mistake in the command line,
// 1 for a failed operation or, with verify, for problems found, and 0
// otherwise.
//
// # Stores
//
// A store is a directory of entries, one file per entry, whose extension
// names its codec: .json, .gob or .raw. The stores of package pecatest are
// the testdata/.pecapiku directories of the packages under test.
//
// Without PATH arguments, ls, verify and migrate look for the
// testdata/.pecapiku directories of the current module: they find the
// module's root (the nearest directory above with a go.mod) and walk it,
// leaving out vendor, node_modules, hidden directories and nested
// modules. With PATH arguments
// they walk each PATH for directories named .pecapiku, PATH itself
// included. A store with another name, such as one made with
// cache.NewStore("testdata/cache"), is given with -store DIR.
//
// # Shared stores
//
// Wherever the command takes a PATH, a DIR or an ENTRY, it also takes the
// URL of a place on a shared store, one that PECAPIKU_STORE may name:
// s3://bucket/prefix/github.com/acme/app/report/testdata/.pecapiku, say;
// it names the entries there by URL. With PECAPIKU_STORE set, ls and verify
// without PATH take the testdata/.pecapiku directories of the current
// module on that store rather than on the local disk, found under the
// module path and the packages' directories as package pecatest puts them,
// and prune examines the stores of the packages there. A URL under the
// location of PECAPIKU_STORE is opened as the tests open it, its local copy
// included.
//
// This program opens file:// URLs. The one that also opens s3:// URLs is
// built with package github.com/pecapiku/pecapiku/s3, in a module of its
// own released at the same versions as this one:
//
//	go install github.com/pecapiku/pecapiku/s3/cmd/pecapiku@latest
//
// It replaces this one: it does everything this one does.
//
// # ls
//
//	pecapiku ls [--json] [-store DIR]... [PATH...]
//
// Ls prints a table of the entries of each store: key, codec, size and age
// (time since the entry was last written), followed by the store's totals.
// It also names the leftovers of interrupted writes and the files that are
// not entries (no known extension). With --json it prints one JSON object
// instead, for programs: sizes in bytes, times in RFC 3339, paths relative
// to the working directory when they are below it.
//
// # show
//
//	pecapiku show [-max-size SIZE] [-max-depth N] [-max-output SIZE] ENTRY
//
// Show prints the entry in the file ENTRY. JSON and raw entries are printed
// as they are, byte for byte, into a file or a pipe; on a terminal, their
// control characters other than newline and tab, and bytes that are not
// UTF-8, are printed escaped (\x1b, \r), so that an entry cannot drive the
// terminal. A gob entry is printed as its size, the types its stream
// declares and its value as a Go-like literal; gob sends no Go sizes (every
// signed integer is an int, every float a float) and leaves out the fields
// that hold their zero value, so the dump does too. Values nested deeper
// than -max-depth (100) are shown as …, the dump stops after -max-output
// (1 MiB), and a last line says what was cut.
//
// Show and verify read entries as stores do: only regular files, and none
// larger than -max-size (1 GiB), which they refuse before reading.
//
// # verify
//
//	pecapiku verify [-max-size SIZE] [-store DIR]... [PATH...]
//
// Verify decodes every entry of the stores it finds, as ls finds them, and
// reports each entry that is empty, truncated, corrupt or unreadable, and
// each leftover of an interrupted write. A JSON entry must hold one JSON
// value and nothing after it; a gob entry must be one whole gob stream,
// which verify reads without the Go types that wrote it, so it also reports
// damage that gob's decoder would not notice. Any content is a valid raw
// entry: an empty one is how pecatest.Golden records an empty string.
// The exit status is 1 when a problem is found.
//
// # rm
//
//	pecapiku rm [-store DIR]... ENTRY...
//
// Rm removes the entries in the files ENTRY, and then the directories of
// the store they leave empty. It removes only files with a codec's
// extension inside a store: a directory named .pecapiku or one given with
// -store that pecapiku created. It refuses anything else, a directory among
// them or a file reached through a symbolic link inside the store, and then
// removes nothing.
//
// # prune
//
//	pecapiku prune [--dry-run] [-tags TAGS] [PACKAGES]
//
// Prune runs go test -count=1 on PACKAGES (default ./...) with the
// environment variable PECAPIKU_USED naming a file in which package pecatest
// records every entry the tests read or write, streaming the tests' output.
// When the tests pass, it removes from the testdata/.pecapiku directory of
// every package, and from every other store the tests used, each entry no
// test used and each leftover of an interrupted write, and prints what it
// removed, store by store. A test that was renamed leaves its old entries
// behind; prune removes them. When the tests fail it removes nothing. On a
// shared store it also removes the stale locks of entries: those that
// processes which stopped while computing an entry left behind.
//
// Prune removes only what pecapiku wrote: it examines only the stores that
// are pecapiku's own (a directory named .pecapiku, or one that pecapiku
// created, which holds a .pecapiku-store file), and in them only the files
// named as pecapiku names its entries. A store in a directory that was
// there before, such as the package's own with pecatest.WithDir("."), is
// left alone, with a line on standard error saying how to mark it.
//
// Tests behind build tags use their fixtures only when the tags are given:
// pass them with -tags, or their entries look unused. With --dry-run prune
// prints what it would remove and removes nothing.
package main

import (
	"os"

	"github.com/pecapiku/pecapiku/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
