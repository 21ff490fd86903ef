//go:build unix

package fs_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/fs"
)

// TestFailingWriterBesideOthers: a write that fails (here, past the
// process's file size limit) removes its temporary file while the name is
// still its own, so that writers beside it, which take over the names of
// files no one holds, never see their file removed, nor rename another's
// half-written file over the destination. Every small write succeeds and
// every read of the destination finds a whole value.
//
// The size limit is the process's, so the writers run in a process of
// their own: this test binary again, with PECAPIKU_TEST_FSIZE set.
func TestFailingWriterBesideOthers(t *testing.T) {
	if dir := os.Getenv("PECAPIKU_TEST_FSIZE"); dir != "" {
		failingWriters(t, dir)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailingWriterBesideOthers$", "-test.v")
	cmd.Env = append(os.Environ(), "PECAPIKU_TEST_FSIZE="+t.TempDir())
	out, err := cmd.CombinedOutput()
	assert.NilError(t, err, "%s", out)
}

func failingWriters(t *testing.T, dir string) {
	limit := syscall.Rlimit{Cur: 8 << 10, Max: 8 << 10}
	assert.NilError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit))
	name := filepath.Join(dir, "entry.json")
	// A whole value is "<its length, 8 digits>xxx…x\n".
	value := func(size int) []byte {
		b := []byte(fmt.Sprintf("%08d", size))
		for len(b) < size-1 {
			b = append(b, 'x')
		}
		return append(b, '\n')
	}
	whole := func(b []byte) bool {
		n, err := strconv.Atoi(string(b[:min(8, len(b))]))
		return err == nil && n == len(b) && b[len(b)-1] == '\n'
	}
	var failedSmall, badReads atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				if g%2 == 0 {
					// Past the limit: fails, after taking a name.
					assert.Check(t, fs.WriteAtomic(afero.NewOsFs(), name, value(16<<10)) != nil)
				} else if err := fs.WriteAtomic(afero.NewOsFs(), name, value(100+g)); err != nil {
					failedSmall.Add(1)
					t.Logf("a small write failed: %v", err)
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 3000; i++ {
			if b, err := os.ReadFile(name); err == nil && !whole(b) {
				badReads.Add(1)
			}
		}
	}()
	wg.Wait()
	<-done
	assert.Equal(t, failedSmall.Load(), int64(0), "small writes failed")
	assert.Equal(t, badReads.Load(), int64(0), "reads found a value that was not whole")
}
