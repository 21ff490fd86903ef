package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/pecatest"
)

// offline is a base transport that fails every request, as a network
// without the S3 server would: a replay that reaches it is not a replay.
type offline struct{ calls atomic.Int64 }

func (o *offline) RoundTrip(req *http.Request) (*http.Response, error) {
	o.calls.Add(1)
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, errors.New("offline: the S3 server is not reachable")
}

// sdkClient returns an S3 client of the AWS SDK for Go v2, configured from
// the environment as any program's is, whose HTTP client sends its
// requests through tr.
func sdkClient(t *testing.T, tr http.RoundTripper) *awss3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background())
	assert.NilError(t, err)
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.HTTPClient = &http.Client{Transport: tr}
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}

// session is what the SDK calls of TestTransportAWSSDK returned, to compare
// a replay with its recording.
type session struct {
	Got, Head, Listed []string
	Missing           string
	Deleted           bool
}

// useS3 makes the SDK calls of a small program on bucket, under prefix.
func useS3(t *testing.T, client *awss3.Client, bucket, prefix string) session {
	t.Helper()
	ctx := context.Background()
	var s session
	for i, body := range []string{"first object\n", `{"second":true}`, strings.Repeat("large\n", 20000)} {
		key := fmt.Sprintf("%s/object-%d", prefix, i)
		_, err := client.PutObject(ctx, &awss3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)})
		assert.NilError(t, err)
		out, err := client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: &key})
		assert.NilError(t, err)
		data, err := io.ReadAll(out.Body)
		out.Body.Close()
		assert.NilError(t, err)
		assert.Equal(t, string(data), body)
		s.Got = append(s.Got, fmt.Sprintf("%s %d bytes, ETag %s", key, len(data), aws.ToString(out.ETag)))
		head, err := client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &bucket, Key: &key})
		assert.NilError(t, err)
		s.Head = append(s.Head, fmt.Sprintf("%d %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag)))
	}
	list, err := client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(prefix + "/")})
	assert.NilError(t, err)
	for _, o := range list.Contents {
		s.Listed = append(s.Listed, fmt.Sprintf("%s %d", aws.ToString(o.Key), aws.ToInt64(o.Size)))
	}
	_, err = client.GetObject(ctx, &awss3.GetObjectInput{Bucket: &bucket, Key: aws.String(prefix + "/missing")})
	var apiErr smithy.APIError
	assert.Assert(t, errors.As(err, &apiErr), "%v", err)
	s.Missing = apiErr.ErrorCode()
	for i := range 3 {
		_, err := client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &bucket, Key: aws.String(fmt.Sprintf("%s/object-%d", prefix, i))})
		assert.NilError(t, err)
	}
	s.Deleted = true
	return s
}

// TestTransportAWSSDK records the AWS SDK for Go v2 talking to the S3
// server of the tests through pecatest.Transport, then replays the same
// calls with a base transport that fails every request: the SDK gets the
// same answers (its signatures, made with the time, are headers, which do
// not take part in matching), its response checksums still hold, and the
// fixture holds no credential.
func TestTransportAWSSDK(t *testing.T) {
	bucket := testBucket(t)
	prefix := testPrefix(t)
	dir := t.TempDir()
	opts := []pecatest.Option{pecatest.WithDir(dir), pecatest.Shared()}
	var recorded session

	t.Run("record", func(t *testing.T) {
		tr := pecatest.Transport(t, "s3", awshttp.NewBuildableClient().GetTransport(), append(opts, pecatest.WithAccess(cache.ReadExecuteWrite))...)
		recorded = useS3(t, sdkClient(t, tr), bucket, prefix)
	})
	fixture, err := os.ReadFile(filepath.Join(dir, "s3.json"))
	assert.NilError(t, err)
	for _, secret := range []string{"Authorization", "Credential=", "Signature=", os.Getenv("AWS_SECRET_ACCESS_KEY")} {
		assert.Assert(t, !bytes.Contains(fixture, []byte(secret)), "the fixture holds %q", secret)
	}
	assert.Assert(t, bytes.Contains(fixture, []byte(`"X-Amz-Date"`)), "the fixture lacks the request headers that do not matter")
	bodies, err := filepath.Glob(filepath.Join(dir, "s3.bodies", "*.raw"))
	assert.NilError(t, err)
	assert.Assert(t, len(bodies) > 0, "the large object's body has no file of its own")

	t.Run("replay", func(t *testing.T) {
		net := &offline{}
		tr := pecatest.Transport(t, "s3", net, append(opts, pecatest.WithAccess(cache.ReadOnly))...)
		replayed := useS3(t, sdkClient(t, tr), bucket, prefix)
		assert.DeepEqual(t, replayed, recorded)
		assert.Equal(t, net.calls.Load(), int64(0), "the replay reached the network")
	})
}
