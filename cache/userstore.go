package cache

import (
	"fmt"
	"os"
	"path/filepath"
)

// EnvDir is the environment variable that overrides the directory under
// which [NewUserStore] puts its stores.
const EnvDir = "PECAPIKU_DIR"

// UserDir returns the directory under which [NewUserStore] resolves relative
// paths: the value of PECAPIKU_DIR when it is set and not empty, else
// "pecapiku" in the user's cache directory ([os.UserCacheDir]: on Linux
// $XDG_CACHE_HOME or ~/.cache, on macOS ~/Library/Caches, on Windows
// %LocalAppData%). It touches nothing on disk.
func UserDir() (string, error) {
	if dir := os.Getenv(EnvDir); dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cache: no directory for stores: %w; set %s to the directory to keep them in", err, EnvDir)
	}
	return filepath.Join(base, "pecapiku"), nil
}

// NewUserStore returns the store at path for a program, as [NewStore] does:
// an absolute path is used as it is, and a relative one (or "", for the
// directory itself) is resolved under [UserDir], so that
// NewUserStore("embeddings") is ~/.cache/pecapiku/embeddings on Linux unless
// PECAPIKU_DIR says otherwise. Its access comes from [WithAccess], else from
// PECAPIKU_ACCESS, else it is rew. It touches nothing on disk.
func NewUserStore(path string, opts ...Option) (*Store, error) {
	if !filepath.IsAbs(path) {
		dir, err := UserDir()
		if err != nil {
			return nil, fmt.Errorf("cache: store %s: %w", path, err)
		}
		path = filepath.Join(dir, path)
	}
	return NewStore(path, opts...)
}
