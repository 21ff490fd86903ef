// Pecapiku lists, shows, verifies and removes the entries that pecapiku
// stores, and prunes the fixtures no test uses any more.
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
// Without PATH arguments, ls and verify look for the testdata/.pecapiku
// directories of the current module: they find the module's root (the
// nearest directory above with a go.mod) and walk it, leaving out vendor,
// node_modules, hidden directories and nested modules. With PATH arguments
// they walk each PATH for directories named .pecapiku, PATH itself
// included. A store with another name, such as one made with
// cache.NewStore("testdata/cache"), is given with -store DIR.
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
//	pecapiku show ENTRY
//
// Show prints the entry in the file ENTRY. JSON and raw entries are printed
// as they are, byte for byte. A gob entry is printed as its size, the types
// its stream declares and its value as a Go-like literal; gob sends no Go
// sizes (every signed integer is an int, every float a float) and leaves
// out the fields that hold their zero value, so the dump does too.
//
// # verify
//
//	pecapiku verify [-store DIR]... [PATH...]
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
// -store. It refuses anything else, a directory among them, and then removes
// nothing.
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
// behind; prune removes them. When the tests fail it removes nothing.
//
// Tests behind build tags use their fixtures only when the tags are given:
// pass them with -tags, or their entries look unused. With --dry-run prune
// prints what it would remove and removes nothing.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// A command is one subcommand of pecapiku.
type command struct {
	name    string
	usage   string // the usage line after "pecapiku "
	summary string // one line for the list of commands
	help    string // what --help prints after the usage line and before the flags
	// setup defines the command's flags on fs and returns the function
	// that runs the command with its arguments.
	setup func(fs *flag.FlagSet) func(e *env, args []string) error
}

// env is what a command runs with.
type env struct {
	stdout, stderr io.Writer
	dir            string // the working directory
}

// commands are the subcommands, in the order of the usage message.
var commands = []*command{lsCommand, showCommand, verifyCommand, rmCommand, pruneCommand}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errFound is returned by a command that reported its failures itself, as
// verify does with the problems it finds: exit status 1, no more message.
var errFound = errors.New("problems found")

// run runs the command line args (without the program name) and returns
// the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "pecapiku: %v\n", err)
		return 1
	}
	return runIn(wd, args, stdout, stderr)
}

// runIn is run with the working directory wd.
func runIn(wd string, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "pecapiku: no command given; the commands are %s\nusage: pecapiku <command> [flags] [arguments] (pecapiku --help)\n", names())
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				fs := c.flagSet(stdout)
				c.setup(fs)
				fs.Usage()
				return 0
			}
			fmt.Fprintf(stderr, "pecapiku: unknown command %q; the commands are %s\n", args[1], names())
			return 2
		}
		mainUsage(stdout)
		return 0
	}
	c := lookup(args[0])
	if c == nil {
		fmt.Fprintf(stderr, "pecapiku: unknown command %q; the commands are %s (pecapiku --help)\n", args[0], names())
		return 2
	}
	// The flag package prints its errors and the usage itself; catch them
	// to print them as the other errors are.
	var flagOutput strings.Builder
	fs := c.flagSet(&flagOutput)
	runCommand := c.setup(fs)
	usage := fs.Usage
	fs.Usage = func() {}
	rest, err := parse(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		usage()
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "pecapiku %s: %s\nusage: pecapiku %s (pecapiku %s --help)\n",
			c.name, strings.TrimSpace(flagOutput.String()), c.usage, c.name)
		return 2
	}
	err = runCommand(&env{stdout: stdout, stderr: stderr, dir: wd}, rest)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "pecapiku %s: %s\nusage: pecapiku %s (pecapiku %s --help)\n", c.name, ue.msg, c.usage, c.name)
		return 2
	case errors.Is(err, errFound):
		return 1
	default:
		fmt.Fprintf(stderr, "pecapiku: %v\n", err)
		return 1
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func names() string {
	var ns []string
	for _, c := range commands {
		ns = append(ns, c.name)
	}
	return strings.Join(ns, ", ")
}

func mainUsage(w io.Writer) {
	fmt.Fprint(w, `pecapiku lists, shows, verifies and removes the entries of pecapiku stores,
and prunes the fixtures no test uses any more.

usage: pecapiku <command> [flags] [arguments]

commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-7s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "pecapiku <command> --help" for a command's usage and flags.
`)
}

// flagSet returns the command's flag set, whose usage message goes to w.
func (c *command) flagSet(w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pecapiku "+c.name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: pecapiku %s\n\n%s", c.usage, c.help)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprint(out, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args with fs, letting flags come after arguments too, as in
// "pecapiku ls ./report --json"; everything after "--" is an argument.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var after []string
	for i, a := range args {
		if a == "--" {
			args, after = args[:i], args[i+1:]
			break
		}
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(rest, after...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// listStrings is a repeatable string flag.
type listStrings []string

func (l *listStrings) String() string     { return strings.Join(*l, ",") }
func (l *listStrings) Set(v string) error { *l = append(*l, v); return nil }

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
