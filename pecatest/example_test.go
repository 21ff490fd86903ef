package pecatest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/pecatest"
)

// printT is a pecatest.TB that prints what it is told, standing in for the
// *testing.T of a real test.
type printT struct{ name string }

func (t printT) Name() string                      { return t.name }
func (t printT) Logf(format string, args ...any)   { print("", format, args) }
func (t printT) Errorf(format string, args ...any) { print("FAIL: ", format, args) }
func (t printT) Fatalf(format string, args ...any) { print("FATAL: ", format, args) }

// print prints a message. go-cmp puts non-breaking spaces at random into its
// diffs, to keep programs from depending on their exact form; the example's
// output is only for reading, so they become plain spaces.
func print(prefix, format string, args []any) {
	fmt.Println(prefix + strings.ReplaceAll(fmt.Sprintf(format, args...), "\u00a0", " "))
}

func ExampleMemo() {
	// In a test: t is the *testing.T, and the options below are left out,
	// so the fixture goes to testdata/.pecapiku on disk and the access
	// comes from the flag, PECAPIKU_ACCESS or CI.
	disk := afero.NewMemMapFs()
	opts := []pecatest.Option{pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite)}

	for run := 1; run <= 2; run++ {
		t := &printT{"TestReport"} // each run of a test has a T of its own
		words := pecatest.Memo(t, "corpus", func() ([]string, error) {
			fmt.Println("downloading the corpus...")
			return strings.Fields("to be or not to be"), nil
		}, opts...)
		fmt.Println(run, len(words), "words")
	}
	// Output:
	// downloading the corpus...
	// pecatest: recorded TestReport/corpus in testdata/.pecapiku/TestReport/corpus.json
	// 1 6 words
	// pecatest: replayed TestReport/corpus from testdata/.pecapiku/TestReport/corpus.json
	// 2 6 words
}

// On CI the access is "r": a fixture nobody recorded fails the test, with the
// command that records it.
func ExampleMemo_notRecorded() {
	t := printT{"TestReport"}
	pecatest.Memo(t, "dataset", func() (int, error) { return 42, nil },
		pecatest.WithFs(afero.NewMemMapFs()), pecatest.WithAccess(cache.ReadOnly))
	// Output:
	// FATAL: pecatest: TestReport/dataset is not recorded (testdata/.pecapiku/TestReport/dataset.json does not exist) and access "r" (set by pecatest.WithAccess in the test) forbids executing it.
	// Record it by giving pecatest.WithAccess access "rew" (or dropping the option) and running: go test -run '^TestReport$' ./pecatest
}

func ExampleGolden() {
	t := printT{"TestRender"}
	disk := afero.NewMemMapFs()
	pecatest.Golden(t, "page", "<h1>hello</h1>\n", pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite))
	pecatest.Golden(t, "page", "<h1>goodbye</h1>\n", pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadOnly))
	// Output:
	// pecatest: recorded TestRender/page in testdata/.pecapiku/TestRender/page.raw
	// FAIL: pecatest: TestRender/page differs from its recording testdata/.pecapiku/TestRender/page.raw (-recorded +got):
	// @@ -1 +1 @@
	// -<h1>hello</h1>
	// +<h1>goodbye</h1>
	// Record it again by giving pecatest.WithAccess access "ew" and running: go test -run '^TestRender$' ./pecatest
}

// Tests that need the same fixture share it: it is recorded once, at
// testdata/.pecapiku/<name>.json, and each test gets its own copy.
func ExampleShared() {
	disk := afero.NewMemMapFs()
	opts := []pecatest.Option{pecatest.Shared(), pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite)}
	for _, test := range []string{"TestA", "TestB"} {
		model := pecatest.Memo(printT{test}, "model", func() (map[string]float64, error) {
			fmt.Println("training...")
			return map[string]float64{"bias": 0.5}, nil
		}, opts...)
		fmt.Println(test, model)
	}
	// Output:
	// training...
	// pecatest: recorded model (shared) in testdata/.pecapiku/model.json
	// TestA map[bias:0.5]
	// pecatest: replayed model (shared) from testdata/.pecapiku/model.json
	// TestB map[bias:0.5]
}

// endingT is a printT with the Cleanup method that Transport needs; end
// runs what was registered, as the end of a test does.
type endingT struct {
	printT
	cleanups []func()
}

func (t *endingT) Cleanup(f func()) { t.cleanups = append(t.cleanups, f) }

func (t *endingT) end() {
	for i := len(t.cleanups) - 1; i >= 0; i-- {
		t.cleanups[i]()
	}
}

// weatherServer starts a server for http://weather.test and returns a
// transport that reaches it whatever the URL's host, and a function that
// stops it.
func weatherServer() (http.RoundTripper, func()) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=never-recorded")
		fmt.Fprintf(w, `{"city":%q,"celsius":-3}`, r.URL.Query().Get("city"))
	}))
	addr := srv.Listener.Addr().String()
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}, srv.Close
}

// offline fails every request, as a CI machine without the network would.
type offline struct{}

func (offline) RoundTrip(*http.Request) (*http.Response, error) { return nil, errors.New("offline") }

func ExampleTransport() {
	toServer, stop := weatherServer()
	defer stop()
	disk := afero.NewMemMapFs()

	// In a test, t is the *testing.T and the options are left out: the
	// first run records, CI replays.
	for _, run := range []struct {
		access cache.Access
		base   http.RoundTripper
	}{
		{cache.ReadExecuteWrite, toServer}, // a developer's first run
		{cache.ReadOnly, offline{}},        // CI, without the network
	} {
		t := &endingT{printT: printT{"TestWeather"}}
		client := &http.Client{Transport: pecatest.Transport(t, "api", run.base,
			pecatest.WithFs(disk), pecatest.WithAccess(run.access))}
		resp, err := client.Get("http://weather.test/today?city=Oslo")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body), resp.Header.Get("Set-Cookie") == "")
		t.end() // the test ends: the recording is written
	}
	// Output:
	// {"city":"Oslo","celsius":-3} true
	// pecatest: recorded 1 exchange(s) of TestWeather/api in testdata/.pecapiku/TestWeather/api.json
	// {"city":"Oslo","celsius":-3} true
	// pecatest: replayed 1 of the 1 exchanges of TestWeather/api from testdata/.pecapiku/TestWeather/api.json
}

// On CI, a request that is not recorded fails the test with the closest
// recorded request and the command that records it.
func ExampleTransport_notRecorded() {
	toServer, stop := weatherServer()
	defer stop()
	disk := afero.NewMemMapFs()
	t := &endingT{printT: printT{"TestWeather"}}
	client := &http.Client{Transport: pecatest.Transport(t, "api", toServer, pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite))}
	client.Get("http://weather.test/today?city=Oslo")
	t.end()

	t = &endingT{printT: printT{"TestWeather"}}
	client = &http.Client{Transport: pecatest.Transport(t, "api", offline{}, pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadOnly))}
	_, err := client.Get("http://weather.test/today?city=Bergen")
	fmt.Println(errors.Is(err, cache.ErrNotCached))
	// Output:
	// pecatest: recorded 1 exchange(s) of TestWeather/api in testdata/.pecapiku/TestWeather/api.json
	// FAIL: pecatest: TestWeather/api: GET http://weather.test/today?city=Bergen is not recorded in testdata/.pecapiku/TestWeather/api.json and access "r" (set by pecatest.WithAccess in the test) forbids sending it.
	// The closest recorded request, exchange 1 of 1, differs (-recorded +got):
	//   pecatest.request{
	//   	Method: "GET",
	//   	URL:    "http://weather.test/today",
	// - 	Query:  url.Values{"city": {"Oslo"}},
	// + 	Query:  url.Values{"city": {"Bergen"}},
	//   	Header: nil,
	//   	Body:   nil,
	//   }
	// Record it by giving pecatest.WithAccess access "rew" (or dropping the option) and running: go test -run '^TestWeather$' ./pecatest
	// true
}

// WithScrub keeps what must not be committed out of a recording; what the
// test gets back is the scrubbed value, in the recording run as in every
// replay.
func ExampleWithScrub() {
	type Login struct {
		User, Token string
	}
	disk := afero.NewMemMapFs()
	for run := 1; run <= 2; run++ {
		login := pecatest.Memo(&printT{"TestLogin"}, "login", func() (Login, error) {
			return Login{User: "ann", Token: "Bearer eyJhbGciOiJIUzI1NiJ9-from-the-server"}, nil
		}, pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite), pecatest.WithScrub(func(l Login) Login {
			l.Token = "scrubbed"
			return l
		}))
		fmt.Println(run, login)
	}
	// Without the scrub, the token is refused.
	pecatest.Memo(printT{"TestLogin"}, "unscrubbed", func() (Login, error) {
		return Login{User: "ann", Token: "Bearer eyJhbGciOiJIUzI1NiJ9-from-the-server"}, nil
	}, pecatest.WithFs(disk), pecatest.WithAccess(cache.ReadExecuteWrite))
	// Output:
	// pecatest: recorded TestLogin/login in testdata/.pecapiku/TestLogin/login.json
	// 1 {ann scrubbed}
	// pecatest: replayed TestLogin/login from testdata/.pecapiku/TestLogin/login.json
	// 2 {ann scrubbed}
	// FATAL: pecatest: TestLogin/unscrubbed is not recorded: its value holds what looks like a credential:
	// 	.Token holds a bearer token ("Bearer "…, 43 characters)
	// Remove it with pecatest.WithScrub, or allow it with pecatest.AllowCredentials() if it is a known fake
}
