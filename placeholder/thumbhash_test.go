package placeholder

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"testing"
)

// newImage returns a w x h image whose pixel (x, y) is at(x, y).
func newImage(w, h int, at func(x, y int) color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, at(x, y))
		}
	}
	return img
}

// solid returns a w x h image of one colour.
func solid(w, h int, c color.NRGBA) *image.NRGBA {
	return newImage(w, h, func(x, y int) color.NRGBA { return c })
}

// decodeHash returns the bytes of a base64 ThumbHash.
func decodeHash(t *testing.T, s string) []byte {
	t.Helper()
	hash, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	if len(hash) < 5 || len(hash) > 25 {
		t.Fatalf("hash %q has %d bytes, want 5 to 25", s, len(hash))
	}
	return hash
}

// thumbHashToApproximateAspectRatio is the reference decoder's function of
// the same name: width/height, as well as the luminance term counts tell it.
func thumbHashToApproximateAspectRatio(hash []byte) float64 {
	hasAlpha := hash[2]&0x80 != 0
	lMax := 7
	if hasAlpha {
		lMax = 5
	}
	lMin := int(hash[3] & 7)
	if hash[4]&0x80 != 0 { // landscape
		return float64(lMax) / float64(lMin)
	}
	return float64(lMin) / float64(lMax)
}

// thumbHashToAverageRGBA is the reference decoder's function of the same
// name: the average colour, each channel in [0, 1], not premultiplied.
func thumbHashToAverageRGBA(hash []byte) (r, g, b, a float64) {
	header := uint32(hash[0]) | uint32(hash[1])<<8 | uint32(hash[2])<<16
	l := float64(header&63) / 63
	p := float64(header>>6&63)/31.5 - 1
	q := float64(header>>12&63)/31.5 - 1
	a = 1
	if header>>23 != 0 {
		a = float64(hash[5]&15) / 15
	}
	b = l - 2.0/3.0*p
	r = (3*l - b + q) / 2
	g = r - q
	return clamp01(r), clamp01(g), clamp01(b), a
}

func clamp01(x float64) float64 { return min(1, max(0, x)) }

// hexColor returns c's RGB as "#rrggbb".
func hexColor(c color.NRGBA) string {
	return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
}

func TestThumbHashReference(t *testing.T) {
	t.Parallel()
	// The first three are derived by hand: every channel is zero, so every
	// DCT term is exactly zero. The header then holds L = 0, P = Q = 0
	// (stored as round(31.5) = 32), the term count of the shorter side and
	// the flags, and every AC nibble is 0. Without alpha, a square keeps
	// 7x7 luminance terms (27 AC terms) and 3x3 for P and Q (5 each): 37
	// nibbles, 19 bytes after the 5-byte header.
	//
	// The others came from the reference encoder, rgbaToThumbHash of the
	// npm package thumbhash 0.1.1 (Evan Wallace's), run by Node.js 20 on
	// the same pixels (exact: true only for those that match byte for
	// byte). The solid colour and the gradients have AC terms that are zero
	// in exact arithmetic, which the two encoders' cosines round to either
	// side: there a nibble may be one step off, never more.
	tests := []struct {
		name       string
		img        *image.NRGBA
		want       string
		headerOnly bool
	}{
		{
			name: "opaque black 1x1",
			img:  solid(1, 1, color.NRGBA{0, 0, 0, 255}),
			// 00 08 02 | 07 00 | 19 zero bytes
			want: "AAgCBwAAAAAAAAAAAAAAAAAAAAAAAAAA",
		},
		{
			name: "transparent 1x1",
			img:  solid(1, 1, color.NRGBA{0, 0, 0, 0}),
			// 00 08 82 (alpha flag) | 05 00 (5 terms with alpha) | 00
			// (alpha average and scale) | 19 zero bytes (14 L, 5 P, 5 Q,
			// 14 A nibbles)
			want: "AAiCBQAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
		},
		{
			// The red of a transparent pixel counts for nothing.
			name: "transparent red 3x2",
			img:  solid(3, 2, color.NRGBA{255, 0, 0, 0}),
			// 00 08 82 | 03 80 (landscape, 3 terms on the short side) | 00
			// | 17 zero bytes (10 L, 5 P, 5 Q, 14 A nibbles)
			want: "AAiCA4AAAAAAAAAAAAAAAAAAAAAAAAA=",
		},
		{
			name: "opaque gradient 100x75",
			img: newImage(100, 75, func(x, y int) color.NRGBA {
				return color.NRGBA{uint8(x * 255 / 99), uint8(y * 255 / 74), 128, 255}
			}),
			want: "3wcKNZqAh4eAiHeIeHiHiICACPh3",
		},
		{
			name: "gradient with alpha 37x64",
			img: newImage(37, 64, func(x, y int) color.NRGBA {
				return color.NRGBA{240, uint8(x * 7), uint8(y * 4), uint8((x + y) * 255 / 99)}
			}),
			want: "LMmGMwwnkLGneIiDf/V2dXN3cIh3d4c=",
		},
		{
			// Every AC term of a solid colour is rounding noise, which the
			// encoder scales up to full range; only the header means
			// anything, and the decoded scales are ~0 either way.
			name:       "solid #3c8dbc 100x30",
			img:        solid(100, 30, color.NRGBA{0x3c, 0x8d, 0xbc, 255}),
			want:       "YFUBAoDw0It3eGd3T3qGB4g=",
			headerOnly: true,
		},
		{
			name: "checkerboard with transparent squares 64x48",
			img: newImage(64, 48, func(x, y int) color.NRGBA {
				if (x/8+y/8)%2 == 0 {
					return color.NRGBA{}
				}
				return color.NRGBA{uint8(x * 4), uint8(y * 5), uint8(x * y), 255}
			}),
			want: "HhiGFI4IcHZxeIdnBwqpcI+Hh4dxcYgHBw==",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ThumbHash(tt.img)
			if err != nil {
				t.Fatalf("ThumbHash: %v", err)
			}
			if tt.headerOnly {
				g, _ := base64.StdEncoding.DecodeString(got)
				w, _ := base64.StdEncoding.DecodeString(tt.want)
				if len(g) != len(w) || !bytes.Equal(g[:5], w[:5]) {
					t.Errorf("got %v, want the header of %v", got, tt.want)
				}
				return
			}
			if got != tt.want && !withinOneStep(got, tt.want) {
				t.Errorf("got %v, want %v (or one nibble step from it)", got, tt.want)
			}
		})
	}
}

// withinOneStep reports whether two hashes have the same length and
// header (the first 5 bytes: average colour, scales, sizes, flags) and
// every later 4-bit term differs by at most one.
func withinOneStep(a, b string) bool {
	x, err1 := base64.StdEncoding.DecodeString(a)
	y, err2 := base64.StdEncoding.DecodeString(b)
	if err1 != nil || err2 != nil || len(x) != len(y) || !bytes.Equal(x[:5], y[:5]) {
		return false
	}
	for i := 5; i < len(x); i++ {
		for _, shift := range []uint{0, 4} {
			d := int(x[i]>>shift&15) - int(y[i]>>shift&15)
			if d < -1 || d > 1 {
				return false
			}
		}
	}
	return true
}

func TestThumbHashSolidColor(t *testing.T) {
	t.Parallel()
	// The average colour is stored as L in 6 bits and P, Q in 6 bits each
	// (steps of 1/63 and 1/31.5). Rounding each by half a step moves R or G
	// by at most 1/126 + 1/189 + 1/126 < 0.022 after the conversion back.
	const tolerance = 0.022
	sizes := []struct {
		name string
		w, h int
		// wantRatio is lx/ly: the luminance terms (at most 7) are shared
		// out in proportion to the sides, rounded, at least 1.
		wantRatio float64
	}{
		{name: "1x1", w: 1, h: 1, wantRatio: 1},
		{name: "100x1", w: 100, h: 1, wantRatio: 7},       // 7 terms by 1: as wide as it can say
		{name: "1x100", w: 1, h: 100, wantRatio: 1.0 / 7}, // 1 by 7
		{name: "100x100", w: 100, h: 100, wantRatio: 1},
		{name: "37x64", w: 37, h: 64, wantRatio: 4.0 / 7}, // round(7*37/64) = 4 by 7
	}
	colors := []color.NRGBA{
		{0, 0, 0, 255},
		{255, 255, 255, 255},
		{255, 0, 0, 255},
		{0x3c, 0x8d, 0xbc, 255},
		{128, 128, 0, 255},
	}
	for _, size := range sizes {
		for _, c := range colors {
			t.Run(size.name+"/"+hexColor(c), func(t *testing.T) {
				t.Parallel()
				s, err := ThumbHash(solid(size.w, size.h, c))
				if err != nil {
					t.Fatalf("ThumbHash: %v", err)
				}
				hash := decodeHash(t, s)
				if got := thumbHashToApproximateAspectRatio(hash); got != size.wantRatio {
					t.Errorf("aspect ratio: got %v, want %v", got, size.wantRatio)
				}
				r, g, b, a := thumbHashToAverageRGBA(hash)
				want := [3]float64{float64(c.R) / 255, float64(c.G) / 255, float64(c.B) / 255}
				for i, got := range [3]float64{r, g, b} {
					if math.Abs(got-want[i]) > tolerance {
						t.Errorf("average channel %d: got %.3f, want %.3f ± %v", i, got, want[i], tolerance)
					}
				}
				if a != 1 || hash[2]&0x80 != 0 {
					t.Errorf("opaque image: got alpha %v and flag %v, want 1 and false", a, hash[2]&0x80 != 0)
				}
			})
		}
	}
}

func TestThumbHashAlpha(t *testing.T) {
	t.Parallel()
	red := color.NRGBA{255, 0, 0, 255}
	tests := []struct {
		name      string
		img       *image.NRGBA
		wantFlag  bool
		wantAlpha float64 // average alpha, stored in 4 bits
		wantRGB   [3]float64
		wantRatio float64
	}{
		{
			name:      "opaque",
			img:       solid(20, 10, red),
			wantAlpha: 1,
			wantRGB:   [3]float64{1, 0, 0},
			wantRatio: 7.0 / 4, // round(7*10/20) = 4 (3.5 rounds up)
		},
		{
			name:      "fully transparent",
			img:       solid(10, 10, color.NRGBA{255, 255, 255, 0}),
			wantFlag:  true,
			wantAlpha: 0,
			wantRGB:   [3]float64{0, 0, 0}, // no visible pixel: the average stays black
			wantRatio: 1,                   // 5 by 5 terms with alpha
		},
		{
			name:      "half transparent",
			img:       solid(10, 20, color.NRGBA{255, 0, 0, 128}),
			wantFlag:  true,
			wantAlpha: 128.0 / 255,
			wantRGB:   [3]float64{1, 0, 0},
			wantRatio: 3.0 / 5, // round(5*10/20) = 3 (2.5 rounds up) by 5
		},
		{
			// Transparent green pixels do not pull the average toward green.
			name: "left half transparent green",
			img: newImage(20, 20, func(x, y int) color.NRGBA {
				if x < 10 {
					return color.NRGBA{0, 255, 0, 0}
				}
				return red
			}),
			wantFlag:  true,
			wantAlpha: 0.5,
			wantRGB:   [3]float64{1, 0, 0},
			wantRatio: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := ThumbHash(tt.img)
			if err != nil {
				t.Fatalf("ThumbHash: %v", err)
			}
			hash := decodeHash(t, s)
			if got := hash[2]&0x80 != 0; got != tt.wantFlag {
				t.Errorf("alpha flag: got %v, want %v", got, tt.wantFlag)
			}
			r, g, b, a := thumbHashToAverageRGBA(hash)
			if math.Abs(a-tt.wantAlpha) > 1.0/30 {
				t.Errorf("average alpha: got %.3f, want %.3f", a, tt.wantAlpha)
			}
			for i, got := range [3]float64{r, g, b} {
				if math.Abs(got-tt.wantRGB[i]) > 0.022 {
					t.Errorf("average channel %d: got %.3f, want %.3f", i, got, tt.wantRGB[i])
				}
			}
			if got := thumbHashToApproximateAspectRatio(hash); got != tt.wantRatio {
				t.Errorf("aspect ratio: got %v, want %v", got, tt.wantRatio)
			}
		})
	}
}

func TestThumbHashSize(t *testing.T) {
	t.Parallel()
	gray := color.NRGBA{128, 128, 128, 255}
	tests := []struct {
		name    string
		img     *image.NRGBA
		wantErr bool
	}{
		{name: "nil", img: nil, wantErr: true},
		{name: "0x0", img: image.NewNRGBA(image.Rectangle{}), wantErr: true},
		{name: "0x10", img: image.NewNRGBA(image.Rect(0, 0, 0, 10)), wantErr: true},
		{name: "101x10", img: solid(101, 10, gray), wantErr: true},
		{name: "10x101", img: solid(10, 101, gray), wantErr: true},
		{name: "1x1", img: solid(1, 1, gray)},
		{name: "100x100", img: solid(100, 100, gray)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ThumbHash(tt.img)
			if tt.wantErr {
				if !errors.Is(err, ErrSize) || got != "" {
					t.Errorf("got %q, %v, want \"\" and an error wrapping ErrSize", got, err)
				}
				return
			}
			if err != nil {
				t.Errorf("got error %v, want nil", err)
			}
		})
	}
}

func TestThumbHashSubImage(t *testing.T) {
	t.Parallel()
	// A sub-image shares its parent's Pix and Stride and does not start at
	// (0, 0); it must hash like a copy of the same pixels.
	big := newImage(120, 90, func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(x * 2), uint8(y * 3), uint8(x + y), uint8(255 - x)}
	})
	rect := image.Rect(13, 7, 13+61, 7+80)
	sub := big.SubImage(rect).(*image.NRGBA)
	cp := newImage(rect.Dx(), rect.Dy(), func(x, y int) color.NRGBA {
		return big.NRGBAAt(rect.Min.X+x, rect.Min.Y+y)
	})
	got, err := ThumbHash(sub)
	if err != nil {
		t.Fatalf("ThumbHash(sub-image): %v", err)
	}
	want, err := ThumbHash(cp)
	if err != nil {
		t.Fatalf("ThumbHash(copy): %v", err)
	}
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func BenchmarkThumbHash(b *testing.B) {
	img := newImage(100, 100, func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(x * 2), uint8(y * 2), uint8(x * y), uint8(155 + x)}
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ThumbHash(img); err != nil {
			b.Fatal(err)
		}
	}
}
