package main

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"sync"
)

// photo is one generated JPEG and the multipart framing that uploads it.
// The pixels are generated once: encoding a 12 MP JPEG costs the client
// seconds of CPU, which it would take from the server on the same cores.
// body makes each upload's bytes distinct instead.
type photo struct {
	Name        string
	Width       int
	Height      int
	JPEG        []byte
	ContentType string // multipart/form-data with the boundary of head and tail
	head, tail  []byte // the multipart body before and after the file's bytes
}

// body returns a multipart body that uploads the photo in the "image"
// field, with a JPEG comment (COM) segment holding tag inserted after the
// start-of-image marker: every upload is then a file of its own (no two
// share a checksum) while it decodes to the same pixels at the same cost.
func (p photo) body(tag string) []byte {
	com := []byte("vitrine load " + tag)
	b := make([]byte, 0, len(p.head)+len(p.JPEG)+4+len(com)+len(p.tail))
	b = append(b, p.head...)
	b = append(b, p.JPEG[:2]...) // SOI
	b = append(b, 0xFF, 0xFE, byte((len(com)+2)>>8), byte(len(com)+2))
	b = append(b, com...)
	b = append(b, p.JPEG[2:]...)
	return append(b, p.tail...)
}

// makePhotos generates n different JPEGs of w x h pixels at quality q, in
// parallel, each from its own seed so that every run uploads the same
// pictures.
func makePhotos(n, w, h, q int, prefix string) ([]photo, error) {
	photos := make([]photo, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			photos[i], errs[i] = makePhoto(fmt.Sprintf("%s-%d.jpg", prefix, i+1), w, h, q, uint64(i+1))
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return photos, nil
}

// photoNoise is the amplitude of the per-pixel noise. Smooth gradients
// alone compress to a few hundred KB; with ±10 of noise a 12 MP picture at
// quality 90 weighs about 3.3 MB, what a phone camera writes, and stays
// under the default 5 MiB upload limit.
const photoNoise = 10

// makePhoto draws gradients, a few soft discs and noise, so that the JPEG
// has the size and the decoding cost of a photograph rather than of a flat
// test card.
func makePhoto(name string, w, h, q int, seed uint64) (photo, error) {
	rng := rand.New(rand.NewPCG(seed, 0x766974726f696e65))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	type disc struct{ x, y, r, cr, cg, cb float64 }
	discs := make([]disc, 6)
	for i := range discs {
		discs[i] = disc{
			x: rng.Float64() * float64(w), y: rng.Float64() * float64(h),
			r:  (0.05 + 0.2*rng.Float64()) * float64(h),
			cr: rng.Float64() * 255, cg: rng.Float64() * 255, cb: rng.Float64() * 255,
		}
	}
	phase := rng.Float64() * 2 * math.Pi
	for y := range h {
		fy := float64(y) / float64(h)
		for x := range w {
			fx := float64(x) / float64(w)
			r := 255 * fx
			g := 255 * fy
			b := 128 + 100*math.Sin(fx*12+fy*7+phase)
			for _, d := range discs {
				dx, dy := float64(x)-d.x, float64(y)-d.y
				if dist2 := dx*dx + dy*dy; dist2 < d.r*d.r {
					// A soft edge: full colour at the centre, none at the rim.
					a := 1 - math.Sqrt(dist2)/d.r
					r, g, b = r+(d.cr-r)*a, g+(d.cg-g)*a, b+(d.cb-b)*a
				}
			}
			n := float64(rng.IntN(2*photoNoise+1) - photoNoise)
			i := img.PixOffset(x, y)
			img.Pix[i] = clamp(r + n)
			img.Pix[i+1] = clamp(g + n)
			img.Pix[i+2] = clamp(b + n)
			img.Pix[i+3] = 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		return photo{}, fmt.Errorf("encode %s: %w", name, err)
	}
	p := photo{Name: name, Width: w, Height: h, JPEG: buf.Bytes()}
	// The multipart writer writes each boundary when the next part starts,
	// so what it writes before the file's bytes is head and what it writes
	// after them is tail.
	var framing bytes.Buffer
	mw := multipart.NewWriter(&framing)
	if _, err := mw.CreateFormFile("image", name); err != nil {
		return photo{}, err
	}
	p.head = bytes.Clone(framing.Bytes())
	framing.Reset()
	if err := mw.WriteField("alt_text", "load test "+name); err != nil {
		return photo{}, err
	}
	if err := mw.Close(); err != nil {
		return photo{}, err
	}
	p.tail, p.ContentType = framing.Bytes(), mw.FormDataContentType()
	return p, nil
}

func clamp(v float64) uint8 {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return uint8(v)
}
