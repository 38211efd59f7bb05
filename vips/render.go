package vips

// #include "libvips.h"
import "C"

import (
	"context"
	"fmt"
	"math"
	"runtime"
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
	// the pointer, so it must be C memory. This defer runs last, after every
	// image below has been unreffed.
	buf := C.CBytes(src)
	defer C.free(buf)

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
	if err := base.thumbnailBuffer(buf, len(src), dw, dh, hasICC); err != nil {
		return res, undecodable(err)
	}
	if err := base.toSRGB8(); err != nil {
		return res, err
	}
	if err := base.copyMemory(); err != nil {
		return res, undecodable(err)
	}

	res.Preview, err = base.preview(vitrine.PreviewSize)
	if err != nil {
		return res, err
	}
	res.Renditions = make([]vitrine.Rendered, 0, len(specs))
	for _, sp := range specs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		out, err := renderSpec(ctx, base, sp)
		if err != nil {
			return res, fmt.Errorf("render %s: %w", sp.Name, err)
		}
		res.Renditions = append(res.Renditions, out)
	}
	return res, nil
}

// renderSpec makes one rendition from the decoded original.
func renderSpec(ctx context.Context, base *vimage, sp vitrine.Spec) (vitrine.Rendered, error) {
	im := &vimage{}
	defer im.close()
	if err := im.resize(base, sp); err != nil {
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
// says, and whether it carries an ICC profile, with f's own loader.
func header(f vitrine.Format, buf unsafe.Pointer, n int) (vitrine.ImageInfo, bool, error) {
	im := &vimage{}
	defer im.close()
	if err := im.loadBuffer(f, buf, n); err != nil {
		return vitrine.ImageInfo{}, false, err
	}
	return im.info(f), C.vt_has_icc(im.p) != 0, nil
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
