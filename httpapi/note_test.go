package httpapi_test

// The design note's own tests (section 8), ported to the real router, with
// real SQLite, real files and real libvips.

import (
	"bytes"
	"net/http"
	"testing"
)

// test_upload_single_image. The note uploads a 100x100 PNG; vitrine
// enforces the note's own 200x200 minimum (ProductSerializer.validate_image)
// on every path that stores a product image, so the ported test uses the
// smallest accepted size.
func TestNoteUploadSingleImage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("test-product")
	r := s.sendMultipart("POST", "/api/products/"+slug+"/upload_image/", nil, upload{"image", "test.png", makePNG(t, 200, 200)})
	r.want(http.StatusOK)
	p := s.get("/api/products/" + slug + "/").want(http.StatusOK).obj()
	if p["image"] == nil {
		t.Fatalf("got image %v, want a URL", p["image"])
	}
}

// test_upload_multiple_images.
func TestNoteUploadMultipleImages(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("test-product")
	var files []upload
	for range 3 {
		files = append(files, upload{"images", "test.png", makePNG(t, 100, 100)})
	}
	body := s.sendMultipart("POST", "/api/products/"+slug+"/images/bulk_upload/", nil, files...).want(http.StatusCreated).obj()
	if body["uploaded"] != float64(3) {
		t.Fatalf("got uploaded %v, want 3", body["uploaded"])
	}
	if got := len(s.get("/api/products/" + slug + "/images/").want(http.StatusOK).list()); got != 3 {
		t.Fatalf("got %d images, want 3", got)
	}
}

// test_set_primary_image.
func TestNoteSetPrimaryImage(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("test-product")
	image1 := s.addImage(slug, makePNG(t, 100, 100), "test.png", [2]string{"is_primary", "true"})
	image2 := s.addImage(slug, makePNG(t, 100, 100), "test.png")
	s.serve(request{method: "POST", path: "/api/products/" + slug + "/images/" + id(image2) + "/set_primary/"}).want(http.StatusOK)
	if got := s.imageJSON(slug, image1["id"])["is_primary"]; got != false {
		t.Fatalf("image1 is_primary: got %v, want false", got)
	}
	if got := s.imageJSON(slug, image2["id"])["is_primary"]; got != true {
		t.Fatalf("image2 is_primary: got %v, want true", got)
	}
}

// test_image_validation_file_size: 6 MB of "x" named large.png.
func TestNoteImageValidationFileSize(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	slug := s.createProduct("test-product")
	s.sendMultipart("POST", "/api/products/"+slug+"/images/", nil,
		upload{"image", "large.png", bytes.Repeat([]byte("x"), 6*1024*1024)}).want(http.StatusBadRequest)
	if got := s.files(); len(got) != 0 {
		t.Fatalf("got stored files %v, want none", got)
	}
}
