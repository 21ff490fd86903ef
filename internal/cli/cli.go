// Package cli is the pecapiku command: its subcommands ls, show, verify, rm,
// prune, migrate, review, accept and reject, run by [Main]. Two programs run
// it: cmd/pecapiku, which opens stores on the local disk and file:// URLs,
// and s3/cmd/pecapiku, which imports package github.com/pecapiku/pecapiku/s3
// and so opens s3:// URLs too; every URL is opened with cache.OpenURL. The
// command's documentation is that of cmd/pecapiku.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

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
	stdin          io.Reader
	stdout, stderr io.Writer
	dir            string // the working directory
}

// commands are the subcommands, in the order of the usage message.
var commands = []*command{lsCommand, showCommand, verifyCommand, rmCommand, pruneCommand, migrateCommand, reviewCommand, acceptCommand, rejectCommand}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// errFound is returned by a command that reported its failures itself, as
// verify does with the problems it finds: exit status 1, no more message.
var errFound = errors.New("problems found")

// Main runs the pecapiku command line args (without the program name), with
// the working directory of the process, writing to stdout and stderr, and
// returns the exit status: 2 for a mistake in the command line, 1 for a
// failed operation or, with verify, for problems found, and 0 otherwise.
// What it removes, it removes from the local disk or the store a URL names.
func Main(args []string, stdout, stderr io.Writer) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "pecapiku: %v\n", err)
		return 1
	}
	return runIn(wd, args, stdout, stderr)
}

// runIn is Main with the working directory wd.
func runIn(wd string, args []string, stdout, stderr io.Writer) int {
	return runWith(wd, args, os.Stdin, stdout, stderr)
}

// runWith is runIn with the standard input stdin.
func runWith(wd string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
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
	err = runCommand(&env{stdin: stdin, stdout: stdout, stderr: stderr, dir: wd}, rest)
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
prunes the fixtures no test uses any more, and reviews the recordings that
tests could not make.

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
