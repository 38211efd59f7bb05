package blob_test

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/blob"
	"github.com/vitrine/vitrine/blob/blobtest"
)

func TestLocalSuite(t *testing.T) {
	t.Parallel()
	blobtest.Exercise(t, func(t *testing.T) blobtest.Store {
		l, err := blob.NewLocal(filepath.Join(t.TempDir(), "media"), "")
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

// newS3 returns a store under a fresh prefix of the test bucket, or skips.
func newS3(t *testing.T, cfg blob.S3Config) *blob.S3 {
	t.Helper()
	return blobtest.OpenS3(t, cfg)
}

func TestS3Suite(t *testing.T) {
	t.Parallel()
	newS3(t, blob.S3Config{}) // skips without a server
	blobtest.Exercise(t, func(t *testing.T) blobtest.Store {
		return newS3(t, blob.S3Config{CacheControl: "public, max-age=31536000, immutable"})
	})
}

// TestS3Objects checks what the objects carry and the URLs handed out:
// presigned ones fetch the file with its type and caching; plain ones sit
// under the media URL.
func TestS3Objects(t *testing.T) {
	t.Parallel()
	s := newS3(t, blob.S3Config{Signed: true, SignedTTL: time.Minute, CacheControl: "public, max-age=31536000, immutable"})
	key := vitrine.OriginalKey(time.Now(), vitrine.WebP)
	if err := s.Put(context.Background(), key, strings.NewReader("RIFF....WEBP")); err != nil {
		t.Fatal(err)
	}
	u := s.URL(key)
	if !strings.Contains(u, "X-Amz-Signature=") {
		t.Fatalf("got %q, want a presigned URL", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "RIFF....WEBP" {
		t.Fatalf("GET presigned: %d %q", resp.StatusCode, body)
	}
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "image/webp" || cc != "public, max-age=31536000, immutable" {
		t.Fatalf("got Content-Type %q, Cache-Control %q", ct, cc)
	}

	cdn := newS3(t, blob.S3Config{MediaURL: "https://cdn.shop.example/"})
	if got := cdn.URL(key); !strings.HasPrefix(got, "https://cdn.shop.example/") || !strings.HasSuffix(got, "/"+key) {
		t.Fatalf("got %q, want https://cdn.shop.example/<prefix>/%s", got, key)
	}
}
