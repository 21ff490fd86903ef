package pecatest

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// The credentials of these tests: made up, in the forms the check knows.
const (
	testAWSKey  = "AKIAZ7QW3RT5YU2IOP4K"
	testBearer  = "Bearer 0123456789abcdefghijklmnopqrstuv"
	testPrivate = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"
)

type account struct {
	Name  string
	Token string
}

func TestFindCredentials(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string // what, as the failure names it
	}{
		{"AWS access key ID", "key=" + testAWSKey + ";", []string{"an AWS access key ID"}},
		{"AWS temporary key ID", "ASIAZ7QW3RT5YU2IOP4K", []string{"an AWS access key ID"}},
		{"AWS documentation example", "AKIAIOSFODNN7EXAMPLE", nil},
		{"too short for a key", "AKIAZ7QW3RT5YU2IOP4", nil},
		{"inside a longer word", "XAKIAZ7QW3RT5YU2IOP4K", nil},
		{"lower case", strings.ToLower(testAWSKey), nil},
		{"bearer token", "Authorization: " + testBearer, []string{"a bearer token"}},
		{"bearer in any case", "bearer 0123456789abcdefghijklmnopqrstuv", []string{"a bearer token"}},
		{"bearer in capitals", "BEARER 0123456789abcdefghijklmnopqrstuv", []string{"a bearer token"}},
		{"bearer in mixed case, after a b", "b bEaReR 0123456789abcdefghijklmnopqrstuv", []string{"a bearer token"}},
		{"bearer in prose", "send a bearer token in the header", nil},
		{"short bearer", "Bearer abc", nil},
		{"JSON Web Token", `{"id_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"}`, []string{"a JSON Web Token"}},
		{"RSA private key", testPrivate, []string{"a private key block"}},
		{"EC private key", "-----BEGIN EC PRIVATE KEY-----", []string{"a private key block"}},
		{"PKCS 8 private key", "-----BEGIN PRIVATE KEY-----", []string{"a private key block"}},
		{"encrypted private key", "-----BEGIN ENCRYPTED PRIVATE KEY-----", []string{"a private key block"}},
		{"PGP private key", "-----BEGIN PGP PRIVATE KEY BLOCK-----", []string{"a private key block"}},
		{"public key", "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD9\n-----END PUBLIC KEY-----", nil},
		{"certificate", "-----BEGIN CERTIFICATE-----", nil},
		{"two kinds", testAWSKey + " " + testBearer, []string{"an AWS access key ID", "a bearer token"}},
		{"nothing", "an ordinary sentence", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range findCredentials("x", []byte(tc.text)) {
				got = append(got, c.what)
			}
			assert.DeepEqual(t, got, tc.want)
		})
	}
}

// TestWithScrubMemo: the scrubbed value is what is written, returned by
// the recording run and returned by every replay.
func TestWithScrubMemo(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	scrub := WithScrub(func(a account) account {
		a.Token = "scrubbed"
		return a
	})
	for range 2 { // recording, then replaying
		ft := &fakeT{name: "TestAccount"}
		got := Memo(ft, "account", func() (account, error) {
			return account{Name: "ann", Token: testBearer}, nil
		}, WithFs(fsys), scrub)
		assert.DeepEqual(t, ft.failures(), []string(nil))
		assert.DeepEqual(t, got, account{Name: "ann", Token: "scrubbed"})
	}
	data, err := afero.ReadFile(fsys, "testdata/.pecapiku/TestAccount/account.json")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "{\n  \"Name\": \"ann\",\n  \"Token\": \"scrubbed\"\n}\n")
}

// TestWithScrubDrift: drift verification scrubs the fresh value before
// comparing it, so a secret that changes between runs is no drift.
func TestWithScrubDrift(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	scrub := WithScrub(func(a account) account {
		a.Token = ""
		return a
	})
	token := "first"
	fn := func() (account, error) { return account{Name: "ann", Token: token}, nil }
	Memo(&fakeT{name: "TestDrift"}, "account", fn, WithFs(fsys), scrub)
	t.Setenv(EnvVerify, "1")
	token = "second"
	ft := &fakeT{name: "TestDrift"}
	Memo(ft, "account", fn, WithFs(fsys), scrub)
	assert.DeepEqual(t, ft.failures(), []string(nil))
	assert.DeepEqual(t, ft.logs, []string{"pecatest: verified TestDrift/account: a fresh computation matches testdata/.pecapiku/TestDrift/account.json"})
}

// TestWithScrubWrongType: a scrub of another type than the value's fails
// the test at once, recorded or not.
func TestWithScrubWrongType(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	assert.NilError(t, afero.WriteFile(fsys, "testdata/.pecapiku/TestWrong/n.json", []byte("1\n"), 0o644))
	want := "pecatest: TestWrong/n: pecatest.WithScrub was given a func(string) string, but the value is a int; give it a func(int) int"
	for _, name := range []string{"n", "missing"} {
		ft := &fakeT{name: "TestWrong"}
		Memo(ft, name, func() (int, error) { return 1, nil }, WithFs(fsys), WithScrub(strings.TrimSpace))
		assert.DeepEqual(t, ft.fatals, []string{strings.Replace(want, "/n:", "/"+name+":", 1)})
	}
	ft := &fakeT{name: "TestWrong"}
	Golden(ft, "n", 1, WithFs(fsys), WithScrub(strings.TrimSpace))
	assert.DeepEqual(t, ft.errors, []string{want})
}

type vault struct {
	Auth   struct{ Key string }
	Tokens map[string]string
	Keys   [][]byte
	Any    any
}

// TestMemoRefusesCredentials: a value that still holds something that
// looks like a credential is not recorded; the failure names every field
// and shows none of them.
func TestMemoRefusesCredentials(t *testing.T) {
	v := vault{Tokens: map[string]string{"github": testBearer, "plain": "x"}, Keys: [][]byte{[]byte("ok"), []byte(testPrivate)}}
	v.Auth.Key = testAWSKey
	v.Any = map[string]any{"deep": []any{testAWSKey}}
	want := "pecatest: TestVault/vault is not recorded: its value holds what looks like a credential:\n" +
		"\t.Any[\"deep\"][0] holds an AWS access key ID (\"AKIA\"…, 20 characters)\n" +
		"\t.Auth.Key holds an AWS access key ID (\"AKIA\"…, 20 characters)\n" +
		"\t.Keys[1] holds a private key block (\"-----BEGIN RSA PRIVATE KEY-----\", 31 characters)\n" +
		"\t.Tokens[\"github\"] holds a bearer token (\"Bearer \"…, 39 characters)\n" +
		"Remove it with pecatest.WithScrub, or allow it with pecatest.AllowCredentials() if it is a known fake"
	for _, tc := range []struct {
		name    string
		access  cache.Access
		opts    []Option
		failure string
		written bool
	}{
		{"refused", cache.ReadExecuteWrite, nil, want, false},
		{"regenerating", cache.Regenerate, nil, want, false},
		{"allowed", cache.ReadExecuteWrite, []Option{AllowCredentials()}, "", true},
		{"not written, not checked", cache.ReadExecute, nil, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			fsys := afero.NewMemMapFs()
			ft := &fakeT{name: "TestVault"}
			got := Memo(ft, "vault", func() (vault, error) { return v, nil }, append(tc.opts, WithFs(fsys), WithAccess(tc.access))...)
			if tc.failure == "" {
				assert.DeepEqual(t, ft.failures(), []string(nil))
				assert.Equal(t, got.Auth.Key, testAWSKey)
			} else {
				assert.DeepEqual(t, ft.failures(), []string{tc.failure})
				assert.Assert(t, !strings.Contains(ft.fatals[0], testAWSKey[4:]), "the failure shows the key")
			}
			exists, _ := afero.Exists(fsys, "testdata/.pecapiku/TestVault/vault.json")
			assert.Equal(t, exists, tc.written)
		})
	}
}

type node struct {
	secret string
	next   *node
	all    map[string]any
	list   []any
	array  [2]string
	keys   map[string]int
}

// TestRefuseCredentialsWalk: the check reads unexported fields, map keys
// and arrays, and walks a value that refers to itself once.
func TestRefuseCredentialsWalk(t *testing.T) {
	clearAccess(t)
	n := &node{secret: testAWSKey, all: map[string]any{}, keys: map[string]int{testBearer: 1}}
	n.next = n
	n.all["self"] = n.all
	n.list = []any{nil, "ok"}
	n.list[0] = n.list
	n.array[1] = testPrivate
	c, err := newCall(&fakeT{name: "TestWalk"}, "n", "Golden", []Option{WithFs(afero.NewMemMapFs())}, cache.JSON)
	assert.NilError(t, err)
	err = c.refuseCredentials(n)
	assert.Assert(t, errors.Is(err, ErrCredential), "%v", err)
	assert.Equal(t, err.Error(), "pecatest: TestWalk/n is not recorded: its value holds what looks like a credential:\n"+
		"\t.array[1] holds a private key block (\"-----BEGIN RSA PRIVATE KEY-----\", 31 characters)\n"+
		"\t.keys[\"Bearer …\"] (the key) holds a bearer token (\"Bearer \"…, 39 characters)\n"+
		"\t.secret holds an AWS access key ID (\"AKIA\"…, 20 characters)\n"+
		"Remove it with pecatest.WithScrub, or allow it with pecatest.AllowCredentials() if it is a known fake")
	assert.NilError(t, c.refuseCredentials(&node{secret: "nothing"}))
}

// TestGoldenScrub: Golden compares and records the scrubbed value, and
// refuses to record one that looks like a credential; comparing needs no
// check, since nothing is written.
func TestGoldenScrub(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	hide := WithScrub(func(s string) string { return strings.ReplaceAll(s, testAWSKey, "AKIA-SCRUBBED") })
	ft := &fakeT{name: "TestPage"}
	Golden(ft, "page", "key: "+testAWSKey+"\n", WithFs(fsys), hide)
	assert.DeepEqual(t, ft.failures(), []string(nil))
	data, err := afero.ReadFile(fsys, "testdata/.pecapiku/TestPage/page.raw")
	assert.NilError(t, err)
	assert.Equal(t, string(data), "key: AKIA-SCRUBBED\n")

	ft = &fakeT{name: "TestPage"}
	Golden(ft, "page", "key: ASIAZ7QW3RT5YU2IOP4K\n", WithFs(fsys), WithScrub(func(s string) string {
		return strings.ReplaceAll(s, "ASIAZ7QW3RT5YU2IOP4K", "AKIA-SCRUBBED")
	}))
	assert.DeepEqual(t, ft.failures(), []string(nil)) // another key, scrubbed the same way, matches

	ft = &fakeT{name: "TestPage"}
	Golden(ft, "other", "key: "+testAWSKey+"\n", WithFs(fsys))
	assert.DeepEqual(t, ft.failures(), []string{"pecatest: TestPage/other is not recorded: its value holds what looks like a credential:\n" +
		"\tthe value holds an AWS access key ID (\"AKIA\"…, 20 characters)\n" +
		"Remove it with pecatest.WithScrub, or allow it with pecatest.AllowCredentials() if it is a known fake"})
	exists, _ := afero.Exists(fsys, "testdata/.pecapiku/TestPage/other.raw")
	assert.Assert(t, !exists)
}

func TestIndexLit(t *testing.T) {
	for _, tc := range []struct {
		data string
		want int
	}{
		{"bearer", 0},
		{"xxBEARER", 2},
		{"b bEaReR", 2},
		{"bbbbbeare", -1},
		{"beare", -1},
		{"", -1},
		{"b", -1},
		{"Bearex bearer", 7},
	} {
		assert.Equal(t, indexLit([]byte(tc.data), "bearer", true), tc.want, tc.data)
		assert.Equal(t, indexLit(tc.data, "bearer", true), tc.want, tc.data)
	}
	assert.Equal(t, indexLit([]byte("xBEARER"), "bearer", false), -1)
	for _, tc := range []struct {
		data, lit string
		want      int
	}{
		{"eyJ", "eyJ", 0},
		{"the eye, eyJhb", "eyJ", 9},
		{"JJ yJ eJ eyJ", "eyJ", 9},
		{"Jey", "eyJ", -1},
		{"ey", "eyJ", -1},
		{"x-----BEGIN", "-----BEGIN", 1},
		{"----BEGIN -----BEGIN", "-----BEGIN", 10},
		{"AKIAAKIA", "AKIA", 0},
		{"AKI AKIA", "AKIA", 4},
	} {
		assert.Equal(t, indexLit([]byte(tc.data), tc.lit, false), tc.want, "%q in %q", tc.lit, tc.data)
		assert.Equal(t, indexLit(tc.data, tc.lit, false), tc.want, "%q in the string %q", tc.lit, tc.data)
	}
}

// FuzzCredentialPatterns holds the check, which runs each expression only
// where one of its literals starts, to finding what the expression run
// over the whole text finds.
func FuzzCredentialPatterns(f *testing.F) {
	for _, s := range []string{
		"key: " + testAWSKey, "AKIAIOSFODNN7EXAMPLE", "xAKIA" + testAWSKey[4:], "Authorization: " + testBearer,
		"the eye: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlMTI=",
		"-----BEGIN RSA PRIVATE KEY-----", "------BEGIN EC PRIVATE KEY-----", "BEARER   abcdefghijklmnopqrstuvwxyz==",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, p := range credentialPatterns {
			want := false
			for _, loc := range wholeBody[i].FindAllIndex(data, -1) {
				if p.example == "" || !bytes.HasSuffix(data[loc[0]:loc[1]], []byte(p.example)) {
					want = true
				}
			}
			if got := len(matches(p, data, -1)) > 0; got != want {
				t.Errorf("%s in %q: the check finds one: %v, the expression over the whole text: %v", p.what, data, got, want)
			}
			if got := len(matches(p, string(data), -1)) > 0; got != want {
				t.Errorf("%s in the string %q: the check finds one: %v, the expression over the whole text: %v", p.what, data, got, want)
			}
		}
	})
}

func TestMaskCredentials(t *testing.T) {
	assert.Equal(t, maskCredentials("http://x/?a="+testAWSKey+"&b=AKIAIOSFODNN7EXAMPLE&c="+testAWSKey+"x"),
		"http://x/?a=AKIA…&b=AKIAIOSFODNN7EXAMPLE&c="+testAWSKey+"x")
	assert.Equal(t, maskCredentials("k "+testBearer+" then "+testBearer), "k Bearer … then Bearer …")
}

// wholeBody are the patterns as regular expressions run over a whole body,
// which is what the check did first.
var wholeBody = []*regexp.Regexp{
	regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`),
	regexp.MustCompile(`(?i)\bbearer[ \t]+[A-Za-z0-9._~+/-]{20,}=*`),
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`),
	regexp.MustCompile(`-----BEGIN[A-Z0-9 ]* PRIVATE KEY(?: BLOCK)?-----`),
}

// BenchmarkCredentialCheck measures the check of a recorded body of 1 MiB,
// as a multiple of copying it (x-copy), which recording does anyway, and
// of running the regular expressions alone (x-regexp), which it did first.
// A body without the literals of the patterns skips the expressions; one
// with them runs them; one in upper case holds many starts of a literal
// in the other case.
func BenchmarkCredentialCheck(b *testing.B) {
	line := func(s string) []byte { return bytes.Repeat([]byte(s+"\n"), 1<<20/(len(s)+1)) }
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"plain", line(`{"id":12345,"name":"an ordinary record","tags":["a","b"],"score":0.5}`)},
		{"literals", line(`{"id":12345,"name":"a bearer of news","asia":"eyJ","note":"PRIVATE KEY"}`)},
		// Upper case only: the first letter of "bearer" in lower case is
		// nowhere, which must not make each of the many upper case ones
		// cost a look through the rest of the body.
		{"upper-case", line(`0123456789ABCDEF BEARER 0123456789ABCDEF BEAR BB`)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			per := func(n int, f func()) float64 {
				start := time.Now()
				for range n {
					f()
				}
				return float64(time.Since(start)) / float64(n)
			}
			dst := make([]byte, len(tc.body))
			copying := per(20, func() { copy(dst, tc.body) })
			regexps := per(3, func() {
				for _, re := range wholeBody {
					re.FindAllIndex(tc.body, -1)
				}
			})
			b.SetBytes(int64(len(tc.body)))
			b.ResetTimer()
			for range b.N {
				findCredentials("the body", tc.body)
			}
			check := float64(b.Elapsed()) / float64(b.N)
			b.ReportMetric(check/copying, "x-copy")
			b.ReportMetric(check/regexps, "x-regexp")
		})
	}
}
