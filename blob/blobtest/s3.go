package blobtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/vitrine/vitrine/blob"
)

// S3Env names the variable with the test bucket: an s3:// URL with its
// endpoint (a real S3-compatible server on loopback; make test starts one),
// credentials in the standard AWS variables.
const S3Env = "VITRINE_TEST_S3_URL"

// S3URL returns the test bucket's URL under a fresh prefix of its own, so
// that tests sharing the bucket never see each other's files, or "" when
// S3Env is unset.
func S3URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(S3Env)
	if base == "" {
		return ""
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", S3Env, err)
	}
	var b [6]byte
	rand.Read(b[:])
	u.Path = strings.TrimSuffix(u.Path, "/") + "/t-" + hex.EncodeToString(b[:])
	return u.String()
}

// OpenS3 returns a store with cfg under a fresh prefix of the test bucket,
// or skips t when there is no test bucket.
func OpenS3(t testing.TB, cfg blob.S3Config) *blob.S3 {
	t.Helper()
	cfg.URL = S3URL(t)
	if cfg.URL == "" {
		t.Skipf("%s is not set: no S3 server to test against (make test starts one)", S3Env)
	}
	cfg.AccessKey, cfg.SecretKey = os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	s, err := blob.NewS3(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
