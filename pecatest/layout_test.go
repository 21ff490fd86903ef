package pecatest

import (
	"strings"
	"testing"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// TestEscapeName: an entry's name is one segment of its key, different
// names give different segments, and names without "/" or "\" are their
// own segment, so that their fixtures keep their paths.
func TestEscapeName(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		escape     bool // the name reads as the escape of another
	}{
		{"dataset", "dataset", false},
		{"with spaces", "with spaces", false},
		{"a/b", `a\sb`, false},
		{`a\b`, `a\\b`, false},
		{`a\sb`, `a\\sb`, true},
		{`a\\b`, `a\\\\b`, true},
		{`a\`, `a\\`, false},
		{`a/\b`, `a\s\\b`, false},
		{`a\/b`, `a\\\sb`, false},
		{"/", `\s`, false},
		{`\s`, `\\s`, true},
		{`\\`, `\\\\`, true},
	} {
		got := escapeName(tc.name)
		assert.Equal(t, got, tc.want, "escapeName(%q)", tc.name)
		assert.Assert(t, !strings.Contains(got, "/"))
		assert.Equal(t, isEscape(tc.name), tc.escape, "isEscape(%q)", tc.name)
		if strings.Contains(tc.name, `\`) && !strings.Contains(tc.name, "/") && !tc.escape {
			// Its old key is no other name's key now: it is read there.
			for _, other := range []string{tc.name, "a/b", `a\b`, `a\\b`, `a\sb`} {
				assert.Assert(t, escapeName(other) != tc.name, "%q escapes to %q", other, tc.name)
			}
		}
	}
}

// FuzzEscapeName: different names never share a segment, and a name that
// is not an escape is no name's segment.
func FuzzEscapeName(f *testing.F) {
	for _, seed := range [][2]string{{"a/b", `a\sb`}, {`a\b`, `a\\b`}, {`\`, `\\`}, {"/", `\s`}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ea, eb := escapeName(a), escapeName(b)
		if a != b && ea == eb {
			t.Fatalf("%q and %q both escape to %q", a, b, ea)
		}
		if strings.Contains(ea, "/") {
			t.Fatalf("%q escapes to %q", a, ea)
		}
		if ea == b && a != b && !isEscape(b) {
			t.Fatalf("%q escapes to %q, which isEscape does not recognize", a, b)
		}
	})
}

// TestMemoFormerNames: a fixture that an older version recorded under a
// name with "\" is replayed from there and moved with w; one recorded under
// a name with "/" is not read, since that path is now a subtest's entry,
// and the failure says where it is.
func TestMemoFormerNames(t *testing.T) {
	disk := afero.NewMemMapFs()
	const dir = "/pkg/testdata/.pecapiku"
	assert.NilError(t, afero.WriteFile(disk, dir+"/TestOld/a_b~c62016d0f8ee.json", []byte("\"recorded\"\n"), 0o644))
	assert.NilError(t, afero.WriteFile(disk, dir+"/TestOld/x/y.json", []byte("\"the subtest's\"\n"), 0o644))
	opts := func(a cache.Access) []Option { return []Option{WithFs(disk), WithDir(dir), WithAccess(a)} }
	fn := func() (string, error) { return "executed", nil }

	ft := &fakeT{name: "TestOld"}
	assert.Equal(t, Memo(ft, `a\b`, fn, opts(cache.ReadOnly)...), "recorded")
	assert.DeepEqual(t, ft.logs, []string{"pecatest: replayed TestOld/a\\b from /pkg/testdata/.pecapiku/TestOld/a_b~c62016d0f8ee.json, where an older pecapiku recorded it"})

	ft = &fakeT{name: "TestOld"}
	Memo(ft, "x/y", fn, opts(cache.ReadOnly)...)
	assert.Equal(t, len(ft.fatals), 1)
	assert.Assert(t, strings.Contains(ft.fatals[0], "pecatest: TestOld/x/y is not recorded (/pkg/testdata/.pecapiku/TestOld/x_sy~"), ft.fatals[0])
	assert.Assert(t, strings.Contains(ft.fatals[0], "\nIt may have been recorded by an older pecapiku at /pkg/testdata/.pecapiku/TestOld/x/y.json, a path that now belongs to another entry and is not read for this one; record it again.\nRecord it "), ft.fatals[0])

	ft = &fakeT{name: "TestOld"}
	assert.Equal(t, Memo(ft, `a\b`, fn, opts(cache.ReadExecuteWrite)...), "recorded")
	assert.Equal(t, ft.logs[1], "pecatest: moved TestOld/a\\b from /pkg/testdata/.pecapiku/TestOld/a_b~c62016d0f8ee.json, where an older pecapiku recorded it, to /pkg/testdata/.pecapiku/TestOld/a__b~c3333a0ff7be.json")
	_, err := disk.Stat(dir + "/TestOld/a_b~c62016d0f8ee.json")
	assert.Assert(t, err != nil)

	ft = &fakeT{name: "TestOld"}
	assert.Equal(t, Memo(ft, "x/y", fn, opts(cache.ReadExecuteWrite)...), "executed")
	assert.Assert(t, len(ft.failures()) == 0, "%v", ft.failures())
	ft = &fakeT{name: "TestOld/x"}
	assert.Equal(t, Memo(ft, "y", fn, opts(cache.ReadOnly)...), "the subtest's")
}
