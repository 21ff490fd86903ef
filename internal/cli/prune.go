package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
	"github.com/pecapiku/pecapiku/internal/remote"
)

var pruneCommand = &command{
	name:    "prune",
	usage:   "prune [--dry-run] [-tags TAGS] [PACKAGES]",
	summary: "remove the entries that the tests of packages do not use",
	help: `Prune removes the fixtures that no test uses any more: the entries left
behind by a test that was renamed or removed, and the leftovers of
interrupted writes.

It runs go test -count=1 on PACKAGES (default ./...), with PECAPIKU_USED
naming a file in which package pecatest records every entry a Memo or Golden
call reads or writes, and streams the tests' output. When the tests pass, it
examines the testdata/.pecapiku directory of every package and every other
store the tests used (one given with pecatest.WithDir), and removes each
entry no test used and each leftover, then the directories that leaves
empty. It prints what it removed, store by store, with totals. When go test
fails, it removes nothing and exits with status 1.

It removes only what pecapiku wrote. A store is examined only when it is
pecapiku's own: a directory named .pecapiku, or one whose first write
created it, which left a .pecapiku-store file in it. Any other (a test's
pecatest.WithDir(".") puts a store in the package's own directory) is left
alone, with a line on standard error that says how to mark it. In a store,
only files whose names pecapiku gives its entries count: a .json, .gob or
.raw file named as pecapiku names a key; other files are left alone.

With PECAPIKU_STORE naming a shared store (s3://bucket/prefix), the tests
keep their entries there, and prune examines the packages' stores there
instead: testdata/.pecapiku under the module path and each package's
directory, and the other stores the tests used, by URL. There it also
removes the locks of entries that processes which stopped left behind
(those not refreshed for a whole lease), never a lock a live process holds.

The tests run as go test runs them, with the access letters of your
environment (PECAPIKU_ACCESS, CI), so a test whose fixture is missing may
record it. A test that does not run does not use its fixtures, which then
look unused:
  - tests behind build tags: give the tags with -tags;
  - tests that skip themselves (t.Skip) before calling Memo or Golden;
  - tests of packages not in PACKAGES that share a store (pecatest.WithDir)
    with packages in it: prune them together.
Use --dry-run first to see what would go: it runs the tests and removes
nothing.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		dryRun := fs.Bool("dry-run", false, "print what would be removed, and remove nothing")
		tags := fs.String("tags", "", "build `TAGS` to pass to go list and go test (comma-separated), so that tests behind them run and their fixtures count as used")
		return func(e *env, args []string) error { return prune(e, args, *tags, *dryRun) }
	},
}

func prune(e *env, pkgs []string, tags string, dryRun bool) error {
	for _, p := range pkgs {
		if strings.HasPrefix(p, "-") {
			return usageError{fmt.Sprintf("%s: prune passes no flags but -tags to go test, since a test that does not run makes its fixtures look unused", p)}
		}
	}
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	// Paths are compared, and printed, with symbolic links resolved.
	if wd, err := filepath.EvalSymlinks(e.dir); err == nil {
		e.dir = wd
	}
	var buildFlags []string
	if tags != "" {
		buildFlags = []string{"-tags", tags}
	}
	dirs, err := packageDirs(e, buildFlags, pkgs)
	if err != nil {
		return err
	}

	usedFile, err := os.CreateTemp("", "pecapiku-used-*.txt")
	if err != nil {
		return err
	}
	usedName := usedFile.Name()
	usedFile.Close()
	defer os.Remove(usedName)

	args := append(append([]string{"test", "-count=1"}, buildFlags...), pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = e.dir
	// The run is how prune learns which fixtures are used: fixtures it
	// would remove must not fail it, as strict hygiene does on CI.
	cmd.Env = append(os.Environ(), cache.EnvUsed+"="+usedName, "PECAPIKU_UNUSED=report")
	cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go %s: %v; nothing pruned", strings.Join(args, " "), err)
	}

	uses, err := cache.ReadUses(usedName)
	if err != nil {
		return err
	}
	stores, used := map[string]bool{}, uses.Entries
	for st := range uses.Stores {
		if !isURL(st) {
			st = canonical(st)
		}
		stores[st] = true
	}
	// The stores of the packages, whether their tests used them or not:
	// where a test's entries go, on the shared store when PECAPIKU_STORE
	// names one.
	location := remote.Location()
	for _, d := range dirs {
		if location != "" {
			stores[location+"/"+remote.Namespace(d)+"/testdata/"+storeDirName] = true
		} else {
			stores[canonical(filepath.Join(d, "testdata", storeDirName))] = true
		}
	}
	var plans []*plan
	total := 0
	for _, id := range slices.Sorted(maps.Keys(stores)) {
		p := local(id)
		if isURL(id) {
			if p, err = openURL(id); err != nil {
				return err
			}
		}
		plan, err := planPrune(p, used)
		if errors.Is(err, cache.ErrNotOwned) {
			fmt.Fprintf(e.stderr, "pecapiku: %s: not pruned: %v\n", e.name(p, p.path), err)
			continue
		}
		if err != nil {
			return err
		}
		if plan == nil {
			continue
		}
		plans = append(plans, plan)
		total += plan.entries
	}
	if len(used) == 0 && total > 0 {
		return fmt.Errorf("the tests passed but used no entry, so every entry would look unused: "+
			"the tests that use them may not have run (are they behind build tags? give them with -tags), "+
			"or may use a pecatest from before %s; nothing pruned (pecapiku rm removes entries by hand)", cache.EnvUsed)
	}
	return carryOut(e, plans, dryRun)
}

// packageDirs returns the directories of the packages pkgs, with go list.
func packageDirs(e *env, buildFlags, pkgs []string) ([]string, error) {
	args := append(append([]string{"list", "-f", "{{.Dir}}"}, buildFlags...), pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = e.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	// go list warns about patterns that match nothing, and exits 0.
	e.stderr.Write(stderr.Bytes())
	dirs := strings.Fields(string(out))
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no packages in %s", strings.Join(pkgs, " "))
	}
	return dirs, nil
}

// canonical returns path with the symbolic links of its directory
// resolved, so that two spellings of one file compare equal.
func canonical(path string) string {
	path = filepath.Clean(path)
	if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(dir, filepath.Base(path))
	}
	return path
}

// A plan is what prune removes from one store.
type plan struct {
	place     place // the store's directory
	store     *cache.Store
	entries   int // entries in the store
	unused    []cache.Entry
	leftovers []string
	locks     []string // stale locks, on a shared store
}

// planPrune returns what prune removes from the store in the directory p
// (see cache.Store.Unused), or nil when there is no such directory. used
// are the entries the tests used: absolute paths, or URLs on a shared
// store. A store that is not pecapiku's own is an error wrapping
// cache.ErrNotOwned.
func planPrune(p place, used map[string]bool) (*plan, error) {
	if err := isDirOn(p.fsys, p.path); err != nil {
		if errors.Is(err, iofs.ErrNotExist) || !p.isRemote() {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: %w", p.root+"/"+filepath.ToSlash(p.path), err)
	}
	s, err := openStore(p, cache.ReadExecuteWrite)
	if err != nil {
		return nil, err
	}
	var paths []string
	for u := range used {
		switch {
		case !p.isRemote() && !isURL(u):
			paths = append(paths, u)
		case p.isRemote() && strings.HasPrefix(u, p.root+"/"):
			paths = append(paths, filepath.FromSlash(strings.TrimPrefix(u, p.root+"/")))
		}
	}
	unused, err := s.Unused(paths)
	if err != nil {
		return nil, err
	}
	return &plan{place: p, store: s, entries: unused.Examined, unused: unused.Entries, leftovers: unused.Leftovers, locks: unused.StaleLocks}, nil
}

// carryOut removes what the plans say, or with dryRun only prints it.
func carryOut(e *env, plans []*plan, dryRun bool) error {
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	files, stores, entries := 0, 0, 0
	var size int64
	for _, p := range plans {
		entries += p.entries
		type removal struct {
			path string
			size int64 // -1 when the listing did not say
			why  string
		}
		var removals []removal
		for _, en := range p.unused {
			removals = append(removals, removal{en.Path, en.Size, "unused"})
		}
		for _, l := range p.leftovers {
			removals = append(removals, removal{l, -1, "leftover of an interrupted write"})
		}
		for _, l := range p.locks {
			removals = append(removals, removal{l, -1, "stale lock of a process that stopped"})
		}
		if len(removals) == 0 {
			continue
		}
		stores++
		dir := p.store.Dir()
		fmt.Fprintln(e.stdout, e.name(p.place, dir))
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		var storeSize int64
		removed := 0
		for _, r := range removals {
			if r.size < 0 {
				info, err := lstat(p.place.fsys, r.path)
				if err != nil {
					tw.Flush()
					return err
				}
				r.size = info.Size()
			}
			rel, _ := filepath.Rel(dir, r.path)
			if !dryRun {
				err := p.store.Remove(r.path)
				if errors.Is(err, fs.ErrInUse) {
					// A temporary file of a write still at work, in
					// a test running beside prune say: not a leftover.
					fmt.Fprintf(tw, "  kept %s\t%v\n", filepath.ToSlash(rel), fs.ErrInUse)
					continue
				}
				if err != nil {
					tw.Flush()
					return err
				}
			}
			fmt.Fprintf(tw, "  %s %s\t%s\n", verb, filepath.ToSlash(rel), r.why)
			storeSize += r.size
			removed++
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "  %s, %s\n", plural(removed, "file", "files"), formatSize(storeSize))
		files += removed
		size += storeSize
	}
	if files == 0 {
		fmt.Fprintf(e.stdout, "nothing to prune: the tests use every entry (%s in %s)\n",
			plural(entries, "entry", "entries"), plural(len(plans), "store", "stores"))
		return nil
	}
	fmt.Fprintf(e.stdout, "%s %s, %s, from %s (%d examined)\n",
		verb, plural(files, "file", "files"), formatSize(size), plural(stores, "store", "stores"), len(plans))
	return nil
}
