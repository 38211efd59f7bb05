package main

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestPhotoBody checks that every upload body is a well-formed multipart
// request whose JPEG differs in its bytes but decodes to the same pixels.
func TestPhotoBody(t *testing.T) {
	p, err := makePhoto("t.jpg", 64, 48, 90, 1)
	if err != nil {
		t.Fatal(err)
	}
	want, err := jpeg.Decode(bytes.NewReader(p.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, tag := range []string{"a 1", "a 2"} {
		_, params, err := mime.ParseMediaType(p.ContentType)
		if err != nil {
			t.Fatal(err)
		}
		form, err := multipart.NewReader(bytes.NewReader(p.body(tag)), params["boundary"]).ReadForm(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		if got := form.Value["alt_text"]; len(got) != 1 || got[0] != "load test t.jpg" {
			t.Errorf("alt_text = %q", got)
		}
		if len(form.File["image"]) != 1 {
			t.Fatalf("image parts: %d", len(form.File["image"]))
		}
		f, err := form.File["image"][0].Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(f)
		f.Close()
		files[string(data)] = true
		got, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("tag %q: %v", tag, err)
		}
		g, w := got.(*image.YCbCr), want.(*image.YCbCr)
		if !bytes.Equal(g.Y, w.Y) || !bytes.Equal(g.Cb, w.Cb) || !bytes.Equal(g.Cr, w.Cr) {
			t.Errorf("tag %q: the pixels changed", tag)
		}
	}
	if len(files) != 2 {
		t.Error("two tags gave the same file")
	}
}

// TestSendCounts checks how send counts answers: an honoured 503 is
// neither a failure nor a 5xx, a 500 is both, a 503 without Retry-After is
// both, and a 404 is a failure only.
func TestSendCounts(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gate": // 503 with Retry-After once, then 201
			if calls.Add(1) == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusCreated)
		case "/broken":
			w.WriteHeader(http.StatusInternalServerError)
		case "/busy":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := newClient(srv.URL, "token", 4)
	st := stats{}
	ctx := context.Background()
	for _, path := range []string{"/gate", "/broken", "/busy", "/missing"} {
		c.send(ctx, st, path, "POST", srv.URL+path, []byte("x"), "text/plain", false)
	}
	for _, tc := range []struct {
		route                  string
		ok, failed, fiveXX     int
		retried503, badRetries int
	}{
		{"/gate", 1, 0, 0, 1, 0},
		{"/broken", 0, 1, 1, 0, 0},
		{"/busy", 0, 1, 1, 0, 1},
		{"/missing", 0, 1, 0, 0, 0},
	} {
		rs := st[tc.route]
		if len(rs.OK) != tc.ok || rs.Failed != tc.failed || rs.ServerErrors != tc.fiveXX ||
			rs.Retried[503] != tc.retried503 || rs.BadRetry != tc.badRetries {
			t.Errorf("%s: ok %d failed %d 5xx %d retried %d bad retry %d, want %d %d %d %d %d", tc.route,
				len(rs.OK), rs.Failed, rs.ServerErrors, rs.Retried[503], rs.BadRetry,
				tc.ok, tc.failed, tc.fiveXX, tc.retried503, tc.badRetries)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i))
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}} {
		if got := percentile(ds, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p*100, got, tc.want)
		}
	}
	if got := percentile(nil, 0.99); got != 0 {
		t.Errorf("no samples: %v", got)
	}
}

func TestCheckNodes(t *testing.T) {
	t.Parallel()
	shared := map[string]string{"VITRINE_DATABASE_URL": "postgres://db", "VITRINE_STORAGE_URL": "s3://bucket/p"}
	for _, tc := range []struct {
		name  string
		nodes int
		env   map[string]string
		ok    bool
	}{
		{"one node alone", 1, nil, true},
		{"one node shared", 1, shared, true},
		{"two nodes shared", 2, shared, true},
		{"two nodes alone", 2, nil, false},
		{"two nodes without storage", 2, map[string]string{"VITRINE_DATABASE_URL": "postgres://db"}, false},
		{"two nodes without database", 2, map[string]string{"VITRINE_STORAGE_URL": "file:/tmp/m"}, false},
		{"zero nodes", 0, shared, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := checkNodes(tc.nodes, func(k string) string { return tc.env[k] })
			if got := err == nil; got != tc.ok {
				t.Errorf("got %v, want ok %v", err, tc.ok)
			}
		})
	}
}

// TestOnNode checks that a reader of another node reads the API and
// vitrine's media there, and a bucket's URLs where they are.
func TestOnNode(t *testing.T) {
	t.Parallel()
	const node0, node1 = "http://127.0.0.1:4000", "http://127.0.0.1:4001"
	const signed = "http://127.0.0.1:9000/bucket/p/r.jpg?X-Amz-Signature=abc"
	targets := []readTarget{{
		Slug:       "a",
		DetailURL:  node0 + "/api/products/a/",
		Renditions: []string{node0 + "/media/r.jpg", signed},
		Originals:  []string{node0 + "/media/o.jpg", "http://127.0.0.1:40001/media/x.jpg"},
	}}
	got := onNode(targets, node0, node1)[0]
	want := readTarget{
		Slug:       "a",
		DetailURL:  node1 + "/api/products/a/",
		Renditions: []string{node1 + "/media/r.jpg", signed},
		Originals:  []string{node1 + "/media/o.jpg", "http://127.0.0.1:40001/media/x.jpg"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if targets[0].DetailURL != node0+"/api/products/a/" || targets[0].Renditions[0] != node0+"/media/r.jpg" {
		t.Errorf("the targets of node 0 changed: %+v", targets[0])
	}
	if same := onNode(targets, node0, node0); !reflect.DeepEqual(same, targets) {
		t.Errorf("node 0: got %+v, want %+v", same, targets)
	}
}

// TestPresignedMedia checks the file check and the readers against an
// S3-like server that, as S3 does, accepts a presigned URL only for GET
// and refuses a request that also brings an Authorization header; and
// that checkLoopback accepts the presigned URL of a bucket on loopback.
func TestPresignedMedia(t *testing.T) {
	t.Parallel()
	bucket := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "only one auth mechanism allowed", http.StatusBadRequest)
			return
		}
		if r.URL.Query().Get("X-Amz-Signature") == "" || r.Method != "GET" {
			http.Error(w, "signature does not match", http.StatusForbidden)
			return
		}
		http.ServeContent(w, r, "f.jpg", time.Time{}, bytes.NewReader([]byte("JPEG bytes")))
	}))
	defer bucket.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer api.Close()
	signed := bucket.URL + "/vitrine-test/p/f.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=3600&X-Amz-Signature=0123abcd&X-Amz-SignedHeaders=host"
	if !presigned(signed) || presigned(api.URL+"/media/f.jpg") {
		t.Errorf("presigned: got %v for %s, %v for /media/", presigned(signed), signed, presigned(api.URL+"/media/f.jpg"))
	}
	if err := checkLoopback(signed); err != nil {
		t.Errorf("checkLoopback(%s): %v", signed, err)
	}
	c := newClient(api.URL, "token", 4)
	ctx := context.Background()
	st := stats{}
	if !head(ctx, c, st, signed) {
		t.Error("head of a presigned URL: not served")
	}
	if head(ctx, c, st, bucket.URL+"/vitrine-test/p/f.jpg") {
		t.Error("head of an unsigned bucket URL: served")
	}
	if !head(ctx, c, st, api.URL+"/media/f.jpg") {
		t.Error("head of vitrine's media: not served")
	}
	for _, u := range []string{signed, api.URL + "/api/products/a/"} {
		if status, _, err := c.send(ctx, st, "read", "GET", u, nil, "", false); err != nil || status != http.StatusOK {
			t.Errorf("GET %s: got %d, %v, want 200", u, status, err)
		}
	}
}

func TestEndToEndText(t *testing.T) {
	t.Parallel()
	got := endToEndText(60, 30*time.Second, 40*time.Second, renderResult{Ready: 60})
	if !strings.Contains(got, "**1.50 uploads/s**") || !strings.Contains(got, "30.0 s driven, then 10.0 s") {
		t.Errorf("all rendered: got %q, want 1.50 uploads/s over 30 + 10 s", got)
	}
	got = endToEndText(60, 30*time.Second, 40*time.Second, renderResult{Ready: 58, Pending: 2})
	if strings.Contains(got, "uploads/s") || !strings.Contains(got, "2 uploads still pending") {
		t.Errorf("2 pending: got %q, want no rate", got)
	}
}
