package pecatest

import (
	"errors"
	"flag"
	"fmt"
	iofs "io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

// fakeT records what Memo and Golden tell it. Its Fatalf does not stop the
// goroutine, so the code after a failure runs too and must be safe.
type fakeT struct {
	name string

	mu      sync.Mutex
	logs    []string
	errors  []string
	fatals  []string
	helpers int
}

func (f *fakeT) Name() string { return f.name }

func (f *fakeT) Logf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}

func (f *fakeT) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeT) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fatals = append(f.fatals, fmt.Sprintf(format, args...))
}

func (f *fakeT) Helper() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.helpers++
}

// failures returns everything that failed the test, errors then fatals.
func (f *fakeT) failures() []string {
	return append(append([]string(nil), f.errors...), f.fatals...)
}

// clearAccess removes every outside influence on Memo and Golden for the
// test: the access from the environment and the flag, and the switches a
// developer may have set for the run (PECAPIKU_VERIFY=1 go test ./..., or a
// prune recording what the tests use).
func clearAccess(t *testing.T) {
	t.Helper()
	for _, env := range []string{cache.EnvAccess, EnvCI, EnvVerify, EnvPrune, EnvUsed, cache.EnvStore} {
		t.Setenv(env, "")
	}
	saved := *theFlag
	*theFlag = accessFlag{}
	t.Cleanup(func() { *theFlag = saved })
}

type dataset struct {
	Name string
	Rows []int
}

const storedJSON = `{
  "Name": "stored",
  "Rows": [
    1
  ]
}
`

const freshJSON = `{
  "Name": "fresh",
  "Rows": [
    2,
    3
  ]
}
`

// TestMemo runs Memo under every access against a fixture that is present,
// missing or corrupt, checking the value, whether fn ran, the file left
// behind, the log and the failure message, word for word.
func TestMemo(t *testing.T) {
	const path = "testdata/.pecapiku/TestReport/dataset.json"
	const record = `Record it with: PECAPIKU_ACCESS=rew go test -run '^TestReport$' ./pecatest`
	type want struct {
		value   string // the Name of the dataset returned; "" when the test fails
		ran     bool
		file    string // "" for none
		logs    []string
		failure string
	}
	for _, tc := range []struct {
		access  string
		initial string
		want    want
	}{
		{"rew", storedJSON, want{value: "stored", file: storedJSON, logs: []string{"pecatest: replayed TestReport/dataset from " + path}}},
		{"rew", "", want{value: "fresh", ran: true, file: freshJSON, logs: []string{"pecatest: recorded TestReport/dataset in " + path}}},
		{"rew", "{", want{value: "fresh", ran: true, file: freshJSON, logs: []string{
			"pecatest: " + path + " cannot be decoded (unexpected EOF at byte 1); computing TestReport/dataset again",
			"pecatest: recorded TestReport/dataset in " + path,
		}}},
		{"re", storedJSON, want{value: "stored", file: storedJSON, logs: []string{"pecatest: replayed TestReport/dataset from " + path}}},
		{"re", "", want{value: "fresh", ran: true, logs: []string{
			`pecatest: computed TestReport/dataset; access "re" (from PECAPIKU_ACCESS) does not write it to ` + path,
		}}},
		{"r", storedJSON, want{value: "stored", file: storedJSON, logs: []string{"pecatest: replayed TestReport/dataset from " + path}}},
		{"r", "", want{failure: `pecatest: TestReport/dataset is not recorded (` + path + ` does not exist) and access "r" (from PECAPIKU_ACCESS) forbids executing it.` + "\n" + record}},
		{"r", "{", want{file: "{", failure: `pecatest: TestReport/dataset: ` + path + ` cannot be decoded with the json codec: unexpected EOF at byte 1; access "r" (from PECAPIKU_ACCESS) forbids computing it again.` + "\n" +
			`Record it again with: PECAPIKU_ACCESS=rew go test -run '^TestReport$' ./pecatest`}},
		{"ew", storedJSON, want{value: "fresh", ran: true, file: freshJSON, logs: []string{"pecatest: recorded TestReport/dataset in " + path}}},
		{"ew", "", want{value: "fresh", ran: true, file: freshJSON, logs: []string{"pecatest: recorded TestReport/dataset in " + path}}},
		{"e", storedJSON, want{value: "fresh", ran: true, file: storedJSON, logs: []string{
			`pecatest: computed TestReport/dataset; access "e" (from PECAPIKU_ACCESS) does not write it to ` + path,
		}}},
		{"e", "", want{value: "fresh", ran: true, logs: []string{
			`pecatest: computed TestReport/dataset; access "e" (from PECAPIKU_ACCESS) does not write it to ` + path,
		}}},
	} {
		state := map[string]string{"": "missing", storedJSON: "present", "{": "corrupt"}[tc.initial]
		t.Run(tc.access+"/"+state, func(t *testing.T) {
			clearAccess(t)
			t.Setenv(cache.EnvAccess, tc.access)
			fsys := afero.NewMemMapFs()
			if tc.initial != "" {
				assert.NilError(t, afero.WriteFile(fsys, path, []byte(tc.initial), 0o644))
			}
			ft := &fakeT{name: "TestReport"}
			ran := false
			got := Memo(ft, "dataset", func() (dataset, error) {
				ran = true
				return dataset{Name: "fresh", Rows: []int{2, 3}}, nil
			}, WithFs(fsys))

			assert.Equal(t, got.Name, tc.want.value)
			assert.Equal(t, ran, tc.want.ran)
			assert.DeepEqual(t, ft.logs, tc.want.logs)
			if tc.want.failure == "" {
				assert.DeepEqual(t, ft.failures(), []string(nil))
			} else {
				assert.DeepEqual(t, ft.failures(), []string{tc.want.failure})
			}
			content, err := afero.ReadFile(fsys, path)
			if tc.want.file == "" {
				assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "want no file, got %q", content)
			} else {
				assert.NilError(t, err)
				assert.Equal(t, string(content), tc.want.file)
			}
			assert.Assert(t, ft.helpers > 0, "Helper was never called")
		})
	}
}

// TestMemoAccessSources checks that a missing fixture's message names where
// the access came from and gives the command that wins over it.
func TestMemoAccessSources(t *testing.T) {
	const missing = `pecatest: TestReport/case_1/dataset is not recorded (testdata/.pecapiku/TestReport/case_1/dataset.json does not exist) and `
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T) []Option
		want  string
	}{
		{
			name: "CI",
			setup: func(t *testing.T) []Option {
				t.Setenv(EnvCI, "true")
				return nil
			},
			want: missing + `access "r" (the default on CI, since CI=true) forbids executing it.` + "\n" +
				`Record it with: PECAPIKU_ACCESS=rew go test -run '^TestReport$/^case_1$' ./pecatest`,
		},
		{
			name: "environment",
			setup: func(t *testing.T) []Option {
				t.Setenv(cache.EnvAccess, "r")
				t.Setenv(EnvCI, "1")
				return nil
			},
			want: missing + `access "r" (from PECAPIKU_ACCESS) forbids executing it.` + "\n" +
				`Record it with: PECAPIKU_ACCESS=rew go test -run '^TestReport$/^case_1$' ./pecatest`,
		},
		{
			name: "flag",
			setup: func(t *testing.T) []Option {
				t.Setenv(cache.EnvAccess, "rew")
				assert.NilError(t, theFlag.Set("r"))
				return nil
			},
			want: missing + `access "r" (from -pecapiku.access) forbids executing it.` + "\n" +
				`Record it with: go test -run '^TestReport$/^case_1$' ./pecatest -pecapiku.access=rew`,
		},
		{
			name: "option",
			setup: func(t *testing.T) []Option {
				assert.NilError(t, theFlag.Set("rew"))
				return []Option{WithAccess(cache.ReadOnly)}
			},
			want: missing + `access "r" (set by pecatest.WithAccess in the test) forbids executing it.` + "\n" +
				`Record it by giving pecatest.WithAccess access "rew" (or dropping the option) and running: go test -run '^TestReport$/^case_1$' ./pecatest`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			opts := append(tc.setup(t), WithFs(afero.NewMemMapFs()))
			ft := &fakeT{name: "TestReport/case_1"}
			Memo(ft, "dataset", func() (int, error) { panic("must not run") }, opts...)
			assert.DeepEqual(t, ft.fatals, []string{tc.want})
		})
	}
}

func TestMemoBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		key  string
		opts []Option
		want string
	}{
		{"invalid environment", "rw", "x", nil,
			`pecatest: Memo of TestBad/x: PECAPIKU_ACCESS="rw": cache: invalid access "rw": w without e writes nothing, since only an executed function has a value to write; valid access is "rew" (read, execute, write; the default), "re", "r" (read-only), "ew" (regenerate) or "e" (bypass); letters in any order, each at most once, w only with e`},
		{"invalid option", "", "x", []Option{WithAccess(cache.Access(9))},
			`pecatest: Memo of TestBad/x: pecatest.WithAccess(Access(9)): invalid access`},
		{"empty name", "", "", nil,
			`pecatest: Memo of TestBad: the name of the entry is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			t.Setenv(cache.EnvAccess, tc.env)
			ft := &fakeT{name: "TestBad"}
			got := Memo(ft, tc.key, func() (int, error) { panic("must not run") }, append(tc.opts, WithFs(afero.NewMemMapFs()))...)
			assert.Equal(t, got, 0)
			assert.DeepEqual(t, ft.fatals, []string{tc.want})
		})
	}
}

type secret struct {
	Public  string
	private int
}

func TestMemoFailures(t *testing.T) {
	clearAccess(t)
	errDown := errors.New("the service is down")
	for _, tc := range []struct {
		name string
		memo func(t TB, fsys afero.Fs)
		want []string // substrings of the one failure
	}{
		{
			name: "function error",
			memo: func(t TB, fsys afero.Fs) {
				Memo(t, "dataset", func() (int, error) { return 0, errDown }, WithFs(fsys))
			},
			want: []string{"pecatest: computing TestReport/dataset failed: the service is down"},
		},
		{
			name: "value the codec loses",
			memo: func(t TB, fsys afero.Fs) {
				Memo(t, "dataset", func() (secret, error) { return secret{"a", 1}, nil }, WithFs(fsys))
			},
			want: []string{
				`pecatest: TestReport/dataset: cache: "TestReport/dataset": value does not survive its codec: the json codec would replay pecatest.secret as a different value, so nothing was written to testdata/.pecapiku/TestReport/dataset.json (-computed +replayed):`,
				"private: 1", "private: 0",
			},
		},
		{
			name: "directory in the way",
			memo: func(t TB, fsys afero.Fs) {
				_ = fsys.MkdirAll("testdata/.pecapiku/TestReport/dataset.json", 0o755)
				Memo(t, "dataset", func() (int, error) { return 1, nil }, WithFs(fsys))
			},
			want: []string{"pecatest: TestReport/dataset: fs: read testdata/.pecapiku/TestReport/dataset.json: is a directory, not a file"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			ft := &fakeT{name: "TestReport"}
			tc.memo(ft, fsys)
			assert.Equal(t, len(ft.fatals), 1, "%q", ft.fatals)
			for _, want := range tc.want {
				assert.Assert(t, strings.Contains(ft.fatals[0], want), "%q\ndoes not contain\n%q", ft.fatals[0], want)
			}
			if tc.name != "directory in the way" {
				exists, _ := afero.Exists(fsys, "testdata/.pecapiku/TestReport/dataset.json")
				assert.Assert(t, !exists, "something was written")
			}
		})
	}
}

func TestMemoPanicWritesNothing(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	func() {
		defer func() { assert.Equal(t, recover(), any("boom")) }()
		Memo(&fakeT{name: "TestPanic"}, "x", func() (int, error) { panic("boom") }, WithFs(fsys))
	}()
	exists, _ := afero.Exists(fsys, "testdata/.pecapiku/TestPanic/x.json")
	assert.Assert(t, !exists)
}

func TestMemoShared(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	ft := &fakeT{name: "TestA"}
	Memo(ft, "corpus", func() (string, error) { return "words", nil }, WithFs(fsys), Shared())
	content, err := afero.ReadFile(fsys, "testdata/.pecapiku/corpus.json")
	assert.NilError(t, err)
	assert.Equal(t, string(content), "\"words\"\n")
	assert.DeepEqual(t, ft.logs, []string{"pecatest: recorded corpus (shared) in testdata/.pecapiku/corpus.json"})

	other := &fakeT{name: "TestB"}
	got := Memo(other, "corpus", func() (string, error) { panic("recorded already") }, WithFs(fsys), Shared())
	assert.Equal(t, got, "words")
}

func TestMemoOptions(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	ft := &fakeT{name: "TestOpts"}
	Memo(ft, "n", func() (int, error) { return 5, nil }, WithFs(fsys), WithDir("fixtures"), WithCodec(cache.Gob))
	exists, err := afero.Exists(fsys, "fixtures/TestOpts/n.gob")
	assert.NilError(t, err)
	assert.Assert(t, exists)
}

// TestMemoParallel has parallel subtests ask for one shared entry: fn runs
// once in the process, and each subtest gets a copy of its own.
func TestMemoParallel(t *testing.T) {
	clearAccess(t)
	for _, access := range []cache.Access{cache.ReadExecuteWrite, cache.ReadExecute, cache.Bypass, cache.Regenerate} {
		t.Run(access.String(), func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			var mu sync.Mutex
			runs := 0
			t.Run("group", func(t *testing.T) {
				for i := 0; i < 12; i++ {
					i := i
					t.Run(fmt.Sprint(i), func(t *testing.T) {
						t.Parallel()
						got := Memo(t, "shared", func() ([]int, error) {
							mu.Lock()
							runs++
							mu.Unlock()
							return []int{1, 2, 3}, nil
						}, WithFs(fsys), WithAccess(access), Shared())
						assert.DeepEqual(t, got, []int{1, 2, 3})
						got[0] = 100 + i // must not reach another subtest
					})
				}
			})
			assert.Equal(t, runs, 1)
		})
	}
}

// TestSubtestNamesStayInside runs subtests whose names try to leave the
// store and to collide, on a real directory.
func TestSubtestNamesStayInside(t *testing.T) {
	clearAccess(t)
	dir := t.TempDir()
	fsys := afero.NewBasePathFs(afero.NewOsFs(), dir)
	names := []string{"../../x", "a b", "a_b", "ünï", "..", "CON"}
	var testNames []string
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			testNames = append(testNames, t.Name())
			Memo(t, "v", func() (string, error) { return t.Name(), nil }, WithFs(fsys), WithAccess(cache.ReadExecuteWrite))
		})
	}
	var files []string
	assert.NilError(t, afero.Walk(afero.NewOsFs(), dir, func(p string, info iofs.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, strings.TrimPrefix(p, dir+"/"))
		}
		return err
	}))
	assert.Equal(t, len(files), len(names), "%q", files)
	for _, f := range files {
		assert.Assert(t, strings.HasPrefix(f, "testdata/.pecapiku/TestSubtestNamesStayInside/"), f)
	}
	// Each replays its own value.
	for _, name := range testNames {
		ft := &fakeT{name: name}
		got := Memo(ft, "v", func() (string, error) { panic("recorded") }, WithFs(fsys), WithAccess(cache.ReadOnly))
		assert.DeepEqual(t, ft.failures(), []string(nil))
		assert.Equal(t, got, name)
	}
}

func TestGolden(t *testing.T) {
	const path = "testdata/.pecapiku/TestPage/page.raw"
	const rerecord = `Record it again with: PECAPIKU_ACCESS=ew go test -run '^TestPage$' ./pecatest`
	for _, tc := range []struct {
		name     string
		access   string
		initial  string // "" for none
		got      string
		file     string
		logs     []string
		failures []string
	}{
		// A passing assertion is silent, as gotest.tools' are: a log line
		// would cost every matching Golden, -v or not.
		{name: "matches", access: "rew", initial: "<p>hi</p>\n", got: "<p>hi</p>\n", file: "<p>hi</p>\n"},
		{name: "differs", access: "r", initial: "<p>hi</p>\n", got: "<p>bye</p>\n", file: "<p>hi</p>\n",
			failures: []string{"pecatest: TestPage/page differs from its recording " + path + " (-recorded +got):\n"}},
		{name: "differs under rew", access: "rew", initial: "a\n", got: "b\n", file: "a\n",
			failures: []string{"pecatest: TestPage/page differs from its recording " + path + " (-recorded +got):\n"}},
		{name: "missing, recorded", access: "rew", got: "new\n", file: "new\n",
			logs: []string{"pecatest: recorded TestPage/page in " + path}},
		{name: "missing under r", access: "r", got: "new\n",
			failures: []string{`pecatest: TestPage/page is not recorded (` + path + ` does not exist) and access "r" (from PECAPIKU_ACCESS) forbids writing it.` + "\n" +
				`Record it with: PECAPIKU_ACCESS=rew go test -run '^TestPage$' ./pecatest`}},
		{name: "missing under re", access: "re", got: "new\n",
			failures: []string{`pecatest: TestPage/page is not recorded (` + path + ` does not exist) and access "re" (from PECAPIKU_ACCESS) forbids writing it.` + "\n" +
				`Record it with: PECAPIKU_ACCESS=rew go test -run '^TestPage$' ./pecatest`}},
		{name: "regenerate", access: "ew", initial: "old\n", got: "new\n", file: "new\n",
			logs: []string{"pecatest: recorded TestPage/page in " + path}},
		{name: "bypass", access: "e", initial: "old\n", got: "new\n", file: "old\n",
			logs: []string{`pecatest: TestPage/page is not compared: access "e" (from PECAPIKU_ACCESS) neither reads nor writes it`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			t.Setenv(cache.EnvAccess, tc.access)
			fsys := afero.NewMemMapFs()
			if tc.initial != "" {
				assert.NilError(t, afero.WriteFile(fsys, path, []byte(tc.initial), 0o644))
			}
			ft := &fakeT{name: "TestPage"}
			Golden(ft, "page", tc.got, WithFs(fsys))
			assert.DeepEqual(t, ft.logs, tc.logs)
			assert.Equal(t, len(ft.fatals), 0)
			assert.Equal(t, len(ft.errors), len(tc.failures), "%q", ft.errors)
			for i, want := range tc.failures {
				assert.Assert(t, strings.HasPrefix(ft.errors[i], want), "%q\ndoes not start with\n%q", ft.errors[i], want)
				if strings.Contains(want, "differs") {
					assert.Assert(t, strings.HasSuffix(ft.errors[i], rerecord), ft.errors[i])
					assert.Assert(t, strings.Contains(ft.errors[i], "-"), ft.errors[i])
				}
			}
			content, err := afero.ReadFile(fsys, path)
			if tc.file == "" {
				assert.Assert(t, errors.Is(err, iofs.ErrNotExist), "want no file, got %q", content)
			} else {
				assert.NilError(t, err)
				assert.Equal(t, string(content), tc.file)
			}
		})
	}
}

func TestGoldenValues(t *testing.T) {
	clearAccess(t)
	fsys := afero.NewMemMapFs()
	type point struct{ X, Y float64 }

	ft := &fakeT{name: "TestValues"}
	Golden(ft, "points", []point{{1, 2}, {3, 4}}, WithFs(fsys))
	Golden(ft, "bytes", []byte{0, 1, 2}, WithFs(fsys))
	assert.DeepEqual(t, ft.failures(), []string(nil))
	content, err := afero.ReadFile(fsys, "testdata/.pecapiku/TestValues/bytes.raw")
	assert.NilError(t, err)
	assert.DeepEqual(t, content, []byte{0, 1, 2})

	// A small difference fails without options and passes with the
	// caller's go-cmp options.
	ft = &fakeT{name: "TestValues"}
	Golden(ft, "points", []point{{1, 2.0000001}, {3, 4}}, WithFs(fsys), WithAccess(cache.ReadOnly))
	assert.Equal(t, len(ft.errors), 1)
	assert.Assert(t, strings.Contains(ft.errors[0], "Y: 2"), ft.errors[0])

	ft = &fakeT{name: "TestValues"}
	Golden(ft, "points", []point{{1, 2.0000001}, {3, 4}}, WithFs(fsys), WithAccess(cache.ReadOnly),
		WithCmpOptions(cmpopts.EquateApprox(0, 1e-3)))
	assert.DeepEqual(t, ft.failures(), []string(nil))

	// A value of another type than the recording is reported, not misread:
	// in the binary that recorded it as one that did not.
	ft = &fakeT{name: "TestValues"}
	Golden(ft, "points", map[string]int{"a": 1}, WithFs(fsys), WithAccess(cache.ReadOnly))
	assert.Equal(t, len(ft.errors), 1)
	assert.Assert(t, strings.HasPrefix(ft.errors[0],
		"pecatest: TestValues/points is a map[string]int here, at pecatest_test.go:"), ft.errors[0])
	copied := afero.NewMemMapFs()
	data, err := afero.ReadFile(fsys, "testdata/.pecapiku/TestValues/points.json")
	assert.NilError(t, err)
	assert.NilError(t, afero.WriteFile(copied, "testdata/.pecapiku/TestValues/points.json", data, 0o644))
	ft = &fakeT{name: "TestValues"}
	Golden(ft, "points", map[string]int{"a": 1}, WithFs(copied), WithAccess(cache.ReadOnly))
	assert.Equal(t, len(ft.errors), 1)
	assert.Assert(t, strings.HasPrefix(ft.errors[0],
		"pecatest: TestValues/points: testdata/.pecapiku/TestValues/points.json cannot be decoded with the json codec: at the top level: cannot decode a JSON array into map[string]int"), ft.errors[0])

	// NaN cannot be stored as JSON: the failure says so and nothing is written.
	ft = &fakeT{name: "TestValues"}
	Golden(ft, "nan", math.NaN(), WithFs(fsys))
	assert.Equal(t, len(ft.errors), 1)
	assert.Assert(t, strings.Contains(ft.errors[0], "unsupported value: NaN; JSON has no NaN or infinity: store such values with the gob codec (cache.Gob)"), ft.errors[0])
}

func TestResolveAccess(t *testing.T) {
	for _, tc := range []struct {
		name        string
		option      cache.Access
		flag        string
		env, ci     string
		want        cache.Access
		wantSource  source
		errContains string
	}{
		{name: "default", want: cache.ReadExecuteWrite, wantSource: fromDefault},
		{name: "CI", ci: "true", want: cache.ReadOnly, wantSource: fromCI},
		{name: "CI=1", ci: "1", want: cache.ReadOnly, wantSource: fromCI},
		{name: "CI=false", ci: "false", want: cache.ReadExecuteWrite, wantSource: fromDefault},
		{name: "CI=garbage", ci: "maybe", want: cache.ReadExecuteWrite, wantSource: fromDefault},
		{name: "environment beats CI", env: "ew", ci: "true", want: cache.Regenerate, wantSource: fromEnv},
		{name: "flag beats environment", flag: "e", env: "ew", ci: "true", want: cache.Bypass, wantSource: fromFlag},
		{name: "option beats flag", option: cache.ReadExecute, flag: "e", env: "ew", want: cache.ReadExecute, wantSource: fromOption},
		{name: "invalid environment", env: "x", errContains: `PECAPIKU_ACCESS="x": cache: invalid access "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clearAccess(t)
			t.Setenv(cache.EnvAccess, tc.env)
			t.Setenv(EnvCI, tc.ci)
			if tc.flag != "" {
				assert.NilError(t, theFlag.Set(tc.flag))
			}
			got, src, err := resolveAccess(tc.option)
			if tc.errContains != "" {
				assert.ErrorContains(t, err, tc.errContains)
				return
			}
			assert.NilError(t, err)
			assert.Equal(t, got, tc.want)
			assert.Equal(t, src, tc.wantSource)
		})
	}
}

func TestAccessFlag(t *testing.T) {
	var f accessFlag
	assert.Equal(t, f.String(), "")
	err := f.Set("rr")
	assert.ErrorContains(t, err, `cache: invalid access "rr": the letter 'r' is repeated; valid access is`)
	assert.Assert(t, !f.set)
	assert.NilError(t, f.Set("we"))
	assert.Equal(t, f.String(), "ew")
}

// TestFlagDefinedElsewhere covers a -pecapiku.access flag that another
// package defined first: registering again must not panic, and its value is
// honoured and validated.
func TestFlagDefinedElsewhere(t *testing.T) {
	clearAccess(t)
	saved := flag.CommandLine
	t.Cleanup(func() { flag.CommandLine = saved })
	flag.CommandLine = flag.NewFlagSet("other", flag.ContinueOnError)
	value := flag.String(FlagName, "", "defined by someone else")
	registerFlag() // must not panic

	got, src, err := resolveAccess(0)
	assert.NilError(t, err)
	assert.Equal(t, got, cache.ReadExecuteWrite, "an unset flag is no access")
	assert.Equal(t, src, fromDefault)

	*value = "we"
	got, src, err = resolveAccess(0)
	assert.NilError(t, err)
	assert.Equal(t, got, cache.Regenerate)
	assert.Equal(t, src, fromFlag)

	*value = "wr"
	_, _, err = resolveAccess(0)
	assert.ErrorContains(t, err, `-pecapiku.access="wr": cache: invalid access "wr": w without e`)
}

func TestRunPattern(t *testing.T) {
	for name, want := range map[string]string{
		"TestReport":               "^TestReport$",
		"TestReport/case_1":        "^TestReport$/^case_1$",
		"TestReport/a(b)/#00":      `^TestReport$/^a\(b\)$/^#00$`,
		"TestX/it's":               "^TestX$/^it's$",
		"TestX/.._.._x":            `^TestX$/^\.\._\.\._x$`,
		"TestX/with+plus*and?more": `^TestX$/^with\+plus\*and\?more$`,
	} {
		assert.Equal(t, runPattern(name), want)
	}
	assert.Equal(t, shellQuote("^TestX$/^it's$"), `'^TestX$/^it'\''s$'`)
	assert.Equal(t, packageDir(), "./pecatest")
}

// TestAnchoredAtStart: paths are taken from the package directory, even
// after the test changes its working directory.
func TestAnchoredAtStart(t *testing.T) {
	orig, err := os.Getwd()
	assert.NilError(t, err)
	t.Chdir(t.TempDir())
	c := &call{}
	abs, err := c.abs("testdata/x.json")
	assert.NilError(t, err)
	assert.Equal(t, abs, filepath.Join(orig, "testdata/x.json"))
	assert.Equal(t, display(abs), filepath.Join("testdata", "x.json"))
	assert.Equal(t, packageDir(), "./pecatest")
}

// TestDisplay: messages show a file below the package directory relative
// to it, however its path is written, and any other file as it is.
func TestDisplay(t *testing.T) {
	outside := filepath.Dir(startDir)
	for path, want := range map[string]string{
		filepath.Join(startDir, "testdata", "x.json"):                filepath.Join("testdata", "x.json"),
		startDir + "/testdata/../testdata/x.json":                    filepath.Join("testdata", "x.json"),
		outside + "/other/../" + filepath.Base(startDir) + "/x.json": "x.json",
		filepath.Join(outside, "x.json"):                             filepath.Join(outside, "x.json"),
		filepath.Join(startDir+"-other", "x.json"):                   filepath.Join(startDir+"-other", "x.json"),
		startDir:                            ".",
		startDir + "/testdata/../../x.json": startDir + "/testdata/../../x.json",
		"testdata/x.json":                   "testdata/x.json",
	} {
		assert.Equal(t, display(path), want, "display(%q)", path)
	}
	// A path that differs from the directory in case only is below it
	// where case is ignored in paths, as filepath.Rel ignores it.
	upper := filepath.Join(strings.ToUpper(startDir), "x.json")
	want := upper
	if runtime.GOOS == "windows" && upper != filepath.Join(startDir, "x.json") {
		want = "x.json"
	}
	assert.Equal(t, display(upper), want)
}

// TestMemoCopiesFnsValue: the caller whose Memo computed the value gets a
// copy of its own too, not the memory fn returned.
func TestMemoCopiesFnsValue(t *testing.T) {
	clearAccess(t)
	base := []int{1, 2, 3}
	dir := filepath.Join(t.TempDir(), "store")
	got := Memo(&fakeT{name: "TestCopy"}, "x", func() ([]int, error) { return base, nil }, WithDir(dir), WithAccess(cache.ReadExecuteWrite))
	got[0] = 99
	assert.Equal(t, base[0], 1, "changing what Memo returned changed the slice fn returned")
}

// TestOsStores: calls on the real filesystem share the store of a
// directory, access and codec, the last eight such; each call still gets
// the events of its own store view.
func TestOsStores(t *testing.T) {
	dirs := make([]string, osStoresMax+1)
	for i := range dirs {
		dirs[i] = filepath.Join(t.TempDir(), DefaultDir)
	}
	get := func(dir string, a cache.Access, codec cache.Codec) *cache.Store {
		t.Helper()
		s, err := osStore(dir, a, codec)
		assert.NilError(t, err)
		assert.Equal(t, s.Dir(), dir)
		assert.Equal(t, s.Access(), a)
		assert.Equal(t, s.Codec(), codec)
		return s
	}
	first := get(dirs[0], cache.ReadOnly, cache.JSON)
	assert.Assert(t, get(dirs[0], cache.ReadOnly, cache.JSON) == first)
	written := get(dirs[0], cache.ReadExecuteWrite, cache.JSON)
	assert.Assert(t, written != first)
	raw := get(dirs[0], cache.ReadOnly, cache.Raw)
	assert.Assert(t, raw != first)
	other := codecWithExt{cache.JSON}
	mine := get(dirs[0], cache.ReadOnly, other)
	assert.Assert(t, get(dirs[0], cache.ReadOnly, other) != mine, "a codec of another package was given a shared store")

	// Five more fill the list; first, used again, goes to its front, and
	// the next new one makes room with the one used least lately: written.
	for _, dir := range dirs[1 : osStoresMax-2] {
		get(dir, cache.ReadOnly, cache.JSON)
	}
	assert.Assert(t, get(dirs[0], cache.ReadOnly, cache.JSON) == first)
	get(dirs[osStoresMax], cache.ReadOnly, cache.JSON)
	assert.Assert(t, get(dirs[0], cache.ReadOnly, cache.JSON) == first)
	assert.Assert(t, get(dirs[0], cache.ReadOnly, cache.Raw) == raw)
	assert.Assert(t, get(dirs[0], cache.ReadExecuteWrite, cache.JSON) != written, "the store used least lately was kept")

	// Two calls on one store, each told its own events.
	clearAccess(t)
	dir := dirs[0]
	a := &fakeT{name: "TestA"}
	b := &fakeT{name: "TestB"}
	Memo(a, "x", func() (int, error) { return 1, nil }, WithDir(dir), WithAccess(cache.ReadExecuteWrite))
	Memo(b, "x", func() (int, error) { return 2, nil }, WithDir(dir), WithAccess(cache.ReadExecuteWrite))
	Memo(a, "y", func() (int, error) { return 3, nil }, WithDir(dir), WithAccess(cache.ReadExecuteWrite))
	assert.Equal(t, len(a.logs), 2, "%q", a.logs)
	assert.Equal(t, len(b.logs), 1, "%q", b.logs)
	assert.Assert(t, strings.Contains(b.logs[0], "TestB/x"), "%q", b.logs)
}

// codecWithExt is a codec of another package than cache.
type codecWithExt struct{ cache.Codec }

// TestNilCodec: WithCodec(nil) is the default codec, as if it were not given.
func TestNilCodec(t *testing.T) {
	clearAccess(t)
	dir := filepath.Join(t.TempDir(), "store")
	ft := &fakeT{name: "TestNil"}
	Memo(ft, "x", func() (int, error) { return 1, nil }, WithDir(dir), WithCodec(nil), WithAccess(cache.ReadExecuteWrite))
	Golden(ft, "page", "text\n", WithDir(dir), WithCodec(nil), WithAccess(cache.ReadExecuteWrite))
	Memo(ft, "y", func() (int, error) { return 1, nil }, WithFs(afero.NewMemMapFs()), WithCodec(nil), WithAccess(cache.ReadExecuteWrite))
	assert.DeepEqual(t, ft.failures(), []string(nil))
	for _, name := range []string{"x.json", "page.raw"} {
		_, err := os.Stat(filepath.Join(dir, "TestNil", name))
		assert.NilError(t, err)
	}
}
