package vips

// #include "libvips.h"
import "C"

import (
	"fmt"
	"image"
	"runtime"
	"unsafe"

	"github.com/vitrine/vitrine"
)

// This file makes the inputs of the golden tests that the standard library
// cannot write (CMYK and progressive JPEG, grey + alpha PNG) and decodes
// outputs it cannot read (WebP). Only tests call it; the linker drops it
// from the binary.

// Fixture kinds, as vt_fixture_save numbers them.
const (
	fixtureCMYKJPEG        = 1
	fixtureProgressiveJPEG = 2
	fixtureGreyAlphaPNG    = 3
)

// encodeFixture encodes img (sRGB) as one of the fixture kinds.
func encodeFixture(img *image.NRGBA, kind int) ([]byte, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b := img.Bounds()
	var buf unsafe.Pointer
	var n C.size_t
	pix := C.CBytes(img.Pix)
	defer C.free(pix)
	if C.vt_fixture_save(pix, C.int(b.Dx()), C.int(b.Dy()), C.int(kind), &buf, &n) != 0 {
		return nil, lastError("fixture")
	}
	data := C.GoBytes(buf, C.int(n))
	C.vt_free(buf)
	return data, nil
}

// decodePreview decodes a JPEG, PNG or WebP file (as sniffed) into upright
// 8-bit sRGB RGBA pixels fitted into size x size, without colour
// management: what a rendition's pixels are.
func decodePreview(data []byte, size int) (*image.NRGBA, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	f := vitrine.SniffFormat(data)
	if formatCode(f) == 0 {
		return nil, fmt.Errorf("decode: format %q", f)
	}
	buf := C.CBytes(data)
	defer C.free(buf)
	im := &vimage{}
	defer im.close()
	if err := im.loadBuffer(f, buf, len(data)); err != nil {
		return nil, err
	}
	return im.preview(size)
}
