package placeholder

import (
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"math"
)

// maxThumbHashSide is the largest width or height ThumbHash accepts. The
// reference encoder refuses bigger images: the hash keeps at most 7x7
// luminance terms, so more pixels only cost time.
const maxThumbHashSide = 100

// ErrSize is wrapped by the error ThumbHash returns for an image that is nil,
// empty, or wider or taller than 100 pixels.
var ErrSize = errors.New("image must be between 1x1 and 100x100 pixels")

// ThumbHash returns the ThumbHash of img (at most 100x100 pixels) encoded in
// standard base64 (with padding), as https://evanw.github.io/thumbhash/
// defines it and the reference encoder rgbaToThumbHash computes it. Like the
// reference, it reads img's pixels as non-premultiplied sRGB, row by row.
// The hash is at most 25 bytes (36 base64 characters), and the same on
// every architecture (see encodeThumbHash).
//
// A term whose exact value sits on a rounding boundary (zero in theory, as
// in solid colours and smooth gradients) can be stored one step away from
// the JavaScript encoder's choice, because Go's math.Cos and JavaScript's
// Math.cos differ in the last bit; the reference encoders in JavaScript and
// Rust differ from each other the same way. Both decode to the same picture
// to the eye, so vitrine does not carry its own cosine to match one of them.
//
// It returns an error wrapping ErrSize, and no hash, when img is nil, empty,
// or larger than 100x100 pixels; it never returns any other error.
func ThumbHash(img *image.NRGBA) (string, error) {
	if img == nil {
		return "", fmt.Errorf("thumbhash of nil image: %w", ErrSize)
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w < 1 || h < 1 || w > maxThumbHashSide || h > maxThumbHashSide {
		return "", fmt.Errorf("thumbhash of %dx%d image: %w", w, h, ErrSize)
	}
	return base64.StdEncoding.EncodeToString(encodeThumbHash(img)), nil
}

// encodeThumbHash follows the reference rgbaToThumbHash step by step, with
// the same float64 operations in the same order.
//
// Several sums are written as a + float64(b*c). The conversion is not a
// no-op: the Go spec lets the compiler fuse b*c+a into one FMA instruction
// (it does on arm64), which skips rounding the product and can flip a bit of
// the hash. An explicit conversion forces the product to be rounded first, as
// JavaScript does.
func encodeThumbHash(img *image.NRGBA) []byte {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	// row returns the 4*w bytes (R, G, B, A per pixel) of row y, counted
	// from the top of img, wherever its Rect starts.
	row := func(y int) []uint8 {
		start := img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y+y)
		return img.Pix[start : start+4*w]
	}

	// Step 1: the average colour, weighted by alpha, because the RGB of a
	// transparent pixel says nothing about the image.
	var avgR, avgG, avgB, avgA float64
	for y := range h {
		px := row(y)
		for i := 0; i < len(px); i += 4 {
			alpha := float64(px[i+3]) / 255
			avgR += float64(alpha / 255 * float64(px[i]))
			avgG += float64(alpha / 255 * float64(px[i+1]))
			avgB += float64(alpha / 255 * float64(px[i+2]))
			avgA += alpha
		}
	}
	if avgA > 0 {
		avgR /= avgA
		avgG /= avgA
		avgB /= avgA
	}

	// Step 2: how many luminance terms to keep along each axis. An image
	// with alpha spends bits on the alpha channel, so it keeps fewer (5
	// instead of 7) along its longer side; the shorter side gets its share,
	// which is also how a decoder recovers the aspect ratio.
	hasAlpha := avgA < float64(w*h)
	lLimit := 7
	if hasAlpha {
		lLimit = 5
	}
	lx := max(1, round(float64(lLimit*w)/float64(max(w, h))))
	ly := max(1, round(float64(lLimit*h)/float64(max(w, h))))

	// Step 3: convert RGBA to LPQA: luminance, yellow-blue, red-green and
	// alpha. Each pixel is first composited over the average colour, so
	// transparent pixels don't pull the colour channels toward black.
	n := w * h
	l := make([]float64, 0, n)
	p := make([]float64, 0, n)
	q := make([]float64, 0, n)
	a := make([]float64, 0, n)
	for y := range h {
		px := row(y)
		for i := 0; i < len(px); i += 4 {
			alpha := float64(px[i+3]) / 255
			r := float64(avgR*(1-alpha)) + float64(alpha/255*float64(px[i]))
			g := float64(avgG*(1-alpha)) + float64(alpha/255*float64(px[i+1]))
			b := float64(avgB*(1-alpha)) + float64(alpha/255*float64(px[i+2]))
			l = append(l, (r+g+b)/3)
			p = append(p, float64((r+g)/2)-b)
			q = append(q, r-g)
			a = append(a, alpha)
		}
	}

	// Step 4: a DCT of each channel, keeping only the low frequencies.
	lDC, lAC, lScale := encodeChannel(l, w, h, max(3, lx), max(3, ly))
	pDC, pAC, pScale := encodeChannel(p, w, h, 3, 3)
	qDC, qAC, qScale := encodeChannel(q, w, h, 3, 3)

	// Step 5: the header. 24 bits: L, P and Q averages, L scale, alpha
	// flag. 16 bits: the luminance term count of the shorter side, P and Q
	// scales, landscape flag.
	isLandscape := w > h
	header24 := round(63*lDC) |
		round(31.5+float64(31.5*pDC))<<6 |
		round(31.5+float64(31.5*qDC))<<12 |
		round(31*lScale)<<18 |
		boolBit(hasAlpha)<<23
	shortSide := lx
	if isLandscape {
		shortSide = ly
	}
	header16 := shortSide |
		round(63*pScale)<<3 |
		round(63*qScale)<<9 |
		boolBit(isLandscape)<<15
	hash := make([]byte, 0, 25)
	hash = append(hash,
		byte(header24), byte(header24>>8), byte(header24>>16),
		byte(header16), byte(header16>>8))

	// Step 6: with alpha, one more byte for the alpha average and scale,
	// and the alpha AC terms go last.
	acs := [][]float64{lAC, pAC, qAC}
	if hasAlpha {
		aDC, aAC, aScale := encodeChannel(a, w, h, 5, 5)
		hash = append(hash, byte(round(15*aDC)|round(15*aScale)<<4))
		acs = append(acs, aAC)
	}

	// Step 7: every AC term as a 4-bit nibble, low nibble first.
	odd := false
	for _, ac := range acs {
		for _, f := range ac {
			nibble := byte(round(15 * f))
			if odd {
				hash[len(hash)-1] |= nibble << 4
			} else {
				hash = append(hash, nibble)
			}
			odd = !odd
		}
	}
	return hash
}

// encodeChannel returns the DCT of channel (w*h values, row by row) over the
// lower-left triangle of an nx by ny grid of frequencies: the constant term
// dc, the other terms ac mapped from [-scale, scale] to [0, 1], and scale,
// the largest magnitude among them. When every AC term is zero, scale is zero
// and ac is left as it is (all zero), as in the reference.
func encodeChannel(channel []float64, w, h, nx, ny int) (dc float64, ac []float64, scale float64) {
	fx := make([]float64, w)
	for cy := range ny {
		// The triangle keeps the terms a blurred image needs; the high
		// frequencies in both directions at once add little.
		for cx := 0; cx*ny < nx*(ny-cy); cx++ {
			for x := range w {
				fx[x] = math.Cos(math.Pi / float64(w) * float64(cx) * (float64(x) + 0.5))
			}
			f := 0.0
			for y := range h {
				fy := math.Cos(math.Pi / float64(h) * float64(cy) * (float64(y) + 0.5))
				for x := range w {
					f += float64(channel[x+y*w] * fx[x] * fy)
				}
			}
			f /= float64(w * h)
			if cx == 0 && cy == 0 {
				dc = f
				continue
			}
			ac = append(ac, f)
			scale = max(scale, math.Abs(f))
		}
	}
	if scale > 0 {
		for i := range ac {
			ac[i] = 0.5 + float64(0.5/scale*ac[i])
		}
	}
	return dc, ac, scale
}

// round rounds x to the nearest integer. Every value the encoder rounds is
// zero or positive, where math.Round (halves away from zero) agrees with
// JavaScript's Math.round (halves up) and Rust's f32::round.
func round(x float64) int {
	return int(math.Round(x))
}

// boolBit returns 1 for true and 0 for false, for packing flags.
func boolBit(b bool) int {
	if b {
		return 1
	}
	return 0
}
