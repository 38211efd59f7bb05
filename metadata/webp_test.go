package metadata_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"slices"
	"testing"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/metadata"
)

// vp8lPixel is the VP8L payload of a lossless 1x1 image, one transparent
// black pixel. There is no WebP encoder in the standard library; this is
// the image of the smallest lossless WebP file, Modernizr's feature test
// (see TestSimpleWebP), which libvips 8.14 loads as 1x1 with 4 bands. Its
// 13 bytes also exercise the padding of odd-sized chunks.
const vp8lPixel = "\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07"

// VP8X flags.
const (
	flagICC   = 0x20
	flagAlpha = 0x10
	flagEXIF  = 0x08
	flagXMP   = 0x04
	flagAnim  = 0x02
)

// riffChunk returns a chunk with its header and padding.
func riffChunk(fourcc string, payload []byte) []byte {
	c := binary.LittleEndian.AppendUint32([]byte(fourcc), uint32(len(payload)))
	c = append(c, payload...)
	if len(payload)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// webpFile returns a RIFF WEBP file with the chunks.
func webpFile(chunks ...[]byte) []byte {
	body := slices.Concat(chunks...)
	f := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(4+len(body)))
	f = append(f, "WEBP"...)
	return append(f, body...)
}

// vp8x returns the VP8X chunk of a 1x1 canvas with the flags.
func vp8x(flags byte) []byte {
	return riffChunk("VP8X", []byte{flags, 0, 0, 0, 0, 0, 0, 0, 0, 0})
}

// simpleWebP returns a simple-format WebP: one VP8L chunk, no metadata.
func simpleWebP() []byte {
	return webpFile(riffChunk("VP8L", []byte(vp8lPixel)))
}

// TestSimpleWebP checks that vp8lPixel is where it comes from.
func TestSimpleWebP(t *testing.T) {
	t.Parallel()
	const modernizr = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="
	if got := base64.StdEncoding.EncodeToString(simpleWebP()); got != modernizr {
		t.Errorf("got %v, want %v", got, modernizr)
	}
}

// webpChunk is one chunk of a WebP file.
type webpChunk struct {
	fourcc  string
	payload []byte
	raw     []byte // header, payload and padding
}

// webpChunks returns the chunks of a cleaned WebP, whose RIFF size must
// be exact and whose chunks must fill it.
func webpChunks(t testing.TB, data []byte) []webpChunk {
	t.Helper()
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		t.Fatalf("no RIFF WEBP header: %q", clip(data))
	}
	if size := binary.LittleEndian.Uint32(data[4:8]); int(size) != len(data)-8 {
		t.Fatalf("RIFF size: got %v, want %v", size, len(data)-8)
	}
	var chunks []webpChunk
	for rest := data[12:]; len(rest) > 0; {
		if len(rest) < 8 {
			t.Fatalf("chunk header cut short: %q", rest)
		}
		n := int64(binary.LittleEndian.Uint32(rest[4:8]))
		end := 8 + n + n%2
		if end > int64(len(rest)) {
			t.Fatalf("chunk %q of %d bytes runs past the end", rest[:4], n)
		}
		chunks = append(chunks, webpChunk{string(rest[:4]), rest[8 : 8+n], rest[:end]})
		rest = rest[end:]
	}
	return chunks
}

// imageChunks returns the chunks that hold pixels, in order. Bytes after
// the RIFF data are left out.
func imageChunks(t testing.TB, data []byte) [][]byte {
	t.Helper()
	if size := int(binary.LittleEndian.Uint32(data[4:8])); size+8 < len(data) {
		data = data[:size+8]
	}
	var image [][]byte
	for _, c := range webpChunks(t, data) {
		switch c.fourcc {
		case "VP8 ", "VP8L", "ALPH", "ANMF":
			image = append(image, c.raw)
		}
	}
	return image
}

// phoneWebP returns an extended WebP with an ICC profile, EXIF with
// orientation o, XMP and an unknown chunk, and what Clean must make of it.
func phoneWebP(o uint16) (in, want []byte) {
	iccp := riffChunk("ICCP", []byte("fake ICC profile: Display P3"))
	vp8l := riffChunk("VP8L", []byte(vp8lPixel))
	in = webpFile(
		vp8x(flagICC|flagAlpha|flagEXIF|flagXMP),
		iccp,
		vp8l,
		riffChunk("EXIF", cameraTIFF(binary.LittleEndian, o)),
		riffChunk("XMP ", []byte(xmpPacket())),
		riffChunk("TEST", []byte(cameraSerial)),
	)
	if o < 2 || o > 8 {
		return in, webpFile(vp8x(flagICC|flagAlpha), iccp, vp8l)
	}
	return in, webpFile(vp8x(flagICC|flagAlpha|flagEXIF), iccp, vp8l, riffChunk("EXIF", minimalTIFF(o)))
}

var phoneWebPRemoved = []string{"EXIF", "XMP", "TEST"}

func TestCleanWebP(t *testing.T) {
	t.Parallel()
	phone6, want6 := phoneWebP(6)
	phone1, want1 := phoneWebP(1)
	vp8l := riffChunk("VP8L", []byte(vp8lPixel))
	anim := riffChunk("ANIM", []byte{0, 0, 0, 0, 0, 0})
	anmf := riffChunk("ANMF", slices.Concat(make([]byte, 16), vp8l))
	tests := []struct {
		name string
		in   []byte
		want []byte
		res  metadata.Result
	}{
		{"phone image, orientation 6", phone6, want6, metadata.Result{Orientation: 6, Removed: phoneWebPRemoved}},
		{"orientation 1 writes no EXIF", phone1, want1, metadata.Result{Orientation: 1, Removed: phoneWebPRemoved}},
		{"simple format is unchanged", simpleWebP(), simpleWebP(), metadata.Result{Orientation: 1}},
		{
			"trailer after the RIFF data",
			slices.Concat(phone6, []byte(trailerText)),
			want6,
			metadata.Result{Orientation: 6, Removed: append(slices.Clone(phoneWebPRemoved), "trailer")},
		},
		{
			// Readers ignore an EXIF chunk no VP8X announces: the file
			// shows upright, so its orientation is 1, before and after.
			"EXIF without VP8X is dropped",
			webpFile(vp8l, riffChunk("EXIF", cameraTIFF(binary.BigEndian, 6))),
			simpleWebP(),
			metadata.Result{Orientation: 1, Removed: []string{"EXIF"}},
		},
		{
			"flags of missing chunks are cleared",
			webpFile(vp8x(flagAlpha|flagEXIF|flagXMP), vp8l),
			webpFile(vp8x(flagAlpha), vp8l),
			metadata.Result{Orientation: 1},
		},
		{
			"animation is kept",
			webpFile(vp8x(flagAnim|flagXMP), anim, anmf, anmf, riffChunk("XMP ", []byte(xmpPacket()))),
			webpFile(vp8x(flagAnim), anim, anmf, anmf),
			metadata.Result{Orientation: 1, Removed: []string{"XMP"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := checkClean(t, vitrine.WebP, tt.in, tt.want, tt.res)
			got, want := imageChunks(t, out), imageChunks(t, tt.in)
			if !slices.EqualFunc(got, want, bytes.Equal) {
				t.Errorf("image chunks: got %q, want %q", got, want)
			}
		})
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestCleanWebPInvalid(t *testing.T) {
	t.Parallel()
	phone, _ := phoneWebP(6)
	vp8l := riffChunk("VP8L", []byte(vp8lPixel))
	tests := []struct {
		name string
		in   io.Reader
	}{
		{"empty", bytes.NewReader(nil)},
		{"not RIFF", bytes.NewReader([]byte("RIFX\x04\x00\x00\x00WEBP"))},
		{"not WEBP", bytes.NewReader([]byte("RIFF\x04\x00\x00\x00AVI "))},
		{"RIFF size past the end", bytes.NewReader(slices.Concat([]byte("RIFF\xff\x00\x00\x00WEBP"), vp8l))},
		{"RIFF size under 4", bytes.NewReader([]byte("RIFF\x02\x00\x00\x00WEBP"))},
		{"chunk past the end", bytes.NewReader(webpFile(vp8l, []byte("EXIF\xff\x00\x00\x00")))},
		{"chunk header cut short", bytes.NewReader(webpFile(vp8l, []byte("EXIF")))},
		{"odd RIFF size", bytes.NewReader(webpFile(riffChunk("VP8L", []byte(vp8lPixel))[:21]))},
		{"VP8X not first", bytes.NewReader(webpFile(vp8l, vp8x(0)))},
		{"VP8X of 9 bytes", bytes.NewReader(webpFile(riffChunk("VP8X", make([]byte, 9)), vp8l))},
		{"first chunk unknown", bytes.NewReader(webpFile(riffChunk("EXIF", minimalTIFF(6)), vp8l))},
		{"no chunk", bytes.NewReader(webpFile())},
		{"over 64 MiB", io.MultiReader(
			bytes.NewReader(webpFile(riffChunk("VP8L", []byte(vp8lPixel)))),
			io.LimitReader(zeros{}, 64<<20),
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := metadata.Clean(&bytes.Buffer{}, tt.in, vitrine.WebP)
			checkInvalid(t, err)
		})
	}
	t.Run("every truncation", func(t *testing.T) {
		t.Parallel()
		for n := range len(phone) {
			_, err := metadata.Clean(&bytes.Buffer{}, bytes.NewReader(phone[:n]), vitrine.WebP)
			checkInvalid(t, err)
		}
	})
}

func FuzzCleanWebP(f *testing.F) {
	phone, _ := phoneWebP(6)
	vp8l := riffChunk("VP8L", []byte(vp8lPixel))
	f.Add(simpleWebP())
	f.Add(phone)
	f.Add(slices.Concat(phone, []byte(trailerText)))
	f.Add(webpFile(vp8x(flagAnim|flagXMP), riffChunk("ANIM", make([]byte, 6)), riffChunk("ANMF", slices.Concat(make([]byte, 16), vp8l))))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzClean(t, vitrine.WebP, in)
	})
}
