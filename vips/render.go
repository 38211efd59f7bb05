package vips

// #include "libvips.h"
import "C"

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"unsafe"

	"github.com/vitrine/vitrine"
)

// Renderer probes, verifies and renders images with libvips. It holds no
// state: one Renderer is safe for any number of goroutines, each call
// working on its own images. Init must have been called first.
type Renderer struct{}

// NewRenderer returns a Renderer.
func NewRenderer() *Renderer {
	return &Renderer{}
}

// Render makes one vitrine.Rendered per spec, in the order of specs, and a
// preview of at most vitrine.PreviewSize a side, from the original held in
// src (the bytes of a JPEG, PNG or WebP file). It decodes
// the original once, shrunk on load to the smallest size that serves the
// largest spec, and derives every rendition from that: upright by EXIF
// orientation, 8-bit sRGB, never enlarged, Contain fitted inside the box and
// Cover filling it exactly (when the original is large enough), alpha
// flattened on white for JPEG and kept otherwise, every metadata field
// stripped. src is copied and not retained.
//
// An original that is not a decodable JPEG, PNG or WebP (garbage,
// truncated, another format) returns an Unsupported *vitrine.Error: retrying
// cannot help. An invalid spec, a cancelled ctx or an encoder failure
// returns a plain error.
func (r *Renderer) Render(ctx context.Context, src []byte, specs []vitrine.Spec) (vitrine.RenderResult, error) {
	type out struct {
		res vitrine.RenderResult
		err error
	}
	o := lowPriority(func() out {
		res, err := render(ctx, src, specs)
		return out{res, err}
	})
	// Hand the render's freed memory back to the system now: glibc keeps
	// freed heap in its arenas, and a long-running process would otherwise
	// hold its peak (FINDINGS, pitfall 4) for the next render to reuse, or
	// not. It costs well under a millisecond.
	C.malloc_trim(0)
	return o.res, o.err
}

// RenderMemory estimates the most memory a Render of src, an original of
// width x height pixels, takes, so that callers can bound how many run at
// once by memory rather than by count. The bytes per pixel are the peaks
// measured with bench/renderpeak over the benchmark corpus and the default
// renditions, rounded up: progressive JPEGs keep every DCT coefficient
// (8.5 B/px measured), RGBA PNGs decode whole (6.7), WebP 2, opaque PNGs
// and baseline JPEGs (shrunk on load) under 1. The fixed part is the
// encoders, thread stacks and the 2048 px WebP; the file is held twice (Go's
// copy and libvips's).
func (r *Renderer) RenderMemory(src []byte, width, height int) int64 {
	perPixel := 9.0
	switch {
	case vitrine.SniffFormat(src) == vitrine.PNG && pngHasAlpha(src):
		perPixel = 7
	case vitrine.SniffFormat(src) == vitrine.PNG:
		perPixel = 4 // 16-bit opaque PNGs take more than the corpus's 8-bit ones
	case vitrine.SniffFormat(src) == vitrine.WebP:
		perPixel = 4
	case vitrine.SniffFormat(src) == vitrine.JPEG && !jpegProgressive(src):
		perPixel = 2
	}
	return 24<<20 + int64(perPixel*float64(width)*float64(height)) + 2*int64(len(src))
}

// pngHasAlpha reads the colour type of a PNG's IHDR: 4 (grey + alpha) or 6
// (RGBA). A tRNS chunk can add alpha to the others; it is rare in photos
// and is not looked for.
func pngHasAlpha(src []byte) bool {
	return len(src) > 25 && (src[25] == 4 || src[25] == 6)
}

// jpegProgressive walks a JPEG's markers to its start-of-frame and reports
// whether it is progressive (SOF2, SOF6, SOF10, SOF14). Unreadable markers
// count as progressive, the costlier guess.
func jpegProgressive(src []byte) bool {
	i := 2
	for i+4 <= len(src) {
		if src[i] != 0xFF {
			return true
		}
		m := src[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
		}
		i += 2 + (int(src[i+2])<<8 | int(src[i+3]))
	}
	return true
}

func render(ctx context.Context, src []byte, specs []vitrine.Spec) (vitrine.RenderResult, error) {
	var res vitrine.RenderResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for _, sp := range specs {
		if err := sp.Validate(); err != nil {
			return res, err
		}
	}
	f := vitrine.SniffFormat(src)
	if formatCode(f) == 0 {
		return res, undecodable(fmt.Errorf("format %q is not jpeg, png or webp", f))
	}

	// libvips keeps per-thread state; stay on one thread for the call.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	// libvips reads the original lazily, long after the call that was given
	// the pointer, so it must be C memory. It is freed as soon as the decoded
	// base is in memory on its own (the defer covers the early returns,
	// after every image made from it has been unreffed).
	buf := C.CBytes(src)
	defer func() {
		if buf != nil {
			C.free(buf)
		}
	}()

	// Load the header only: the size and orientation decide how small the
	// one decode can be; an embedded profile decides the colour conversion.
	source, hasICC, err := header(f, buf, len(src))
	res.Source = source
	if err != nil {
		return res, undecodable(err)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}

	// Load, shrink, orient and convert colour in one libvips operation,
	// then keep the result in memory for every spec.
	dw, dh := decodeSize(res.Source.Width, res.Source.Height, specs)
	base := &vimage{}
	defer base.close()
	decode := base.thumbnailBuffer
	if f == vitrine.PNG && source.HasAlpha && allOpaque(specs) {
		decode = base.flatThumbnailPNG
	}
	if err := decode(buf, len(src), dw, dh, hasICC); err != nil {
		return res, undecodable(err)
	}
	if err := base.toSRGB8(); err != nil {
		return res, err
	}
	if err := base.copyMemory(); err != nil {
		return res, undecodable(err)
	}
	C.free(buf)
	buf = nil
	if err := base.dropInvisibleAlpha(); err != nil {
		return res, err
	}

	// The largest renditions are resized first, and each smaller one is
	// resized from the smallest already resized picture that still covers
	// it (a thumbnail from the medium, not from the 2048 px base); specs with
	// the same box and fit (a JPEG and its WebP twin) share one resize.
	order := make([]int, len(specs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return specs[b].Width*specs[b].Height - specs[a].Width*specs[a].Height
	})
	var resized []*sized
	defer func() {
		for _, r := range resized {
			r.im.close()
		}
	}()
	res.Renditions = make([]vitrine.Rendered, len(specs))
	for _, i := range order {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		sp := specs[i]
		pic, err := resizeFor(base, resized, sp)
		if err != nil {
			return res, fmt.Errorf("render %s: %w", sp.Name, err)
		}
		if pic.owned {
			resized = append(resized, pic)
		}
		out, err := encodeSpec(ctx, pic.im, sp)
		if err != nil {
			return res, fmt.Errorf("render %s: %w", sp.Name, err)
		}
		res.Renditions[i] = out
	}
	// The preview comes from the smallest whole picture that still holds
	// its pixels, which is the cheapest to shrink.
	pw, ph := fitInside(base.width(), base.height(), vitrine.PreviewSize, vitrine.PreviewSize)
	small := base
	for _, r := range resized {
		w, h := r.im.width(), r.im.height()
		if r.fit == vitrine.Contain && w >= pw && h >= ph && w*h < small.width()*small.height() {
			small = r.im
		}
	}
	res.Preview, err = small.preview(vitrine.PreviewSize)
	if err != nil {
		return res, err
	}
	return res, nil
}

// allOpaque reports whether every spec is a JPEG, which has no alpha.
func allOpaque(specs []vitrine.Spec) bool {
	for _, sp := range specs {
		if sp.Format != vitrine.JPEG {
			return false
		}
	}
	return true
}

// sized is a resized picture kept in memory for the renditions after it.
type sized struct {
	im            *vimage
	width, height int // the box it was fitted to
	fit           vitrine.Fit
	owned         bool // false for the base itself
}

// resizeFor returns the picture sp is encoded from: one already resized
// to the same box and fit, else a new resize, in memory, of the smallest
// contain picture at least as large as what sp needs (or of the base).
func resizeFor(base *vimage, resized []*sized, sp vitrine.Spec) (*sized, error) {
	for _, r := range resized {
		if r.width == sp.Width && r.height == sp.Height && r.fit == sp.Fit {
			return &sized{im: r.im, width: r.width, height: r.height, fit: r.fit}, nil
		}
	}
	src := base
	if sp.Fit == vitrine.Contain {
		tw, th := fitInside(base.width(), base.height(), sp.Width, sp.Height)
		if tw == base.width() && th == base.height() {
			// The base is this rendition already (the largest one, or an
			// original smaller than the box): no resize, no second copy.
			return &sized{im: base, width: sp.Width, height: sp.Height, fit: sp.Fit}, nil
		}
		for _, r := range resized {
			w, h := r.im.width(), r.im.height()
			if r.fit == vitrine.Contain && w >= tw && h >= th && w*h < src.width()*src.height() {
				src = r.im
			}
		}
	}
	im := &vimage{}
	if err := im.resize(src, sp); err != nil {
		return nil, err
	}
	if err := im.copyMemory(); err != nil {
		im.close()
		return nil, err
	}
	return &sized{im: im, width: sp.Width, height: sp.Height, fit: sp.Fit, owned: true}, nil
}

// fitInside is the size of a w x h picture fitted inside a box, never
// enlarged.
func fitInside(w, h, boxW, boxH int) (int, int) {
	scale := min(float64(boxW)/float64(w), float64(boxH)/float64(h), 1)
	return max(1, int(math.Round(float64(w)*scale))), max(1, int(math.Round(float64(h)*scale)))
}

// encodeSpec encodes one rendition from its resized picture, leaving the
// picture untouched for the renditions that share it.
func encodeSpec(ctx context.Context, pic *vimage, sp vitrine.Spec) (vitrine.Rendered, error) {
	im := &vimage{}
	defer im.close()
	if err := im.copyOf(pic); err != nil {
		return vitrine.Rendered{}, err
	}
	if sp.Format == vitrine.JPEG {
		if err := im.flatten(); err != nil {
			return vitrine.Rendered{}, err
		}
	}
	if err := im.strip(); err != nil {
		return vitrine.Rendered{}, err
	}
	if err := ctx.Err(); err != nil {
		return vitrine.Rendered{}, err
	}
	data, err := im.encode(sp)
	if err != nil {
		return vitrine.Rendered{}, err
	}
	return vitrine.Rendered{Spec: sp, Data: data, Width: im.width(), Height: im.height()}, nil
}

// header reads what the header of the image in buf (n bytes of C memory)
// says, and whether it carries an ICC profile that needs converting, with
// f's own loader. A profile that describes itself as sRGB (cameras and
// editors embed one in most photos) needs none: converting through it costs
// a colour transform of the whole picture for the same pixels.
func header(f vitrine.Format, buf unsafe.Pointer, n int) (vitrine.ImageInfo, bool, error) {
	im := &vimage{}
	defer im.close()
	if err := im.loadBuffer(f, buf, n); err != nil {
		return vitrine.ImageInfo{}, false, err
	}
	var data unsafe.Pointer
	var size C.size_t
	convert := false
	if C.vt_icc(im.p, &data, &size) == 0 {
		convert = !iccIsSRGB(C.GoBytes(data, C.int(size)))
	}
	return im.info(f), convert, nil
}

// decodeSize returns the box the one decode of a width x height original
// (as displayed) must fit: just large enough for every spec, never larger
// than the original. Contain needs the image inside its box, Cover needs it
// to cover its box, so Cover scales by the larger ratio.
func decodeSize(width, height int, specs []vitrine.Spec) (int, int) {
	scale := 0.0
	for _, sp := range specs {
		sx := float64(sp.Width) / float64(width)
		sy := float64(sp.Height) / float64(height)
		s := min(sx, sy)
		if sp.Fit == vitrine.Cover {
			s = max(sx, sy)
		}
		scale = max(scale, min(s, 1))
	}
	// Round up, so the decode is never a pixel short of a spec; the epsilon
	// keeps 1200 * (800/1200) from rounding up to 801.
	w := int(math.Ceil(float64(width)*scale - 1e-6))
	h := int(math.Ceil(float64(height)*scale - 1e-6))
	return max(w, 1), max(h, 1)
}
