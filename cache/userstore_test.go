package cache_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
)

func TestNewUserStore(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("testdata", "elsewhere"))
	assert.NilError(t, err)
	t.Setenv(cache.EnvAccess, "")

	t.Run("PECAPIKU_DIR", func(t *testing.T) {
		t.Setenv(cache.EnvDir, filepath.FromSlash("/srv/pecapiku"))
		for _, tc := range []struct{ path, want string }{
			{"embeddings", "/srv/pecapiku/embeddings"},
			{"a/b", "/srv/pecapiku/a/b"},
			{"", "/srv/pecapiku"},
			{abs, abs},
		} {
			store, err := cache.NewUserStore(tc.path)
			assert.NilError(t, err)
			assert.Equal(t, store.Dir(), filepath.FromSlash(tc.want))
			assert.Equal(t, store.Access(), cache.ReadExecuteWrite)
		}
	})
	t.Run("user cache dir", func(t *testing.T) {
		t.Setenv(cache.EnvDir, "")
		if runtime.GOOS == "linux" {
			t.Setenv("XDG_CACHE_HOME", "/xdg")
		}
		base, err := os.UserCacheDir()
		assert.NilError(t, err)
		dir, err := cache.UserDir()
		assert.NilError(t, err)
		assert.Equal(t, dir, filepath.Join(base, "pecapiku"))
		store, err := cache.NewUserStore("embeddings")
		assert.NilError(t, err)
		assert.Equal(t, store.Dir(), filepath.Join(base, "pecapiku", "embeddings"))
	})
	t.Run("no user cache dir", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("how to unset the user cache directory differs by platform")
		}
		t.Setenv(cache.EnvDir, "")
		t.Setenv("XDG_CACHE_HOME", "")
		t.Setenv("HOME", "")
		_, err := cache.NewUserStore("embeddings")
		assert.ErrorContains(t, err, "cache: store embeddings: cache: no directory for stores: ")
		assert.ErrorContains(t, err, "; set PECAPIKU_DIR to the directory to keep them in")
		store, err := cache.NewUserStore(abs)
		assert.NilError(t, err, "an absolute path needs no user directory")
		assert.Equal(t, store.Dir(), abs)
	})
	t.Run("access", func(t *testing.T) {
		t.Setenv(cache.EnvDir, "/srv")
		t.Setenv(cache.EnvAccess, "r")
		store, err := cache.NewUserStore("x")
		assert.NilError(t, err)
		assert.Equal(t, store.Access(), cache.ReadOnly)
		store, err = cache.NewUserStore("x", cache.WithAccess(cache.Regenerate))
		assert.NilError(t, err)
		assert.Equal(t, store.Access(), cache.Regenerate)
		t.Setenv(cache.EnvAccess, "wr")
		_, err = cache.NewUserStore("x")
		assert.Assert(t, errors.Is(err, cache.ErrInvalidAccess))
	})
}
