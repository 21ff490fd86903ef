package cache_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/faultfs"
)

var (
	crashKills    = flag.Int("crash.kills", 25, "number of writer processes TestCrashSafety kills with SIGKILL")
	crashMaxDelay = flag.Duration("crash.maxdelay", 400*time.Millisecond, "longest time TestCrashSafety lets a writer run before killing it")
)

// crashEntry is one store and key of the crash test, with the size range of
// the values written to it. A chunked entry is written 4 KiB per system
// call, as a network filesystem may, which leaves a killed writer many more
// moments to stop in the middle of a file; the others are written in one
// call, with the cross-process lock of a store on the real disk.
type crashEntry struct {
	codec    cache.Codec
	key      string
	min, max int // bytes of payload
	chunked  bool
}

var crashEntries = []crashEntry{
	{cache.Gob, "gob/a", 1 << 20, 6 << 20, false},
	{cache.Gob, "gob/b", 1 << 20, 6 << 20, true},
	{cache.JSON, "json/a", 1 << 20, 3 << 20, false},
	{cache.Raw, "raw/a", 1 << 20, 6 << 20, true},
}

// blob is the value the crash test writes: everything in it follows from
// Seed and Size, so a reader can tell a value that was written whole from
// anything else.
type blob struct {
	Key  string
	Seed int64
	Data []byte
}

// payload returns the size bytes that seed stands for.
func payload(seed int64, size int) []byte {
	data := make([]byte, size)
	rand.New(rand.NewSource(seed)).Read(data)
	return data
}

// rawBlob is the raw codec's form of a blob: the seed in 8 bytes, then the
// payload.
func rawBlob(seed int64, size int) []byte {
	out := make([]byte, 8, 8+size)
	binary.BigEndian.PutUint64(out, uint64(seed))
	return append(out, payload(seed, size)...)
}

func init() { children["crash-writer"] = crashWriter }

// crashWriter writes large entries to the stores under PECAPIKU_TEST_DIR in
// an endless loop, alternating Store.Write and Do with access ew, until it is
// killed. Before each write it appends "key seed size" to
// PECAPIKU_TEST_LOG, so that the test knows every value that may be on disk.
// It prints "ready" once its stores are open.
func crashWriter() error {
	dir := os.Getenv("PECAPIKU_TEST_DIR")
	log, err := os.OpenFile(os.Getenv("PECAPIKU_TEST_LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	stores := map[string]*cache.Store{}
	for _, e := range crashEntries {
		var disk afero.Fs = afero.NewOsFs()
		if e.chunked {
			disk = faultfs.NewChunked(disk, 4<<10)
		}
		s, err := cache.NewStore(dir, cache.WithFs(disk), cache.WithCodec(e.codec), cache.WithAccess(cache.Regenerate))
		if err != nil {
			return err
		}
		stores[e.key] = s
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano() ^ int64(os.Getpid())))
	fmt.Println("ready")
	for i := 0; ; i++ {
		e := crashEntries[rng.Intn(len(crashEntries))]
		seed := rng.Int63()
		size := e.min + rng.Intn(e.max-e.min)
		if _, err := fmt.Fprintf(log, "%s %d %d\n", e.key, seed, size); err != nil {
			return err
		}
		s := stores[e.key]
		if e.codec == cache.Raw {
			err = s.Write(e.key, rawBlob(seed, size))
		} else if i%2 == 0 {
			err = s.Write(e.key, blob{Key: e.key, Seed: seed, Data: payload(seed, size)})
		} else {
			_, err = cache.Do(s, e.key, func() (blob, error) {
				return blob{Key: e.key, Seed: seed, Data: payload(seed, size)}, nil
			})
		}
		if err != nil {
			return err
		}
	}
}

// TestCrashSafety starts writer processes that write entries of megabytes
// and kills each with SIGKILL at a random moment, -crash.kills times. After
// every kill each entry must decode to one of the values some writer began to
// write, whole; an entry once present must still be there; and the temporary
// files that killed writers leave must not show in List, nor stop the next
// read or write.
func TestCrashSafety(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skipf("needs SIGKILL and POSIX rename, which %s does not have", runtime.GOOS)
	}
	if testing.Short() {
		t.Skip("starts and kills processes; skipped with -short")
	}
	dir := filepath.Join(t.TempDir(), "store")
	logName := filepath.Join(t.TempDir(), "written.log")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))

	present := map[string]bool{}
	seenLeftovers := map[string]bool{}
	leftoverKills := 0 // kills that left a new temporary file: the writer died mid-write
	start := time.Now()
	for kill := 0; kill < *crashKills; kill++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"=crash-writer", "PECAPIKU_TEST_DIR="+dir, "PECAPIKU_TEST_LOG="+logName)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		assert.NilError(t, err)
		assert.NilError(t, cmd.Start())
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			_ = cmd.Process.Kill()
			t.Fatalf("the writer did not start: %q, %v: %v\n%s", line, err, cmd.Wait(), stderr.String())
		}
		time.Sleep(time.Duration(rng.Int63n(int64(*crashMaxDelay) + 1)))
		assert.NilError(t, cmd.Process.Kill())
		err = cmd.Wait()
		var exit *exec.ExitError
		assert.Assert(t, errors.As(err, &exit) && !exit.Exited(), "the writer ended by itself, not killed: %v\n%s", err, stderr.String())

		leftovers, err := faultfs.Leftovers(afero.NewOsFs(), dir)
		assert.NilError(t, err)
		fresh := false
		for _, l := range leftovers {
			if !seenLeftovers[l] {
				seenLeftovers[l], fresh = true, true
			}
		}
		if fresh {
			leftoverKills++
		}
		checkCrashEntries(t, dir, logName, present)
	}
	writes := countLines(t, logName)
	t.Logf("%d writers killed with SIGKILL in %v; %d writes begun; %d kills stopped a writer between creating its temporary file and renaming it; entries present: %d of %d",
		*crashKills, time.Since(start).Round(time.Millisecond), writes, leftoverKills, len(present), len(crashEntries))
	leftovers, err := faultfs.Leftovers(afero.NewOsFs(), dir)
	assert.NilError(t, err)
	var leftBytes int64
	for _, l := range leftovers {
		if info, err := os.Stat(l); err == nil {
			leftBytes += info.Size()
		}
	}
	// On the real filesystem each entry's temporary files take 8 fixed
	// names in turn (see package fs), and a random name only when all 8
	// are in use; the entries on a wrapper of it (chunked) take random
	// names, as on any other filesystem, and are only counted.
	onReal := map[string]int{}
	for _, l := range leftovers {
		for _, e := range crashEntries {
			path, err := (func() (string, error) {
				s, err := cache.NewStore(dir, cache.WithCodec(e.codec))
				if err != nil {
					return "", err
				}
				return s.Path(e.key)
			})()
			assert.NilError(t, err)
			if !e.chunked && strings.HasPrefix(filepath.Base(l), "."+filepath.Base(path)+".tmp-") && filepath.Dir(l) == filepath.Dir(path) {
				onReal[e.key]++
			}
		}
	}
	t.Logf("temporary files left at the end: %d, %d bytes; of the entries on the real filesystem: %v", len(leftovers), leftBytes, onReal)
	for key, n := range onReal {
		assert.Assert(t, n <= 8, "%s: %d temporary files left on the real filesystem, where 8 names are taken in turn", key, n)
	}

	// The next write succeeds despite the leftovers, and replaces the entry.
	for _, e := range crashEntries {
		s, err := cache.NewStore(dir, cache.WithCodec(e.codec), cache.WithAccess(cache.ReadExecuteWrite))
		assert.NilError(t, err)
		if e.codec == cache.Raw {
			assert.NilError(t, s.Write(e.key, rawBlob(1, 10)))
			var got []byte
			assert.NilError(t, s.Read(e.key, &got))
			assert.DeepEqual(t, got, rawBlob(1, 10))
			continue
		}
		want := blob{Key: e.key, Seed: 1, Data: payload(1, 10)}
		assert.NilError(t, s.Write(e.key, want))
		var got blob
		assert.NilError(t, s.Read(e.key, &got))
		assert.DeepEqual(t, got, want)
	}
}

// checkCrashEntries checks every entry of the crash test against the log of
// values begun: present marks the entries seen so far, which must not vanish.
func checkCrashEntries(t *testing.T, dir, logName string, present map[string]bool) {
	t.Helper()
	begun := map[string]map[int64]int{} // key → seed → size
	data, err := os.ReadFile(logName)
	assert.NilError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue // the last line, or one cut by the kill: its write never began
		}
		seed, err1 := strconv.ParseInt(f[1], 10, 64)
		size, err2 := strconv.Atoi(f[2])
		assert.NilError(t, errors.Join(err1, err2))
		if begun[f[0]] == nil {
			begun[f[0]] = map[int64]int{}
		}
		begun[f[0]][seed] = size
	}
	listed := map[string]bool{}
	for _, e := range crashEntries {
		s, err := cache.NewStore(dir, cache.WithCodec(e.codec), cache.WithAccess(cache.ReadOnly))
		assert.NilError(t, err)
		entries, err := s.List()
		assert.NilError(t, err)
		for _, en := range entries {
			assert.Assert(t, en.Codec != nil, "listed %s, which is not an entry", en.Path)
			listed[en.Key] = true
		}
		var seed int64
		var got []byte
		if e.codec == cache.Raw {
			err = s.Read(e.key, &got)
			if err == nil {
				assert.Assert(t, len(got) >= 8, "raw entry %s is %d bytes", e.key, len(got))
				seed, got = int64(binary.BigEndian.Uint64(got)), got[8:]
			}
		} else {
			var b blob
			err = s.Read(e.key, &b)
			if err == nil {
				assert.Equal(t, b.Key, e.key)
				seed, got = b.Seed, b.Data
			}
		}
		if errors.Is(err, iofs.ErrNotExist) {
			assert.Assert(t, !present[e.key], "entry %s was present and is gone", e.key)
			continue
		}
		assert.NilError(t, err, "entry %s is torn", e.key)
		present[e.key] = true
		size, ok := begun[e.key][seed]
		assert.Assert(t, ok, "entry %s holds seed %d, which no writer began", e.key, seed)
		assert.Equal(t, len(got), size, "entry %s has the wrong size", e.key)
		assert.Assert(t, bytes.Equal(got, payload(seed, size)), "entry %s is a mix", e.key)
	}
	for key := range listed {
		assert.Assert(t, present[key], "List shows %s, which does not read", key)
	}
}

// countLines returns the number of complete lines of the file name.
func countLines(t *testing.T, name string) int {
	t.Helper()
	data, err := os.ReadFile(name)
	assert.NilError(t, err)
	return bytes.Count(data, []byte("\n"))
}
