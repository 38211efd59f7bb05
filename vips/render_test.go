package vips

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/vitrine/vitrine"
)

// renderOne renders one spec and returns the encoded file.
func renderOne(t testing.TB, src []byte, sp vitrine.Spec) []byte {
	t.Helper()
	res, err := NewRenderer().Render(context.Background(), src, []vitrine.Spec{sp})
	if err != nil {
		t.Fatalf("render %s: %v", sp, err)
	}
	return res.Renditions[0].Data
}

// decode decodes a JPEG or PNG rendition with the standard library.
func decode(t testing.TB, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode rendition: %v", err)
	}
	return img
}

func spec(name string, w, h int, fit vitrine.Fit, f vitrine.Format) vitrine.Spec {
	return vitrine.Spec{Name: name, Width: w, Height: h, Fit: fit, Format: f, Quality: 85}
}

// transparentLeft returns a 100x100 image, fully transparent (black) on the
// left half and opaque red on the right.
func transparentLeft() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 100, 100))
	for y := range 100 {
		for x := range 100 {
			if x >= 50 {
				img.SetNRGBA(x, y, color.NRGBA{R: 255, A: 255})
			}
		}
	}
	return img
}

type size struct{ w, h int }

func TestRenderSizes(t *testing.T) {
	t.Parallel()
	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			nrgba64.SetNRGBA64(x, y, color.NRGBA64{R: uint16(x * 160), G: uint16(y * 200), B: 0x8000, A: 0xFFFF})
		}
	}
	gray := image.NewGray(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			gray.SetGray(x, y, color.Gray{Y: uint8(x)})
		}
	}
	paletted := image.NewPaletted(image.Rect(0, 0, 400, 300),
		color.Palette{color.NRGBA{}, color.NRGBA{R: 255, A: 255}, color.NRGBA{B: 255, A: 255}})
	for y := range 300 {
		for x := range 400 {
			paletted.SetColorIndex(x, y, uint8((x/50+y/50)%3))
		}
	}
	big := encodeJPEG(t, pattern(1200, 600))
	cover := spec("square", 200, 200, vitrine.Cover, vitrine.JPEG)

	tests := []struct {
		name  string
		src   []byte
		specs []vitrine.Spec
		want  []size
	}{
		{"jpeg, the note's specs", big, noteSpecs(), []size{{200, 100}, {800, 400}}},
		{"small png not upscaled", encodePNG(t, pattern(100, 50)), noteSpecs(), []size{{100, 50}, {100, 50}}},
		{"16-bit png", encodePNG(t, nrgba64), noteSpecs(), []size{{200, 150}, {400, 300}}},
		{"grey png", encodePNG(t, gray), noteSpecs(), []size{{200, 150}, {400, 300}}},
		{"paletted png with transparency", encodePNG(t, paletted), noteSpecs(), []size{{200, 150}, {400, 300}}},
		{"orientation 6 is upright", withEXIF(encodeJPEG(t, pattern(300, 100)), 6),
			noteSpecs()[:1], []size{{67, 200}}},
		{"cover fills the box", big, []vitrine.Spec{cover}, []size{{200, 200}}},
		{"cover and contain together", big,
			[]vitrine.Spec{cover, spec("wide", 300, 300, vitrine.Contain, vitrine.PNG)}, []size{{200, 200}, {300, 150}}},
		{"cover of a small original crops without enlarging", encodePNG(t, pattern(100, 50)),
			[]vitrine.Spec{cover}, []size{{100, 50}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := NewRenderer().Render(context.Background(), tt.src, tt.specs)
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			outs := res.Renditions
			if len(outs) != len(tt.want) {
				t.Fatalf("got %d outputs, want %d", len(outs), len(tt.want))
			}
			for i, out := range outs {
				want := tt.want[i]
				// Pillow and libvips may round a side differently by 1 px.
				if !near(out.Width, want.w) || !near(out.Height, want.h) {
					t.Errorf("%s: got %dx%d, want %dx%d", out.Spec.Name, out.Width, out.Height, want.w, want.h)
				}
				if out.Spec != tt.specs[i] {
					t.Errorf("got spec %v, want %v", out.Spec, tt.specs[i])
				}
				b := decode(t, out.Data).Bounds()
				if b.Dx() != out.Width || b.Dy() != out.Height {
					t.Errorf("%s: got a %dx%d file, want %dx%d as reported", out.Spec.Name, b.Dx(), b.Dy(), out.Width, out.Height)
				}
			}
		})
	}
}

func near(got, want int) bool { return got >= want-1 && got <= want+1 }

func TestRenderCoverExact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		w, h int
	}{
		{"landscape", 1200, 600},
		{"portrait", 333, 1000},
		{"almost square", 1000, 999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := encodeJPEG(t, pattern(tt.w, tt.h))
			specs := []vitrine.Spec{spec("a", 200, 200, vitrine.Cover, vitrine.JPEG), spec("b", 150, 90, vitrine.Cover, vitrine.PNG)}
			res, err := NewRenderer().Render(context.Background(), src, specs)
			if err != nil {
				t.Fatalf("got error %v, want nil", err)
			}
			outs := res.Renditions
			for i, out := range outs {
				if out.Width != specs[i].Width || out.Height != specs[i].Height {
					t.Errorf("%s: got %dx%d, want %dx%d", out.Spec.Name, out.Width, out.Height, specs[i].Width, specs[i].Height)
				}
			}
		})
	}
}

func TestRenderFormats(t *testing.T) {
	t.Parallel()
	src := encodeJPEG(t, pattern(300, 200))
	tests := []struct {
		format vitrine.Format
		magic  func([]byte) bool
	}{
		{vitrine.JPEG, func(b []byte) bool { return vitrine.SniffFormat(b) == vitrine.JPEG }},
		{vitrine.PNG, func(b []byte) bool { return vitrine.SniffFormat(b) == vitrine.PNG }},
		{vitrine.WebP, func(b []byte) bool { return vitrine.SniffFormat(b) == vitrine.WebP }},
		{vitrine.AVIF, func(b []byte) bool { return vitrine.SniffFormat(b) == vitrine.AVIF }},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			t.Parallel()
			data := renderOne(t, src, spec("x", 100, 100, vitrine.Contain, tt.format))
			if !tt.magic(data) {
				t.Errorf("got a file starting %q, want %s", data[:min(16, len(data))], tt.format)
			}
		})
	}
}

func TestRenderAlpha(t *testing.T) {
	t.Parallel()
	src := encodePNG(t, transparentLeft())

	t.Run("jpeg flattens on white", func(t *testing.T) {
		t.Parallel()
		img := decode(t, renderOne(t, src, spec("x", 200, 200, vitrine.Contain, vitrine.JPEG)))
		r, g, b, _ := img.At(10, 50).RGBA()
		if r>>8 < 250 || g>>8 < 250 || b>>8 < 250 {
			t.Errorf("transparent pixel: got %d,%d,%d, want white", r>>8, g>>8, b>>8)
		}
		r, g, b, _ = img.At(90, 50).RGBA()
		if r>>8 < 240 || g>>8 > 15 || b>>8 > 15 {
			t.Errorf("opaque pixel: got %d,%d,%d, want red", r>>8, g>>8, b>>8)
		}
	})
	t.Run("png keeps alpha", func(t *testing.T) {
		t.Parallel()
		img := decode(t, renderOne(t, src, spec("x", 200, 200, vitrine.Contain, vitrine.PNG)))
		if _, _, _, a := img.At(10, 50).RGBA(); a != 0 {
			t.Errorf("transparent pixel: got alpha %d, want 0", a)
		}
		if _, _, _, a := img.At(90, 50).RGBA(); a != 0xFFFF {
			t.Errorf("opaque pixel: got alpha %d, want %d", a, 0xFFFF)
		}
	})
	for _, f := range []vitrine.Format{vitrine.WebP, vitrine.PNG} {
		t.Run(string(f)+" probes with alpha", func(t *testing.T) {
			t.Parallel()
			data := renderOne(t, src, spec("x", 50, 50, vitrine.Contain, f))
			info, err := NewRenderer().Probe(context.Background(), writeTemp(t, "rendition", data))
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			if !info.HasAlpha {
				t.Errorf("got HasAlpha %v, want true", info.HasAlpha)
			}
		})
	}
}

func TestRenderGreyStaysGrey(t *testing.T) {
	t.Parallel()
	gray := image.NewGray(image.Rect(0, 0, 40, 30))
	img := decode(t, renderOne(t, encodePNG(t, gray), spec("x", 20, 20, vitrine.Contain, vitrine.JPEG)))
	if _, ok := img.(*image.Gray); !ok {
		t.Errorf("got %T, want *image.Gray", img)
	}
}

func TestRenderOrientation(t *testing.T) {
	t.Parallel()
	// Stored 300x100: red on the left third. Orientation 6 means "rotate
	// 90 degrees clockwise to display", so red ends up on top.
	stored := pattern(300, 100)
	for y := range 100 {
		for x := range 100 {
			stored.SetNRGBA(x, y, color.NRGBA{R: 255, A: 255})
		}
	}
	data := renderOne(t, withEXIF(encodeJPEG(t, stored), 6), spec("x", 200, 200, vitrine.Contain, vitrine.PNG))
	img := decode(t, data)
	b := img.Bounds()
	if b.Dx() >= b.Dy() {
		t.Fatalf("got %dx%d, want taller than wide", b.Dx(), b.Dy())
	}
	r, g, bl, _ := img.At(b.Dx()/2, 10).RGBA()
	if r>>8 < 240 || g>>8 > 15 || bl>>8 > 15 {
		t.Errorf("top pixel: got %d,%d,%d, want red", r>>8, g>>8, bl>>8)
	}
}

func TestRenderStripsMetadata(t *testing.T) {
	t.Parallel()
	src := withEXIF(encodeJPEG(t, pattern(300, 200)), 1)
	if !bytes.Contains(src, []byte("Exif\x00\x00")) {
		t.Fatalf("test input has no EXIF")
	}
	for _, f := range []vitrine.Format{vitrine.JPEG, vitrine.PNG, vitrine.WebP, vitrine.AVIF} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			data := renderOne(t, src, spec("x", 100, 100, vitrine.Contain, f))
			for _, marker := range []string{"Exif", "EXIF", "eXIf", "ICCP", "iCCP", "XMP "} {
				if bytes.Contains(data, []byte(marker)) {
					t.Errorf("got %q in the output, want no metadata", marker)
				}
			}
		})
	}
}

func TestRenderUndecodable(t *testing.T) {
	t.Parallel()
	jpg := encodeJPEG(t, pattern(600, 400))
	pngData := encodePNG(t, pattern(600, 400))
	tests := []struct {
		name string
		src  []byte
	}{
		{"garbage", []byte("this is not an image at all, just some text")},
		{"empty", nil},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")},
		{"jpeg magic then garbage", append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte("x"), 100)...)},
		{"truncated jpeg", jpg[:len(jpg)/2]},
		{"truncated png", pngData[:len(pngData)/2]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewRenderer().Render(context.Background(), tt.src, vitrine.DefaultSpecs())
			if got := vitrine.KindOf(err); err == nil || got != vitrine.Unsupported {
				t.Errorf("got %v (kind %v), want an Unsupported error", err, got)
			}
		})
	}
}

func TestRenderBadSpec(t *testing.T) {
	t.Parallel()
	src := encodePNG(t, pattern(10, 10))
	_, err := NewRenderer().Render(context.Background(), src, []vitrine.Spec{spec("x", 0, 10, vitrine.Contain, vitrine.JPEG)})
	if err == nil || vitrine.KindOf(err) != vitrine.Internal {
		t.Errorf("got %v, want a plain error", err)
	}
}

func TestRenderCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewRenderer().Render(ctx, encodePNG(t, pattern(10, 10)), vitrine.DefaultSpecs())
	if err != context.Canceled {
		t.Errorf("got %v, want %v", err, context.Canceled)
	}
}

func TestDecodeSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		w, h  int
		specs []vitrine.Spec
		want  size
	}{
		{"largest contain wins", 1200, 600, noteSpecs(), size{800, 400}},
		{"the default large wins", 4000, 3000, vitrine.DefaultSpecs(), size{2048, 1536}},
		{"never larger than the original", 100, 50, vitrine.DefaultSpecs(), size{100, 50}},
		{"cover needs the short side", 1200, 600, []vitrine.Spec{spec("c", 200, 200, vitrine.Cover, vitrine.JPEG)}, size{400, 200}},
		{"cover beats a smaller contain", 1200, 600, []vitrine.Spec{
			spec("c", 300, 300, vitrine.Cover, vitrine.JPEG),
			spec("t", 200, 200, vitrine.Contain, vitrine.JPEG),
		}, size{600, 300}},
		{"rounds up", 1000, 999, []vitrine.Spec{spec("c", 200, 200, vitrine.Cover, vitrine.JPEG)}, size{201, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, h := decodeSize(tt.w, tt.h, tt.specs)
			if got := (size{w, h}); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	var src bytes.Buffer
	if err := jpeg.Encode(&src, pattern(3000, 2000), &jpeg.Options{Quality: 90}); err != nil {
		b.Fatalf("encode jpeg: %v", err)
	}
	r := NewRenderer()
	specs := vitrine.DefaultSpecs()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Render(ctx, src.Bytes(), specs); err != nil {
			b.Fatal(err)
		}
	}
}

func TestStripWebPRejectsBrokenFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"not riff", []byte("RIFX\x00\x00\x00\x00WEBP")},
		{"short chunk header", []byte("RIFF\x08\x00\x00\x00WEBPVP8")},
		{"chunk past the end", []byte("RIFF\x10\x00\x00\x00WEBPVP8 \xff\x00\x00\x00")},
		{"empty vp8x", []byte("RIFF\x0c\x00\x00\x00WEBPVP8X\x00\x00\x00\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := stripWebP(tt.data); err == nil {
				t.Errorf("got nil, want an error")
			}
		})
	}
}

// noteSpecs are the design note's two renditions: thumbnail and medium.
func noteSpecs() []vitrine.Spec { return vitrine.DefaultSpecs()[:2] }

// TestFlattenFirstMatches checks the shortcut for alpha PNGs rendered only
// to JPEG (flatten, then shrink) against the general path (shrink with
// premultiplied alpha, then flatten): the same picture.
func TestFlattenFirstMatches(t *testing.T) {
	t.Parallel()
	img := halfTransparent(scene(900, 600))
	for y := range 600 {
		for x := 450; x < 900; x++ {
			c := img.NRGBAAt(x, y)
			c.A = uint8(x * y % 256) // every alpha level, not only 0 and 255
			img.SetNRGBA(x, y, c)
		}
	}
	src := encodePNG(t, img)
	jpg := spec("t", 200, 200, vitrine.Contain, vitrine.JPEG)
	flat := renderPixels(t, src, jpg)
	// A WebP twin of the same box forces the general path, with the same
	// decode size.
	res, err := NewRenderer().Render(context.Background(), src, []vitrine.Spec{jpg, spec("w", 200, 200, vitrine.Contain, vitrine.WebP)})
	if err != nil {
		t.Fatal(err)
	}
	general, err := decodePreview(res.Renditions[0].Data, vitrine.PreviewSize)
	if err != nil {
		t.Fatal(err)
	}
	if flat.Bounds() != general.Bounds() {
		t.Fatalf("got %v, want %v", flat.Bounds(), general.Bounds())
	}
	worst, sum := 0, 0
	for i := range flat.Pix {
		d := int(flat.Pix[i]) - int(general.Pix[i])
		worst, sum = max(worst, d, -d), sum+max(d, -d)
	}
	// JPEG noise moves single pixels by a few levels; a wrong background
	// (black instead of white) or a lost alpha moves many by 100 and more.
	if mean := float64(sum) / float64(len(flat.Pix)); mean > 2 || worst > 32 {
		t.Fatalf("flatten-first differs from the general path: mean %.1f, worst %d levels; want at most 2 and 32", mean, worst)
	}
}

// TestRenderMemoryKinds checks that the estimate tells the costly decodes
// (progressive JPEG, PNG with alpha) from the cheap ones, and that it
// always covers at least the fixed cost and the file.
func TestRenderMemoryKinds(t *testing.T) {
	t.Parallel()
	img := scene(400, 300)
	var baseline, opaquePNG, alphaPNG bytes.Buffer
	if err := jpeg.Encode(&baseline, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&opaquePNG, img); err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&alphaPNG, halfTransparent(img)); err != nil {
		t.Fatal(err)
	}
	progressive := fixture(t, img, fixtureProgressiveJPEG)
	r := NewRenderer()
	// Per 12 MP: the estimate's bytes per pixel stand out of the fixed part.
	const w, h = 4000, 3000
	perPixel := func(src []byte) float64 {
		return float64(r.RenderMemory(src, w, h)-24<<20-2*int64(len(src))) / (w * h)
	}
	for _, tt := range []struct {
		name string
		src  []byte
		want float64
	}{
		{"baseline JPEG", baseline.Bytes(), 2},
		{"progressive JPEG", progressive, 9},
		{"truncated JPEG", baseline.Bytes()[:20], 9},
		{"opaque PNG", opaquePNG.Bytes(), 4},
		{"PNG with alpha", alphaPNG.Bytes(), 7},
		{"unknown bytes", []byte("not an image"), 9},
	} {
		if got := perPixel(tt.src); got != tt.want {
			t.Errorf("%s: got %.1f bytes per pixel, want %.1f", tt.name, got, tt.want)
		}
	}
}
