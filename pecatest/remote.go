package pecatest

import (
	"path"
	"path/filepath"

	"github.com/spf13/afero"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/internal/remote"
)

// storeFs returns where the entries of a call without [WithFs] live: the
// filesystem, the directory on it, and the text that messages put before a
// path on it ("" for the local disk). A relative dir on the local disk is
// taken from the package directory (see startDir), not from the working
// directory of the moment.
//
// When PECAPIKU_STORE names a shared store (see [cache.EnvStore]) and dir is
// relative, the entries are on that store, in the directory that dir would
// be in a checkout of the module, under the module's path:
// s3://bucket/prefix/github.com/acme/app/report/testdata/.pecapiku/... for
// the package ./report of module github.com/acme/app. Packages and modules
// that share a bucket thus never share an entry by accident. A filesystem
// that is a [cache.StoreIndexer] is told where the store is. An absolute dir
// (a t.TempDir(), say) names a place on this machine and stays local.
func storeFs(dir string) (fsys afero.Fs, storeDir, location string, err error) {
	if filepath.IsAbs(dir) {
		return osFs, dir, "", nil
	}
	fsys, ok, err := cache.FsFromEnv()
	if err != nil || !ok {
		if startDirErr != nil {
			return osFs, dir, "", err
		}
		return osFs, filepath.Join(startDir, dir), "", err
	}
	storeDir = path.Join(moduleNamespace(), filepath.ToSlash(dir))
	if ix, ok := fsys.(cache.StoreIndexer); ok {
		ix.IndexStore(storeDir)
	}
	return fsys, storeDir, remote.Location() + "/", nil
}

// moduleNamespace returns the directory of the package under test on a
// shared store, "github.com/acme/app/report"; see [remote.Namespace].
func moduleNamespace() string {
	if startDirErr != nil {
		return remote.Outside
	}
	return remote.Namespace(startDir)
}
