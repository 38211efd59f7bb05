package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/vitrine/vitrine/httpapi"
)

var productFields = []string{"id", "name", "slug", "description", "price", "image", "image_url", "image_width",
	"image_height", "created_at", "updated_at", "images", "primary_image"}

func TestProductCreateBodies(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tests := []struct {
		name string
		send func(slug string) *response
	}{
		{"json", func(slug string) *response {
			return s.sendJSON("POST", "/api/products/", map[string]any{"name": "N", "slug": slug, "description": "d", "price": 19.99})
		}},
		{"multipart", func(slug string) *response {
			return s.sendMultipart("POST", "/api/products/", [][2]string{{"name", "N"}, {"slug", slug}, {"description", "d"}, {"price", "19.99"}})
		}},
		{"urlencoded", func(slug string) *response {
			return s.sendForm("POST", "/api/products/", url.Values{"name": {"N"}, "slug": {slug}, "description": {"d"}, "price": {"19.99"}})
		}},
		{"no trailing slash", func(slug string) *response {
			return s.sendJSON("POST", "/api/products", map[string]any{"name": "N", "slug": slug, "price": "19.99"})
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.with(t)
			slug := fmt.Sprintf("p-%d", i)
			p := tt.send(slug).want(http.StatusCreated).obj()
			for _, f := range productFields {
				if _, ok := p[f]; !ok {
					t.Errorf("field %q missing from %v", f, p)
				}
			}
			if p["slug"] != slug || p["price"] != "19.99" || p["image"] != nil || p["image_url"] != nil {
				t.Errorf("got %v, want slug %s, price \"19.99\", null image", p, slug)
			}
			if imgs, ok := p["images"].([]any); !ok || len(imgs) != 0 || p["primary_image"] != nil {
				t.Errorf("got images %v primary %v, want [] and null", p["images"], p["primary_image"])
			}
			got := s.get("/api/products/" + slug + "/").want(http.StatusOK).obj()
			if got["id"] != p["id"] || got["created_at"] != p["created_at"] {
				t.Errorf("got %v, want the created product %v", got, p)
			}
		})
	}
}

func TestProductValidation(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createProduct("taken")
	tests := []struct {
		name  string
		body  map[string]any
		field string
		msg   string
	}{
		{"missing name", map[string]any{"slug": "a1"}, "name", "This field is required."},
		{"blank name", map[string]any{"name": "  ", "slug": "a2"}, "name", "This field may not be blank."},
		{"long name", map[string]any{"name": strings.Repeat("n", 201), "slug": "a3"}, "name", "Ensure this field has no more than 200 characters."},
		{"missing slug", map[string]any{"name": "n"}, "slug", "This field is required."},
		{"slug with slash", map[string]any{"name": "n", "slug": "a/b"}, "slug", "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."},
		{"unicode slug", map[string]any{"name": "n", "slug": "café"}, "slug", "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."},
		{"long slug", map[string]any{"name": "n", "slug": strings.Repeat("s", 51)}, "slug", "Ensure this field has no more than 50 characters."},
		{"taken slug", map[string]any{"name": "n", "slug": "taken"}, "slug", "product with this slug already exists."},
		{"price NaN", map[string]any{"name": "n", "slug": "a4", "price": "NaN"}, "price", "A valid number is required."},
		{"price 3 places", map[string]any{"name": "n", "slug": "a5", "price": "1.999"}, "price", "Ensure that there are no more than 2 decimal places."},
		{"price too big", map[string]any{"name": "n", "slug": "a6", "price": "1e400"}, "price", "Ensure that there are no more than 8 digits before the decimal point."},
		{"price negative", map[string]any{"name": "n", "slug": "a7", "price": -1}, "price", "Ensure this value is greater than or equal to 0."},
		{"price bool", map[string]any{"name": "n", "slug": "a8", "price": true}, "price", "A valid number is required."},
		{"name null", map[string]any{"name": nil, "slug": "a9"}, "name", "This field may not be null."},
		{"name list", map[string]any{"name": []int{1}, "slug": "a10"}, "name", "Not a valid string."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := s.with(t)
			body := s.sendJSON("POST", "/api/products/", tt.body).want(http.StatusBadRequest).obj()
			msgs, _ := body[tt.field].([]any)
			if len(msgs) == 0 || msgs[0] != tt.msg {
				t.Fatalf("got %v, want {%q: [%q]}", body, tt.field, tt.msg)
			}
		})
	}
}

func TestProductPriceFormats(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tests := []struct {
		in   any
		want any
	}{
		{"19.99", "19.99"}, {19.99, "19.99"}, {5, "5.00"}, {"0.5", "0.50"}, {"1e2", "100.00"},
		{"-0", "0.00"}, {"1.500", "1.50"}, {nil, nil}, {"99999999.99", "99999999.99"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			t.Parallel()
			s := s.with(t)
			p := s.sendJSON("POST", "/api/products/", map[string]any{"name": "n", "slug": fmt.Sprint("pr", i), "price": tt.in}).want(http.StatusCreated).obj()
			if p["price"] != tt.want {
				t.Fatalf("got price %v, want %v", p["price"], tt.want)
			}
		})
	}
}

func TestProductList(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for i := range 25 {
		s.createProduct(fmt.Sprintf("item-%02d", i))
	}
	page := s.get("/api/products/").want(http.StatusOK).obj()
	if page["count"] != float64(25) || page["previous"] != nil || len(page["results"].([]any)) != 20 {
		t.Fatalf("got count %v previous %v and %d results, want 25, null, 20", page["count"], page["previous"], len(page["results"].([]any)))
	}
	if page["next"] != "http://example.com/api/products/?page=2" {
		t.Fatalf("got next %v, want the absolute URL of page 2", page["next"])
	}
	// Newest first by default.
	if first := page["results"].([]any)[0].(map[string]any); first["slug"] != "item-24" {
		t.Fatalf("got first %v, want item-24", first["slug"])
	}
	page2 := s.fetch(page["next"]).want(http.StatusOK).obj()
	if len(page2["results"].([]any)) != 5 || page2["next"] != nil || page2["previous"] != "http://example.com/api/products/" {
		t.Fatalf("page 2: got %d results, next %v, previous %v", len(page2["results"].([]any)), page2["next"], page2["previous"])
	}
	sized := s.get("/api/products/?page_size=1000&ordering=name").want(http.StatusOK).obj()
	if n := len(sized["results"].([]any)); n != 25 {
		t.Fatalf("page_size 1000 (capped to 100): got %d results, want 25", n)
	}
	if first := sized["results"].([]any)[0].(map[string]any); first["slug"] != "item-00" {
		t.Fatalf("ordering=name: got first %v, want item-00", first["slug"])
	}
	search := s.get("/api/products/?search=ITEM-1").want(http.StatusOK).obj()
	if search["count"] != float64(10) {
		t.Fatalf("search: got count %v, want 10", search["count"])
	}
	for _, bad := range []string{"0", "-1", "x", "3"} {
		body := s.get("/api/products/?page=" + bad).want(http.StatusNotFound).obj()
		if body["detail"] != "Invalid page." {
			t.Fatalf("page=%s: got %v, want Invalid page.", bad, body)
		}
	}
}

func TestProductUpdateAndDelete(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("upd")
	p := s.sendJSON("PATCH", "/api/products/upd/", map[string]any{"name": "Renamed", "price": "5"}).want(http.StatusOK).obj()
	if p["name"] != "Renamed" || p["price"] != "5.00" || p["description"] != "d" || p["slug"] != slug {
		t.Fatalf("after PATCH: got %v", p)
	}
	s.sendForm("PATCH", "/api/products/upd", url.Values{"description": {"form"}}).want(http.StatusOK)
	if got := s.get("/api/products/upd/").obj()["description"]; got != "form" {
		t.Fatalf("got description %v, want form", got)
	}
	// PUT is a full update: name and slug are required.
	body := s.sendJSON("PUT", "/api/products/upd/", map[string]any{"name": "x"}).want(http.StatusBadRequest).obj()
	if body["slug"] == nil {
		t.Fatalf("PUT without slug: got %v, want a slug error", body)
	}
	s.sendJSON("PUT", "/api/products/upd/", map[string]any{"name": "x", "slug": "moved"}).want(http.StatusOK)
	s.get("/api/products/upd/").want(http.StatusNotFound)
	r := s.serve(request{method: "DELETE", path: "/api/products/moved/"}).want(http.StatusNoContent)
	if r.Body.Len() != 0 {
		t.Fatalf("204 with body %q", r.Body.String())
	}
	s.get("/api/products/moved/").want(http.StatusNotFound)
	s.serve(request{method: "DELETE", path: "/api/products/moved/"}).want(http.StatusNotFound)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createProduct("mine")
	tests := []struct {
		name   string
		auth   string
		anon   bool
		detail string
	}{
		{"anonymous", "", true, "Authentication credentials were not provided."},
		{"wrong token", "Bearer vt_wrong", false, "Invalid token."},
		{"empty bearer", "Bearer", false, "Invalid token header. No credentials provided."},
		{"spaces", "Bearer a b", false, "Invalid token header. Token string should not contain spaces."},
		{"other scheme is anonymous", "Basic dXNlcjpwYXNz", false, "Authentication credentials were not provided."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := s.with(t)
			for _, req := range []request{
				{method: "POST", path: "/api/products/", body: strings.NewReader(`{"name":"n","slug":"z"}`), ctype: "application/json"},
				{method: "PATCH", path: "/api/products/mine/", body: strings.NewReader(`{"name":"n"}`), ctype: "application/json"},
				{method: "DELETE", path: "/api/products/mine/"},
				{method: "POST", path: "/api/products/mine/images/reorder/", body: strings.NewReader(`{"order":[]}`), ctype: "application/json"},
			} {
				req.anonymous, req.auth = tt.anon, tt.auth
				r := s.serve(req).want(http.StatusUnauthorized)
				if got := r.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("%s %s: got WWW-Authenticate %q, want Bearer", req.method, req.path, got)
				}
				if body := r.obj(); body["detail"] != tt.detail {
					t.Errorf("%s %s: got %v, want detail %q", req.method, req.path, body, tt.detail)
				}
			}
		})
	}
	// Reads are anonymous; the product is untouched.
	if p := s.get("/api/products/mine/").want(http.StatusOK).obj(); p["name"] != "Product mine" {
		t.Fatalf("got %v", p)
	}
	// A revoked token no longer writes.
	ts, err := s.db.Tokens(t.Context())
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens: %v %v", ts, err)
	}
	if err := s.db.RevokeToken(t.Context(), ts[0].ID); err != nil {
		t.Fatal(err)
	}
	s.sendJSON("POST", "/api/products/", map[string]any{"name": "n", "slug": "late"}).want(http.StatusUnauthorized)
}

func TestPublicURL(t *testing.T) {
	t.Parallel()
	fixed, _ := url.Parse("https://api.shop.example")
	tests := []struct {
		name   string
		opt    serverOption
		header map[string]string
		want   string
	}{
		{"from request host", func(*httpapi.Config) {}, nil, "http://example.com/media/"},
		{"forwarded ignored when untrusted", func(*httpapi.Config) {}, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cdn.example"}, "http://example.com/media/"},
		{"forwarded trusted", func(c *httpapi.Config) { c.TrustProxy = true }, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "shop.example"}, "https://shop.example/media/"},
		{"public url wins", func(c *httpapi.Config) { c.PublicURL = fixed; c.TrustProxy = true }, map[string]string{"X-Forwarded-Host": "evil.example"}, "https://api.shop.example/media/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, tt.opt)
			slug := s.createProduct("u")
			body, ctype := multipartBody(t, nil, []upload{{"image", "a.png", makePNG(t, 300, 300)}})
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			p := s.serve(request{method: "POST", path: "/api/products/" + slug + "/upload_image/", body: body, ctype: ctype, header: h}).want(http.StatusOK).obj()
			want := tt.want
			if s.s3 {
				// The bucket's URL, whatever the request says.
				want = s.blobs.URL("")
			}
			if u, _ := p["image_url"].(string); !strings.HasPrefix(u, want) {
				t.Fatalf("got image_url %v, want prefix %s", p["image_url"], want)
			}
		})
	}
}

func TestProductCreateWithImage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	fields := func(slug string) [][2]string {
		return [][2]string{{"name", "With image"}, {"slug", slug}, {"price", "1.00"}}
	}
	p := s.sendMultipart("POST", "/api/products/", fields("img-ok"), upload{"image", "a.jpg", makeJPEG(t, 640, 480)}).want(http.StatusCreated).obj()
	if p["image_width"] != float64(640) || p["image_height"] != float64(480) {
		t.Fatalf("got %vx%v, want 640x480", p["image_width"], p["image_height"])
	}
	if got := s.fetch(p["image_url"]).want(http.StatusOK).Header().Get("Content-Type"); got != "image/jpeg" {
		t.Fatalf("got Content-Type %q, want image/jpeg", got)
	}
	// A bad image refuses the whole product and stores nothing more.
	before := s.files()
	body := s.sendMultipart("POST", "/api/products/", fields("img-bad"), upload{"image", "a.png", makePNG(t, 100, 100)}).want(http.StatusBadRequest).obj()
	if msgs, _ := body["image"].([]any); len(msgs) != 1 || msgs[0] != "Image dimensions too small. Minimum 200x200 pixels." {
		t.Fatalf("got %v, want the minimum-size error", body)
	}
	s.get("/api/products/img-bad/").want(http.StatusNotFound)
	if got := s.files(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("got files %v, want %v", got, before)
	}
	// A taken slug after a good image: the stored file is removed again.
	s.sendMultipart("POST", "/api/products/", fields("img-ok"), upload{"image", "b.jpg", makeJPEG(t, 640, 480)}).want(http.StatusBadRequest)
	if got := s.files(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("got files %v, want %v", got, before)
	}
	// JSON cannot carry a file.
	s.sendJSON("POST", "/api/products/", map[string]any{"name": "n", "slug": "img-json", "image": "x"}).want(http.StatusBadRequest)
	s.sendJSON("POST", "/api/products/", map[string]any{"name": "n", "slug": "img-null", "image": nil}).want(http.StatusCreated)
	_ = bytes.MinRead
}

// TestProductDeleteRemovesEveryFile deletes a product with a single image
// and a rendered gallery: every original and rendition goes.
func TestProductDeleteRemovesEveryFile(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("gone")
	keep := s.createProduct("kept")
	s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", "a.png", makePNG(t, 300, 300)}).want(http.StatusOK)
	var urls []any
	for range 3 {
		img := s.addImage(slug, makeJPEG(t, 900, 900), "g.jpg")
		ready := s.waitStatus(slug, img["id"])
		urls = append(urls, ready["image_url"], ready["thumbnail_url"], ready["medium_url"])
	}
	kept := s.waitStatus(keep, s.addImage(keep, makePNG(t, 50, 50), "k.png")["id"])
	if n, want := len(s.files()), 1+4*filesPerImage; n != want {
		t.Fatalf("got %d files before the delete, want %d", n, want)
	}
	s.serve(request{method: "DELETE", path: "/api/products/" + slug}).want(http.StatusNoContent)
	for _, u := range urls {
		s.fetch(u).want(http.StatusNotFound)
	}
	s.waitFiles(s.filesOf(kept))
}
