package pecatest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// cleanupT is a fakeT with the Cleanup method that Transport needs; end
// runs the cleanups, as the end of a test does.
type cleanupT struct {
	*fakeT
	cleanups []func()
}

func newCleanupT(name string) *cleanupT { return &cleanupT{fakeT: &fakeT{name: name}} }

func (c *cleanupT) Cleanup(f func()) { c.cleanups = append(c.cleanups, f) }

func (c *cleanupT) end() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	c.cleanups = nil
}

// api is a test server with a little state: a counter that each GET
// /counter increments, items that POST /items adds, and a log of what it
// was sent.
type api struct {
	srv *httptest.Server

	mu       sync.Mutex
	counter  int
	items    []string
	requests []string // "METHOD /path?query"
	auth     []string // the Authorization headers it got
}

func newAPI(t *testing.T) *api {
	a := &api{}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *api) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, r.Method+" "+r.URL.RequestURI())
	a.auth = append(a.auth, r.Header.Get("Authorization"))
	switch {
	case r.URL.Path == "/counter":
		a.counter++
		fmt.Fprintf(w, "%d", a.counter)
	case r.URL.Path == "/items" && r.Method == http.MethodPost:
		var item struct{ Name string }
		if err := json.Unmarshal(body, &item); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.items = append(a.items, item.Name)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d,"name":%q}`, len(a.items), item.Name)
	case r.URL.Path == "/items":
		w.Header().Set("Content-Type", "application/json")
		data, _ := json.Marshal(a.items)
		w.Write(data)
	case r.URL.Path == "/echo":
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.Write(body)
	default:
		http.NotFound(w, r)
	}
}

// sent returns what the server was sent, and forgets it.
func (a *api) sent() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.requests
	a.requests = nil
	return s
}

// offline is a base transport that fails every request: a replay that
// reaches it has gone to the network.
type offline struct{ calls atomic.Int64 }

func (o *offline) RoundTrip(req *http.Request) (*http.Response, error) {
	o.calls.Add(1)
	closeBody(req)
	return nil, errors.New("offline: no network in a replay")
}

// do sends a request with client and returns the status and body, failing
// t on a transport error.
func do(t *testing.T, client *http.Client, method, url, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	assert.NilError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	assert.NilError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	assert.NilError(t, err)
	return resp.StatusCode, string(data)
}

// conversation is what the tests below send: a create, two reads of a
// counter that changes, a list.
func conversation(t *testing.T, client *http.Client, base string) []string {
	t.Helper()
	var got []string
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/items", `{"Name": "apple"}`},
		{"GET", "/counter", ""},
		{"GET", "/counter", ""},
		{"GET", "/items?b=2&a=1", ""},
	} {
		code, body := do(t, client, r.method, base+r.path, r.body)
		got = append(got, fmt.Sprintf("%d %s", code, body))
	}
	return got
}

var wantConversation = []string{`201 {"id":1,"name":"apple"}`, "200 1", "200 2", `200 ["apple"]`}

// TestTransportRecordReplay records a conversation with a server, then
// replays it with the server closed and a base transport that fails every
// request: same answers, in the same order, no request sent.
func TestTransportRecordReplay(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	a := newAPI(t)

	rec := newCleanupT("TestAPI")
	client := &http.Client{Transport: Transport(rec, "api", nil, WithDir(dir))}
	assert.DeepEqual(t, conversation(t, client, a.srv.URL), wantConversation)
	rec.end()
	assert.DeepEqual(t, rec.failures(), []string(nil))
	fixture := filepath.Join(dir, "TestAPI", "api.json")
	assert.DeepEqual(t, rec.logs, []string{"pecatest: recorded 4 exchange(s) of TestAPI/api in " + fixture})
	assert.DeepEqual(t, a.sent(), []string{"POST /items", "GET /counter", "GET /counter", "GET /items?b=2&a=1"})
	a.srv.Close()

	t.Setenv(EnvCI, "true")
	play := newCleanupT("TestAPI")
	net := &offline{}
	client = &http.Client{Transport: Transport(play, "api", net, WithDir(dir))}
	assert.DeepEqual(t, conversation(t, client, a.srv.URL), wantConversation)
	play.end()
	assert.DeepEqual(t, play.failures(), []string(nil))
	assert.Equal(t, net.calls.Load(), int64(0))
	assert.DeepEqual(t, play.logs, []string{"pecatest: replayed 4 of the 4 exchanges of TestAPI/api from " + fixture})
}

// handWritten returns a fixture of one exchange: GET url answered "old".
func handWritten(url string) string {
	return `{"exchanges": [{"request": {"method": "GET", "url": "` + url + `"},
	"response": {"status": 200, "content_length": 3, "body": "old"}}]}`
}

// TestTransportAccess runs one request under every access, against a
// fixture that is present or missing: what the client gets, whether the
// server is asked, what the file holds after, and the failure.
func TestTransportAccess(t *testing.T) {
	const notRecorded = `pecatest: TestAPI/api: GET URL/counter is not recorded (DIR/TestAPI/api.json does not exist) and access "r" (from PECAPIKU_ACCESS) forbids sending it.` + "\n" +
		`Record it with: PECAPIKU_ACCESS=rew go test -run '^TestAPI$' ./pecatest`
	for _, tc := range []struct {
		access  string
		present bool
		body    string // what the client gets; "" for an error
		sent    bool   // the server was asked
		file    string // "old", "new" or "" for none
		log     string
		failure string
	}{
		{"rew", true, "old", false, "old", "pecatest: replayed 1 of the 1 exchanges of TestAPI/api from DIR/TestAPI/api.json", ""},
		{"rew", false, "1", true, "new", "pecatest: recorded 1 exchange(s) of TestAPI/api in DIR/TestAPI/api.json", ""},
		{"re", true, "old", false, "old", "pecatest: replayed 1 of the 1 exchanges of TestAPI/api from DIR/TestAPI/api.json", ""},
		{"re", false, "1", true, "", `pecatest: sent 1 request(s) of TestAPI/api; access "re" (from PECAPIKU_ACCESS) does not write them to DIR/TestAPI/api.json`, ""},
		{"r", true, "old", false, "old", "pecatest: replayed 1 of the 1 exchanges of TestAPI/api from DIR/TestAPI/api.json", ""},
		{"r", false, "", false, "", "", notRecorded},
		{"ew", true, "1", true, "new", "pecatest: recorded 1 exchange(s) of TestAPI/api in DIR/TestAPI/api.json", ""},
		{"ew", false, "1", true, "new", "pecatest: recorded 1 exchange(s) of TestAPI/api in DIR/TestAPI/api.json", ""},
		{"e", true, "1", true, "old", `pecatest: sent 1 request(s) of TestAPI/api; access "e" (from PECAPIKU_ACCESS) does not write them to DIR/TestAPI/api.json`, ""},
		{"e", false, "1", true, "", `pecatest: sent 1 request(s) of TestAPI/api; access "e" (from PECAPIKU_ACCESS) does not write them to DIR/TestAPI/api.json`, ""},
	} {
		state := map[bool]string{true: "present", false: "missing"}[tc.present]
		t.Run(tc.access+"/"+state, func(t *testing.T) {
			clearAccess(t)
			t.Setenv(cache.EnvAccess, tc.access)
			dir := t.TempDir()
			a := newAPI(t)
			fixture := filepath.Join(dir, "TestAPI", "api.json")
			old := handWritten(a.srv.URL + "/counter")
			if tc.present {
				assert.NilError(t, os.MkdirAll(filepath.Dir(fixture), 0o755))
				assert.NilError(t, os.WriteFile(fixture, []byte(old), 0o644))
			}
			ft := newCleanupT("TestAPI")
			client := &http.Client{Transport: Transport(ft, "api", nil, WithDir(dir))}
			resp, err := client.Get(a.srv.URL + "/counter")
			if tc.body == "" {
				assert.Assert(t, errors.Is(err, cache.ErrNotCached), "%v", err)
			} else {
				assert.NilError(t, err)
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Equal(t, string(data), tc.body)
			}
			ft.end()

			expand := func(s string) string {
				return strings.NewReplacer("DIR", dir, "URL", a.srv.URL).Replace(s)
			}
			assert.Equal(t, len(a.sent()) > 0, tc.sent)
			if tc.log == "" {
				assert.DeepEqual(t, ft.logs, []string(nil))
			} else {
				assert.DeepEqual(t, ft.logs, []string{expand(tc.log)})
			}
			if tc.failure == "" {
				assert.DeepEqual(t, ft.failures(), []string(nil))
			} else {
				assert.DeepEqual(t, ft.failures(), []string{expand(tc.failure)})
			}
			data, err := os.ReadFile(fixture)
			switch tc.file {
			case "":
				assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "want no fixture, got %s", data)
			case "old":
				assert.Equal(t, string(data), old)
			case "new":
				assert.NilError(t, err)
				assert.Assert(t, strings.Contains(string(data), `"body": "1"`), "%s", data)
			}
		})
	}
}

// TestTransportNotRecorded: on CI, a request that is not recorded fails
// the test with the request, the closest recorded one as a diff, and the
// command that records it; nothing reaches the network.
func TestTransportNotRecorded(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	a := newAPI(t)
	rec := newCleanupT("TestAPI")
	conversation(t, &http.Client{Transport: Transport(rec, "api", nil, WithDir(dir))}, a.srv.URL)
	rec.end()
	fixture := filepath.Join(dir, "TestAPI", "api.json")
	t.Setenv(EnvCI, "true")
	record := "Record it with: PECAPIKU_ACCESS=rew go test -run '^TestAPI$' ./pecatest"

	t.Run("closest", func(t *testing.T) {
		ft := newCleanupT("TestAPI")
		net := &offline{}
		client := &http.Client{Transport: Transport(ft, "api", net, WithDir(dir))}
		_, err := client.Get(a.srv.URL + "/items?a=1&b=3")
		assert.Assert(t, errors.Is(err, cache.ErrNotCached), "%v", err)
		ft.end()
		assert.Equal(t, net.calls.Load(), int64(0))
		assert.Equal(t, len(ft.failures()), 1)
		want := `pecatest: TestAPI/api: GET ` + a.srv.URL + `/items?a=1&b=3 is not recorded in ` + fixture +
			` and access "r" (the default on CI, since CI=true) forbids sending it.
The closest recorded request, exchange 4 of 4, differs (-recorded +got):
  pecatest.request{
  	Method: "GET",
  	URL:    "` + a.srv.URL + `/items",
  	Query: url.Values{
  		"a": {"1"},
- 		"b": {"2"},
+ 		"b": {"3"},
  	},
  	Header: nil,
  	Body:   nil,
  }
` + record
		assert.Equal(t, plainSpaces(ft.failures()[0]), want)
	})
	t.Run("body", func(t *testing.T) {
		ft := newCleanupT("TestAPI")
		client := &http.Client{Transport: Transport(ft, "api", &offline{}, WithDir(dir))}
		_, err := client.Post(a.srv.URL+"/items", "application/json", strings.NewReader(`{"Name":"pear"}`))
		assert.Assert(t, errors.Is(err, cache.ErrNotCached), "%v", err)
		ft.end()
		assert.Equal(t, len(ft.failures()), 1)
		got := plainSpaces(ft.failures()[0])
		for _, want := range []string{
			"The closest recorded request, exchange 1 of 4, differs (-recorded +got):",
			`- 	Body:   map[string]any{"Name": string("apple")},`,
			`+ 	Body:   map[string]any{"Name": string("pear")},`,
			record,
		} {
			assert.Assert(t, strings.Contains(got, want), "%s\ndoes not contain\n%s", got, want)
		}
	})
	t.Run("replayed already", func(t *testing.T) {
		ft := newCleanupT("TestAPI")
		client := &http.Client{Transport: Transport(ft, "api", &offline{}, WithDir(dir))}
		do(t, client, "GET", a.srv.URL+"/counter", "")
		do(t, client, "GET", a.srv.URL+"/counter", "")
		_, err := client.Get(a.srv.URL + "/counter")
		assert.Assert(t, errors.Is(err, cache.ErrNotCached), "%v", err)
		ft.end()
		assert.DeepEqual(t, ft.failures(), []string{`pecatest: TestAPI/api: GET ` + a.srv.URL + `/counter is not recorded so many times: ` + fixture +
			` records it 2 time(s), all replayed already, and access "r" (the default on CI, since CI=true) forbids sending it.` + "\n" + record})
		assert.DeepEqual(t, ft.logs, []string{
			"pecatest: replayed 2 of the 4 exchanges of TestAPI/api from " + fixture,
			"pecatest: 2 recorded exchange(s) of TestAPI/api were not replayed: POST " + a.srv.URL + "/items, GET " + a.srv.URL +
				`/items?b=2&a=1; recording it again with access "ew" keeps only those the test sends`,
		})
	})
}

// plainSpaces replaces the non-breaking spaces that go-cmp puts at random
// into its diffs, so that a test can compare a message word for word.
func plainSpaces(s string) string { return strings.ReplaceAll(s, "\u00a0", " ") }

// TestTransportSensitiveHeaders: credentials the client sends and sessions
// the server hands out never reach the files, the request sent to the
// server keeps them, and the client gets the response without them in the
// recording run as in the replay.
func TestTransportSensitiveHeaders(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	var gotAuth, gotCookie atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		gotCookie.Store(r.Header.Get("Cookie"))
		w.Header().Set("Set-Cookie", "session=server-session-id")
		w.Header().Set("X-Amz-Security-Token", "server-security-token")
		w.Header().Set("X-Request-Id", "kept-request-id")
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()
	get := func(client *http.Client) *http.Response {
		req, err := http.NewRequest("GET", strings.Replace(srv.URL, "://", "://user:url-password@", 1)+"/x", nil)
		assert.NilError(t, err)
		req.Header.Set("Authorization", "Bearer client-bearer-token-0123456789")
		req.Header.Set("Cookie", "c=client-cookie")
		req.Header.Set("X-Api-Key", "client-api-key")
		req.Header.Set("Proxy-Authorization", "Basic cHJveHk6cGFzcw==")
		req.Header.Set("X-Trace", "kept-trace")
		resp, err := client.Do(req)
		assert.NilError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	rec := newCleanupT("TestSecrets")
	resp := get(&http.Client{Transport: Transport(rec, "api", nil, WithDir(dir))})
	rec.end()
	assert.DeepEqual(t, rec.failures(), []string(nil))
	assert.Equal(t, gotAuth.Load(), "Bearer client-bearer-token-0123456789", "the server gets the request as sent")
	assert.Equal(t, gotCookie.Load(), "c=client-cookie")
	assert.Equal(t, resp.Header.Get("Set-Cookie"), "", "the client sees what a replay will give")
	assert.Equal(t, resp.Header.Get("X-Request-Id"), "kept-request-id")

	data, err := os.ReadFile(filepath.Join(dir, "TestSecrets", "api.json"))
	assert.NilError(t, err)
	for _, secret := range []string{
		"Authorization", "client-bearer-token", "Cookie", "client-cookie", "X-Api-Key", "client-api-key",
		"Proxy-Authorization", "cHJveHk6cGFzcw", "Set-Cookie", "server-session-id", "X-Amz-Security-Token", "server-security-token",
		"url-password",
	} {
		assert.Assert(t, !strings.Contains(string(data), secret), "the fixture holds %q:\n%s", secret, data)
	}
	for _, kept := range []string{"kept-trace", "kept-request-id", "user:xxxxx@"} {
		assert.Assert(t, strings.Contains(string(data), kept), "the fixture lacks %q:\n%s", kept, data)
	}

	t.Setenv(EnvCI, "true")
	play := newCleanupT("TestSecrets")
	resp = get(&http.Client{Transport: Transport(play, "api", &offline{}, WithDir(dir))})
	play.end()
	assert.DeepEqual(t, play.failures(), []string(nil))
	assert.Equal(t, resp.Header.Get("Set-Cookie"), "")
	assert.Equal(t, resp.Header.Get("X-Request-Id"), "kept-request-id")
}

// gzipped returns data compressed with gzip.
func gzipped(t *testing.T, data string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(data))
	assert.NilError(t, err)
	assert.NilError(t, zw.Close())
	return buf.Bytes()
}

// TestTransportRefusesCredentials: an exchange that still holds something
// that looks like a credential after scrubbing is not recorded, and the
// failure names where it is without showing it.
func TestTransportRefusesCredentials(t *testing.T) {
	const awsKey = "AKIAZ7QW3RT5YU2IOP4K"
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		path    string
		body    string // of the request
		opts    []Option
		want    string // the place and kind in the failure; "" when recorded
	}{
		{
			name:    "AWS key in the response body",
			handler: func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, `{"AccessKeyId":%q}`, awsKey) },
			want:    `the response body holds an AWS access key ID ("AKIA"…, 20 characters)`,
		},
		{
			name: "bearer token in a response header",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Debug", "sent Bearer abcdefghijklmnopqrstuvwxyz0123")
			},
			want: `the response header X-Debug holds a bearer token ("Bearer "…, 37 characters)`,
		},
		{
			name:    "private key in the request body",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			body:    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
			want:    `the request body holds a private key block ("-----BEGIN OPENSSH PRIVATE KEY-----", 35 characters)`,
		},
		{
			name:    "AWS key in the URL",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			path:    "/?X-Amz-Credential=" + awsKey + "%2F20260101%2Fus-east-1",
			want:    `the URL holds an AWS access key ID ("AKIA"…, 20 characters)`,
		},
		{
			name: "JSON Web Token in a gzip-encoded body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(gzipped(t, `{"access_token":"`+jwt+`"}`))
			},
			want: `the response body (decompressed) holds a JSON Web Token ("eyJ"…, ` + fmt.Sprint(len(jwt)) + ` characters)`,
		},
		{
			name:    "the AWS documentation's example key",
			handler: func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "AKIAIOSFODNN7EXAMPLE") },
		},
		{
			name:    "allowed",
			handler: func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, awsKey) },
			opts:    []Option{AllowCredentials()},
		},
		{
			name:    "scrubbed",
			handler: func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, awsKey) },
			opts: []Option{WithResponseScrub(func(r *HTTPResponse) {
				r.Body = bytes.ReplaceAll(r.Body, []byte(awsKey), []byte("AKIA-SCRUBBED"))
			})},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			dir := t.TempDir()
			srv := httptest.NewServer(http.HandlerFunc(tc.handler))
			defer srv.Close()
			ft := newCleanupT("TestCreds")
			client := &http.Client{Transport: Transport(ft, "api", nil, append(tc.opts, WithDir(dir))...)}
			method, body := "GET", io.Reader(nil)
			if tc.body != "" {
				method, body = "PUT", strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(method, srv.URL+tc.path, body)
			assert.NilError(t, err)
			req.Header.Set("Accept-Encoding", "gzip") // so the client sees the gzip-encoded body
			resp, err := client.Do(req)
			ft.end()
			fixture := filepath.Join(dir, "TestCreds", "api.json")
			data, readErr := os.ReadFile(fixture)
			if tc.want == "" {
				assert.NilError(t, err)
				resp.Body.Close()
				assert.DeepEqual(t, ft.failures(), []string(nil))
				assert.NilError(t, readErr)
				assert.Assert(t, !strings.Contains(string(data), awsKey) || tc.name == "allowed", "%s", data)
				return
			}
			assert.Assert(t, errors.Is(err, ErrCredential), "%v", err)
			assert.Assert(t, errors.Is(readErr, iofs.ErrNotExist), "the exchange was recorded:\n%s", data)
			want := "pecatest: TestCreds/api: " + method + " " + srv.URL + strings.Replace(tc.path, awsKey, "AKIA…", 1) + " is not recorded: the exchange holds what looks like a credential:\n\t" +
				tc.want + "\nRemove it with pecatest.WithRequestScrub or pecatest.WithResponseScrub, or allow it with pecatest.AllowCredentials() if it is a known fake"
			failures := ft.failures()
			if len(failures) == 1 && strings.Contains(tc.want, "(decompressed)") {
				// A compressor may store a short body as it is (Go 1.27's
				// does), and then the check finds it in the raw bytes too.
				failures[0] = strings.Replace(failures[0], "\n\t"+strings.Replace(tc.want, " (decompressed)", "", 1), "", 1)
			}
			assert.DeepEqual(t, failures, []string{want})
			for _, secret := range []string{awsKey[4:], jwt[3:], "b3BlbnNzaC1rZXktdjEAAAAA", "abcdefghijklmnopqrstuvwxyz"} {
				assert.Assert(t, !strings.Contains(ft.failures()[0], secret), "the failure shows the credential")
			}
		})
	}
}

// TestTransportScrubHooks: the request hooks make what is recorded and
// matched stable, the response hooks change what the client gets in the
// recording run as in the replay, and Content-Length follows the body.
func TestTransportScrubHooks(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "token=%s;user=ann", r.URL.Query().Get("nonce"))
	}))
	defer srv.Close()
	opts := []Option{
		WithDir(dir),
		WithRequestScrub(func(r *HTTPRequest) {
			// The server's address changes with every run; the nonce too.
			r.URL = strings.Replace(r.URL, srv.URL, "http://api.test", 1)
			r.URL = regexpNonce.ReplaceAllString(r.URL, "nonce=N")
		}),
		WithResponseScrub(func(r *HTTPResponse) {
			r.Body = regexpToken.ReplaceAll(r.Body, []byte("token=T"))
		}),
	}
	get := func(tr http.RoundTripper, nonce string) (*http.Response, string) {
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/login?nonce=" + nonce)
		assert.NilError(t, err)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(data)
	}
	rec := newCleanupT("TestHooks")
	resp, body := get(Transport(rec, "api", nil, opts...), "n-12345")
	rec.end()
	assert.DeepEqual(t, rec.failures(), []string(nil))
	assert.Equal(t, body, "token=T;user=ann")
	assert.Equal(t, resp.ContentLength, int64(len("token=T;user=ann")))
	assert.Equal(t, resp.Header.Get("Content-Length"), fmt.Sprint(len("token=T;user=ann")))
	data, err := os.ReadFile(filepath.Join(dir, "TestHooks", "api.json"))
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(data), `"url": "http://api.test/login?nonce=N"`), "%s", data)
	assert.Assert(t, !strings.Contains(string(data), "n-12345"), "%s", data)

	t.Setenv(EnvCI, "true")
	play := newCleanupT("TestHooks")
	resp, body = get(Transport(play, "api", &offline{}, opts...), "n-67890")
	play.end()
	assert.DeepEqual(t, play.failures(), []string(nil))
	assert.Equal(t, body, "token=T;user=ann")
	assert.Equal(t, resp.ContentLength, int64(len("token=T;user=ann")))
}

var (
	regexpNonce = regexp.MustCompile(`nonce=[^&]*`)
	regexpToken = regexp.MustCompile(`token=[^;]*`)
)

// TestTransportGzip: the transport records what the client sees, both when
// Go's transport decompresses a gzip-encoded response by itself and when
// the client asked for gzip and decompresses it on its own.
func TestTransportGzip(t *testing.T) {
	const text = "a text that the server compresses when it may\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzipped(t, text))
			return
		}
		fmt.Fprint(w, text)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name         string
		accept       string // the client's Accept-Encoding
		encoding     string // the Content-Encoding the client sees
		uncompressed bool   // resp.Uncompressed
		inline       bool   // the body is in the fixture as text
	}{
		{name: "decompressed by Go's transport", uncompressed: true, inline: true},
		{name: "asked for by the client", accept: "gzip", encoding: "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			dir := t.TempDir()
			get := func(tr http.RoundTripper) (*http.Response, []byte) {
				req, err := http.NewRequest("GET", srv.URL+"/text", nil)
				assert.NilError(t, err)
				if tc.accept != "" {
					req.Header.Set("Accept-Encoding", tc.accept)
				}
				resp, err := (&http.Client{Transport: tr}).Do(req)
				assert.NilError(t, err)
				data, err := io.ReadAll(resp.Body)
				assert.NilError(t, err)
				resp.Body.Close()
				return resp, data
			}
			direct, want := get(http.DefaultTransport)
			rec := newCleanupT("TestGzip")
			recorded, got := get(Transport(rec, "api", nil, WithDir(dir)))
			rec.end()
			assert.DeepEqual(t, rec.failures(), []string(nil))
			assert.Equal(t, string(got), string(want))
			t.Setenv(EnvCI, "true")
			play := newCleanupT("TestGzip")
			replayed, got := get(Transport(play, "api", &offline{}, WithDir(dir)))
			play.end()
			assert.DeepEqual(t, play.failures(), []string(nil))
			assert.Equal(t, string(got), string(want))

			for _, resp := range []*http.Response{direct, recorded, replayed} {
				assert.Equal(t, resp.Header.Get("Content-Encoding"), tc.encoding)
				assert.Equal(t, resp.Uncompressed, tc.uncompressed)
				assert.Equal(t, resp.ContentLength, direct.ContentLength)
			}
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(got))
				assert.NilError(t, err)
				plain, err := io.ReadAll(zr)
				assert.NilError(t, err)
				assert.Equal(t, string(plain), text)
			}
			data, err := os.ReadFile(filepath.Join(dir, "TestGzip", "api.json"))
			assert.NilError(t, err)
			assert.Equal(t, strings.Contains(string(data), `"body": "a text that`), tc.inline, "%s", data)
			if !tc.inline {
				file := filepath.Join(dir, "TestGzip", "api.bodies", bodyHash(want)+".raw")
				side, err := os.ReadFile(file)
				assert.NilError(t, err)
				assert.DeepEqual(t, side, want)
				assert.Assert(t, strings.Contains(string(data), `"body_file": "api.bodies/`+bodyHash(want)+`.raw"`), "%s", data)
			}
		})
	}
}

// bodyHash names the body file of data.
func bodyHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:hashLen]
}

// TestTransportStreaming: a chunked response that the server flushes line
// by line is replayed as the client read it, chunked and of unknown length.
func TestTransportStreaming(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-ndjson")
		for i := range 5 {
			fmt.Fprintf(w, "{\"event\":%d}\n", i)
			w.(http.Flusher).Flush()
		}
	}))
	defer srv.Close()
	read := func(tr http.RoundTripper) (*http.Response, []string) {
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/events")
		assert.NilError(t, err)
		defer resp.Body.Close()
		var lines []string
		for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
			lines = append(lines, sc.Text())
		}
		return resp, lines
	}
	want := []string{`{"event":0}`, `{"event":1}`, `{"event":2}`, `{"event":3}`, `{"event":4}`}
	rec := newCleanupT("TestStream")
	resp, lines := read(Transport(rec, "events", nil, WithDir(dir)))
	rec.end()
	assert.DeepEqual(t, lines, want)
	assert.DeepEqual(t, resp.TransferEncoding, []string{"chunked"})
	assert.Equal(t, resp.ContentLength, int64(-1))

	t.Setenv(EnvCI, "true")
	play := newCleanupT("TestStream")
	resp, lines = read(Transport(play, "events", &offline{}, WithDir(dir)))
	play.end()
	assert.DeepEqual(t, play.failures(), []string(nil))
	assert.DeepEqual(t, lines, want)
	assert.DeepEqual(t, resp.TransferEncoding, []string{"chunked"})
	assert.Equal(t, resp.ContentLength, int64(-1))
}

// closeCounter counts the closes of a body.
type closeCounter struct {
	io.Reader
	closes atomic.Int64
}

func (c *closeCounter) Close() error { c.closes.Add(1); return nil }

// getBodyChecker is a base transport that checks that the request it is
// given can be sent again: GetBody gives the same body.
type getBodyChecker struct {
	t      *testing.T
	bodies []string
}

func (g *getBodyChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	assert.Assert(g.t, req.GetBody != nil, "the request sent has no GetBody")
	again, err := req.GetBody()
	assert.NilError(g.t, err)
	data, _ := io.ReadAll(again)
	g.bodies = append(g.bodies, string(data))
	return http.DefaultTransport.RoundTrip(req)
}

// TestTransportRequestBody: a streamed request body of unknown length is
// read by the transport, closed, sent whole with a GetBody, and matched on
// replay after normalising its JSON.
func TestTransportRequestBody(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	a := newAPI(t)
	post := func(tr http.RoundTripper, parts ...string) string {
		pr, pw := io.Pipe()
		go func() {
			for _, p := range parts {
				pw.Write([]byte(p))
			}
			pw.Close()
		}()
		body := &closeCounter{Reader: pr}
		req, err := http.NewRequest("POST", a.srv.URL+"/echo", body)
		assert.NilError(t, err)
		assert.Equal(t, req.ContentLength, int64(0), "a length the client does not know")
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Transport: tr}).Do(req)
		assert.NilError(t, err)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, body.closes.Load(), int64(1), "the request's body was not closed once")
		return string(data)
	}
	base := &getBodyChecker{t: t}
	rec := newCleanupT("TestBody")
	assert.Equal(t, post(Transport(rec, "api", base, WithDir(dir)), `{"a": 1,`, ` "b": [1, 2]}`), `{"a": 1, "b": [1, 2]}`)
	rec.end()
	assert.DeepEqual(t, rec.failures(), []string(nil))
	assert.DeepEqual(t, base.bodies, []string{`{"a": 1, "b": [1, 2]}`})

	t.Setenv(EnvCI, "true")
	play := newCleanupT("TestBody")
	assert.Equal(t, post(Transport(play, "api", &offline{}, WithDir(dir)), `{"b":[1,2],`, `"a":1}`), `{"a": 1, "b": [1, 2]}`)
	play.end()
	assert.DeepEqual(t, play.failures(), []string(nil))
}

// TestTransportConcurrent records and replays requests sent in parallel,
// identical ones included; run it with -race.
func TestTransportConcurrent(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "answer to %s", r.URL.Query().Get("i"))
	}))
	defer srv.Close()
	const n = 24
	run := func(tr http.RoundTripper) {
		client := &http.Client{Transport: tr}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q := i % (n / 2) // each request twice
				resp, err := client.Get(fmt.Sprintf("%s/q?i=%d", srv.URL, q))
				if err != nil {
					t.Error(err)
					return
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := fmt.Sprintf("answer to %d", q); string(data) != want {
					t.Errorf("got %q, want %q", data, want)
				}
			}()
		}
		wg.Wait()
	}
	rec := newCleanupT("TestParallel")
	run(Transport(rec, "api", nil, WithDir(dir)))
	rec.end()
	assert.DeepEqual(t, rec.failures(), []string(nil))

	t.Setenv(EnvCI, "true")
	play := newCleanupT("TestParallel")
	net := &offline{}
	run(Transport(play, "api", net, WithDir(dir)))
	play.end()
	assert.DeepEqual(t, play.failures(), []string(nil))
	assert.Equal(t, net.calls.Load(), int64(0))
	assert.DeepEqual(t, play.logs, []string{fmt.Sprintf("pecatest: replayed %d of the %d exchanges of TestParallel/api from %s", n, n, filepath.Join(dir, "TestParallel", "api.json"))})
}

// TestTransportBodyFiles: bodies larger than 64 KiB, or not text, go to
// files named by their hash next to the fixture, one file for equal
// bodies; compact JSON stays JSON and other text a string, each given back
// byte for byte.
func TestTransportBodyFiles(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	a := newAPI(t)
	large := strings.Repeat("a line of text that makes the body large\n", 2000)
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	bodies := []struct{ name, body string }{
		{"large", large},
		{"binary", string(binary)},
		{"binary again", string(binary)},
		{"compact JSON", `{"b":[1,2.50,1e3],"a":"<&>","u":"é\u00e9\u2028","n":null}`},
		{"spaced JSON", `{"a": 1}`},
		{"text", "plain\ttext\r\nwith lines\n"},
	}
	run := func(tr http.RoundTripper) {
		client := &http.Client{Transport: tr}
		for _, b := range bodies {
			req, err := http.NewRequest("PUT", a.srv.URL+"/echo", strings.NewReader(b.body))
			assert.NilError(t, err)
			resp, err := client.Do(req)
			assert.NilError(t, err)
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, string(data), b.body, b.name)
		}
	}
	rec := newCleanupT("TestFiles")
	run(Transport(rec, "api", nil, WithDir(dir)))
	rec.end()
	assert.DeepEqual(t, rec.failures(), []string(nil))

	fixture, err := os.ReadFile(filepath.Join(dir, "TestFiles", "api.json"))
	assert.NilError(t, err)
	files, err := filepath.Glob(filepath.Join(dir, "TestFiles", "api.bodies", "*"))
	assert.NilError(t, err)
	want := []string{
		filepath.Join(dir, "TestFiles", "api.bodies", bodyHash([]byte(large))+".raw"),
		filepath.Join(dir, "TestFiles", "api.bodies", bodyHash(binary)+".raw"),
	}
	sort.Strings(want)
	assert.DeepEqual(t, files, want)
	for _, f := range files {
		data, err := os.ReadFile(f)
		assert.NilError(t, err)
		assert.Equal(t, bodyHash(data)+".raw", filepath.Base(f))
	}
	for _, line := range []string{
		`"body_file": "api.bodies/` + bodyHash(binary) + `.raw"`,
		`"body_json": {`,
		`"a": "<&>",`,
		`"body": "{\"a\": 1}"`,
		`"body": "plain\ttext\r\nwith lines\n"`,
	} {
		assert.Assert(t, strings.Contains(string(fixture), line), "the fixture lacks %s:\n%s", line, fixture)
	}

	t.Setenv(EnvCI, "true")
	play := newCleanupT("TestFiles")
	run(Transport(play, "api", &offline{}, WithDir(dir)))
	play.end()
	assert.DeepEqual(t, play.failures(), []string(nil))
}

// TestTransportBadFixtures: a fixture that cannot be decoded, or that names
// a body file outside its own, fails the test without e, naming the file,
// and is recorded again with it; nothing is read outside the store.
func TestTransportBadFixtures(t *testing.T) {
	const url = "http://api.test/x"
	exchange := func(response string) string {
		return `{"exchanges": [{"request": {"method": "GET", "url": "` + url + `"}, "response": ` + response + `}]}`
	}
	for _, tc := range []struct {
		name, fixture, cause string
	}{
		{"truncated", `{"exchanges": [`, "unexpected EOF"},
		{"unknown field", `{"exchanges": [], "cassette": 1}`, `at /cassette: pecatest.httpFixture has no field of that name`},
		{"body file outside", exchange(`{"status": 200, "content_length": 0, "body_file": "../../../secret.raw"}`),
			`body_file "../../../secret.raw" is not a body file of this fixture, <name>.bodies/<sha-256 prefix>.raw`},
		{"body file of another name", exchange(`{"status": 200, "content_length": 0, "body_file": "other.bodies/0123456789abcdef.raw"}`),
			`body_file "other.bodies/0123456789abcdef.raw" is not a body file of this fixture, <name>.bodies/<sha-256 prefix>.raw`},
		{"missing body file", exchange(`{"status": 200, "content_length": 0, "body_file": "api.bodies/0123456789abcdef.raw"}`),
			"exchange 1: the response's body file: fs: read DIR/TestBad/api.bodies/0123456789abcdef.raw: no such file or directory"},
		{"two forms of a body", exchange(`{"status": 200, "content_length": 0, "body": "a", "body_json": [1]}`),
			"body is stored in more than one of body_json, body and body_file"},
		{"header of another type", exchange(`{"status": 200, "content_length": 0, "header": {"A": 1}}`),
			"header A: want a string or a list of strings"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			dir := t.TempDir()
			fixture := filepath.Join(dir, "TestBad", "api.json")
			assert.NilError(t, os.MkdirAll(filepath.Dir(fixture), 0o755))
			assert.NilError(t, os.WriteFile(fixture, []byte(tc.fixture), 0o644))
			assert.NilError(t, os.WriteFile(filepath.Join(dir, "secret.raw"), []byte("not for the fixture"), 0o644))
			cause := strings.ReplaceAll(tc.cause, "DIR", dir)

			ft := newCleanupT("TestBad")
			client := &http.Client{Transport: Transport(ft, "api", &offline{}, WithDir(dir), WithAccess(cache.ReadOnly))}
			_, err := client.Get(url)
			assert.Assert(t, err != nil)
			ft.end()
			assert.Equal(t, len(ft.failures()), 1, "%q", ft.failures())
			got := ft.failures()[0]
			assert.Assert(t, strings.HasPrefix(got, "pecatest: TestBad/api: "+fixture+" cannot be decoded: "), got)
			assert.Assert(t, strings.Contains(got, cause), "%s\ndoes not contain\n%s", got, cause)
			assert.Assert(t, strings.HasSuffix(got, `forbids sending its requests again.`+"\n"+
				`Record it again by giving pecatest.WithAccess access "rew" (or dropping the option) and running: go test -run '^TestBad$' ./pecatest`), got)

			// With e, it is a miss: sent, and recorded again with w.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fresh") }))
			defer srv.Close()
			ft = newCleanupT("TestBad")
			client = &http.Client{Transport: Transport(ft, "api", nil, WithDir(dir))}
			_, body := do(t, client, "GET", srv.URL+"/x", "")
			ft.end()
			assert.Equal(t, body, "fresh")
			assert.DeepEqual(t, ft.failures(), []string(nil))
			assert.Assert(t, strings.Contains(ft.logs[0], fixture+" cannot be decoded ("), ft.logs[0])
			assert.Assert(t, strings.HasSuffix(ft.logs[0], "); sending the requests of TestBad/api again"), ft.logs[0])
			data, err := os.ReadFile(fixture)
			assert.NilError(t, err)
			assert.Assert(t, strings.Contains(string(data), `"body": "fresh"`), "%s", data)
		})
	}
}

// TestMatchRequest checks the default matching rules.
func TestMatchRequest(t *testing.T) {
	req := func(method, url, body string) HTTPRequest {
		return HTTPRequest{Method: method, URL: url, Body: []byte(body)}
	}
	for _, tc := range []struct {
		name          string
		got, recorded HTTPRequest
		want          bool
	}{
		{"same", req("GET", "http://a/x?q=1", ""), req("GET", "http://a/x?q=1", ""), true},
		{"method", req("POST", "http://a/x", ""), req("GET", "http://a/x", ""), false},
		{"host case", req("GET", "http://API.test/x", ""), req("GET", "http://api.test/x", ""), true},
		{"scheme", req("GET", "https://a/x", ""), req("GET", "http://a/x", ""), false},
		{"path", req("GET", "http://a/x", ""), req("GET", "http://a/y", ""), false},
		{"escaped path", req("GET", "http://a/x%2Fy", ""), req("GET", "http://a/x/y", ""), false},
		{"query order", req("GET", "http://a/x?b=2&a=1", ""), req("GET", "http://a/x?a=1&b=2", ""), true},
		{"order of one parameter's values", req("GET", "http://a/x?a=1&a=2", ""), req("GET", "http://a/x?a=2&a=1", ""), false},
		{"query value", req("GET", "http://a/x?a=1", ""), req("GET", "http://a/x?a=2", ""), false},
		{"fragment", req("GET", "http://a/x#top", ""), req("GET", "http://a/x", ""), true},
		{"JSON key order and spaces", req("POST", "http://a/x", `{"b": [1, 2], "a": {"c": null}}`), req("POST", "http://a/x", `{"a":{"c":null},"b":[1,2]}`), true},
		{"JSON value", req("POST", "http://a/x", `{"a":1}`), req("POST", "http://a/x", `{"a":2}`), false},
		{"JSON numbers as written", req("POST", "http://a/x", `{"a":1.0}`), req("POST", "http://a/x", `{"a":1}`), false},
		{"JSON big numbers", req("POST", "http://a/x", `[12345678901234567891]`), req("POST", "http://a/x", `[12345678901234567890]`), false},
		{"JSON array order", req("POST", "http://a/x", `[1,2]`), req("POST", "http://a/x", `[2,1]`), false},
		{"text", req("POST", "http://a/x", "a b"), req("POST", "http://a/x", "a  b"), false},
		{"JSON and text", req("POST", "http://a/x", `{"a":1}`), req("POST", "http://a/x", `{"a":1`), false},
		{"bytes", req("PUT", "http://a/x", "\x00\x01"), req("PUT", "http://a/x", "\x00\x01"), true},
		{"headers do not count", HTTPRequest{Method: "GET", URL: "http://a/x", Header: http.Header{"X-Amz-Date": {"20260101T000000Z"}}},
			HTTPRequest{Method: "GET", URL: "http://a/x", Header: http.Header{"X-Amz-Date": {"20250101T000000Z"}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, MatchRequest(tc.got, tc.recorded), tc.want)
			assert.Equal(t, MatchRequest(tc.recorded, tc.got), tc.want, "not symmetric")
		})
	}
}

// TestTransportMatcher: a custom matcher decides which recorded exchange a
// request replays, and the failure then shows the headers too.
func TestTransportMatcher(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "in %s", r.Header.Get("Accept-Language"))
	}))
	defer srv.Close()
	byLanguage := WithMatcher(func(got, recorded HTTPRequest) bool {
		return got.Header.Get("Accept-Language") == recorded.Header.Get("Accept-Language") && MatchRequest(got, recorded)
	})
	get := func(tr http.RoundTripper, lang string) (string, error) {
		req, err := http.NewRequest("GET", srv.URL+"/greeting", nil)
		assert.NilError(t, err)
		req.Header.Set("Accept-Language", lang)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			return "", err
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(data), nil
	}
	rec := newCleanupT("TestLang")
	tr := Transport(rec, "api", nil, WithDir(dir), byLanguage)
	for _, lang := range []string{"fr", "de"} {
		_, err := get(tr, lang)
		assert.NilError(t, err)
	}
	rec.end()

	t.Setenv(EnvCI, "true")
	play := newCleanupT("TestLang")
	tr = Transport(play, "api", &offline{}, WithDir(dir), byLanguage)
	for _, lang := range []string{"de", "fr"} {
		got, err := get(tr, lang)
		assert.NilError(t, err)
		assert.Equal(t, got, "in "+lang)
	}
	_, err := get(tr, "it")
	assert.Assert(t, errors.Is(err, cache.ErrNotCached))
	play.end()
	assert.Equal(t, len(play.failures()), 1)
	assert.Assert(t, strings.Contains(plainSpaces(play.failures()[0]), `- 	Header: http.Header{"Accept-Language": {"fr"}},`+"\n"+`+ 	Header: http.Header{"Accept-Language": {"it"}},`), play.failures()[0])
}

// TestTransportVerify: drift verification sends the replayed requests too
// and fails the test when the server's answer has changed; the client gets
// the recording.
func TestTransportVerify(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	var answer atomic.Value
	answer.Store(`{"version":1}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, answer.Load())
	}))
	defer srv.Close()
	rec := newCleanupT("TestDrift")
	do(t, &http.Client{Transport: Transport(rec, "api", nil, WithDir(dir))}, "GET", srv.URL+"/v", "")
	rec.end()
	fixture := filepath.Join(dir, "TestDrift", "api.json")

	t.Setenv(EnvVerify, "1")
	ft := newCleanupT("TestDrift")
	do(t, &http.Client{Transport: Transport(ft, "api", nil, WithDir(dir))}, "GET", srv.URL+"/v", "")
	ft.end()
	assert.DeepEqual(t, ft.failures(), []string(nil))
	assert.Equal(t, ft.logs[0], "pecatest: verified TestDrift/api: the response to GET "+srv.URL+"/v matches its recording in "+fixture)

	answer.Store(`{"version":2}`)
	ft = newCleanupT("TestDrift")
	_, body := do(t, &http.Client{Transport: Transport(ft, "api", nil, WithDir(dir))}, "GET", srv.URL+"/v", "")
	ft.end()
	assert.Equal(t, body, `{"version":1}`, "the client gets the recording")
	assert.Equal(t, len(ft.failures()), 1)
	got := plainSpaces(ft.failures()[0])
	for _, want := range []string{
		"pecatest: TestDrift/api has drifted: the response to GET " + srv.URL + "/v differs from its recording in " + fixture + " (-recorded +fresh):",
		`- 	Body:        map[string]any{"version": float64(1)},`,
		`+ 	Body:        map[string]any{"version": float64(2)},`,
		"Record it again with: PECAPIKU_ACCESS=ew go test -run '^TestDrift$' ./pecatest",
	} {
		assert.Assert(t, strings.Contains(got, want), "%s\ndoes not contain\n%s", got, want)
	}

	t.Setenv(cache.EnvAccess, "r")
	ft = newCleanupT("TestDrift")
	do(t, &http.Client{Transport: Transport(ft, "api", &offline{}, WithDir(dir))}, "GET", srv.URL+"/v", "")
	ft.end()
	assert.DeepEqual(t, ft.failures(), []string{
		`pecatest: TestDrift/api: drift verification (PECAPIKU_VERIFY) sends the recorded requests, which access "r" (from PECAPIKU_ACCESS) forbids; give it access "re" as well (PECAPIKU_ACCESS=re)`,
	})
}

// TestTransportUsage: the fixture and its body files count as used, for
// Run and for the pecapiku command's prune, whether recorded or replayed.
func TestTransportUsage(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	a := newAPI(t)
	large := strings.Repeat("x", maxInlineBody+1)
	entries := []string{
		filepath.Join(dir, "TestUsed", "api.json"),
		filepath.Join(dir, "TestUsed", "api.bodies", bodyHash([]byte(large))+".raw"),
	}
	for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadOnly} {
		t.Run(access.String(), func(t *testing.T) {
			usage.Lock()
			for _, e := range entries { // as in a new test binary
				delete(usage.entries, e)
			}
			usage.Unlock()
			usedFile := filepath.Join(t.TempDir(), "used.txt")
			t.Setenv(EnvUsed, usedFile)
			ft := newCleanupT("TestUsed")
			client := &http.Client{Transport: Transport(ft, "api", nil, WithDir(dir), WithAccess(access))}
			do(t, client, "PUT", a.srv.URL+"/echo", large)
			ft.end()
			assert.DeepEqual(t, ft.failures(), []string(nil))
			data, err := os.ReadFile(usedFile)
			assert.NilError(t, err)
			for _, entry := range entries {
				assert.Assert(t, strings.Contains(string(data), "entry\t"+entry+"\n"), "%s lacks %s", data, entry)
			}
		})
	}
}

// TestTransportSharedRecording: transports of one name in one test share
// their recording, so identical requests from two clients replay in the
// order they were recorded; tests sharing a fixture (Shared) add to it
// rather than overwrite it, also under ew; and a test that records twice
// in one process (go test -count=2) replaces its own exchanges.
func TestTransportSharedRecording(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	a := newAPI(t)

	t.Run("two clients in one test", func(t *testing.T) {
		rec := newCleanupT("TestTwo")
		first := &http.Client{Transport: Transport(rec, "api", nil, WithDir(dir))}
		second := &http.Client{Transport: Transport(rec, "api", nil, WithDir(dir))}
		_, one := do(t, first, "GET", a.srv.URL+"/counter", "")
		_, two := do(t, second, "GET", a.srv.URL+"/counter", "")
		rec.end()
		assert.DeepEqual(t, rec.logs, []string{"pecatest: recorded 2 exchange(s) of TestTwo/api in " + filepath.Join(dir, "TestTwo", "api.json")})

		play := newCleanupT("TestTwo")
		first = &http.Client{Transport: Transport(play, "api", &offline{}, WithDir(dir), WithAccess(cache.ReadOnly))}
		second = &http.Client{Transport: Transport(play, "api", &offline{}, WithDir(dir), WithAccess(cache.ReadOnly))}
		_, got1 := do(t, first, "GET", a.srv.URL+"/counter", "")
		_, got2 := do(t, second, "GET", a.srv.URL+"/counter", "")
		play.end()
		assert.DeepEqual(t, play.failures(), []string(nil))
		assert.DeepEqual(t, []string{got1, got2}, []string{one, two})
	})

	t.Run("tests sharing a fixture", func(t *testing.T) {
		for _, access := range []cache.Access{cache.Regenerate, cache.ReadExecuteWrite} {
			sdir := filepath.Join(dir, access.String())
			for run := 0; run < 2; run++ { // as go test -count=2 would
				for _, test := range []string{"TestA", "TestB"} {
					ft := newCleanupT(test)
					client := &http.Client{Transport: Transport(ft, "api", nil, WithDir(sdir), Shared(), WithAccess(access))}
					do(t, client, "GET", a.srv.URL+"/items?by="+test, "")
					ft.end()
					assert.DeepEqual(t, ft.failures(), []string(nil))
				}
			}
			var f httpFixture
			data, err := os.ReadFile(filepath.Join(sdir, "api.json"))
			assert.NilError(t, err)
			assert.NilError(t, json.Unmarshal(data, &f))
			var urls []string
			for _, x := range f.Exchanges {
				urls = append(urls, strings.TrimPrefix(x.Request.URL, a.srv.URL))
			}
			assert.DeepEqual(t, urls, []string{"/items?by=TestA", "/items?by=TestB"})
		}
	})
}

// TestTransportMisuse: what Transport cannot work with fails the test with
// the fix, and the transport it returns fails every request.
func TestTransportMisuse(t *testing.T) {
	clearAccess(t)
	for _, tc := range []struct {
		name string
		t    TB
		opts []Option
		want string
	}{
		{"no Cleanup", &fakeT{name: "TestX"}, nil,
			"pecatest: Transport of TestX/api: *pecatest.fakeT has no Cleanup method, which Transport needs to write the recording when the test ends; pass a testing.TB"},
		{"another codec", newCleanupT("TestX"), []Option{WithCodec(cache.Gob)},
			"pecatest: Transport of TestX/api: it records its exchanges as json, not gob; drop the pecatest.WithCodec option"},
		{"a scrub of another type", newCleanupT("TestX"), []Option{WithScrub(func(s string) string { return s })},
			"pecatest: Transport of TestX/api: pecatest.WithScrub scrubs the values of Memo and Golden; scrub what Transport records with pecatest.WithRequestScrub and pecatest.WithResponseScrub"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := Transport(tc.t, "api", &offline{}, append(tc.opts, WithFs(afero.NewMemMapFs()))...)
			var failures []string
			switch ft := tc.t.(type) {
			case *fakeT:
				failures = ft.failures()
			case *cleanupT:
				failures = ft.failures()
			}
			assert.DeepEqual(t, failures, []string{tc.want})
			req, err := http.NewRequest("GET", "http://api.test/", nil)
			assert.NilError(t, err)
			_, err = tr.RoundTrip(req)
			assert.Error(t, err, tc.want)
		})
	}
}

// TestTransportSharedStore: with PECAPIKU_STORE, the fixture and its body
// files are on the shared store, and messages name them by URL.
func TestTransportSharedStore(t *testing.T) {
	clearAccess(t)
	shared := t.TempDir()
	url := "file://" + filepath.ToSlash(shared)
	t.Setenv(cache.EnvStore, url)
	a := newAPI(t)
	large := strings.Repeat("y", maxInlineBody+1)
	rec := newCleanupT("TestShared")
	do(t, &http.Client{Transport: Transport(rec, "api", nil)}, "PUT", a.srv.URL+"/echo", large)
	rec.end()
	object := url + "/" + namespace + "/testdata/.pecapiku/TestShared/api.json"
	assert.DeepEqual(t, rec.logs, []string{"pecatest: recorded 1 exchange(s) of TestShared/api in " + object})
	root := filepath.Join(shared, filepath.FromSlash(namespace), "testdata", ".pecapiku", "TestShared")
	_, err := os.Stat(filepath.Join(root, "api.json"))
	assert.NilError(t, err)
	_, err = os.Stat(filepath.Join(root, "api.bodies", bodyHash([]byte(large))+".raw"))
	assert.NilError(t, err)
	_, err = os.Stat("testdata/.pecapiku/TestShared")
	assert.Assert(t, os.IsNotExist(err), "nothing is written to the local testdata")

	play := newCleanupT("TestShared")
	_, body := do(t, &http.Client{Transport: Transport(play, "api", &offline{}, WithAccess(cache.ReadOnly))}, "PUT", a.srv.URL+"/echo", large)
	play.end()
	assert.Equal(t, body, large)
	assert.DeepEqual(t, play.logs, []string{"pecatest: replayed 1 of the 1 exchanges of TestShared/api from " + object})
}

// TestTransportStoreUnavailable: when the shared store cannot be reached,
// access with e sends the requests without recording them, and access r
// fails.
func TestTransportStoreUnavailable(t *testing.T) {
	cache.RegisterScheme("test-down-http", func(*neturl.URL) (afero.Fs, error) { return downFs{afero.NewMemMapFs()}, nil })
	clearAccess(t)
	t.Setenv(cache.EnvStore, "test-down-http://bucket")
	a := newAPI(t)
	cause := "fs: read " + namespace + "/testdata/.pecapiku/TestDown/api.json: GetObject " + namespace + "/testdata/.pecapiku/TestDown/api.json: connection refused: store unavailable"

	ft := newCleanupT("TestDown")
	_, body := do(t, &http.Client{Transport: Transport(ft, "api", nil)}, "GET", a.srv.URL+"/counter", "")
	ft.end()
	assert.Equal(t, body, "1")
	assert.DeepEqual(t, ft.failures(), []string(nil))
	assert.DeepEqual(t, ft.logs, []string{
		"pecatest: sending the requests of TestDown/api without recording them, since its store cannot be reached: " + cause,
		"pecatest: sent 1 request(s) of TestDown/api without recording them, since its store cannot be reached",
	})

	ft = newCleanupT("TestDown")
	_, err := (&http.Client{Transport: Transport(ft, "api", nil, WithAccess(cache.ReadOnly))}).Get(a.srv.URL + "/counter")
	assert.ErrorContains(t, err, cause)
	ft.end()
	assert.DeepEqual(t, ft.failures(), []string{"pecatest: TestDown/api: " + cause})
}

// TestTransportCanceled: a request whose context is done is not sent, and
// its body is closed.
func TestTransportCanceled(t *testing.T) {
	clearAccess(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ft := newCleanupT("TestCancel")
	tr := Transport(ft, "api", &offline{}, WithFs(afero.NewMemMapFs()))
	body := &closeCounter{Reader: strings.NewReader("x")}
	req, err := http.NewRequestWithContext(ctx, "POST", "http://api.test/", body)
	assert.NilError(t, err)
	_, err = tr.RoundTrip(req)
	assert.Assert(t, errors.Is(err, context.Canceled), "%v", err)
	assert.Equal(t, body.closes.Load(), int64(1))
	ft.end()
}

// BenchmarkTransportReplay replays 100 recorded requests, from loading the
// fixture to the last response read, and reports the time per request as
// a multiple of one sent to a local httptest server (x-local-server): the
// floor of what a test without a recording pays.
func BenchmarkTransportReplay(b *testing.B) {
	for _, env := range []string{cache.EnvAccess, EnvCI, EnvVerify, EnvUsed, cache.EnvStore} {
		b.Setenv(env, "")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"item":%q,"price":1.5}`, r.URL.Query().Get("i"))
	}))
	defer srv.Close()
	dir := b.TempDir()
	send := func(client *http.Client) {
		for i := range 100 {
			resp, err := client.Get(fmt.Sprintf("%s/items?i=%d", srv.URL, i))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	rec := newCleanupT("BenchmarkReplay")
	send(&http.Client{Transport: Transport(rec, "api", nil, WithDir(dir))})
	rec.end()

	start := time.Now()
	const direct = 5
	for range direct {
		send(srv.Client())
	}
	local := float64(time.Since(start)) / direct / 100

	b.ResetTimer()
	for range b.N {
		ft := newCleanupT("BenchmarkReplay")
		send(&http.Client{Transport: Transport(ft, "api", &offline{}, WithDir(dir), WithAccess(cache.ReadOnly))})
		ft.end()
	}
	perRequest := float64(b.Elapsed()) / float64(b.N) / 100
	b.ReportMetric(perRequest, "ns/request")
	b.ReportMetric(perRequest/local, "x-local-server")
}

// TestTransportRequestScrubLeavesTheRequest: a request hook that changes
// the body or the headers in place changes what is recorded, never what
// is sent.
func TestTransportRequestScrubLeavesTheRequest(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s", r.Header.Get("X-Token"), body)
	}))
	defer srv.Close()
	hide := WithRequestScrub(func(r *HTTPRequest) {
		for i := range r.Body {
			r.Body[i] = 'x'
		}
		r.Header.Del("X-Token")
	})
	ft := newCleanupT("TestHide")
	client := &http.Client{Transport: Transport(ft, "api", nil, WithDir(dir), hide)}
	req, err := http.NewRequest("POST", srv.URL+"/", strings.NewReader(`{"secret":"s3"}`))
	assert.NilError(t, err)
	req.Header.Set("X-Token", "tok")
	resp, err := client.Do(req)
	assert.NilError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	got := string(body)
	ft.end()
	assert.DeepEqual(t, ft.failures(), []string(nil))
	assert.Equal(t, got, `tok {"secret":"s3"}`)
	data, err := os.ReadFile(filepath.Join(dir, "TestHide", "api.json"))
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(string(data), `"body": "xxxxxxxxxxxxxxx"`), "%s", data)
	assert.Assert(t, !strings.Contains(string(data), "X-Token"), "%s", data)
}

// TestNilFuncOptions: a nil function given to an option is no function, as
// a nil codec is the default one: the call goes on as without the option.
func TestNilFuncOptions(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	ft := &fakeT{name: "TestNil"}
	Golden(ft, "page", "text\n", WithDir(dir), WithScrub[string](nil), WithAccess(cache.ReadExecuteWrite))
	Memo(ft, "x", func() (int, error) { return 1, nil }, WithDir(dir), WithScrub[int](nil), WithAccess(cache.ReadExecuteWrite))
	assert.DeepEqual(t, ft.failures(), []string(nil))

	a := newAPI(t)
	rec := newCleanupT("TestNil")
	client := &http.Client{Transport: Transport(rec, "api", nil, WithDir(dir), WithRequestScrub(nil), WithResponseScrub(nil), WithMatcher(nil))}
	assert.DeepEqual(t, conversation(t, client, a.srv.URL), wantConversation)
	rec.end()
	assert.DeepEqual(t, rec.failures(), []string(nil))
}
