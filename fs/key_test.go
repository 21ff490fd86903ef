package fs_test

import (
	"crypto/sha256"
	"encoding/hex"
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

// TestLayout pins the paths of a layout where they differ from KeyPath's:
// a directory named like an entry's file, in any case and with any of the
// layout's extensions, is hashed; every other key keeps KeyPath's path, so
// that the fixtures recorded before the rule are still found.
func TestLayout(t *testing.T) {
	layout := fs.NewLayout(".json", ".gob", ".raw", ".JSON")
	for _, tc := range []struct {
		name, key, want string
	}{
		{"plain", "TestReport/dataset", "TestReport/dataset"},
		{"file name as the last segment", "TestReport/config.json", "TestReport/config.json"},
		{"file name as a directory", "TestReport/config.json/v", "TestReport/config.json~587cb980af76/v"},
		{"other codec", "TestReport/report.raw/v", "TestReport/report.raw~b7c1d40487ab/v"},
		{"upper case", "TestReport/REPORT.RAW/v", "TestReport/REPORT.RAW~ba7d403dc6d5/v"},
		{"mixed case", "TestReport/Report.JSON/v", "TestReport/Report.JSON~f6524541258b/v"},
		{"extension alone", ".json/v", "_json~12157ab04ed2/v"},
		{"first segment", "config.gob/a/b", "config.gob~" + sum("config.gob") + "/a/b"},
		{"every directory", "a.json/b.gob/c.raw", "a.json~" + sum("a.json") + "/b.gob~" + sum("b.gob") + "/c.raw"},
		{"changed already", "my config.json/v", "my_config.json~" + sum("my config.json") + "/v"},
		{"long", strings.Repeat("x", 100) + ".json/v", strings.Repeat("x", 100) + "~" + sum(strings.Repeat("x", 100)+".json") + "/v"},
		{"extension inside", "config.json.old/v", "config.json.old/v"},
		{"not an extension of the layout", "config.yaml/v", "config.yaml/v"},
		{"no dot", "json/v", "json/v"},
		{"escape attempt", "x.json/../../y", "x.json~" + sum("x.json") + "/_.~5ec1f7e700f3/_.~5ec1f7e700f3/y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := layout.Path(tc.key)
			assert.NilError(t, err)
			assert.Equal(t, got, tc.want)
			checkLocal(t, tc.key, got)
		})
	}
	_, err := layout.Path("")
	assert.Assert(t, errors.Is(err, fs.ErrInvalidKey))
}

// TestLayoutKeyPath checks that a layout without extensions, and a layout
// of any extensions for keys without a directory named like a file, is
// KeyPath.
func TestLayoutKeyPath(t *testing.T) {
	for _, key := range []string{"a", "TestA/b c", "x.json", "TestA/x.json", "..", "a//b", `a\b/c`, "CON/x"} {
		want, err := fs.KeyPath(key)
		assert.NilError(t, err)
		for _, layout := range []fs.Layout{{}, fs.NewLayout(), fs.NewLayout(".json", ".gob")} {
			got, err := layout.Path(key)
			assert.NilError(t, err)
			assert.Equal(t, got, want, "key %q", key)
		}
	}
}

func TestIsKeySegment(t *testing.T) {
	for _, tc := range []struct {
		seg  string
		want bool
	}{
		{"dataset", true},
		{"config.json", true},
		{"a_b~c8687a08aa5d", true},
		{"config.json~587cb980af76", true},
		{"CON~a3dbc4b644a9", true},
		{"trail.~cedd4b9ff43e", true},
		{strings.Repeat("x", 100), true},
		{strings.Repeat("x", 100) + "~c675a2e604b0", true},
		{"", false},
		{"a b", false},
		{".git", false},
		{"trail.", false},
		{"CON", false},
		{"con.txt", false},
		{strings.Repeat("x", 101), false},
		{strings.Repeat("x", 101) + "~c675a2e604b0", false},
		{"a~b", false},
		{"a~C8687A08AA5D", false},
		{"a~c8687a08aa5", false},
		{"~c8687a08aa5d", false},
		{"_git~4d0a4dff1f76", true},
		{".git~4d0a4dff1f76", false},
		{"h\u00e9llo~3c48591d8d09", false},
		{"a/b", false},
	} {
		assert.Equal(t, fs.IsKeySegment(tc.seg), tc.want, "%q", tc.seg)
	}
}

// FuzzLayout proves what a store depends on: a key's path stays under the
// root, two different keys never share a path, and no directory of one
// key's path has, in any case, the name of the file of another key's path.
func FuzzLayout(f *testing.F) {
	for _, seed := range [][2]string{
		{"TestX/config", "TestX/config.json/v"},
		{"TestX/report", "TestX/REPORT.RAW/v"},
		{"a.json/b", "a.json~" + sum("a.json") + "/b"},
		{"x", "X.Json/y"},
		{"config.json/v", "config.json~587cb980af76/v"},
	} {
		f.Add(seed[0], seed[1])
	}
	exts := []string{".json", ".gob", ".raw"}
	layout := fs.NewLayout(exts...)
	f.Fuzz(func(t *testing.T, a, b string) {
		pa, errA := layout.Path(a)
		pb, errB := layout.Path(b)
		if errA != nil || errB != nil {
			return
		}
		checkLocal(t, a, pa)
		checkLocal(t, b, pb)
		if a != b && pa == pb {
			t.Fatalf("keys %q and %q both map to %q", a, b, pa)
		}
		if old, _ := fs.KeyPath(a); layout.FromKeyPath(old) != pa {
			t.Fatalf("key %q: KeyPath %q moves to %q, not to the layout's %q", a, old, layout.FromKeyPath(old), pa)
		}
		dirs := strings.Split(pa, "/")
		dirs = dirs[:len(dirs)-1]
		for _, ext := range exts {
			file := pb + ext
			for i := range dirs {
				if strings.EqualFold(strings.Join(dirs[:i+1], "/"), file) {
					t.Fatalf("a directory of key %q, %q, is the file of key %q, %q", a, pa, b, file)
				}
			}
		}
	})
}

// sum is the hash KeyPath appends to the segment s.
func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:12]
}

// TestLayoutFromKeyPath: the path KeyPath gave a key, moved to the layout,
// is the layout's path of that key.
func TestLayoutFromKeyPath(t *testing.T) {
	layout := fs.NewLayout(".json", ".gob", ".raw")
	for _, key := range []string{
		"TestX/v", "TestX/config.json/v", "TestX/REPORT.RAW/v", "a.json/b.gob/c.raw",
		"TestX/my config.json/v", "TestX/a b/config.json/v", "..", "x.json/../y",
		strings.Repeat("x", 100) + ".json/v", "x.json~587cb980af76/v", "CON.json/v",
	} {
		old, err := fs.KeyPath(key)
		assert.NilError(t, err)
		want, err := layout.Path(key)
		assert.NilError(t, err)
		assert.Equal(t, layout.FromKeyPath(old), want, "key %q, old path %q", key, old)
		assert.Equal(t, layout.FromKeyPath(old+".json"), want+".json", "key %q", key)
		assert.Equal(t, layout.FromKeyPath(want), want, "the layout's own paths stay: key %q", key)
	}
}
