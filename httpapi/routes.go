package httpapi

import (
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"github.com/vitrine/vitrine"
)

// route is one API path and the handler of each method it accepts. Paths
// are written as the note writes them, with a trailing slash; the same path
// without the slash is served too (no redirect, which would turn a POST
// into a GET in many clients).
type route struct {
	path    string
	methods map[string]http.Handler
}

// apiRoutes lists every route of the REST API. The OpenAPI document
// describes exactly these (a test checks it).
func apiRoutes(d deps) []route {
	// Every write is rate limited, then needs a token of the write scope,
	// then waits for its turn if it is an upload.
	log, auth := d.log, func(h http.Handler) http.Handler {
		return d.limit.wrap(requireScope(d.log, vitrine.ScopeWrite, d.gate.wrap(h)))
	}
	return []route{
		{"/api/", map[string]http.Handler{"GET": handleAPIRoot(d.pres)}},
		{"/api/schema/", map[string]http.Handler{"GET": handleSchema()}},
		{"/api/token/", map[string]http.Handler{"GET": requireScope(log, vitrine.ScopeRead, handleTokenInfo())}},
		{"/api/products/", map[string]http.Handler{
			"GET":  handleProductList(log, d.products, d.pres),
			"POST": auth(handleProductCreate(log, d.products, d.up, d.productLimits, d.oneFile, d.pres)),
		}},
		{"/api/products/{slug}/", map[string]http.Handler{
			"GET":    handleProductGet(log, d.products, d.pres),
			"PUT":    auth(handleProductUpdate(log, d.products, d.up, d.productLimits, d.oneFile, d.pres, true)),
			"PATCH":  auth(handleProductUpdate(log, d.products, d.up, d.productLimits, d.oneFile, d.pres, false)),
			"DELETE": auth(handleProductDelete(log, d.products, d.up)),
		}},
		{"/api/products/{slug}/upload_image/", map[string]http.Handler{
			"POST": auth(handleProductImageUpload(log, d.products, d.up, d.productLimits, d.oneFile, d.pres)),
			"PUT":  auth(handleProductImageUpload(log, d.products, d.up, d.productLimits, d.oneFile, d.pres)),
		}},
		{"/api/products/{slug}/delete_image/", map[string]http.Handler{
			"DELETE": auth(handleProductImageDelete(log, d.products, d.up)),
		}},
		{"/api/products/{slug}/images/", map[string]http.Handler{
			"GET":  handleImageList(log, d.images, d.pres),
			"POST": auth(handleImageCreate(log, d.images, d.up, d.gallery, d.oneFile, d.pres)),
		}},
		{"/api/products/{slug}/images/bulk_upload/", map[string]http.Handler{
			"POST": auth(handleBulkUpload(log, d.images, d.up, d.gallery, d.bulkFiles, d.pres)),
		}},
		{"/api/products/{slug}/images/reorder/", map[string]http.Handler{
			"POST": auth(handleReorder(log, d.images, d.noFiles, d.pres)),
		}},
		{"/api/products/{slug}/images/{id}/", map[string]http.Handler{
			"GET":    handleImageGet(log, d.images, d.pres),
			"PUT":    auth(handleImageUpdate(log, d.images, d.oneFile, d.pres)),
			"PATCH":  auth(handleImageUpdate(log, d.images, d.oneFile, d.pres)),
			"DELETE": auth(handleImageDelete(log, d.images, d.up)),
		}},
		{"/api/products/{slug}/images/{id}/set_primary/", map[string]http.Handler{
			"POST": auth(handleSetPrimary(log, d.images, d.pres)),
		}},
	}
}

// addRoutes registers every route on mux.
func addRoutes(mux *http.ServeMux, d deps) {
	for _, rt := range apiRoutes(d) {
		h := byMethod(d.log, rt.methods)
		if strings.Contains(rt.path, "{slug}") {
			h = validSlug(d.log, h)
		}
		h = authenticate(d.log, d.tokens, h)
		mux.Handle(rt.path+"{$}", h)
		mux.Handle(strings.TrimSuffix(rt.path, "/"), h)
	}
	if d.media != nil {
		// Local storage: vitrine serves the files. S3 storage: the bucket or
		// its CDN does.
		mux.Handle("GET /media/{key...}", handleMedia(d.log, d.media))
	}
	if d.admin != nil {
		mux.Handle("GET /admin/", handleAdmin(d.admin))
		mux.Handle("GET /admin/config.json", handleAdminConfig(d.productLimits, d.gallery))
		mux.Handle("GET /{$}", http.RedirectHandler("/admin/", http.StatusFound))
	}
	mux.Handle("GET /healthz", handleHealth())
	if d.metrics != nil {
		mux.Handle("GET /metrics", d.metrics)
	}
	mux.Handle("GET /readyz", handleReady(d.log, d.ready))
	mux.Handle("/", handleNotFound(d.log))
}

// validSlug answers 404 for a path whose {slug} is not a valid slug, as if
// the route's pattern were Django's <slug:slug>: no product can have it, and
// PostgreSQL fails a query holding a NUL or bad UTF-8 instead of finding
// nothing.
func validSlug(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := vitrine.ParseSlug(r.PathValue("slug")); err != nil {
			writeError(w, r, log, vitrine.Errorf(vitrine.NotFound, "Not found."))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// byMethod dispatches on the request method. OPTIONS describes the route
// and another method gets DRF's 405 with an Allow header. GET also serves
// HEAD (net/http drops the body).
func byMethod(log *slog.Logger, methods map[string]http.Handler) http.Handler {
	allowed := make([]string, 0, len(methods)+2)
	for m := range methods {
		allowed = append(allowed, m)
	}
	if methods["GET"] != nil {
		allowed = append(allowed, "HEAD")
	}
	allowed = append(allowed, "OPTIONS")
	sort.Strings(allowed)
	allow := strings.Join(allowed, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == "HEAD" {
			method = "GET"
		}
		if h := methods[method]; h != nil {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Allow", allow)
		if method == "OPTIONS" {
			encode(w, http.StatusOK, map[string]any{
				"renders": []string{"application/json"},
				"parses":  []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data"},
			})
			return
		}
		writeError(w, r, log, vitrine.Errorf(vitrine.MethodNotAllowed, "Method %q not allowed.", r.Method))
	})
}

// handleAPIRoot serves GET /api/: links to the collections, like DRF's
// DefaultRouter root view.
func handleAPIRoot(pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{
			"products": pres.urls.abs(r, "/api/products/"),
			"schema":   pres.urls.abs(r, "/api/schema/"),
		})
	})
}

// handleTokenInfo serves GET /api/token/: the user and scope of the
// request's token, so that a client offers only what the token allows.
// requireScope has answered 401 to a request without one.
func handleTokenInfo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := callerOf(r)
		encode(w, http.StatusOK, map[string]string{"user": c.User, "scope": string(c.Scope)})
	})
}

func handleNotFound(log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, log, vitrine.Errorf(vitrine.NotFound, "Not found."))
	})
}

func handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReady answers 200 when the database answers, else 503.
func handleReady(log *slog.Logger, ready func(r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r); err != nil {
			log.WarnContext(r.Context(), "not ready", "err", err)
			writeError(w, r, log, &vitrine.Error{Kind: vitrine.Unavailable, Message: "Not ready.", Err: err})
			return
		}
		encode(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// adminCSP is the admin page's Content-Security-Policy: its own scripts
// and styles only (no inline code, no eval), API calls to this server,
// images from anywhere over HTTP(S) (the media may be on a CDN), and no
// framing.
const adminCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: https: http:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// handleAdmin serves the admin page's files under /admin/ with their CSP.
// The files change with the binary, so they are revalidated every time.
// handleAdminConfig serves the upload limits this server enforces, so that
// the admin page's hints and file pickers say what the settings say, not
// the defaults.
func handleAdminConfig(product vitrine.UploadLimits, gallery galleryConfig) http.Handler {
	type limits struct {
		MaxBytes int64    `json:"max_bytes"`
		MinSide  int      `json:"min_side"` // 0: no minimum
		MaxSide  int      `json:"max_side"` // 0: no maximum
		Types    []string `json:"types"`    // MIME types accepted
	}
	of := func(l vitrine.UploadLimits) limits {
		out := limits{MaxBytes: l.MaxBytes, MinSide: l.MinSide, MaxSide: l.MaxSide, Types: []string{}}
		for _, f := range l.Formats {
			out.Types = append(out.Types, f.ContentType())
		}
		return out
	}
	body := map[string]any{
		"product_image":          of(product),
		"gallery":                of(gallery.limits),
		"max_images_per_product": gallery.maxPerProduct,
		"max_bulk_files":         gallery.maxBulkFiles,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		encode(w, http.StatusOK, body)
	})
}

func handleAdmin(files fs.FS) http.Handler {
	fileServer := http.StripPrefix("/admin", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", adminCSP)
		h.Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}
