package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

var rmCommand = &command{
	name:    "rm",
	usage:   "rm [-store DIR]... ENTRY...",
	summary: "remove entries",
	help: `Rm removes the entries in the files ENTRY, and then the directories of their
store that they leave empty.

It removes only files with a .json, .gob or .raw extension inside a store:
below a directory named .pecapiku, or below a DIR given with -store. It
refuses anything else, a directory among them, and then removes nothing.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) error {
		var stores listStrings
		fs.Var(&stores, "store", "accept entries of the store in `DIR`, whatever its name (repeatable)")
		return func(e *env, args []string) error { return rm(e, args, stores) }
	},
}

func rm(e *env, args, storeFlags []string) error {
	if len(args) == 0 {
		return usageError{"no ENTRY given"}
	}
	var stores []string
	for _, s := range storeFlags {
		dir := e.abs(s)
		if err := isDir(dir); err != nil {
			return fmt.Errorf("-store %s: %w", s, err)
		}
		stores = append(stores, dir)
	}
	// Check every argument before removing anything.
	type removal struct{ arg, path, store string }
	var removals []removal
	seen := map[string]bool{}
	refused := 0
	for _, arg := range args {
		path := e.abs(arg)
		if seen[path] {
			continue
		}
		seen[path] = true
		store, err := removable(path, stores)
		if err != nil {
			fmt.Fprintf(e.stderr, "pecapiku: %s: %v\n", arg, err)
			refused++
			continue
		}
		removals = append(removals, removal{arg, path, store})
	}
	if refused > 0 {
		return fmt.Errorf("nothing removed, since %s refused", plural(refused, "argument was", "arguments were"))
	}
	for _, r := range removals {
		s, err := openStore(r.store, cache.ReadExecuteWrite)
		if err != nil {
			return err
		}
		if err := s.Remove(r.path); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", r.arg)
	}
	return nil
}

// removable returns the store of the entry in the file path, or why rm
// must not remove it.
func removable(path string, stores []string) (string, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return "", pathless(err)
	}
	switch {
	case info.IsDir():
		return "", errors.New("is a directory; rm removes entries, one file each")
	case !info.Mode().IsRegular():
		return "", errors.New("not a regular file")
	case codecOf(path) == nil:
		return "", fmt.Errorf("not an entry: its extension is not %s", extensions())
	}
	store := storeOf(path, stores)
	if store == "" {
		return "", fmt.Errorf("not inside a store (a directory named %s, or one given with -store)", storeDirName)
	}
	// A store lists no file whose name, or the name of a directory it is
	// in, begins with "."; those are package fs's own.
	rel, _ := filepath.Rel(store, path)
	for p := rel; p != "."; p = filepath.Dir(p) {
		if fs.Reserved(p) {
			return "", fmt.Errorf("not an entry: %s begins with \".\", which marks pecapiku's own files", filepath.Base(p))
		}
	}
	return store, nil
}
