// Package pending keeps the recordings that a test run could not write: the
// fresh value of a Golden that differs from its recording, or of a Memo
// entry that drift verification found changed. Package pecatest keeps them;
// the pecapiku command's review, accept and reject act on them.
//
// # Layout
//
// A pending recording is a file that holds the new content of an entry
// file, with the entry's name, below a pending directory, and next to it
// the diff the test printed, in a file of the same name followed by ".diff":
//
//   - <module>/.pecapiku-pending/<path of the entry in the module>, for an
//     entry inside the module of the test; the directory holds a .gitignore
//     that keeps it out of git;
//   - <dir>/.pecapiku-pending/<store>/<path of the entry in its store>,
//     where dir is the directory of the store's directory, for an entry
//     outside a module (a store in a temporary directory, say);
//   - <artifact directory>/pecapiku-pending/<path of the entry in the
//     module>, when go test runs with -artifacts, so that a CI job can
//     upload it; the name is not hidden, since artifact uploaders skip
//     hidden files.
//
// The entry that a pending recording replaces is found from its path: below
// a .pecapiku-pending directory, the same path below its parent; below a
// pecapiku-pending directory, the same path below the root of the module
// that is being worked on. The pending directories are hidden, so stores
// never list them.
package pending

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

const (
	// LocalDir is the name of the pending directory on the developer's
	// disk.
	LocalDir = ".pecapiku-pending"
	// ArtifactDir is the name of the pending directory in go test's
	// artifact directory.
	ArtifactDir = "pecapiku-pending"
	// DiffExt ends the name of the file that holds a pending recording's
	// diff.
	DiffExt = ".diff"
)

// gitignore keeps a local pending directory out of git, itself included.
const gitignore = "# Recordings that tests could not write; see pecapiku review.\n*\n"

// A Recording is a pending recording.
type Recording struct {
	// Path is the pending file.
	Path string
	// Target is the entry file it replaces when accepted.
	Target string
	// Diff is what the test printed about it, "" when that was not kept.
	Diff string
	// base is the directory that Target must stay inside.
	base string
}

// Keep writes data as the pending recording of the entry file rel below
// the pending directory dir on fsys, with diff next to it, atomically, and
// a .gitignore in dir when local. It returns the pending file.
func Keep(fsys afero.Fs, dir, rel string, data []byte, diff string, local bool) (string, error) {
	path := filepath.Join(dir, rel)
	if err := fs.CheckUnder(fsys, dir, path); err != nil {
		return "", err
	}
	if local {
		ignore := filepath.Join(dir, ".gitignore")
		if _, err := fsys.Stat(ignore); errors.Is(err, iofs.ErrNotExist) {
			if err := fs.WriteAtomic(fsys, ignore, []byte(gitignore)); err != nil {
				return "", err
			}
		}
	}
	if err := fs.WriteAtomic(fsys, path, data); err != nil {
		return "", err
	}
	if err := fs.WriteAtomic(fsys, path+DiffExt, []byte(diff)); err != nil {
		return "", err
	}
	return path, nil
}

// Find returns the pending recordings in the files and directories paths
// of the local disk, in lexical order of their files; moduleRoot is where
// the entries of recordings kept as artifacts go. A directory is searched
// for pending directories and their recordings; a file must be a pending
// recording.
func Find(paths []string, moduleRoot string) ([]Recording, error) {
	found := map[string]Recording{}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			r, err := recording(p, moduleRoot)
			if err != nil {
				return nil, err
			}
			found[r.Path] = r
			continue
		}
		err = filepath.WalkDir(p, func(path string, d iofs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !d.Type().IsRegular() || cache.CodecOf(path) == nil {
				return nil
			}
			if _, _, ok := pendingRoot(path); !ok {
				return nil
			}
			r, err := recording(path, moduleRoot)
			if err != nil {
				return err
			}
			found[r.Path] = r
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []Recording
	for _, r := range found {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// pendingRoot returns the pending directory that path is below, and whether
// it is kept as an artifact.
func pendingRoot(path string) (root string, artifact, ok bool) {
	for d := filepath.Dir(path); ; {
		switch filepath.Base(d) {
		case LocalDir:
			return d, false, true
		case ArtifactDir:
			return d, true, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false, false
		}
		d = parent
	}
}

// recording describes the pending recording in the file path.
func recording(path, moduleRoot string) (Recording, error) {
	if cache.CodecOf(path) == nil {
		return Recording{}, fmt.Errorf("%s: not a pending recording: its extension is not that of a codec", path)
	}
	root, artifact, ok := pendingRoot(path)
	if !ok {
		return Recording{}, fmt.Errorf("%s: not a pending recording: it is not below a %s or %s directory", path, LocalDir, ArtifactDir)
	}
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return Recording{}, err
	}
	// A pending directory may come from elsewhere, such as a folder
	// downloaded from CI: a recording reached through a link, or that is
	// one, could make accepting read, and rejecting remove, any file.
	osFs := afero.NewOsFs()
	if info, err := os.Lstat(root); err == nil && info.Mode()&iofs.ModeSymlink != 0 {
		return Recording{}, fmt.Errorf("%s: not a pending recording: its pending directory %s is a symbolic link", path, root)
	}
	if err := fs.CheckUnder(osFs, root, path); err != nil {
		return Recording{}, fmt.Errorf("%s: not a pending recording: %w", path, err)
	}
	if info, err := os.Lstat(path); err != nil {
		return Recording{}, err
	} else if !info.Mode().IsRegular() {
		return Recording{}, fmt.Errorf("%s: not a pending recording: not a regular file", path)
	}
	base := filepath.Dir(root)
	if artifact {
		if moduleRoot == "" {
			return Recording{}, fmt.Errorf("%s: a recording kept as an artifact goes into the module it came from; run this in that module", path)
		}
		base = moduleRoot
	}
	r := Recording{Path: path, Target: filepath.Join(base, rel), base: base}
	if info, err := os.Lstat(path + DiffExt); err != nil || !info.Mode().IsRegular() {
		return r, nil // no diff, or one that is not the pending area's own file
	}
	if diff, err := fs.ReadFile(osFs, path+DiffExt, fs.DefaultMaxSize); err == nil {
		r.Diff = string(diff)
	}
	return r, nil
}

// Accept makes the pending recording r the entry's recording, atomically,
// and then removes it. It replaces only an entry that exists, a regular
// file reached through no symbolic link below the root it was kept for.
func Accept(r Recording) error {
	data, err := fs.ReadFile(afero.NewOsFs(), r.Path, fs.DefaultMaxSize)
	if err != nil {
		return err
	}
	osFs := afero.NewOsFs()
	if err := fs.CheckUnder(osFs, r.base, r.Target); err != nil {
		return err
	}
	info, err := os.Lstat(r.Target)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return fmt.Errorf("%s: there is no recording at %s to replace (was the test renamed?)", r.Path, r.Target)
	case err != nil:
		return err
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s: %s is not a regular file", r.Path, r.Target)
	}
	if err := fs.WriteAtomic(osFs, r.Target, data); err != nil {
		return err
	}
	return Reject(r)
}

// Reject removes the pending recording r and its diff, and the directories
// of its pending directory that this leaves empty (a local pending
// directory's .gitignore goes with the last of them).
func Reject(r Recording) error {
	if err := os.Remove(r.Path); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	if err := os.Remove(r.Path + DiffExt); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	root, _, _ := pendingRoot(r.Path)
	for d := filepath.Dir(r.Path); d != root && strings.HasPrefix(d, root); d = filepath.Dir(d) {
		if info, err := os.Lstat(d); err != nil || !info.IsDir() {
			return nil // a link is not the pending area's to remove
		}
		if os.Remove(d) != nil {
			return nil // not empty
		}
	}
	names, err := os.ReadDir(root)
	if err == nil && len(names) == 1 && names[0].Name() == ".gitignore" {
		os.Remove(filepath.Join(root, ".gitignore"))
		os.Remove(root)
	}
	return nil
}
