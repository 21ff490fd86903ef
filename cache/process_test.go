package cache_test

import (
	"bytes"
	"crypto/sha256"
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
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

var (
	procCount      = flag.Int("procs.count", 3, "number of processes TestConcurrentProcesses starts")
	procGoroutines = flag.Int("procs.goroutines", 4, "goroutines per process in TestConcurrentProcesses")
	procRounds     = flag.Int("procs.rounds", 20, "rounds of reads and writes each goroutine of TestConcurrentProcesses makes")
)

// The keys of the multi-process test: every process and goroutine uses all
// of them. Computed entries go through Do with rew and must be executed once
// in all; shared entries are written and read with Store.Write and Store.Read
// and must never read torn.
var (
	computedKeys = []string{"computed/a", "computed/b", "computed/c", "computed/d", "computed/e", "computed/f"}
	sharedKeys   = []string{"shared/a", "shared/b", "shared/c"}
)

// record is a value of a shared entry: its sum makes a torn or mixed value
// detectable.
type record struct {
	Writer string
	Seq    int
	Body   []byte
	Sum    [32]byte
}

func newRecord(writer string, seq int, rng *rand.Rand) record {
	body := make([]byte, 1+rng.Intn(256<<10))
	rng.Read(body)
	return record{Writer: writer, Seq: seq, Body: body, Sum: sha256.Sum256(append([]byte(writer+strconv.Itoa(seq)), body...))}
}

func (r record) valid() bool {
	return r.Sum == sha256.Sum256(append([]byte(r.Writer+strconv.Itoa(r.Seq)), r.Body...))
}

// computedValue is what the function of a computed entry returns.
func computedValue(key string) []string {
	return []string{key, strings.Repeat(key, 1000)}
}

func init() { children["concurrent-worker"] = concurrentWorker }

// concurrentWorker is one process of TestConcurrentProcesses: it waits for
// the file PECAPIKU_TEST_START, then runs PECAPIKU_TEST_GOROUTINES goroutines
// that each make PECAPIKU_TEST_ROUNDS rounds over all keys in a random order.
// Executing a computed entry appends a line to its file in PECAPIKU_TEST_RUNS.
func concurrentWorker() error {
	dir, runs, start := os.Getenv("PECAPIKU_TEST_DIR"), os.Getenv("PECAPIKU_TEST_RUNS"), os.Getenv("PECAPIKU_TEST_START")
	goroutines, err1 := strconv.Atoi(os.Getenv("PECAPIKU_TEST_GOROUTINES"))
	rounds, err2 := strconv.Atoi(os.Getenv("PECAPIKU_TEST_ROUNDS"))
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	for {
		if _, err := os.Stat(start); err == nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			errs <- concurrentGoroutine(dir, runs, fmt.Sprintf("%d/%d", os.Getpid(), g), rounds)
		}(g)
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func concurrentGoroutine(dir, runs, writer string, rounds int) error {
	// A store per goroutine, on the real disk, as separate callers make.
	store, err := cache.NewStore(dir, cache.WithCodec(cache.Gob), cache.WithAccess(cache.ReadExecuteWrite))
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewSource(time.Now().UnixNano() ^ int64(len(writer))<<40 ^ int64(os.Getpid())))
	keys := append(append([]string(nil), computedKeys...), sharedKeys...)
	for round := 0; round < rounds; round++ {
		rng.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		for _, key := range keys {
			if strings.HasPrefix(key, "computed/") {
				got, err := cache.Do(store, key, func() ([]string, error) {
					f, err := os.OpenFile(filepath.Join(runs, strings.ReplaceAll(key, "/", "_")), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
					if err != nil {
						return nil, err
					}
					_, err = fmt.Fprintln(f, writer)
					if cerr := f.Close(); err == nil {
						err = cerr
					}
					time.Sleep(10 * time.Millisecond) // widen the window in which others miss too
					return computedValue(key), err
				})
				if err != nil {
					return err
				}
				if want := computedValue(key); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
					return fmt.Errorf("%s: Do(%q) returned another value", writer, key)
				}
				continue
			}
			if rng.Intn(2) == 0 {
				if err := store.Write(key, newRecord(writer, round, rng)); err != nil {
					return err
				}
				continue
			}
			var r record
			err := store.Read(key, &r)
			if errors.Is(err, iofs.ErrNotExist) {
				continue // not written yet
			}
			if err != nil {
				return fmt.Errorf("%s: torn read: %w", writer, err)
			}
			if !r.valid() {
				return fmt.Errorf("%s: %q holds a mixed value from %s #%d", writer, key, r.Writer, r.Seq)
			}
		}
	}
	return nil
}

// TestConcurrentProcesses runs -procs.count processes of -procs.goroutines
// goroutines each over one store on a real directory. They read and write the
// same shared entries, which must never read torn or mixed, and compute the
// same entries through Do with rew, each of which must be executed exactly
// once across all processes. A data race in a child fails the test when it
// runs under the race detector, since the child then exits with status 66.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes; skipped with -short")
	}
	dir := filepath.Join(t.TempDir(), "store")
	runs := t.TempDir()
	start := filepath.Join(t.TempDir(), "start")
	var cmds []*exec.Cmd
	var outputs []*bytes.Buffer
	for p := 0; p < *procCount; p++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"=concurrent-worker",
			"PECAPIKU_TEST_DIR="+dir, "PECAPIKU_TEST_RUNS="+runs, "PECAPIKU_TEST_START="+start,
			"PECAPIKU_TEST_GOROUTINES="+strconv.Itoa(*procGoroutines), "PECAPIKU_TEST_ROUNDS="+strconv.Itoa(*procRounds))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		assert.NilError(t, cmd.Start())
		cmds, outputs = append(cmds, cmd), append(outputs, &out)
	}
	began := time.Now()
	assert.NilError(t, os.WriteFile(start, nil, 0o644))
	for i, cmd := range cmds {
		assert.NilError(t, cmd.Wait(), "process %d:\n%s", i, outputs[i])
	}
	for _, key := range computedKeys {
		lines, err := os.ReadFile(filepath.Join(runs, strings.ReplaceAll(key, "/", "_")))
		assert.NilError(t, err)
		assert.Equal(t, strings.Count(string(lines), "\n"), 1, "%s was executed by:\n%s", key, lines)
	}
	store, err := cache.NewStore(dir, cache.WithCodec(cache.Gob), cache.WithAccess(cache.ReadOnly))
	assert.NilError(t, err)
	for _, key := range computedKeys {
		got, err := cache.Do(store, key, func() ([]string, error) { return nil, errors.New("not called") })
		assert.NilError(t, err)
		assert.DeepEqual(t, got, computedValue(key))
	}
	for _, key := range sharedKeys {
		var r record
		assert.NilError(t, store.Read(key, &r), "a shared entry was lost")
		assert.Assert(t, r.valid())
	}
	ops := *procCount * *procGoroutines * *procRounds * (len(computedKeys) + len(sharedKeys))
	t.Logf("%d processes × %d goroutines × %d rounds: %d operations on %d keys in %v; each computed entry executed once",
		*procCount, *procGoroutines, *procRounds, ops, len(computedKeys)+len(sharedKeys), time.Since(began).Round(time.Millisecond))
}

func init() { children["lock-holder"] = lockHolder }

// lockHolder misses PECAPIKU_TEST_KEY in the store PECAPIKU_TEST_DIR with
// rew; its function creates the file PECAPIKU_TEST_READY, then waits until
// the file PECAPIKU_TEST_RELEASE exists (or forever, until killed) and
// returns "from the holder".
func lockHolder() error {
	store, err := cache.NewStore(os.Getenv("PECAPIKU_TEST_DIR"), cache.WithAccess(cache.ReadExecuteWrite))
	if err != nil {
		return err
	}
	_, err = cache.Do(store, os.Getenv("PECAPIKU_TEST_KEY"), func() (string, error) {
		if err := os.WriteFile(os.Getenv("PECAPIKU_TEST_READY"), nil, 0o644); err != nil {
			return "", err
		}
		for {
			if _, err := os.Stat(os.Getenv("PECAPIKU_TEST_RELEASE")); err == nil {
				return "from the holder", nil
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	return err
}

// child is a running child process of a test.
type child struct {
	cmd    *exec.Cmd
	out    bytes.Buffer
	exited chan error // receives the result of Wait, once
}

// startChild starts the test binary in role with the PECAPIKU_TEST_*
// settings env ("NAME=value").
func startChild(t *testing.T, role string, env ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(os.Args[0]), exited: make(chan error, 1)}
	c.cmd.Env = append(append(os.Environ(), childEnv+"="+role), env...)
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	assert.NilError(t, c.cmd.Start())
	go func() { c.exited <- c.cmd.Wait() }()
	return c
}

// waitFile waits until the child creates the file name, and fails the test if
// the child ends first.
func (c *child) waitFile(t *testing.T, name string) {
	t.Helper()
	for {
		if _, err := os.Stat(name); err == nil {
			return
		}
		select {
		case err := <-c.exited:
			t.Fatalf("the child ended before creating %s: %v\n%s", name, err, c.out.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// TestLockAcrossProcesses has a child process miss an entry and hold its lock
// while it computes. While the child holds it, the lock cannot be taken.
// When the child finishes, the parent, which missed the same entry meanwhile,
// reads the child's value without executing its own function; when the child
// is killed with SIGKILL while computing, it leaves no lock that blocks: the
// parent takes it and executes.
func TestLockAcrossProcesses(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skipf("needs SIGKILL, which %s does not have", runtime.GOOS)
	}
	for _, tc := range []struct {
		name    string
		kill    bool
		wantRan bool
		want    string
	}{
		{"holder finishes", false, false, "from the holder"},
		{"holder killed", true, true, "from the parent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "store")
			signals := t.TempDir()
			ready, release := filepath.Join(signals, "ready"), filepath.Join(signals, "release")
			holder := startChild(t, "lock-holder", "PECAPIKU_TEST_DIR="+dir, "PECAPIKU_TEST_KEY=held",
				"PECAPIKU_TEST_READY="+ready, "PECAPIKU_TEST_RELEASE="+release)
			holder.waitFile(t, ready)

			lockFile, err := cache.LockPath(filepath.Join(dir, "held.json"))
			assert.NilError(t, err)
			probe := flock.New(lockFile)
			locked, err := probe.TryLock()
			assert.NilError(t, err)
			assert.Assert(t, !locked, "the lock was free while the holder computed")

			store, err := cache.NewStore(dir, cache.WithAccess(cache.ReadExecuteWrite))
			assert.NilError(t, err)
			type result struct {
				v   string
				ran bool
				err error
			}
			done := make(chan result, 1)
			miss := func() {
				ran := false
				v, err := cache.Do(store, "held", func() (string, error) { ran = true; return "from the parent", nil })
				done <- result{v, ran, err}
			}
			if tc.kill {
				assert.NilError(t, holder.cmd.Process.Kill())
				err := <-holder.exited
				var exit *exec.ExitError
				assert.Assert(t, errors.As(err, &exit) && !exit.Exited(), "%v\n%s", err, holder.out.String())
				miss()
			} else {
				// The parent misses while the holder computes, and
				// cannot finish before the holder is released.
				go miss()
				assert.NilError(t, os.WriteFile(release, nil, 0o644))
				assert.NilError(t, <-holder.exited, holder.out.String())
			}
			r := <-done
			assert.NilError(t, r.err)
			assert.Equal(t, r.ran, tc.wantRan)
			assert.Equal(t, r.v, tc.want)

			locked, err = probe.TryLock()
			assert.NilError(t, err)
			assert.Assert(t, locked, "Do left the lock taken")
			assert.NilError(t, probe.Unlock())
		})
	}
}
