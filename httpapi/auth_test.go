package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/httpapi"
)

// TestScopes checks what each token scope may do, and that expired tokens
// are refused like bad ones.
func TestScopes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createProduct("book")
	past := time.Now().Add(-time.Minute)
	future := time.Now().Add(time.Hour)
	tests := []struct {
		name       string
		auth       string
		wantRead   int
		wantWrite  int
		wantDetail string // of the refused write
	}{
		{"read", s.newToken(vitrine.ScopeRead, nil), 200, 403, "You do not have permission to perform this action."},
		{"write", s.newToken(vitrine.ScopeWrite, &future), 200, 200, ""},
		{"admin", s.newToken(vitrine.ScopeAdmin, nil), 200, 200, ""},
		{"expired", s.newToken(vitrine.ScopeAdmin, &past), 401, 401, "Token has expired."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.with(t)
			s.serve(request{method: "GET", path: "/api/products/book/", auth: tt.auth}).want(tt.wantRead)
			info := s.serve(request{method: "GET", path: "/api/token/", auth: tt.auth}).want(tt.wantRead)
			if tt.wantRead == 200 {
				if got := info.obj(); got["scope"] != tt.name || got["user"] != "other" {
					t.Errorf("GET /api/token/: got %v, want scope %q of user other", got, tt.name)
				}
			}
			r := s.serve(request{method: "PATCH", path: "/api/products/book/", auth: tt.auth,
				ctype: "application/json", body: strings.NewReader(`{"description":"` + tt.name + `"}`)}).want(tt.wantWrite)
			if tt.wantDetail != "" {
				if got := r.obj()["detail"]; got != tt.wantDetail {
					t.Errorf("detail: got %v, want %q", got, tt.wantDetail)
				}
				return
			}
			if got := s.get("/api/products/book/").want(200).obj()["description"]; got != tt.name {
				t.Errorf("description after the write: got %v, want %q", got, tt.name)
			}
		})
	}
}

// TestTokenInfoNeedsAToken: GET /api/token/ describes the request's token,
// so an anonymous request has none to describe.
func TestTokenInfoNeedsAToken(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	r := s.serve(request{method: "GET", path: "/api/token/", anonymous: true}).want(http.StatusUnauthorized)
	if got := r.obj()["detail"]; got != "Authentication credentials were not provided." {
		t.Errorf("detail: got %v", got)
	}
	if got := s.serve(request{method: "GET", path: "/api/token/"}).want(http.StatusOK).obj(); got["scope"] != "write" || got["user"] != "tester" {
		t.Errorf("got %v, want the test token's write scope", got)
	}
}

// TestRateLimits checks the write limits per token and per client IP: a
// burst passes, the next write gets 429 with Retry-After, reads and other
// clients are not affected, and admin tokens are exempt. The limits are
// low so that a slow run cannot refill a bucket (one write per 10 s per
// token, per 5 s per IP).
func TestRateLimits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *httpapi.Config) { c.RateLimits = httpapi.RateLimits{PerToken: 6, PerIP: 12} })
	write := func(auth, addr string) *response {
		return s.serve(request{method: "POST", path: "/api/products/", auth: auth, remoteAddr: addr,
			ctype: "application/json", body: strings.NewReader(`{}`)}) // a 400: refused writes count too
	}
	// A burst of 5 per token, from addresses of their own.
	tok := s.newToken(vitrine.ScopeWrite, nil)
	for i := range 5 {
		write(tok, fmt.Sprintf("10.0.0.%d:1000", i)).want(400)
	}
	r := write(tok, "10.0.0.99:1000").want(429)
	if secs, err := strconv.Atoi(r.Header().Get("Retry-After")); err != nil || secs < 1 || secs > 10 {
		t.Errorf("Retry-After: got %q, want 1 to 10 seconds", r.Header().Get("Retry-After"))
	}
	if d, _ := r.obj()["detail"].(string); !strings.HasPrefix(d, "Request was throttled.") {
		t.Errorf("detail: got %q, want DRF's throttle message", d)
	}
	// Reads are not limited; another token is not.
	s.serve(request{method: "GET", path: "/api/products/", auth: tok}).want(200)
	write(s.newToken(vitrine.ScopeWrite, nil), "10.0.1.1:1000").want(400)

	// The IP limit counts anonymous writes as well.
	for range 5 {
		s.serve(request{method: "DELETE", path: "/api/products/book/", anonymous: true, remoteAddr: "192.0.2.50:2000"}).want(401)
	}
	s.serve(request{method: "DELETE", path: "/api/products/book/", anonymous: true, remoteAddr: "192.0.2.50:2001"}).want(429)
	s.serve(request{method: "DELETE", path: "/api/products/book/", anonymous: true, remoteAddr: "203.0.113.9:2000"}).want(401)

	// Admin tokens are exempt from both.
	admin := s.newToken(vitrine.ScopeAdmin, nil)
	for range 10 {
		write(admin, "192.0.2.50:1000").want(400)
	}
	if got := s.serve(request{method: "GET", path: "/api/products/", anonymous: true, remoteAddr: "192.0.2.50:1000"}).Code; got != http.StatusOK {
		t.Errorf("anonymous read from a throttled address: got %d, want 200", got)
	}
}

// TestClientIP checks which address the IP limit counts: the peer, or
// behind a trusted proxy the address the proxy appended.
func TestClientIP(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *httpapi.Config) {
		c.RateLimits = httpapi.RateLimits{PerIP: 6}
		c.TrustProxy = true
	})
	del := func(xff ...string) int {
		return s.serve(request{method: "DELETE", path: "/api/products/x/", anonymous: true, remoteAddr: "10.9.9.9:1",
			header: http.Header{"X-Forwarded-For": xff}}).Code
	}
	// The client forges the first entries; the proxy's last one counts.
	for i := range 5 {
		if got := del(fmt.Sprintf("1.1.1.%d, 198.51.100.1", i)); got != 401 {
			t.Fatalf("write %d: got %d, want 401", i, got)
		}
	}
	if got := del("9.9.9.9", "198.51.100.1"); got != 429 {
		t.Errorf("sixth write from 198.51.100.1: got %d, want 429", got)
	}
	if got := del("198.51.100.2"); got != 401 {
		t.Errorf("write from 198.51.100.2: got %d, want 401", got)
	}
}

// TestSecurityHeaders checks the headers every kind of response carries,
// successes and errors alike, and that the admin page has its own CSP.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createProduct("book")
	for _, req := range []request{
		{method: "GET", path: "/api/products/", anonymous: true},
		{method: "GET", path: "/api/products/book/", anonymous: true},
		{method: "GET", path: "/nowhere", anonymous: true},
		{method: "DELETE", path: "/api/products/book/", anonymous: true},
		{method: "POST", path: "/api/products/", body: strings.NewReader("{"), ctype: "application/json"},
		{method: "TRACE", path: "/api/products/"},
		{method: "GET", path: "/healthz", anonymous: true},
		{method: "GET", path: "/metrics", anonymous: true},
		{method: "GET", path: "/media/products/none.png", anonymous: true},
		{method: "GET", path: "/admin/", anonymous: true},
	} {
		r := s.serve(req)
		h := r.Header()
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
			if h.Get(k) != v {
				t.Errorf("%s %s (%d): %s: got %q, want %q", req.method, req.path, r.Code, k, h.Get(k), v)
			}
		}
		csp := h.Get("Content-Security-Policy")
		switch {
		case req.path == "/admin/" && (!strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'")):
			t.Errorf("admin page: CSP %q, want its own with script-src 'self' and frame-ancestors 'none'", csp)
		case req.path != "/admin/" && csp != "default-src 'none'; frame-ancestors 'none'; sandbox":
			t.Errorf("%s %s (%d): CSP %q, want the sandboxing default", req.method, req.path, r.Code, csp)
		}
	}
}
