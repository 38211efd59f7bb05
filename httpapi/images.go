package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/vitrine/vitrine"
)

type imageStore interface {
	ProductID(ctx context.Context, slug vitrine.Slug) (int64, error)
	AddImages(ctx context.Context, productID int64, imgs []*vitrine.Image, appendOrder bool, maxPerProduct int) (int, error)
	Images(ctx context.Context, productID int64) ([]*vitrine.Image, error)
	Image(ctx context.Context, productID, id int64) (*vitrine.Image, error)
	UpdateImage(ctx context.Context, productID, id int64, ch vitrine.ImageChange) (*vitrine.Image, error)
	ReorderImages(ctx context.Context, productID int64, ids []int64) ([]*vitrine.Image, error)
	DeleteImage(ctx context.Context, productID, id int64) (dropped []string, err error)
}

// galleryConfig is what the gallery upload routes need to know.
type galleryConfig struct {
	limits        vitrine.UploadLimits
	maxPerProduct int
	maxBulkFiles  int
}

func (g galleryConfig) fullMessage() string {
	return fmt.Sprintf("This product already has the maximum of %d images.", g.maxPerProduct)
}

// productAndImage resolves {slug} and {id}. An id that is not a positive
// integer cannot name an image: 404, as DRF answers for a bad pk.
func productAndImage(ctx context.Context, images imageStore, r *http.Request) (int64, int64, error) {
	productID, err := images.ProductID(ctx, vitrine.Slug(r.PathValue("slug")))
	if err != nil {
		return 0, 0, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, 0, vitrine.Errorf(vitrine.NotFound, "Not found.")
	}
	return productID, id, nil
}

// handleImageList serves GET /api/products/{slug}/images/: a plain array in
// display order.
func handleImageList(log *slog.Logger, images imageStore, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		productID, err := images.ProductID(r.Context(), vitrine.Slug(r.PathValue("slug")))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		imgs, err := images.Images(r.Context(), productID)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, pres.images(r, imgs))
	})
}

// imageFields reads the writable metadata of a gallery image.
func imageFields(body *requestBody) (*fieldReader, vitrine.ImageChange) {
	fr := newFieldReader(body)
	return fr, vitrine.ImageChange{
		AltText:   fr.str("alt_text", vitrine.MaxTextLen, true),
		Caption:   fr.str("caption", vitrine.MaxTextLen, true),
		IsPrimary: fr.boolean("is_primary"),
		Order:     fr.integer("order", 0, vitrine.MaxOrder),
	}
}

// handleImageCreate serves POST /api/products/{slug}/images/: one "image"
// file with alt_text, caption, is_primary and order; 201 with the image,
// status pending until its renditions exist.
func handleImageCreate(log *slog.Logger, images imageStore, up *uploader, cfg galleryConfig, bl bodyLimits, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		productID, err := images.ProductID(r.Context(), vitrine.Slug(r.PathValue("slug")))
		if err != nil {
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
			writeError(w, r, log, vitrine.Errorf(vitrine.Invalid, "No image file provided"))
			return
		}
		fr, ch := imageFields(body)
		if err := fr.err(); err != nil {
			writeError(w, r, log, err)
			return
		}
		stored, err := up.store(r.Context(), files[len(files)-1], cfg.limits)
		if msg, ok := fileError(err); ok {
			writeError(w, r, log, vitrine.FieldError("image", msg))
			return
		}
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		img := newImage(stored)
		if ch.AltText != nil {
			img.AltText = *ch.AltText
		}
		if ch.Caption != nil {
			img.Caption = *ch.Caption
		}
		if ch.IsPrimary != nil {
			img.IsPrimary = *ch.IsPrimary
		}
		if ch.Order != nil {
			img.Order = *ch.Order
		}
		added, err := images.AddImages(r.Context(), productID, []*vitrine.Image{img}, false, cfg.maxPerProduct)
		if err == nil && added == 0 {
			err = vitrine.FieldError("image", cfg.fullMessage())
		}
		if err != nil {
			up.discard(stored.Key)
			writeError(w, r, log, err)
			return
		}
		encode(w, http.StatusCreated, pres.image(r, img))
	})
}

func newImage(f *vitrine.File) *vitrine.Image {
	return &vitrine.Image{Key: f.Key, Format: f.Format, Width: f.Width, Height: f.Height, Bytes: f.Bytes}
}

// handleBulkUpload serves POST /api/products/{slug}/images/bulk_upload/:
// 1 to 10 files under "images" (or "images[]"), each validated on its own.
// The good ones are appended to the gallery in upload order, in one
// transaction; 201 when at least one was stored, else 400.
func handleBulkUpload(log *slog.Logger, images imageStore, up *uploader, cfg galleryConfig, bl bodyLimits, pres presenter) http.Handler {
	type fileErrors struct {
		File   string              `json:"file"`
		Errors map[string][]string `json:"errors"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		productID, err := images.ProductID(r.Context(), vitrine.Slug(r.PathValue("slug")))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		body, err := readBody(w, r, bl)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer body.Close()
		files := body.filesOf("images", "images[]")
		switch {
		case len(files) == 0:
			writeError(w, r, log, vitrine.Errorf(vitrine.Invalid, "No images provided"))
			return
		case len(files) > cfg.maxBulkFiles:
			writeError(w, r, log, vitrine.Errorf(vitrine.Invalid, "Maximum %d images allowed per upload", cfg.maxBulkFiles))
			return
		}
		errs := []fileErrors{}
		var imgs []*vitrine.Image
		var names []string
		for _, f := range files {
			stored, err := up.store(r.Context(), f, cfg.limits)
			if msg, ok := fileError(err); ok {
				errs = append(errs, fileErrors{File: f.filename, Errors: map[string][]string{"image": {msg}}})
				continue
			}
			if err != nil {
				up.discard(keysOf(imgs)...)
				writeError(w, r, log, err)
				return
			}
			imgs = append(imgs, newImage(stored))
			names = append(names, f.filename)
		}
		added := 0
		if len(imgs) > 0 {
			added, err = images.AddImages(r.Context(), productID, imgs, true, cfg.maxPerProduct)
			if err != nil {
				up.discard(keysOf(imgs)...)
				writeError(w, r, log, err)
				return
			}
		}
		// Images past the per-product cap were not added: their files go.
		up.discard(keysOf(imgs[added:])...)
		for _, name := range names[added:] {
			errs = append(errs, fileErrors{File: name, Errors: map[string][]string{"image": {cfg.fullMessage()}}})
		}
		status := http.StatusCreated
		if added == 0 {
			status = http.StatusBadRequest
		}
		encode(w, status, map[string]any{"uploaded": added, "images": pres.images(r, imgs[:added]), "errors": errs})
	})
}

func keysOf(imgs []*vitrine.Image) []string {
	keys := make([]string, len(imgs))
	for i, img := range imgs {
		keys[i] = img.Key
	}
	return keys
}

// handleImageGet serves GET /api/products/{slug}/images/{id}/.
func handleImageGet(log *slog.Logger, images imageStore, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		productID, id, err := productAndImage(r.Context(), images, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		img, err := images.Image(r.Context(), productID, id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, pres.image(r, img))
	})
}

// handleImageUpdate serves PATCH and PUT /api/products/{slug}/images/{id}/:
// alt_text, caption, is_primary and order. The file itself cannot change.
func handleImageUpdate(log *slog.Logger, images imageStore, bl bodyLimits, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		productID, id, err := productAndImage(r.Context(), images, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		body, err := readBody(w, r, bl)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer body.Close()
		fr, ch := imageFields(body)
		if len(body.files["image"]) > 0 || body.json != nil && fr.present("image") {
			fr.fail("image", "The image file cannot be changed. Upload a new image and delete this one instead.")
		}
		if err := fr.err(); err != nil {
			writeError(w, r, log, err)
			return
		}
		img, err := images.UpdateImage(r.Context(), productID, id, ch)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, pres.image(r, img))
	})
}

// handleImageDelete serves DELETE /api/products/{slug}/images/{id}/: 204,
// and the original and every rendition are deleted after the commit.
func handleImageDelete(log *slog.Logger, images imageStore, up *uploader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		productID, id, err := productAndImage(r.Context(), images, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		dropped, err := images.DeleteImage(r.Context(), productID, id)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		up.discard(dropped...)
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleSetPrimary serves POST /api/products/{slug}/images/{id}/set_primary/:
// this image becomes the product's only primary one; 200 with the image.
func handleSetPrimary(log *slog.Logger, images imageStore, pres presenter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		productID, id, err := productAndImage(r.Context(), images, r)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		primary := true
		img, err := images.UpdateImage(r.Context(), productID, id, vitrine.ImageChange{IsPrimary: &primary})
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, pres.image(r, img))
	})
}

var errOrderNotList = vitrine.Errorf(vitrine.Invalid, "order must be a list of image IDs")

// handleReorder serves POST /api/products/{slug}/images/reorder/ with
// {"order": [ids]} (or repeated form fields "order"): the listed images
// first, in that order, the rest after them; 200 with the new list.
func handleReorder(log *slog.Logger, images imageStore, bl bodyLimits, pres presenter) http.Handler {
	bl.objectMessage = func(string) error { return errOrderNotList }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		productID, err := images.ProductID(r.Context(), vitrine.Slug(r.PathValue("slug")))
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		body, err := readBody(w, r, bl)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		defer body.Close()
		ids, err := orderIDs(body)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		imgs, err := images.ReorderImages(r.Context(), productID, ids)
		if err != nil {
			writeError(w, r, log, err)
			return
		}
		encode(w, http.StatusOK, pres.images(r, imgs))
	})
}

// orderIDs reads the reorder body. A missing "order" is an empty list, as
// in the note (request.data.get('order', [])). Every element must be an
// integer literal: "1", 1.0, 1e0, true and null are refused by name.
func orderIDs(body *requestBody) ([]int64, error) {
	var items []string
	if body.json != nil {
		raw, ok := body.json["order"]
		if !ok {
			return nil, nil
		}
		var list []json.RawMessage
		if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
			return nil, errOrderNotList
		}
		for _, item := range list {
			items = append(items, string(bytes.TrimSpace(item)))
		}
	} else {
		items = append(body.form["order"], body.form["order[]"]...)
	}
	ids := make([]int64, 0, len(items))
	var bad []string
	for _, s := range items {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			bad = append(bad, clipString(s, 40))
			continue
		}
		ids = append(ids, id)
	}
	if len(bad) > 0 {
		return nil, vitrine.Errorf(vitrine.Invalid, "order must be a list of image IDs; these are not IDs: %s", strings.Join(bad, ", "))
	}
	return ids, nil
}
