package cache

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvUsed names a file in which every test binary of a run records the
// stores and the entries its calls used, so that a program that runs go
// test (the pecapiku command's prune) can tell the entries in use from the
// orphans. Package pecatest appends to it with [RecordUse]; [ReadUses]
// reads it.
const EnvUsed = "PECAPIKU_USED"

// Uses are the stores and the entry files recorded in the file of
// [EnvUsed]: absolute paths on the real filesystem, or the URLs of those on
// a shared store.
type Uses struct {
	Stores  map[string]bool
	Entries map[string]bool
}

// RecordUse appends to the file name that the entry file entry of the store
// in the directory store was used: one "store\t<store>" and one
// "entry\t<entry>" line, with absolute paths or URLs. It creates the file
// if it does not exist, and appends both lines in one write, which
// O_APPEND keeps whole when several test binaries append at once.
func RecordUse(name, store, entry string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString("store\t" + store + "\nentry\t" + entry + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadUses reads the file name that [RecordUse] wrote. Lines of another
// kind, and paths that are neither absolute nor URLs, are ignored: a later
// version may add kinds.
func ReadUses(name string) (*Uses, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	u := &Uses{Stores: map[string]bool{}, Entries: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		kind, path, ok := strings.Cut(sc.Text(), "\t")
		if !ok || !strings.Contains(path, "://") && !filepath.IsAbs(path) {
			continue
		}
		switch kind {
		case "store":
			u.Stores[path] = true
		case "entry":
			u.Entries[path] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cache: read %s: %w", name, err)
	}
	return u, nil
}
