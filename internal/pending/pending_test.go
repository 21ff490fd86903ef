package pending_test

import (
	"os"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/internal/pending"
)

// TestLinksInPending: a pending directory may come from elsewhere (a folder
// downloaded from CI, say). A recording reached through a symbolic link
// below the pending directory, or that is one, is refused, so that neither
// accepting nor rejecting it can touch the file it leads to; and
// cleaning up after a rejection never removes a link that stands in for a
// directory: neither the file it leads to nor the link itself is the
// pending area's own.
func TestLinksInPending(t *testing.T) {
	module := t.TempDir()
	outside := filepath.Join(module, "outside")
	assert.NilError(t, os.MkdirAll(outside, 0o755))
	important := filepath.Join(outside, "important.json")
	assert.NilError(t, os.WriteFile(important, []byte("1\n"), 0o644))
	entry := filepath.Join(module, "testdata", ".pecapiku", "TestA", "link", "important.json")
	assert.NilError(t, os.MkdirAll(filepath.Dir(entry), 0o755))
	assert.NilError(t, os.WriteFile(entry, []byte("0\n"), 0o644))

	dir := filepath.Join(module, pending.LocalDir, "testdata", ".pecapiku", "TestA")
	assert.NilError(t, os.MkdirAll(dir, 0o755))
	assert.NilError(t, os.Symlink(outside, filepath.Join(dir, "link")))
	through := filepath.Join(dir, "link", "important.json")

	_, err := pending.Find([]string{through}, module)
	assert.ErrorContains(t, err, through+": not a pending recording")
	assert.ErrorContains(t, err, "symbolic link")
	alias := filepath.Join(dir, "alias.json")
	assert.NilError(t, os.Symlink(important, alias))
	_, err = pending.Find([]string{alias}, module)
	assert.ErrorContains(t, err, alias+": not a pending recording: not a regular file")
	_, err = os.Stat(important)
	assert.NilError(t, err, "the file the link leads to is left alone")
	got, err := os.ReadFile(entry)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "0\n", "the entry is left alone")

	// A recording beside the link is rejected, and the directories that
	// leaves empty removed, but not the link.
	other := filepath.Join(module, pending.LocalDir, "testdata", ".pecapiku", "TestA", "link2", "x.json")
	assert.NilError(t, os.MkdirAll(filepath.Dir(other), 0o755))
	assert.NilError(t, os.WriteFile(other, []byte("2\n"), 0o644))
	recs, err := pending.Find([]string{other}, module)
	assert.NilError(t, err)
	assert.NilError(t, pending.Reject(recs[0]))
	_, err = os.Stat(other)
	assert.Assert(t, os.IsNotExist(err))
	info, err := os.Lstat(filepath.Join(dir, "link"))
	assert.NilError(t, err, "the link is left alone")
	assert.Assert(t, info.Mode()&os.ModeSymlink != 0)
}

// TestPendingRootLink: a pending directory that is itself a link, such as
// one in a downloaded folder leading into the module's store, is refused:
// rejecting a recording in it would delete the recording it leads to. A
// diff that is a link is not read.
func TestPendingRootLink(t *testing.T) {
	module := t.TempDir()
	store := filepath.Join(module, "testdata", ".pecapiku", "TestA")
	assert.NilError(t, os.MkdirAll(store, 0o755))
	committed := filepath.Join(store, "x.json")
	assert.NilError(t, os.WriteFile(committed, []byte("1\n"), 0o644))
	download := filepath.Join(module, "download")
	assert.NilError(t, os.MkdirAll(download, 0o755))
	assert.NilError(t, os.Symlink(store, filepath.Join(download, pending.ArtifactDir)))

	through := filepath.Join(download, pending.ArtifactDir, "x.json")
	_, err := pending.Find([]string{through}, module)
	assert.ErrorContains(t, err, through+": not a pending recording")
	assert.ErrorContains(t, err, "symbolic link")
	got, err := os.ReadFile(committed)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "1\n", "the recording is left alone")

	secret := filepath.Join(module, "secret")
	assert.NilError(t, os.WriteFile(secret, []byte("TOPSECRET"), 0o644))
	rec := filepath.Join(module, pending.LocalDir, "testdata", ".pecapiku", "TestA", "y.json")
	assert.NilError(t, os.MkdirAll(filepath.Dir(rec), 0o755))
	assert.NilError(t, os.WriteFile(rec, []byte("2\n"), 0o644))
	assert.NilError(t, os.Symlink(secret, rec+pending.DiffExt))
	recs, err := pending.Find([]string{rec}, module)
	assert.NilError(t, err)
	assert.Equal(t, recs[0].Diff, "", "a diff that is a link is not read")
}
