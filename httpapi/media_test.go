package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestMediaServing(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("media")
	data := makePNG(t, 300, 300)
	p := s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", "a.png", data}).want(http.StatusOK).obj()
	path := "/media/" + s.keyOf(p["image_url"])
	if s.s3 {
		testBucketServing(t, s, slug, p["image_url"], path, data)
		return
	}

	r := s.get(path).want(http.StatusOK)
	h := r.Header()
	want := map[string]string{
		"Content-Type":            "image/png",
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "public, max-age=31536000, immutable",
		"Content-Disposition":     "inline",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
		"Accept-Ranges":           "bytes",
		"Content-Length":          fmt.Sprint(len(data)),
	}
	for k, v := range want {
		if h.Get(k) != v {
			t.Errorf("%s: got %q, want %q", k, h.Get(k), v)
		}
	}
	if r.Body.String() != string(data) {
		t.Fatalf("served %d bytes that differ from the %d uploaded", r.Body.Len(), len(data))
	}
	etag := h.Get("ETag")
	if !strings.HasPrefix(etag, `"`) {
		t.Fatalf("got ETag %q, want a strong validator", etag)
	}
	s.serve(request{method: "GET", path: path, anonymous: true, header: http.Header{"If-None-Match": {etag}}}).want(http.StatusNotModified)
	part := s.serve(request{method: "GET", path: path, anonymous: true, header: http.Header{"Range": {"bytes=0-9"}}}).want(http.StatusPartialContent)
	if part.Body.String() != string(data[:10]) || part.Header().Get("Content-Range") != fmt.Sprintf("bytes 0-9/%d", len(data)) {
		t.Fatalf("got range %q %q", part.Body.Bytes(), part.Header().Get("Content-Range"))
	}
	head := s.serve(request{method: "HEAD", path: path, anonymous: true}).want(http.StatusOK)
	if head.Body.Len() != 0 || head.Header().Get("Content-Length") != fmt.Sprint(len(data)) {
		t.Fatalf("HEAD: got body %d bytes, Content-Length %q", head.Body.Len(), head.Header().Get("Content-Length"))
	}
	// A bad Bearer token does not matter for media: it is public.
	s.serve(request{method: "GET", path: path, auth: "Bearer nope"}).want(http.StatusOK)

	s.serve(request{method: "DELETE", path: "/api/products/" + slug + "/delete_image/"}).want(http.StatusNoContent)
	s.get(path).want(http.StatusNotFound)
}

func TestMediaRefusesOddPaths(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for _, path := range []string{
		"/media/",
		"/media/products",
		"/media/products/2026",
		"/media/../vitrine.db",
		"/media/products/../../vitrine.db",
		"/media/products/%2e%2e/%2e%2e/vitrine.db",
		"/media/products/x.txt",
		"/media/products/X.JPG",
		"/media/products/2026/11/30/missing.jpg",
	} {
		r := s.serve(request{method: "GET", path: path, anonymous: true})
		// The mux answers a path with dot segments by redirecting to its
		// clean form, which is outside /media/ and then a 404 too.
		if r.Code != http.StatusNotFound && r.Code != http.StatusMovedPermanently && r.Code != http.StatusTemporaryRedirect {
			t.Errorf("%s: got %d, want 404", path, r.Code)
		}
		if strings.Contains(r.Body.String(), "SQLite") {
			t.Errorf("%s: served the database", path)
		}
	}
}

// testBucketServing is TestMediaServing on S3: the bucket (or the CDN in
// front of it) serves the files, with the type and caching stored on each
// object, and vitrine does not serve them under /media/.
func testBucketServing(t *testing.T, s *testServer, slug string, u any, path string, data []byte) {
	t.Helper()
	r := s.fetch(u).want(http.StatusOK)
	for k, v := range map[string]string{
		"Content-Type":        "image/png",
		"Cache-Control":       "public, max-age=31536000, immutable",
		"Content-Disposition": "inline",
	} {
		if got := r.Header().Get(k); got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
	if r.Body.String() != string(data) {
		t.Fatalf("served %d bytes that differ from the %d uploaded", r.Body.Len(), len(data))
	}
	s.get(path).want(http.StatusNotFound)
	s.serve(request{method: "DELETE", path: "/api/products/" + slug + "/delete_image/"}).want(http.StatusNoContent)
	s.fetch(u).want(http.StatusNotFound)
}
