package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/vitrine/vitrine"
)

// S3Config says where and how files go in an S3-compatible bucket (AWS S3,
// DigitalOcean Spaces, Cloudflare R2, MinIO-style servers).
type S3Config struct {
	// URL is s3://BUCKET[/PREFIX][?region=R&endpoint=URL&path_style=1].
	// endpoint defaults to AWS's (https://s3.REGION.amazonaws.com); an
	// http:// endpoint talks plain HTTP (local test servers only).
	URL string
	// The credentials, from the standard AWS variables.
	AccessKey, SecretKey, SessionToken string
	// MediaURL is the base of every public file URL (a CDN or custom
	// domain, the note's AWS_S3_CUSTOM_DOMAIN): the URL of a file is
	// MediaURL + PREFIX + key. Empty means the bucket's own URL.
	MediaURL string
	// Signed returns presigned GET URLs valid for SignedTTL instead, for
	// private buckets (the note's AWS_QUERYSTRING_AUTH).
	Signed    bool
	SignedTTL time.Duration
	// CacheControl and ACL are written on every object; keys are never
	// reused, so files may be cached for ever. ACL is a canned ACL such
	// as "public-read" (the note's AWS_DEFAULT_ACL), or empty.
	CacheControl string
	ACL          string
}

// S3 stores files in a bucket under a prefix. It has Local's methods.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
	public string // base of public URLs, ending in "/"
	cfg    S3Config
}

// ParseS3URL splits an s3:// URL into bucket, prefix (ending in "/" unless
// empty) and its query settings.
func ParseS3URL(raw string) (bucket, prefix string, q url.Values, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", nil, fmt.Errorf("storage URL %q: want s3://BUCKET[/PREFIX][?region=...&endpoint=...&path_style=1]", raw)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	return u.Host, prefix, u.Query(), nil
}

// NewS3 returns a store over the bucket and checks that it is reachable.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	bucket, prefix, q, err := ParseS3URL(cfg.URL)
	if err != nil {
		return nil, err
	}
	region := q.Get("region")
	endpoint := q.Get("endpoint")
	if endpoint == "" {
		endpoint = "https://s3.amazonaws.com"
		if region != "" {
			endpoint = "https://s3." + region + ".amazonaws.com"
		}
	}
	ep, err := url.Parse(endpoint)
	if err != nil || (ep.Scheme != "http" && ep.Scheme != "https") || ep.Host == "" {
		return nil, fmt.Errorf("storage URL: endpoint %q is not an http(s) URL", endpoint)
	}
	lookup := minio.BucketLookupAuto
	if q.Get("path_style") == "1" || q.Get("path_style") == "true" {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(ep.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, cfg.SessionToken),
		Secure:       ep.Scheme == "https",
		Region:       region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	s := &S3{client: client, bucket: bucket, prefix: prefix, cfg: cfg}
	switch {
	case cfg.MediaURL != "":
		s.public = strings.TrimSuffix(cfg.MediaURL, "/") + "/" + prefix
	case lookup == minio.BucketLookupPath:
		s.public = ep.Scheme + "://" + ep.Host + "/" + bucket + "/" + prefix
	default:
		s.public = ep.Scheme + "://" + bucket + "." + ep.Host + "/" + prefix
	}
	if s.cfg.SignedTTL <= 0 {
		s.cfg.SignedTTL = time.Hour
	}
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Ping checks that the bucket answers.
func (s *S3) Ping(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("storage: bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("storage: bucket %s does not exist", s.bucket)
	}
	return nil
}

// Put writes the file at key from r, streaming: the client reads r in
// parts (one part for the files vitrine makes, multipart uploads above
// 16 MiB) and never holds the whole file twice. The object carries its
// Content-Type (from the key, which vitrine chose from the bytes), the
// configured Cache-Control and ACL.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) error {
	if !vitrine.ValidKey(key) {
		return fmt.Errorf("put %q: invalid key", key)
	}
	opts := minio.PutObjectOptions{
		ContentType:        vitrine.FormatOfKey(key).ContentType(),
		ContentDisposition: "inline",
		CacheControl:       s.cfg.CacheControl,
		PartSize:           16 << 20,
	}
	if s.cfg.ACL != "" {
		opts.UserMetadata = map[string]string{"x-amz-acl": s.cfg.ACL}
	}
	if _, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, r, -1, opts); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// Open opens the file at key for reading. ErrNotFound if there is none.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if !vitrine.ValidKey(key) {
		return nil, ErrNotFound
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err == nil {
		// GetObject is lazy: Stat makes the request and reports a missing key.
		_, err = obj.Stat()
	}
	if err != nil {
		if obj != nil {
			obj.Close()
		}
		if isNoSuchKey(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return obj, nil
}

// Delete removes the file at key. S3 does not say whether it existed, so
// a missing file is not an error here: deleting is idempotent either way.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !vitrine.ValidKey(key) {
		return ErrNotFound
	}
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// URL returns the public URL of the file at key: under MediaURL or the
// bucket's own URL, or a presigned GET URL made now (never stored) for a
// private bucket.
func (s *S3) URL(key string) string {
	if s.cfg.Signed {
		u, err := s.client.PresignedGetObject(context.Background(), s.bucket, s.prefix+key, s.cfg.SignedTTL, nil)
		if err == nil {
			return u.String()
		}
		// Presigning is local arithmetic; it fails only on an invalid key,
		// which vitrine never makes.
	}
	return s.public + key
}

// List calls fn for every stored file under the prefix, with its key and
// its last modification time, in key order.
func (s *S3) List(ctx context.Context, fn func(key string, modified time.Time) error) error {
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if obj.Err != nil {
			return fmt.Errorf("list: %w", obj.Err)
		}
		if err := fn(strings.TrimPrefix(obj.Key, s.prefix), obj.LastModified); err != nil {
			return err
		}
	}
	return nil
}

func isNoSuchKey(err error) bool {
	resp := minio.ToErrorResponse(err)
	return resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound || errors.Is(err, ErrNotFound)
}
