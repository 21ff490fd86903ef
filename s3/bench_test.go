package s3_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/afero"
	"gotest.tools/v3/assert"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/s3"
)

// benchValue is a typical recorded value: about 12 KB of JSON.
func benchValue() record {
	r := record{Name: "stations", Score: 0.25, Attrs: map[string]int{}}
	for i := range 300 {
		r.Tags = append(r.Tags, fmt.Sprintf("station-%04d", i))
		r.Attrs[fmt.Sprintf("k%03d", i)] = i
	}
	return r
}

func mustNotRun() (record, error) { return record{}, errors.New("must not run") }

// hit benchmarks Do on a store whose entry is recorded.
func hit(b *testing.B, fsys afero.Fs, dir string) {
	store, err := cache.NewStore(dir, cache.WithFs(fsys), cache.WithAccess(cache.ReadOnly))
	assert.NilError(b, err)
	b.ResetTimer()
	for range b.N {
		if _, err := cache.Do(store, "entry", mustNotRun); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHit compares a hit served by the local copy of a bucket with a
// hit of a store on the local disk.
func BenchmarkHit(b *testing.B) {
	value := benchValue()
	b.Run("local-store", func(b *testing.B) {
		dir := b.TempDir()
		store, err := cache.NewStore(dir, cache.WithAccess(cache.Regenerate))
		assert.NilError(b, err)
		assert.NilError(b, store.Write("entry", value))
		hit(b, afero.NewOsFs(), dir)
	})
	b.Run("read-through-copy", func(b *testing.B) {
		remote, count := newFs(b)
		rt := s3.NewReadThrough(remote, afero.NewBasePathFs(afero.NewOsFs(), b.TempDir()))
		store, err := cache.NewStore("entries", cache.WithFs(rt), cache.WithAccess(cache.Regenerate))
		assert.NilError(b, err)
		assert.NilError(b, store.Write("entry", value))
		ro, err := cache.NewStore("entries", cache.WithFs(rt), cache.WithAccess(cache.ReadOnly))
		assert.NilError(b, err)
		_, err = cache.Do(ro, "entry", mustNotRun) // the one listing of the process
		assert.NilError(b, err)
		count.take()
		hit(b, rt, "entries")
		b.StopTimer()
		assert.Equal(b, count.total(), 0, "every hit is local")
	})
}

// BenchmarkFirstHit compares the first hit of an entry from the bucket (no
// local copy yet, in a new process: a listing, then a GET) with a plain GET
// of the same object, and reports their ratio.
func BenchmarkFirstHit(b *testing.B) {
	remote, _ := newFs(b)
	store, err := cache.NewStore("entries", cache.WithFs(remote), cache.WithAccess(cache.Regenerate))
	assert.NilError(b, err)
	assert.NilError(b, store.Write("entry", benchValue()))
	key := remote.Key("entries/entry.json")
	rawGet := func() {
		out, err := remote.Client().GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(remote.Bucket()), Key: &key})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, out.Body); err != nil {
			b.Fatal(err)
		}
		out.Body.Close()
	}
	local := afero.NewBasePathFs(afero.NewOsFs(), b.TempDir())
	firstHit := func() {
		rt := s3.NewReadThrough(remote, local)
		store, err := cache.NewStore("entries", cache.WithFs(rt), cache.WithAccess(cache.ReadOnly))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cache.Do(store, "entry", mustNotRun); err != nil {
			b.Fatal(err)
		}
	}
	var getTime, hitTime time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		rawGet()
		t1 := time.Now()
		firstHit()
		hitTime += time.Since(t1)
		getTime += t1.Sub(t0)
		copies, err := afero.Glob(local, "entries/entry.json@*")
		if err != nil || len(copies) != 1 {
			b.Fatalf("the local copies: %v, %v", copies, err)
		}
		if err := local.Remove(copies[0]); err != nil { // the next hit is a first one again
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(getTime.Nanoseconds())/float64(b.N), "get-ns/op")
	b.ReportMetric(float64(hitTime.Nanoseconds())/float64(b.N), "first-hit-ns/op")
	b.ReportMetric(float64(hitTime)/float64(getTime), "hit/get")
}
