package s3_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/cli"
	"github.com/pecapiku/pecapiku/s3"
)

// The environment of a helper process: its role, and what it works on.
const (
	envRole   = "PECAPIKU_TEST_ROLE"
	envPrefix = "PECAPIKU_TEST_PREFIX"
	envLog    = "PECAPIKU_TEST_LOG"
	envLetter = "PECAPIKU_TEST_LETTER"
	envArgs   = "PECAPIKU_TEST_ARGS" // the command line of the pecapiku helper, in JSON
)

func TestMain(m *testing.M) {
	if role := os.Getenv(envRole); role != "" {
		if err := helperProcess(role); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// contendedSize is the size of the values the writers race with.
const contendedSize = 256 << 10

// helperProcess plays one of the processes of the tests below.
func helperProcess(role string) error {
	bucket := strings.TrimPrefix(os.Getenv(EnvTestStore), "s3://")
	fsys, err := s3.New(bucket, os.Getenv(envPrefix))
	if err != nil {
		return err
	}
	switch role {
	case "miss":
		store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
		if err != nil {
			return err
		}
		v, err := cache.Do(store, "shared", func() (string, error) {
			f, err := os.OpenFile(os.Getenv(envLog), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(f, "executed by %d\n", os.Getpid())
			f.Close()
			time.Sleep(time.Second) // long enough for the other process to miss too
			return fmt.Sprintf("value of %d", os.Getpid()), nil
		})
		if err != nil {
			return err
		}
		fmt.Print(v)
	case "write":
		store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.Regenerate), cache.WithCodec(cache.Raw))
		if err != nil {
			return err
		}
		value := bytes.Repeat([]byte(os.Getenv(envLetter)), contendedSize)
		for range 5 {
			if _, err := cache.Do(store, "contended", func() ([]byte, error) { return value, nil }); err != nil {
				return err
			}
		}
	case "memory":
		return memoryHelper(fsys)
	case "pecapiku":
		var args []string
		if err := json.Unmarshal([]byte(os.Getenv(envArgs)), &args); err != nil {
			return err
		}
		os.Exit(cli.Main(args, os.Stdout, os.Stderr))
	default:
		return fmt.Errorf("unknown role %q", role)
	}
	return nil
}

// startHelper starts this test binary as a helper process with role.
func startHelper(t *testing.T, role string, env ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append([]string{envRole + "=" + role}, env...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	assert.NilError(t, cmd.Start())
	return cmd, &out
}

// TestTwoProcessesMissOneKey starts two processes that miss one entry at
// the same moment: the lock makes one execute and the other read its value.
func TestTwoProcessesMissOneKey(t *testing.T) {
	t.Parallel()
	fsys, _ := newFs(t)
	log := t.TempDir() + "/executions"
	var outs []*bytes.Buffer
	var cmds []*exec.Cmd
	for range 2 {
		cmd, out := startHelper(t, "miss", envPrefix+"="+fsys.Prefix(), envLog+"="+log)
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		assert.NilError(t, cmd.Wait(), "process %d: %s", i, outs[i])
	}
	executions, err := os.ReadFile(log)
	assert.NilError(t, err)
	assert.Equal(t, strings.Count(string(executions), "\n"), 1, "executions:\n%s", executions)
	assert.Equal(t, outs[0].String(), outs[1].String(), "both processes return the one value")
	stored, err := getObject(t, fsys, "entries/shared.json")
	assert.NilError(t, err)
	assert.Equal(t, string(stored), strconv.Quote(outs[0].String())+"\n")
	assert.DeepEqual(t, keys(t, fsys), []string{"entries/shared.json"})
}

// TestTwoProcessesWriteOneKey has two processes write different values
// under one key, five times each, while this one reads it: every read is one
// whole value, and what remains is one whole value.
func TestTwoProcessesWriteOneKey(t *testing.T) {
	fsys, _ := newFs(t)
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, letter := range []string{"A", "B"} {
		cmd, out := startHelper(t, "write", envPrefix+"="+fsys.Prefix(), envLetter+"="+letter)
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	reads := 0
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			data, err := getObject(t, fsys, "entries/contended.raw")
			if err != nil {
				continue // not written yet
			}
			reads++
			assertWhole(t, data)
		}
	}()
	for i, cmd := range cmds {
		assert.NilError(t, cmd.Wait(), "writer %d: %s", i, outs[i])
	}
	close(done)
	wg.Wait()
	t.Logf("%d reads during the writes", reads)
	data, err := getObject(t, fsys, "entries/contended.raw")
	assert.NilError(t, err)
	assertWhole(t, data)
	assert.DeepEqual(t, keys(t, fsys), []string{"entries/contended.raw"})

	// One after the other, the last one wins.
	for _, letter := range []string{"A", "B"} {
		cmd, out := startHelper(t, "write", envPrefix+"="+fsys.Prefix(), envLetter+"="+letter)
		assert.NilError(t, cmd.Wait(), "writer %s: %s", letter, out)
	}
	data, err = getObject(t, fsys, "entries/contended.raw")
	assert.NilError(t, err)
	assert.DeepEqual(t, data, bytes.Repeat([]byte("B"), contendedSize))
}

// assertWhole checks that data is one writer's value, complete.
func assertWhole(t *testing.T, data []byte) {
	t.Helper()
	if len(data) != contendedSize || (!bytes.Equal(data, bytes.Repeat(data[:1], contendedSize))) {
		t.Errorf("a reader saw a partial or mixed value: %d bytes, starting %q", len(data), data[:min(len(data), 8)])
	}
}

// TestLockTakeover leaves a lock as a process that stopped would: the next
// process waits for its lease to run out, takes it and computes the entry.
func TestLockTakeover(t *testing.T) {
	t.Parallel()
	fsys, _ := newFs(t, s3.WithLockLease(time.Second))
	putObject(t, fsys, "entries/.k.json.lock", []byte("left by a process that stopped"))
	store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	got, err := cache.Do(store, "k", func() (string, error) { return "computed", nil })
	assert.NilError(t, err)
	assert.Equal(t, got, "computed")
	assert.DeepEqual(t, keys(t, fsys), []string{"entries/k.json"})
}

// gateway is a versitygw process of a test's own, on a directory and port
// that survive its restarts.
type gateway struct {
	bin, dir, addr string
	cmd            *exec.Cmd
}

func (g *gateway) start(t *testing.T) {
	t.Helper()
	g.cmd = exec.Command(g.bin, "--port", g.addr, "--quiet", "posix", g.dir)
	g.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY=killtest", "ROOT_SECRET_KEY=killtest-secret")
	g.cmd.Stdout, g.cmd.Stderr = io.Discard, io.Discard
	assert.NilError(t, g.cmd.Start())
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", g.addr)
		if err == nil {
			c.Close()
			return
		}
		if i == 400 {
			t.Fatalf("versitygw did not listen on %s: %v", g.addr, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (g *gateway) kill() {
	g.cmd.Process.Kill()
	g.cmd.Wait()
}

// TestServerKilledMidWrite kills the server while an entry's PUT is half
// sent, and restarts it: the write fails with an error naming the object,
// and the bucket holds the previous value, whole, and nothing else.
func TestServerKilledMidWrite(t *testing.T) {
	bin := os.Getenv(EnvTestGateway)
	if bin == "" {
		if onCI() {
			t.Fatalf("%s is not set, and on CI the test that kills a server must run. %s", EnvTestGateway, howToStart)
		}
		t.Skipf("%s is not set: skipping the test that kills and restarts its own server. %s", EnvTestGateway, howToStart)
	}
	g := &gateway{bin: bin, dir: t.TempDir(), addr: closedPort(t)}
	g.start(t)
	defer g.kill()

	halfway, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	client, count := newClient(t, func(o *awss3.Options) {
		o.BaseEndpoint = aws.String("http://" + g.addr)
		o.Credentials = staticClient("http://"+g.addr, "killtest", "killtest-secret", time.Second).Options().Credentials
	})
	_, err := client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String("killed")})
	assert.NilError(t, err)
	fsys, err := s3.New("killed", "ci", s3.WithClient(client))
	assert.NilError(t, err)
	store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.Regenerate), cache.WithCodec(cache.Raw))
	assert.NilError(t, err)
	old := bytes.Repeat([]byte("o"), 1<<20)
	assert.NilError(t, store.Write("big", old))

	count.hook = func(req *http.Request) {
		if req.Method != http.MethodPut || req.Body == nil {
			return
		}
		once.Do(func() {
			req.Body = &stallingBody{ReadCloser: req.Body, after: 4 << 20, halfway: halfway, resume: resume}
		})
	}
	errs := make(chan error, 1)
	go func() { errs <- store.Write("big", bytes.Repeat([]byte("n"), 8<<20)) }()
	<-halfway
	g.kill()
	close(resume)
	err = <-errs
	count.hook = nil
	assert.Assert(t, errors.Is(err, cache.ErrUnavailable), "%v", err)
	assert.ErrorContains(t, err, "s3: MultipartUpload s3://killed/ci/entries/big.raw: cannot reach http://"+g.addr)

	// This process knows the store unreachable; the next one, after the
	// restart, finds the previous value whole.
	g.start(t)
	fsys, err = s3.New("killed", "ci", s3.WithClient(client))
	assert.NilError(t, err)
	store, err = cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.Regenerate), cache.WithCodec(cache.Raw))
	assert.NilError(t, err)
	data, err := getObject(t, fsys, "entries/big.raw")
	assert.NilError(t, err)
	assert.Assert(t, bytes.Equal(data, old), "the previous value is whole: %d bytes", len(data))
	assert.DeepEqual(t, keys(t, fsys), []string{"entries/big.raw"})

	assert.NilError(t, store.Write("big", []byte("after the restart")))
	data, err = getObject(t, fsys, "entries/big.raw")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "after the restart")
}

// stallingBody passes after bytes of a request body through, then signals
// halfway and waits for resume.
type stallingBody struct {
	io.ReadCloser
	after   int
	sent    int
	halfway chan struct{}
	resume  chan struct{}
	stalled bool
}

func (s *stallingBody) Read(p []byte) (int, error) {
	if s.sent >= s.after && !s.stalled {
		s.stalled = true
		close(s.halfway)
		<-s.resume
	}
	if rest := s.after - s.sent; rest > 0 && len(p) > rest {
		p = p[:rest]
	}
	n, err := s.ReadCloser.Read(p)
	s.sent += n
	return n, err
}
