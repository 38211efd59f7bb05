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
