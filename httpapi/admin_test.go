package httpapi_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/httpapi"
)

func TestAdminPageServed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	r := s.get("/admin/").want(http.StatusOK)
	csp := r.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline code", csp)
	}
	if !strings.Contains(r.Body.String(), "<html") || r.Header().Get("X-Frame-Options") != "DENY" {
		t.Fatalf("got %q, %v", r.Body.String(), r.Header())
	}
	if loc := s.get("/").want(http.StatusFound).Header().Get("Location"); loc != "/admin/" {
		t.Fatalf("GET /: got Location %q, want /admin/", loc)
	}
}

// TestAdminConfig: the admin page learns the limits the server enforces,
// as configured, not the defaults.
func TestAdminConfig(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *httpapi.Config) {
		c.GalleryLimits.MaxBytes = 2 << 20
		c.GalleryLimits.Formats = []vitrine.Format{vitrine.JPEG, vitrine.WebP}
		c.ProductImageLimits.MinSide, c.ProductImageLimits.MaxSide = 300, 4000
		c.MaxBulkFiles = 4
	})
	got := s.get("/admin/config.json").want(http.StatusOK).obj()
	want := map[string]any{
		"product_image": map[string]any{"max_bytes": float64(5 << 20), "min_side": float64(300), "max_side": float64(4000),
			"types": []any{"image/jpeg", "image/png", "image/webp"}},
		"gallery": map[string]any{"max_bytes": float64(2 << 20), "min_side": float64(0), "max_side": float64(0),
			"types": []any{"image/jpeg", "image/webp"}},
		"max_images_per_product": float64(50),
		"max_bulk_files":         float64(4),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *httpapi.Config) { c.CORSOrigins = []string{"https://shop.example"} })
	s.createProduct("c")
	preflight := s.serve(request{method: "OPTIONS", path: "/api/products/c/images/bulk_upload/", anonymous: true, header: http.Header{
		"Origin": {"https://shop.example"}, "Access-Control-Request-Method": {"POST"},
		"Access-Control-Request-Headers": {"authorization,content-type"}}}).want(http.StatusNoContent)
	h := preflight.Header()
	if h.Get("Access-Control-Allow-Origin") != "https://shop.example" || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight headers: %v", h)
	}
	got := s.serve(request{method: "GET", path: "/api/products/c/", anonymous: true, header: http.Header{"Origin": {"https://shop.example"}}}).want(http.StatusOK)
	if got.Header().Get("Access-Control-Allow-Origin") != "https://shop.example" || !strings.Contains(got.Header().Get("Vary"), "Origin") {
		t.Fatalf("simple request headers: %v", got.Header())
	}
	other := s.serve(request{method: "OPTIONS", path: "/api/products/", anonymous: true, header: http.Header{
		"Origin": {"https://evil.example"}, "Access-Control-Request-Method": {"POST"}}})
	if other.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("an origin not listed got %v", other.Header())
	}
}
