package vips

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitrine/vitrine"
)

// The golden tests render a generated corpus of hard inputs with the
// default rendition set and compare each rendition's size, format and
// perceptual hash (never its bytes, which change with any libvips or codec
// update) with testdata/golden. Regenerate with: go test ./vips -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/golden from the current renderer")

// goldenRendition is what a golden file keeps of one rendition.
type goldenRendition struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"`
	DHash  string `json:"dhash"` // 64-bit difference hash of the luma, hex
}

// maxHashDistance is how many of the 64 hash bits may differ from the golden
// value: small encoder changes move a bit or two, a wrong rotation, crop or
// colour space moves dozens.
const maxHashDistance = 6

// goldenCase is one input of the edge corpus.
type goldenCase struct {
	name string
	make func(t *testing.T) []byte
}

func goldenCases() []goldenCase {
	cases := []goldenCase{
		{"cmyk-jpeg", func(t *testing.T) []byte { return fixture(t, scene(400, 300), fixtureCMYKJPEG) }},
		{"progressive-jpeg", func(t *testing.T) []byte { return fixture(t, scene(640, 480), fixtureProgressiveJPEG) }},
		{"grey-alpha-png", func(t *testing.T) []byte { return fixture(t, halfTransparent(scene(300, 300)), fixtureGreyAlphaPNG) }},
		{"16bit-png", func(t *testing.T) []byte { return encodePNG(t, to16(scene(500, 400))) }},
		{"palette-transparent-png", func(t *testing.T) []byte { return encodePNG(t, paletted(scene(320, 240))) }},
		{"p3-png", func(t *testing.T) []byte {
			return pngWithICC(t, encodePNG(t, solid(64, 64, p3Sample)), iccProfile(displayP3, 2.2))
		}},
		{"p3-jpeg", func(t *testing.T) []byte {
			return jpegWithICC(encodeJPEG(t, solid(64, 64, p3Sample)), iccProfile(displayP3, 2.2))
		}},
		{"adobergb-jpeg", func(t *testing.T) []byte {
			return jpegWithICC(encodeJPEG(t, solid(64, 64, p3Sample)), iccProfile(adobeRGB, 563.0/256))
		}},
		{"tiny-1x1-png", func(t *testing.T) []byte { return encodePNG(t, solid(1, 1, color.NRGBA{200, 10, 10, 255})) }},
		{"tiny-1x1-jpeg", func(t *testing.T) []byte { return encodeJPEG(t, solid(1, 1, color.NRGBA{200, 10, 10, 255})) }},
		{"extreme-5000x200-jpeg", func(t *testing.T) []byte { return encodeJPEG(t, scene(5000, 200)) }},
	}
	for o := 1; o <= 8; o++ {
		cases = append(cases, goldenCase{fmt.Sprintf("orientation-%d", o), func(t *testing.T) []byte {
			return withEXIF(encodeJPEG(t, storedFor(scene(300, 200), o)), uint16(o))
		}})
	}
	return cases
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, gc := range goldenCases() {
		t.Run(gc.name, func(t *testing.T) {
			t.Parallel()
			got := renderGolden(t, gc.make(t))
			path := filepath.Join("testdata", "golden", gc.name+".json")
			if *update {
				data, _ := json.MarshalIndent(got, "", "  ")
				if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			var want map[string]goldenRendition
			if err := json.Unmarshal(data, &want); err != nil {
				t.Fatal(err)
			}
			for name, w := range want {
				g, ok := got[name]
				if !ok {
					t.Errorf("%s: missing", name)
					continue
				}
				if g.Width != w.Width || g.Height != w.Height || g.Format != w.Format {
					t.Errorf("%s: got %dx%d %s, want %dx%d %s", name, g.Width, g.Height, g.Format, w.Width, w.Height, w.Format)
				}
				if d := hashDistance(g.DHash, w.DHash); d > maxHashDistance {
					t.Errorf("%s: hash %s is %d bits from the golden %s (at most %d)", name, g.DHash, d, w.DHash, maxHashDistance)
				}
			}
			if len(got) != len(want) {
				t.Errorf("got %d renditions, want %d", len(got), len(want))
			}
		})
	}
}

// renderGolden renders the default set and describes each output.
func renderGolden(t *testing.T, src []byte) map[string]goldenRendition {
	t.Helper()
	res, err := NewRenderer().Render(context.Background(), src, vitrine.DefaultSpecs())
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	out := map[string]goldenRendition{}
	for _, r := range res.Renditions {
		if f := vitrine.SniffFormat(r.Data); f != r.Spec.Format {
			t.Errorf("%s: got %s bytes, want %s", r.Spec.Name, f, r.Spec.Format)
		}
		out[r.Spec.Name] = goldenRendition{Width: r.Width, Height: r.Height, Format: string(r.Spec.Format), DHash: dhash(t, r.Data)}
	}
	return out
}

// TestOrientationsAllUpright checks every EXIF orientation against the
// upright original: same size and nearly the same picture.
func TestOrientationsAllUpright(t *testing.T) {
	t.Parallel()
	upright := renderGolden(t, encodeJPEG(t, scene(300, 200)))
	for o := 1; o <= 8; o++ {
		t.Run(fmt.Sprint(o), func(t *testing.T) {
			t.Parallel()
			got := renderGolden(t, withEXIF(encodeJPEG(t, storedFor(scene(300, 200), o)), uint16(o)))
			for name, want := range upright {
				g := got[name]
				if g.Width != want.Width || g.Height != want.Height {
					t.Errorf("%s: got %dx%d, want %dx%d", name, g.Width, g.Height, want.Width, want.Height)
				}
				if d := hashDistance(g.DHash, want.DHash); d > maxHashDistance {
					t.Errorf("%s: %d hash bits from the upright picture", name, d)
				}
			}
		})
	}
}

// TestColourProfiles checks that tagged colours are converted to sRGB: a
// Display P3 or Adobe RGB pixel comes out as the sRGB colour that looks the
// same, not as the same numbers (which would wash it out).
func TestColourProfiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		src       []byte
		primaries [3][3]float64
		gamma     float64
	}{
		{"p3 png", pngWithICC(t, encodePNG(t, solid(64, 64, p3Sample)), iccProfile(displayP3, 2.2)), displayP3, 2.2},
		{"p3 jpeg", jpegWithICC(encodeJPEG(t, solid(64, 64, p3Sample)), iccProfile(displayP3, 2.2)), displayP3, 2.2},
		{"adobe rgb jpeg", jpegWithICC(encodeJPEG(t, solid(64, 64, p3Sample)), iccProfile(adobeRGB, 563.0/256)), adobeRGB, 563.0 / 256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := toSRGB(p3Sample, tt.primaries, tt.gamma)
			for _, f := range []vitrine.Format{vitrine.JPEG, vitrine.WebP, vitrine.PNG} {
				img := renderPixels(t, tt.src, spec("x", 32, 32, vitrine.Contain, f))
				got := img.NRGBAAt(16, 16)
				if !close3(got, want, 6) {
					t.Errorf("%s: got %v, want about %v (untagged would be %v)", f, got, want, p3Sample)
				}
			}
		})
	}
	t.Run("cmyk", func(t *testing.T) {
		t.Parallel()
		c := color.NRGBA{40, 120, 200, 255}
		img := renderPixels(t, fixture(t, solid(64, 64, c), fixtureCMYKJPEG), spec("x", 32, 32, vitrine.Contain, vitrine.JPEG))
		if got := img.NRGBAAt(16, 16); !close3(got, c, 20) {
			t.Errorf("got %v, want about %v", got, c)
		}
	})
}

// TestAlphaPerFormat: JPEG flattens transparency onto white, WebP and PNG
// keep it.
func TestAlphaPerFormat(t *testing.T) {
	t.Parallel()
	src := fixture(t, halfTransparent(scene(200, 200)), fixtureGreyAlphaPNG)
	for _, tt := range []struct {
		f         vitrine.Format
		wantAlpha uint8
	}{{vitrine.JPEG, 255}, {vitrine.WebP, 0}, {vitrine.PNG, 0}} {
		img := renderPixels(t, src, spec("x", 100, 100, vitrine.Contain, tt.f))
		px := img.NRGBAAt(5, 50) // in the transparent left half
		if px.A != tt.wantAlpha {
			t.Errorf("%s: got alpha %d, want %d", tt.f, px.A, tt.wantAlpha)
		}
		if tt.f == vitrine.JPEG && (px.R < 250 || px.G < 250 || px.B < 250) {
			t.Errorf("jpeg: got %v where transparent, want white", px)
		}
	}
}

func renderPixels(t *testing.T, src []byte, sp vitrine.Spec) *image.NRGBA {
	t.Helper()
	img, err := decodePreview(renderOne(t, src, sp), vitrine.PreviewSize)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func fixture(t *testing.T, img *image.NRGBA, kind int) []byte {
	t.Helper()
	data, err := encodeFixture(img, kind)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// scene is an asymmetric picture: waves in two directions, a red block top
// left and a dark bar along the bottom, so that its hash has structure and
// any flip or rotation changes it.
func scene(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			c := color.NRGBA{
				uint8(128 + 110*math.Sin(2*math.Pi*(3*fx+fy))),
				uint8(128 + 110*math.Cos(2*math.Pi*(2*fy-fx))),
				uint8(255 * fx), 255}
			if x < w/4 && y < h/3 {
				c = color.NRGBA{230, 20, 20, 255}
			}
			if y > h*5/6 {
				c = color.NRGBA{20, 20, 60, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

func solid(w, h int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	return img
}

// halfTransparent clears the left half of img.
func halfTransparent(img *image.NRGBA) *image.NRGBA {
	b := img.Bounds()
	for y := range b.Dy() {
		for x := range b.Dx() / 2 {
			img.SetNRGBA(x, y, color.NRGBA{})
		}
	}
	return img
}

func to16(img *image.NRGBA) *image.NRGBA64 {
	out := image.NewNRGBA64(img.Bounds())
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			c := img.NRGBAAt(x, y)
			out.SetNRGBA64(x, y, color.NRGBA64{uint16(c.R) * 257, uint16(c.G) * 257, uint16(c.B) * 257, 0xFFFF})
		}
	}
	return out
}

// paletted quantizes img to 16 colours with index 0 transparent, used for
// the top-right quarter.
func paletted(img *image.NRGBA) *image.Paletted {
	pal := color.Palette{color.NRGBA{}}
	for i := range 15 {
		pal = append(pal, color.NRGBA{uint8(i * 17), uint8(255 - i*17), 160, 255})
	}
	pal[1] = color.NRGBA{230, 20, 20, 255}
	b := img.Bounds()
	out := image.NewPaletted(b, pal)
	for y := range b.Dy() {
		for x := range b.Dx() {
			if x > b.Dx()/2 && y < b.Dy()/2 {
				out.SetColorIndex(x, y, 0)
				continue
			}
			out.SetColorIndex(x, y, uint8(pal[1:].Index(img.NRGBAAt(x, y))+1))
		}
	}
	return out
}

// storedFor returns the pixels a camera stores for orientation o so that a
// viewer applying o shows display. Orientations 2, 3, 4, 5 and 7 undo
// themselves; 6 (turn 90 degrees clockwise to display) is undone by 8, and
// 8 by 6.
func storedFor(display *image.NRGBA, o int) *image.NRGBA {
	inverse := map[int]int{6: 8, 8: 6}
	if i, ok := inverse[o]; ok {
		o = i
	}
	return applyOrientation(display, o)
}

// applyOrientation transforms img as a viewer does for EXIF orientation o.
func applyOrientation(img *image.NRGBA, o int) *image.NRGBA {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 1:
				dx, dy = x, y
			case 2: // mirror horizontally
				dx, dy = w-1-x, y
			case 3: // rotate 180
				dx, dy = w-1-x, h-1-y
			case 4: // mirror vertically
				dx, dy = x, h-1-y
			case 5: // transpose
				dx, dy = y, x
			case 6: // rotate 90 clockwise
				dx, dy = h-1-y, x
			case 7: // transverse
				dx, dy = h-1-y, w-1-x
			case 8: // rotate 90 counter-clockwise
				dx, dy = y, w-1-x
			}
			out.SetNRGBA(dx, dy, img.NRGBAAt(x, y))
		}
	}
	return out
}

// dhash is the 64-bit difference hash of a picture's luma: 9x8 box
// averages, one bit per horizontal neighbour comparison.
func dhash(t *testing.T, data []byte) string {
	t.Helper()
	img, err := decodePreview(data, vitrine.PreviewSize)
	if err != nil {
		t.Fatalf("decode rendition: %v", err)
	}
	b := img.Bounds()
	var cells [8][9]float64
	for cy := range 8 {
		for cx := range 9 {
			x0, x1 := cx*b.Dx()/9, max((cx+1)*b.Dx()/9, cx*b.Dx()/9+1)
			y0, y1 := cy*b.Dy()/8, max((cy+1)*b.Dy()/8, cy*b.Dy()/8+1)
			sum, n := 0.0, 0.0
			for y := y0; y < min(y1, b.Dy()); y++ {
				for x := x0; x < min(x1, b.Dx()); x++ {
					c := img.NRGBAAt(x, y)
					a := float64(c.A) / 255 // composite on white, as a page would show it
					lum := 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
					sum += lum*a + 255*(1-a)
					n++
				}
			}
			if n > 0 {
				cells[cy][cx] = sum / n
			}
		}
	}
	var h uint64
	for cy := range 8 {
		for cx := range 8 {
			h <<= 1
			if cells[cy][cx] > cells[cy][cx+1]+1 {
				h |= 1
			}
		}
	}
	return fmt.Sprintf("%016x", h)
}

func hashDistance(a, b string) int {
	var x, y uint64
	fmt.Sscanf(a, "%x", &x)
	fmt.Sscanf(b, "%x", &y)
	return bits.OnesCount64(x ^ y)
}

func close3(a, b color.NRGBA, tol int) bool {
	d := func(x, y uint8) bool { return int(x)-int(y) <= tol && int(y)-int(x) <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}

// Colour science for the profile tests. Primaries are the XYZ (D50, as ICC
// profiles store them) of each channel at full strength, columns R, G, B.
var (
	p3Sample  = color.NRGBA{200, 120, 60, 255}
	displayP3 = [3][3]float64{{0.5151, 0.2920, 0.1571}, {0.2412, 0.6922, 0.0666}, {-0.0011, 0.0419, 0.7841}}
	adobeRGB  = [3][3]float64{{0.6097, 0.2053, 0.1492}, {0.3111, 0.6257, 0.0632}, {0.0195, 0.0609, 0.7446}}
	sRGBD50   = [3][3]float64{{0.4361, 0.3851, 0.1431}, {0.2225, 0.7169, 0.0606}, {0.0139, 0.0971, 0.7141}}
)

// toSRGB converts a colour in a gamma + primaries space to 8-bit sRGB.
func toSRGB(c color.NRGBA, m [3][3]float64, gamma float64) color.NRGBA {
	lin := [3]float64{math.Pow(float64(c.R)/255, gamma), math.Pow(float64(c.G)/255, gamma), math.Pow(float64(c.B)/255, gamma)}
	var xyz [3]float64
	for i := range 3 {
		xyz[i] = m[i][0]*lin[0] + m[i][1]*lin[1] + m[i][2]*lin[2]
	}
	inv := invert3(sRGBD50)
	var out [3]uint8
	for i := range 3 {
		v := inv[i][0]*xyz[0] + inv[i][1]*xyz[1] + inv[i][2]*xyz[2]
		v = max(0, min(1, v))
		if v <= 0.0031308 {
			v *= 12.92
		} else {
			v = 1.055*math.Pow(v, 1/2.4) - 0.055
		}
		out[i] = uint8(math.Round(v * 255))
	}
	return color.NRGBA{out[0], out[1], out[2], 255}
}

func invert3(m [3][3]float64) [3][3]float64 {
	a, b, c := m[0][0], m[0][1], m[0][2]
	d, e, f := m[1][0], m[1][1], m[1][2]
	g, h, i := m[2][0], m[2][1], m[2][2]
	det := a*(e*i-f*h) - b*(d*i-f*g) + c*(d*h-e*g)
	return [3][3]float64{
		{(e*i - f*h) / det, (c*h - b*i) / det, (b*f - c*e) / det},
		{(f*g - d*i) / det, (a*i - c*g) / det, (c*d - a*f) / det},
		{(d*h - e*g) / det, (b*g - a*h) / det, (a*e - b*d) / det},
	}
}

// iccProfile builds a minimal ICC v2 RGB display profile: D50 white point,
// the given primaries and one gamma curve for all three channels.
func iccProfile(m [3][3]float64, gamma float64) []byte {
	return namedICCProfile("test", m, gamma)
}

// namedICCProfile is iccProfile with the given description.
func namedICCProfile(name string, m [3][3]float64, gamma float64) []byte {
	s15 := func(v float64) uint32 { return uint32(int32(math.Round(v * 65536))) }
	xyz := func(x, y, z float64) []byte {
		b := []byte("XYZ \x00\x00\x00\x00")
		return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(b, s15(x)), s15(y)), s15(z))
	}
	curve := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint32([]byte("curv\x00\x00\x00\x00"), 1), uint16(math.Round(gamma*256)))
	desc := []byte("desc\x00\x00\x00\x00")
	desc = binary.BigEndian.AppendUint32(desc, uint32(len(name)+1))
	desc = append(desc, name+"\x00"...)
	desc = append(desc, make([]byte, 4+4+2+1+67)...) // empty Unicode and ScriptCode parts
	tags := []struct {
		sig  string
		data []byte
	}{
		{"desc", desc},
		{"wtpt", xyz(0.9642, 1.0, 0.8249)},
		{"rXYZ", xyz(m[0][0], m[1][0], m[2][0])},
		{"gXYZ", xyz(m[0][1], m[1][1], m[2][1])},
		{"bXYZ", xyz(m[0][2], m[1][2], m[2][2])},
		{"rTRC", curve}, {"gTRC", curve}, {"bTRC", curve},
		{"cprt", []byte("text\x00\x00\x00\x00none\x00")},
	}
	offset := 128 + 4 + 12*len(tags)
	var table, body bytes.Buffer
	binary.Write(&table, binary.BigEndian, uint32(len(tags)))
	for _, tag := range tags {
		for offset%4 != 0 {
			body.WriteByte(0)
			offset++
		}
		table.WriteString(tag.sig)
		binary.Write(&table, binary.BigEndian, uint32(offset))
		binary.Write(&table, binary.BigEndian, uint32(len(tag.data)))
		body.Write(tag.data)
		offset += len(tag.data)
	}
	header := make([]byte, 128)
	binary.BigEndian.PutUint32(header[0:], uint32(offset))
	copy(header[8:], []byte{2, 0x10, 0, 0}) // version 2.1
	copy(header[12:], "mntrRGB XYZ ")
	copy(header[36:], "acsp")
	binary.BigEndian.PutUint32(header[68:], s15(0.9642))
	binary.BigEndian.PutUint32(header[72:], s15(1.0))
	binary.BigEndian.PutUint32(header[76:], s15(0.8249))
	return append(append(header, table.Bytes()...), body.Bytes()...)
}

// pngWithICC inserts an iCCP chunk right after IHDR.
func pngWithICC(t *testing.T, data, profile []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(profile)
	zw.Close()
	var chunk bytes.Buffer
	writeChunk(&chunk, "iCCP", append([]byte("test\x00\x00"), z.Bytes()...))
	const afterIHDR = 8 + 25
	return append(append(append([]byte{}, data[:afterIHDR]...), chunk.Bytes()...), data[afterIHDR:]...)
}

// jpegWithICC inserts an APP2 ICC_PROFILE segment right after SOI.
func jpegWithICC(jpg, profile []byte) []byte {
	payload := append([]byte("ICC_PROFILE\x00\x01\x01"), profile...)
	seg := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE2}, uint16(2+len(payload)))
	seg = append(seg, payload...)
	return append(append(append([]byte{}, jpg[:2]...), seg...), jpg[2:]...)
}
