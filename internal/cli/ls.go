package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"
)

var lsCommand = &command{
	name:    "ls",
	usage:   "ls [--json] [-store DIR]... [PATH...]",
	summary: "list the entries of stores",
	help: `Ls prints a table of the entries of each store: key, codec, size and age
(time since the entry was last written), and the store's totals. It also
names the leftovers of interrupted writes, and the files in a store that are
not entries (no .json, .gob or .raw extension).

Without PATH it lists the testdata/.pecapiku directories of the current
module, found by walking from the module's root (the nearest directory above
with a go.mod), leaving out vendor, node_modules, hidden directories and
nested modules. With PATH it lists every directory named .pecapiku below
each PATH, PATH itself included. A store with another name is given with
-store.

A PATH or DIR may be the URL of a directory on a shared store,
s3://bucket/prefix/...; its entries are named by URL. With PECAPIKU_STORE
set and no PATH, ls lists the testdata/.pecapiku directories of the current
module on that store instead of the local ones: under the module path and
the packages' directories there, as package pecatest puts them.

With --json it prints one JSON object for programs:
  {"stores": [{"dir", "entries": [{"key", "codec", "path", "size", "modTime"}],
   "leftovers": [...], "others": [...], "count", "size"}], "count", "size"}
Sizes are in bytes, times in RFC 3339, and paths relative to the working
directory when they are below it, absolute otherwise; URLs on a shared
store.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		asJSON := fs.Bool("json", false, "print JSON instead of a table")
		var stores listStrings
		fs.Var(&stores, "store", "also list the store in `DIR`, whatever its name (repeatable)")
		return func(e *env, args []string) error {
			return ls(e, args, stores, *asJSON, time.Now())
		}
	},
}

// lsEntry is an entry in the output of ls --json.
type lsEntry struct {
	Key     string    `json:"key"`
	Codec   string    `json:"codec"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"modTime"`
}

// lsStore is a store in the output of ls --json.
type lsStore struct {
	Dir       string    `json:"dir"`
	Entries   []lsEntry `json:"entries"`
	Leftovers []string  `json:"leftovers"`
	Others    []string  `json:"others"`
	Count     int       `json:"count"`
	Size      int64     `json:"size"`
}

// lsOutput is the output of ls --json.
type lsOutput struct {
	Stores []lsStore `json:"stores"`
	Count  int       `json:"count"`
	Size   int64     `json:"size"`
}

func ls(e *env, paths, stores []string, asJSON bool, now time.Time) error {
	places, err := findPlaces(e, paths, stores)
	if err != nil {
		return err
	}
	out := lsOutput{Stores: []lsStore{}}
	for _, p := range places {
		c, err := read(p)
		if err != nil {
			return err
		}
		s := lsStore{Dir: e.name(p, p.path), Entries: []lsEntry{}, Leftovers: []string{}, Others: []string{}}
		for _, en := range c.entries {
			s.Entries = append(s.Entries, lsEntry{
				Key:     en.Key,
				Codec:   en.Codec.Name(),
				Path:    e.name(p, en.Path),
				Size:    en.Size,
				ModTime: en.ModTime.UTC().Truncate(time.Second),
			})
			s.Count++
			s.Size += en.Size
		}
		for _, l := range c.leftovers {
			s.Leftovers = append(s.Leftovers, e.name(p, l))
		}
		for _, o := range c.others {
			s.Others = append(s.Others, e.name(p, o.Path))
		}
		out.Stores = append(out.Stores, s)
		out.Count += s.Count
		out.Size += s.Size
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(out)
	}
	if len(out.Stores) == 0 {
		fmt.Fprintf(e.stdout, "no stores found (a store is a directory named %s, or one given with -store)\n", storeDirName)
		return nil
	}
	for i, s := range out.Stores {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintln(e.stdout, s.Dir)
		if s.Count == 0 {
			fmt.Fprintln(e.stdout, "  no entries")
		} else {
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  KEY\tCODEC\tSIZE\tAGE")
			for _, en := range s.Entries {
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", en.Key, en.Codec, formatSize(en.Size), formatAge(en.ModTime, now))
			}
			fmt.Fprintf(tw, "  %s\t\t%s\n", plural(s.Count, "entry", "entries"), formatSize(s.Size))
			tw.Flush()
		}
		for _, l := range s.Leftovers {
			fmt.Fprintf(e.stdout, "  leftover of an interrupted write: %s\n", l)
		}
		for _, o := range s.Others {
			fmt.Fprintf(e.stdout, "  not an entry (no %s extension): %s\n", extensions(), o)
		}
	}
	if len(out.Stores) > 1 {
		fmt.Fprintf(e.stdout, "\n%s, %s, %s\n", plural(len(out.Stores), "store", "stores"), plural(out.Count, "entry", "entries"), formatSize(out.Size))
	}
	return nil
}

// plural returns "1 entry", "2 entries".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
