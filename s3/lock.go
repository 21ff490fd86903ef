package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/pecapiku/pecapiku/cache"
)

var (
	_ cache.EntryLocker = (*Fs)(nil)
	_ cache.LockSweeper = (*Fs)(nil)
)

// LockEntry takes the lock of the entry whose file is name, for
// [cache.Do]: it creates the object ".<base>.lock" next to it with
// If-None-Match: *, and while another process holds that lock it waits,
// polling every 50 ms to 1 s. It returns once the lock is held, or at once,
// with a function that does nothing, when the service refuses conditional
// writes (501 Not Implemented, or any other refusal but a denied access or
// a missing bucket).
//
// The returned function deletes the lock. Until then a goroutine rewrites it
// every third of the lease ([WithLockLease]); a lock that was not rewritten
// for a whole lease, measured by the server's clock, was left by a process
// that stopped, and is deleted and taken.
func (f *Fs) LockEntry(name string) (unlock func(), err error) {
	f.mu.Lock()
	noLocks := f.noLocks
	f.mu.Unlock()
	if noLocks {
		return func() {}, nil
	}
	r := rel(name)
	lockRel := path.Join(path.Dir(r), "."+path.Base(r)+lockSuffix)
	key := f.key(lockRel)
	body := []byte(fmt.Sprintf("pecapiku lock of %s, held by process %d on %s since %s\n",
		f.key(r), os.Getpid(), hostname(), time.Now().UTC().Format(time.RFC3339)))
	wait := 50 * time.Millisecond
	for {
		err := f.putObject(lockRel, body, true)
		switch {
		case err == nil:
			return f.holdLock(lockRel, body), nil
		case errors.Is(err, cache.ErrUnavailable) || errors.Is(err, ErrAccessDenied) || errors.Is(err, ErrNoSuchBucket):
			return nil, err
		case !errors.Is(err, errPrecondition):
			// 501 Not Implemented, or another refusal of If-None-Match:
			// this service has no conditional writes, so no locks.
			f.mu.Lock()
			f.noLocks = true
			f.mu.Unlock()
			return func() {}, nil
		}
		stale, err := f.lockIsStale(key)
		if err != nil {
			return nil, err
		}
		if stale {
			if err := f.deleteObject(key); err != nil {
				return nil, err
			}
			continue
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

// holdLock rewrites the lock lockRel every third of the lease until the
// returned function stops it and deletes the lock.
func (f *Fs) holdLock(lockRel string, body []byte) (unlock func()) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(f.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				_ = f.putObject(lockRel, body, false) // a missed beat only shortens the lease
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			_ = f.deleteObject(f.key(lockRel)) // a lock left behind goes stale after a lease
		})
	}
}

// lockIsStale reports whether the lock key was last written more than a
// lease ago by the server's clock (its Date header), or is gone.
func (f *Fs) lockIsStale(key string) (bool, error) {
	if err := f.skip("HeadObject", key); err != nil {
		return false, err
	}
	out, err := f.client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: &f.bucket, Key: &key})
	if err != nil {
		err = f.fail("HeadObject", key, err)
		if errors.Is(err, os.ErrNotExist) {
			return false, nil // released meanwhile: try again at once
		}
		return false, err
	}
	now := serverTime(out.ResultMetadata)
	return now.Sub(aws.ToTime(out.LastModified)) > f.lease, nil
}

// lockSuffix ends the name of a lock object, ".<entry>.lock".
const lockSuffix = ".lock"

// isLock reports whether the base name of an object is that of a lock.
func isLock(base string) bool {
	return strings.HasPrefix(base, ".") && strings.HasSuffix(base, lockSuffix) && len(base) > len("."+lockSuffix)
}

// StaleLocks returns the lock objects under the directory dir (see
// [Fs.LockEntry]) that were not rewritten for a whole lease by the server's
// clock: the locks of processes that stopped while they held them, which
// the next process that needs the entry would take over. It sends one
// listing request per thousand objects under dir, and makes Fs a
// [cache.LockSweeper], so that [cache.Store.StaleLocks] lists them and the
// pecapiku command's prune removes them.
//
// A lock is judged as [Fs.LockEntry] judges it before a takeover; between
// the listing and a removal, another process may take the lock over and
// hold it anew, and removing that one lets a third process compute the
// entry too, which costs time and nothing else.
func (f *Fs) StaleLocks(dir string) ([]string, error) {
	p := f.dirPrefix(rel(dir))
	if err := f.skip("ListObjectsV2", p); err != nil {
		return nil, err
	}
	var locks []string
	pages := awss3.NewListObjectsV2Paginator(f.client, &awss3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: &p})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			return nil, f.fail("ListObjectsV2", p, err)
		}
		now := serverTime(page.ResultMetadata)
		for _, obj := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(obj.Key), p)
			if isLock(path.Base(name)) && now.Sub(aws.ToTime(obj.LastModified)) > f.lease {
				locks = append(locks, filepath.Join(dir, filepath.FromSlash(name)))
			}
		}
	}
	sort.Strings(locks)
	return locks, nil
}

// serverTime returns the Date of the response, or the local time when it
// has none.
func serverTime(md middleware.Metadata) time.Time {
	if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			return t
		}
	}
	return time.Now()
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return "an unknown host"
	}
	return h
}
