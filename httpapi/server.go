package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/vitrine/vitrine"
)

// Config is what the HTTP layer needs to know beyond its dependencies.
type Config struct {
	// PublicURL fixes the scheme and host of every absolute URL; nil takes
	// them from the request.
	PublicURL *url.URL
	// TrustProxy believes X-Forwarded-Proto and X-Forwarded-Host.
	TrustProxy bool
	// ProductImageLimits apply to the product's single image.
	ProductImageLimits vitrine.UploadLimits
	// GalleryLimits apply to gallery images.
	GalleryLimits vitrine.UploadLimits
	// MaxImagesPerProduct caps a gallery, on every upload route.
	MaxImagesPerProduct int
	// MaxBulkFiles caps one bulk upload (the note's 10).
	MaxBulkFiles int
	// TempDir receives uploads while they are checked.
	TempDir string
	// CORSOrigins lists the origins (scheme://host[:port]) whose pages may
	// call the API from a browser; "*" allows any. Empty allows none.
	CORSOrigins []string
	// RateLimits caps the write requests of each token and client IP.
	RateLimits RateLimits
	// Admission bounds the uploads taken on at once and cuts off slow ones.
	Admission Admission
}

// recorder counts what the HTTP layer does (*metrics.Metrics is one).
type recorder interface {
	ObserveRequest(route, method string, status int, d time.Duration)
	Upload(stored bool, reason string)
	ObserveCheckWait(d time.Duration)
}

// deps is everything the handlers are built from.
type deps struct {
	log           *slog.Logger
	metrics       http.Handler
	products      productStore
	images        imageStore
	tokens        tokenVerifier
	limit         *limiter
	gate          *uploadGate
	up            *uploader
	pres          presenter
	media         fs.FS
	admin         fs.FS
	ready         func(r *http.Request) error
	productLimits vitrine.UploadLimits
	gallery       galleryConfig
	noFiles       bodyLimits
	oneFile       bodyLimits
	bulkFiles     bodyLimits
}

// NewServer returns the handler of the whole HTTP interface. products,
// images and tokens are usually one *sqldb.DB; probe is the image prober
// (*vips.Renderer); blobs stores files; media serves the local store's
// files under /media/ (nil when files are served elsewhere); ping checks
// the dependencies for /readyz.
// rec counts requests and uploads, and metrics (nil for none) serves
// /metrics. adminFS holds the admin page served under /admin/.
func NewServer(cfg Config, log *slog.Logger, products productStore, images imageStore, tokens tokenVerifier,
	probe prober, blobs blobStore, media fs.FS, ping func(ctx context.Context) error, rec recorder, metrics http.Handler,
	adminFS fs.FS) http.Handler {
	d := deps{
		log:      log,
		metrics:  metrics,
		admin:    adminFS,
		products: products,
		images:   images,
		tokens:   tokens,
		limit:    newLimiter(log, cfg.RateLimits, cfg.TrustProxy, time.Now),
		gate:     newUploadGate(log, cfg.Admission),
		up:       newUploader(log, probe, blobs, rec, cfg.Admission.MaxChecks),
		pres:     presenter{urls: urlBuilder{public: cfg.PublicURL, trustProxy: cfg.TrustProxy}, media: blobs},
		media:    media,
		ready:    func(r *http.Request) error { return ping(r.Context()) },

		productLimits: cfg.ProductImageLimits,
		gallery: galleryConfig{
			limits:        cfg.GalleryLimits,
			maxPerProduct: cfg.MaxImagesPerProduct,
			maxBulkFiles:  cfg.MaxBulkFiles,
		},
		noFiles: bodyLimits{tooManyFiles: "This route takes no files.", tempDir: cfg.TempDir},
		oneFile: bodyLimits{maxFiles: 1, maxFileBytes: max(cfg.ProductImageLimits.MaxBytes, cfg.GalleryLimits.MaxBytes),
			tooManyFiles: "Send one image file per request; use bulk_upload for several.", tempDir: cfg.TempDir},
		bulkFiles: bodyLimits{maxFiles: cfg.MaxBulkFiles, maxFileBytes: cfg.GalleryLimits.MaxBytes,
			tooManyFiles: fmt.Sprintf("Maximum %d images allowed per upload", cfg.MaxBulkFiles), tempDir: cfg.TempDir},
	}
	mux := http.NewServeMux()
	addRoutes(mux, d)
	return withRequestID(logRequests(log, rec, recoverPanics(log, securityHeaders(cors(cfg.CORSOrigins, minRate(cfg.Admission, mux))))))
}

// defaultCSP is the Content-Security-Policy of every response but the
// admin page's: JSON and images are never documents, so should a browser
// ever open one as a page, it may load nothing, run nothing and is
// sandboxed (an origin of its own, no scripts).
const defaultCSP = "default-src 'none'; frame-ancestors 'none'; sandbox"

// securityHeaders sets the headers every response carries: no type
// sniffing (media are served with their stored type only), no referrer
// beyond this origin, no framing, and the default CSP, which the admin
// page replaces with its own.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", defaultCSP)
		next.ServeHTTP(w, r)
	})
}

// cors lets pages of the allowed origins call the API from a browser: it
// answers preflight requests itself and marks the answers of the others.
// Tokens travel in the Authorization header, never in cookies, so no
// credentials mode is needed and an allowed origin cannot ride on a
// signed-in user.
func cors(allowed []string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !(slices.Contains(allowed, origin) || slices.Contains(allowed, "*")) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, Location")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in a handler into a logged 500 JSON answer
// instead of a dropped connection.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(w, r, log, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// withRequestID gives every request an id: the client's X-Request-Id when it
// is short and printable, else a new one. It is returned in X-Request-Id.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !printableID(id) {
			var b [8]byte
			rand.Read(b[:]) // never returns an error (crypto/rand documents this)
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(vitrine.WithRequestID(r.Context(), id)))
	})
}

func printableID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

// ReadFrom passes the copy on to the real writer, which sends a file with
// sendfile(2): http.ServeContent serves media through io.Copy, which would
// otherwise copy every file through a user-space buffer, 32 KiB a turn.
func (s *statusRecorder) ReadFrom(r io.Reader) (int64, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := io.Copy(s.ResponseWriter, r)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs one line per request and counts it by route pattern
// (not path, which would make one series per product).
func logRequests(log *slog.Logger, metrics recorder, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		took := time.Since(start)
		route := r.Pattern // set by the mux on this same request
		if route == "" {
			route = "unmatched"
		}
		metrics.ObserveRequest(route, r.Method, rec.status, took)
		log.InfoContext(r.Context(), "request",
			"method", r.Method, "path", r.URL.Path, "route", route, "status", rec.status, "bytes", rec.bytes,
			"duration_ms", float64(took.Microseconds())/1000, "request_id", vitrine.RequestID(r.Context()))
	})
}
