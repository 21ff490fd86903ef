package s3_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

// privateGateway starts a versitygw of the test's own, whose objects are
// files in g.dir that the test can age, with a bucket; it is stopped when
// the test ends. Without EnvTestGateway it skips the test, or fails it on
// CI.
func privateGateway(t *testing.T, bucket string) (*gateway, *awss3.Client) {
	t.Helper()
	bin := os.Getenv(EnvTestGateway)
	if bin == "" {
		if onCI() {
			t.Fatalf("%s is not set, and on CI the tests that age objects on a server of their own must run. %s", EnvTestGateway, howToStart)
		}
		t.Skipf("%s is not set: skipping a test that ages objects on a server of its own. %s", EnvTestGateway, howToStart)
	}
	g := &gateway{bin: bin, dir: t.TempDir(), addr: closedPort(t)}
	g.start(t)
	t.Cleanup(g.kill)
	client := staticClient(g.url(), gatewayKey, gatewaySecret, 10*time.Second)
	_, err := client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(bucket)})
	assert.NilError(t, err)
	return g, client
}

// The credentials of a gateway of a test's own.
const (
	gatewayKey    = "killtest"
	gatewaySecret = "killtest-secret"
)

// url returns the endpoint of the gateway.
func (g *gateway) url() string { return "http://" + g.addr }

// age sets the modification time of the object key of bucket, which the
// gateway reports as its LastModified, to d ago.
func (g *gateway) age(t *testing.T, bucket, key string, d time.Duration) {
	t.Helper()
	when := time.Now().Add(-d)
	assert.NilError(t, os.Chtimes(filepath.Join(g.dir, bucket, filepath.FromSlash(key)), when, when))
}

// TestStaleLocks leaves locks as processes that stopped leave them, and one
// that a live process holds: only the first are stale, and a store lists
// them through a ReadThrough too.
func TestStaleLocks(t *testing.T) {
	g, client := privateGateway(t, "locks")
	fsys, err := s3.New("locks", "ci", s3.WithClient(client))
	assert.NilError(t, err)
	put := func(name string) {
		_, err := client.PutObject(context.Background(), &awss3.PutObjectInput{
			Bucket: aws.String("locks"), Key: aws.String(fsys.Key(name)), Body: nil,
		})
		assert.NilError(t, err)
	}
	store := "m/testdata/.pecapiku"
	for _, name := range []string{
		store + "/TestA/.x.json.lock", // stale
		store + "/.shared.json.lock",  // stale
		store + "/TestA/.y.json.lock", // fresh
		store + "/TestA/x.json",       // an entry, however old
		store + "/TestA/.notes",       // not a lock
		"m/elsewhere/.z.json.lock",    // stale, outside the store
		store + "/TestA/.lock",        // not the lock of an entry
	} {
		put(name)
	}
	for _, name := range []string{"/TestA/.x.json.lock", "/.shared.json.lock", "/TestA/x.json", "/TestA/.notes", "/TestA/.lock"} {
		g.age(t, "locks", fsys.Key(store+name), time.Hour)
	}
	g.age(t, "locks", fsys.Key("m/elsewhere/.z.json.lock"), time.Hour)

	unlock, err := fsys.LockEntry(store + "/TestB/held.json")
	assert.NilError(t, err)
	defer unlock()
	g.age(t, "locks", fsys.Key(store+"/TestB/.held.json.lock"), 10*time.Second) // within its lease

	want := []string{
		filepath.FromSlash(store + "/.shared.json.lock"),
		filepath.FromSlash(store + "/TestA/.x.json.lock"),
	}
	locks, err := fsys.StaleLocks(store)
	assert.NilError(t, err)
	assert.DeepEqual(t, locks, want)

	locks, err = fsys.StaleLocks("nowhere")
	assert.NilError(t, err)
	assert.Assert(t, len(locks) == 0)

	through := s3.NewReadThrough(fsys, afero.NewBasePathFs(afero.NewOsFs(), t.TempDir()))
	s, err := cache.NewStore(store, cache.WithFs(through), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	locks, err = s.StaleLocks()
	assert.NilError(t, err)
	assert.DeepEqual(t, locks, want)
	for _, l := range locks {
		assert.NilError(t, s.Remove(l))
	}
	locks, err = s.StaleLocks()
	assert.NilError(t, err)
	assert.Assert(t, len(locks) == 0)
	assert.DeepEqual(t, keys(t, fsys), []string{
		"m/elsewhere/.z.json.lock",
		"m/testdata/.pecapiku/TestA/.lock",
		"m/testdata/.pecapiku/TestA/.notes",
		"m/testdata/.pecapiku/TestA/.y.json.lock",
		"m/testdata/.pecapiku/TestA/x.json",
		"m/testdata/.pecapiku/TestB/.held.json.lock",
	})
}
