package main

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pecapiku/pecapiku/internal/scripttest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"pecapiku": main})
}

// TestScripts runs the scripts in testdata/script, which call pecapiku in
// this test binary. The scripts of prune run the real go test on small
// modules pointed at this working tree with a replace directive; they build
// offline, from the module cache this test runs with, and are skipped with
// -short.
func TestScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireUniqueNames:  true,
		RequireExplicitExec: true,
		Condition: func(cond string) (bool, error) {
			if cond == "short" {
				return testing.Short(), nil
			}
			return false, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"age":    cmdAge,
			"mkgob":  cmdMkgob,
			"mkfifo": cmdMkfifo,
			"sparse": cmdSparse,
		},
		Setup: scripttest.Setup(t, root),
	})
}

// cmdAge sets the modification time of files to a duration ago, or to a
// time in RFC 3339:
//
//	age 72h testdata/.pecapiku/TestA/x.json ...
//	age 2026-01-02T03:04:05Z testdata/.pecapiku/TestA/x.json ...
func cmdAge(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: age DURATION|TIME FILE...")
	}
	when, err := time.Parse(time.RFC3339, args[0])
	if err != nil {
		d, err := time.ParseDuration(args[0])
		ts.Check(err)
		when = time.Now().Add(-d)
	}
	for _, f := range args[1:] {
		ts.Check(os.Chtimes(ts.MkAbs(f), when, when))
	}
}

// Station is the value of the gob entries of the scripts.
type Station struct {
	Name     string
	Rainfall []float64
	Measured time.Time
}

// Nest is a value as deep as it is built.
type Nest struct {
	Next *Nest
	Leaf string
}

// cmdMkgob writes a gob entry, whole or damaged, for the scripts:
//
//	mkgob station|cut|junk|irregular|deep FILE
//
// station is a Station; cut the same, 5 bytes short; junk the same with a
// byte after it; irregular the int 42 with two bytes left over in its
// message, which gob's Decoder ignores; deep a Nest 9,000 levels deep.
func cmdMkgob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkgob station|cut|junk|irregular|deep FILE")
	}
	var b bytes.Buffer
	ts.Check(gob.NewEncoder(&b).Encode(Station{
		Name:     "Bergen",
		Rainfall: []float64{190.5, 153},
		Measured: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
	}))
	data := b.Bytes()
	switch args[0] {
	case "deep":
		b.Reset()
		deep := &Nest{Leaf: "bottom"}
		for i := 0; i < 9000; i++ {
			deep = &Nest{Next: deep}
		}
		ts.Check(gob.NewEncoder(&b).Encode(deep))
		data = b.Bytes()
	case "station":
	case "cut":
		data = data[:len(data)-5]
	case "junk":
		data = append(data, 0x01)
	case "irregular":
		data = []byte{0x05, 0x04, 0x00, 0x54, 0x00, 0x00}
	default:
		ts.Fatalf("mkgob: unknown kind %q", args[0])
	}
	path := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o755))
	ts.Check(os.WriteFile(path, data, 0o644))
}

// cmdMkfifo makes a named pipe, which no one writes to:
//
//	mkfifo FILE
func cmdMkfifo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkfifo FILE")
	}
	path := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o755))
	ts.Check(syscall.Mkfifo(path, 0o644))
}

// cmdSparse makes a sparse file of SIZE bytes, which takes no room on disk:
//
//	sparse SIZE FILE
func cmdSparse(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sparse SIZE FILE")
	}
	size, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	path := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o755))
	f, err := os.Create(path)
	ts.Check(err)
	ts.Check(f.Truncate(size))
	ts.Check(f.Close())
}
