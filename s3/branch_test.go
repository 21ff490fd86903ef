package s3_test

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/pecatest"
	"github.com/pecapiku/pecapiku/s3"
)

// branches is a bucket prefix of a test with the prefixes of two branches
// of the code side by side under it: main, and feature, which reads through
// to main.
type branches struct {
	t    *testing.T
	root *s3.Fs // the test's prefix
}

func newBranches(t *testing.T) (*branches, *counter) {
	root, count := newFs(t)
	return &branches{t: t, root: root}, count
}

// prefix returns the bucket prefix of the branch name.
func (b *branches) prefix(name string) string { return b.root.Prefix() + "/" + name }

// fs returns the filesystem of the branch name's prefix alone.
func (b *branches) fs(name string) *s3.Fs {
	fsys, err := s3.New(b.root.Bucket(), b.prefix(name), s3.WithClient(b.root.Client()))
	assert.NilError(b.t, err)
	return fsys
}

// feature returns a new Branch of feature over main, as a process opens it.
func (b *branches) feature() *s3.Branch {
	br, err := s3.NewBranch(b.root.Bucket(), b.prefix("feature"), b.prefix("main"), s3.WithClient(b.root.Client()))
	assert.NilError(b.t, err)
	return br
}

// process returns what a process on a machine whose local copy is in
// localDir opens, on the branch name: main's prefix alone, or the feature
// branch over main.
func (b *branches) process(name, localDir string) *s3.ReadThrough {
	local := afero.NewBasePathFs(afero.NewOsFs(), localDir)
	if name == "feature" {
		return s3.NewReadThrough(b.feature(), local)
	}
	return s3.NewReadThrough(b.fs(name), local)
}

// object returns the content of the object name under the branch's prefix,
// or "" when there is none.
func (b *branches) object(branch, name string) string {
	b.t.Helper()
	data, err := getObject(b.t, b.fs(branch), name)
	if err != nil {
		assert.ErrorContains(b.t, err, "NoSuchKey")
		return ""
	}
	return string(data)
}

// replay returns the value of the entry key that a store with access r on
// fsys replays.
func replay(t *testing.T, fsys afero.Fs, key string) string {
	t.Helper()
	v, err := cache.Do(entries(t, fsys, cache.ReadOnly), key, mustNotCompute(t))
	assert.NilError(t, err)
	return v
}

// compute computes the entry key on fsys with access a.
func compute(t *testing.T, fsys afero.Fs, a cache.Access, key, value string) {
	t.Helper()
	v, err := cache.Do(entries(t, fsys, a), key, func() (string, error) { return value, nil })
	assert.NilError(t, err)
	assert.Equal(t, v, value)
}

// TestBranchRecordsApartFromItsBase plays a team's week: main records its
// fixtures; a feature branch replays them, re-records one with ew and
// records a new one, which main's processes never see, on a warm machine
// or a fresh one; then the branch is promoted, and main replays what the
// branch recorded.
func TestBranchRecordsApartFromItsBase(t *testing.T) {
	b, _ := newBranches(t)
	laptop, runner := t.TempDir(), t.TempDir()

	compute(t, b.process("main", laptop), cache.ReadExecuteWrite, "k", "v1")
	compute(t, b.process("main", laptop), cache.ReadExecuteWrite, "shared", "s")
	assert.Equal(t, replay(t, b.process("feature", runner), "k"), "v1", "the branch reads main's recording")

	compute(t, b.process("feature", laptop), cache.Regenerate, "k", "v2")
	compute(t, b.process("feature", laptop), cache.ReadExecuteWrite, "new", "n")
	assert.Equal(t, b.object("main", "entries/k.json"), "\"v1\"\n", "ew on the branch leaves main's object alone")
	assert.Equal(t, b.object("feature", "entries/k.json"), "\"v2\"\n")
	assert.Equal(t, b.object("feature", "entries/new.json"), "\"n\"\n")
	assert.Equal(t, b.object("feature", "entries/shared.json"), "", "a replay copies nothing into the branch")

	for _, machine := range []string{laptop, runner, t.TempDir()} {
		onMain := b.process("main", machine)
		assert.Equal(t, replay(t, onMain, "k"), "v1", "main replays its own recording")
		_, err := cache.Do(entries(t, onMain, cache.ReadOnly), "new", mustNotCompute(t))
		assert.Assert(t, errors.Is(err, cache.ErrNotCached), "main does not see the branch's entry: %v", err)

		onFeature := b.process("feature", machine)
		assert.Equal(t, replay(t, onFeature, "k"), "v2")
		assert.Equal(t, replay(t, onFeature, "new"), "n")
		assert.Equal(t, replay(t, onFeature, "shared"), "s")
	}
	list, err := entries(t, b.process("feature", t.TempDir()), cache.ReadOnly).List()
	assert.NilError(t, err)
	assert.DeepEqual(t, entryKeys(list), []string{"k", "new", "shared"})

	promoted, err := b.feature().Promote()
	assert.NilError(t, err)
	assert.Equal(t, promoted, 2)
	assert.DeepEqual(t, keys(t, b.fs("feature")), []string(nil))
	for _, machine := range []string{laptop, runner} {
		onMain := b.process("main", machine)
		assert.Equal(t, replay(t, onMain, "k"), "v2", "main replays the promoted recording")
		assert.Equal(t, replay(t, onMain, "new"), "n")
		assert.Equal(t, replay(t, onMain, "shared"), "s")
	}
}

func entryKeys(list []cache.Entry) []string {
	var ks []string
	for _, e := range list {
		ks = append(ks, e.Key)
	}
	return ks
}

// TestBranchDiscard records on a branch and discards it: the branch then
// replays its base again, and the base is as it was.
func TestBranchDiscard(t *testing.T) {
	b, _ := newBranches(t)
	machine := t.TempDir()
	compute(t, b.process("main", machine), cache.ReadExecuteWrite, "k", "v1")
	compute(t, b.process("feature", machine), cache.Regenerate, "k", "v2")
	assert.NilError(t, b.fs("feature").WriteFileAtomic("entries/.k.json.lock", []byte("a lock left behind\n")))

	discarded, err := b.feature().Discard()
	assert.NilError(t, err)
	assert.Equal(t, discarded, 2)
	assert.DeepEqual(t, keys(t, b.fs("feature")), []string(nil))
	assert.DeepEqual(t, keys(t, b.fs("main")), []string{"entries/k.json"})
	assert.Equal(t, replay(t, b.process("feature", machine), "k"), "v1")
}

// TestBranchPromoteSkipsLocks checks that Promote copies entries and not
// the locks beside them, and leaves the branch's prefix empty.
func TestBranchPromoteSkipsLocks(t *testing.T) {
	b, _ := newBranches(t)
	feature := b.fs("feature")
	for name, content := range map[string]string{
		"a/TestX/x.json":       "1\n",
		"a/TestX/.x.json.lock": "held\n",
		"b/y.raw":              "y",
	} {
		assert.NilError(t, feature.WriteFileAtomic(name, []byte(content)))
	}
	assert.NilError(t, b.fs("main").WriteFileAtomic("a/TestX/x.json", []byte("0\n")))

	promoted, err := b.feature().Promote()
	assert.NilError(t, err)
	assert.Equal(t, promoted, 2)
	assert.DeepEqual(t, keys(t, b.fs("main")), []string{"a/TestX/x.json", "b/y.raw"})
	assert.Equal(t, b.object("main", "a/TestX/x.json"), "1\n")
	assert.DeepEqual(t, keys(t, feature), []string(nil))
}

// TestBranchRecipeWithAWSCLI runs the promotion and the discarding of
// s3/README.md's branch recipe with the AWS CLI, where it is installed,
// and checks they do what Promote and Discard do.
func TestBranchRecipeWithAWSCLI(t *testing.T) {
	b, _ := newBranches(t)
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI is not installed: the README's aws commands are not checked")
	}
	machine := t.TempDir()
	compute(t, b.process("main", machine), cache.ReadExecuteWrite, "k", "v1")
	compute(t, b.process("main", machine), cache.ReadExecuteWrite, "shared", "s")
	compute(t, b.process("feature", machine), cache.Regenerate, "k", "v2")
	compute(t, b.process("feature", machine), cache.ReadExecuteWrite, "new", "n")
	assert.NilError(t, b.fs("feature").WriteFileAtomic("entries/.k.json.lock", []byte("a lock left behind\n")))

	branch := "s3://" + b.root.Bucket() + "/" + b.prefix("feature") + "/"
	main := "s3://" + b.root.Bucket() + "/" + b.prefix("main") + "/"
	aws := func(args ...string) {
		t.Helper()
		out, err := exec.Command("aws", append([]string{"s3"}, args...)...).CombinedOutput()
		assert.NilError(t, err, "aws s3 %s: %s", strings.Join(args, " "), out)
	}
	aws("cp", "--recursive", "--exclude", "*.lock", branch, main)
	aws("rm", "--recursive", branch)

	assert.DeepEqual(t, keys(t, b.fs("feature")), []string(nil))
	assert.DeepEqual(t, keys(t, b.fs("main")), []string{"entries/k.json", "entries/new.json", "entries/shared.json"})
	onMain := b.process("main", machine)
	assert.Equal(t, replay(t, onMain, "k"), "v2")
	assert.Equal(t, replay(t, onMain, "new"), "n")
}

// TestBranchRequests counts the requests of a replay on a branch: a listing
// of each prefix, and one GET per entry fetched, from the prefix that holds
// it.
func TestBranchRequests(t *testing.T) {
	const n = 100
	b, count := newBranches(t)
	main := b.fs("main")
	for i := range n {
		assert.NilError(t, main.WriteFileAtomic(fmt.Sprintf("entries/e%03d.json", i), []byte(fmt.Sprintf("%d\n", i))))
	}
	assert.NilError(t, b.fs("feature").WriteFileAtomic("entries/e000.json", []byte("-1\n")))
	replayAll := func(fsys afero.Fs) {
		t.Helper()
		store := entries(t, fsys, cache.ReadOnly)
		for i := range n {
			v, err := cache.Do(store, fmt.Sprintf("e%03d", i), func() (int, error) { return -2, nil })
			assert.NilError(t, err)
			if i == 0 {
				assert.Equal(t, v, -1, "the branch's recording")
			} else {
				assert.Equal(t, v, i)
			}
		}
	}
	machine := t.TempDir()
	fresh := b.process("feature", machine)
	fresh.IndexStore("entries")
	count.take()
	replayAll(fresh)
	fresh.Wait()
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 2 + n}) // a listing per prefix, then each entry once

	warm := b.process("feature", machine)
	warm.IndexStore("entries")
	replayAll(warm)
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 2})

	// Without a local copy, an entry the listing showed in the base alone
	// is one GET too.
	direct := b.feature()
	store := entries(t, direct, cache.ReadOnly)
	_, err := store.List()
	assert.NilError(t, err)
	count.take()
	v, err := cache.Do(store, "e050", func() (int, error) { return -2, nil })
	assert.NilError(t, err)
	assert.Equal(t, v, 50)
	assert.DeepEqual(t, count.take(), map[string]int{"GET": 1})
}

// TestBranchNeverChangesItsBase removes and renames, on a branch, files
// that the base holds, the branch holds, or both hold: only what the branch
// alone holds is removed, and the rest fails with ErrInBase, changing
// nothing.
func TestBranchNeverChangesItsBase(t *testing.T) {
	b, _ := newBranches(t)
	main, feature := b.fs("main"), b.fs("feature")
	for _, name := range []string{"d/base.json", "d/both.json", "only-base/x.json"} {
		assert.NilError(t, main.WriteFileAtomic(name, []byte("base\n")))
	}
	for _, name := range []string{"d/both.json", "d/branch.json", "only-branch/x.json"} {
		assert.NilError(t, feature.WriteFileAtomic(name, []byte("branch\n")))
	}
	baseKeys := keys(t, main)
	tests := []struct {
		name    string
		op      func(*s3.Branch) error
		wantErr string // "" for none
		gone    string // the branch's object removed
	}{
		{"remove a file the branch alone holds", func(br *s3.Branch) error { return br.Remove("d/branch.json") }, "", "d/branch.json"},
		{"remove a file the base alone holds", func(br *s3.Branch) error { return br.Remove("d/base.json") },
			"remove d/base.json: s3: the base of the branch holds it (s3://" + b.root.Bucket() + "/" + b.prefix("main") + "/d/base.json), " +
				"and a branch never changes its base: remove it with the base's own store once the branch is merged", ""},
		{"remove a file both hold", func(br *s3.Branch) error { return br.Remove("d/both.json") }, "the base of the branch holds it", ""},
		{"remove a directory the base has", func(br *s3.Branch) error { return br.RemoveAll("only-base") }, "the base of the branch holds it", ""},
		{"remove a directory both have", func(br *s3.Branch) error { return br.RemoveAll("d") }, "the base of the branch holds it", ""},
		{"remove a directory the branch alone has", func(br *s3.Branch) error { return br.RemoveAll("only-branch") }, "", "only-branch/x.json"},
		{"rename a file of the base", func(br *s3.Branch) error { return br.Rename("d/base.json", "d/moved.json") }, "the base of the branch holds it", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := keys(t, feature)
			err := tc.op(b.feature())
			if tc.wantErr != "" {
				assert.ErrorContains(t, err, tc.wantErr)
				assert.Assert(t, errors.Is(err, s3.ErrInBase), "%v", err)
				assert.Assert(t, errors.Is(err, iofs.ErrPermission), "%v", err)
				assert.DeepEqual(t, keys(t, feature), before)
			} else {
				assert.NilError(t, err)
				var want []string
				for _, k := range before {
					if k != tc.gone {
						want = append(want, k)
					}
				}
				assert.DeepEqual(t, keys(t, feature), want)
			}
			assert.DeepEqual(t, keys(t, main), baseKeys)
		})
	}
}

// TestBranchAsAFilesystem uses a Branch without a local copy, as
// ?local=off does: it stats, opens, lists and writes files across both
// prefixes.
func TestBranchAsAFilesystem(t *testing.T) {
	b, _ := newBranches(t)
	main, feature := b.fs("main"), b.fs("feature")
	assert.NilError(t, main.WriteFileAtomic("d/base.txt", []byte("base\n")))
	assert.NilError(t, main.WriteFileAtomic("d/both.txt", []byte("base\n")))
	assert.NilError(t, main.WriteFileAtomic("d/sub/deep.txt", []byte("deep\n")))
	assert.NilError(t, feature.WriteFileAtomic("d/both.txt", []byte("the branch's\n")))
	assert.NilError(t, feature.WriteFileAtomic("e/new.txt", []byte("new\n")))
	br := b.feature()

	read := func(name string) string {
		t.Helper()
		data, err := afero.ReadFile(br, name)
		assert.NilError(t, err)
		return string(data)
	}
	assert.Equal(t, read("d/base.txt"), "base\n")
	assert.Equal(t, read("d/both.txt"), "the branch's\n")
	assert.Equal(t, read("d/sub/deep.txt"), "deep\n")
	info, err := br.Stat("d/both.txt")
	assert.NilError(t, err)
	assert.Equal(t, info.Size(), int64(len("the branch's\n")))
	info, err = br.Stat("d/sub")
	assert.NilError(t, err)
	assert.Assert(t, info.IsDir())
	_, err = br.Stat("d/none.txt")
	assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "%v", err)

	names := func(dir string) []string {
		t.Helper()
		infos, err := afero.ReadDir(br, dir)
		assert.NilError(t, err)
		var ns []string
		for _, info := range infos {
			ns = append(ns, fmt.Sprintf("%s %d %v", info.Name(), info.Size(), info.IsDir()))
		}
		return ns
	}
	assert.DeepEqual(t, names(""), []string{"d 0 true", "e 0 true"})
	assert.DeepEqual(t, names("d"), []string{"base.txt 5 false", "both.txt 13 false", "sub 0 true"})
	var walked []string
	assert.NilError(t, afero.Walk(br, "", func(p string, info iofs.FileInfo, err error) error {
		assert.NilError(t, err)
		if !info.IsDir() {
			walked = append(walked, filepath.ToSlash(p))
		}
		return nil
	}))
	assert.DeepEqual(t, walked, []string{"d/base.txt", "d/both.txt", "d/sub/deep.txt", "e/new.txt"})

	// Appending to a file of the base copies it into the branch first.
	f, err := br.OpenFile("d/base.txt", os.O_WRONLY|os.O_APPEND, 0o644)
	assert.NilError(t, err)
	_, err = f.Write([]byte("more\n"))
	assert.NilError(t, err)
	assert.NilError(t, f.Close())
	assert.Equal(t, read("d/base.txt"), "base\nmore\n")
	assert.Equal(t, b.object("feature", "d/base.txt"), "base\nmore\n")
	assert.Equal(t, b.object("main", "d/base.txt"), "base\n")

	_, err = br.OpenFile("d/sub/deep.txt", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	assert.Assert(t, errors.Is(err, iofs.ErrExist), "a file of the base exists for O_EXCL: %v", err)
	f, err = br.OpenFile("d/sub/deep.txt", os.O_WRONLY|os.O_TRUNC, 0o644)
	assert.NilError(t, err)
	_, err = f.Write([]byte("replaced\n"))
	assert.NilError(t, err)
	assert.NilError(t, f.Close())
	assert.Equal(t, b.object("feature", "d/sub/deep.txt"), "replaced\n")
	assert.Equal(t, b.object("main", "d/sub/deep.txt"), "deep\n")
}

// TestBranchCorruptBase computes, on a branch, an entry whose object in
// the base is corrupt: the value goes to the branch, and the base's object
// is not overwritten.
func TestBranchCorruptBase(t *testing.T) {
	b, _ := newBranches(t)
	assert.NilError(t, b.fs("main").WriteFileAtomic("entries/k.json", []byte(`"trunc`)))
	machine := t.TempDir()
	_, err := cache.Do(entries(t, b.process("feature", machine), cache.ReadOnly), "k", mustNotCompute(t))
	assert.Assert(t, errors.Is(err, cache.ErrCorrupt), "%v", err)

	compute(t, b.process("feature", machine), cache.ReadExecuteWrite, "k", "fresh")
	assert.Equal(t, b.object("feature", "entries/k.json"), "\"fresh\"\n")
	assert.Equal(t, b.object("main", "entries/k.json"), `"trunc`)
	assert.Equal(t, replay(t, b.process("feature", machine), "k"), "fresh")
}

// TestBranchURL opens stores with the setting base: a branch over the base
// that shares its local copy; the base's own prefix, which is no branch;
// and wrong values. No server is needed.
func TestBranchURL(t *testing.T) {
	cacheHome := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cacheHome)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	name := strings.ReplaceAll(t.Name(), "/", "_")

	fsys, err := cache.OpenURL("s3://team/" + name + "/feature-x?base=/" + name + "/main/")
	assert.NilError(t, err)
	rt, ok := fsys.(*s3.ReadThrough)
	assert.Assert(t, ok, "%T", fsys)
	br, ok := rt.Remote().(*s3.Branch)
	assert.Assert(t, ok, "%T", rt.Remote())
	assert.Equal(t, br.Top().Prefix(), name+"/feature-x")
	assert.Equal(t, br.Base().Prefix(), name+"/main")
	localDir, err := rt.Local().(*afero.BasePathFs).RealPath(".")
	assert.NilError(t, err)
	assert.Equal(t, localDir, filepath.Join(cacheHome, "pecapiku", "s3", "127.0.0.1_9", "team", name, "main"),
		"the local copy is the base's")

	fsys, err = cache.OpenURL("s3://team/" + name + "/main?base=" + name + "/main")
	assert.NilError(t, err)
	_, ok = fsys.(*s3.ReadThrough).Remote().(*s3.Fs)
	assert.Assert(t, ok, "the base's own URL is a store of its own")

	fsys, err = cache.OpenURL("s3://team/" + name + "/feature-x?base=" + name + "/main&local=off")
	assert.NilError(t, err)
	_, ok = fsys.(*s3.Branch)
	assert.Assert(t, ok, "%T", fsys)

	for _, tc := range []struct{ url, wantErr string }{
		{"s3://team/branches/x?base=", "the setting base= in the URL is not a prefix of the bucket team, such as base=branches/main"},
		{"s3://team/branches/x?base=s3://team/main", "the setting base=s3://team/main in the URL is not a prefix of the bucket team"},
		{"s3://team/main/x?base=main", "s3: the branch s3://team/main/x and its base s3://team/main lie one inside the other; give them prefixes side by side, such as branches/feature-x and branches/main"},
		{"s3://team/main?base=main/x", "lie one inside the other"},
		{"s3://team?base=main", "s3: s3://team/ names the whole bucket, which cannot be a branch of base=main: give the branch a prefix of its own, as in s3://team/branches/feature-x?base=branches/main"},
	} {
		_, err := cache.OpenURL(tc.url)
		assert.ErrorContains(t, err, tc.wantErr, tc.url)
	}
	_, err = s3.NewBranch("team", "main", "/main/")
	assert.ErrorContains(t, err, "s3: the base of the branch s3://team/main is its own prefix; give another prefix of the bucket, or no base")
}

// TestBranchUnreachable checks that a branch whose server does not answer
// costs one timeout per process, not one per prefix and per entry: both
// prefixes learn that the store is down.
func TestBranchUnreachable(t *testing.T) {
	addr, conns := countingSilentServer(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	fsys, err := cache.OpenURL("s3://hung/branches/x?base=branches/main&timeout=200ms&attempts=2&local=" + t.TempDir())
	assert.NilError(t, err)
	store := entries(t, fsys, cache.ReadExecuteWrite)
	for i := range 3 {
		v, err := cache.Do(store, fmt.Sprintf("k%d", i), func() (int, error) { return i, nil })
		assert.NilError(t, err)
		assert.Equal(t, v, i)
	}
	// Both prefixes are listed at once, each with two attempts; then
	// nothing more.
	assert.Equal(t, conns.Load(), int64(4))
	ro := entries(t, fsys, cache.ReadOnly)
	_, err = cache.Do(ro, "other", func() (int, error) { return 0, nil })
	assert.Assert(t, errors.Is(err, cache.ErrUnavailable), "%v", err)
	assert.Equal(t, conns.Load(), int64(4))

	// A branch whose base was found down does not send requests to its own
	// prefix either: they share the endpoint.
	addr, conns = countingSilentServer(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	fsys, err = cache.OpenURL("s3://hung/branches/x?base=branches/main&timeout=200ms&attempts=2&local=off")
	assert.NilError(t, err)
	err = fsys.Remove("k.json") // asks the base whether it holds k.json
	assert.Assert(t, errors.Is(err, cache.ErrUnavailable), "%v", err)
	assert.Equal(t, conns.Load(), int64(2))
	err = fsys.(*s3.Branch).WriteFileAtomic("k.json", []byte("1\n"))
	assert.Assert(t, errors.Is(err, cache.ErrUnavailable), "%v", err)
	assert.ErrorContains(t, err, "s3: PutObject s3://hung/branches/x/k.json: not sent, since the store could not be reached earlier in this process (HeadObject s3://hung/branches/main/k.json: cannot reach http://"+addr)
	assert.Equal(t, conns.Load(), int64(2))
}

// TestPecatestOnBranch points pecatest at a branch with PECAPIKU_STORE, as
// a CI job of a feature branch does: it replays main's recording, and a
// re-record with ew lands in the branch's prefix alone.
func TestPecatestOnBranch(t *testing.T) {
	b, _ := newBranches(t)
	// A shared entry, so that two subtests, as two runs, may ask for it.
	const entry = "github.com/pecapiku/pecapiku/s3/testdata/.pecapiku/dataset.json"
	assert.NilError(t, b.fs("main").WriteFileAtomic(entry, []byte("[\n  1,\n  2\n]\n")))
	t.Setenv(cache.EnvStore, "s3://"+b.root.Bucket()+"/"+b.prefix("feature")+"?base="+b.prefix("main")+"&local="+t.TempDir())

	t.Run("replay", func(t *testing.T) {
		got := pecatest.Memo(t, "dataset", func() ([]int, error) {
			t.Error("recorded on main, so it must not run")
			return nil, nil
		}, pecatest.WithAccess(cache.ReadOnly), pecatest.Shared())
		assert.DeepEqual(t, got, []int{1, 2})
	})
	t.Run("record", func(t *testing.T) {
		got := pecatest.Memo(t, "dataset", func() ([]int, error) { return []int{3}, nil }, pecatest.WithAccess(cache.Regenerate), pecatest.Shared())
		assert.DeepEqual(t, got, []int{3})
	})
	assert.Equal(t, b.object("feature", entry), "[\n  3\n]\n")
	assert.Equal(t, b.object("main", entry), "[\n  1,\n  2\n]\n")
}

// TestCommandOnBranch runs the pecapiku command on a branch that
// PECAPIKU_STORE names: ls shows both prefixes' entries, and rm removes the
// branch's entry and refuses the base's, naming its object.
func TestCommandOnBranch(t *testing.T) {
	b, _ := newBranches(t)
	assert.NilError(t, b.fs("main").WriteFileAtomic("x/.pecapiku/TestA/a.json", []byte("1\n")))
	assert.NilError(t, b.fs("feature").WriteFileAtomic("x/.pecapiku/TestA/b.json", []byte("2\n")))
	url := "s3://" + b.root.Bucket() + "/" + b.prefix("feature")
	t.Setenv(cache.EnvStore, url+"?base="+b.prefix("main")+"&local="+t.TempDir())

	status, stdout, stderr := pecapiku(t, "ls", url+"/x")
	assert.Equal(t, status, 0, stderr)
	matches(t, stdout, `(?m)^  TestA/a +json +2 B .*\n  TestA/b +json +2 B .*\n  2 entries`)

	status, _, stderr = pecapiku(t, "rm", url+"/x/.pecapiku/TestA/a.json")
	assert.Equal(t, status, 1)
	assert.Assert(t, strings.Contains(stderr, "s3: the base of the branch holds it (s3://"+b.root.Bucket()+"/"+b.prefix("main")+"/x/.pecapiku/TestA/a.json)"), stderr)
	status, stdout, stderr = pecapiku(t, "rm", url+"/x/.pecapiku/TestA/b.json")
	assert.Equal(t, status, 0, stderr)
	assert.Equal(t, stdout, "removed "+url+"/x/.pecapiku/TestA/b.json\n")
	assert.DeepEqual(t, keys(t, b.fs("feature")), []string(nil))
	assert.DeepEqual(t, keys(t, b.fs("main")), []string{"x/.pecapiku/TestA/a.json"})
}
