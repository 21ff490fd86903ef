// Modzip puts one version of a module, from a directory, into a module proxy
// laid out on disk (GOPROXY=file:///dir), as the Go module proxy would serve
// it after the version's tag is pushed: the .info, .mod and .zip files
// under <module path>/@v/, and the version added to its list. The release
// rehearsal of .ci/release runs it for both modules of the repository.
//
//	go run . -dir DIR -module PATH -version vX.Y.Z -proxy PROXYDIR
//
// The zip is made by golang.org/x/mod/zip, the package the go command
// itself uses, so it leaves out what a published version leaves out: nested
// modules (directories with their own go.mod), vendor directories and
// version control metadata; and it refuses what the proxy would refuse,
// such as file names a module cannot hold.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	dir := flag.String("dir", "", "the module's directory, with its go.mod")
	modPath := flag.String("module", "", "the module path")
	version := flag.String("version", "", "the version to publish, vX.Y.Z")
	proxy := flag.String("proxy", "", "the proxy's directory")
	flag.Parse()
	if *dir == "" || *modPath == "" || *version == "" || *proxy == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := publish(*dir, module.Version{Path: *modPath, Version: *version}, *proxy); err != nil {
		fmt.Fprintf(os.Stderr, "modzip: %s@%s: %v\n", *modPath, *version, err)
		os.Exit(1)
	}
}

// publish writes the files of m, made from dir, into the proxy directory.
func publish(dir string, m module.Version, proxy string) error {
	if err := module.Check(m.Path, m.Version); err != nil {
		return err
	}
	escaped, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(proxy, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	escVersion, err := module.EscapeVersion(m.Version)
	if err != nil {
		return err
	}
	base := filepath.Join(vdir, escVersion)

	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".mod", gomod, 0o644); err != nil {
		return err
	}

	z, err := os.Create(base + ".zip")
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(z, m, dir); err != nil {
		z.Close()
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}

	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{m.Version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if err := os.WriteFile(base+".info", info, 0o644); err != nil {
		return err
	}

	list := filepath.Join(vdir, "list")
	old, err := os.ReadFile(list)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	versions := strings.Fields(string(old))
	if !slices.Contains(versions, m.Version) {
		versions = append(versions, m.Version)
	}
	return os.WriteFile(list, []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}
