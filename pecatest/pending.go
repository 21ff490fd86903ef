package pecatest

import (
	"flag"
	"fmt"
	"path/filepath"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/pending"
	"github.com/pecapiku/pecapiku/internal/remote"
)

// artifactDirer is the method of testing.TB, from Go 1.26, that gives a
// test the directory of its artifacts.
type artifactDirer interface{ ArtifactDir() string }

// artifacts reports whether the test binary runs with go test -artifacts,
// whose directory outlives the run.
func artifacts() bool {
	f := flag.Lookup("test.artifacts")
	return f != nil && f.Value.String() == "true"
}

// keepPending keeps v, the fresh value of c's entry that the run could not
// record, as a pending recording (see package internal/pending), with
// diff, what the test prints about it; and returns the lines that end the
// failure message: where it is, and how to accept it. It returns "" when
// the value is not kept: on a filesystem other than the real disk.
func (c *call) keepPending(v any, diff string) string {
	if c.set.fsys != osFs {
		// A store on a shared store (PECAPIKU_STORE) is recorded again
		// with access ew, and one on a filesystem of the test's own
		// (WithFs) is the test's business: only the real disk has a
		// place outside every store for the value.
		return ""
	}
	data, err := encodeFor(c.store.Codec(), c.key, v)
	if err != nil {
		return fmt.Sprintf("\nThe fresh value was not kept for review: %v", err)
	}
	fsys, dir, rel, local, err := c.pendingPlace()
	if err != nil {
		return fmt.Sprintf("\nThe fresh value was not kept for review: %v", err)
	}
	path, err := pending.Keep(fsys, dir, rel, data, diff, local)
	if err != nil {
		return fmt.Sprintf("\nThe fresh value was not kept for review: %v", err)
	}
	if !local {
		return fmt.Sprintf("\nThe fresh value is kept in the artifacts of this run, %s.\n"+
			"Accept it, in a checkout of this module, with: pecapiku accept <the downloaded artifacts>", path)
	}
	if rel, err := filepath.Rel(filepath.Dir(dir), path); err == nil && c.inModule {
		rel = filepath.ToSlash(rel)
		return fmt.Sprintf("\nThe fresh value is kept in %s.\nAccept it, from the module's root, with: pecapiku accept %s (or review every pending recording with: pecapiku review)",
			rel, rel)
	}
	return fmt.Sprintf("\nThe fresh value is kept in %s.\nAccept it with: pecapiku accept %s", path, path)
}

// pendingPlace returns where the pending recording of c's entry goes: the
// filesystem, the pending directory, the entry's path below it, and
// whether the directory is on the developer's disk rather than among the
// artifacts of the run.
func (c *call) pendingPlace() (fsys afero.Fs, dir, rel string, local bool, err error) {
	entry, err := c.abs(c.path)
	if err != nil {
		return nil, "", "", false, err
	}
	if startDirErr != nil {
		return nil, "", "", false, startDirErr
	}
	if root, _, ok := remote.Module(startDir); ok {
		if rel, err := filepath.Rel(root, entry); err == nil && filepath.IsLocal(rel) {
			if a, ok := c.t.(artifactDirer); ok && artifacts() {
				return osFs, filepath.Join(a.ArtifactDir(), pending.ArtifactDir), rel, false, nil
			}
			c.inModule = true
			return osFs, filepath.Join(root, pending.LocalDir), rel, true, nil
		}
	}
	// Outside a module, next to the store, and never inside it.
	store, err := c.abs(c.store.Dir())
	if err != nil {
		return nil, "", "", false, err
	}
	rel, err = filepath.Rel(filepath.Dir(store), entry)
	return osFs, filepath.Join(filepath.Dir(store), pending.LocalDir), rel, true, err
}

// encodeFor returns the bytes that codec records for v under key, checked
// as a store checks what it writes (see cache.ErrRoundTrip).
func encodeFor(codec cache.Codec, key string, v any) ([]byte, error) {
	mem := afero.NewMemMapFs()
	s, err := cache.NewStore("/", cache.WithFs(mem), cache.WithAccess(cache.Regenerate), cache.WithCodec(codec))
	if err != nil {
		return nil, err
	}
	if err := s.Write(key, v); err != nil {
		return nil, err
	}
	path, err := s.Path(key)
	if err != nil {
		return nil, err
	}
	return afero.ReadFile(mem, path)
}
