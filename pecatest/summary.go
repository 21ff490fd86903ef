package pecatest

import (
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/pecapiku/pecapiku/cache"
)

// EnvFailOnUpdate, when true, makes [Run] fail a run that recorded
// anything new or changed: for a CI job that must prove that the
// recordings are current, with access ew. The flag
// -pecapiku.fail-on-update does the same.
const EnvFailOnUpdate = "PECAPIKU_FAIL_ON_UPDATE"

const failOnUpdateFlagName = "pecapiku.fail-on-update"

// recorded is what the calls of this test binary wrote, for the summary of
// Run: entry files by what happened to them.
var recorded = struct {
	sync.Mutex
	changed, unchanged, added map[string]bool
}{changed: map[string]bool{}, unchanged: map[string]bool{}, added: map[string]bool{}}

// tally notes what the cache's events say was done with c's entry.
func (c *call) tally(events []cache.Event) {
	for _, e := range events {
		switch e.Kind {
		case cache.EventWrite:
			noteRecorded(c.path, e.Replaced, true)
		case cache.EventUnchanged:
			noteRecorded(c.path, true, false)
		}
	}
}

// noteRecorded notes that the entry file path was written (replacing
// another content when replaced) or found to hold the value already.
func noteRecorded(path string, replaced, written bool) {
	recorded.Lock()
	defer recorded.Unlock()
	switch {
	case !written:
		recorded.unchanged[path] = true
	case replaced:
		recorded.changed[path] = true
	default:
		recorded.added[path] = true
	}
}

// summarize writes to w what the run recorded, when it recorded anything:
// entries changed, unchanged (not rewritten) and new. It reports whether
// anything was changed or added.
func summarize(w io.Writer) (updated bool) {
	recorded.Lock()
	defer recorded.Unlock()
	changed, unchanged, added := len(recorded.changed), len(recorded.unchanged), len(recorded.added)
	if changed+added == 0 && unchanged == 0 {
		return false
	}
	fmt.Fprintf(w, "pecatest: recordings: %d changed, %d unchanged, %d new\n", changed, unchanged, added)
	for _, p := range slices.Sorted(maps.Keys(recorded.changed)) {
		fmt.Fprintf(w, "\tchanged\t%s\n", relative(p))
	}
	for _, p := range slices.Sorted(maps.Keys(recorded.added)) {
		fmt.Fprintf(w, "\tnew\t%s\n", relative(p))
	}
	return changed+added > 0
}

// listedTests returns the names of the top-level tests, examples,
// benchmarks and fuzz targets of this test binary, as -test.list prints
// them, or nil when it cannot tell.
func listedTests() map[string]bool {
	out, err := exec.Command(os.Args[0], "-test.list=.").Output()
	if err != nil {
		return nil
	}
	names := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "Test") || strings.HasPrefix(line, "Example") || strings.HasPrefix(line, "Fuzz") || strings.HasPrefix(line, "Benchmark") {
			names[strings.TrimSpace(line)] = true
		}
	}
	return names
}

// topLevel returns the name of the top-level test of the test named name.
func topLevel(name string) string {
	top, _, _ := strings.Cut(name, "/")
	return top
}

// keptForSkip splits unused, files of the store dir, into those to report
// and those kept because they belong to a test of this binary that ran no
// Memo or Golden in this run: one that skipped itself (t.Skip) before
// reaching them, most likely.
func keptForSkip(dir string, unused []string, tests func() map[string]bool) (report, kept []string) {
	usage.Lock()
	ran := map[string]bool{}
	for t := range usage.tests {
		ran[t] = true
	}
	usage.Unlock()
	for _, u := range unused {
		rel := strings.TrimPrefix(strings.TrimPrefix(u, dir), "/")
		rel = strings.TrimPrefix(rel, string(os.PathSeparator))
		first, _, nested := strings.Cut(strings.ReplaceAll(rel, string(os.PathSeparator), "/"), "/")
		if nested && !ran[first] && tests()[first] {
			kept = append(kept, u)
			continue
		}
		report = append(report, u)
	}
	sort.Strings(kept)
	return report, kept
}
