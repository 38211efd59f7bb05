package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/httpapi"
	"github.com/vitrine/vitrine/vips"
)

// TestUploadGate holds the only upload slot with a body that has not
// arrived yet: the next upload waits its turn, gets 503 with Retry-After,
// and nothing is stored; JSON writes pass; once the slot frees, uploads
// pass again.
func TestUploadGate(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *httpapi.Config) {
		c.Admission = httpapi.Admission{MaxUploads: 1, QueueWait: 100 * time.Millisecond}
	})
	s.createProduct("book")
	body, ctype := multipartBody(t, nil, []upload{{"image", "a.png", makePNG(t, 300, 300)}})
	pr, pw := io.Pipe()
	first := make(chan *response, 1)
	go func() {
		first <- s.serve(request{method: "POST", path: "/api/products/book/images/", body: pr, ctype: ctype})
	}()
	// The first upload holds the slot while it reads its body; wait until
	// it is reading.
	if _, err := pw.Write(body.Bytes()[:10]); err != nil {
		t.Fatal(err)
	}

	body2, ctype2 := multipartBody(t, nil, []upload{{"image", "b.png", makePNG(t, 300, 300)}})
	r := s.serve(request{method: "POST", path: "/api/products/book/images/", body: body2, ctype: ctype2}).want(503)
	if got := r.Header().Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After: got %q, want 2", got)
	}
	// Writes without files are not uploads.
	s.sendJSON("PATCH", "/api/products/book/", map[string]string{"description": "x"}).want(200)

	pw.Write(body.Bytes()[10:])
	pw.Close()
	(<-first).want(201)
	if n := len(s.get("/api/products/book/images/").want(200).list()); n != 1 {
		t.Errorf("images: got %d, want 1 (the refused upload stored nothing)", n)
	}
	body2, ctype2 = multipartBody(t, nil, []upload{{"image", "b.png", makePNG(t, 300, 300)}})
	s.serve(request{method: "POST", path: "/api/products/book/images/", body: body2, ctype: ctype2}).want(201)
}

// TestUploadChecks sends uploads at once to a server that decodes one at
// a time: each waits for the decode slot, none is refused, and no two
// decodes ever overlap.
func TestUploadChecks(t *testing.T) {
	t.Parallel()
	probe := &watchedProber{Renderer: vips.NewRenderer(), hold: 50 * time.Millisecond}
	s := newServer(t, false, probe, func(c *httpapi.Config) {
		c.Admission = httpapi.Admission{MaxUploads: 8, QueueWait: time.Minute, MaxChecks: 1}
	})
	s.createProduct("book")
	const n = 4
	codes := make(chan int, n)
	for i := range n {
		body, ctype := multipartBody(t, nil, []upload{{"image", fmt.Sprintf("%d.png", i), makePNG(t, 300, 300)}})
		go func() {
			codes <- s.serve(request{method: "POST", path: "/api/products/book/images/", body: body, ctype: ctype}).Code
		}()
	}
	for range n {
		if code := <-codes; code != http.StatusCreated {
			t.Errorf("got status %d, want 201", code)
		}
	}
	if probe.calls != n || probe.peak != 1 {
		t.Fatalf("got %d decodes, at most %d at once; want %d, one at a time", probe.calls, probe.peak, n)
	}
}

// watchedProber is libvips counting the decodes that run at once; each
// lasts at least hold, so that decodes let in together would overlap.
type watchedProber struct {
	*vips.Renderer
	hold time.Duration

	mu                   sync.Mutex
	running, peak, calls int
}

func (p *watchedProber) Verify(ctx context.Context, path string, info vitrine.ImageInfo) error {
	p.mu.Lock()
	p.running++
	p.calls++
	p.peak = max(p.peak, p.running)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running--
		p.mu.Unlock()
	}()
	time.Sleep(p.hold)
	return p.Renderer.Verify(ctx, path, info)
}

// TestMinUploadRate sends an upload over a real connection that stalls
// after its first bytes: the server answers 408 once the grace period and
// the minimum rate say it is late, and stores nothing. A client that keeps
// up is served.
func TestMinUploadRate(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *httpapi.Config) {
		c.Admission = httpapi.Admission{MinUploadRate: 1000, MinRateGrace: 300 * time.Millisecond}
	})
	s.createProduct("book")
	srv := httptest.NewServer(s.h)
	defer srv.Close()

	body, ctype := multipartBody(t, nil, []upload{{"image", "a.png", makePNG(t, 300, 300)}})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/products/book/images/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		s.token, ctype, body.Len())
	conn.Write(body.Bytes()[:100]) // then nothing
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to a stalled upload: %v", err)
	}
	defer resp.Body.Close()
	var v map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusRequestTimeout || v["detail"] == "" {
		t.Fatalf("stalled upload: got %d %v (%v), want 408 with a detail", resp.StatusCode, v, err)
	}
	if n := len(s.get("/api/products/book/images/").want(200).list()); n != 0 {
		t.Errorf("images after the stalled upload: got %d, want 0", n)
	}

	req, _ := http.NewRequest("POST", srv.URL+"/api/products/book/images/", bytes.NewReader(body.Bytes()))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", ctype)
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload at full speed: got %d, want 201", resp.StatusCode)
	}
}
