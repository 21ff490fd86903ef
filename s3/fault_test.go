package s3_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

// closedPort returns an address on the loopback where nothing listens.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentServer returns the address of a server that accepts connections
// and never answers.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NilError(t, err)
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(done)
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// failingServer returns the URL of a server that answers every request
// with status and an S3 error document of code.
func failingServer(t *testing.T, status int, code string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>injected by the test</Message></Error>`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestUnreachable runs Do, through a local copy, against servers that
// cannot serve: with e the value is computed and not stored, with r alone
// the error names the bucket, the key and the operation. No server is
// needed.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	servers := []struct {
		name     string
		endpoint func(t *testing.T) string
		want     string
	}{
		{"server down", func(t *testing.T) string { return "http://" + closedPort(t) }, "connect: connection refused"},
		{"no answer", func(t *testing.T) string { return "http://" + silentServer(t) }, "no answer in time"},
		{"server error", func(t *testing.T) string { return failingServer(t, 500, "InternalError") },
			"the service failed: InternalError: injected by the test (HTTP 500)"},
		{"slow down", func(t *testing.T) string { return failingServer(t, 503, "SlowDown") }, "the service failed: SlowDown"},
	}
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			endpoint := srv.endpoint(t)
			client := staticClient(endpoint, "key", "secret", 300*time.Millisecond)
			bucket, err := s3.New("fixtures", "ci", s3.WithClient(client))
			assert.NilError(t, err)
			fsys := s3.NewReadThrough(bucket, afero.NewMemMapFs())
			t.Run("with e", func(t *testing.T) {
				var events []cache.Event
				store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite),
					cache.WithObserver(func(e cache.Event) { events = append(events, e) }))
				assert.NilError(t, err)
				got, err := cache.Do(store, "k", func() (int, error) { return 42, nil })
				assert.NilError(t, err)
				assert.Equal(t, got, 42)
				assert.Equal(t, len(events), 2)
				assert.Equal(t, events[0].Kind, cache.EventUnavailable)
				assert.Equal(t, events[1].Kind, cache.EventExecute)
				assert.ErrorContains(t, events[0].Err, "s3: ListObjectsV2 s3://fixtures/ci/entries/: ")
				assert.ErrorContains(t, events[0].Err, srv.want)
			})
			t.Run("without e", func(t *testing.T) {
				// The store is known unreachable: the error comes at once,
				// with the first failure's cause.
				store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
				assert.NilError(t, err)
				_, err = cache.Do(store, "k", func() (int, error) { return 42, nil })
				assert.Assert(t, errors.Is(err, cache.ErrUnavailable), "%v", err)
				assert.ErrorContains(t, err, "fs: read entries/k.json: s3: ListObjectsV2 s3://fixtures/ci/entries/: not sent, "+
					"since the store could not be reached earlier in this process (ListObjectsV2 s3://fixtures/ci/entries/: ")
				assert.ErrorContains(t, err, srv.want)
				var s3err *s3.Error
				assert.Assert(t, errors.As(err, &s3err))
				assert.Equal(t, s3err.Op, "ListObjectsV2")
				assert.Equal(t, s3err.Bucket, "fixtures")
				assert.Equal(t, s3err.Key, "ci/entries/")
			})
		})
	}
}

// TestConfigurationErrors checks that wrong credentials and a missing
// bucket fail whatever the access, saying what to fix.
func TestConfigurationErrors(t *testing.T) {
	bucket := testBucket(t)
	endpoint := os.Getenv("AWS_ENDPOINT_URL_S3")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		t.Skip("the endpoint is not in AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3")
	}
	good, _ := newClient(t, nil)
	creds, err := good.Options().Credentials.Retrieve(t.Context())
	assert.NilError(t, err)
	tests := []struct {
		name           string
		bucket, secret string
		want           string
		is             error
	}{
		{"wrong secret", bucket, "wrong-secret", "SignatureDoesNotMatch", s3.ErrAccessDenied},
		{"wrong key", bucket, "", "No user exists with the provided access key ID", s3.ErrAccessDenied}, // versitygw says XAdminUserNotFound, AWS InvalidAccessKeyId
		{"missing bucket", "pecapiku-no-such-bucket", creds.SecretAccessKey, "NoSuchBucket", s3.ErrNoSuchBucket},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := creds.AccessKeyID
			if tc.secret == "" {
				key, tc.secret = "no-such-key", "secret"
			}
			fsys, err := s3.New(tc.bucket, "ci", s3.WithClient(staticClient(endpoint, key, tc.secret, 5*time.Second)))
			assert.NilError(t, err)
			for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadOnly, cache.Regenerate} {
				store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(access))
				assert.NilError(t, err)
				_, err = cache.Do(store, "k", func() (int, error) { return 42, nil })
				assert.Assert(t, errors.Is(err, tc.is), "%s: %v", access, err)
				assert.Assert(t, !errors.Is(err, cache.ErrUnavailable), "%s: %v", access, err)
				assert.ErrorContains(t, err, tc.want)
				assert.ErrorContains(t, err, " s3://"+tc.bucket+"/ci/entries/")
				if tc.is == s3.ErrAccessDenied {
					assert.ErrorContains(t, err, "check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)")
				} else {
					assert.ErrorContains(t, err, "create the bucket")
				}
				assert.Assert(t, strings.HasPrefix(err.Error(), "cache: ") || strings.HasPrefix(err.Error(), "fs: "), "%v", err)
			}
		})
	}
}

// TestNoConditionalWrites runs Do against a service that answers 501 Not
// Implemented to If-None-Match: the entry is computed and stored without a
// lock, and the lock is not tried again.
func TestNoConditionalWrites(t *testing.T) {
	var mu sync.Mutex
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path+map[bool]string{true: " If-None-Match", false: ""}[r.Header.Get("If-None-Match") != ""])
		mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		switch {
		case r.Method == http.MethodPut && r.Header.Get("If-None-Match") != "":
			w.WriteHeader(http.StatusNotImplemented)
			w.Write([]byte(`<Error><Code>NotImplemented</Code><Message>conditional writes</Message></Error>`))
		case r.Method == http.MethodPut:
			io.Copy(io.Discard, r.Body)
			w.Header().Set("ETag", `"1"`)
		case r.URL.Query().Has("list-type"):
			w.Write([]byte(`<ListBucketResult><Name>fixtures</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`<Error><Code>NoSuchKey</Code><Message>none</Message></Error>`))
		}
	}))
	defer srv.Close()
	fsys, err := s3.New("fixtures", "ci", s3.WithClient(staticClient(srv.URL, "key", "secret", 5*time.Second)))
	assert.NilError(t, err)
	store, err := cache.NewStore("entries", cache.WithFs(fsys), cache.WithAccess(cache.ReadExecuteWrite))
	assert.NilError(t, err)
	for _, key := range []string{"a", "b"} {
		got, err := cache.Do(store, key, func() (string, error) { return "computed " + key, nil })
		assert.NilError(t, err)
		assert.Equal(t, got, "computed "+key)
	}
	var locks, puts int
	for _, r := range requests {
		switch {
		case strings.HasSuffix(r, "If-None-Match"):
			locks++
		case strings.HasPrefix(r, "PUT"):
			puts++
		}
	}
	assert.Equal(t, locks, 1, "requests: %q", requests)
	assert.Equal(t, puts, 3, "requests: %q", requests) // a, b and the marker of the store's new directory
}
