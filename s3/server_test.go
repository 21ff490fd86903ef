package s3_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

// EnvTestStore names the bucket the tests use, s3://bucket; the endpoint and
// the credentials come from the usual AWS variables. .ci/s3 sets them all.
const EnvTestStore = "PECAPIKU_TEST_S3"

// EnvTestGateway is the path of a versitygw binary, for the test that kills
// and restarts its own server.
const EnvTestGateway = "PECAPIKU_TEST_VERSITYGW"

const howToStart = `Start a server and run them with:
    go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
    mkdir -p /tmp/s3 && ROOT_ACCESS_KEY=test ROOT_SECRET_KEY=test-secret versitygw --port 127.0.0.1:7070 posix /tmp/s3 &
    PECAPIKU_TEST_S3=s3://pecapiku-test PECAPIKU_TEST_VERSITYGW=$(go env GOPATH)/bin/versitygw \
    AWS_ENDPOINT_URL=http://127.0.0.1:7070 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test-secret AWS_REGION=us-east-1 \
    go test -count=1 ./...
or run .ci/s3 from the repository's root, which does all of it.`

// onCI reports whether the CI variable holds a true value: there the tests
// that need a server must run, and fail rather than skip without one.
func onCI() bool {
	ci, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && ci
}

// testBucket returns the bucket of the tests, skipping the test (failing it
// on CI) when no server is configured.
func testBucket(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(EnvTestStore)
	if raw == "" {
		if onCI() {
			t.Fatalf("%s is not set, and on CI (CI=%s) the S3 tests must run. %s", EnvTestStore, os.Getenv("CI"), howToStart)
		}
		t.Skipf("%s is not set: the tests against an S3 server are skipped. %s", EnvTestStore, howToStart)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		t.Fatalf("%s=%s: want s3://bucket", EnvTestStore, raw)
	}
	createBucket(t, u.Host)
	return u.Host
}

var bucketsMade sync.Map

// createBucket creates the bucket once per test binary.
func createBucket(t testing.TB, bucket string) {
	t.Helper()
	if _, done := bucketsMade.Load(bucket); done {
		return
	}
	client, _ := newClient(t, nil)
	_, err := client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: &bucket})
	var apiErr smithy.APIError
	if err != nil && !(errors.As(err, &apiErr) && (apiErr.ErrorCode() == "BucketAlreadyOwnedByYou" || apiErr.ErrorCode() == "BucketAlreadyExists")) {
		t.Fatalf("create the test bucket %s: %v", bucket, err)
	}
	bucketsMade.Store(bucket, true)
}

var prefixes atomic.Int64

// testPrefix returns a prefix no other test, or run, uses.
func testPrefix(t testing.TB) string {
	return fmt.Sprintf("run-%d-%d/%s", time.Now().UnixNano(), prefixes.Add(1), strings.ReplaceAll(t.Name(), "/", "_"))
}

// counter counts the requests a client sends, by method.
type counter struct {
	inner aws.HTTPClient
	mu    sync.Mutex
	byOp  map[string]int
	hook  func(*http.Request) // called before each request, when set

	inFlight, maxInFlight int // requests under way, and the most at once
}

func (c *counter) Do(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.byOp[req.Method]++
	hook := c.hook
	c.inFlight++
	c.maxInFlight = max(c.maxInFlight, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	if hook != nil {
		hook(req)
	}
	return c.inner.Do(req)
}

// most returns the most requests that were under way at once since the
// last call, and resets it.
func (c *counter) most() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.maxInFlight
	c.maxInFlight = c.inFlight
	return m
}

// total returns the number of requests since the last reset, and resets.
func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.byOp
	c.byOp = map[string]int{}
	return m
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.byOp {
		n += v
	}
	return n
}

// newClient returns a client configured from the environment, as s3.New
// makes one, that counts its requests; change, when not nil, adjusts its
// options.
func newClient(t testing.TB, change func(*awss3.Options)) (*awss3.Client, *counter) {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	assert.NilError(t, err)
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	c := &counter{inner: awshttp.NewBuildableClient(), byOp: map[string]int{}}
	client := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.HTTPClient = c
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		if change != nil {
			change(o)
		}
	})
	return client, c
}

// newFs returns a filesystem on a fresh prefix of the test bucket, and the
// counter of its requests.
func newFs(t testing.TB, opts ...s3.Option) (*s3.Fs, *counter) {
	t.Helper()
	bucket := testBucket(t)
	client, c := newClient(t, nil)
	fsys, err := s3.New(bucket, testPrefix(t), append([]s3.Option{s3.WithClient(client)}, opts...)...)
	assert.NilError(t, err)
	return fsys, c
}

// staticClient returns a client of endpoint with the given credentials and
// few retries, for the tests of failures.
func staticClient(endpoint, key, secret string, timeout time.Duration) *awss3.Client {
	httpClient := awshttp.NewBuildableClient().WithTimeout(timeout)
	return awss3.New(awss3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
		HTTPClient:   httpClient,
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 2
			o.RateLimiter = ratelimit.None
		}),
	})
}

// keys returns every key under the filesystem's prefix.
func keys(t testing.TB, fsys *s3.Fs) []string {
	t.Helper()
	p := fsys.Prefix() + "/"
	var ks []string
	pages := awss3.NewListObjectsV2Paginator(fsys.Client(), &awss3.ListObjectsV2Input{Bucket: aws.String(fsys.Bucket()), Prefix: &p})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		assert.NilError(t, err)
		for _, o := range page.Contents {
			// The marker of a store's new directory is tested on its own
			// (TestStoreMarkerOnBucket).
			if k := strings.TrimPrefix(aws.ToString(o.Key), p); path.Base(k) != cache.StoreMarker {
				ks = append(ks, k)
			}
		}
	}
	return ks
}

// getObject returns the content of the object of name, read with a plain GET.
func getObject(t testing.TB, fsys *s3.Fs, name string) ([]byte, error) {
	t.Helper()
	out, err := fsys.Client().GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(fsys.Bucket()), Key: aws.String(fsys.Key(name))})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// putObject writes data as the object of name with a plain PUT.
func putObject(t testing.TB, fsys *s3.Fs, name string, data []byte) {
	t.Helper()
	_, err := fsys.Client().PutObject(context.Background(), &awss3.PutObjectInput{
		Bucket: aws.String(fsys.Bucket()), Key: aws.String(fsys.Key(name)), Body: strings.NewReader(string(data)),
	})
	assert.NilError(t, err)
}
