package cli

import (
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"

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
below a directory named .pecapiku, or below a DIR given with -store that
pecapiku created (it holds a .pecapiku-store file). It removes only what
pecapiku could have written: a file named as pecapiku names an entry, and
reached through no symbolic link below the store's directory. It refuses
anything else, a directory among them, and then removes nothing.

An ENTRY or DIR may be a URL on a shared store, s3://bucket/prefix/...; an
entry there is removed from the local copy of the store too.
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
	var stores []place
	for _, s := range storeFlags {
		p, err := e.place(s)
		if err != nil {
			return fmt.Errorf("-store %w", err)
		}
		if err := isDirOn(p.fsys, p.path); err != nil {
			return fmt.Errorf("-store %s: %w", s, err)
		}
		stores = append(stores, p)
	}
	// Check every argument before removing anything.
	type removal struct {
		arg   string
		entry place
		store string // the store's directory on the entry's filesystem
	}
	var removals []removal
	seen := map[string]bool{}
	refused := 0
	for _, arg := range args {
		entry, err := e.place(arg)
		if err != nil {
			return err
		}
		name := e.name(entry, entry.path)
		if seen[name] {
			continue
		}
		seen[name] = true
		// The -store directories on the entry's filesystem.
		var dirs []string
		for _, s := range stores {
			if s.root == entry.root && s.fsys == entry.fsys {
				dirs = append(dirs, s.path)
			}
		}
		store, err := removable(entry, dirs)
		if err == nil {
			err = canRemove(entry.at(store), entry.path)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "pecapiku: %s: %v\n", arg, err)
			refused++
			continue
		}
		removals = append(removals, removal{arg, entry, store})
	}
	if refused > 0 {
		return fmt.Errorf("nothing removed, since %s refused", plural(refused, "argument was", "arguments were"))
	}
	for _, r := range removals {
		s, err := openStore(r.entry.at(r.store), cache.ReadExecuteWrite)
		if err != nil {
			return err
		}
		if err := s.Remove(r.entry.path); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", r.arg)
	}
	return nil
}

// removable returns the store of the entry in the file p, on p's
// filesystem, or why rm must not remove it; stores are the directories
// given with -store on that filesystem.
func removable(p place, stores []string) (string, error) {
	info, err := lstat(p.fsys, p.path)
	if err != nil {
		return "", fs.Pathless(p.path, err)
	}
	switch {
	case info.IsDir():
		return "", errors.New("is a directory; rm removes entries, one file each")
	case !info.Mode().IsRegular():
		return "", errors.New("not a regular file")
	case codecOf(p.path) == nil:
		return "", fmt.Errorf("not an entry: its extension is not %s", extensions())
	}
	store := storeOf(p.path, stores)
	if store == "" {
		return "", fmt.Errorf("not inside a store (a directory named %s, or one given with -store)", storeDirName)
	}
	// A store lists no file whose name, or the name of a directory it is
	// in, begins with "."; those are package fs's own.
	rel, _ := filepath.Rel(store, p.path)
	for d := rel; d != "."; d = filepath.Dir(d) {
		if fs.Reserved(d) {
			return "", fmt.Errorf("not an entry: %s begins with \".\", which marks pecapiku's own files", filepath.Base(d))
		}
	}
	return store, nil
}

// canRemove returns nil when the store in the directory p may remove its
// file path, and otherwise why not, without the path: a store removes only
// what it can show it wrote (see cache.Store.Remove).
func canRemove(p place, path string) error {
	s, err := openStore(p, cache.ReadExecuteWrite)
	if err != nil {
		return err
	}
	err = s.Removable(path)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "cache: remove "+path+": "))
	}
	return nil
}

// lstat describes the file name on fsys without following a symbolic link
// when fsys can tell one.
func lstat(fsys afero.Fs, name string) (iofs.FileInfo, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		info, _, err := l.LstatIfPossible(name)
		return info, err
	}
	return fsys.Stat(name)
}
