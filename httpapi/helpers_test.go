package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7/pkg/signer"
	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/admin"
	"github.com/vitrine/vitrine/blob"
	"github.com/vitrine/vitrine/blob/blobtest"
	"github.com/vitrine/vitrine/httpapi"
	"github.com/vitrine/vitrine/jobs"
	"github.com/vitrine/vitrine/metrics"
	"github.com/vitrine/vitrine/sqldb"
	"github.com/vitrine/vitrine/sqldb/sqldbtest"
	"github.com/vitrine/vitrine/vips"
)

func TestMain(m *testing.M) {
	if err := vips.Init(1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	vips.Shutdown()
	os.Exit(code)
}

// testServer is the real handler over a real database (SQLite, or
// PostgreSQL: see sqldbtest), a real file store (a media directory, or an
// S3 bucket: see openTestStore), real libvips and real River workers.
type testServer struct {
	t      testing.TB
	h      http.Handler
	pool   *sqldb.Pool
	db     *sqldb.DB
	blobs  blobtest.Store
	s3     bool // the files are in a bucket that serves them itself
	runner *jobs.Runner
	token  string
	events <-chan jobEvent
}

type jobEvent struct{}

type serverOption func(*httpapi.Config)

func newTestServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	return newServer(t, true, nil, opts...)
}

// newIdleServer is newTestServer without River workers: jobs are queued
// and never run. The fuzz targets use it, for work in the background would
// blur their coverage signal and take the CPU from them.
func newIdleServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	return newServer(t, false, nil, opts...)
}

// prober is the server's reader of uploaded files: libvips, or libvips
// watched by a test.
type prober interface {
	Probe(ctx context.Context, path string) (vitrine.ImageInfo, error)
	Verify(ctx context.Context, path string, info vitrine.ImageInfo) error
}

// newServer makes a test server; probe, if not nil, replaces libvips as
// the reader of uploaded files.
func newServer(t testing.TB, work bool, probe prober, opts ...serverOption) *testServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pool, db := sqldbtest.Open(t)
	blobs, media := openTestStore(t, filepath.Join(dir, "media"))
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	renderer := vips.NewRenderer()
	m := metrics.New(log, nil)
	ticks := make(chan jobEvent, 1)
	var runner *jobs.Runner
	var err error
	if work {
		runner, err = jobs.NewRunner(pool.Write, string(pool.Dialect), jobs.RunnerConfig{
			RenderWorkers: 2, PollInterval: 20 * time.Millisecond, Specs: vitrine.DefaultSpecs(),
		}, log, m, db, blobs, renderer)
		if err != nil {
			t.Fatal(err)
		}
		events, cancel := runner.Subscribe()
		if err := runner.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stop, done := context.WithTimeout(context.Background(), 10*time.Second)
			defer done()
			runner.Stop(stop)
			cancel()
		})
		go func() {
			for range events {
				select {
				case ticks <- jobEvent{}:
				default:
				}
			}
		}()
	}
	cfg := httpapi.Config{
		ProductImageLimits:  vitrine.DefaultProductImageLimits(),
		GalleryLimits:       vitrine.DefaultGalleryLimits(),
		MaxImagesPerProduct: 50,
		MaxBulkFiles:        10,
		TempDir:             tmp,
	}
	for _, o := range opts {
		o(&cfg)
	}
	token, hash := vitrine.NewToken()
	if _, err := db.CreateToken(ctx, vitrine.Token{User: "tester", Hint: token[:9], Scope: vitrine.ScopeWrite}, hash); err != nil {
		t.Fatal(err)
	}
	if probe == nil {
		probe = renderer
	}
	h := httpapi.NewServer(cfg, log, db, db, db, probe, blobs, media, db.Ping, m, m.Handler(), admin.FS())
	return &testServer{t: t, h: h, pool: pool, db: db, blobs: blobs, s3: media == nil, runner: runner, token: token, events: ticks}
}

// storageEnv selects the file store of the HTTP tests: "s3" puts each
// test's files under a prefix of its own in the test bucket
// (blobtest.S3Env), which serves them itself, as in production; anything
// else, a media directory that the server serves under /media/.
const storageEnv = "VITRINE_TEST_STORAGE"

func openTestStore(t testing.TB, dir string) (blobtest.Store, fs.FS) {
	t.Helper()
	if os.Getenv(storageEnv) == "s3" {
		if os.Getenv(blobtest.S3Env) == "" {
			t.Fatalf("%s=s3 needs a bucket in %s (make test starts an S3 server)", storageEnv, blobtest.S3Env)
		}
		return blobtest.OpenS3(t, blob.S3Config{CacheControl: "public, max-age=31536000, immutable"}), nil
	}
	local, err := blob.NewLocal(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return local, local.FS()
}

// newToken creates a token of this scope (expiring at expires, if set) and
// returns its Authorization header.
func (s *testServer) newToken(scope vitrine.Scope, expires *time.Time) string {
	s.t.Helper()
	token, hash := vitrine.NewToken()
	if _, err := s.db.CreateToken(context.Background(), vitrine.Token{User: "other", Hint: token[:9], Scope: scope, ExpiresAt: expires}, hash); err != nil {
		s.t.Fatal(err)
	}
	return "Bearer " + token
}

// response is a recorded answer with helpers to read it.
type response struct {
	*httptest.ResponseRecorder
	t testing.TB
}

// json decodes the body into a value of type T.
func decodeAs[T any](t testing.TB, r *response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", r.Body.String(), err)
	}
	return v
}

func (r *response) obj() map[string]any {
	r.t.Helper()
	return decodeAs[map[string]any](r.t, r)
}

func (r *response) list() []map[string]any {
	r.t.Helper()
	return decodeAs[[]map[string]any](r.t, r)
}

func (r *response) want(status int) *response {
	r.t.Helper()
	if r.Code != status {
		r.t.Fatalf("%s: got status %d, want %d; body %q", r.t.Name(), r.Code, status, clip(r.Body.String()))
	}
	return r
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

// request is one request to send through the handler.
type request struct {
	method, path string
	body         io.Reader
	ctype        string
	anonymous    bool
	auth         string // replaces the Authorization header when set
	header       http.Header
	remoteAddr   string // the client's address; httptest's 192.0.2.1:1234 when empty
}

// with returns the server bound to a subtest's t, so that its failures
// stop the subtest (never call t.Fatal of a parent from a subtest).
func (s *testServer) with(t *testing.T) *testServer {
	c := *s
	c.t = t
	return &c
}

func (s *testServer) serve(req request) *response {
	s.t.Helper()
	r := httptest.NewRequest(req.method, req.path, req.body)
	if req.ctype != "" {
		r.Header.Set("Content-Type", req.ctype)
	}
	if !req.anonymous {
		r.Header.Set("Authorization", "Bearer "+s.token)
	}
	if req.auth != "" {
		r.Header.Set("Authorization", req.auth)
	}
	for k, v := range req.header {
		r.Header[k] = v
	}
	if req.remoteAddr != "" {
		r.RemoteAddr = req.remoteAddr
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return &response{ResponseRecorder: w, t: s.t}
}

func (s *testServer) get(path string) *response {
	s.t.Helper()
	return s.serve(request{method: "GET", path: path, anonymous: true})
}

func (s *testServer) sendJSON(method, path string, v any) *response {
	s.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.serve(request{method: method, path: path, body: bytes.NewReader(b), ctype: "application/json"})
}

// upload is one file part of a multipart body.
type upload struct {
	field, name string
	data        []byte
}

func multipartBody(t testing.TB, fields [][2]string, files []upload) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		w, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

func (s *testServer) sendMultipart(method, path string, fields [][2]string, files ...upload) *response {
	s.t.Helper()
	body, ctype := multipartBody(s.t, fields, files)
	return s.serve(request{method: method, path: path, body: body, ctype: ctype})
}

func (s *testServer) sendForm(method, path string, vals url.Values) *response {
	s.t.Helper()
	return s.serve(request{method: method, path: path, body: strings.NewReader(vals.Encode()), ctype: "application/x-www-form-urlencoded"})
}

// createProduct makes a product with the note's four fields and returns its slug.
func (s *testServer) createProduct(slug string) string {
	s.t.Helper()
	s.sendJSON("POST", "/api/products/", map[string]any{
		"name": "Product " + slug, "slug": slug, "description": "d", "price": "19.99",
	}).want(http.StatusCreated)
	return slug
}

// addImage uploads a gallery image and returns its JSON.
func (s *testServer) addImage(slug string, data []byte, name string, fields ...[2]string) map[string]any {
	s.t.Helper()
	return s.sendMultipart("POST", "/api/products/"+slug+"/images/", fields, upload{"image", name, data}).want(http.StatusCreated).obj()
}

func (s *testServer) imageJSON(slug string, id any) map[string]any {
	s.t.Helper()
	return s.get(fmt.Sprintf("/api/products/%s/images/%v/", slug, id)).want(http.StatusOK).obj()
}

// waitStatus waits (on River job events, never sleeping) until the image
// leaves pending, and returns its JSON.
func (s *testServer) waitStatus(slug string, id any) map[string]any {
	s.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		img := s.imageJSON(slug, id)
		if img["status"] != string(vitrine.StatusPending) {
			return img
		}
		select {
		case <-s.events:
		case <-time.After(200 * time.Millisecond):
			// Events can be missed between the check and the wait; look again.
		case <-deadline:
			s.t.Fatalf("image %v still pending after 30s", id)
		}
	}
}

// waitFiles waits until the media directory holds exactly want (sorted
// keys), as delete jobs run in the background.
func (s *testServer) waitFiles(want []string) {
	s.t.Helper()
	sort.Strings(want)
	deadline := time.After(30 * time.Second)
	for {
		got := s.files()
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		select {
		case <-s.events:
		case <-time.After(200 * time.Millisecond):
		case <-deadline:
			s.t.Fatalf("media files:\n got %v\nwant %v", got, want)
		}
	}
}

// files lists every stored file, sorted.
func (s *testServer) files() []string {
	s.t.Helper()
	var out []string
	err := s.blobs.List(context.Background(), func(key string, _ time.Time) error {
		out = append(out, key)
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// keyOf returns the storage key of a file URL handed out by the API:
// http://host/media/KEY for a media directory, the bucket's URL + KEY for
// S3.
func (s *testServer) keyOf(u any) string {
	s.t.Helper()
	str, ok := u.(string)
	if !ok {
		s.t.Fatalf("got URL %v, want a string", u)
	}
	if s.s3 {
		base := s.blobs.URL("")
		if !strings.HasPrefix(str, base) {
			s.t.Fatalf("got URL %q, want %s...", str, base)
		}
		return strings.TrimPrefix(str, base)
	}
	parsed, err := url.Parse(str)
	if err != nil || !strings.HasPrefix(parsed.Path, "/media/") {
		s.t.Fatalf("got URL %q, want http://host/media/...", str)
	}
	return strings.TrimPrefix(parsed.Path, "/media/")
}

// fetch GETs a URL returned by the API: a file in the bucket from the S3
// server, anything else through the handler.
func (s *testServer) fetch(u any) *response {
	s.t.Helper()
	str, _ := u.(string)
	if s.s3 && strings.HasPrefix(str, s.blobs.URL("")) {
		return s.fetchS3(str)
	}
	parsed, err := url.Parse(str)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.serve(request{method: "GET", path: parsed.RequestURI(), anonymous: true})
}

// fetchS3 GETs a file from the S3 server the way a CDN in front of a
// private bucket does: signed with the bucket's credentials, for the test
// bucket is not public.
func (s *testServer) fetchS3(u string) *response {
	s.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	bucket, err := url.Parse(os.Getenv(blobtest.S3Env))
	if err != nil {
		s.t.Fatal(err)
	}
	region := bucket.Query().Get("region")
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	req = signer.SignV4(*req, os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), "", region)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	rec := httptest.NewRecorder()
	for k, v := range resp.Header {
		rec.Header()[k] = v
	}
	rec.WriteHeader(resp.StatusCode)
	if _, err := io.Copy(rec, resp.Body); err != nil {
		s.t.Fatal(err)
	}
	return &response{ResponseRecorder: rec, t: s.t}
}

// Test images, made in code.

func testImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x * 255 / max(w, 1)), uint8(y * 255 / max(h, 1)), 128, 255})
		}
	}
	return img
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makePNG(t testing.TB, w, h int) []byte { return pngBytes(t, testImage(w, h)) }

func makeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(w, h), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeGIF(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := gif.Encode(&buf, testImage(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// makeWebP renders a PNG to WebP with libvips (Go has no WebP encoder).
func makeWebP(t testing.TB, w, h int) []byte {
	t.Helper()
	out, err := vips.NewRenderer().Render(context.Background(), makePNG(t, w, h),
		[]vitrine.Spec{{Name: "w", Width: w, Height: h, Fit: vitrine.Contain, Format: vitrine.WebP, Quality: 90}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Renditions[0].Data
}

// bombPNG is a valid PNG header declaring w x h pixels, with no pixel data:
// a decompression bomb only a header check can refuse cheaply.
func bombPNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var l [4]byte
		l[0], l[1], l[2], l[3] = byte(len(data)>>24), byte(len(data)>>16), byte(len(data)>>8), byte(len(data))
		b.Write(l[:])
		b.WriteString(typ)
		b.Write(data)
		c := crc32.ChecksumIEEE(append([]byte(typ), data...))
		b.Write([]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
	}
	ihdr := []byte{byte(w >> 24), byte(w >> 16), byte(w >> 8), byte(w), byte(h >> 24), byte(h >> 16), byte(h >> 8), byte(h), 8, 2, 0, 0, 0}
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}) // an empty zlib stream
	chunk("IEND", nil)
	return b.Bytes()
}

// decodeImage decodes a served JPEG or PNG.
func decodeImage(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("served bytes do not decode: %v", err)
	}
	return img
}

// id returns an object's "id" as path text.
func id(obj map[string]any) string {
	return fmt.Sprint(int64(obj["id"].(float64)))
}

// testWriter sends log lines to the test's log, shown only on failure.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// filesPerImage is an original and one file per default rendition.
var filesPerImage = 1 + len(vitrine.DefaultSpecs())

// filesOf returns the keys of an image's original and renditions.
func (s *testServer) filesOf(img map[string]any) []string {
	s.t.Helper()
	keys := []string{s.keyOf(img["image_url"])}
	for _, r := range img["renditions"].(map[string]any) {
		keys = append(keys, s.keyOf(r.(map[string]any)["url"]))
	}
	return keys
}
