package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-cmp/cmp"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/gobdump"
	"github.com/pecapiku/pecapiku/internal/pending"
)

const pendingHelp = `A test keeps a pending recording when it cannot record a value: a Golden
that differs from its recording, or a Memo entry that drift verification
(PECAPIKU_VERIFY=1) finds changed. It is kept in the .pecapiku-pending
directory at the root of the module, which git ignores, or, when go test
runs with -artifacts, in the artifacts of the run (pecapiku-pending), which
a CI job can upload. Without PATH, the command takes the .pecapiku-pending
directory of the current module; a PATH is a pending recording or a
directory to search for them, such as the artifacts downloaded from CI,
whose recordings go to the current module.
`

var reviewCommand = &command{
	name:    "review",
	usage:   "review [PATH...]",
	summary: "walk the pending recordings, accepting or rejecting each",
	help: `Review shows the pending recordings one at a time, each with the diff the
test printed (-recorded +new), and asks what to do with it: accept it (it
becomes the recording, written atomically), reject it (it is deleted), skip
it (it stays pending) or quit. It reads the answers from standard input, a
line each: a, r, s or q.

` + pendingHelp,
	setup: func(*flag.FlagSet) func(*env, []string) error { return review },
}

var acceptCommand = &command{
	name:    "accept",
	usage:   "accept [PATH...]",
	summary: "make pending recordings the recordings",
	help: `Accept makes each pending recording the recording of its entry, written
atomically, and removes it from the pending directory. It replaces only a
recording that exists.

` + pendingHelp,
	setup: func(*flag.FlagSet) func(*env, []string) error {
		return func(e *env, args []string) error { return settle(e, args, true) }
	},
}

var rejectCommand = &command{
	name:    "reject",
	usage:   "reject [PATH...]",
	summary: "delete pending recordings",
	help: `Reject deletes each pending recording, leaving the recording of its entry
as it is.

` + pendingHelp,
	setup: func(*flag.FlagSet) func(*env, []string) error {
		return func(e *env, args []string) error { return settle(e, args, false) }
	},
}

// findPending returns the pending recordings in paths, or in the pending
// directory of the module of the working directory without paths.
func findPending(e *env, paths []string) ([]pending.Recording, error) {
	root, _, err := moduleRoot(e.dir)
	if err != nil && len(paths) == 0 {
		return nil, err
	}
	if len(paths) == 0 {
		dir := filepath.Join(root, pending.LocalDir)
		if _, err := os.Stat(dir); errors.Is(err, iofs.ErrNotExist) {
			return nil, nil
		}
		paths = []string{dir}
	}
	abs := make([]string, len(paths))
	for i, p := range paths {
		abs[i] = e.abs(p)
	}
	recs, err := pending.Find(abs, root)
	if err != nil {
		return nil, err
	}
	return recs, nil
}

// settle accepts, or rejects, every pending recording in paths.
func settle(e *env, paths []string, accept bool) error {
	recs, err := findPending(e, paths)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(e.stdout, "no pending recordings")
		return nil
	}
	for _, r := range recs {
		if accept {
			if err := pending.Accept(r); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "accepted %s\n", e.rel(r.Target))
		} else {
			if err := pending.Reject(r); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "rejected %s (%s is left as it was)\n", e.rel(r.Path), e.rel(r.Target))
		}
	}
	return nil
}

func review(e *env, paths []string) error {
	recs, err := findPending(e, paths)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(e.stdout, "no pending recordings")
		return nil
	}
	in := bufio.NewReader(e.stdin)
	accepted, rejected, skipped := 0, 0, 0
	quit := false
	for i, r := range recs {
		if quit {
			skipped++
			continue
		}
		fmt.Fprintf(e.stdout, "[%d/%d] %s\n", i+1, len(recs), e.rel(r.Target))
		fmt.Fprint(e.stdout, indentLines(diffOf(r, e.rel(r.Target))))
	ask:
		for {
			fmt.Fprint(e.stdout, "accept, reject, skip or quit? [a/r/s/q] ")
			line, err := in.ReadString('\n')
			answer := strings.ToLower(strings.TrimSpace(line))
			if err != nil && answer == "" {
				fmt.Fprintln(e.stdout)
				quit = true
				skipped++
				break
			}
			switch answer {
			case "a", "accept":
				if err := pending.Accept(r); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "accepted: %s holds the new value\n\n", e.rel(r.Target))
				accepted++
				break ask
			case "r", "reject":
				if err := pending.Reject(r); err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "rejected: %s is left as it was\n\n", e.rel(r.Target))
				rejected++
				break ask
			case "s", "skip", "":
				fmt.Fprint(e.stdout, "skipped: it stays pending\n\n")
				skipped++
				break ask
			case "q", "quit":
				quit = true
				skipped++
				break ask
			default:
				fmt.Fprintf(e.stdout, "%q: answer a to accept, r to reject, s to skip or q to quit\n", answer)
			}
		}
	}
	fmt.Fprintf(e.stdout, "%d accepted, %d rejected, %d left pending\n", accepted, rejected, skipped)
	return nil
}

// diffOf returns the diff of the pending recording r: the one the test
// printed, or, when it was not kept, one made from the two files, the
// recording named name.
func diffOf(r pending.Recording, name string) string {
	if r.Diff != "" {
		return r.Diff
	}
	read := func(path string) string {
		data, err := readEntry(osFs, path, 64<<20)
		if err != nil {
			return fmt.Sprintf("(%v)", err)
		}
		if cache.CodecOf(path) == cache.Gob {
			var b strings.Builder
			_ = gobdump.Dump(&b, data)
			return b.String()
		}
		return string(data)
	}
	return fmt.Sprintf("%s (-recorded +new):\n%s", name, cmp.Diff(read(r.Target), read(r.Path)))
}

// indentLines indents each line of s by two spaces, and ends it with a
// newline.
func indentLines(s string) string {
	s = strings.TrimRight(s, "\n")
	return "  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n"
}
