package pecatest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/pecapiku/pecapiku/cache"
)

// HTTPRequest is a request as [Transport] records it and matches it: what
// the client asked for, with the [SensitiveHeaders] dropped and the
// password of the URL, if any, replaced by "xxxxx".
type HTTPRequest struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// HTTPResponse is a response as [Transport] records it and gives it to the
// client, with the [SensitiveHeaders] dropped. The body is the one the
// client reads: after Go's transparent gzip decoding, if any, and as sent
// otherwise.
type HTTPResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte

	// What else the client sees, recorded as it was.
	proto            string
	contentLength    int64
	transferEncoding []string
	uncompressed     bool
}

// httpSettings holds the options of Transport.
type httpSettings struct {
	matcher       func(got, recorded HTTPRequest) bool
	scrubRequest  []func(*HTTPRequest)
	scrubResponse []func(*HTTPResponse)
}

// WithMatcher has [Transport] replay, for a request, the first recorded
// exchange not yet replayed whose request match reports to be the same,
// instead of using [MatchRequest]. got and recorded are both scrubbed (see
// [WithRequestScrub]). A matcher may build on MatchRequest:
//
//	pecatest.WithMatcher(func(got, recorded pecatest.HTTPRequest) bool {
//		return got.Header.Get("Accept") == recorded.Header.Get("Accept") &&
//			pecatest.MatchRequest(got, recorded)
//	})
func WithMatcher(match func(got, recorded HTTPRequest) bool) Option {
	return func(s *settings) { s.http.matcher = match }
}

// WithRequestScrub has [Transport] pass each request, as it will be
// recorded and matched, through scrub, which changes it in place: drop a
// header, replace a token in the URL or the body, make a host name stable.
// It runs after the [SensitiveHeaders] are dropped, on the requests of the
// recording run and of every replay alike, so that they match. The request
// sent to the server is never changed. Several of these options run in
// order; parallel requests may run them at once. A nil scrub is none.
func WithRequestScrub(scrub func(*HTTPRequest)) Option {
	return func(s *settings) {
		if scrub != nil {
			s.http.scrubRequest = append(s.http.scrubRequest, scrub)
		}
	}
}

// WithResponseScrub has [Transport] pass each response through scrub, which
// changes it in place, before it is checked for credentials, recorded and
// given to the client. The client gets the scrubbed response in every run,
// so a recording run and its replays return the same thing. When scrub
// changes the length of the body, the Content-Length follows. Several of
// these options run in order; parallel requests may run them at once. A
// nil scrub is none.
func WithResponseScrub(scrub func(*HTTPResponse)) Option {
	return func(s *settings) {
		if scrub != nil {
			s.http.scrubResponse = append(s.http.scrubResponse, scrub)
		}
	}
}

// Transport returns an [http.RoundTripper] that records the exchanges of
// the test t with servers in the fixture name and replays them, obeying the
// access in force as [Memo] does, one request at a time:
//
//   - with r, a request that matches a recorded exchange not yet replayed is
//     answered with its recorded response, and base is not used; identical
//     requests get their responses in the order they were recorded;
//   - otherwise, with e, the request is sent with base (nil for
//     [http.DefaultTransport]); with w the exchange is recorded;
//   - a request that matches nothing without e fails the test (Errorf) and
//     its RoundTrip returns an error wrapping [cache.ErrNotCached]: the
//     message shows the request and the closest recorded one as a diff
//     (-recorded +got) and the command that records it.
//
// Requests match by method, URL (with its query in any order) and body,
// JSON bodies compared after decoding them; see [MatchRequest] and
// [WithMatcher]. Headers do not take part, so a request signed with the
// time (AWS Signature Version 4) still matches.
//
// # Recording
//
// With w, the exchanges are written when the test ends (t.Cleanup, which t
// must have) to testdata/.pecapiku/<t.Name()>/<name>.json: one readable
// JSON file holding, for each exchange, the method, URL, headers and body of
// the request and the status, headers and body of the response, each body
// as text unless it is larger than 64 KiB or not text, in which case it
// goes to a file of its own named by its SHA-256,
// <name>.bodies/<hash>.raw, next to it. Every file is written atomically;
// the fixture last, so a run that stops half-way leaves the previous
// recording whole. Access rew adds new exchanges to those recorded; ew
// records the run's exchanges only, replacing them.
//
// Every recording is scrubbed before it is written and before the client
// sees it: the [SensitiveHeaders] and URL passwords are dropped, then the
// hooks of [WithRequestScrub] and [WithResponseScrub] run; an exchange that
// still looks like it holds a credential is refused (see [ErrCredential]
// and [AllowCredentials]): the test fails, naming the part that holds it,
// and RoundTrip returns the error.
//
// A response is read whole before the client gets it, in every run, so a
// stream is replayed as it was recorded but one that never ends cannot be
// recorded; the request's context still cancels the read. Trailers are not
// recorded.
//
// # Hygiene
//
// With PECAPIKU_VERIFY=1 (or -pecapiku.verify) and access re or rew, a
// replayed request is also sent with base, and the test fails when the
// server's status, Content-Type or body now differ from the recording
// (-recorded +fresh). When the test ends, the log says how many exchanges
// were replayed and which recorded ones were not. [Run] counts the fixture
// and its body files as used, so it can report and prune those of a test
// that is gone, and [Shared] and PECAPIKU_STORE apply as to Memo.
//
// # Concurrency
//
// The transport is safe for concurrent use, as base must be. Transports of
// one name in one test share one recording, so a test that builds its
// client twice replays as it recorded.
func Transport(t TB, name string, base http.RoundTripper, opts ...Option) http.RoundTripper {
	if h, ok := t.(helper); ok {
		h.Helper()
	}
	if base == nil {
		base = http.DefaultTransport
	}
	c, err := newCall(t, name, "Transport", opts, cache.JSON)
	switch {
	case err != nil:
	case c.store.Codec() != cache.JSON:
		err = fmt.Errorf("pecatest: Transport of %s: it records its exchanges as json, not %s; drop the pecatest.WithCodec option", c.name, c.store.Codec().Name())
	case c.set.scrub.fn != nil:
		err = fmt.Errorf("pecatest: Transport of %s: pecatest.WithScrub scrubs the values of Memo and Golden; scrub what Transport records with pecatest.WithRequestScrub and pecatest.WithResponseScrub", c.name)
	}
	if err != nil {
		t.Fatalf("%v", err)
		return failedTransport{err}
	}
	cl, ok := t.(cleaner)
	if !ok {
		err := fmt.Errorf("pecatest: Transport of %s: %T has no Cleanup method, which Transport needs to write the recording when the test ends; pass a testing.TB", c.name, t)
		t.Fatalf("%v", err)
		return failedTransport{err}
	}
	s, isNew := openSession(c, opts)
	if isNew {
		s.load()
		cl.Cleanup(s.finish)
	}
	return &recorder{s: s, c: c, base: base}
}

// cleaner is the method of testing.TB that Transport needs to write its
// recording when the test ends.
type cleaner interface{ Cleanup(func()) }

// MatchRequest reports whether got and recorded are the same request, as
// [Transport] decides by default: the same method; the same URL, comparing
// its scheme and host without regard to case and its query parameters in
// any order (the values of one parameter in order); and the same body, or
// two JSON bodies that decode to the same value (key order and spaces do
// not count; numbers compare as written).
func MatchRequest(got, recorded HTTPRequest) bool {
	return got.Method == recorded.Method && sameURL(got.URL, recorded.URL) &&
		sameBody(got.Body, recorded.Body, nil, nil)
}

// failedTransport is what Transport returns after failing the test, so that
// a client built on it fails its requests instead of panicking.
type failedTransport struct{ err error }

func (f failedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody(req)
	return nil, f.err
}

// recorder is the RoundTripper of one call of Transport.
type recorder struct {
	s    *httpSession
	c    *call // its own options and access
	base http.RoundTripper
}

// httpSession is the recording of one fixture in one test: what was
// loaded, what was replayed, what was sent.
type httpSession struct {
	c       *call    // of the first Transport; its store writes the fixture
	opts    []Option // its options, for the calls of body files
	key     sessionKey
	fixture *fixtureFile
	verify  bool

	mu          sync.Mutex
	recorded    []*exchange // loaded from the fixture
	exists      bool        // the fixture exists and was loaded
	loadErr     error       // why every request fails; reported already
	unavailable bool        // the store cannot be reached: nothing is written
	fresh       []*exchange // sent in this test, to be recorded
	sent        int         // requests sent, recorded or not
	seq         int         // requests seen, for the order of fresh
	closed      bool        // the test has ended
}

// sessionKey identifies a recording of one test in this process.
type sessionKey struct {
	file cache.EntryID
	test string
}

// fixtureFile is what this process wrote in one fixture's file under an
// access without r (ew), by test: each test's exchanges replace those it
// recorded before (go test -count=2), and those of the other tests that
// share the fixture ([Shared]) stay.
type fixtureFile struct {
	mu    sync.Mutex
	parts map[string][]exchangeFile
	order []string // the tests of parts, in the order they first wrote
}

var (
	httpSessions sync.Map // sessionKey → *httpSession
	fixtureFiles sync.Map // cache.EntryID → *fixtureFile
)

// openSession returns the session of c's fixture in c's test, and whether
// it is new.
func openSession(c *call, opts []Option) (*httpSession, bool) {
	s := &httpSession{c: c, opts: opts, fixture: new(fixtureFile), verify: switchOn(verifyFlagName, EnvVerify)}
	file, err := c.store.EntryID(c.key)
	if err != nil {
		return s, true
	}
	s.key = sessionKey{file, c.t.Name()}
	if old, loaded := httpSessions.LoadOrStore(s.key, s); loaded {
		return old.(*httpSession), false
	}
	f, _ := fixtureFiles.LoadOrStore(file, s.fixture)
	s.fixture = f.(*fixtureFile)
	return s, true
}

// exchange is one request and its response.
type exchange struct {
	req     HTTPRequest
	resp    HTTPResponse
	seq     int  // when it was sent, for fresh exchanges
	used    bool // replayed in this test
	reqJSON any  // the request's body decoded, when it is JSON; see jsonBody
	parsed  bool // reqJSON was worked out
}

// load reads the fixture of the session's call, with its body files.
func (s *httpSession) load() {
	c := s.c
	if !c.access.CanRead() {
		return
	}
	var f httpFixture
	err := c.store.Read(c.key, &f)
	var bad error // why the fixture cannot be decoded
	switch {
	case err == nil:
		s.recorded, bad = s.decode(f)
	case errors.Is(err, cache.ErrCorrupt):
		bad = corruptCause(err)
	}
	switch {
	case err == nil && bad == nil:
		s.exists = true
	case bad != nil && c.access.CanExecute():
		c.t.Logf("pecatest: %s cannot be decoded (%v); sending the requests of %s again", c.path, bad, c.name)
		s.recorded = nil
	case bad != nil:
		s.loadErr = fmt.Errorf("pecatest: %s: %s cannot be decoded: %v; %s forbids sending its requests again.\n%s",
			c.name, c.path, bad, c.src.describe(c.access), c.fixLine("Record it again", cache.ReadExecuteWrite))
		c.t.Errorf("%v", s.loadErr)
	case errors.Is(err, iofs.ErrNotExist):
	case errors.Is(err, cache.ErrUnavailable) && c.access.CanExecute():
		s.unavailable = true
		c.t.Logf("pecatest: sending the requests of %s without recording them, since its store cannot be reached: %v", c.name, err)
	default:
		s.loadErr = fmt.Errorf("pecatest: %s: %w", c.name, err)
		c.t.Errorf("%v", s.loadErr)
	}
}

// The fixture as it is stored, one JSON file.
type httpFixture struct {
	Exchanges []exchangeFile `json:"exchanges"`
}

type exchangeFile struct {
	Request  requestFile  `json:"request"`
	Response responseFile `json:"response"`
}

type requestFile struct {
	Method string     `json:"method"`
	URL    string     `json:"url"`
	Header fileHeader `json:"header,omitempty"`
	storedBody
}

type responseFile struct {
	Status           int        `json:"status"`
	Proto            string     `json:"proto,omitempty"` // HTTP/1.1 when empty
	Header           fileHeader `json:"header,omitempty"`
	ContentLength    int64      `json:"content_length"`
	TransferEncoding []string   `json:"transfer_encoding,omitempty"`
	Uncompressed     bool       `json:"uncompressed,omitempty"`
	storedBody
}

// storedBody is a body as the fixture stores it, in one of three forms:
// compact JSON as JSON, to be read in a review; other text as a string;
// anything larger than 64 KiB or not text in a body file next to the
// fixture. Each form gives back the body byte for byte.
type storedBody struct {
	JSON jsonText `json:"body_json,omitempty"`
	Text string   `json:"body,omitempty"`
	File string   `json:"body_file,omitempty"`
}

// jsonText is a body of compact JSON, which the fixture holds as a JSON
// value, indented with the rest of the file; decoding compacts it again.
type jsonText []byte

func (j jsonText) MarshalJSON() ([]byte, error) { return j, nil }

func (j *jsonText) UnmarshalJSON(data []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return err
	}
	*j = buf.Bytes()
	return nil
}

// fileHeader is a header as the fixture stores it: a value alone as a
// string, several as a list, one line for most headers in a review.
type fileHeader http.Header

func (h fileHeader) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(h))
	for name, values := range h {
		if len(values) == 1 {
			m[name] = values[0]
		} else {
			m[name] = values
		}
	}
	return json.Marshal(m)
}

func (h *fileHeader) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if m == nil {
		*h = nil
		return nil
	}
	*h = make(fileHeader, len(m))
	for name, raw := range m {
		var err error
		if len(raw) > 0 && raw[0] == '"' {
			var one string
			err = json.Unmarshal(raw, &one)
			(*h)[name] = []string{one}
		} else {
			var several []string
			err = json.Unmarshal(raw, &several)
			(*h)[name] = several
		}
		if err != nil {
			return fmt.Errorf("header %s: want a string or a list of strings: %w", name, err)
		}
	}
	return nil
}

// maxInlineBody is the size beyond which a body goes to a file of its own:
// larger ones would drown the fixture's other lines in a review.
const maxInlineBody = 64 << 10

// decode turns the stored fixture into exchanges, reading their body files.
func (s *httpSession) decode(f httpFixture) ([]*exchange, error) {
	out := make([]*exchange, len(f.Exchanges))
	for i, x := range f.Exchanges {
		reqBody, err := s.body(x.Request.storedBody)
		if err != nil {
			return nil, fmt.Errorf("exchange %d: the request's %v", i+1, err)
		}
		respBody, err := s.body(x.Response.storedBody)
		if err != nil {
			return nil, fmt.Errorf("exchange %d: the response's %v", i+1, err)
		}
		out[i] = &exchange{
			req: HTTPRequest{Method: x.Request.Method, URL: x.Request.URL, Header: http.Header(x.Request.Header).Clone(), Body: reqBody},
			resp: HTTPResponse{
				StatusCode: x.Response.Status, Header: http.Header(x.Response.Header).Clone(), Body: respBody,
				proto: x.Response.Proto, contentLength: x.Response.ContentLength,
				transferEncoding: x.Response.TransferEncoding, uncompressed: x.Response.Uncompressed,
			},
		}
	}
	return out, nil
}

// body returns a stored body; a body file must be one of the fixture's:
// <name>.bodies/<hash>.raw.
func (s *httpSession) body(b storedBody) ([]byte, error) {
	switch {
	case len(b.JSON) > 0 && (b.Text != "" || b.File != "") || b.Text != "" && b.File != "":
		return nil, errors.New("body is stored in more than one of body_json, body and body_file")
	case len(b.JSON) > 0:
		return b.JSON, nil
	case b.File == "":
		return []byte(b.Text), nil
	}
	file := b.File
	hash := strings.TrimSuffix(path.Base(file), cache.Raw.Ext())
	side, err := s.bodyCall(hash)
	if err != nil {
		return nil, err
	}
	if !isHash(hash) || file != side.rel {
		return nil, fmt.Errorf("body_file %q is not a body file of this fixture, <name>.bodies/<sha-256 prefix>.raw", file)
	}
	var data []byte
	if err := side.call.store.Read(side.call.key, &data); err != nil {
		return nil, fmt.Errorf("body file: %w", err)
	}
	return data, nil
}

// bodyFile is the file that holds a body of the fixture.
type bodyFile struct {
	call *call
	rel  string // its path from the fixture's directory, "/"-separated
}

// bodyCall returns the file of the body whose hash is hash: the entry
// <name>.bodies/<hash> of the raw codec, with the fixture's options.
func (s *httpSession) bodyCall(hash string) (bodyFile, error) {
	c := s.c
	side, err := newCallAt(c.t, c.entry, ".bodies/"+hash, "Transport", append(s.opts[:len(s.opts):len(s.opts)], WithCodec(cache.Raw)), cache.Raw)
	if err != nil {
		return bodyFile{}, err
	}
	fixturePath, err := c.store.Path(c.key)
	if err != nil {
		return bodyFile{}, err
	}
	sidePath, err := side.store.Path(side.key)
	if err != nil {
		return bodyFile{}, err
	}
	rel, err := filepath.Rel(filepath.Dir(fixturePath), sidePath)
	if err != nil {
		return bodyFile{}, err
	}
	return bodyFile{side, filepath.ToSlash(rel)}, nil
}

// hashLen is the number of hex digits of SHA-256 that name a body file: 64
// bits, so that two bodies of one fixture never share a file.
const hashLen = 16

func isHash(s string) bool {
	if len(s) != hashLen {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// storeBody returns how the fixture stores body, writing its body file if
// it needs one.
func (s *httpSession) storeBody(body []byte) (storedBody, error) {
	if len(body) <= maxInlineBody && isText(body) {
		if isCompactJSON(body) {
			return storedBody{JSON: body}, nil
		}
		return storedBody{Text: string(body)}, nil
	}
	sum := sha256.Sum256(body)
	side, err := s.bodyCall(hex.EncodeToString(sum[:])[:hashLen])
	if err != nil {
		return storedBody{}, err
	}
	if err := side.call.store.Write(side.call.key, body); err != nil {
		return storedBody{}, err
	}
	return storedBody{File: side.rel}, nil
}

// isCompactJSON reports whether body is an object or array of JSON without
// insignificant spaces, which the fixture can hold as JSON and give back
// byte for byte by compacting it.
func isCompactJSON(body []byte) bool {
	if len(body) == 0 || body[0] != '{' && body[0] != '[' || !json.Valid(body) {
		return false
	}
	var buf bytes.Buffer
	return json.Compact(&buf, body) == nil && bytes.Equal(buf.Bytes(), body)
}

// isText reports whether body can be stored inline: UTF-8 without control
// characters other than tab, newline and carriage return, which a JSON
// string keeps readable.
func isText(body []byte) bool {
	if !utf8.Valid(body) {
		return false
	}
	for _, b := range body {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' || b == 0x7f {
			return false
		}
	}
	return true
}

// RoundTrip answers req from the recording or sends it, as the access in
// force says; see Transport.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		closeBody(req)
		return nil, err
	}
	body, err := readBody(req)
	if err != nil {
		return nil, fmt.Errorf("pecatest: %s: reading the body of %s %s: %w", r.c.name, req.Method, req.URL.Redacted(), err)
	}
	got := r.recordedRequest(req, body)
	s := r.s
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, fmt.Errorf("pecatest: %s: %s %s was sent after the test ended", r.c.name, got.Method, got.URL)
	case s.loadErr != nil:
		s.mu.Unlock()
		return nil, s.loadErr
	}
	var replay *exchange
	if r.c.access.CanRead() {
		replay = s.take(got, r.c.set.http.matcher)
	}
	seq := s.seq
	s.seq++
	var notRecorded error
	if replay == nil && !r.c.access.CanExecute() {
		notRecorded = s.notRecorded(r.c, got)
	}
	s.mu.Unlock()

	switch {
	case replay != nil:
		if s.verify {
			r.verify(req, body, replay)
		}
		return replay.clientResponse(req), nil
	case notRecorded != nil:
		r.c.t.Errorf("%v", notRecorded)
		return nil, notRecorded
	}
	fresh, err := r.send(req, body)
	if err != nil {
		return nil, err
	}
	fresh.req, fresh.seq = got, seq
	record := r.c.access.CanWrite() && !s.unavailable
	if record {
		found := exchangeCredentials(&fresh.req, &fresh.resp)
		if r.c.set.scrub.allow {
			found = nil
		}
		if len(found) > 0 {
			err := credentialError(fmt.Sprintf("pecatest: %s: %s %s is not recorded: the exchange", r.c.name, got.Method, maskCredentials(got.URL)), found,
				"Remove it with pecatest.WithRequestScrub or pecatest.WithResponseScrub")
			r.c.t.Errorf("%v", err)
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("pecatest: %s: the test ended while %s %s was being sent", r.c.name, got.Method, got.URL)
	}
	s.sent++
	if record {
		s.fresh = append(s.fresh, fresh)
	}
	return fresh.clientResponse(req), nil
}

// recordedRequest returns req, whose body is body, as it is recorded and
// matched: scrubbed.
func (r *recorder) recordedRequest(req *http.Request, body []byte) HTTPRequest {
	got := HTTPRequest{Method: req.Method, URL: req.URL.Redacted(), Header: req.Header.Clone(), Body: body}
	if len(r.c.set.http.scrubRequest) > 0 {
		got.Body = bytes.Clone(body) // body is also what is sent
	}
	if got.Method == "" {
		got.Method = http.MethodGet
	}
	dropSensitive(got.Header)
	for _, scrub := range r.c.set.http.scrubRequest {
		scrub(&got)
	}
	got.Header = compactHeader(got.Header)
	return got
}

// send sends req, whose body was read as body, with the base transport and
// returns the exchange, with the response read and scrubbed.
func (r *recorder) send(req *http.Request, body []byte) (*exchange, error) {
	out := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		// The body was read to record it: the request sent carries a
		// copy, and a way to get another (retries, redirects).
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := r.base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("pecatest: %s: reading the response to %s %s: %w", r.c.name, req.Method, req.URL.Redacted(), err)
	}
	got := HTTPResponse{
		StatusCode: resp.StatusCode, Header: resp.Header.Clone(), Body: data,
		proto: resp.Proto, contentLength: resp.ContentLength,
		transferEncoding: append([]string(nil), resp.TransferEncoding...), uncompressed: resp.Uncompressed,
	}
	if got.proto == "HTTP/1.1" {
		got.proto = ""
	}
	dropSensitive(got.Header)
	for _, scrub := range r.c.set.http.scrubResponse {
		before := len(got.Body)
		scrub(&got)
		if after := len(got.Body); after != before && got.contentLength == int64(before) {
			got.contentLength = int64(after)
			if got.Header.Get("Content-Length") == fmt.Sprint(before) {
				got.Header.Set("Content-Length", fmt.Sprint(after))
			}
		}
	}
	got.Header = compactHeader(got.Header)
	return &exchange{resp: got}, nil
}

// response returns the client's copy of the exchange's response to req.
func (e *exchange) clientResponse(req *http.Request) *http.Response {
	r := e.resp
	proto := r.proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	major, minor, ok := http.ParseHTTPVersion(proto)
	if !ok {
		major, minor = 1, 1
	}
	header := r.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	var body io.ReadCloser = http.NoBody
	if len(r.Body) > 0 {
		body = io.NopCloser(bytes.NewReader(r.Body))
	}
	return &http.Response{
		Status:           strings.TrimSpace(fmt.Sprintf("%d %s", r.StatusCode, http.StatusText(r.StatusCode))),
		StatusCode:       r.StatusCode,
		Proto:            proto,
		ProtoMajor:       major,
		ProtoMinor:       minor,
		Header:           header,
		Body:             body,
		ContentLength:    r.contentLength,
		TransferEncoding: append([]string(nil), r.transferEncoding...),
		Uncompressed:     r.uncompressed,
		Request:          req,
	}
}

// take returns the first exchange not yet replayed whose request matches
// got, marking it replayed, or nil.
func (s *httpSession) take(got HTTPRequest, matcher func(got, recorded HTTPRequest) bool) *exchange {
	var gotJSON any
	for _, e := range s.recorded {
		if e.used {
			continue
		}
		var same bool
		if matcher != nil {
			same = matcher(got, e.req)
		} else {
			if gotJSON == nil {
				gotJSON = jsonBody(got.Body)
			}
			same = got.Method == e.req.Method && sameURL(got.URL, e.req.URL) &&
				sameBody(got.Body, e.req.Body, gotJSON, e.jsonBody())
		}
		if same {
			e.used = true
			return e
		}
	}
	return nil
}

// jsonBody returns the request's body decoded, when it is JSON.
func (e *exchange) jsonBody() any {
	if !e.parsed {
		e.reqJSON, e.parsed = jsonBody(e.req.Body), true
	}
	return e.reqJSON
}

// notJSON stands for a body that is not JSON, or not worked out.
type notJSON struct{}

// jsonBody returns body decoded, with its numbers as written, or notJSON{}.
func jsonBody(body []byte) any {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || !strings.ContainsRune(`{["`, rune(trimmed[0])) || !json.Valid(trimmed) {
		return notJSON{}
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return notJSON{}
	}
	return v
}

// sameBody reports whether two bodies are the same, or decode to the same
// JSON; aJSON and bJSON are their jsonBody, or nil to work them out.
func sameBody(a, b []byte, aJSON, bJSON any) bool {
	if bytes.Equal(a, b) {
		return true
	}
	if aJSON == nil {
		aJSON = jsonBody(a)
	}
	if _, no := aJSON.(notJSON); no {
		return false
	}
	if bJSON == nil {
		bJSON = jsonBody(b)
	}
	if _, no := bJSON.(notJSON); no {
		return false
	}
	return reflect.DeepEqual(aJSON, bJSON)
}

// sameURL reports whether two URLs name the same resource; see MatchRequest.
func sameURL(a, b string) bool {
	if a == b {
		return true
	}
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if !strings.EqualFold(ua.Scheme, ub.Scheme) || !strings.EqualFold(ua.Host, ub.Host) ||
		ua.EscapedPath() != ub.EscapedPath() || ua.User.String() != ub.User.String() || ua.Opaque != ub.Opaque {
		return false
	}
	if ua.RawQuery == ub.RawQuery {
		return true
	}
	qa, err1 := url.ParseQuery(ua.RawQuery)
	qb, err2 := url.ParseQuery(ub.RawQuery)
	return err1 == nil && err2 == nil && reflect.DeepEqual(qa, qb)
}

// notRecorded returns the failure of a request that matches no recorded
// exchange under an access without e.
func (s *httpSession) notRecorded(c *call, got HTTPRequest) error {
	what := fmt.Sprintf("pecatest: %s: %s %s", c.name, got.Method, got.URL)
	forbids := c.src.describe(c.access) + " forbids sending it"
	fix := c.fixLine("Record it", cache.ReadExecuteWrite)
	switch {
	case !s.exists:
		return notRecordedError(fmt.Sprintf("%s is not recorded (%s does not exist) and %s.\n%s", what, c.path, forbids, fix))
	case len(s.recorded) == 0:
		return notRecordedError(fmt.Sprintf("%s is not recorded (%s holds no exchange) and %s.\n%s", what, c.path, forbids, fix))
	}
	closest, replayed := s.closest(got, c.set.http.matcher)
	view := func(r HTTPRequest) request { return requestOf(r, c.set.http.matcher != nil) }
	diff := cmp.Diff(view(closest.req), view(got))
	if replayed > 0 && diff == "" {
		return notRecordedError(fmt.Sprintf("%s is not recorded so many times: %s records it %d time(s), all replayed already, and %s.\n%s",
			what, c.path, replayed, forbids, fix))
	}
	n := 0
	for i, e := range s.recorded {
		if e == closest {
			n = i + 1
		}
	}
	return notRecordedError(fmt.Sprintf("%s is not recorded in %s and %s.\nThe closest recorded request, exchange %d of %d, differs (-recorded +got):\n%s%s",
		what, c.path, forbids, n, len(s.recorded), diff, fix))
}

// notRecordedError is the failure of a request that matches no recorded
// exchange: errors.Is(err, cache.ErrNotCached) holds.
type notRecordedError string

func (e notRecordedError) Error() string { return string(e) }
func (e notRecordedError) Unwrap() error { return cache.ErrNotCached }

// closest returns the recorded exchange most like got, preferring those not
// yet replayed, and how many replayed ones match got.
func (s *httpSession) closest(got HTTPRequest, matcher func(got, recorded HTTPRequest) bool) (*exchange, int) {
	var best *exchange
	bestScore, replayed := -1, 0
	for _, e := range s.recorded {
		score := likeness(got, e.req)
		if e.used {
			if matcher != nil && matcher(got, e.req) || matcher == nil && MatchRequest(got, e.req) {
				replayed++
			}
		} else {
			score++ // a tie goes to the one the request could still use
		}
		if score > bestScore {
			best, bestScore = e, score
		}
	}
	return best, replayed
}

// likeness scores how alike two requests are, for showing the closest.
func likeness(a, b HTTPRequest) int {
	score := 0
	if a.Method == b.Method {
		score += 2
	}
	ua, err1 := url.Parse(a.URL)
	ub, err2 := url.Parse(b.URL)
	if err1 == nil && err2 == nil {
		if strings.EqualFold(ua.Host, ub.Host) {
			score += 2
		}
		if ua.EscapedPath() == ub.EscapedPath() {
			score += 4
		}
		if sameURL(a.URL, b.URL) {
			score += 2
		}
	}
	if sameBody(a.Body, b.Body, nil, nil) {
		score += 2
	}
	return score
}

// request is how a failure shows a request, named so that its diff reads
// well: the query as a map, so that the diff points at the parameter that
// differs, and the body decoded when it is JSON, as text otherwise.
type request struct {
	Method string
	URL    string
	Query  url.Values
	Header http.Header
	Body   any
}

// requestOf returns how a failure shows r; with its headers only when a
// custom matcher may have looked at them.
func requestOf(r HTTPRequest, headers bool) request {
	v := request{Method: r.Method, URL: r.URL, Body: bodyValue(r.Body)}
	if u, err := url.Parse(r.URL); err == nil && u.RawQuery != "" {
		if q, err := url.ParseQuery(u.RawQuery); err == nil {
			v.Query = q
			u.RawQuery = ""
			v.URL = u.String()
		}
	}
	if headers {
		v.Header = r.Header
	}
	return v
}

// bodyValue shows a body in a diff: nil when empty, JSON decoded, so that
// the diff points at the field that differs, and otherwise its bodyText.
func bodyValue(body []byte) any {
	if len(body) == 0 {
		return nil
	}
	if v := jsonBody(body); v != nil {
		if _, no := v.(notJSON); !no {
			return plainNumbers(v)
		}
	}
	return bodyText(body)
}

// plainNumbers returns v, decoded JSON, with each number that a float64
// writes as it is written turned into one, which a diff shows as 2.5
// rather than s"2.5". Others (1.0, 1e3, 2^53+1) stay json.Number: the diff
// must not show two different numbers as one.
func plainNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(v), 64); err == nil && strconv.FormatFloat(f, 'f', -1, 64) == string(v) {
			return f
		}
	case map[string]any:
		for k, e := range v {
			v[k] = plainNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = plainNumbers(e)
		}
	}
	return v
}

// bodyText shows a body: JSON indented with its keys sorted, text as it is,
// anything else by its size and hash.
func bodyText(body []byte) string {
	if v := jsonBody(body); v != nil {
		if _, no := v.(notJSON); !no {
			if data, err := json.MarshalIndent(v, "", "  "); err == nil {
				return string(data)
			}
		}
	}
	if isText(body) {
		return string(body)
	}
	sum := sha256.Sum256(body)
	return fmt.Sprintf("<%d bytes, not text, SHA-256 %x>", len(body), sum[:hashLen/2])
}

// verify sends req again and fails the test when the response differs from
// the recorded one of e: drift verification.
func (r *recorder) verify(req *http.Request, body []byte, e *exchange) {
	c := r.c
	if !c.access.CanExecute() {
		c.t.Errorf("pecatest: %s: drift verification (%s) sends the recorded requests, which %s forbids; give it access \"re\" as well (%s=re)",
			c.name, EnvVerify, c.src.describe(c.access), cache.EnvAccess)
		return
	}
	fresh, err := r.send(req, body)
	if err != nil {
		c.t.Errorf("pecatest: verifying %s: %s %s: %v", c.name, e.req.Method, e.req.URL, err)
		return
	}
	diff, err := goldenDiff(responseOf(e.resp), responseOf(fresh.resp), c.set.cmpOpts)
	switch {
	case err != nil:
		c.t.Errorf("pecatest: verifying %s: %v", c.name, err)
	case diff != "":
		c.t.Errorf("pecatest: %s has drifted: the response to %s %s differs from its recording in %s (-recorded +fresh):\n%s%s",
			c.name, e.req.Method, e.req.URL, c.path, diff, c.fixLine("Record it again", cache.Regenerate))
	default:
		c.t.Logf("pecatest: verified %s: the response to %s %s matches its recording in %s", c.name, e.req.Method, e.req.URL, c.path)
	}
}

// response is what drift verification compares of a response: what a
// server changing its answer changes, not its dates and request IDs.
type response struct {
	Status      int
	ContentType string
	Body        any
}

// responseOf returns what drift verification compares of r.
func responseOf(r HTTPResponse) response {
	return response{Status: r.StatusCode, ContentType: r.Header.Get("Content-Type"), Body: bodyValue(r.Body)}
}

// finish ends the session when its test ends: it logs what was replayed
// and writes what was recorded.
func (s *httpSession) finish() {
	c := s.c
	if h, ok := c.t.(helper); ok {
		h.Helper()
	}
	s.mu.Lock()
	s.closed = true
	fresh := append([]*exchange(nil), s.fresh...)
	sent := s.sent
	var replayed int
	var unused []string
	for _, e := range s.recorded {
		if e.used {
			replayed++
		} else {
			unused = append(unused, e.req.Method+" "+e.req.URL)
		}
	}
	s.mu.Unlock()
	if s.key != (sessionKey{}) {
		httpSessions.Delete(s.key)
	}
	if replayed > 0 {
		c.t.Logf("pecatest: replayed %d of the %d exchanges of %s from %s", replayed, len(s.recorded), c.name, c.path)
	}
	if len(unused) > 0 && (replayed > 0 || sent > 0) {
		const most = 5
		list := unused
		if len(list) > most {
			list = append(list[:most:most], fmt.Sprintf("and %d more", len(unused)-most))
		}
		c.t.Logf("pecatest: %d recorded exchange(s) of %s were not replayed: %s; recording it again with access \"ew\" keeps only those the test sends",
			len(unused), c.name, strings.Join(list, ", "))
	}
	switch {
	case sent == 0:
	case s.unavailable:
		c.t.Logf("pecatest: sent %d request(s) of %s without recording them, since its store cannot be reached", sent, c.name)
	case !c.access.CanWrite():
		c.t.Logf("pecatest: sent %d request(s) of %s; %s does not write them to %s", sent, c.name, c.src.describe(c.access), c.path)
	default:
		if err := s.write(fresh); err != nil {
			c.t.Errorf("pecatest: %s: %v", c.name, err)
			return
		}
		c.t.Logf("pecatest: recorded %d exchange(s) of %s in %s", len(fresh), c.name, c.path)
	}
}

// write writes the fixture. With r, it adds fresh to what the file holds
// now (another test sharing it may have added to it since it was loaded);
// without r, fresh replaces what this test recorded there before in this
// process. Body files come first, so the fixture never names a missing one.
func (s *httpSession) write(fresh []*exchange) error {
	if len(fresh) == 0 {
		return nil
	}
	sort.SliceStable(fresh, func(i, j int) bool { return fresh[i].seq < fresh[j].seq })
	var mine []exchangeFile
	for _, e := range fresh {
		x, err := s.encode(e)
		if err != nil {
			return err
		}
		mine = append(mine, x)
	}
	f := s.fixture
	f.mu.Lock()
	defer f.mu.Unlock()
	var files []exchangeFile
	if s.c.access.CanRead() {
		var now httpFixture
		if err := s.c.store.Read(s.c.key, &now); err == nil {
			files = now.Exchanges
		}
		files = append(files, mine...)
	} else {
		test := s.c.t.Name()
		if f.parts == nil {
			f.parts = map[string][]exchangeFile{}
		}
		if _, ok := f.parts[test]; !ok {
			f.order = append(f.order, test)
		}
		f.parts[test] = mine
		for _, t := range f.order {
			files = append(files, f.parts[t]...)
		}
	}
	return s.c.store.Write(s.c.key, httpFixture{Exchanges: files})
}

// encode returns how the fixture stores e, writing its body files.
func (s *httpSession) encode(e *exchange) (exchangeFile, error) {
	reqBody, err := s.storeBody(e.req.Body)
	if err != nil {
		return exchangeFile{}, err
	}
	respBody, err := s.storeBody(e.resp.Body)
	if err != nil {
		return exchangeFile{}, err
	}
	return exchangeFile{
		Request: requestFile{Method: e.req.Method, URL: e.req.URL, Header: fileHeader(e.req.Header), storedBody: reqBody},
		Response: responseFile{
			Status: e.resp.StatusCode, Proto: e.resp.proto, Header: fileHeader(e.resp.Header),
			ContentLength: e.resp.contentLength, TransferEncoding: e.resp.transferEncoding, Uncompressed: e.resp.uncompressed,
			storedBody: respBody,
		},
	}, nil
}

// compactHeader returns h without empty values, nil when nothing is left,
// so that it survives the JSON codec's round trip as it is.
func compactHeader(h http.Header) http.Header {
	for name, values := range h {
		if len(values) == 0 {
			delete(h, name)
		}
	}
	if len(h) == 0 {
		return nil
	}
	return h
}

// readBody reads and closes the body of req, nil when it has none.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

// closeBody closes the body of req, as a RoundTripper must, even when it
// fails.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
