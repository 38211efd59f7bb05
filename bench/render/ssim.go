package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
)

// gray is an 8-bit luma plane.
type gray struct {
	W, H int
	Pix  []uint8 // row after row
}

// readPGM reads a binary 8-bit PGM (P5) file, as Pillow writes an "L" image.
func readPGM(path string) (*gray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var magic string
	var w, h, maxval int
	if _, err := fmt.Fscan(br, &magic, &w, &h, &maxval); err != nil {
		return nil, fmt.Errorf("%s: PGM header: %w", path, err)
	}
	if magic != "P5" || maxval != 255 || w < 1 || h < 1 {
		return nil, fmt.Errorf("%s: not an 8-bit binary PGM", path)
	}
	// One whitespace byte ends the header.
	if _, err := br.ReadByte(); err != nil {
		return nil, err
	}
	g := &gray{W: w, H: h, Pix: make([]uint8, w*h)}
	if _, err := io.ReadFull(br, g.Pix); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// ssimWindow is the side of the SSIM window.
const ssimWindow = 11

// ssim returns the mean SSIM of two luma planes of the same size, as Wang,
// Bovik, Sheikh and Simoncelli define it (IEEE TIP 2004): an 11x11 Gaussian
// window with sigma 1.5, C1 = (0.01*255)^2, C2 = (0.03*255)^2, averaged over
// every position where the window fits inside the image (no padding, no
// downsampling).
//
// The Gaussian is separable: each row is filtered horizontally once, into a
// ring of the last 11 rows, and each output row combines them vertically, so
// memory stays a few rows even for an 18 MP image.
func ssim(a, b *gray) (float64, error) {
	if a.W != b.W || a.H != b.H {
		return 0, fmt.Errorf("sizes differ: %dx%d and %dx%d", a.W, a.H, b.W, b.H)
	}
	if a.W < ssimWindow || a.H < ssimWindow {
		return 0, fmt.Errorf("%dx%d is smaller than the %d px window", a.W, a.H, ssimWindow)
	}
	const (
		c1 = (0.01 * 255) * (0.01 * 255)
		c2 = (0.03 * 255) * (0.03 * 255)
	)
	g := gaussian(ssimWindow, 1.5)
	ow := a.W - ssimWindow + 1

	// Each ring row holds the horizontally filtered x, y, x*x, y*y and x*y.
	type filtered struct{ x, y, xx, yy, xy []float64 }
	ring := make([]filtered, ssimWindow)
	for i := range ring {
		ring[i] = filtered{make([]float64, ow), make([]float64, ow), make([]float64, ow), make([]float64, ow), make([]float64, ow)}
	}
	ra := make([]float64, a.W)
	rb := make([]float64, a.W)

	var sum float64
	var count int
	for y := range a.H {
		for x := range a.W {
			ra[x] = float64(a.Pix[y*a.W+x])
			rb[x] = float64(b.Pix[y*b.W+x])
		}
		r := &ring[y%ssimWindow]
		for x := range ow {
			var sx, sy, sxx, syy, sxy float64
			for k, w := range g {
				p, q := ra[x+k], rb[x+k]
				sx += w * p
				sy += w * q
				sxx += w * p * p
				syy += w * q * q
				sxy += w * p * q
			}
			r.x[x], r.y[x], r.xx[x], r.yy[x], r.xy[x] = sx, sy, sxx, syy, sxy
		}
		if y < ssimWindow-1 {
			continue
		}
		// Rows y-10 .. y are in the ring; the oldest is at (y+1) % 11.
		for x := range ow {
			var mx, my, exx, eyy, exy float64
			for k, w := range g {
				s := &ring[(y+1+k)%ssimWindow]
				mx += w * s.x[x]
				my += w * s.y[x]
				exx += w * s.xx[x]
				eyy += w * s.yy[x]
				exy += w * s.xy[x]
			}
			vx, vy, cov := exx-mx*mx, eyy-my*my, exy-mx*my
			sum += (2*mx*my + c1) * (2*cov + c2) / ((mx*mx + my*my + c1) * (vx + vy + c2))
			count++
		}
	}
	return sum / float64(count), nil
}

// gaussian returns a normalised 1-D Gaussian of n taps.
func gaussian(n int, sigma float64) []float64 {
	g := make([]float64, n)
	var total float64
	for i := range g {
		d := float64(i - n/2)
		g[i] = math.Exp(-d * d / (2 * sigma * sigma))
		total += g[i]
	}
	for i := range g {
		g[i] /= total
	}
	return g
}
