package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.createProduct("e")
	tests := []struct {
		name   string
		req    request
		status int
		detail string
	}{
		{"405", request{method: "DELETE", path: "/api/products/"}, http.StatusMethodNotAllowed, `Method "DELETE" not allowed.`},
		{"405 on an action", request{method: "GET", path: "/api/products/e/upload_image/"}, http.StatusMethodNotAllowed, `Method "GET" not allowed.`},
		{"415", request{method: "POST", path: "/api/products/", body: strings.NewReader("name=x"), ctype: "text/plain"}, http.StatusUnsupportedMediaType, `Unsupported media type "text/plain" in request.`},
		{"404 route", request{method: "GET", path: "/api/nothing/", anonymous: true}, http.StatusNotFound, "Not found."},
		{"404 slug", request{method: "PATCH", path: "/api/products/nope/", body: strings.NewReader(`{}`), ctype: "application/json"}, http.StatusNotFound, "Not found."},
		{"broken JSON", request{method: "POST", path: "/api/products/", body: strings.NewReader(`{"name": `), ctype: "application/json"}, http.StatusBadRequest, "JSON parse error"},
		{"JSON too large", request{method: "POST", path: "/api/products/", body: bytes.NewReader(append([]byte(`{"name": "`), bytes.Repeat([]byte("a"), 2<<20)...)), ctype: "application/json"}, http.StatusRequestEntityTooLarge, "Request body too large"},
		{"multipart without boundary", request{method: "POST", path: "/api/products/e/images/", body: strings.NewReader("x"), ctype: "multipart/form-data"}, http.StatusBadRequest, "Multipart form parse error"},
		{"multipart not multipart", request{method: "POST", path: "/api/products/e/images/", body: bytes.NewReader(bytes.Repeat([]byte("a"), 8<<20)), ctype: "multipart/form-data; boundary=xyz"}, http.StatusBadRequest, "Multipart form parse error"},
		{"upload too large", bigUpload(t), http.StatusRequestEntityTooLarge, "Request body too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := s.with(t)
			r := s.serve(tt.req).want(tt.status)
			if ct := r.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", ct)
			}
			if d, _ := r.obj()["detail"].(string); !strings.HasPrefix(d, tt.detail) {
				t.Errorf("got %s, want detail starting %q", r.Body.String(), tt.detail)
			}
		})
	}
	r := s.serve(request{method: "DELETE", path: "/api/products/"})
	if allow := r.Header().Get("Allow"); allow != "GET, HEAD, OPTIONS, POST" {
		t.Fatalf("got Allow %q", allow)
	}
	opts := s.serve(request{method: "OPTIONS", path: "/api/products/e/images/", anonymous: true}).want(http.StatusOK)
	if opts.Header().Get("Allow") != "GET, HEAD, OPTIONS, POST" {
		t.Fatalf("OPTIONS: got Allow %q", opts.Header().Get("Allow"))
	}
	// A list body where an object belongs is DRF's non_field_errors.
	body := s.serve(request{method: "POST", path: "/api/products/", body: strings.NewReader(`[1]`), ctype: "application/json"}).want(http.StatusBadRequest).obj()
	if body["non_field_errors"] == nil {
		t.Fatalf("got %v, want non_field_errors", body)
	}
	// Every response carries a request id and nosniff.
	if r.Header().Get("X-Request-Id") == "" || r.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("got headers %v", r.Header())
	}
	// An empty POST needs no Content-Type (set_primary has no body).
	img := s.addImage("e", makePNG(t, 20, 20), "a.png")
	s.serve(request{method: "POST", path: "/api/products/e/images/" + id(img) + "/set_primary/", ctype: ""}).want(http.StatusOK)
}

func TestAPIRootAndSchema(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	root := s.get("/api/").want(http.StatusOK).obj()
	if root["products"] != "http://example.com/api/products/" {
		t.Fatalf("got %v", root)
	}
	schema := s.get("/api/schema/").want(http.StatusOK).obj()
	if !strings.HasPrefix(schema["openapi"].(string), "3.1") {
		t.Fatalf("got openapi %v", schema["openapi"])
	}
	s.get("/healthz").want(http.StatusOK)
	s.get("/readyz").want(http.StatusOK)
}

// bigUpload is a well-formed multipart body whose one file is 8 MiB: over
// the route's whole-body cap, which is enforced while reading.
func bigUpload(t *testing.T) request {
	body, ctype := multipartBody(t, nil, []upload{{"image", "big.png", bytes.Repeat([]byte("a"), 8<<20)}})
	return request{method: "POST", path: "/api/products/e/images/", body: body, ctype: ctype}
}
