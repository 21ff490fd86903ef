package pecatest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
)

// FuzzTransportFixture feeds arbitrary bytes to Transport as the fixture of
// a replay: each must replay, or fail the test with a message that names
// the fixture, never panic, and nothing may be read outside the fixture's
// own body files (the filesystem holds a secret beside the store that a
// fixture could name).
func FuzzTransportFixture(f *testing.F) {
	for _, seed := range []string{
		`{"exchanges": [{"request": {"method": "GET", "url": "http://api.test/x"}, "response": {"status": 200, "content_length": 2, "body": "ok"}}]}`,
		`{"exchanges": [{"request": {"method": "POST", "url": "http://api.test/x", "body_json": {"a": [1, 2]}}, "response": {"status": 201, "content_length": 0, "header": {"A": ["b", "c"]}}}]}`,
		`{"exchanges": [{"request": {"method": "GET", "url": "http://api.test/x"}, "response": {"status": 200, "content_length": 2, "body_file": "api.bodies/0123456789abcdef.raw"}}]}`,
		`{"exchanges": [{"request": {"method": "GET", "url": "http://api.test/x"}, "response": {"status": 200, "content_length": 2, "body_file": "../secret.raw"}}]}`,
		`{"exchanges": []}`, `{`, `null`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, fixture []byte) {
		fsys := afero.NewMemMapFs()
		_ = afero.WriteFile(fsys, "/store/TestFuzz/api.json", fixture, 0o644)
		_ = afero.WriteFile(fsys, "/store/TestFuzz/api.bodies/0123456789abcdef.raw", []byte("ok"), 0o644)
		_ = afero.WriteFile(fsys, "/store/secret.raw", []byte("SECRET"), 0o644)
		ft := newCleanupT("TestFuzz")
		client := &http.Client{Transport: Transport(ft, "api", &offline{}, WithFs(fsys), WithDir("/store"), WithAccess(cache.ReadOnly))}
		req, err := http.NewRequest("GET", "http://api.test/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, err := client.Do(req); err == nil {
			var body strings.Builder
			buf := make([]byte, 512)
			for {
				n, err := resp.Body.Read(buf)
				body.Write(buf[:n])
				if err != nil {
					break
				}
			}
			resp.Body.Close()
			if strings.Contains(body.String(), "SECRET") {
				t.Fatalf("a fixture read a file outside its body files: %q", fixture)
			}
		}
		ft.end()
		for _, msg := range ft.failures() {
			if !strings.Contains(msg, "TestFuzz/api") {
				t.Fatalf("a failure that does not name the fixture: %q", msg)
			}
		}
	})
}
