package fs_test

// Run with
//
//	go test -run '^$' -bench . ./fs

import (
	"path/filepath"
	"testing"

	"github.com/pecapiku/pecapiku/fs"
	"github.com/pecapiku/pecapiku/internal/bench"
	"github.com/spf13/afero"
)

// BenchmarkWriteAtomic: WriteAtomic of 64 KB over an existing file (a
// temporary file written and synced, renamed over it, the directory synced);
// floor: the same bytes written over the file in place with os.WriteFile's
// open, write and close plus a Sync, which is not atomic. It is the part of
// cache's BenchmarkMissWrite that no codec changes: judge it by the wall
// clock (x-floor), since both wait for the disk.
func BenchmarkWriteAtomic(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, 64<<10)
	osFs := afero.NewOsFs()
	name := filepath.Join(dir, "store", "entry.json")
	floor := filepath.Join(dir, "floor")
	bench.Pair(b, func() {
		if err := fs.WriteAtomic(osFs, name, data); err != nil {
			b.Fatal(err)
		}
	}, func() { bench.WriteSync(b, floor, data) })
}
