package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's log goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeEndToEnd runs the real binary's run function: serve on a
// loopback port with a temporary data directory, a token from the token
// command, a product with an image and a gallery image rendered by the
// workers, then a graceful stop.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	getenv := env(map[string]string{"VITRINE_DATA_DIR": dir})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	served := make(chan error, 1)
	go func() { served <- run(ctx, []string{"serve", "--addr", addr}, getenv, io.Discard, &logs) }()
	base := "http://" + addr
	waitUp(t, base+"/healthz", served)

	var out bytes.Buffer
	if err := run(context.Background(), []string{"token", "create", "--user", "ops"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(out.String())
	if !strings.HasPrefix(token, "vt_") || strings.Contains(token, "\n") || len(token) < 40 {
		t.Fatalf("got token %q, want one vt_ token on one line", token)
	}

	callAs := func(token, method, path, ctype string, body io.Reader) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	call := func(method, path, ctype string, body io.Reader) (int, map[string]any) {
		t.Helper()
		return callAs(token, method, path, ctype, body)
	}
	if code, _ := call("POST", "/api/products/", "application/json", strings.NewReader(`{"name":"Book","slug":"book","price":"19.99"}`)); code != http.StatusCreated {
		t.Fatalf("create product: got %d, want 201", code)
	}
	body, ctype := pngForm(t, "image", 640, 480)
	code, p := call("POST", "/api/products/book/upload_image/", ctype, body)
	if code != http.StatusOK || !strings.HasPrefix(p["image_url"].(string), base+"/media/products/") {
		t.Fatalf("upload_image: got %d %v", code, p)
	}
	body, ctype = pngForm(t, "image", 1200, 600)
	code, img := call("POST", "/api/products/book/images/", ctype, body)
	if code != http.StatusCreated {
		t.Fatalf("gallery upload: got %d %v", code, img)
	}
	deadline := time.Now().Add(30 * time.Second)
	for img["status"] != "ready" {
		if time.Now().After(deadline) {
			t.Fatalf("image not ready: %v", img)
		}
		time.Sleep(50 * time.Millisecond) // polling a real server over HTTP, as a client would
		_, img = call("GET", fmt.Sprintf("/api/products/book/images/%d/", int(img["id"].(float64))), "", nil)
	}
	resp, err := http.Get(img["thumbnail_url"].(string))
	if err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumbnail: %v %v", resp, err)
	}
	resp.Body.Close()

	for path, want := range map[string]string{
		"/readyz": `"ready"`,
		// River records the job completed a moment after the image is ready.
		"/metrics": `vitrine_jobs{kind="render_image",state="completed"} 1`,
	} {
		for deadline := time.Now().Add(10 * time.Second); ; {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: got %d, want 200 with %s", path, resp.StatusCode, want)
			}
			time.Sleep(50 * time.Millisecond) // polling a real server over HTTP
		}
	}
	var swept bytes.Buffer
	if err := run(context.Background(), []string{"sweep", "--dry-run", "--grace", "1ns", "--data-dir", dir}, env(nil), &swept, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(swept.String(), "0 would delete, 0 rows with a missing file") {
		t.Fatalf("sweep: got %q, want nothing to delete and nothing missing", swept.String())
	}

	// A read-scope token reads but cannot write.
	out.Reset()
	if err := run(context.Background(), []string{"token", "create", "--user", "viewer", "--scope", "read", "--expires", "24h"}, getenv, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	reader := strings.TrimSpace(out.String())
	if code, p := callAs(reader, "GET", "/api/products/book/", "", nil); code != http.StatusOK || p["slug"] != "book" {
		t.Fatalf("read token GET: got %d %v, want 200", code, p)
	}
	code, p = callAs(reader, "DELETE", "/api/products/book/", "", nil)
	if code != http.StatusForbidden || p["detail"] != "You do not have permission to perform this action." {
		t.Fatalf("read token DELETE: got %d %v, want 403 with DRF's detail", code, p)
	}

	var list bytes.Buffer
	if err := run(context.Background(), []string{"token", "list", "--data-dir", dir}, env(nil), &list, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list.String(), "ops") || strings.Contains(list.String(), token) || strings.Contains(list.String(), reader) {
		t.Fatalf("token list: got %q, want the users and never a token", list.String())
	}
	// ops's token has been used (LAST USED is set); viewer's expires.
	for _, line := range strings.Split(list.String(), "\n")[1:] {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[1] == "ops" && (f[2] != "write" || f[5] != "-" || f[6] == "-"):
			t.Errorf("token list: ops: got %q, want scope write, no expiry, a last use", line)
		case f[1] == "viewer" && (f[2] != "read" || f[5] == "-"):
			t.Errorf("token list: viewer: got %q, want scope read and an expiry", line)
		}
	}
	if err := run(context.Background(), []string{"token", "revoke", "1", "--data-dir", dir}, env(nil), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if code, _ := call("DELETE", "/api/products/book/", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("revoked token: got %d, want 401", code)
	}

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve returned %v, want a clean stop", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(logs.String(), `"msg":"stopped"`) {
		t.Fatalf("logs lack the stop line:\n%s", logs.String())
	}
}

func waitUp(t *testing.T, url string, served <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-served:
			t.Fatalf("serve exited early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up after 30s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond) // waiting for a listener in another goroutine
	}
}

func pngForm(t *testing.T, field string, w, h int) (io.Reader, string) {
	t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile(field, "photo.png")
	fw.Write(img.Bytes())
	mw.Close()
	return &body, mw.FormDataContentType()
}

func TestMigrateAndUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for range 2 {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"migrate", "--data-dir", dir}, env(nil), &out, io.Discard); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		if !strings.Contains(out.String(), "up to date") {
			t.Fatalf("got %q", out.String())
		}
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), []string{"nope"}, env(nil), io.Discard, &stderr); err != errUsage || !strings.Contains(stderr.String(), "vitrine serve") {
		t.Fatalf("unknown command: got %v and %q, want the usage", err, stderr.String())
	}
	if err := run(context.Background(), []string{"token", "create", "--data-dir", dir}, env(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("token create without --user: got nil, want an error")
	}
	for _, args := range [][]string{
		{"--scope", "root"}, {"--expires", "-1h"}, {"--expires", "2001-01-01"}, {"--expires", "soon"},
	} {
		args = append([]string{"token", "create", "--user", "x", "--data-dir", dir}, args...)
		if err := run(context.Background(), args, env(nil), io.Discard, io.Discard); err == nil {
			t.Errorf("%v: got nil, want an error", args)
		}
	}
	if err := run(context.Background(), []string{"token", "revoke", "42", "--data-dir", dir}, env(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("revoking an unknown token: got nil, want an error")
	}
}
