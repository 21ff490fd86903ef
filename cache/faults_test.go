package cache_test

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/faultfs"
)

// writeOps are the ways the cache writes an entry, each writing the value v
// under key "TestReport/dataset" and returning the error.
var writeOps = []struct {
	name string
	do   func(s *cache.Store, v dataset) error
}{
	{"Store.Write", func(s *cache.Store, v dataset) error { return s.Write("TestReport/dataset", v) }},
	{"Do", func(s *cache.Store, v dataset) error {
		got, err := cache.Do(s, "TestReport/dataset", func() (dataset, error) { return v, nil })
		if err == nil || got.Name != v.Name {
			return errors.Join(err, errors.New("Do did not return the computed value with the write error"))
		}
		return err
	}},
}

// TestFailingDisk injects each fault of a failing disk into every way the
// cache writes an entry that exists, and into the first write of an entry
// whose directory is missing: the previous entry survives intact, no
// temporary file is left, and the error names the entry's file and the
// operation that failed.
func TestFailingDisk(t *testing.T) {
	previous := dataset{Name: "previous", Rows: []int{1, 2, 3}}
	big := dataset{Name: "replacement", Rows: make([]int, 10000)}
	for _, tc := range []struct {
		fault faultfs.Fault
		limit int64
		want  []string // in the error, with DIR for the store's directory
	}{
		{faultfs.NoSpace, 100, []string{"fs: write DIR/TestReport/dataset.json: write DIR/TestReport/.dataset.json.tmp-", "no space left on device"}},
		{faultfs.NoSpace, 0, []string{"fs: write DIR/TestReport/dataset.json: write DIR/TestReport/.dataset.json.tmp-", "no space left on device"}},
		{faultfs.SyncFails, 0, []string{"fs: write DIR/TestReport/dataset.json: sync DIR/TestReport/.dataset.json.tmp-", "input/output error"}},
		{faultfs.RenameFails, 0, []string{"fs: write DIR/TestReport/dataset.json: rename DIR/TestReport/.dataset.json.tmp-", "input/output error"}},
		{faultfs.PermissionDenied, 0, []string{"fs: write DIR/TestReport/dataset.json: create temporary file: open DIR/TestReport/.dataset.json.tmp-", "permission denied"}},
	} {
		for _, op := range writeOps {
			for diskName, newDisk := range disks(t) {
				t.Run(tc.fault.String()+"/"+op.name+"/"+diskName, func(t *testing.T) {
					base, dir := newDisk(t)
					good, err := cache.NewStore(dir, cache.WithFs(base), cache.WithAccess(cache.ReadExecuteWrite))
					assert.NilError(t, err)
					assert.NilError(t, good.Write("TestReport/dataset", previous))
					before, err := afero.ReadFile(base, filepath.Join(dir, "TestReport", "dataset.json"))
					assert.NilError(t, err)

					faulty := faultfs.NewFaulty(base, tc.fault, tc.limit)
					store, err := cache.NewStore(dir, cache.WithFs(faulty), cache.WithAccess(cache.Regenerate))
					assert.NilError(t, err)
					err = op.do(store, big)
					assert.Assert(t, errors.Is(err, faultfs.ErrInjected), err)
					for _, want := range tc.want {
						assert.ErrorContains(t, err, strings.ReplaceAll(want, "DIR", dir))
					}
					assert.Equal(t, strings.Count(err.Error(), ".dataset.json.tmp-"), 1, "the temporary file is named more than once: %v", err)

					after, err := afero.ReadFile(base, filepath.Join(dir, "TestReport", "dataset.json"))
					assert.NilError(t, err)
					assert.Equal(t, string(after), string(before), "the previous entry changed")
					var got dataset
					assert.NilError(t, good.Read("TestReport/dataset", &got))
					assert.DeepEqual(t, got, previous)
					leftovers, err := faultfs.Leftovers(base, dir)
					assert.NilError(t, err)
					assert.Equal(t, len(leftovers), 0, "temporary files left: %v", leftovers)
				})
			}
		}
	}
}

// TestFailingDiskNewEntry covers the first write of an entry, which must
// create its directory: denied, nothing is created and the error names the
// directory.
func TestFailingDiskNewEntry(t *testing.T) {
	for _, op := range writeOps {
		for diskName, newDisk := range disks(t) {
			t.Run(op.name+"/"+diskName, func(t *testing.T) {
				base, dir := newDisk(t)
				store, err := cache.NewStore(dir, cache.WithFs(faultfs.NewFaulty(base, faultfs.PermissionDenied, 0)), cache.WithAccess(cache.ReadExecuteWrite))
				assert.NilError(t, err)
				err = op.do(store, dataset{Name: "new"})
				assert.Assert(t, errors.Is(err, iofs.ErrPermission), err)
				assert.ErrorContains(t, err, "fs: write "+filepath.Join(dir, "TestReport", "dataset.json")+": create directory: mkdir "+filepath.Join(dir, "TestReport")+": permission denied")
				_, err = base.Stat(dir)
				assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "the store's directory was created")
			})
		}
	}
}

// TestFailingDiskDelete checks that a denied removal is reported with the
// key, the file and the operation, and leaves the entry.
func TestFailingDiskDelete(t *testing.T) {
	base := afero.NewMemMapFs()
	assert.NilError(t, afero.WriteFile(base, "/store/k.json", []byte("1\n"), 0o644))
	store, err := cache.NewStore("/store", cache.WithFs(faultfs.NewFaulty(base, faultfs.PermissionDenied, 0)), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	err = store.Delete("k")
	assert.Assert(t, errors.Is(err, iofs.ErrPermission), err)
	assert.Error(t, err, `cache: delete "k": remove /store/k.json: permission denied (injected)`)
	_, err = base.Stat("/store/k.json")
	assert.NilError(t, err)
}

// TestRealPermissionDenied makes a store's directory read-only on the real
// disk: the write fails with the system's error, names the file, and the
// entry survives.
func TestRealPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes whatever the permissions; the injected PermissionDenied cases cover this")
	}
	dir := filepath.Join(t.TempDir(), "store")
	store, err := cache.NewStore(dir, cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	assert.NilError(t, store.Write("k", 1))
	assert.NilError(t, os.Chmod(dir, 0o555))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
	err = store.Write("k", 2)
	assert.Assert(t, errors.Is(err, iofs.ErrPermission), err)
	assert.ErrorContains(t, err, "fs: write "+filepath.Join(dir, "k.json")+": create temporary file")
	var got int
	assert.NilError(t, store.Read("k", &got))
	assert.Equal(t, got, 1)
}

// storeOps are the operations of a store that the read-only guarantee
// covers, run against an entry that is present ("present"), one that is
// missing ("missing") and one that cannot be decoded ("corrupt"). Errors are
// expected from some (forbidden writes, entries not cached); what matters is
// what reaches the disk. Memo and Golden have the same test in package
// pecatest.
var storeOps = []struct {
	name string
	do   func(s *cache.Store) error
}{
	{"Do present", func(s *cache.Store) error {
		_, err := cache.Do(s, "present", func() (int, error) { return 2, nil })
		return err
	}},
	{"Do missing", func(s *cache.Store) error {
		_, err := cache.Do(s, "missing", func() (int, error) { return 2, nil })
		return err
	}},
	{"Do corrupt", func(s *cache.Store) error {
		_, err := cache.Do(s, "corrupt", func() (int, error) { return 2, nil })
		return err
	}},
	{"Do missing in a new directory", func(s *cache.Store) error {
		_, err := cache.Do(s, "new/dir/missing", func() (int, error) { return 2, nil })
		return err
	}},
	{"Do failing", func(s *cache.Store) error {
		_, err := cache.Do(s, "missing", func() (int, error) { return 0, errors.New("fails") })
		return err
	}},
	{"Func", func(s *cache.Store) error {
		f, err := cache.Func(s, "square", func(n int) (int, error) { return n * n, nil })
		if err != nil {
			return err
		}
		_, err = f(3)
		return err
	}},
	{"Func with a constant key and a maximum age", func(s *cache.Store) error {
		f, err := cache.Func(s, "square", func(n int) (int, error) { return n * n, nil },
			cache.ConstKey("latest"), cache.MaxAge(time.Hour), cache.Version("2"))
		if err != nil {
			return err
		}
		_, err = f(3)
		return err
	}},
	{"SingleValue", func(s *cache.Store) error {
		f, err := cache.SingleValue(s, "answer", func() (int, error) { return 42, nil })
		if err != nil {
			return err
		}
		_, err = f()
		return err
	}},
	{"Read", func(s *cache.Store) error { var v int; return s.Read("present", &v) }},
	{"Read corrupt", func(s *cache.Store) error { var v int; return s.Read("corrupt", &v) }},
	{"Write present", func(s *cache.Store) error { return s.Write("present", 3) }},
	{"Write missing", func(s *cache.Store) error { return s.Write("new/dir/missing", 3) }},
	{"Delete", func(s *cache.Store) error { return s.Delete("present") }},
	{"Delete missing", func(s *cache.Store) error { return s.Delete("missing") }},
	{"List", func(s *cache.Store) error { _, err := s.List(); return err }},
	{"Path", func(s *cache.Store) error { _, err := s.Path("present"); return err }},
}

// TestNothingWrittenWithoutW runs every operation of a store under each
// access without w, on a filesystem that counts the calls that could change
// it: not one may reach it. The store sits on a read-only view of the
// counter, so a call recorded is one that got through that view.
func TestNothingWrittenWithoutW(t *testing.T) {
	for _, access := range []cache.Access{cache.ReadOnly, cache.ReadExecute, cache.Bypass} {
		for _, op := range storeOps {
			for diskName, newDisk := range disks(t) {
				t.Run(access.String()+"/"+op.name+"/"+diskName, func(t *testing.T) {
					base, dir := newDisk(t)
					seedStore(t, base, dir)
					counter := faultfs.NewCounting(base)
					store, err := cache.NewStore(dir, cache.WithFs(counter), cache.WithAccess(access))
					assert.NilError(t, err)
					_ = op.do(store)
					assert.DeepEqual(t, counter.Mutations(), []string(nil))
				})
			}
		}
	}
}

// TestNothingWrittenWithoutWOnRealDisk runs the same operations on a store
// over the real filesystem itself, not a wrapper, where Do would take
// cross-process locks: without w, the store's directory and the directory of
// lock files must come out exactly as they went in.
func TestNothingWrittenWithoutWOnRealDisk(t *testing.T) {
	for _, access := range []cache.Access{cache.ReadOnly, cache.ReadExecute, cache.Bypass} {
		for _, op := range storeOps {
			t.Run(access.String()+"/"+op.name, func(t *testing.T) {
				tmp := t.TempDir()
				t.Setenv("TMPDIR", tmp) // where lock files would go
				dir := filepath.Join(t.TempDir(), "store")
				base := afero.NewOsFs()
				seedStore(t, base, dir)
				before, beforeTmp := snapshot(t, dir), snapshot(t, tmp)
				store, err := cache.NewStore(dir, cache.WithAccess(access))
				assert.NilError(t, err)
				_ = op.do(store)
				assert.DeepEqual(t, snapshot(t, dir), before)
				assert.DeepEqual(t, snapshot(t, tmp), beforeTmp)
			})
		}
	}
}

// seedStore writes the entries storeOps expect: "present" and "corrupt".
func seedStore(t *testing.T, fsys afero.Fs, dir string) {
	t.Helper()
	assert.NilError(t, fsys.MkdirAll(dir, 0o755))
	assert.NilError(t, afero.WriteFile(fsys, filepath.Join(dir, "present.json"), []byte("1\n"), 0o644))
	assert.NilError(t, afero.WriteFile(fsys, filepath.Join(dir, "corrupt.json"), []byte("{"), 0o644))
}

// snapshot describes every file and directory under dir: path, mode, size,
// modification time and content.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d iofs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := p + " " + info.Mode().String() + " " + info.ModTime().Format(time.RFC3339Nano)
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " " + string(data)
		}
		out = append(out, line)
		return nil
	})
	assert.NilError(t, err)
	sort.Strings(out)
	return out
}
