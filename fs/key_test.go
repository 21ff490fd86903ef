package fs_test

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/fs"
)

// TestKeyPath pins the mapping from keys to paths: recorded fixtures are found
// by it, so any change here would orphan every fixture a user has committed.
func TestKeyPath(t *testing.T) {
	for _, tc := range []struct {
		name, key, want string
	}{
		{"plain", "dataset", "dataset"},
		{"test and name", "TestReport/dataset", "TestReport/dataset"},
		{"kept punctuation", "v1.2_final-3", "v1.2_final-3"},
		{"space", "a b", "a_b~c8687a08aa5d"},
		{"dot dot", "..", "_.~5ec1f7e700f3"},
		{"dot", ".", "_~cdb4ee2aea69"},
		{"escape attempt", "TestA/../../x", "TestA/_.~5ec1f7e700f3/_.~5ec1f7e700f3/x"},
		{"absolute", "/abs", "_~e3b0c44298fc/abs"},
		{"empty segment", "a//b", "a/_~e3b0c44298fc/b"},
		{"trailing slash", "a/", "a/_~e3b0c44298fc"},
		{"NUL byte", "a\x00b", "a_b~59b271ae1bbc"},
		{"backslash", `a\b`, "a_b~c62016d0f8ee"},
		{"windows device", "CON", "CON~a3dbc4b644a9"},
		{"windows device with extension", "con.txt", "con.txt~d3bde286fd27"},
		{"windows serial port", "COM1", "COM1~6eac394becc8"},
		{"not a device", "COMX", "COMX"},
		{"trailing dot", "trail.", "trail.~cedd4b9ff43e"},
		{"trailing space", "trail ", "trail_~59413e908f3b"},
		{"leading dot", ".git", "_git~4d0a4dff1f76"},
		{"tilde", "a~b", "a_b~941528e5e77c"},
		{"unicode", "héllo", "h_llo~3c48591d8d09"},
		{"invalid UTF-8", "\xff", "_~a8100ae6aa19"},
		{"long", strings.Repeat("x", 101), strings.Repeat("x", 100) + "~c675a2e604b0"},
		{"long unicode", strings.Repeat("é", 150), strings.Repeat("_", 100) + "~cb1fa3158102"},
		{"exactly the limit", strings.Repeat("y", 100), strings.Repeat("y", 100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := fs.KeyPath(tc.key)
			assert.NilError(t, err)
			assert.Equal(t, got, tc.want)
			checkLocal(t, tc.key, got)
		})
	}
}

func TestKeyPathEmpty(t *testing.T) {
	_, err := fs.KeyPath("")
	assert.Assert(t, errors.Is(err, fs.ErrInvalidKey))
	assert.Error(t, err, "fs: invalid key: the key is empty")
}

// TestKeyPathDistinct checks that keys which differ only in what KeyPath has
// to replace still get different paths.
func TestKeyPathDistinct(t *testing.T) {
	keys := []string{
		"a b", "a_b", "a\tb", "a\x00b", "a~b", "a/b", "a//b", "a/b/", "/a/b",
		".", "..", "_", "", "CON", "CON~a3dbc4b644a9", "a.", "a",
		strings.Repeat("x", 100), strings.Repeat("x", 101), strings.Repeat("x", 102),
	}
	seen := map[string]string{}
	for _, k := range keys {
		p, err := fs.KeyPath(k)
		if k == "" {
			assert.Assert(t, err != nil)
			continue
		}
		assert.NilError(t, err)
		if other, ok := seen[p]; ok {
			t.Errorf("keys %q and %q both map to %q", other, k, p)
		}
		seen[p] = k
	}
}

// FuzzKeyPath proves the two properties the store depends on: a key's path
// stays under the root it is joined to, and two different keys never share a
// path. Its seed corpus runs in every go test.
func FuzzKeyPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"TestReport/dataset", "TestReport/dataset/"},
		{"..", "."},
		{"../x", "_.~5ec1f7e700f3/x"},
		{"/abs", "abs"},
		{"a//b", "a/b"},
		{"a\x00b", "a_b"},
		{"CON", "con"},
		{"trail.", "trail"},
		{"trail ", "trail_"},
		{strings.Repeat("x", 300), strings.Repeat("x", 301)},
		{"héllo", "hèllo"},
		{`C:\Windows`, "C:/Windows"},
		{"a~b", "a_b~941528e5e77c"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		pa, errA := fs.KeyPath(a)
		pb, errB := fs.KeyPath(b)
		if errA == nil {
			checkLocal(t, a, pa)
		}
		if errB == nil {
			checkLocal(t, b, pb)
		}
		if errA == nil && errB == nil && a != b && pa == pb {
			t.Fatalf("keys %q and %q both map to %q", a, b, pa)
		}
	})
}

// checkLocal fails unless p, the path of key, is a local path whose every
// segment is a plain, unreserved file name of at most 255 bytes.
func checkLocal(t *testing.T, key, p string) {
	t.Helper()
	if !filepath.IsLocal(filepath.FromSlash(p)) || path.Clean(p) != p {
		t.Fatalf("key %q maps to %q, which is not a clean local path", key, p)
	}
	root := filepath.Join("store", "root")
	joined := filepath.Join(root, filepath.FromSlash(p))
	if !strings.HasPrefix(joined, root+string(filepath.Separator)) {
		t.Fatalf("key %q maps to %q, which leaves the root: %q", key, p, joined)
	}
	if strings.Count(p, "/") != strings.Count(key, "/") {
		t.Fatalf("key %q maps to %q, with a different number of segments", key, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || len(seg) > 255 || fs.Reserved(seg) || strings.ContainsAny(seg, "\\:\x00") {
			t.Fatalf("key %q maps to %q, whose segment %q is not a plain file name", key, p, seg)
		}
	}
}
