package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/pecapiku/pecapiku/cache"
)

// Errors that an [*Error] wraps, besides [cache.ErrUnavailable]; test for
// them with errors.Is.
var (
	// ErrAccessDenied: the service refused the credentials (missing, wrong
	// key, wrong secret) or the bucket's policy refused the operation.
	ErrAccessDenied = errors.New("access denied")
	// ErrNoSuchBucket: the bucket does not exist.
	ErrNoSuchBucket = errors.New("no such bucket")
)

// errPrecondition is a conditional request's failure: If-None-Match: * on
// an existing key, or If-Match on another version.
var errPrecondition = errors.New("precondition failed")

// errNotImplemented is the answer of a service without conditional writes.
var errNotImplemented = errors.New("not implemented by the service")

// Error is the failure of a request to S3: the operation, the object it was
// for and why. Its message names them all, with a hint at the fix for the
// common mistakes:
//
//	s3: GetObject s3://fixtures/ci/x.json: cannot reach http://127.0.0.1:7070: dial tcp 127.0.0.1:7070: connect: connection refused
type Error struct {
	Op     string // the S3 operation: "GetObject", "PutObject", ...
	Bucket string
	Key    string
	Err    error // the SDK's error

	reason string
	kind   error // cache.ErrUnavailable, ErrAccessDenied, ErrNoSuchBucket, errPrecondition, ... or nil
}

// Error returns "s3: <Op> s3://<Bucket>/<Key>: <why>".
func (e *Error) Error() string {
	return fmt.Sprintf("s3: %s s3://%s/%s: %s", e.Op, e.Bucket, e.Key, e.reason)
}

// Unwrap returns the class of the failure ([cache.ErrUnavailable],
// [ErrAccessDenied], [ErrNoSuchBucket], io/fs's ErrNotExist) when there is
// one, and the SDK's error.
func (e *Error) Unwrap() []error {
	if e.kind != nil {
		return []error{e.kind, e.Err}
	}
	return []error{e.Err}
}

// fail returns the Error of op on key, or nil for a nil err. The first
// failure that shows the store unreachable is remembered: see [Fs.skip].
func (f *Fs) fail(op, key string, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Op: op, Bucket: f.bucket, Key: key, Err: err}
	e.reason, e.kind = f.classify(err)
	if e.kind == cache.ErrUnavailable {
		f.down.CompareAndSwap(nil, e)
	}
	return e
}

// skip returns the error of op on key without sending it when an earlier
// request of this process found the store unreachable, and nil otherwise.
// A store that is down thus costs one timeout per process, not one per
// entry: with e granted cache.Do executes every later function at once,
// without it every later call fails at once.
func (f *Fs) skip(op, key string) error {
	down := f.down.Load()
	if down == nil {
		return nil
	}
	return &Error{Op: op, Bucket: f.bucket, Key: key, Err: down.Err, kind: cache.ErrUnavailable,
		reason: fmt.Sprintf("not sent, since the store could not be reached earlier in this process (%s %s: %s)",
			down.Op, "s3://"+down.Bucket+"/"+down.Key, down.reason)}
}

// classify says why a request failed, in words and as a class.
func (f *Fs) classify(err error) (string, error) {
	status := 0
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
		what := code
		if msg != "" && msg != code {
			what += ": " + msg
		}
		if status != 0 {
			what += fmt.Sprintf(" (HTTP %d)", status)
		}
		switch {
		case code == "NoSuchBucket":
			return fmt.Sprintf("%s; create the bucket, or fix its name in the store's URL", what), ErrNoSuchBucket
		case code == "NoSuchKey" || code == "NotFound" || status == 404 && (code == "" || code == "404"):
			return what, iofs.ErrNotExist
		case code == "PreconditionFailed" || code == "ConditionalRequestConflict" || status == 412 || status == 409:
			return what, errPrecondition
		case code == "NotImplemented" || status == 501:
			return what, errNotImplemented
		case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "AccessDenied" ||
			code == "InvalidToken" || code == "ExpiredToken" || code == "XAdminUserNotFound" || status == 403:
			return fmt.Sprintf("%s; check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and the bucket's policy", what), ErrAccessDenied
		case status >= 500 || code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable":
			return fmt.Sprintf("the service failed: %s", what), cache.ErrUnavailable
		}
		return what, nil
	}
	var sendErr *smithyhttp.RequestSendError
	var netErr net.Error
	timeout := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout()
	if timeout {
		return fmt.Sprintf("cannot reach %s: no answer in time (%v)", f.endpointName(), innermost(err)), cache.ErrUnavailable
	}
	if errors.As(err, &sendErr) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Sprintf("cannot reach %s: %v", f.endpointName(), innermost(err)), cache.ErrUnavailable
	}
	if status >= 500 {
		return fmt.Sprintf("the service failed (HTTP %d): %v", status, err), cache.ErrUnavailable
	}
	if status == 403 {
		return fmt.Sprintf("HTTP 403; check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and the bucket's policy: %v", err), ErrAccessDenied
	}
	return err.Error(), nil
}

// endpointName returns the endpoint as messages name it.
func (f *Fs) endpointName() string {
	if f.endpoint != "" {
		return f.endpoint
	}
	return "S3"
}

// innermost returns the network error under the SDK's layers: "dial tcp
// 127.0.0.1:7070: connect: connection refused".
func innermost(err error) error {
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	for next := errors.Unwrap(err); next != nil; next = errors.Unwrap(err) {
		err = next
	}
	return err
}

// objectInfo returns the description of an object.
func objectInfo(r string, size *int64, modTime *time.Time, etag *string) *fileInfo {
	return &fileInfo{name: path.Base(r), size: aws.ToInt64(size), modTime: aws.ToTime(modTime), etag: aws.ToString(etag)}
}

// headObject describes the object r.
func (f *Fs) headObject(r string) (*fileInfo, error) {
	key := f.key(r)
	if err := f.skip("HeadObject", key); err != nil {
		return nil, err
	}
	out, err := f.client.HeadObject(context.Background(), &awss3.HeadObjectInput{Bucket: &f.bucket, Key: &key})
	if err != nil {
		return nil, f.fail("HeadObject", key, err)
	}
	return objectInfo(r, out.ContentLength, out.LastModified, out.ETag), nil
}

// getObject starts reading the object r from offset off (a ranged GET when
// off > 0), of the version etag when it is not "".
func (f *Fs) getObject(r string, off int64, etag string) (*awss3.GetObjectOutput, error) {
	key := f.key(r)
	if err := f.skip("GetObject", key); err != nil {
		return nil, err
	}
	in := &awss3.GetObjectInput{Bucket: &f.bucket, Key: &key}
	if off > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	if etag != "" {
		in.IfMatch = &etag
	}
	out, err := f.client.GetObject(context.Background(), in)
	if err != nil {
		return nil, f.fail("GetObject", key, err)
	}
	return out, nil
}

// getAll returns the content of the object r.
func (f *Fs) getAll(r string) ([]byte, error) {
	out, err := f.getObject(r, 0, "")
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, f.fail("GetObject", f.key(r), err)
	}
	return data, nil
}

// openObject opens the object r for reading.
func (f *Fs) openObject(name, r string) (*readFile, error) {
	out, err := f.getObject(r, 0, "")
	if err != nil {
		return nil, &iofs.PathError{Op: "open", Path: name, Err: err}
	}
	info := objectInfo(r, out.ContentLength, out.LastModified, out.ETag)
	return &readFile{fs: f, name: name, rel: r, info: info, etag: info.etag, body: out.Body}, nil
}

// putObject writes data as the object r, only when no object r exists if
// onlyNew (If-None-Match: *).
func (f *Fs) putObject(r string, data []byte, onlyNew bool) error {
	key := f.key(r)
	if err := f.skip("PutObject", key); err != nil {
		return err
	}
	in := &awss3.PutObjectInput{Bucket: &f.bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))}
	if onlyNew {
		in.IfNoneMatch = aws.String("*")
	}
	_, err := f.client.PutObject(context.Background(), in)
	return f.fail("PutObject", key, err)
}

// upload writes data as the object r with the SDK's transfer manager: one
// PUT below PartSize, a multipart upload from there on. It returns the
// object's ETag.
func (f *Fs) upload(r string, data []byte) (etag string, err error) {
	key := f.key(r)
	op := "PutObject"
	if len(data) >= PartSize {
		op = "MultipartUpload"
	}
	if err := f.skip(op, key); err != nil {
		return "", err
	}
	out, err := f.uploads.UploadObject(context.Background(), &transfermanager.UploadObjectInput{
		Bucket: &f.bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return "", f.fail(op, key, err)
	}
	return aws.ToString(out.ETag), nil
}

// copyObject copies the object from to the key of to, on the server.
func (f *Fs) copyObject(from, to string) error { return f.copyKey(f.key(from), f.key(to)) }

// copyKey copies the object src of the bucket to the key dst, on the
// server.
func (f *Fs) copyKey(src, dst string) error {
	if err := f.skip("CopyObject", src); err != nil {
		return err
	}
	source := f.bucket + "/" + escapeKey(src)
	_, err := f.client.CopyObject(context.Background(), &awss3.CopyObjectInput{Bucket: &f.bucket, Key: &dst, CopySource: &source})
	return f.fail("CopyObject", src, err)
}

// escapeKey escapes each segment of key for the CopySource header.
func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// deleteObject deletes the object key.
func (f *Fs) deleteObject(key string) error {
	if err := f.skip("DeleteObject", key); err != nil {
		return err
	}
	_, err := f.client.DeleteObject(context.Background(), &awss3.DeleteObjectInput{Bucket: &f.bucket, Key: &key})
	return f.fail("DeleteObject", key, err)
}

// deleteKeys deletes the objects keys, a thousand per request
// (DeleteObjects), and returns how many it deleted.
func (f *Fs) deleteKeys(keys []string) (int, error) {
	deleted := 0
	for batch := range slices.Chunk(keys, 1000) {
		if err := f.skip("DeleteObjects", batch[0]); err != nil {
			return deleted, err
		}
		ids := make([]types.ObjectIdentifier, len(batch))
		for i := range batch {
			ids[i] = types.ObjectIdentifier{Key: &batch[i]}
		}
		out, err := f.client.DeleteObjects(context.Background(), &awss3.DeleteObjectsInput{
			Bucket: &f.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return deleted, f.fail("DeleteObjects", batch[0], err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return deleted + len(batch) - len(out.Errors), &Error{Op: "DeleteObject", Bucket: f.bucket, Key: aws.ToString(e.Key),
				Err:    fmt.Errorf("%s: %s", aws.ToString(e.Code), aws.ToString(e.Message)),
				reason: fmt.Sprintf("%s: %s (and %d more of the %d objects of the request)", aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1, len(batch))}
		}
		deleted += len(batch)
	}
	return deleted, nil
}

// isDir reports whether some object's key starts with the directory r.
func (f *Fs) isDir(r string) (bool, error) {
	p := f.dirPrefix(r)
	if err := f.skip("ListObjectsV2", p); err != nil {
		return false, err
	}
	out, err := f.client.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: &p, MaxKeys: aws.Int32(1)})
	if err != nil {
		return false, f.fail("ListObjectsV2", p, err)
	}
	return len(out.Contents) > 0 || len(out.CommonPrefixes) > 0, nil
}

// listKeys returns the keys of every object under the prefix p.
func (f *Fs) listKeys(p string) ([]string, error) {
	var keys []string
	err := f.listObjects(p, func(key string, _ *fileInfo) { keys = append(keys, key) })
	return keys, err
}

// listObjects calls found with the key and the description of every object
// under the prefix p, listing a thousand per request.
func (f *Fs) listObjects(p string, found func(key string, info *fileInfo)) error {
	if err := f.skip("ListObjectsV2", p); err != nil {
		return err
	}
	pages := awss3.NewListObjectsV2Paginator(f.client, &awss3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: &p})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			return f.fail("ListObjectsV2", p, err)
		}
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			found(key, objectInfo(key, obj.Size, obj.LastModified, obj.ETag))
		}
	}
	return nil
}

// listDir returns the files and directories right under the directory r.
func (f *Fs) listDir(r string) ([]iofs.FileInfo, error) {
	p := f.dirPrefix(r)
	if err := f.skip("ListObjectsV2", p); err != nil {
		return nil, err
	}
	var infos []iofs.FileInfo
	pages := awss3.NewListObjectsV2Paginator(f.client, &awss3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: &p, Delimiter: aws.String("/")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			return nil, f.fail("ListObjectsV2", p, err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), p), "/")
			if name != "" {
				infos = append(infos, dirInfo(name))
			}
		}
		for _, obj := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(obj.Key), p)
			if name == "" || strings.Contains(name, "/") {
				continue // the directory's own marker object
			}
			infos = append(infos, objectInfo(name, obj.Size, obj.LastModified, obj.ETag))
		}
	}
	sortInfos(infos)
	return infos, nil
}
