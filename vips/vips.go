package vips

// #cgo pkg-config: vips
// #include "libvips.h"
import "C"

import (
	"fmt"
	"image"
	"strings"
	"sync"
	"unsafe"

	"github.com/vitrine/vitrine"
)

// started guards Init: libvips must be initialised once per process, and a
// second Init must report the first one's result.
var started struct {
	once sync.Once
	err  error
	ok   bool // libvips is running
}

// errMu serialises reading and clearing libvips' error buffer, which is one
// buffer for the whole process.
var errMu sync.Mutex

// Init starts libvips once per process. It turns the operation cache off
// (useless for unique uploads, and it holds references), runs libvips with
// concurrency worker threads (0 or less means 1: the codecs are serial, so
// more threads gain nothing) and blocks every libvips loader except JPEG,
// PNG and WebP. Later calls do nothing and return the first call's result.
// The error, if any, is a plain error: the process cannot render.
func Init(concurrency int) error {
	started.once.Do(func() {
		if concurrency < 1 {
			concurrency = 1
		}
		if C.vt_init(C.int(concurrency)) != 0 {
			started.err = lastError("start libvips")
			return
		}
		started.ok = true
	})
	return started.err
}

// Shutdown stops libvips and frees its caches and threads. Call it once, at
// exit, after every Probe, Verify and Render has returned; libvips cannot be
// started again in the same process. Without a successful Init it does
// nothing.
func Shutdown() {
	if started.ok {
		C.vips_shutdown()
	}
}

// lastError returns libvips' error buffer as an error naming op, and clears
// the buffer so the next failure starts clean.
func lastError(op string) error {
	errMu.Lock()
	msg := C.GoString(C.vips_error_buffer())
	C.vips_error_clear()
	errMu.Unlock()
	msg = strings.TrimSpace(msg)
	if msg == "" {
		// Another goroutine cleared the buffer first; the operation
		// still failed.
		msg = "libvips gave no message"
	}
	return fmt.Errorf("%s: %s", op, msg)
}

// invalidImage is what Probe and Verify return for a file libvips cannot
// read: the client sent something that is not a usable image.
func invalidImage(err error) error {
	return &vitrine.Error{
		Kind:    vitrine.Invalid,
		Message: "Upload a valid image. The file you uploaded was either not an image or a corrupted image.",
		Err:     err,
	}
}

// undecodable is what Render returns when the original itself is bad:
// retrying cannot help, so the caller gives up.
func undecodable(err error) error {
	return &vitrine.Error{Kind: vitrine.Unsupported, Message: "the original cannot be decoded", Err: err}
}

// formatCode names a format for the C loaders; 0 means vitrine does not
// decode it.
func formatCode(f vitrine.Format) C.int {
	switch f {
	case vitrine.JPEG:
		return C.VT_JPEG
	case vitrine.PNG:
		return C.VT_PNG
	case vitrine.WebP:
		return C.VT_WEBP
	}
	return 0
}

// vimage owns one reference to a libvips image, or none when p is nil. Each
// operation below has the same shape: call libvips, check, swap the result
// in for the old image, whose reference is dropped.
type vimage struct {
	p *C.VipsImage
}

// swap replaces the image with out and drops the old reference.
func (im *vimage) swap(out *C.VipsImage) {
	im.close()
	im.p = out
}

// close drops the reference, if any. It is safe to call twice.
func (im *vimage) close() {
	if im.p != nil {
		C.vt_unref(im.p)
		im.p = nil
	}
}

func (im *vimage) width() int  { return int(C.vips_image_get_width(im.p)) }
func (im *vimage) height() int { return int(C.vips_image_get_height(im.p)) }

// loadFile opens the file at path with f's own loader (header only until
// pixels are asked for). reduce > 1 shrinks JPEG and WebP on load.
func (im *vimage) loadFile(f vitrine.Format, path string, reduce int) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var out *C.VipsImage
	if C.vt_load_file(formatCode(f), cpath, C.int(reduce), &out) != 0 {
		return lastError("load " + string(f))
	}
	im.swap(out)
	return nil
}

// loadBuffer opens the image in buf with f's own loader, header only. buf
// must be C memory that outlives the image.
func (im *vimage) loadBuffer(f vitrine.Format, buf unsafe.Pointer, n int) error {
	var out *C.VipsImage
	if C.vt_load_buffer(formatCode(f), buf, C.size_t(n), &out) != 0 {
		return lastError("load " + string(f) + " header")
	}
	im.swap(out)
	return nil
}

// info reads what Probe reports from the header. Width and Height are as
// displayed: swapped when the EXIF orientation turns the image a quarter.
func (im *vimage) info(f vitrine.Format) vitrine.ImageInfo {
	info := vitrine.ImageInfo{
		Format:      f,
		Width:       im.width(),
		Height:      im.height(),
		Frames:      int(C.vips_image_get_n_pages(im.p)),
		Orientation: int(C.vips_image_get_orientation(im.p)),
		HasAlpha:    C.vips_image_hasalpha(im.p) != 0,
	}
	if info.Orientation >= 5 {
		info.Width, info.Height = info.Height, info.Width
	}
	return info
}

// avg forces every pixel through the decoder; the average itself is unused.
func (im *vimage) avg() error {
	var avg C.double
	if C.vt_avg(im.p, &avg) != 0 {
		return lastError("decode")
	}
	return nil
}

// thumbnailBuffer decodes buf (C memory that must outlive the image) once,
// shrunk on load to fit width x height, upright, and in 8-bit sRGB or grey;
// toSRGB converts through the image's embedded ICC profile.
func (im *vimage) thumbnailBuffer(buf unsafe.Pointer, n, width, height int, toSRGB bool) error {
	var out *C.VipsImage
	if C.vt_thumbnail_buffer(buf, C.size_t(n), C.int(width), C.int(height), cBool(toSRGB), &out) != 0 {
		return lastError("decode")
	}
	im.swap(out)
	return nil
}

// flatThumbnailPNG is thumbnailBuffer for a PNG with alpha whose renditions
// are all flattened anyway: it flattens onto white first, which is cheaper.
func (im *vimage) flatThumbnailPNG(buf unsafe.Pointer, n, width, height int, toSRGB bool) error {
	var out *C.VipsImage
	if C.vt_png_flat_thumbnail(buf, C.size_t(n), C.int(width), C.int(height), cBool(toSRGB), &out) != 0 {
		return lastError("decode")
	}
	im.swap(out)
	return nil
}

// copyMemory renders the image into memory, so that every rendition made
// from it reuses the pixels instead of decoding the original again.
func (im *vimage) copyMemory() error {
	out := C.vips_image_copy_memory(im.p)
	if out == nil {
		return lastError("decode to memory")
	}
	im.swap(out)
	return nil
}

// toSRGB8 makes sure the image is 8-bit sRGB, or 8-bit grey for grey
// images, which every encoder takes as is. vips_thumbnail already converts,
// so this is usually a no-op; it guards the encoders against a 16-bit or
// odd colour space slipping through.
func (im *vimage) toSRGB8() error {
	space := C.VipsInterpretation(C.VIPS_INTERPRETATION_sRGB)
	if C.vips_image_get_bands(im.p) < 3 {
		space = C.VIPS_INTERPRETATION_B_W
	}
	if C.vips_image_get_interpretation(im.p) != space {
		var out *C.VipsImage
		if C.vt_colourspace(im.p, space, &out) != 0 {
			return lastError("convert colour")
		}
		im.swap(out)
	}
	if C.vips_image_get_format(im.p) != C.VIPS_FORMAT_UCHAR {
		var out *C.VipsImage
		if C.vt_cast_uchar(im.p, &out) != 0 {
			return lastError("convert to 8 bits")
		}
		im.swap(out)
	}
	return nil
}

// resizeGap is vt_resize's reducing gap (see there). Measured on the
// benchmark corpus against an exact Lanczos reference: 2 (libvips' default)
// box-shrinks the thumbnail's usual 4x step from the medium and loses up to
// 0.005 SSIM on flat graphics; 4 makes that step all Lanczos and matches
// Pillow, at no measurable cost; 0 is no sharper and 10 % slower.
const resizeGap = 4.0

// resize sets im to in fitted into the spec's box, never enlarged: inside
// it for Contain, filling it and centre-cropped for Cover.
func (im *vimage) resize(in *vimage, sp vitrine.Spec) error {
	if sp.Fit == vitrine.Contain {
		w, h := in.width(), in.height()
		tw, th := fitInside(w, h, sp.Width, sp.Height)
		if tw == w && th == h {
			C.g_object_ref(C.gpointer(in.p))
			im.swap(in.p)
			return nil
		}
		// Separate scales put the picture's edges exactly on the rounded
		// output's edges, as Pillow's thumbnail() does; one scale would
		// leave up to half a pixel of drift across the picture.
		var out *C.VipsImage
		if C.vt_resize(in.p, C.double(float64(tw)/float64(w)), C.double(float64(th)/float64(h)), C.double(resizeGap), &out) != 0 {
			return lastError("resize")
		}
		im.swap(out)
		if im.width() != tw || im.height() != th {
			return fmt.Errorf("resize: got %dx%d, want %dx%d", im.width(), im.height(), tw, th)
		}
		return nil
	}
	var out *C.VipsImage
	if C.vt_thumbnail_image(in.p, C.int(sp.Width), C.int(sp.Height), cBool(sp.Fit == vitrine.Cover), &out) != 0 {
		return lastError("resize")
	}
	im.swap(out)
	return nil
}

// copyOf sets im to a new reference to in's picture, so that operations on
// im (which swap in new images) leave in as it is.
func (im *vimage) copyOf(in *vimage) error {
	C.g_object_ref(C.gpointer(in.p))
	im.swap(in.p)
	return nil
}

// dropInvisibleAlpha flattens the image onto white and drops its alpha
// band when no pixel is more than 2 % transparent (alpha >= 250 of 255):
// images exported with an alpha band they do not use are common, and an
// alpha band costs a float resize and a second plane in every WebP.
func (im *vimage) dropInvisibleAlpha() error {
	if C.vips_image_hasalpha(im.p) == 0 {
		return nil
	}
	var lowest C.double
	if C.vt_min_alpha(im.p, &lowest) != 0 {
		return lastError("read alpha")
	}
	if lowest < 250 {
		return nil
	}
	return im.flatten()
}

// flatten composes transparency onto white, for formats without alpha.
func (im *vimage) flatten() error {
	if C.vips_image_hasalpha(im.p) == 0 {
		return nil
	}
	var out *C.VipsImage
	if C.vt_flatten_white(im.p, &out) != 0 {
		return lastError("flatten")
	}
	im.swap(out)
	return nil
}

// strip removes EXIF (camera, GPS), XMP, IPTC, ICC and comments, so no
// rendition carries what the uploader's camera recorded.
func (im *vimage) strip() error {
	var out *C.VipsImage
	if C.vt_strip(im.p, &out) != 0 {
		return lastError("strip metadata")
	}
	im.swap(out)
	return nil
}

// encode writes the image as sp.Format at sp.Quality and returns the file.
func (im *vimage) encode(sp vitrine.Spec) ([]byte, error) {
	var buf unsafe.Pointer
	var n C.size_t
	var rc C.int
	switch sp.Format {
	case vitrine.JPEG:
		rc = C.vt_jpegsave(im.p, C.int(sp.Quality), &buf, &n)
	case vitrine.PNG:
		rc = C.vt_pngsave(im.p, &buf, &n)
	case vitrine.WebP:
		rc = C.vt_webpsave(im.p, C.int(sp.Quality), C.int(sp.Effort), &buf, &n)
	case vitrine.AVIF:
		rc = C.vt_avifsave(im.p, C.int(sp.Quality), C.int(sp.Effort), &buf, &n)
	default:
		return nil, fmt.Errorf("encode: format %q has no encoder", sp.Format)
	}
	if rc != 0 {
		return nil, lastError("encode " + string(sp.Format))
	}
	// The saver's buffer is g_malloc'ed C memory: copy it, then free it.
	data := C.GoBytes(buf, C.int(n))
	C.vt_free(buf)
	if sp.Format == vitrine.WebP {
		return stripWebP(data)
	}
	return data, nil
}

// preview returns the image fitted into size x size as RGBA pixels.
func (im *vimage) preview(size int) (*image.NRGBA, error) {
	var buf unsafe.Pointer
	var n C.size_t
	var w, h C.int
	if C.vt_preview_rgba(im.p, C.int(size), &buf, &n, &w, &h) != 0 {
		return nil, lastError("preview")
	}
	pix := C.GoBytes(buf, C.int(n))
	C.vt_free(buf)
	if len(pix) != int(w)*int(h)*4 {
		return nil, fmt.Errorf("preview: %d bytes for %dx%d RGBA", len(pix), w, h)
	}
	return &image.NRGBA{Pix: pix, Stride: int(w) * 4, Rect: image.Rect(0, 0, int(w), int(h))}, nil
}

func cBool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
