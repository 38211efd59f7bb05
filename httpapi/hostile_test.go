package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/httpapi"
	"github.com/vitrine/vitrine/vips"
)

// This file is the hostile-input corpus of issue 6: requests an attacker or
// a broken client may send, each generated here. A refused one must get a
// 4xx JSON answer, store no file, change no row, enqueue no job, leave no
// temporary file behind, and leave the server answering the next request.
// Inputs that are odd but valid (CMYK, 16-bit, huge EXIF, strange file
// names, tiny JPEGs) must be accepted and rendered.

// keyPattern is the shape of every stored key: an original
// (products/YYYY/MM/DD/<uuid>.<ext>) or a rendition (products/<name>/YYYY/
// MM/DD/<uuid>-<version>.<ext>). No part of a client's file name fits in it.
var keyPattern = regexp.MustCompile(`^products/([a-z0-9_]+/)?\d{4}/\d{2}/\d{2}/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(-[0-9a-f]+)?\.(jpg|png|webp|avif)$`)

// hostileServer is a test server whose upload temporary directory the test
// can look into.
func hostileServer(t *testing.T) (*testServer, string) {
	t.Helper()
	tmp := t.TempDir()
	return newTestServer(t, func(c *httpapi.Config) { c.TempDir = tmp }), tmp
}

// snapshot returns every row of the catalog tables and the number of jobs
// ever enqueued, as text: two equal snapshots mean nothing was written.
func (s *testServer) snapshot() string {
	s.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * FROM products ORDER BY id`,
		`SELECT * FROM images ORDER BY id`,
		`SELECT * FROM renditions ORDER BY image_id, name`,
		`SELECT count(*) FROM river_job`,
	} {
		rows, err := s.pool.Write.QueryContext(context.Background(), q)
		if err != nil {
			s.t.Fatalf("%s: %v", q, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			s.t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		fmt.Fprintln(&b, q)
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				s.t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v\n", vals)
		}
		if err := rows.Err(); err != nil {
			s.t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// waitIdle waits until no job is left to run, so that the snapshot and the
// file list stay still.
func (s *testServer) waitIdle() {
	s.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		var n int
		err := s.pool.Write.QueryRowContext(context.Background(),
			`SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded')`).Scan(&n)
		if err != nil {
			s.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		select {
		case <-s.events:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			s.t.Fatalf("%d jobs still to run after 30s", n)
		}
	}
}

// tempFiles lists what is left in the upload temporary directory.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// wantJSONError checks a refusal: the status, a JSON object body and, when
// want is not empty, that the decoded body mentions want.
func wantJSONError(t *testing.T, r *response, status int, want string) map[string]any {
	t.Helper()
	if r.Code != status {
		t.Fatalf("got status %d, want %d; body %q", r.Code, status, clip(r.Body.String()))
	}
	if ct := r.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("got Content-Type %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(r.Body.Bytes(), &body); err != nil || len(body) == 0 {
		t.Fatalf("got body %q, want a JSON object: %v", clip(r.Body.String()), err)
	}
	if got := fmt.Sprint(body); !strings.Contains(got, want) {
		t.Errorf("got body %s, want one mentioning %q", clip(got), want)
	}
	return body
}

// hostileCase is one refused request.
type hostileCase struct {
	name   string
	req    func() request // built when run, so big bodies are made one at a time
	status int
	want   string // the decoded JSON body mentions this
}

// TestHostileInputRefused sends every refused input of the corpus through
// the real router, one after the other on one server: the checks compare
// the whole database and media directory before and after each request, so
// the cases cannot run in parallel.
func TestHostileInputRefused(t *testing.T) {
	t.Parallel()
	s, tmp := hostileServer(t)
	const slug = "target"
	s.createProduct(slug)
	s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", "ok.png", makePNG(t, 300, 300)}).want(http.StatusOK)
	img1 := id(s.addImage(slug, makePNG(t, 40, 40), "a.png"))
	img2 := id(s.addImage(slug, makePNG(t, 40, 40), "b.png"))
	s.waitIdle()

	var cases []hostileCase
	cases = append(cases, badFileCases(t, slug)...)
	cases = append(cases, multipartCases(t, slug)...)
	cases = append(cases, jsonCases(slug, img1, img2)...)
	cases = append(cases, pathAndQueryCases(slug)...)

	product := s.get("/api/products/" + slug + "/").want(http.StatusOK).Body.String()
	files, snap := s.files(), s.snapshot()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := s.with(t)
			defer func() {
				if t.Failed() {
					// A wrongly accepted upload renders in the background;
					// let it settle and judge the next case on its own.
					s.waitIdle()
					product = s.get("/api/products/" + slug + "/").Body.String()
					files, snap = s.files(), s.snapshot()
				}
			}()
			r := s.serve(tc.req())
			wantJSONError(t, r, tc.status, tc.want)
			if got := s.files(); !slices.Equal(got, files) {
				t.Errorf("stored files changed:\n got %v\nwant %v", got, files)
			}
			if got := s.snapshot(); got != snap {
				t.Errorf("rows changed:\n got %s\nwant %s", got, snap)
			}
			if left := tempFiles(t, tmp); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
			// The server is unharmed: the next ordinary request is answered.
			if got := s.get("/api/products/" + slug + "/").want(http.StatusOK).Body.String(); got != product {
				t.Errorf("product after the request:\n got %s\nwant %s", got, product)
			}
			s.get("/healthz").want(http.StatusOK)
		})
	}
}

// Upload routes, each with the field its file goes in.
type uploadRoute struct {
	name, path, field string
	product           bool // the product's single image: 200..5000 px a side
}

func uploadRoutes(slug string) []uploadRoute {
	return []uploadRoute{
		{"gallery", "/api/products/" + slug + "/images/", "image", false},
		{"bulk", "/api/products/" + slug + "/images/bulk_upload/", "images", false},
		{"upload_image", "/api/products/" + slug + "/upload_image/", "image", true},
		{"create", "/api/products/", "image", true},
	}
}

// multipartRequest is a POST of a multipart body with the given fields and files.
func multipartRequest(t *testing.T, path string, fields [][2]string, files ...upload) request {
	body, ctype := multipartBody(t, fields, files)
	return request{method: "POST", path: path, body: body, ctype: ctype}
}

// badFileCases sends every refused file to every upload route.
func badFileCases(t *testing.T, slug string) []hostileCase {
	const (
		notImage = "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
		tooSmall = "Image dimensions too small. Minimum 200x200 pixels."
	)
	jpg := makeJPEG(t, 400, 400)
	pngData := makePNG(t, 400, 400)
	webp := makeWebP(t, 400, 400)
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"><script>alert(1)</script></svg>`)
	html := []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")
	files := []struct {
		name, file string
		data       []byte
		want       string // the message on every route
		product    string // the message on the product routes, when it differs
		// productOnly files are refused on the product routes only: the
		// gallery takes them (TestHostileInputAccepted).
		productOnly bool
	}{
		// Decompression bombs: a few hundred bytes declaring billions of pixels.
		{"png bomb 50000x50000", "bomb.png", bombPNG(50000, 50000), "Image too large: 50000x50000 is 2500.0 megapixels.", "", false},
		{"png bomb 1000000x1", "bomb.png", bombPNG(1000000, 1), notImage, tooSmall, false},
		{"png bomb 1000000x1000000", "bomb.png", bombPNG(1000000, 1000000), "Image too large", "", false},
		{"png bomb 2^31-1 square", "bomb.png", bombPNG(1<<31-1, 1<<31-1), notImage, "", false},
		{"jpeg bomb 50000x50000", "bomb.jpg", jpegWithSize(jpg, 50000, 50000), "Image too large: 50000x50000", "", false},
		{"jpeg bomb 65500x65500", "bomb.jpg", jpegWithSize(jpg, 65500, 65500), "Image too large: 65500x65500", "", false},
		// 65500x1 is no bomb for the gallery: 65500 pixels, and libjpeg
		// only warns that the data runs out (see the accepted cases).
		{"jpeg 65500x1", "bomb.jpg", jpegWithSize(jpg, 65500, 1), tooSmall, "", true},
		// libjpeg refuses a side over 65500 in the header already.
		{"jpeg bomb 65535x65535", "bomb.jpg", jpegWithSize(jpg, 65535, 65535), notImage, "", false},
		{"webp vp8x canvas 50000x50000", "bomb.webp", webpCanvas(t, webp, 50000, 50000), notImage, "", false},
		{"webp vp8x canvas 1000000x1", "bomb.webp", webpCanvas(t, webp, 1000000, 1), notImage, "", false},
		// libwebp reads past a lossless header before it gives the size.
		{"webp vp8l 16384x16384", "bomb.webp", webpFile(riffChunk("VP8L", vp8lHeader(16384, 16384))), notImage, "", false},
		{"webp vp8l 16384x1", "bomb.webp", webpFile(riffChunk("VP8L", vp8lHeader(16384, 1))), notImage, "", false},
		{"webp vp8 16383x16383", "bomb.webp", webpVP8Size(t, webp, 16383, 16383), "Image too large: 16383x16383", "", false},

		// Truncated and corrupt files.
		{"zero bytes", "empty.jpg", nil, "The submitted file is empty.", "", false},
		{"jpeg magic only", "cut.jpg", []byte{0xFF, 0xD8, 0xFF}, notImage, "", false},
		{"jpeg cut in its header", "cut.jpg", jpg[:300], notImage, "", false},
		{"jpeg cut in half", "cut.jpg", truncate(jpg, 0.5), notImage, "", false},
		{"jpeg without EOI", "cut.jpg", jpg[:len(jpg)-2], notImage, "", false},
		{"jpeg bad huffman table", "bad.jpg", jpegBadHuffman(jpg), notImage, "", false},
		{"jpeg segment longer than the file", "bad.jpg", jpegLongSegment(jpg), notImage, "", false},
		{"png signature only", "cut.png", []byte("\x89PNG\r\n\x1a\n"), notImage, "", false},
		{"png cut in half", "cut.png", truncate(pngData, 0.5), notImage, "", false},
		{"png without IEND", "cut.png", pngData[:len(pngData)-12], notImage, "", false},
		{"png bad IHDR CRC", "bad.png", flipByte(pngData, 29), notImage, "", false},
		{"png IDAT not zlib", "bad.png", pngBadZlib(t, pngData), notImage, "", false},
		{"webp riff only", "cut.webp", []byte("RIFF\x10\x00\x00\x00WEBPVP8 "), notImage, "", false},
		{"webp cut in half", "cut.webp", truncate(webp, 0.5), notImage, "", false},
		{"webp riff size past the end", "bad.webp", webpRIFFSize(webp, 0x7FFFFFF0), notImage, "", false},
		{"webp vp8 data overwritten", "bad.webp", scrambleTail(webp, 40), notImage, "", false},

		// Polyglots and other formats under allowed names.
		{"jpeg header then html", "poly.jpg", append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, html...), notImage, "", false},
		{"jpeg header then javascript", "poly.jpg", append([]byte{0xFF, 0xD8, 0xFF}, "alert(1)//"...), notImage, "", false},
		{"svg named png", "x.png", svg, "Unsupported format (SVG). Use JPG, PNG, WebP.", "", false},
		{"svg with xml prolog named jpg", "x.jpg", append([]byte("<?xml version=\"1.0\"?>\n"), svg...), "Unsupported format (SVG).", "", false},
		{"html named png", "x.png", html, notImage, "", false},
		{"gif named jpg", "x.jpg", makeGIF(t, 300, 300), "Unsupported format (GIF). Use JPG, PNG, WebP.", "", false},
		{"bmp named png", "x.png", makeBMP(300, 300), "Unsupported format (BMP).", "", false},
		{"tiff named jpg", "x.jpg", makeTIFF(300, 300), "Unsupported format (TIFF).", "", false},
		{"heic named jpg", "x.jpg", isoBMFF("heic", "mif1", "heic"), "Unsupported format (HEIC).", "", false},
		{"avif named png", "x.png", makeAVIF(t), "Unsupported format (AVIF).", "", false},

		// Names the extension check refuses; none is ever used as a path.
		{"name is ../", "../", pngData, "File extension", "", false},
		{"name without extension", "image", pngData, "File extension “” is not allowed.", "", false},
		{"name of 1 KiB of unicode without extension", strings.Repeat("字", 340), pngData, "File extension “” is not allowed.", "", false},
		// A NUL makes the part header malformed for mime/multipart.
		{"name ends with NUL then exe", "a.png\x00.exe", pngData, "malformed MIME header line", "", false},
		{"name with NUL", "evil\x00.png", pngData, "malformed MIME header line", "", false},
		{"name with trailing space", "a.png ", pngData, "File extension “png ” is not allowed.", "", false},
		{"gif with its own name", "anim.gif", makeGIF(t, 300, 300), "File extension “gif” is not allowed.", "", false},
	}
	var cases []hostileCase
	for _, f := range files {
		for _, rt := range uploadRoutes(slug) {
			if f.productOnly && !rt.product {
				continue
			}
			want := f.want
			if rt.product && f.product != "" {
				want = f.product
			}
			var fields [][2]string
			if rt.name == "create" {
				fields = [][2]string{{"name", "New"}, {"slug", "new-product"}}
			}
			cases = append(cases, hostileCase{
				name:   f.name + "/" + rt.name,
				req:    func() request { return multipartRequest(t, rt.path, fields, upload{rt.field, f.file, f.data}) },
				status: http.StatusBadRequest,
				want:   want,
			})
		}
	}
	return cases
}

// multipartCases are malformed or abusive multipart bodies.
func multipartCases(t *testing.T, slug string) []hostileCase {
	gallery := "/api/products/" + slug + "/images/"
	bulk := "/api/products/" + slug + "/images/bulk_upload/"
	const b = "XyZzY"
	ctype := "multipart/form-data; boundary=" + b
	png := string(makePNG(t, 300, 300))
	raw := func(path, ctype, body string) func() request {
		return func() request {
			return request{method: "POST", path: path, ctype: ctype, body: strings.NewReader(body)}
		}
	}
	filePart := func(name, filename string) string {
		return part(b, fmt.Sprintf(`Content-Disposition: form-data; name=%q; filename=%q`, name, filename)+"\r\nContent-Type: image/png", png)
	}
	manyParts := func(n int, named bool) string {
		var sb strings.Builder
		for i := range n {
			cd := "Content-Disposition: form-data"
			if named {
				cd += fmt.Sprintf(`; name="f%d"`, i)
			}
			sb.WriteString(part(b, cd, "x"))
		}
		sb.WriteString(filePart("image", "a.png"))
		return sb.String() + "--" + b + "--\r\n"
	}
	inner := "--inner\r\nContent-Disposition: file; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n" + png + "\r\n--inner--\r\n"
	var elevenFiles []upload
	for range 11 {
		elevenFiles = append(elevenFiles, upload{"images", "a.png", []byte(png)})
	}
	return []hostileCase{
		{"multipart 1001 parts", raw(gallery, ctype, manyParts(1000, true)), http.StatusBadRequest, "more than 1000 parts"},
		{"multipart 5000 nameless parts", raw(gallery, ctype, manyParts(5000, false)), http.StatusBadRequest, "more than 1000 parts"},
		// A part header is capped at 8 KiB (Django reads at most 1 KiB).
		{"multipart part header of 1 MiB", raw(gallery, ctype,
			part(b, `Content-Disposition: form-data; name="image"; filename="a.png"`+"\r\nX-Padding: "+strings.Repeat("a", 1<<20), png)+"--"+b+"--\r\n"),
			http.StatusBadRequest, "a part header is over 8192 bytes"},
		{"multipart part header of 8 KiB + 1", raw(gallery, ctype,
			part(b, `Content-Disposition: form-data; name="image"; filename="a.png"`+"\r\nX-Padding: "+strings.Repeat("a", 8<<10-len(`Content-Disposition: form-data; name="image"; filename="a.png"`)-len("\r\nX-Padding: \r\n")+1), png)+"--"+b+"--\r\n"),
			http.StatusBadRequest, "a part header is over 8192 bytes"},
		{"multipart 2000 header lines", raw(gallery, ctype,
			part(b, `Content-Disposition: form-data; name="image"; filename="a.png"`+strings.Repeat("\r\nX: 1", 2000), png)+"--"+b+"--\r\n"),
			http.StatusBadRequest, "a part header is over 8192 bytes"},
		{"multipart file name of 1 MiB", raw(gallery, ctype, filePart("image", strings.Repeat("a", 1<<20)+".png")+"--"+b+"--\r\n"),
			http.StatusBadRequest, "a part header is over 8192 bytes"},
		// An empty file name is no file, as in Django (the product create
		// route then makes a product without an image, which is fine).
		{"multipart file name empty/gallery", func() request { return multipartRequest(t, gallery, nil, upload{"image", "", []byte(png)}) },
			http.StatusBadRequest, "No image file provided"},
		{"multipart file name empty/bulk", func() request { return multipartRequest(t, bulk, nil, upload{"images", "", []byte(png)}) },
			http.StatusBadRequest, "No images provided"},
		{"multipart file name empty/upload_image", func() request {
			return multipartRequest(t, "/api/products/"+slug+"/upload_image/", nil, upload{"image", "", []byte(png)})
		}, http.StatusBadRequest, "No image provided"},
		{"multipart file name of 7 KiB without extension", raw(gallery, ctype, filePart("image", strings.Repeat("a", 7<<10))+"--"+b+"--\r\n"),
			http.StatusBadRequest, "File extension “” is not allowed."},
		{"multipart without boundary", raw(gallery, "multipart/form-data", filePart("image", "a.png")+"--"+b+"--\r\n"),
			http.StatusBadRequest, "Invalid boundary in multipart: None"},
		{"multipart empty boundary", raw(gallery, "multipart/form-data; boundary=", filePart("image", "a.png")+"--"+b+"--\r\n"),
			http.StatusUnsupportedMediaType, "Unsupported media type"},
		{"multipart boundary not in the body", raw(gallery, "multipart/form-data; boundary=other", filePart("image", "a.png")+"--"+b+"--\r\n"),
			http.StatusBadRequest, "Multipart form parse error"},
		{"multipart without closing boundary", raw(gallery, ctype, strings.TrimSuffix(filePart("image", "a.png"), "\r\n")),
			http.StatusBadRequest, "Multipart form parse error"},
		{"multipart nested multipart/mixed", raw(gallery, ctype,
			part(b, "Content-Disposition: form-data; name=\"image\"\r\nContent-Type: multipart/mixed; boundary=inner", inner)+"--"+b+"--\r\n"),
			http.StatusBadRequest, "No image file provided"},
		{"multipart base64 transfer encoding", raw(gallery, ctype,
			part(b, `Content-Disposition: form-data; name="image"; filename="a.png"`+"\r\nContent-Transfer-Encoding: base64",
				base64.StdEncoding.EncodeToString([]byte(png)))+"--"+b+"--\r\n"),
			http.StatusBadRequest, "Upload a valid image."},
		{"multipart part without Content-Disposition", raw(gallery, ctype, part(b, "Content-Type: image/png", png)+"--"+b+"--\r\n"),
			http.StatusBadRequest, "No image file provided"},
		{"multipart garbage without parts", raw(gallery, ctype, "this is not multipart at all"),
			http.StatusBadRequest, "Multipart form parse error"},
		{"multipart two files on the single-file route", func() request {
			return multipartRequest(t, gallery, nil, upload{"image", "a.png", []byte(png)}, upload{"image", "b.png", []byte(png)})
		}, http.StatusBadRequest, "Send one image file per request; use bulk_upload for several."},
		{"multipart 11 files on bulk", func() request { return multipartRequest(t, bulk, nil, elevenFiles...) },
			http.StatusBadRequest, "Maximum 10 images allowed per upload"},
		{"multipart text fields over 1 MiB", func() request {
			return multipartRequest(t, gallery, [][2]string{{"alt_text", strings.Repeat("a", 600<<10)}, {"caption", strings.Repeat("c", 600<<10)}},
				upload{"image", "a.png", []byte(png)})
		}, http.StatusRequestEntityTooLarge, "form fields exceed"},
		{"multipart alt_text too long", func() request {
			return multipartRequest(t, gallery, [][2]string{{"alt_text", strings.Repeat("é", 201)}}, upload{"image", "a.png", []byte(png)})
		}, http.StatusBadRequest, "Ensure this field has no more than 200 characters."},
		{"multipart alt_text with NUL", func() request {
			return multipartRequest(t, gallery, [][2]string{{"alt_text", "a\x00b"}}, upload{"image", "a.png", []byte(png)})
		}, http.StatusBadRequest, "Null characters are not allowed."},
		{"multipart alt_text not UTF-8", func() request {
			return multipartRequest(t, gallery, [][2]string{{"alt_text", "a\xff\xfeb"}}, upload{"image", "a.png", []byte(png)})
		}, http.StatusBadRequest, "Not a valid string."},
		{"multipart is_primary not a boolean", func() request {
			return multipartRequest(t, gallery, [][2]string{{"is_primary", "maybe"}}, upload{"image", "a.png", []byte(png)})
		}, http.StatusBadRequest, "Must be a valid boolean."},
		{"multipart order 1e9", func() request {
			return multipartRequest(t, gallery, [][2]string{{"order", "1e9"}}, upload{"image", "a.png", []byte(png)})
		}, http.StatusBadRequest, "A valid integer is required."},
		{"multipart order past the maximum", func() request {
			return multipartRequest(t, gallery, [][2]string{{"order", "99999999999999999999"}}, upload{"image", "a.png", []byte(png)})
		}, http.StatusBadRequest, "Ensure this value is less than or equal to 2147483647."},
		{"content type text/plain", raw(gallery, "text/plain", png), http.StatusUnsupportedMediaType, "Unsupported media type"},
		{"content type image/png", raw(gallery, "image/png", png), http.StatusUnsupportedMediaType, "Unsupported media type"},
		{"content type missing", raw(gallery, "", png), http.StatusUnsupportedMediaType, "Unsupported media type"},
		{"content type unparsable", raw(gallery, "multipart/form-data; boundary=\"unclosed", png), http.StatusUnsupportedMediaType, "Unsupported media type"},
		{"urlencoded bad escape", raw("/api/products/", "application/x-www-form-urlencoded", "name=%zz&slug=x"), http.StatusBadRequest, "Form parse error"},
	}
}

// part is one part of a hand-written multipart body, for shapes the
// mime/multipart writer will not make.
func part(boundary, headers, body string) string {
	return "--" + boundary + "\r\n" + headers + "\r\n\r\n" + body + "\r\n"
}

// jsonCases are JSON bodies that are huge, deep, of the wrong types, or
// carry bad ids, prices and slugs.
func jsonCases(slug, img1, img2 string) []hostileCase {
	create := "/api/products/"
	update := "/api/products/" + slug + "/"
	image := "/api/products/" + slug + "/images/" + img1 + "/"
	reorder := "/api/products/" + slug + "/images/reorder/"
	send := func(method, path, body string) func() request {
		return func() request {
			return request{method: method, path: path, ctype: "application/json", body: strings.NewReader(body)}
		}
	}
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	deepObject := func(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }
	manyIDs := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprint(1000000 + i)
		}
		return `{"order": [` + strings.Join(ids, ",") + `]}`
	}
	const (
		notNumber = "A valid number is required."
		badSlug   = "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
		notIDs    = "order must be a list of image IDs"
	)
	product := func(extra string) string { return `{"name": "n", "slug": "fresh"` + extra + `}` }
	return []hostileCase{
		// Size and shape.
		{"json over the 1 MiB limit", send("POST", create, `{"name": "`+strings.Repeat("a", 2<<20)+`", "slug": "big"}`), http.StatusRequestEntityTooLarge, "Request body too large"},
		{"json 10000 nested arrays", send("POST", create, `{"name": `+deep(10000)+`, "slug": "deep"}`), http.StatusBadRequest, ""},
		{"json 100000 nested arrays", send("POST", create, `{"name": `+deep(100000)+`, "slug": "deep"}`), http.StatusBadRequest, "JSON parse error"},
		{"json 10000 nested objects", send("PATCH", update, `{"description": `+deepObject(10000)+`}`), http.StatusBadRequest, ""},
		{"json nested arrays in order", send("POST", reorder, `{"order": `+deep(5000)+`}`), http.StatusBadRequest, notIDs},
		{"json not an object", send("POST", create, `[{"name": "n", "slug": "s"}]`), http.StatusBadRequest, "Invalid data. Expected a dictionary, but got list."},
		{"json null body", send("PATCH", update, `null`), http.StatusBadRequest, "Expected a dictionary, but got NoneType."},
		{"json two values", send("PATCH", update, `{"name": "a"} {"name": "b"}`), http.StatusBadRequest, "extra data after the JSON value"},
		{"json truncated", send("PATCH", update, `{"name": "a`), http.StatusBadRequest, "JSON parse error"},
		{"json with BOM", send("PATCH", update, "\xef\xbb\xbf{\"name\": \"a\"}"), http.StatusBadRequest, "JSON parse error"},
		{"json NaN literal", send("POST", create, product(`, "price": NaN`)), http.StatusBadRequest, "JSON parse error"},
		{"json as text/plain", func() request {
			return request{method: "PATCH", path: update, ctype: "text/plain", body: strings.NewReader(`{"name": "a"}`)}
		}, http.StatusUnsupportedMediaType, "Unsupported media type"},

		// Wrong types.
		{"json name is an object", send("POST", create, `{"name": {"a": 1}, "slug": "s1"}`), http.StatusBadRequest, "Not a valid string."},
		{"json name is a bool", send("POST", create, `{"name": true, "slug": "s1"}`), http.StatusBadRequest, "Not a valid string."},
		{"json name is null", send("PATCH", update, `{"name": null}`), http.StatusBadRequest, "This field may not be null."},
		{"json name has NUL", send("PATCH", update, `{"name": "a\u0000b"}`), http.StatusBadRequest, "Null characters are not allowed."},
		{"json slug is a list", send("POST", create, `{"name": "n", "slug": ["a"]}`), http.StatusBadRequest, "Not a valid string."},
		{"json image is a string", send("PATCH", update, `{"image": "../../etc/passwd"}`), http.StatusBadRequest, "The submitted data was not a file."},
		{"json is_primary is a string", send("PATCH", image, `{"is_primary": "maybe"}`), http.StatusBadRequest, "Must be a valid boolean."},
		{"json is_primary is null", send("PATCH", image, `{"is_primary": null}`), http.StatusBadRequest, "This field may not be null."},
		{"json order -1", send("PATCH", image, `{"order": -1}`), http.StatusBadRequest, "Ensure this value is greater than or equal to 0."},
		{"json order 1e9", send("PATCH", image, `{"order": 1e9}`), http.StatusBadRequest, "A valid integer is required."},
		{"json order huge", send("PATCH", image, `{"order": 1e400}`), http.StatusBadRequest, "A valid integer is required."},
		{"json order 2^63", send("PATCH", image, `{"order": 9223372036854775808}`), http.StatusBadRequest, "less than or equal to 2147483647"},
		{"json order is a list", send("PATCH", image, `{"order": [1]}`), http.StatusBadRequest, "A valid integer is required."},
		{"json image on image PATCH", send("PATCH", image, `{"image": null}`), http.StatusBadRequest, "The image file cannot be changed."},
		{"json alt_text too long", send("PATCH", image, `{"alt_text": "`+strings.Repeat("€", 201)+`"}`), http.StatusBadRequest, "no more than 200 characters"},

		// The reorder body.
		{"reorder id 1e9", send("POST", reorder, `{"order": [1e9]}`), http.StatusBadRequest, "not IDs: 1e9"},
		{"reorder id -1", send("POST", reorder, `{"order": [-1]}`), http.StatusBadRequest, "not IDs: -1"},
		{"reorder id 0", send("POST", reorder, `{"order": [0]}`), http.StatusBadRequest, "not IDs: 0"},
		{"reorder id \"1\"", send("POST", reorder, `{"order": ["`+img1+`"]}`), http.StatusBadRequest, "not IDs"},
		{"reorder id null", send("POST", reorder, `{"order": [`+img1+`, null]}`), http.StatusBadRequest, "not IDs: null"},
		{"reorder id true", send("POST", reorder, `{"order": [true]}`), http.StatusBadRequest, "not IDs: true"},
		{"reorder id 1.0", send("POST", reorder, `{"order": [`+img1+`.0]}`), http.StatusBadRequest, "not IDs: " + img1 + ".0"},
		{"reorder id past int64", send("POST", reorder, `{"order": [99999999999999999999]}`), http.StatusBadRequest, "not IDs: 99999999999999999999"},
		{"reorder id as object", send("POST", reorder, `{"order": [{"id": `+img1+`}]}`), http.StatusBadRequest, "not IDs"},
		{"reorder order null", send("POST", reorder, `{"order": null}`), http.StatusBadRequest, notIDs},
		{"reorder order string", send("POST", reorder, `{"order": "`+img1+`,`+img2+`"}`), http.StatusBadRequest, notIDs},
		{"reorder body is a list", send("POST", reorder, `[`+img1+`]`), http.StatusBadRequest, notIDs},
		{"reorder unknown id", send("POST", reorder, `{"order": [`+img2+`, 999999999]}`), http.StatusBadRequest, "999999999"},
		{"reorder repeated id", send("POST", reorder, `{"order": [`+img1+`, `+img1+`]}`), http.StatusBadRequest, "more than once: " + img1},
		{"reorder 100000 unknown ids", send("POST", reorder, manyIDs(100000)), http.StatusBadRequest, "not images of this product"},
		{"reorder form id -1", func() request {
			return request{method: "POST", path: reorder, ctype: "application/x-www-form-urlencoded", body: strings.NewReader("order=" + img1 + "&order=-1")}
		}, http.StatusBadRequest, "not IDs: -1"},

		// Prices.
		{"price \"NaN\"", send("POST", create, product(`, "price": "NaN"`)), http.StatusBadRequest, notNumber},
		{"price \"Infinity\"", send("POST", create, product(`, "price": "Infinity"`)), http.StatusBadRequest, notNumber},
		{"price 1e400", send("POST", create, product(`, "price": 1e400`)), http.StatusBadRequest, "no more than 8 digits before the decimal point"},
		{"price \"1e400\"", send("POST", create, product(`, "price": "1e400"`)), http.StatusBadRequest, "no more than 8 digits before the decimal point"},
		{"price 1e-400", send("POST", create, product(`, "price": 1e-400`)), http.StatusBadRequest, "no more than 2 decimal places"},
		{"price 1e999999999999", send("POST", create, product(`, "price": "1e999999999999"`)), http.StatusBadRequest, "no more than 8 digits before the decimal point"},
		{"price \"abc\"", send("POST", create, product(`, "price": "abc"`)), http.StatusBadRequest, notNumber},
		{"price -1", send("PATCH", update, `{"price": -1}`), http.StatusBadRequest, "greater than or equal to 0"},
		{"price -0.01", send("PATCH", update, `{"price": "-0.01"}`), http.StatusBadRequest, "greater than or equal to 0"},
		{"price 0x10", send("PATCH", update, `{"price": "0x10"}`), http.StatusBadRequest, notNumber},
		{"price 1,5", send("PATCH", update, `{"price": "1,5"}`), http.StatusBadRequest, notNumber},
		{"price list", send("PATCH", update, `{"price": [1]}`), http.StatusBadRequest, notNumber},
		{"price object", send("PATCH", update, `{"price": {"amount": 1}}`), http.StatusBadRequest, notNumber},
		{"price 101 digits", send("PATCH", update, `{"price": "`+strings.Repeat("1", 101)+`"}`), http.StatusBadRequest, notNumber},

		// Slugs in the body.
		{"slug with /", send("POST", create, `{"name": "n", "slug": "a/b"}`), http.StatusBadRequest, badSlug},
		{"slug with %2F", send("POST", create, `{"name": "n", "slug": "a%2Fb"}`), http.StatusBadRequest, badSlug},
		{"slug ..", send("PATCH", update, `{"slug": ".."}`), http.StatusBadRequest, badSlug},
		{"slug unicode", send("POST", create, `{"name": "n", "slug": "café-ünïcødé"}`), http.StatusBadRequest, badSlug},
		{"slug 10 KB", send("POST", create, `{"name": "n", "slug": "`+strings.Repeat("s", 10<<10)+`"}`), http.StatusBadRequest, "Ensure this field has no more than 50 characters."},
		{"slug blank", send("PATCH", update, `{"slug": "   "}`), http.StatusBadRequest, "This field may not be blank."},
		{"slug with NUL", send("PATCH", update, `{"slug": "a\u0000"}`), http.StatusBadRequest, "Null characters are not allowed."},
		{"slug taken", send("POST", create, `{"name": "n", "slug": "`+slug+`"}`), http.StatusBadRequest, "product with this slug already exists."},
	}
}

// pathAndQueryCases put hostile values in the URL: slugs, ids, and the
// product list's query parameters. A path that names nothing is 404, as DRF
// answers.
func pathAndQueryCases(slug string) []hostileCase {
	get := func(path string) func() request {
		return func() request { return request{method: "GET", path: path, anonymous: true} }
	}
	patch := func(path string) func() request {
		return func() request {
			return request{method: "PATCH", path: path, ctype: "application/json", body: strings.NewReader(`{"name": "x"}`)}
		}
	}
	images := "/api/products/" + slug + "/images/"
	long := strings.Repeat("s", 10<<10)
	return []hostileCase{
		{"path slug with %2F", get("/api/products/a%2Fb/"), http.StatusNotFound, "Not found."},
		{"path slug with %2F patch", patch("/api/products/" + slug + "%2F..%2F" + slug + "/"), http.StatusNotFound, "Not found."},
		{"path slug unicode", get("/api/products/caf%C3%A9/"), http.StatusNotFound, "Not found."},
		{"path slug 10 KB", patch("/api/products/" + long + "/"), http.StatusNotFound, "Not found."},
		{"path slug NUL", get("/api/products/a%00/"), http.StatusNotFound, "Not found."},
		{"path slug not UTF-8", get("/api/products/%FF%FE/"), http.StatusNotFound, "Not found."},
		{"path slug NUL upload", func() request {
			return request{method: "POST", path: "/api/products/%00/upload_image/", ctype: "application/json", body: strings.NewReader(`{}`)}
		}, http.StatusNotFound, "Not found."},
		{"path image id 1e9", get(images + "1e9/"), http.StatusNotFound, "Not found."},
		{"path image id -1", get(images + "-1/"), http.StatusNotFound, "Not found."},
		{"path image id 0", patch(images + "0/"), http.StatusNotFound, "Not found."},
		{"path image id past int64", get(images + "99999999999999999999/"), http.StatusNotFound, "Not found."},
		{"path image id NUL", get(images + "%00/"), http.StatusNotFound, "Not found."},
		{"path image id of nothing", patch(images + "999999999/"), http.StatusNotFound, "Not found."},
		{"query page 0", get("/api/products/?page=0"), http.StatusNotFound, "Invalid page."},
		{"query page -1", get("/api/products/?page=-1"), http.StatusNotFound, "Invalid page."},
		{"query page 1e3", get("/api/products/?page=1e3"), http.StatusNotFound, "Invalid page."},
		{"query page past int64", get("/api/products/?page=99999999999999999999"), http.StatusNotFound, "Invalid page."},
		// (page-1)*page_size must not overflow: SQLite took the negative
		// OFFSET as 0 and answered page 1, PostgreSQL refused it with a 500.
		{"query page 2^63-1", get("/api/products/?page=9223372036854775807"), http.StatusNotFound, "Invalid page."},
		{"query page 2^62 page_size 100", get("/api/products/?page=4611686018427387904&page_size=100"), http.StatusNotFound, "Invalid page."},
		{"query search 10 KB", get("/api/products/?search=" + long), http.StatusBadRequest, "Ensure this field has no more than 200 characters."},
		{"query search NUL", get("/api/products/?search=a%00"), http.StatusBadRequest, "Null characters are not allowed."},
		{"query search not UTF-8", get("/api/products/?search=%FF"), http.StatusBadRequest, "Not a valid string."},
	}
}

// TestHostileInputAccepted sends odd but valid inputs: each must be
// accepted and rendered, and stored only under keys vitrine made.
func TestHostileInputAccepted(t *testing.T) {
	t.Parallel()
	s, tmp := hostileServer(t)
	jpg := makeJPEG(t, 300, 300)
	pngData := makePNG(t, 300, 300)
	script := "<script>alert(1)</script>"
	files := []struct {
		name, file string
		data       []byte
		gone       string // must not be in the stored original
	}{
		{"cmyk jpeg", "cmyk.jpg", cmykJPEG(256, 256, true), ""},
		{"cmyk jpeg without Adobe marker", "cmyk.jpg", cmykJPEG(256, 256, false), ""},
		{"16-bit rgb png", "deep.png", pngBytes(t, deepImage(300, 200, false)), ""},
		{"16-bit rgba png", "deep.png", pngBytes(t, deepImage(300, 200, true)), ""},
		{"16-bit grey png", "deep.png", pngBytes(t, grey16(300, 200)), ""},
		{"grey jpeg", "grey.jpg", greyJPEG(t, 300, 200), ""},
		{"exif of 64 KiB", "exif.jpg", withAPP1(jpg, hugeEXIF(65533-6)), "PADPADPAD"},
		{"70 exif segments of 64 KiB", "exif.jpg", withAPP1(jpg, slices.Repeat([][]byte{hugeEXIF(65533 - 6)}, 70)...), "PADPADPAD"},
		{"exif with a bad byte order", "exif.jpg", withAPP1(jpg, append([]byte("Exif\x00\x00XX\x00\x2a\x00\x00\x00\x08"), "BADEXIF"...)), "BADEXIF"},
		{"exif with IFD0 past the end", "exif.jpg", withAPP1(jpg, append(tiffHeader(0xFFFFFFF0), "BADEXIF"...)), "BADEXIF"},
		{"exif with 65535 entries", "exif.jpg", withAPP1(jpg, append(tiffHeader(8), 0xFF, 0xFF, 'B', 'A', 'D', 'E', 'X', 'I', 'F')), "BADEXIF"},
		{"exif with orientation 99", "exif.jpg", withAPP1(jpg, append(orientationEXIF(99), "BADEXIF"...)), "BADEXIF"},
		{"exif orientation as a long list", "exif.jpg", withAPP1(jpg, append(longOrientationEXIF(), "BADEXIF"...)), "BADEXIF"},
		{"exif segment empty", "exif.jpg", withAPP1(jpg, nil), ""},
		{"exif header only", "exif.jpg", withAPP1(jpg, []byte("Exif")), ""},
		// Noise in the entropy-coded data decodes to noise, as in every
		// browser: libjpeg only warns, and refusing warnings would refuse
		// many real photos too. The structure is sound, so it is accepted.
		{"jpeg scan overwritten with noise", "noise.jpg", scrambleJPEGScan(jpg), ""},
		{"jpeg then html after EOI", "poly.jpg", append(slices.Clone(jpg), "<html>"+script+"</html>"...), script},
		{"jpeg with html comment", "poly.jpg", withSegment(jpg, 0xFE, []byte("<html>"+script+"</html>")), script},
		{"png with html text chunk", "poly.png", withPNGChunk(pngData, "tEXt", []byte("Comment\x00<html>"+script+"</html>")), script},
		{"png then html after IEND", "poly.png", append(slices.Clone(pngData), script...), script},
		{"name with ../", "../../../../etc/passwd.png", pngData, ""},
		{"name with backslashes", `..\..\windows\system32\evil.png`, pngData, ""},
		{"name with directories", "/var/www/html/shell.php.png", pngData, ""},
		{"name with escapes", "%2e%2e%2f%2e%2e%2fpasswd.png", pngData, ""},
		// vitrine.BaseName clips a name to 255 bytes but keeps its extension,
		// as Django's UploadedFile._set_name does.
		{"name of 1 KiB of unicode", strings.Repeat("ü", 100) + strings.Repeat("字", 240) + ".png", pngData, ""},
		{"name .png", ".png", pngData, ""},
		{"name with quotes and newlines", "a\"b\r\nX-Evil: 1\r\n.png", pngData, ""},
	}
	// Under 200 px a side: the gallery takes them, the product's single
	// image does not. libvips 8.14 aborted the process on a JPEG side
	// under 8 px (Verify shrank it on load by 8, to zero rows).
	small := []struct {
		name, file string
		data       []byte
	}{
		{"jpeg 1x1", "dot.jpg", makeJPEG(t, 1, 1)},
		{"jpeg 7x3", "tiny.jpg", makeJPEG(t, 7, 3)},
		{"jpeg 1x199", "thin.jpg", makeJPEG(t, 1, 199)},
		{"png 1x1", "dot.png", makePNG(t, 1, 1)},
		{"webp 1x1", "dot.webp", makeWebP(t, 1, 1)},
		// A header declaring 65500x1 over a 300x300 image's data: libjpeg
		// warns that the data runs out and fills the row, as browsers do.
		{"jpeg header 65500x1", "wide.jpg", jpegWithSize(jpg, 65500, 1)},
		{"jpeg header 1x65500", "tall.jpg", jpegWithSize(jpg, 1, 65500)},
	}
	// The group returns once every parallel upload is done; the checks of
	// the whole store come after it.
	t.Run("upload", func(t *testing.T) {
		for i, f := range files {
			uploadAccepted(t, s, fmt.Sprint("ok-", i), f.name, f.file, f.data, f.gone, true)
		}
		for i, f := range small {
			uploadAccepted(t, s, fmt.Sprint("small-", i), f.name, f.file, f.data, "", false)
		}
	})
	s.waitIdle()
	for _, k := range s.files() {
		if !keyPattern.MatchString(k) {
			t.Errorf("stored file %q has a key vitrine does not make", k)
		}
	}
	if left := tempFiles(t, tmp); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// uploadAccepted uploads one file that must be accepted to a new product's
// gallery and, when product is set, as its single image, and checks what
// was stored: keys vitrine made, the original without gone, and renditions
// that decode.
func uploadAccepted(t *testing.T, s *testServer, slug, name, file string, data []byte, gone string, product bool) {
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		s := s.with(t)
		s.createProduct(slug)
		img := s.addImage(slug, data, file)
		ready := s.waitStatus(slug, img["id"])
		if ready["status"] != string(vitrine.StatusReady) {
			t.Fatalf("got %v, want ready", ready)
		}
		keys := s.filesOf(ready)
		for _, k := range keys {
			if !keyPattern.MatchString(k) {
				t.Errorf("stored key %q is not one vitrine makes", k)
			}
		}
		original := s.fetch(ready["image_url"]).want(http.StatusOK)
		if gone != "" && bytes.Contains(original.Body.Bytes(), []byte(gone)) {
			t.Errorf("the served original still holds %q", gone)
		}
		if got, want := original.Header().Get("Content-Type"), vitrine.FormatOfKey(keys[0]).ContentType(); got != want {
			t.Errorf("got Content-Type %q, want %q", got, want)
		}
		thumb := ready["renditions"].(map[string]any)["thumbnail"].(map[string]any)
		// Renditions are sRGB whatever the original (CMYK, 16-bit, grey).
		if m := decodeImage(t, s.fetch(thumb["url"]).want(http.StatusOK).Body.Bytes()).ColorModel(); m == color.CMYKModel || m == color.RGBA64Model {
			t.Errorf("the thumbnail has colour model %v, want 8-bit sRGB", m)
		}
		if !product {
			return
		}
		// The product's single image takes it too (at least 200 px a side).
		p := s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", file, data}).want(http.StatusOK).obj()
		if k := s.keyOf(p["image_url"]); !keyPattern.MatchString(k) {
			t.Errorf("stored key %q is not one vitrine makes", k)
		}
	})
}

// TestHostileJSONAccepted checks JSON bodies that look wrong but are what
// DRF accepts: duplicate keys (the last one wins, as in Python's json),
// numbers for strings, and a negative zero price.
func TestHostileJSONAccepted(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	send := func(method, path, body string) *response {
		return s.serve(request{method: method, path: path, ctype: "application/json", body: strings.NewReader(body)})
	}
	p := send("POST", "/api/products/", `{"name": "first", "name": "last", "slug": "dup", "slug": "dup2", "price": "-0"}`).want(http.StatusCreated).obj()
	if p["name"] != "last" || p["slug"] != "dup2" || p["price"] != "0.00" {
		t.Fatalf("got name %v slug %v price %v, want last, dup2, 0.00", p["name"], p["slug"], p["price"])
	}
	p = send("PATCH", "/api/products/dup2/", `{"name": 12345, "description": 1.5, "price": -0.0}`).want(http.StatusOK).obj()
	if p["name"] != "12345" || p["description"] != "1.5" || p["price"] != "0.00" {
		t.Fatalf("got name %v description %v price %v, want 12345, 1.5, 0.00", p["name"], p["description"], p["price"])
	}
	a := id(s.addImage("dup2", makePNG(t, 20, 20), "a.png"))
	b := id(s.addImage("dup2", makePNG(t, 20, 20), "b.png"))
	got := send("POST", "/api/products/dup2/images/reorder/", `{"order": [`+a+`], "order": [`+b+`, `+a+`]}`).want(http.StatusOK).list()
	if ids(got)[0] != b {
		t.Fatalf("got order %v, want %s first (the last \"order\" wins)", ids(got), b)
	}
	// An unknown field, even a huge one within the limit, is ignored as DRF does.
	send("PATCH", "/api/products/dup2/", `{"unknown": "`+strings.Repeat("x", 512<<10)+`", "id": 99, "created_at": "never"}`).want(http.StatusOK)
}

// countingReader yields n bytes: prefix, then filler forever, and counts
// what the server read.
type countingReader struct {
	prefix []byte
	n      int64 // bytes left to give
	read   int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), c.n)]
	k := copy(p, c.prefix)
	c.prefix = c.prefix[k:]
	for i := k; i < len(p); i++ {
		p[i] = 'a'
	}
	c.n -= int64(len(p))
	c.read += int64(len(p))
	return len(p), nil
}

// TestBodyLimitWhileReading sends bodies far over each route's limit and
// checks that the server stops reading soon after the limit, answers 413,
// and keeps nothing.
func TestBodyLimitWhileReading(t *testing.T) {
	t.Parallel()
	s, tmp := hostileServer(t)
	slug := s.createProduct("limits")
	const boundary = "BoUnDaRy"
	fileHead := func(field string) string {
		return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"a.png\"\r\n\r\n" + string(makePNG(t, 300, 300))
	}
	textHead := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"alt_text\"\r\n\r\n"
	mp := "multipart/form-data; boundary=" + boundary
	tests := []struct {
		name, method, path, ctype, prefix string
		size                              int64 // bytes offered
		limit                             int64 // the most the server may read
	}{
		{"json", "POST", "/api/products/", "application/json", `{"name": "`, 256 << 20, 1<<20 + 64<<10},
		{"urlencoded", "POST", "/api/products/", "application/x-www-form-urlencoded", "name=", 256 << 20, 1<<20 + 64<<10},
		{"reorder", "POST", "/api/products/" + slug + "/images/reorder/", "application/json", `{"order": [1`, 256 << 20, 1<<20 + 64<<10},
		{"multipart file", "POST", "/api/products/" + slug + "/images/", mp, fileHead("image"), 256 << 20, 7 << 20},
		{"multipart text field", "POST", "/api/products/" + slug + "/images/", mp, textHead, 256 << 20, 1<<20 + 64<<10},
		{"multipart product image", "PUT", "/api/products/" + slug + "/upload_image/", mp, fileHead("image"), 256 << 20, 7 << 20},
		{"multipart bulk", "POST", "/api/products/" + slug + "/images/bulk_upload/", mp, fileHead("images"), 512 << 20, 53 << 20},
	}
	files, snap := s.files(), s.snapshot()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := s.with(t)
			body := &countingReader{prefix: []byte(tt.prefix), n: tt.size}
			r := s.serve(request{method: tt.method, path: tt.path, ctype: tt.ctype, body: body})
			detail, _ := wantJSONError(t, r, http.StatusRequestEntityTooLarge, "too large")["detail"].(string)
			// The message states the limit that was hit: the server read up
			// to it and hardly more.
			var stated int64
			if _, err := fmt.Sscan(regexp.MustCompile(`\d+`).FindString(detail), &stated); err != nil || stated > tt.limit {
				t.Errorf("got detail %q, want a limit of at most %d bytes", detail, tt.limit)
			}
			if body.read < stated || body.read > stated+64<<10 {
				t.Errorf("the server read %d bytes of %d, want the %d of the limit and at most 64 KiB more", body.read, tt.size, stated)
			}
			if got := s.files(); !slices.Equal(got, files) {
				t.Errorf("stored files changed: got %v, want %v", got, files)
			}
			if got := s.snapshot(); got != snap {
				t.Errorf("rows changed:\n got %s\nwant %s", got, snap)
			}
			if left := tempFiles(t, tmp); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
			s.get("/api/products/" + slug + "/").want(http.StatusOK)
		})
	}
}

// Generated inputs. Every one is made in code, from the standard library's
// encoders or byte by byte, so the corpus needs no binary files.

// jpegSegmentAt returns the offset of the first segment with marker m in a
// JPEG, or -1.
func jpegSegmentAt(jpg []byte, m byte) int {
	for i := 2; i+4 <= len(jpg) && jpg[i] == 0xFF; {
		if jpg[i+1] == m {
			return i
		}
		if jpg[i+1] == 0xDA {
			return -1
		}
		i += 2 + int(binary.BigEndian.Uint16(jpg[i+2:]))
	}
	return -1
}

// jpegWithSize returns jpg with the size in its SOF0 header changed: the
// header declares w x h, the data is still the small image's.
func jpegWithSize(jpg []byte, w, h int) []byte {
	out := slices.Clone(jpg)
	i := jpegSegmentAt(out, 0xC0)
	binary.BigEndian.PutUint16(out[i+5:], uint16(h))
	binary.BigEndian.PutUint16(out[i+7:], uint16(w))
	return out
}

// scrambleJPEGScan overwrites the middle of the entropy-coded data with
// noise, keeping the markers around it.
func scrambleJPEGScan(jpg []byte) []byte {
	out := slices.Clone(jpg)
	sos := jpegSegmentAt(out, 0xDA)
	start := sos + 2 + int(binary.BigEndian.Uint16(out[sos+2:]))
	rng := rand.New(rand.NewPCG(6, 6))
	for i := start + (len(out)-start)/4; i < len(out)-(len(out)-start)/4; i++ {
		out[i] = byte(rng.UintN(255)) // never 0xFF: no new markers
	}
	return out
}

// jpegBadHuffman makes every code length count of the first Huffman
// table 255, which no table can hold.
func jpegBadHuffman(jpg []byte) []byte {
	out := slices.Clone(jpg)
	i := jpegSegmentAt(out, 0xC4)
	for k := i + 5; k < i+5+16; k++ {
		out[k] = 0xFF
	}
	return out
}

// jpegLongSegment inserts a COM segment whose length runs past the end.
func jpegLongSegment(jpg []byte) []byte {
	return slices.Concat(jpg[:2], []byte{0xFF, 0xFE, 0xFF, 0xFF}, []byte("short"), jpg[2:20])
}

// withSegment inserts a segment with marker m right after SOI.
func withSegment(jpg []byte, m byte, payload []byte) []byte {
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, m}, uint16(2+len(payload)))
	return slices.Concat(jpg[:2], seg, payload, jpg[2:])
}

// withAPP1 inserts APP1 segments with these payloads right after SOI.
func withAPP1(jpg []byte, payloads ...[]byte) []byte {
	if len(payloads) == 0 {
		payloads = [][]byte{nil}
	}
	out := slices.Clone(jpg)
	for _, p := range slices.Backward(payloads) {
		out = withSegment(out, 0xE1, p)
	}
	return out
}

// tiffHeader is the start of an Exif APP1 payload: a little-endian TIFF
// header pointing IFD0 at ifd.
func tiffHeader(ifd uint32) []byte {
	return binary.LittleEndian.AppendUint32([]byte("Exif\x00\x00II*\x00"), ifd)
}

// orientationEXIF is an Exif payload whose IFD0 holds one orientation.
func orientationEXIF(o uint16) []byte {
	b := tiffHeader(8)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 0x0112)
	b = binary.LittleEndian.AppendUint16(b, 3)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint16(b, o)
	b = binary.LittleEndian.AppendUint16(b, 0)
	return binary.LittleEndian.AppendUint32(b, 0)
}

// longOrientationEXIF declares the orientation a list of a billion SHORTs
// stored far past the end of the segment.
func longOrientationEXIF() []byte {
	b := tiffHeader(8)
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 0x0112)
	b = binary.LittleEndian.AppendUint16(b, 3)
	b = binary.LittleEndian.AppendUint32(b, 1_000_000_000)
	b = binary.LittleEndian.AppendUint32(b, 0x7FFFFFF0)
	return binary.LittleEndian.AppendUint32(b, 0)
}

// hugeEXIF is a valid Exif payload of n bytes: an orientation of 1 and an
// ImageDescription padding the rest.
func hugeEXIF(n int) []byte {
	b := tiffHeader(8)
	b = binary.LittleEndian.AppendUint16(b, 2)
	b = binary.LittleEndian.AppendUint16(b, 0x010E) // ImageDescription, ASCII
	b = binary.LittleEndian.AppendUint16(b, 2)
	textOff := uint32(8 + 2 + 2*12 + 4)
	textLen := n - 6 - int(textOff)
	b = binary.LittleEndian.AppendUint32(b, uint32(textLen))
	b = binary.LittleEndian.AppendUint32(b, textOff)
	b = binary.LittleEndian.AppendUint16(b, 0x0112) // Orientation 1
	b = binary.LittleEndian.AppendUint16(b, 3)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 0)
	text := bytes.Repeat([]byte("PAD"), textLen/3+1)[:textLen-1]
	return append(append(b, text...), 0)
}

// pngChunkAt returns the offset of the first chunk of this type, or -1.
func pngChunkAt(data []byte, typ string) int {
	for i := 8; i+8 <= len(data); i += 12 + int(binary.BigEndian.Uint32(data[i:])) {
		if string(data[i+4:i+8]) == typ {
			return i
		}
	}
	return -1
}

// pngChunk returns one chunk with its length and CRC.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(append(c, typ...), data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
}

// withPNGChunk inserts a chunk right after IHDR.
func withPNGChunk(data []byte, typ string, payload []byte) []byte {
	return slices.Concat(data[:33], pngChunk(typ, payload), data[33:])
}

// pngBadZlib breaks the zlib header of the first IDAT and fixes its CRC, so
// that only the compressed data is wrong.
func pngBadZlib(t *testing.T, data []byte) []byte {
	t.Helper()
	i := pngChunkAt(data, "IDAT")
	n := int(binary.BigEndian.Uint32(data[i:]))
	payload := slices.Clone(data[i+8 : i+8+n])
	payload[0], payload[1] = 0x12, 0x34
	return slices.Concat(data[:i], pngChunk("IDAT", payload), data[i+12+n:])
}

func flipByte(data []byte, i int) []byte {
	out := slices.Clone(data)
	out[i] ^= 0xFF
	return out
}

// scrambleTail overwrites the data after the first skip bytes with noise.
func scrambleTail(data []byte, skip int) []byte {
	out := slices.Clone(data)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := skip; i < len(out); i++ {
		out[i] = byte(rng.UintN(256))
	}
	return out
}

// riffChunk returns a RIFF chunk with its header and padding.
func riffChunk(fourcc string, payload []byte) []byte {
	c := binary.LittleEndian.AppendUint32([]byte(fourcc), uint32(len(payload)))
	c = append(c, payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// webpFile returns a RIFF WEBP file holding the chunks.
func webpFile(chunks ...[]byte) []byte {
	body := slices.Concat(chunks...)
	f := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(4+len(body)))
	return append(append(f, "WEBP"...), body...)
}

// webpImageChunk returns the VP8 or VP8L chunk of a simple WebP file.
func webpImageChunk(t *testing.T, webp []byte) []byte {
	t.Helper()
	for i := 12; i+8 <= len(webp); {
		n := int(binary.LittleEndian.Uint32(webp[i+4:]))
		if fourcc := string(webp[i : i+4]); fourcc == "VP8 " || fourcc == "VP8L" {
			return webp[i : i+8+n+n%2]
		}
		i += 8 + n + n%2
	}
	t.Fatal("no VP8 or VP8L chunk in the WebP file")
	return nil
}

// webpCanvas wraps a WebP image in an extended file whose VP8X header
// declares a w x h canvas.
func webpCanvas(t *testing.T, webp []byte, w, h int) []byte {
	vp8x := []byte{0, 0, 0, 0}
	vp8x = append(vp8x, byte(w-1), byte((w-1)>>8), byte((w-1)>>16))
	vp8x = append(vp8x, byte(h-1), byte((h-1)>>8), byte((h-1)>>16))
	return webpFile(riffChunk("VP8X", vp8x), webpImageChunk(t, webp))
}

// vp8lHeader is a lossless bitstream header declaring w x h (at most 16384
// a side), followed by bytes that are no image.
func vp8lHeader(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14
	return append(binary.LittleEndian.AppendUint32([]byte{0x2F}, bits), bytes.Repeat([]byte{0x55}, 64)...)
}

// webpVP8Size returns a lossy WebP whose key frame header declares w x h
// (at most 16383 a side) over the small image's data.
func webpVP8Size(t *testing.T, webp []byte, w, h int) []byte {
	c := slices.Clone(webpImageChunk(t, webp))
	if string(c[:4]) != "VP8 " {
		t.Fatalf("got a %q chunk, want a lossy VP8 one", c[:4])
	}
	// Chunk header (8), frame tag (3), start code (3), then the sizes.
	binary.LittleEndian.PutUint16(c[14:], uint16(w))
	binary.LittleEndian.PutUint16(c[16:], uint16(h))
	return webpFile(c)
}

// webpRIFFSize returns the file with its RIFF size field set to n.
func webpRIFFSize(webp []byte, n uint32) []byte {
	out := slices.Clone(webp)
	binary.LittleEndian.PutUint32(out[4:], n)
	return out
}

// makeBMP returns a w x h 24-bit BMP.
func makeBMP(w, h int) []byte {
	stride := (w*3 + 3) &^ 3
	le := binary.LittleEndian
	b := []byte("BM")
	b = le.AppendUint32(b, uint32(54+stride*h))
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, 54)
	b = le.AppendUint32(b, 40)
	b = le.AppendUint32(b, uint32(w))
	b = le.AppendUint32(b, uint32(h))
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 24)
	b = append(b, make([]byte, 24)...) // no compression, sizes and palette left 0
	return append(b, bytes.Repeat([]byte{0x80}, stride*h)...)
}

// makeTIFF returns a w x h 8-bit grey, uncompressed baseline TIFF.
func makeTIFF(w, h int) []byte {
	le := binary.LittleEndian
	const entries = 8
	data := uint32(8 + 2 + entries*12 + 4)
	b := le.AppendUint32([]byte("II*\x00"), 8)
	b = le.AppendUint16(b, entries)
	entry := func(tag, typ uint16, value uint32) {
		b = le.AppendUint16(b, tag)
		b = le.AppendUint16(b, typ)
		b = le.AppendUint32(b, 1)
		b = le.AppendUint32(b, value)
	}
	entry(256, 4, uint32(w)) // ImageWidth
	entry(257, 4, uint32(h)) // ImageLength
	entry(258, 3, 8)         // BitsPerSample
	entry(259, 3, 1)         // Compression: none
	entry(262, 3, 1)         // PhotometricInterpretation: black is zero
	entry(273, 4, data)      // StripOffsets
	entry(278, 4, uint32(h)) // RowsPerStrip
	entry(279, 4, uint32(w*h))
	b = le.AppendUint32(b, 0)
	return append(b, bytes.Repeat([]byte{0x80}, w*h)...)
}

// isoBMFF returns the ftyp box of an ISO base media file (HEIC, AVIF)
// followed by an empty meta box.
func isoBMFF(brand string, compatible ...string) []byte {
	ftyp := append([]byte("ftyp"+brand), 0, 0, 0, 0)
	for _, c := range compatible {
		ftyp = append(ftyp, c...)
	}
	b := binary.BigEndian.AppendUint32(nil, uint32(4+len(ftyp)))
	b = append(b, ftyp...)
	b = binary.BigEndian.AppendUint32(b, 12)
	return append(b, "meta\x00\x00\x00\x00"...)
}

// makeAVIF returns a real AVIF file made by libvips, or the header of one
// when this libvips cannot encode AVIF.
func makeAVIF(t *testing.T) []byte {
	t.Helper()
	out, err := vips.NewRenderer().Render(context.Background(), makePNG(t, 300, 300),
		[]vitrine.Spec{{Name: "a", Width: 300, Height: 300, Fit: vitrine.Contain, Format: vitrine.AVIF, Quality: 50, Effort: 1}})
	if err != nil || len(out.Renditions) == 0 || vitrine.SniffFormat(out.Renditions[0].Data) != vitrine.AVIF {
		return isoBMFF("avif", "mif1", "miaf", "avif")
	}
	return out.Renditions[0].Data
}

// deepImage is a 16-bit per channel image, opaque or with alpha.
func deepImage(w, h int, alpha bool) *image.NRGBA64 {
	img := image.NewNRGBA64(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			a := uint16(0xFFFF)
			if alpha {
				a = uint16(x * 0xFFFF / w)
			}
			img.SetNRGBA64(x, y, color.NRGBA64{uint16(x * 0xFFFF / w), uint16(y * 0xFFFF / h), 0x1234, a})
		}
	}
	return img
}

func grey16(w, h int) *image.Gray16 {
	img := image.NewGray16(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray16(x, y, color.Gray16{uint16((x + y) * 0xFFFF / (w + h))})
		}
	}
	return img
}

func greyJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{uint8(x ^ y)})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cmykJPEG encodes a w x h CMYK JPEG (w and h multiples of 8): baseline,
// four components at full resolution, and, when adobe is set, the Adobe
// APP14 marker (transform 0) that Photoshop writes on CMYK files. Each 8x8
// block is one flat colour, so only DC coefficients are coded; that keeps
// the encoder a page long. The standard library writes no CMYK JPEG.
func cmykJPEG(w, h int, adobe bool) []byte {
	var out bytes.Buffer
	seg := func(m byte, payload []byte) {
		out.Write(binary.BigEndian.AppendUint16([]byte{0xFF, m}, uint16(2+len(payload))))
		out.Write(payload)
	}
	out.Write([]byte{0xFF, 0xD8})
	if adobe {
		seg(0xEE, []byte("Adobe\x00\x64\x00\x00\x00\x00\x00"))
	}
	seg(0xDB, append([]byte{0}, bytes.Repeat([]byte{8}, 64)...)) // one quantization table of 8s
	sof := []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 4}
	for c := byte(1); c <= 4; c++ {
		sof = append(sof, c, 0x11, 0)
	}
	seg(0xC0, sof)
	// DC table: categories 0..11, each a 4-bit code equal to its number.
	seg(0xC4, append([]byte{0x00, 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11))
	// AC table: only end-of-block, coded as a single 0 bit.
	seg(0xC4, []byte{0x10, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00})
	seg(0xDA, []byte{4, 1, 0x00, 2, 0x00, 3, 0x00, 4, 0x00, 0, 63, 0})

	var acc uint32
	var nbits uint
	put := func(v uint32, n uint) {
		acc = acc<<n | v&(1<<n-1)
		nbits += n
		for nbits >= 8 {
			b := byte(acc >> (nbits - 8))
			out.WriteByte(b)
			if b == 0xFF {
				out.WriteByte(0) // byte stuffing
			}
			nbits -= 8
		}
	}
	var prev [4]int
	for by := 0; by < h/8; by++ {
		for bx := 0; bx < w/8; bx++ {
			ink := [4]int{bx * 255 / (w / 8), by * 255 / (h / 8), 64, (bx + by) * 40 % 128}
			for c := range 4 {
				// With a flat block of value v and a quantizer of 8, the
				// quantized DC coefficient is v-128.
				dc := ink[c] - 128
				diff := dc - prev[c]
				prev[c] = dc
				mag := diff
				if mag < 0 {
					mag = -mag
				}
				cat := uint(0)
				for mag>>cat != 0 {
					cat++
				}
				put(uint32(cat), 4)
				if diff < 0 {
					diff += 1<<cat - 1
				}
				put(uint32(diff), cat)
				put(0, 1) // end of block
			}
		}
	}
	if nbits > 0 {
		put(0xFF, 8-nbits) // pad with ones
	}
	out.Write([]byte{0xFF, 0xD9})
	return out.Bytes()
}

// TestGeneratedInputs checks that the generators make what they say, so a
// refusal above is the server's doing and not a broken fixture.
func TestGeneratedInputs(t *testing.T) {
	t.Parallel()
	// image/jpeg reads CMYK only with the Adobe marker; libvips reads both.
	img, err := jpeg.Decode(bytes.NewReader(cmykJPEG(256, 128, true)))
	if err != nil {
		t.Fatalf("cmykJPEG does not decode: %v", err)
	}
	if _, ok := img.(*image.CMYK); !ok || img.Bounds().Dx() != 256 || img.Bounds().Dy() != 128 {
		t.Fatalf("cmykJPEG: got %T %v, want a 256x128 *image.CMYK", img, img.Bounds())
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(pngBytes(t, deepImage(30, 20, false))))
	if err != nil || cfg.ColorModel != color.RGBA64Model {
		t.Fatalf("deepImage: got %v, %v, want a 16-bit PNG", cfg.ColorModel, err)
	}
	jpg := makeJPEG(t, 40, 30)
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(jpegWithSize(jpg, 50000, 40000))); err != nil || cfg.Width != 50000 || cfg.Height != 40000 {
		t.Fatalf("jpegWithSize: got %+v, %v", cfg, err)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(bombPNG(1000000, 1))); err != nil || cfg.Width != 1000000 || cfg.Height != 1 {
		t.Fatalf("bombPNG: got %+v, %v", cfg, err)
	}
	if _, err := jpeg.Decode(bytes.NewReader(withAPP1(jpg, hugeEXIF(65533-6)))); err != nil {
		t.Fatalf("hugeEXIF: %v", err)
	}
	if n := len(hugeEXIF(65527)); n != 65527 {
		t.Fatalf("hugeEXIF: got %d bytes, want 65527", n)
	}
	if _, err := png.Decode(bytes.NewReader(withPNGChunk(makePNG(t, 10, 10), "tEXt", []byte("k\x00v")))); err != nil {
		t.Fatalf("withPNGChunk: %v", err)
	}
	for name, tt := range map[string]struct {
		data []byte
		want vitrine.Format
	}{
		"bmp":  {makeBMP(3, 2), vitrine.BMP},
		"tiff": {makeTIFF(3, 2), vitrine.TIFF},
		"heic": {isoBMFF("heic", "mif1"), vitrine.HEIC},
		"avif": {makeAVIF(t), vitrine.AVIF},
		"vp8l": {webpFile(riffChunk("VP8L", vp8lHeader(5, 5))), vitrine.WebP},
	} {
		if got := vitrine.SniffFormat(tt.data); got != tt.want {
			t.Errorf("%s: sniffed %q, want %q", name, got, tt.want)
		}
	}
}
