// Package s3 puts pecapiku stores on an S3 bucket, so that every CI runner
// and every laptop of a team shares one store: an [afero.Fs] over the objects
// under a prefix of a bucket ([New]), a local read-through copy of what it
// reads ([NewReadThrough]), and the "s3" scheme of PECAPIKU_STORE.
//
// It works with AWS S3 and with any S3-compatible service (MinIO, Ceph RGW,
// SeaweedFS, the Versity gateway, ...), configured like every AWS SDK: the
// endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, the region from
// AWS_REGION, the credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, or all of them from the shared configuration files
// and AWS_PROFILE.
//
// # PECAPIKU_STORE
//
// A blank import registers the scheme with package cache:
//
//	import _ "github.com/pecapiku/pecapiku/s3"
//
// and then PECAPIKU_STORE=s3://bucket/prefix puts every store made without
// a filesystem option there: pecatest's fixtures, under the module path and
// the package's directory, and cache.NewStore's directories, under the
// prefix. Entries read from the bucket are kept in a local copy under the
// user's cache directory (os.UserCacheDir()/pecapiku/s3/<endpoint host>/<bucket>/<prefix>);
// the URL's query changes that: ?local=/some/dir, or ?local=off for none.
// The copy is revalidated against the bucket once per process ([ReadThrough]).
//
// The URL's other settings: timeout=10s and attempts=3 ([WithTimeout],
// [WithAttempts]), prefetch=8 ([WithPrefetch]), lease=30s
// ([WithLockLease]) and base (see Branches below), given as
// ?timeout=5s&attempts=1, for instance. An unknown setting is an error.
//
// # Branches
//
// With base=PREFIX, the URL names a [Branch]: the URL's own prefix, where
// everything the store writes goes, over the base's prefix of the same
// bucket, which it reads through to and never changes. A team gives each
// branch of its code a prefix of its own over main's:
//
//	PECAPIKU_STORE=s3://bucket/branches/$BRANCH?base=branches/main
//
// so that an ew run on a branch changes what that branch replays, and
// nothing that main or another branch replays. On main, whose prefix is
// the base, the URL names main's store alone. [Branch.Promote] moves a
// merged branch's recordings into the base; [Branch.Discard] drops an
// abandoned branch's. A branch's local copy is its base's.
//
// # Atomicity
//
// An object appears whole or not at all: S3 makes an object visible only
// once the request that writes it is complete. [Fs] is an
// [fs.AtomicWriter], so [fs.WriteAtomic], and so every store, writes an
// entry with one PUT, or with a multipart upload when it is larger than
// [PartSize], which S3 assembles into the object only when the last part
// is in; a process that stops before leaves nothing in the bucket. Two
// machines writing one key leave the value of the last write.
//
// Other files are uploaded when they are closed. Renaming an object copies
// it on the server (CopyObject, up to 5 GiB) and deletes the old key: two
// requests, and for a moment both keys exist. Directories are implicit, as
// in every S3 listing: Mkdir does nothing, and a directory exists while some
// key is under it.
//
// # Executing once across machines
//
// [Fs] is a [cache.EntryLocker]: with access rew, a process that misses an
// entry creates a lock object next to it (".<name>.lock") with a
// conditional PUT (If-None-Match: *), which fails for every other process
// until the first one has stored the value and deleted the lock. The others
// wait, then read the stored value instead of executing. The holder rewrites
// the lock every third of the lease (30 s by default, [WithLockLease]); a
// lock not rewritten for a lease was left by a process that stopped, and is
// taken over. AWS S3 (since August 2024), MinIO and the Versity gateway
// support conditional writes; this module's tests check the gateway. Where a
// service rejects them (501 Not Implemented) every process executes and the
// last write wins; a service that ignores the header gives every process
// the lock, with the same result.
//
// # Errors
//
// A failed request is an [*Error] naming the operation, the bucket and the
// key. One that means the store cannot be reached (the server is down, did
// not answer within [WithTimeout] after [WithAttempts] attempts, or
// answered 5xx each time) wraps [cache.ErrUnavailable]: with e granted,
// cache.Do executes the function instead and does not store its value.
// The filesystem remembers it: for the rest of the process every later
// request fails at once with the same cause, without being sent, so that a
// store that is down costs one timeout per process rather than one per
// entry. Wrong credentials wrap [ErrAccessDenied], and a missing bucket
// [ErrNoSuchBucket]: they are configuration mistakes and fail whatever the
// access.
package s3

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/afero"
	"github.com/spf13/afero/mem"

	"github.com/pecapiku/pecapiku/cache"
	"github.com/pecapiku/pecapiku/fs"
)

func init() { cache.RegisterScheme("s3", openURL) }

// Fs is an [afero.Fs] over the objects under a prefix of an S3 bucket: the
// file "a/b.json" is the object <prefix>/a/b.json. Its methods are safe for
// concurrent use. See the package documentation for what it guarantees.
type Fs struct {
	client   *awss3.Client
	uploads  *transfermanager.Client
	bucket   string
	prefix   string // without a trailing "/"; "" for the whole bucket
	lease    time.Duration
	endpoint string

	// down is the first failure that showed the store unreachable; once
	// set, no request is sent any more. The filesystems of one bucket that
	// share a client (a [Branch]'s two prefixes) share it.
	down *atomic.Pointer[Error]

	memo listingMemo

	mu      sync.Mutex
	noLocks bool // the service rejected a conditional write
}

var _ fs.AtomicWriter = (*Fs)(nil)

// An Option configures an [Fs].
type Option func(*settings)

type settings struct {
	client   *awss3.Client
	timeout  time.Duration
	attempts int
	lease    time.Duration
}

// WithClient makes the filesystem send its requests with client instead of
// one configured from the AWS environment. [WithTimeout] and [WithAttempts]
// do not apply to it.
func WithClient(client *awss3.Client) Option { return func(s *settings) { s.client = client } }

// WithTimeout sets how long one attempt of a request waits to connect to
// the server and for the start of its answer before it fails; the default
// is [DefaultTimeout]. It does not limit how long a large object takes to
// transfer. A d <= 0 keeps the default. In a store URL: ?timeout=5s.
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithAttempts sets how many times a request is sent before its failure is
// reported, when the server cannot be reached or answers with a server
// error; the default is [DefaultAttempts]. A request thus fails within
// about n times the timeout, plus the SDK's backoff between attempts (a
// second or two). An n <= 0 keeps the default. In a store URL:
// ?attempts=1.
func WithAttempts(n int) Option { return func(s *settings) { s.attempts = n } }

// WithLockLease sets how long an entry's lock is held without being
// rewritten before other processes take it over; the holder rewrites it
// every third of that. The default is 30 seconds; a d <= 0 keeps it.
func WithLockLease(d time.Duration) Option { return func(s *settings) { s.lease = d } }

// The defaults of [WithTimeout], [WithAttempts] and [WithLockLease], and the
// size from which an object is written as a multipart upload, in parts of
// that size ([Fs.WriteFileAtomic]).
const (
	DefaultTimeout   = 10 * time.Second
	DefaultAttempts  = 3
	DefaultLockLease = 30 * time.Second
	PartSize         = 5 << 20
)

// uploadConcurrency is how many parts of one multipart upload are sent at
// once. The transfer manager copies each part into a buffer of its own, so
// the memory an upload takes beyond the data is about (uploadConcurrency+3)
// × PartSize. With the smallest part S3 accepts, 5 MiB, and one part at a
// time, recording 100 MiB peaks at 1.43 times the value (BenchmarkMemory),
// under the bar of 1.5; two at a time peak at 1.48, too close to it.
const uploadConcurrency = 1

// New returns the filesystem of the objects under prefix in bucket. Unless
// [WithClient] gives one, its client is configured from the AWS environment
// (config.LoadDefaultConfig): AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
// AWS_REGION, the credentials, AWS_PROFILE and the shared configuration
// files. With a custom endpoint it addresses buckets by path
// (http://host/bucket/key), which every S3-compatible service accepts;
// without a region it uses us-east-1.
//
// New sends no request: a wrong bucket or wrong credentials show in the
// first operation's error.
func New(bucket, prefix string, opts ...Option) (*Fs, error) {
	set := settings{}
	for _, opt := range opts {
		opt(&set)
	}
	if set.timeout <= 0 {
		set.timeout = DefaultTimeout
	}
	if set.attempts <= 0 {
		set.attempts = DefaultAttempts
	}
	if set.lease <= 0 {
		set.lease = DefaultLockLease
	}
	if bucket == "" {
		return nil, errors.New("s3: the bucket name is empty")
	}
	client := set.client
	if client == nil {
		var err error
		if client, err = newClient(set.timeout, set.attempts); err != nil {
			return nil, err
		}
	}
	f := &Fs{
		client: client,
		uploads: transfermanager.New(client, func(o *transfermanager.Options) {
			o.PartSizeBytes = PartSize
			o.MultipartUploadThreshold = PartSize
			o.Concurrency = uploadConcurrency
		}),
		bucket: bucket,
		prefix: cleanPrefix(prefix),
		lease:  set.lease,
		down:   new(atomic.Pointer[Error]),
	}
	if ep := client.Options().BaseEndpoint; ep != nil {
		f.endpoint = *ep
	}
	return f, nil
}

// cleanPrefix returns prefix as a prefix of keys: clean, without a leading
// or trailing "/"; "" for the whole bucket.
func cleanPrefix(prefix string) string { return strings.Trim(path.Clean("/"+prefix), "/") }

// sibling returns the filesystem of prefix in f's bucket, which sends its
// requests with f's client and shares what f learns of the store's
// reachability: when one finds the store down, neither sends any more
// requests.
func (f *Fs) sibling(prefix string) *Fs {
	return &Fs{
		client:   f.client,
		uploads:  f.uploads,
		bucket:   f.bucket,
		prefix:   cleanPrefix(prefix),
		lease:    f.lease,
		endpoint: f.endpoint,
		down:     f.down,
	}
}

// newClient returns a client configured from the AWS environment.
func newClient(timeout time.Duration, attempts int) (*awss3.Client, error) {
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = timeout }).
		WithTransportOptions(func(tr *http.Transport) { tr.ResponseHeaderTimeout = timeout })
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithHTTPClient(httpClient),
		// Without a rate limiter on retries, a store that has been down a
		// while still answers each request with its real cause rather than
		// "retry quota exceeded".
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.RateLimiter = ratelimit.None
				o.MaxAttempts = attempts
			})
		}))
	if err != nil {
		return nil, fmt.Errorf("s3: load the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	}), nil
}

// Bucket returns the bucket of the filesystem.
func (f *Fs) Bucket() string { return f.bucket }

// Prefix returns the prefix of the filesystem's keys, without a trailing
// "/"; "" when it spans the whole bucket.
func (f *Fs) Prefix() string { return f.prefix }

// Client returns the client that sends the filesystem's requests.
func (f *Fs) Client() *awss3.Client { return f.client }

// Key returns the key of the object that holds the file name: the prefix
// and name joined with "/". A name cannot reach above the prefix: ".." at
// its start is dropped.
func (f *Fs) Key(name string) string { return f.key(rel(name)) }

// URL returns s3://bucket/key of the file name, as messages name it.
func (f *Fs) URL(name string) string { return "s3://" + f.bucket + "/" + f.Key(name) }

// rel returns name as a clean, "/"-separated path relative to the root; ""
// is the root.
func rel(name string) string {
	return strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(name)), "/")
}

// key returns the key of the relative name r.
func (f *Fs) key(r string) string {
	switch {
	case f.prefix == "":
		return r
	case r == "":
		return f.prefix
	}
	return f.prefix + "/" + r
}

// dirPrefix returns the prefix of the keys under the directory r.
func (f *Fs) dirPrefix(r string) string {
	if k := f.key(r); k != "" {
		return k + "/"
	}
	return ""
}

// Name returns "s3".
func (f *Fs) Name() string { return "s3" }

// Create creates or truncates the file name; the object is written when the
// file is closed.
func (f *Fs) Create(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Mkdir does nothing: directories are implicit in S3.
func (f *Fs) Mkdir(name string, perm os.FileMode) error { return nil }

// MkdirAll does nothing: directories are implicit in S3.
func (f *Fs) MkdirAll(path string, perm os.FileMode) error { return nil }

// Open opens the file or directory name for reading. A file's content is
// fetched with one GET, streamed as it is read; a name that is no object
// costs a listing too, to tell a directory from nothing.
func (f *Fs) Open(name string) (afero.File, error) {
	r := rel(name)
	if r == "" || f.seenDir(r) {
		return f.openDir(name, r), nil
	}
	file, err := f.openObject(name, r)
	if !errors.Is(err, iofs.ErrNotExist) {
		return file, err
	}
	isDir, derr := f.isDir(r)
	switch {
	case derr != nil:
		return nil, &iofs.PathError{Op: "open", Path: name, Err: derr}
	case isDir:
		f.sawDirs(r)
		return f.openDir(name, r), nil
	}
	return nil, err
}

// openFile opens the object name for reading, with one GET: a name that
// is no object does not exist, even when it is a directory.
func (f *Fs) openFile(name string) (afero.File, error) {
	file, err := f.openObject(name, rel(name))
	if err != nil {
		return nil, err
	}
	return file, nil
}

// OpenFile opens the file name with the flags of os.OpenFile. Opened for
// reading only it is [Fs.Open]; otherwise its content is kept in memory
// until Close uploads it, with If-None-Match: * under os.O_EXCL. Entries
// are not written this way: see [Fs.WriteFileAtomic].
func (f *Fs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) == 0 {
		return f.Open(name)
	}
	r := rel(name)
	if r == "" {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: fs.ErrIsDir}
	}
	var existing []byte
	if flag&os.O_TRUNC == 0 || flag&os.O_EXCL != 0 || flag&os.O_CREATE == 0 {
		var data []byte
		var err error
		if flag&os.O_TRUNC == 0 {
			data, err = f.getAll(r) // the content is kept
		} else {
			_, err = f.headObject(r) // only whether it exists matters
		}
		exists := err == nil
		switch {
		case err != nil && !errors.Is(err, iofs.ErrNotExist):
			return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
		case exists && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
			return nil, &iofs.PathError{Op: "open", Path: name, Err: iofs.ErrExist}
		case !exists && flag&os.O_CREATE == 0:
			return nil, &iofs.PathError{Op: "open", Path: name, Err: iofs.ErrNotExist}
		case exists && flag&os.O_TRUNC == 0:
			existing = data
		}
	}
	fd := mem.CreateFile(name)
	mem.SetMode(fd, perm&iofs.ModePerm)
	h := mem.NewFileHandle(fd)
	if _, err := h.Write(existing); err != nil {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
	}
	if flag&os.O_APPEND == 0 {
		if _, err := h.Seek(0, 0); err != nil {
			return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
		}
	}
	return &writeFile{File: h, fs: f, name: name, rel: r, excl: flag&os.O_EXCL != 0}, nil
}

// WriteFileAtomic writes data as the object name, whole or not at all, and
// makes Fs an [fs.AtomicWriter]: one PUT, or, from [PartSize] on, a
// multipart upload of parts of that size, which S3 assembles into the
// object only once every part is in, and which is aborted on a failure.
// The upload reads data in place, holding at most a few parts in buffers of
// its own, and lifts the 5 GiB limit of a single PUT.
func (f *Fs) WriteFileAtomic(name string, data []byte) error {
	_, err := f.writeObject(name, data)
	return err
}

// writeObject is WriteFileAtomic, and returns the version it wrote.
func (f *Fs) writeObject(name string, data []byte) (version, error) {
	r := rel(name)
	if r == "" {
		return version{}, &iofs.PathError{Op: "write", Path: name, Err: fs.ErrIsDir}
	}
	etag, err := f.upload(r, data)
	if err != nil {
		return version{}, &iofs.PathError{Op: "write", Path: name, Err: err}
	}
	return version{size: int64(len(data)), etag: etag, modTime: time.Now()}, nil
}

// Remove deletes the object name. Removing a missing object is not an
// error, since S3 does not tell.
func (f *Fs) Remove(name string) error {
	r := rel(name)
	if r == "" {
		return &iofs.PathError{Op: "remove", Path: name, Err: errors.New("cannot remove the root of the store")}
	}
	if err := f.deleteObject(f.key(r)); err != nil {
		return &iofs.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// RemoveAll deletes the object name and every object under name/, one
// request per object after the listing.
func (f *Fs) RemoveAll(name string) error {
	r := rel(name)
	keys, err := f.listKeys(f.dirPrefix(r))
	if err != nil {
		return &iofs.PathError{Op: "removeall", Path: name, Err: err}
	}
	if r != "" {
		keys = append(keys, f.key(r))
	}
	for _, k := range keys {
		if err := f.deleteObject(k); err != nil {
			return &iofs.PathError{Op: "removeall", Path: name, Err: err}
		}
	}
	return nil
}

// Rename moves the file oldname to newname: it copies the object on the
// server and deletes oldname. Directories cannot be renamed.
func (f *Fs) Rename(oldname, newname string) error {
	oldRel, newRel := rel(oldname), rel(newname)
	if newRel == "" {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrIsDir}
	}
	if err := f.copyObject(oldRel, newRel); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	if err := f.deleteObject(f.key(oldRel)); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

// Stat describes the file or directory name: a HEAD request, and a listing
// when there is no object of that name, to tell a directory from nothing.
func (f *Fs) Stat(name string) (os.FileInfo, error) {
	r := rel(name)
	if r == "" || f.seenDir(r) {
		return dirInfo(path.Base("/" + r)), nil
	}
	info, err := f.headObject(r)
	if err == nil {
		return info, nil
	}
	if !errors.Is(err, iofs.ErrNotExist) {
		return nil, &iofs.PathError{Op: "stat", Path: name, Err: err}
	}
	isDir, err := f.isDir(r)
	switch {
	case err != nil:
		return nil, &iofs.PathError{Op: "stat", Path: name, Err: err}
	case isDir:
		f.sawDirs(r)
		return dirInfo(path.Base(r)), nil
	}
	return nil, &iofs.PathError{Op: "stat", Path: name, Err: iofs.ErrNotExist}
}

// LstatIfPossible is [Fs.Stat], answered without a request for a name that
// the last listing of its directory returned: afero.Walk, and so
// cache.Store.List, then costs one listing per directory rather than one
// request per file.
func (f *Fs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	if info, ok := f.memo.listed(rel(name)); ok {
		return info, false, nil
	}
	info, err := f.Stat(name)
	return info, false, err
}

// remember keeps the listing of the directory r for LstatIfPossible, and
// its subdirectories for seenDir.
func (f *Fs) remember(r string, infos []iofs.FileInfo) { f.memo.remember(r, infos) }

// sawDirs records that the directories rs exist.
func (f *Fs) sawDirs(rs ...string) { f.memo.sawDirs(rs...) }

// seenDir reports whether the directory r was seen within dirMemory.
func (f *Fs) seenDir(r string) bool { return f.memo.seenDir(r) }

// listingMemo is what a filesystem remembers of its listings for a while:
// the files of each directory it listed, which a walk then stats without a
// request, and the directories it saw, which it then opens without asking
// whether they exist. Its zero value is ready to use.
type listingMemo struct {
	mu    sync.Mutex
	files map[string]map[string]iofs.FileInfo // by directory, then base name
	dirs  map[string]time.Time                // when each directory was seen
}

// listed returns, once, the description of the file r that the last
// listing of its directory returned, if it did.
func (m *listingMemo) listed(r string) (iofs.FileInfo, bool) {
	dir, base := path.Dir(r), path.Base(r)
	if dir == "." {
		dir = ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	info, ok := m.files[dir][base]
	if ok {
		delete(m.files[dir], base)
	}
	return info, ok
}

// remember keeps infos, the listing of the directory r, and its
// subdirectories.
func (m *listingMemo) remember(r string, infos []iofs.FileInfo) {
	files := make(map[string]iofs.FileInfo, len(infos))
	var dirs []string
	for _, info := range infos {
		files[info.Name()] = info
		if info.IsDir() {
			dirs = append(dirs, path.Join(r, info.Name()))
		}
	}
	m.sawDirs(dirs...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files == nil || len(m.files) > 256 {
		m.files = map[string]map[string]iofs.FileInfo{}
	}
	m.files[r] = files
}

// dirMemory is how long a directory that a listing or a Stat found is taken
// to exist without asking again: long enough for a walk to open what it
// has just listed. At worst, a directory emptied meanwhile lists as empty.
const dirMemory = 5 * time.Second

// sawDirs records that the directories rs exist.
func (m *listingMemo) sawDirs(rs ...string) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs == nil || len(m.dirs) > 4096 {
		m.dirs = map[string]time.Time{}
	}
	for _, r := range rs {
		m.dirs[r] = now
	}
}

// seenDir reports whether the directory r was seen within dirMemory.
func (m *listingMemo) seenDir(r string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen, ok := m.dirs[r]
	return ok && time.Since(seen) < dirMemory
}

// Chmod does nothing: objects have no mode, and read as 0644.
func (f *Fs) Chmod(name string, mode os.FileMode) error { return nil }

// Chown does nothing: objects have no owner.
func (f *Fs) Chown(name string, uid, gid int) error { return nil }

// Chtimes does nothing: an object's modification time is when it was
// written.
func (f *Fs) Chtimes(name string, atime, mtime time.Time) error { return nil }

// fileInfo describes an object or a directory.
type fileInfo struct {
	name    string
	size    int64
	modTime time.Time
	etag    string
	dir     bool
}

func dirInfo(name string) *fileInfo { return &fileInfo{name: name, dir: true} }

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) ModTime() time.Time { return i.modTime }
func (i *fileInfo) IsDir() bool        { return i.dir }
func (i *fileInfo) Sys() any           { return nil }
func (i *fileInfo) Mode() os.FileMode {
	if i.dir {
		return os.ModeDir | 0o755
	}
	return 0o644
}

// URL settings: the query of an s3:// store URL. See the package
// documentation.
var urlSettings = []string{"local", "timeout", "attempts", "prefetch", "lease", "base"}

// openURL opens s3://bucket/prefix?setting=value&... for PECAPIKU_STORE.
func openURL(u *url.URL) (afero.Fs, error) {
	if u.Host == "" {
		return nil, errors.New("s3: the URL has no bucket: write it as s3://bucket/prefix")
	}
	q := u.Query()
	for k, vs := range q {
		if !slices.Contains(urlSettings, k) {
			return nil, fmt.Errorf("s3: unknown setting %q in the URL; the settings are %s", k, strings.Join(urlSettings, ", "))
		}
		if len(vs) > 1 {
			return nil, fmt.Errorf("s3: the setting %q is given %d times in the URL", k, len(vs))
		}
	}
	var opts []Option
	for _, d := range []struct {
		key string
		opt func(time.Duration) Option
	}{{"timeout", WithTimeout}, {"lease", WithLockLease}} {
		if v := q.Get(d.key); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return nil, fmt.Errorf("s3: the setting %s=%s in the URL is not a positive duration such as 5s or 1m", d.key, v)
			}
			opts = append(opts, d.opt(t))
		}
	}
	if v := q.Get("attempts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("s3: the setting attempts=%s in the URL is not a number of attempts, 1 or more", v)
		}
		opts = append(opts, WithAttempts(n))
	}
	var rtOpts []ReadThroughOption
	if v := q.Get("prefetch"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("s3: the setting prefetch=%s in the URL is not a number of parallel fetches, 0 or more", v)
		}
		rtOpts = append(rtOpts, WithPrefetch(n))
	}
	top, err := New(u.Host, u.Path, opts...)
	if err != nil {
		return nil, err
	}
	var remote afero.Fs = top
	copyPrefix := top.prefix // the prefix whose local copy this is
	if base, ok := q["base"]; ok {
		if base[0] == "" || strings.Contains(base[0], "://") {
			return nil, fmt.Errorf("s3: the setting base=%s in the URL is not a prefix of the bucket %s, such as base=branches/main", base[0], top.bucket)
		}
		// On the base's own branch, the recipe's URL names the base: a
		// store of its own.
		if cleanPrefix(base[0]) != top.prefix {
			b, err := top.branch(base[0])
			if err != nil {
				return nil, err
			}
			remote, copyPrefix = b, b.base.prefix
		}
	}
	local := q.Get("local")
	switch local {
	case "off":
		return remote, nil
	case "":
		dir, err := os.UserCacheDir()
		if err != nil {
			return remote, nil // no place for a local copy: every read goes to the bucket
		}
		host := "aws"
		if ep, err := url.Parse(top.endpoint); err == nil && ep.Host != "" {
			host = strings.ReplaceAll(ep.Host, ":", "_")
		}
		// A branch shares the local copy of its base, since most of what it
		// reads is the base's. A copy is named after the version it holds
		// (see ReadThrough), which is all a reader checks, whichever prefix
		// the version is in.
		local = filepath.Join(dir, "pecapiku", "s3", host, top.bucket, filepath.FromSlash(copyPrefix))
	}
	return NewReadThrough(remote, afero.NewBasePathFs(afero.NewOsFs(), local), rtOpts...), nil
}

// sortInfos sorts infos by name.
func sortInfos(infos []iofs.FileInfo) {
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name() < infos[j].Name() })
}

// IgnoresCase reports false: object keys that differ only in case are
// different objects. It makes the Fs an [fs.CaseSensitivity], so that a
// store asks the bucket nothing to find out.
func (f *Fs) IgnoresCase() bool { return false }
