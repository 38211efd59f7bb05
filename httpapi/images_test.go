package httpapi_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vitrine/vitrine/httpapi"
)

var imageFields = []string{"id", "image", "image_url", "thumbnail_url", "medium_url", "alt_text", "caption",
	"is_primary", "order", "uploaded_at", "width", "height", "status"}

func TestGalleryCreate(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("g")
	img := s.addImage(slug, makeJPEG(t, 1200, 600), "front.jpg", [2]string{"alt_text", "A red thing"}, [2]string{"caption", "Front view"})
	for _, f := range imageFields {
		if _, ok := img[f]; !ok {
			t.Errorf("field %q missing from %v", f, img)
		}
	}
	if img["alt_text"] != "A red thing" || img["caption"] != "Front view" || img["is_primary"] != false || img["order"] != float64(0) {
		t.Errorf("got %v, want the metadata sent and defaults", img)
	}
	if img["width"] != float64(1200) || img["height"] != float64(600) {
		t.Errorf("got %vx%v, want 1200x600", img["width"], img["height"])
	}
	// Renditions do not exist yet at upload: their URLs are null, never a 404.
	if img["status"] == "pending" && (img["thumbnail_url"] != nil || img["medium_url"] != nil) {
		t.Errorf("pending image with rendition URLs: %v", img)
	}
	key := s.keyOf(img["image_url"])
	if !strings.HasPrefix(key, "products/") || !strings.HasSuffix(key, ".jpg") || strings.Contains(key, "front") {
		t.Errorf("got key %q, want products/YYYY/MM/DD/<uuid>.jpg without the client's name", key)
	}
	ready := s.waitStatus(slug, img["id"])
	if ready["status"] != "ready" {
		t.Fatalf("got status %v (%v), want ready", ready["status"], ready["status_reason"])
	}
	tests := []struct {
		field string
		dir   string
		w, h  int
	}{
		{"thumbnail_url", "products/thumbnails/", 200, 100},
		{"medium_url", "products/medium/", 800, 400},
	}
	for _, tt := range tests {
		if k := s.keyOf(ready[tt.field]); !strings.HasPrefix(k, tt.dir) || !strings.HasSuffix(k, ".jpg") {
			t.Errorf("%s: got key %q, want %s...jpg", tt.field, k, tt.dir)
		}
		r := s.fetch(ready[tt.field]).want(http.StatusOK)
		if ct := r.Header().Get("Content-Type"); ct != "image/jpeg" {
			t.Errorf("%s: got Content-Type %q, want image/jpeg", tt.field, ct)
		}
		b := decodeImage(t, r.Body.Bytes()).Bounds()
		if b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("%s: got %dx%d, want %dx%d", tt.field, b.Dx(), b.Dy(), tt.w, tt.h)
		}
	}
	rd := ready["renditions"].(map[string]any)
	if th := rd["thumbnail"].(map[string]any); th["url"] != ready["thumbnail_url"] || th["width"] != float64(200) || th["format"] != "jpeg" {
		t.Errorf("got renditions %v", rd)
	}
}

func TestRenditionsNeverUpscaleAndFlattenAlpha(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("small")
	// A 100x50 PNG whose left half is fully transparent.
	src := testImage(100, 50)
	for y := range 50 {
		for x := range 50 {
			src.Set(x, y, color.NRGBA{0, 0, 0, 0})
		}
	}
	img := s.addImage(slug, pngBytes(t, src), "clear.png")
	ready := s.waitStatus(slug, img["id"])
	for _, field := range []string{"thumbnail_url", "medium_url"} {
		out := decodeImage(t, s.fetch(ready[field]).want(http.StatusOK).Body.Bytes())
		if b := out.Bounds(); b.Dx() != 100 || b.Dy() != 50 {
			t.Fatalf("%s: got %dx%d, want 100x50 (never upscaled)", field, b.Dx(), b.Dy())
		}
		r, g, b, _ := out.At(10, 25).RGBA()
		if r>>8 < 245 || g>>8 < 245 || b>>8 < 245 {
			t.Fatalf("%s: transparent pixel became (%d,%d,%d), want white", field, r>>8, g>>8, b>>8)
		}
	}
}

func TestGalleryFormats(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("fmt")
	tests := []struct {
		name  string
		data  []byte
		ctype string
	}{
		{"a.jpg", makeJPEG(t, 300, 200), "image/jpeg"},
		{"b.jpeg", makeJPEG(t, 300, 200), "image/jpeg"},
		{"c.png", makePNG(t, 300, 200), "image/png"},
		{"d.webp", makeWebP(t, 300, 200), "image/webp"},
		{"e.PNG", makePNG(t, 300, 200), "image/png"},
		{"jpeg-named.png", makeJPEG(t, 300, 200), "image/jpeg"}, // stored as what the bytes are
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.with(t)
			img := s.addImage(slug, tt.data, tt.name)
			if got := s.fetch(img["image_url"]).want(http.StatusOK).Header().Get("Content-Type"); got != tt.ctype {
				t.Fatalf("got Content-Type %q, want %q", got, tt.ctype)
			}
			if ready := s.waitStatus(slug, img["id"]); ready["status"] != "ready" {
				t.Fatalf("got %v, want ready", ready)
			}
		})
	}
}

// TestUploadValidation runs every refused file through every upload route:
// 400 with the field error, nothing stored, nothing changed.
func TestUploadValidation(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	exact := exactSizePNG(t, 5*1024*1024)
	tests := []struct {
		name    string
		file    string
		data    []byte
		msg     string // prefix of the expected message
		product bool   // only the product's single image refuses it
	}{
		{"over 5 MiB", "big.png", exactSizePNG(t, 5*1024*1024+1), "Image file too large. Maximum size is 5MB.", false},
		{"text named jpg", "notes.jpg", bytes.Repeat([]byte("This is text.\n"), 50), "Upload a valid image.", false},
		{"random bytes", "noise.png", []byte("\x00\x01\x02garbage\xff\xfe"), "Upload a valid image.", false},
		{"empty", "empty.png", nil, "The submitted file is empty.", false},
		{"gif", "anim.gif", makeGIF(t, 300, 300), "File extension “gif” is not allowed.", false},
		{"gif named png", "anim.png", makeGIF(t, 300, 300), "Unsupported format (GIF).", false},
		{"bmp named png", "x.png", append([]byte("BM"), make([]byte, 64)...), "Unsupported format (BMP).", false},
		{"svg named png", "x.png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "Unsupported format (SVG).", false},
		{"html named png", "x.png", []byte("<html><script>alert(1)</script></html>"), "Upload a valid image.", false},
		{"no extension", "photo", makePNG(t, 300, 300), "File extension “” is not allowed.", false},
		{"truncated png", "cut.png", makePNG(t, 400, 400)[:900], "Upload a valid image.", false},
		{"truncated jpeg", "cut.jpg", truncate(makeJPEG(t, 400, 400), 0.5), "Upload a valid image.", false},
		{"jpeg header then html", "poly.jpg", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, []byte("<html>hi</html>")...), "Upload a valid image.", false},
		{"pixel bomb", "bomb.png", bombPNG(50000, 50000), "Image too large: 50000x50000", false},
		{"199 px", "small.png", makePNG(t, 199, 300), "Image dimensions too small. Minimum 200x200 pixels.", true},
		{"5001 px", "wide.png", makePNG(t, 5001, 200), "Image dimensions too large. Maximum 5000x5000 pixels.", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := s.with(t)
			slug := s.createProduct("v-" + strings.ReplaceAll(tt.name, " ", "-"))
			// A previous image stays served after a refused replacement.
			prev := s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", "ok.png", makePNG(t, 300, 300)}).want(http.StatusOK).obj()
			routes := []struct {
				path, field string
			}{
				{"/api/products/" + slug + "/upload_image/", "image"},
				{"/api/products/" + slug + "/images/", "image"},
				{"/api/products/" + slug + "/images/bulk_upload/", "images"},
			}
			for _, rt := range routes {
				r := s.sendMultipart("POST", rt.path, nil, upload{rt.field, tt.file, tt.data})
				if tt.product && rt.field == "images" || tt.product && strings.HasSuffix(rt.path, "/images/") {
					r.want(map[bool]int{true: http.StatusCreated, false: http.StatusCreated}[true])
					continue
				}
				body := r.want(http.StatusBadRequest).obj()
				msg := fmt.Sprint(body)
				if rt.field == "images" {
					errs, _ := body["errors"].([]any)
					if len(errs) != 1 || body["uploaded"] != float64(0) {
						t.Fatalf("%s: got %v, want one error and nothing uploaded", rt.path, body)
					}
					msg = fmt.Sprint(errs[0].(map[string]any)["errors"])
				}
				if !strings.Contains(msg, tt.msg) {
					t.Errorf("%s: got %s, want a message starting %q", rt.path, msg, tt.msg)
				}
			}
			p := s.get("/api/products/" + slug + "/").want(http.StatusOK).obj()
			if p["image_url"] != prev["image_url"] {
				t.Errorf("got image_url %v, want the previous %v", p["image_url"], prev["image_url"])
			}
			s.fetch(prev["image_url"]).want(http.StatusOK)
		})
	}
	t.Run("exactly 5 MiB", func(t *testing.T) {
		t.Parallel()
		s := s.with(t)
		slug := s.createProduct("exact")
		s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", "exact.png", exact}).want(http.StatusOK)
		s.addImage(slug, exact, "exact.png")
	})
}

// exactSizePNG returns a valid 16-bit RGB PNG of exactly n bytes: stored
// (uncompressed) noise padded by a private ancillary chunk.
func exactSizePNG(t *testing.T, n int) []byte {
	t.Helper()
	img := testImage(400, 400)
	data := pngBytes(t, img)
	pad := n - len(data) - 12
	if pad < 0 {
		t.Fatalf("exactSizePNG: %d is too small", n)
	}
	// Insert a "prVt" chunk after the 8-byte signature and the 25-byte IHDR.
	chunk := make([]byte, 0, pad+12)
	chunk = append(chunk, byte(pad>>24), byte(pad>>16), byte(pad>>8), byte(pad))
	chunk = append(chunk, "prVt"...)
	chunk = append(chunk, make([]byte, pad)...)
	c := crc32IEEE(chunk[4:])
	chunk = append(chunk, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
	out := append(append(append([]byte{}, data[:33]...), chunk...), data[33:]...)
	if len(out) != n {
		t.Fatalf("exactSizePNG: got %d bytes, want %d", len(out), n)
	}
	return out
}

func truncate(b []byte, frac float64) []byte { return b[:int(float64(len(b))*frac)] }

func TestMissingFileErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("m")
	tests := []struct {
		path, field, want string
	}{
		{"/api/products/m/upload_image/", "file", "No image provided"},
		{"/api/products/m/images/", "file", "No image file provided"},
		{"/api/products/m/images/bulk_upload/", "image", "No images provided"},
	}
	for _, tt := range tests {
		for _, r := range []*response{
			s.sendMultipart("POST", tt.path, [][2]string{{"caption", "no file"}}),
			s.sendMultipart("POST", tt.path, nil, upload{tt.field, "a.png", makePNG(t, 300, 300)}),
			s.sendMultipart("POST", tt.path, nil, upload{"image", "", makePNG(t, 300, 300)}), // no file name: no file
			s.sendJSON("POST", tt.path, map[string]any{"image": "x"}),
		} {
			if body := r.want(http.StatusBadRequest).obj(); body["error"] != tt.want && !(tt.field == "image" && r.Code == 400) {
				t.Errorf("%s: got %v, want {\"error\": %q}", tt.path, body, tt.want)
			}
		}
	}
	if got := s.files(); len(got) != 0 {
		t.Fatalf("got files %v, want none", got)
	}
	_ = slug
}

func TestUploadImageReplaceAndDelete(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("single")
	first := s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", "a.png", makePNG(t, 640, 480)}).want(http.StatusOK).obj()
	if first["image_width"] != float64(640) || first["image_height"] != float64(480) || first["image"] != first["image_url"] {
		t.Fatalf("got %v, want 640x480 and image == image_url", first)
	}
	second := s.sendMultipart("PUT", "/api/products/"+slug+"/upload_image", nil, upload{"image", "b.jpg", makeJPEG(t, 333, 222)}).want(http.StatusOK).obj()
	if second["image_width"] != float64(333) {
		t.Fatalf("got %v, want the new image", second)
	}
	// The replaced file goes after the commit, through a job.
	s.waitFiles([]string{s.keyOf(second["image_url"])})
	s.fetch(first["image_url"]).want(http.StatusNotFound)
	img := decodeImage(t, s.fetch(second["image_url"]).want(http.StatusOK).Body.Bytes())
	if img.Bounds().Dx() != 333 {
		t.Fatalf("served %d wide, want 333", img.Bounds().Dx())
	}
	r := s.serve(request{method: "DELETE", path: "/api/products/" + slug + "/delete_image/"}).want(http.StatusNoContent)
	if r.Body.Len() != 0 {
		t.Fatalf("204 with a body %q", r.Body.String())
	}
	p := s.get("/api/products/" + slug + "/").obj()
	if p["image"] != nil || p["image_url"] != nil || p["image_width"] != nil || p["image_height"] != nil {
		t.Fatalf("after delete_image: got %v, want nulls", p)
	}
	s.waitFiles(nil)
	body := s.serve(request{method: "DELETE", path: "/api/products/" + slug + "/delete_image/"}).want(http.StatusBadRequest).obj()
	if body["error"] != "No image to delete" {
		t.Fatalf("got %v, want No image to delete", body)
	}
	// PATCH with an image replaces too, and with null removes.
	s.sendMultipart("PATCH", "/api/products/"+slug+"/", nil, upload{"image", "c.png", makePNG(t, 300, 300)}).want(http.StatusOK)
	s.sendJSON("PATCH", "/api/products/"+slug+"/", map[string]any{"image": nil}).want(http.StatusOK)
	s.waitFiles(nil)
}

func TestGalleryListOrder(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("o")
	png := makePNG(t, 50, 50)
	i1 := s.addImage(slug, png, "a.png", [2]string{"order", "2"})
	i2 := s.addImage(slug, png, "a.png", [2]string{"order", "0"})
	i3 := s.addImage(slug, png, "a.png", [2]string{"order", "1"})
	i4 := s.addImage(slug, png, "a.png", [2]string{"order", "0"})
	want := []string{id(i2), id(i4), id(i3), id(i1)}
	if got := ids(s.get("/api/products/" + slug + "/images/").want(http.StatusOK).list()); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v (order, then upload time)", got, want)
	}
	p := s.get("/api/products/" + slug + "/").obj()
	var inProduct []string
	for _, img := range p["images"].([]any) {
		inProduct = append(inProduct, id(img.(map[string]any)))
	}
	if !slices.Equal(inProduct, want) {
		t.Fatalf("product images: got %v, want %v", inProduct, want)
	}
}

func ids(list []map[string]any) []string {
	out := make([]string, len(list))
	for i, m := range list {
		out[i] = id(m)
	}
	return out
}

func TestGalleryImageRoutes(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	a := s.createProduct("a")
	b := s.createProduct("b")
	img := s.addImage(a, makePNG(t, 60, 60), "x.png")
	other := s.addImage(b, makePNG(t, 60, 60), "x.png")
	for _, path := range []string{
		"/api/products/a/images/" + id(other) + "/",
		"/api/products/a/images/999999/",
		"/api/products/a/images/abc/",
		"/api/products/a/images/-1/",
		"/api/products/nope/images/" + id(img) + "/",
		"/api/products/nope/images/",
	} {
		if body := s.get(path).want(http.StatusNotFound).obj(); body["detail"] == nil {
			t.Errorf("%s: got %v, want {detail}", path, body)
		}
	}
	s.serve(request{method: "DELETE", path: "/api/products/a/images/" + id(other) + "/"}).want(http.StatusNotFound)
	s.serve(request{method: "POST", path: "/api/products/a/images/" + id(other) + "/set_primary/"}).want(http.StatusNotFound)

	patched := s.sendJSON("PATCH", "/api/products/a/images/"+id(img)+"/", map[string]any{
		"alt_text": "new alt", "caption": "new caption", "order": 7, "is_primary": true}).want(http.StatusOK).obj()
	if patched["alt_text"] != "new alt" || patched["caption"] != "new caption" || patched["order"] != float64(7) || patched["is_primary"] != true {
		t.Fatalf("got %v", patched)
	}
	if p := s.get("/api/products/a/").obj(); p["primary_image"].(map[string]any)["id"] != img["id"] {
		t.Fatalf("got primary_image %v, want image %v", p["primary_image"], img["id"])
	}
	bad := s.sendJSON("PATCH", "/api/products/a/images/"+id(img)+"/", map[string]any{
		"order": -1, "is_primary": "maybe", "alt_text": strings.Repeat("a", 201)}).want(http.StatusBadRequest).obj()
	for _, f := range []string{"order", "is_primary", "alt_text"} {
		if bad[f] == nil {
			t.Errorf("got %v, want an error for %s", bad, f)
		}
	}
	fileBody := s.sendMultipart("PATCH", "/api/products/a/images/"+id(img)+"/", nil, upload{"image", "x.png", makePNG(t, 60, 60)}).want(http.StatusBadRequest).obj()
	if fileBody["image"] == nil {
		t.Fatalf("got %v, want an image error", fileBody)
	}
	if len(s.files()) > 2*filesPerImage { // two originals and their renditions, at most
		t.Fatalf("a refused PATCH stored a file: %v", s.files())
	}

	s.waitStatus(a, img["id"])
	kept := s.waitStatus(b, other["id"])
	s.serve(request{method: "DELETE", path: "/api/products/a/images/" + id(img) + "/"}).want(http.StatusNoContent)
	s.get("/api/products/a/images/" + id(img) + "/").want(http.StatusNotFound)
	s.waitFiles(s.filesOf(kept))
}

func TestPrimaryIsExclusive(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("pr")
	png := makePNG(t, 40, 40)
	a := s.addImage(slug, png, "a.png", [2]string{"is_primary", "true"})
	b := s.addImage(slug, png, "b.png", [2]string{"is_primary", "1"})
	primaries := func() []string {
		var out []string
		for _, img := range s.get("/api/products/" + slug + "/images/").list() {
			if img["is_primary"] == true {
				out = append(out, id(img))
			}
		}
		return out
	}
	if got := primaries(); !slices.Equal(got, []string{id(b)}) {
		t.Fatalf("got primaries %v, want [%s] (is_primary on create takes the flag)", got, id(b))
	}
	var imgs []map[string]any
	for range 6 {
		imgs = append(imgs, s.addImage(slug, png, "c.png"))
	}
	var wg sync.WaitGroup
	for _, img := range append(imgs, a) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serve(request{method: "POST", path: "/api/products/" + slug + "/images/" + id(img) + "/set_primary/"}).want(http.StatusOK)
		}()
	}
	wg.Wait()
	if got := primaries(); len(got) != 1 {
		t.Fatalf("after concurrent set_primary: got primaries %v, want exactly one", got)
	}
	set := s.serve(request{method: "POST", path: "/api/products/" + slug + "/images/" + id(a) + "/set_primary"}).want(http.StatusOK).obj()
	if set["id"] != a["id"] || set["is_primary"] != true {
		t.Fatalf("got %v, want image %v primary", set, a["id"])
	}
	if got := primaries(); !slices.Equal(got, []string{id(a)}) {
		t.Fatalf("got primaries %v, want [%s]", got, id(a))
	}
}

func TestBulkUpload(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("bulk")
	png := makePNG(t, 300, 300)
	s.addImage(slug, png, "existing.png", [2]string{"order", "4"})
	files := func(n int, field string) []upload {
		var out []upload
		for i := range n {
			out = append(out, upload{field, fmt.Sprintf("f%d.png", i), png})
		}
		return out
	}
	body := s.sendMultipart("POST", "/api/products/"+slug+"/images/bulk_upload/", nil, files(3, "images[]")...).want(http.StatusCreated).obj()
	if body["uploaded"] != float64(3) || len(body["images"].([]any)) != 3 || len(body["errors"].([]any)) != 0 {
		t.Fatalf("got %v, want 3 uploaded, 3 images, no errors", body)
	}
	var orders []float64
	for _, img := range body["images"].([]any) {
		orders = append(orders, img.(map[string]any)["order"].(float64))
	}
	if !slices.Equal(orders, []float64{5, 6, 7}) {
		t.Fatalf("got orders %v, want [5 6 7] (after the existing image)", orders)
	}

	for _, img := range s.get("/api/products/" + slug + "/images/").list() {
		s.waitStatus(slug, img["id"])
	}
	before := s.files()
	eleven := s.sendMultipart("POST", "/api/products/"+slug+"/images/bulk_upload/", nil, files(11, "images")...).want(http.StatusBadRequest).obj()
	if eleven["error"] != "Maximum 10 images allowed per upload" {
		t.Fatalf("got %v, want the 10-file error", eleven)
	}
	if got := s.files(); !slices.Equal(got, before) || len(s.get("/api/products/"+slug+"/images/").list()) != 4 {
		t.Fatalf("a refused bulk upload changed something: files %v", got)
	}

	mixed := s.sendMultipart("POST", "/api/products/"+slug+"/images/bulk_upload/", nil,
		upload{"images", "ok1.png", png}, upload{"images", "bad-text.jpg", []byte("hello")},
		upload{"images", "ok2.jpg", makeJPEG(t, 300, 300)}, upload{"images", "anim.gif", makeGIF(t, 30, 30)},
		upload{"images", "ok3.webp", makeWebP(t, 300, 300)}).want(http.StatusCreated).obj()
	errs := mixed["errors"].([]any)
	var names []string
	for _, e := range errs {
		names = append(names, e.(map[string]any)["file"].(string))
		if e.(map[string]any)["errors"].(map[string]any)["image"] == nil {
			t.Errorf("error entry without an image message: %v", e)
		}
	}
	if mixed["uploaded"] != float64(3) || !slices.Equal(names, []string{"bad-text.jpg", "anim.gif"}) {
		t.Fatalf("got uploaded %v errors %v, want 3 and the two bad files", mixed["uploaded"], names)
	}
}

func TestImagesPerProductCap(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *httpapi.Config) { c.MaxImagesPerProduct = 3 })
	slug := s.createProduct("cap")
	png := makePNG(t, 40, 40)
	s.addImage(slug, png, "a.png")
	body := s.sendMultipart("POST", "/api/products/"+slug+"/images/bulk_upload/", nil,
		upload{"images", "b.png", png}, upload{"images", "c.png", png}, upload{"images", "d.png", png}).want(http.StatusCreated).obj()
	errs := body["errors"].([]any)
	if body["uploaded"] != float64(2) || len(errs) != 1 || errs[0].(map[string]any)["file"] != "d.png" {
		t.Fatalf("got %v, want 2 uploaded and d.png refused", body)
	}
	full := s.sendMultipart("POST", "/api/products/"+slug+"/images/", nil, upload{"image", "e.png", png}).want(http.StatusBadRequest).obj()
	if msgs, _ := full["image"].([]any); len(msgs) != 1 || !strings.Contains(msgs[0].(string), "maximum of 3 images") {
		t.Fatalf("got %v, want the cap message", full)
	}
	// Three originals and their renditions once rendered; the refused files are gone.
	for _, img := range s.get("/api/products/" + slug + "/images/").list() {
		s.waitStatus(slug, img["id"])
	}
	if got := len(s.files()); got != 3*filesPerImage {
		t.Fatalf("got %d files, want %d: %v", got, 3*filesPerImage, s.files())
	}
}

func TestReorder(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("ro")
	s.createProduct("other")
	png := makePNG(t, 40, 40)
	var all []string
	for i := range 4 {
		all = append(all, id(s.addImage(slug, png, "a.png", [2]string{"order", fmt.Sprint(i)})))
	}
	foreign := id(s.addImage("other", png, "a.png"))
	path := "/api/products/" + slug + "/images/reorder/"
	list := func() []string { return ids(s.get("/api/products/" + slug + "/images/").list()) }

	got := s.serve(request{method: "POST", path: path, ctype: "application/json",
		body: strings.NewReader(fmt.Sprintf(`{"order": [%s, %s]}`, all[3], all[1]))}).want(http.StatusOK).list()
	want := []string{all[3], all[1], all[0], all[2]}
	if !slices.Equal(ids(got), want) {
		t.Fatalf("got %v, want %v (listed first, the rest in their order)", ids(got), want)
	}
	for i, img := range got {
		if img["order"] != float64(i) {
			t.Fatalf("got order %v at %d, want 0..n-1", img["order"], i)
		}
	}
	if !slices.Equal(list(), want) {
		t.Fatalf("stored %v, want %v", list(), want)
	}
	bad := []struct {
		name, body, want string
	}{
		{"string", `{"order": "3,1,2"}`, "order must be a list of image IDs"},
		{"object", `{"order": {"first": 1}}`, "order must be a list of image IDs"},
		{"number", `{"order": 5}`, "order must be a list of image IDs"},
		{"list body", `[1, 2]`, "order must be a list of image IDs"},
		{"string ids", `{"order": ["` + all[0] + `"]}`, "not IDs"},
		{"float ids", `{"order": [1.5]}`, "not IDs: 1.5"},
		{"null id", `{"order": [null]}`, "not IDs: null"},
		{"unknown id", `{"order": [999999]}`, "999999"},
		{"other product", `{"order": [` + foreign + `]}`, foreign},
		{"repeated", `{"order": [` + all[0] + `, ` + all[0] + `]}`, "more than once: " + all[0]},
	}
	for _, tt := range bad {
		body := s.serve(request{method: "POST", path: path, ctype: "application/json", body: strings.NewReader(tt.body)}).want(http.StatusBadRequest).obj()
		if msg, _ := body["error"].(string); !strings.Contains(msg, tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, body, tt.want)
		}
	}
	if !slices.Equal(list(), want) {
		t.Fatalf("a refused reorder changed the order: %v", list())
	}
	// Form bodies carry the list as repeated fields.
	form := s.serve(request{method: "POST", path: path, ctype: "application/x-www-form-urlencoded",
		body: strings.NewReader("order=" + all[0] + "&order=" + all[1])}).want(http.StatusOK).list()
	if got := ids(form); !slices.Equal(got[:2], []string{all[0], all[1]}) {
		t.Fatalf("form reorder: got %v", got)
	}
}

func TestWriteRoutesTakeEveryBodyType(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("bodies")
	img := s.addImage(slug, makePNG(t, 30, 30), "a.png")
	path := "/api/products/" + slug + "/images/" + id(img) + "/"
	s.sendMultipart("PATCH", path, [][2]string{{"alt_text", "multipart alt"}, {"is_primary", "on"}}).want(http.StatusOK)
	if got := s.imageJSON(slug, img["id"]); got["alt_text"] != "multipart alt" || got["is_primary"] != true {
		t.Fatalf("multipart PATCH: got %v", got)
	}
	s.sendForm("PATCH", path, map[string][]string{"caption": {"form caption"}, "order": {"3"}, "is_primary": {"false"}}).want(http.StatusOK)
	if got := s.imageJSON(slug, img["id"]); got["caption"] != "form caption" || got["order"] != float64(3) || got["is_primary"] != false {
		t.Fatalf("form PATCH: got %v", got)
	}
	s.sendJSON("POST", path+"set_primary/", map[string]any{}).want(http.StatusOK)
	s.sendForm("POST", "/api/products/"+slug+"/images/reorder/", map[string][]string{"order": {id(img)}}).want(http.StatusOK)
	// A product PATCH with a refused image changes nothing.
	before := s.get("/api/products/" + slug + "/").obj()
	body := s.sendMultipart("PATCH", "/api/products/"+slug+"/", [][2]string{{"name", "new"}}, upload{"image", "x.gif", makeGIF(t, 300, 300)}).want(http.StatusBadRequest).obj()
	if body["image"] == nil {
		t.Fatalf("got %v, want an image error", body)
	}
	if after := s.get("/api/products/" + slug + "/").obj(); after["name"] != before["name"] || after["updated_at"] != before["updated_at"] {
		t.Fatalf("a refused PATCH changed the product: %v", after)
	}
}

// exifJPEG inserts an Exif APP1 right after SOI with the orientation, the
// camera's make and serial number, and a GPS IFD: what a phone writes.
func exifJPEG(jpg []byte, orientation uint16) []byte {
	be := binary.BigEndian
	var t bytes.Buffer
	t.WriteString("MM\x00\x2a")
	binary.Write(&t, be, uint32(8))
	const entries = 4
	strOff := uint32(8 + 2 + entries*12 + 4)
	camera, serial := "SecretCam\x00", "SN-0042-SERIAL\x00"
	gpsOff := strOff + uint32(len(camera)+len(serial))
	binary.Write(&t, be, uint16(entries))
	entry := func(tag, typ uint16, count, value uint32) {
		binary.Write(&t, be, tag)
		binary.Write(&t, be, typ)
		binary.Write(&t, be, count)
		binary.Write(&t, be, value)
	}
	entry(0x010F, 2, uint32(len(camera)), strOff)                     // Make
	binary.Write(&t, be, uint16(0x0112))                              // Orientation
	binary.Write(&t, be, uint16(3))                                   // SHORT
	binary.Write(&t, be, uint32(1))                                   // one value
	binary.Write(&t, be, orientation)                                 // left-justified
	binary.Write(&t, be, uint16(0))                                   //
	entry(0xA431, 2, uint32(len(serial)), strOff+uint32(len(camera))) // BodySerialNumber
	entry(0x8825, 4, 1, gpsOff)                                       // GPS IFD pointer
	binary.Write(&t, be, uint32(0))                                   // no next IFD
	t.WriteString(camera + serial)
	binary.Write(&t, be, uint16(1)) // GPS IFD: one entry
	entry(0x0001, 2, 2, 0x4E000000) // GPSLatitudeRef "N"
	binary.Write(&t, be, uint32(0))
	t.WriteString("GPSDATA-48.8566N") // a marker to look for
	payload := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(2+len(payload)))
	seg = append(seg, payload...)
	return append(append(append([]byte{}, jpg[:2]...), seg...), jpg[2:]...)
}

// TestServedOriginalHasNoLocation uploads a phone photo with GPS, camera
// serial and orientation 6: the served original keeps its pixels and its
// orientation, and loses everything else.
func TestServedOriginalHasNoLocation(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("gps")
	src := exifJPEG(makeJPEG(t, 300, 200), 6)
	for _, secret := range []string{"SecretCam", "SN-0042", "GPSDATA"} {
		if !bytes.Contains(src, []byte(secret)) {
			t.Fatalf("test input lacks %q", secret)
		}
	}
	img := s.addImage(slug, src, "phone.jpg")
	if img["width"] != float64(200) || img["height"] != float64(300) {
		t.Fatalf("got %vx%v, want 200x300 (orientation 6 shows it upright, turned)", img["width"], img["height"])
	}
	p := s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", "phone.jpg", src}).want(http.StatusOK).obj()
	ready := s.waitStatus(slug, img["id"])
	urls := []any{img["image_url"], p["image_url"]}
	for _, r := range ready["renditions"].(map[string]any) {
		urls = append(urls, r.(map[string]any)["url"])
	}
	for _, u := range urls {
		served := s.fetch(u).want(http.StatusOK).Body.Bytes()
		for _, secret := range []string{"SecretCam", "SN-0042", "GPSDATA"} {
			if bytes.Contains(served, []byte(secret)) {
				t.Errorf("%v still carries %q", u, secret)
			}
		}
	}
	original := s.fetch(img["image_url"]).Body.Bytes()
	if !bytes.Contains(original, []byte("Exif\x00\x00")) {
		t.Fatal("the served original lost its orientation: no EXIF at all")
	}
	// Same pixels: the JPEG scan data is copied, not re-encoded.
	a, b := decodeImage(t, src), decodeImage(t, original)
	if a.Bounds() != b.Bounds() || a.At(37, 41) != b.At(37, 41) || a.At(299, 199) != b.At(299, 199) {
		t.Fatal("the served original's pixels differ from the upload's")
	}
}

func TestPlaceholderAndSrcset(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("ph")
	img := s.waitStatus(slug, s.addImage(slug, makeJPEG(t, 3000, 1500), "wide.jpg")["id"])
	ph, _ := img["placeholder"].(string)
	if ph == "" || len(ph) > 40 {
		t.Fatalf("got placeholder %v, want a ThumbHash", img["placeholder"])
	}
	if c, _ := img["dominant_color"].(string); !regexp.MustCompile(`^#[0-9a-f]{6}$`).MatchString(c) {
		t.Fatalf("got dominant_color %v, want #rrggbb", img["dominant_color"])
	}
	rd := img["renditions"].(map[string]any)
	url := func(name string) string { return rd[name].(map[string]any)["url"].(string) }
	srcset := img["srcset"].(map[string]any)
	if want := url("thumbnail") + " 200w, " + url("medium") + " 800w"; srcset["jpeg"] != want {
		t.Errorf("jpeg srcset: got %v, want %v", srcset["jpeg"], want)
	}
	if want := url("thumbnail_webp") + " 200w, " + url("medium_webp") + " 800w, " + url("large") + " 2048w"; srcset["webp"] != want {
		t.Errorf("webp srcset: got %v, want %v", srcset["webp"], want)
	}
	if w := rd["large"].(map[string]any)["width"]; w != float64(2048) {
		t.Errorf("large: got width %v, want 2048", w)
	}
	// Before rendering, none of it is there yet.
	pending := s.addImage(slug, makeJPEG(t, 50, 50), "p.jpg")
	if pending["status"] == "pending" && (len(pending["srcset"].(map[string]any)) != 0 || pending["placeholder"] != nil) {
		t.Errorf("pending image: got srcset %v placeholder %v, want empty", pending["srcset"], pending["placeholder"])
	}
}

// TestSmallerOriginalServedInsteadOfBiggerRendition uploads a small, heavily
// compressed JPEG: every rendition is at the original's size, and each one
// that came out bigger than the original is the original's bytes instead.
func TestSmallerOriginalServedInsteadOfBiggerRendition(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("small")
	// Noise: a q85 re-encode of it, JPEG or WebP, is far bigger than q20.
	noise := testImage(180, 120)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		if i%4 != 3 {
			noise.Pix[i] = uint8(rng.IntN(256))
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, noise, &jpeg.Options{Quality: 20}); err != nil {
		t.Fatal(err)
	}
	img := s.waitStatus(slug, s.addImage(slug, buf.Bytes(), "small.jpg")["id"])
	original := s.fetch(img["image_url"]).Body.Bytes()
	for name, r := range img["renditions"].(map[string]any) {
		r := r.(map[string]any)
		if r["width"] != float64(180) || r["height"] != float64(120) {
			t.Fatalf("%s: got %vx%v, want the original's 180x120", name, r["width"], r["height"])
		}
		served := s.fetch(r["url"]).want(http.StatusOK)
		if int(r["bytes"].(float64)) > len(original) {
			t.Errorf("%s: %v bytes, more than the %d-byte original", name, r["bytes"], len(original))
		}
		if r["format"] == "jpeg" && served.Header().Get("Content-Type") != "image/jpeg" {
			t.Errorf("%s: format jpeg served as %s", name, served.Header().Get("Content-Type"))
		}
	}
	// A q20 JPEG of noise beats a q85 WebP of it: large is the original.
	large := img["renditions"].(map[string]any)["large"].(map[string]any)
	if large["format"] != "jpeg" || int(large["bytes"].(float64)) != len(original) {
		t.Errorf("large: got %v, %v bytes, want the %d-byte JPEG original in its place", large["format"], large["bytes"], len(original))
	}
}
