package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/httpapi"
)

// The fuzz targets of the HTTP layer send what a client controls (bodies,
// content types, query strings, path segments) through the real router,
// one server per fuzzing process, whose jobs never run. Every answer must be below 500 and JSON;
// each target adds the properties of its route. scripts/fuzz.sh runs them.

// fuzzAnswer checks what every answer to a fuzzed request must be: not a
// 5xx and, unless it is a 204, a JSON body. It returns the decoded body.
func fuzzAnswer(t *testing.T, r *response) any {
	t.Helper()
	if r.Code >= 500 {
		t.Fatalf("got status %d; body %q", r.Code, clip(r.Body.String()))
	}
	if r.Code == http.StatusNoContent {
		return nil
	}
	if ct := r.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("got status %d with Content-Type %q, want application/json", r.Code, ct)
	}
	var v any
	if err := json.Unmarshal(r.Body.Bytes(), &v); err != nil {
		t.Fatalf("got status %d with body %q, not JSON: %v", r.Code, clip(r.Body.String()), err)
	}
	return v
}

// originalPattern matches the key of an original (renditions live under
// products/<name>/ and are made in the background).
var originalPattern = regexp.MustCompile(`^products/\d{4}/`)

// newOriginals returns the originals in after that are not in before.
func newOriginals(before, after []string) []string {
	var out []string
	for _, k := range after {
		if originalPattern.MatchString(k) && !slices.Contains(before, k) {
			out = append(out, k)
		}
	}
	return out
}

// FuzzMultipart posts arbitrary bodies under arbitrary content types to
// the four upload routes. A refusal stores no original; no request leaves
// a temporary file behind.
func FuzzMultipart(f *testing.F) {
	tmp := f.TempDir()
	s := newIdleServer(f, func(c *httpapi.Config) { c.TempDir = tmp })
	slug := s.createProduct("fuzz")
	routes := []string{
		"/api/products/" + slug + "/images/",
		"/api/products/" + slug + "/images/bulk_upload/",
		"/api/products/" + slug + "/upload_image/",
		"/api/products/",
	}
	fields := []string{"image", "images", "image", "image"}
	small := makePNG(f, 8, 8)
	for i, field := range fields {
		var form [][2]string
		if i == 3 {
			form = [][2]string{{"name", "n"}, {"slug", "new"}}
		}
		body, ctype := multipartBody(f, form, []upload{{field, "a.png", small}})
		f.Add(uint8(i), ctype, body.Bytes())
		body, ctype = multipartBody(f, [][2]string{{"alt_text", "x"}, {"order", "2"}}, []upload{{field, "a.jpg", []byte("\xff\xd8\xff<html>")}})
		f.Add(uint8(i), ctype, body.Bytes())
	}
	const b = "XyZzY"
	f.Add(uint8(0), "multipart/form-data; boundary="+b,
		[]byte(part(b, "Content-Disposition: form-data; name=\"image\"\r\nContent-Type: multipart/mixed; boundary=inner",
			"--inner\r\nContent-Disposition: file; filename=\"a.png\"\r\n\r\n"+string(small)+"\r\n--inner--\r\n")+"--"+b+"--\r\n"))
	f.Add(uint8(0), "multipart/form-data", []byte(part(b, `Content-Disposition: form-data; name="image"; filename="a.png"`, string(small))))
	f.Add(uint8(1), "multipart/form-data; boundary="+b, []byte(strings.Repeat(part(b, `Content-Disposition: form-data; name="f"`, "x"), 20)+"--"+b+"--\r\n"))
	f.Add(uint8(2), "multipart/form-data; boundary="+b, []byte(part(b, "Content-Disposition: form-data; name=\"image\"; filename=\"a.png\"\r\nContent-Transfer-Encoding: base64", "iVBORw0KGgo=")))
	f.Fuzz(func(t *testing.T, route uint8, ctype string, body []byte) {
		s := s.with(t)
		before := s.files()
		r := s.serve(request{method: "POST", path: routes[int(route)%len(routes)], ctype: ctype, body: bytes.NewReader(body)})
		fuzzAnswer(t, r)
		if r.Code >= 400 {
			if added := newOriginals(before, s.files()); len(added) > 0 {
				t.Fatalf("a refused request (%d) stored %v", r.Code, added)
			}
		}
		if left := tempFiles(t, tmp); len(left) > 0 {
			t.Fatalf("temporary files left behind: %v", left)
		}
	})
}

// FuzzReorder posts arbitrary JSON or form bodies to the reorder route of
// a product with three images. A 200 lists exactly the product's images,
// those named first in the order named; a refusal changes no order.
func FuzzReorder(f *testing.F) {
	s := newIdleServer(f)
	slug := s.createProduct("fuzz")
	var imgs []string
	for i := range 3 {
		imgs = append(imgs, id(s.addImage(slug, makePNG(f, 4, 4), fmt.Sprint(i, ".png"))))
	}
	path := "/api/products/" + slug + "/images/reorder/"
	for _, body := range []string{
		`{"order": [` + imgs[2] + `, ` + imgs[0] + `]}`,
		`{"order": [` + imgs[0] + `], "order": [` + imgs[1] + `]}`,
		`{"order": []}`, `{}`, `{"order": [1e9]}`, `{"order": ["` + imgs[0] + `"]}`, `{"order": [null]}`, `{"order": [-1]}`,
		`{"order": [` + imgs[1] + `, ` + imgs[1] + `]}`, `{"order": [[[` + imgs[1] + `]]]}`, `[1]`, `{"order": 1}`,
	} {
		f.Add(false, []byte(body))
	}
	f.Add(true, []byte("order="+imgs[1]+"&order="+imgs[2]))
	f.Add(true, []byte("order[]="+imgs[2]+"&order=%zz"))
	list := func(s *testServer) []string {
		var out []string
		for _, img := range s.get("/api/products/" + slug + "/images/").want(http.StatusOK).list() {
			out = append(out, id(img))
		}
		return out
	}
	f.Fuzz(func(t *testing.T, form bool, body []byte) {
		s := s.with(t)
		before := list(s)
		ctype := "application/json"
		if form {
			ctype = "application/x-www-form-urlencoded"
		}
		r := s.serve(request{method: "POST", path: path, ctype: ctype, body: bytes.NewReader(body)})
		fuzzAnswer(t, r)
		after := list(s)
		if r.Code != http.StatusOK {
			if !slices.Equal(after, before) {
				t.Fatalf("a refused reorder (%d) changed the order from %v to %v", r.Code, before, after)
			}
			return
		}
		var got []string
		for _, img := range r.list() {
			got = append(got, id(img))
		}
		if !slices.Equal(got, after) || !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(imgs))) {
			t.Fatalf("got order %v (listed next as %v), want a permutation of %v", got, after, imgs)
		}
		if named := orderNamed(form, body); named != nil && !slices.Equal(got[:min(len(named), len(got))], named) {
			t.Fatalf("got order %v, want %v first", got, named)
		}
	})
}

// orderNamed reads the ids a reorder body names, as plain decimal text,
// or nil when the body is not one this test reads on its own.
func orderNamed(form bool, body []byte) []string {
	var items []string
	if form {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil
		}
		items = append(vals["order"], vals["order[]"]...)
	} else {
		var obj map[string]json.RawMessage
		var list []json.Number
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if dec.Decode(&obj) != nil || json.Unmarshal(obj["order"], &list) != nil {
			return nil
		}
		for _, n := range list {
			items = append(items, n.String())
		}
	}
	for i, s := range items {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil
		}
		items[i] = strconv.FormatInt(n, 10)
	}
	return items
}

// FuzzProductList sends arbitrary query strings to the product list: page,
// page_size, search and ordering in any encoding. A 200 is a page of at
// most page_size products; a 404 is an invalid page; a 400 a bad search.
func FuzzProductList(f *testing.F) {
	s := newIdleServer(f)
	for _, slug := range []string{"alpha", "beta", "gamma"} {
		s.createProduct(slug)
	}
	for _, q := range []string{
		"", "page=2&page_size=1", "page=last&page_size=2", "search=alp&ordering=-price", "ordering=name;DROP+TABLE+products",
		"page=9223372036854775807", "page=4611686018427387904&page_size=100", "page=0", "page=1e3", "page_size=-5",
		"search=%FF", "search=a%00", "page=%zz", "page=1;page=2", "ordering=-created_at&ordering=name",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		s := s.with(t)
		req := httptest.NewRequest("GET", "/api/products/", nil)
		req.URL.RawQuery = rawQuery
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, req)
		r := &response{ResponseRecorder: w, t: t}
		body := fuzzAnswer(t, r)
		query := req.URL.Query()
		switch r.Code {
		case http.StatusOK:
			page, _ := body.(map[string]any)
			results, _ := page["results"].([]any)
			pageSize := 20
			if n, err := strconv.Atoi(query.Get("page_size")); err == nil && n > 0 {
				pageSize = min(n, 100)
			}
			count, _ := page["count"].(float64)
			if len(results) == 0 && count > 0 || len(results) > pageSize || count < float64(len(results)) || count > 3 {
				t.Fatalf("got %d results of %v for page size %d: %s", len(results), page["count"], pageSize, clip(r.Body.String()))
			}
			if query.Get("search") == "" && count != 3 {
				t.Fatalf("got count %v without a search, want 3", page["count"])
			}
		case http.StatusNotFound:
			if detail := body.(map[string]any)["detail"]; detail != "Invalid page." {
				t.Fatalf("got 404 %v, want Invalid page.", detail)
			}
		case http.StatusBadRequest:
			if vitrine.CheckText(query.Get("search"), 200) == nil {
				t.Fatalf("got 400 %s for the search %q, which is valid", clip(r.Body.String()), query.Get("search"))
			}
		default:
			t.Fatalf("got status %d: %s", r.Code, clip(r.Body.String()))
		}
	})
}

// FuzzPathSlug puts an arbitrary slug in the product's paths (escaped, so
// it may hold /, NUL or bad UTF-8 once decoded). Only the product's own
// slug finds it; anything else is 404, never a query error. "", "." and
// ".." make a path that net/http's ServeMux redirects to its clean form
// before any handler runs; they are left out.
func FuzzPathSlug(f *testing.F) {
	s := newIdleServer(f)
	slug := s.createProduct("fuzz")
	for _, seed := range []string{slug, "FUZZ", "fuzz ", "a/b", "a\x00", "\xff\xfe", "café", strings.Repeat("s", 51), "%2F"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seg string) {
		if seg == "" || seg == "." || seg == ".." {
			t.Skip("ServeMux redirects a path it cleans")
		}
		s := s.with(t)
		base := "/api/products/" + url.PathEscape(seg) + "/"
		for _, req := range []request{
			{method: "GET", path: base, anonymous: true},
			{method: "GET", path: base + "images/", anonymous: true},
			{method: "PATCH", path: base, ctype: "application/json", body: strings.NewReader(`{}`)},
			{method: "POST", path: base + "images/reorder/", ctype: "application/json", body: strings.NewReader(`{}`)},
		} {
			r := s.serve(req)
			fuzzAnswer(t, r)
			want := http.StatusNotFound
			if seg == slug {
				want = http.StatusOK
			}
			if r.Code != want {
				t.Fatalf("%s %s: got %d, want %d; body %q", req.method, req.path, r.Code, want, clip(r.Body.String()))
			}
		}
	})
}

// FuzzProductWrite sends arbitrary JSON bodies to create, replace and
// patch a product. A success is a product whose fields are valid and read
// back the same; a refusal leaves the product as it was.
func FuzzProductWrite(f *testing.F) {
	s := newIdleServer(f)
	const slug = "fuzz"
	s.createProduct(slug)
	target := "/api/products/" + slug + "/"
	for _, body := range []string{
		`{"name": "n", "slug": "fresh", "price": "1.50"}`,
		`{"name": "first", "name": "last", "slug": "dup", "slug": "dup2", "price": "-0"}`,
		`{"name": 12345, "description": 1.5, "price": -0.0}`,
		`{"price": NaN}`, `{"price": "NaN"}`, `{"price": 1e400}`, `{"price": "99999999.99"}`, `{"price": null}`,
		`{"slug": "a/b"}`, `{"slug": "a%2Fb"}`, `{"slug": "café"}`, `{"slug": "` + strings.Repeat("s", 60) + `"}`,
		`{"name": [[[[1]]]]}`, `{"name": {"a": 1}}`, `{"name": null}`, `{"name": "a\u0000b"}`, `{"id": 1e9, "name": "x"}`,
		`[]`, `null`, `{"name": "a"} {}`, `{"image": "../../etc/passwd"}`,
	} {
		for m := range 3 {
			f.Add(uint8(m), []byte(body))
		}
	}
	price := regexp.MustCompile(`^\d{1,8}\.\d\d$`)
	f.Fuzz(func(t *testing.T, method uint8, body []byte) {
		s := s.with(t)
		before := s.get(target).want(http.StatusOK).Body.String()
		req := request{method: "POST", path: "/api/products/", ctype: "application/json", body: bytes.NewReader(body)}
		switch method % 3 {
		case 1:
			req.method, req.path = "PUT", target
		case 2:
			req.method, req.path = "PATCH", target
		}
		r := s.serve(req)
		v := fuzzAnswer(t, r)
		if r.Code >= 400 {
			if got := s.get(target).want(http.StatusOK).Body.String(); got != before {
				t.Fatalf("a refused %s (%d) changed the product:\n got %s\nwant %s", req.method, r.Code, got, before)
			}
			return
		}
		p, _ := v.(map[string]any)
		newSlug, _ := p["slug"].(string)
		name, _ := p["name"].(string)
		if _, err := vitrine.ParseSlug(newSlug); err != nil || vitrine.CheckText(name, 200) != nil || name == "" {
			t.Fatalf("%s answered %d with slug %q and name %q", req.method, r.Code, newSlug, name)
		}
		if pr, ok := p["price"].(string); p["price"] != nil && (!ok || !price.MatchString(pr)) {
			t.Fatalf("%s answered %d with price %v", req.method, r.Code, p["price"])
		}
		if got := s.get("/api/products/" + newSlug + "/").want(http.StatusOK).Body.String(); got != r.Body.String() {
			t.Fatalf("the product reads back differently:\n got %s\nwant %s", got, r.Body.String())
		}
		// Keep the target where the next input expects it.
		if req.method != "POST" && newSlug != slug {
			s.sendJSON("PATCH", "/api/products/"+newSlug+"/", map[string]string{"slug": slug}).want(http.StatusOK)
		}
	})
}
