package httpapi

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/vitrine/vitrine"
)

type productStore interface {
	ProductID(ctx context.Context, slug vitrine.Slug) (int64, error)
	CreateProduct(ctx context.Context, p *vitrine.Product) error
	Product(ctx context.Context, slug vitrine.Slug) (*vitrine.Product, error)
	Products(ctx context.Context, q vitrine.ProductQuery) ([]*vitrine.Product, int, error)
	// UpdateProduct and DeleteProduct return the keys of the files the
	// change stopped referencing. A job deletes them; the handlers delete
	// them at once too, so a URL stops serving as soon as the answer says so.
	UpdateProduct(ctx context.Context, slug vitrine.Slug, ch vitrine.ProductChange) (*vitrine.Product, []string, error)
	DeleteProduct(ctx context.Context, slug vitrine.Slug) ([]string, error)
}

const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// handleProductList serves GET /api/products/: DRF's page-number
// pagination ({"count", "next", "previous", "results"}) with ?page= and
// ?page_size= (at most 100), plus ?search= (name or slug) and ?ordering=.
func handleProductList(log *slog.Logger, products productStore, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query := r.URL.Query()
		q := vitrine.ProductQuery{Page: 1, PageSize: defaultPageSize, Search: query.Get("search")}
		if err := vitrine.CheckText(q.Search, 200); err != nil {
			writeError(w, r, log, asFieldError("search", err))
			return
		}
		if n, err := strconv.Atoi(query.Get("page_size")); err == nil && n > 0 {
			q.PageSize = min(n, maxPageSize)
		}
		if s := query.Get("page"); s != "" && s != "last" {
			n, err := strconv.Atoi(s)
			// A page whose offset would overflow int can hold nothing:
			// refuse it here, before (page-1)*page_size wraps around.
			if err != nil || n < 1 || n > math.MaxInt/q.PageSize {
				writeError(w, r, log, vitrine.Errorf(vitrine.NotFound, "Invalid page."))
				return
			}
			q.Page = n
		}
		// Like DRF's OrderingFilter, an unknown ordering is ignored.
		if o := query.Get("ordering"); vitrine.ValidOrdering(o) {
			q.Ordering = o
		}
		if query.Get("page") == "last" {
			_, total, err := products.Products(r.Context(), vitrine.ProductQuery{Page: 1, PageSize: 1, Search: q.Search})
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			q.Page = max(1, (total+q.PageSize-1)/q.PageSize)
		}
		ps, total, err := products.Products(r.Context(), q)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if len(ps) == 0 && q.Page > 1 {
			writeError(w, r, log, vitrine.Errorf(vitrine.NotFound, "Invalid page."))
			return
		}
		results := make([]productJSON, len(ps))
		for i, p := range ps {
			results[i] = pres.product(r, p)
		}
		var next, prev *string
		if q.Page*q.PageSize < total {
			u := pageURL(pres.urls.abs(r, r.URL.Path), query, q.Page+1)
			next = &u
		}
		if q.Page > 1 {
			u := pageURL(pres.urls.abs(r, r.URL.Path), query, q.Page-1)
			prev = &u
		}
		encode(w, http.StatusOK, map[string]any{"count": total, "next": next, "previous": prev, "results": results})
	})
}

// pageURL is the list URL for another page, keeping the other parameters.
// Page 1 drops the parameter, as DRF does.
func pageURL(base string, query url.Values, page int) string {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Del("page")
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}

// productFields reads the writable product fields of a body into a change.
// full (PUT) requires name and slug.
func productFields(body *requestBody, full bool) (*fieldReader, vitrine.ProductChange) {
	fr := newFieldReader(body)
	if full {
		fr.require("name", "slug")
	}
	var ch vitrine.ProductChange
	ch.Name = fr.str("name", vitrine.MaxNameLen, false)
	ch.Slug = fr.slug("slug")
	ch.Description = fr.str("description", 0, true)
	ch.SetPrice, ch.Price = fr.price("price")
	return fr, ch
}

// imageField returns the file sent as the product's "image", and whether
// the body asks to remove the image (JSON null or an empty form value,
// which DRF reads as None for a nullable ImageField).
func imageField(fr *fieldReader, body *requestBody) (file *receivedFile, remove bool) {
	if fs := body.files["image"]; len(fs) > 0 {
		return fs[len(fs)-1], false
	}
	if !fr.present("image") {
		return nil, false
	}
	text, null, ok := fr.raw("image")
	if null || ok && text == "" && body.json == nil {
		return nil, true
	}
	fr.fail("image", "The submitted data was not a file. Check the encoding type on the form.")
	return nil, false
}

// handleProductCreate serves POST /api/products/: JSON, form or multipart
// with an optional "image" file, validated like upload_image.
func handleProductCreate(log *slog.Logger, products productStore, up *uploader, lim vitrine.UploadLimits, bl bodyLimits, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, bl)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer body.Close()
		fr, ch := productFields(body, true)
		file, _ := imageField(fr, body)
		if err := fr.err(); err != nil {
			writeError(w, r, log, err)
			return
		}
		p := &vitrine.Product{Name: *ch.Name, Slug: *ch.Slug, Price: ch.Price}
		if ch.Description != nil {
			p.Description = *ch.Description
		}
		if file != nil {
			stored, err := up.store(r.Context(), file, lim)
			if msg, ok := fileError(err); ok {
				writeError(w, r, log, vitrine.FieldError("image", msg))
				return
			}
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			p.ImageKey, p.ImageWidth, p.ImageHeight = stored.Key, stored.Width, stored.Height
		}
		if err := products.CreateProduct(r.Context(), p); err != nil {
			if p.ImageKey != "" {
				up.discard(p.ImageKey)
			}
			writeError(w, r, log, err)
			return
		}
		p.Images = []*vitrine.Image{}
		encode(w, http.StatusCreated, pres.product(r, p))
	})
}

// handleProductGet serves GET /api/products/{slug}/.
func handleProductGet(log *slog.Logger, products productStore, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := products.Product(r.Context(), vitrine.Slug(r.PathValue("slug")))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, pres.product(r, p))
	})
}

// handleProductUpdate serves PATCH (partial) and PUT (full) on
// /api/products/{slug}/. An "image" file replaces the single image (the old
// file is deleted after the commit); null or "" removes it.
func handleProductUpdate(log *slog.Logger, products productStore, up *uploader, lim vitrine.UploadLimits, bl bodyLimits, pres presenter, full bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// 404 before reading a body that may be megabytes long.
		slug := vitrine.Slug(r.PathValue("slug"))
		if _, err := products.ProductID(r.Context(), slug); err != nil {
			writeError(w, r, log, err)
			return
		}
		body, err := readBody(w, r, bl)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer body.Close()
		fr, ch := productFields(body, full)
		file, remove := imageField(fr, body)
		if err := fr.err(); err != nil {
			writeError(w, r, log, err)
			return
		}
		if remove {
			ch.SetImage = true
		}
		if file != nil {
			stored, err := up.store(r.Context(), file, lim)
			if msg, ok := fileError(err); ok {
				writeError(w, r, log, vitrine.FieldError("image", msg))
				return
			}
			if err != nil {
				writeError(w, r, log, err)
				return
			}
			ch.SetImage, ch.Image = true, stored
		}
		p, dropped, err := products.UpdateProduct(r.Context(), slug, ch)
		if err != nil {
			if ch.Image != nil {
				up.discard(ch.Image.Key)
			}
			writeError(w, r, log, err)
			return
		}
		up.discard(dropped...)
		encode(w, http.StatusOK, pres.product(r, p))
	})
}

// handleProductDelete serves DELETE /api/products/{slug}/: 204, and every
// file of the product is deleted after the commit.
func handleProductDelete(log *slog.Logger, products productStore, up *uploader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dropped, err := products.DeleteProduct(r.Context(), vitrine.Slug(r.PathValue("slug")))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		up.discard(dropped...)
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleProductImageUpload serves POST and PUT /api/products/{slug}/upload_image/:
// the "image" file replaces the product's single image; 200 with the product.
func handleProductImageUpload(log *slog.Logger, products productStore, up *uploader, lim vitrine.UploadLimits, bl bodyLimits, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// 404 before reading a body that may be megabytes long.
		slug := vitrine.Slug(r.PathValue("slug"))
		if _, err := products.ProductID(r.Context(), slug); err != nil {
			writeError(w, r, log, err)
			return
		}
		body, err := readBody(w, r, bl)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer body.Close()
		files := body.files["image"]
		if len(files) == 0 {
			writeError(w, r, log, vitrine.Errorf(vitrine.Invalid, "No image provided"))
			return
		}
		stored, err := up.store(r.Context(), files[len(files)-1], lim)
		if msg, ok := fileError(err); ok {
			writeError(w, r, log, vitrine.FieldError("image", msg))
			return
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		p, dropped, err := products.UpdateProduct(r.Context(), slug, vitrine.ProductChange{SetImage: true, Image: stored})
		if err != nil {
			up.discard(stored.Key)
			writeError(w, r, log, err)
			return
		}
		up.discard(dropped...)
		encode(w, http.StatusOK, pres.product(r, p))
	})
}

// handleProductImageDelete serves DELETE /api/products/{slug}/delete_image/:
// 204, or 400 {"error": "No image to delete"}.
func handleProductImageDelete(log *slog.Logger, products productStore, up *uploader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		slug := vitrine.Slug(r.PathValue("slug"))
		p, err := products.Product(r.Context(), slug)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		if p.ImageKey == "" {
			writeError(w, r, log, vitrine.Errorf(vitrine.Invalid, "No image to delete"))
			return
		}
		_, dropped, err := products.UpdateProduct(r.Context(), slug, vitrine.ProductChange{SetImage: true})
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		up.discard(dropped...)
		w.WriteHeader(http.StatusNoContent)
	})
}
