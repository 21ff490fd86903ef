//go:build unix

package s3_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

// The settings of the memory helper.
const (
	envMemoryStep  = "PECAPIKU_TEST_MEMORY_STEP"  // record or replay
	envMemoryWhere = "PECAPIKU_TEST_MEMORY_WHERE" // disk, bucket (no local copy) or read-through
	envMemoryDir   = "PECAPIKU_TEST_MEMORY_DIR"   // the store's directory on disk, or the local copy's
)

// memoryValueSize is the size of the value whose recording and replay
// BenchmarkMemory measures.
const memoryValueSize = 100 << 20

// memoryHelper records or replays one raw value of memoryValueSize bytes,
// in a process of its own, so that its peak RSS is the step's alone.
func memoryHelper(bucket *s3.Fs) error {
	var fsys afero.Fs
	dir := "entries"
	switch os.Getenv(envMemoryWhere) {
	case "disk":
		fsys, dir = afero.NewOsFs(), os.Getenv(envMemoryDir)
	case "bucket":
		fsys = bucket
	case "read-through":
		fsys = s3.NewReadThrough(bucket, afero.NewBasePathFs(afero.NewOsFs(), os.Getenv(envMemoryDir)))
	default:
		return fmt.Errorf("unknown place %q", os.Getenv(envMemoryWhere))
	}
	access := cache.Regenerate
	if os.Getenv(envMemoryStep) == "replay" {
		access = cache.ReadOnly
	}
	store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(access), cache.WithCodec(cache.Raw))
	if err != nil {
		return err
	}
	v, err := cache.Do(store, "big", func() ([]byte, error) {
		return bytes.Repeat([]byte("pecapiku"), memoryValueSize/8), nil
	})
	if err != nil {
		return err
	}
	if len(v) != memoryValueSize {
		return fmt.Errorf("got %d bytes, want %d", len(v), memoryValueSize)
	}
	return nil
}

// BenchmarkMemory measures the peak RSS of a process that records, then of
// one that replays, a 100 MiB raw value, on the local disk and on the
// bucket, and reports it as a multiple of the value's size (RSS/value).
// The replay through the local copy starts from an empty copy, as on a
// fresh machine. Each step runs in a process of its own; run it with
// -benchtime 1x.
//
// Each record writes a new entry, under a prefix (or a directory) of its
// own: with ew, recording over an entry reads it first, to leave equal
// bytes alone, which is not what this measures.
func BenchmarkMemory(b *testing.B) {
	testBucket(b)
	for _, where := range []string{"disk", "bucket", "read-through"} {
		dirs := b.TempDir()    // outlives the record step, for the replay
		var prefix, dir string // of the last record, which the replay reads
		for _, step := range []string{"record", "replay"} {
			b.Run(where+"/"+step, func(b *testing.B) {
				var peak int64
				for range b.N {
					local := dir
					switch {
					case step == "record":
						var err error
						dir, err = os.MkdirTemp(dirs, "record-")
						assert.NilError(b, err)
						prefix, local = testPrefix(b), dir
					case where == "read-through":
						local = b.TempDir() // a fresh machine
					}
					cmd := exec.Command(os.Args[0])
					cmd.Env = append(os.Environ(), envRole+"=memory", envPrefix+"="+prefix,
						envMemoryStep+"="+step, envMemoryWhere+"="+where, envMemoryDir+"="+local)
					out, err := cmd.CombinedOutput()
					assert.NilError(b, err, "%s", out)
					peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss*1024) // Linux reports KiB
				}
				b.ReportMetric(float64(peak)/memoryValueSize, "RSS/value")
				b.ReportMetric(float64(peak)/1e6, "MB-peak-RSS")
			})
		}
	}
}
