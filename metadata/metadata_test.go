package metadata_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	_ "image/jpeg" // image.Decode of the JPEG tests
	_ "image/png"  // image.Decode of the PNG tests
	"io"
	"runtime"
	"slices"
	"testing"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/metadata"
)

// Strings the test metadata carries and no output may contain.
const (
	cameraMake   = "AcmeCam"
	cameraModel  = "AcmeCam Z9 Pro"
	cameraSerial = "SN-0042-XYZZY"
	software     = "AcmeOS 4.2"
	commentText  = "Shot at 12 Rue des Lilas"
	trailerText  = "MotionPhoto GPS 48.8566N"
)

// secrets lists what must not survive cleaning.
var secrets = []string{"GPS", cameraMake, cameraModel, cameraSerial, software, commentText,
	"xmpmeta", "Photoshop", "MotionPhoto"}

// TIFF types used by the test EXIF blocks.
const (
	tiffASCII     = 2
	tiffShort     = 3
	tiffLong      = 4
	tiffRational  = 5
	tiffUndefined = 7
)

// byteOrder is a TIFF byte order, little or big endian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// ifdEntry is one entry of a TIFF IFD. value holds the value bytes in the
// file's byte order.
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    []byte
}

// tiffHeader returns a TIFF header whose IFD0 follows it at offset 8.
func tiffHeader(order byteOrder) []byte {
	h := []byte("MM\x00*")
	if order == binary.LittleEndian {
		h = []byte("II*\x00")
	}
	return order.AppendUint32(h, 8)
}

// appendIFD appends an IFD, with no next IFD, to the TIFF data in tiff and
// the values longer than 4 bytes after it; offsets count from tiff[0].
func appendIFD(order byteOrder, tiff []byte, entries []ifdEntry) []byte {
	extra := len(tiff) + 2 + 12*len(entries) + 4
	var data []byte
	tiff = order.AppendUint16(tiff, uint16(len(entries)))
	for _, e := range entries {
		tiff = order.AppendUint16(tiff, e.tag)
		tiff = order.AppendUint16(tiff, e.typ)
		tiff = order.AppendUint32(tiff, e.count)
		if len(e.value) <= 4 {
			tiff = append(tiff, e.value...)
			tiff = append(tiff, make([]byte, 4-len(e.value))...)
			continue
		}
		tiff = order.AppendUint32(tiff, uint32(extra+len(data)))
		data = append(data, e.value...)
		if len(data)%2 == 1 {
			data = append(data, 0) // values start on a word boundary
		}
	}
	tiff = order.AppendUint32(tiff, 0)
	return append(tiff, data...)
}

func ascii(s string) ifdEntry {
	return ifdEntry{typ: tiffASCII, count: uint32(len(s) + 1), value: append([]byte(s), 0)}
}

func orientationEntry(order byteOrder, o uint16) ifdEntry {
	return ifdEntry{tag: 0x0112, typ: tiffShort, count: 1, value: order.AppendUint16(nil, o)}
}

// cameraTIFF returns EXIF data as a phone writes it: IFD0 with make, model,
// orientation o, software and date, an Exif IFD with the body serial
// number, and a GPS IFD with a position.
func cameraTIFF(order byteOrder, o uint16) []byte {
	tagged := func(tag uint16, e ifdEntry) ifdEntry { e.tag = tag; return e }
	ifd0 := func(exifAt, gpsAt int) []ifdEntry {
		return []ifdEntry{
			tagged(0x010F, ascii(cameraMake)),
			tagged(0x0110, ascii(cameraModel)),
			orientationEntry(order, o),
			tagged(0x0131, ascii(software)),
			tagged(0x0132, ascii("2024:05:01 12:00:00")),
			{tag: 0x8769, typ: tiffLong, count: 1, value: order.AppendUint32(nil, uint32(exifAt))},
			{tag: 0x8825, typ: tiffLong, count: 1, value: order.AppendUint32(nil, uint32(gpsAt))},
		}
	}
	exif := []ifdEntry{
		tagged(0x9003, ascii("2024:05:01 12:00:00")),
		tagged(0xA431, ascii(cameraSerial)),
	}
	var lat []byte
	for _, v := range []uint32{48, 1, 51, 1, 2376, 100} {
		lat = order.AppendUint32(lat, v)
	}
	gps := []ifdEntry{
		tagged(0x0001, ascii("N")),
		{tag: 0x0002, typ: tiffRational, count: 3, value: lat},
		{tag: 0x001B, typ: tiffUndefined, count: 17, value: []byte("ASCII\x00\x00\x00GPS-FUSED")},
	}

	// IFD0's size does not depend on the offsets it holds: measure it with
	// zero offsets, lay out the sub-IFDs after it, then write it for real.
	ifd0Len := len(appendIFD(order, tiffHeader(order), ifd0(0, 0)))
	rest := appendIFD(order, make([]byte, ifd0Len), exif)
	gpsAt := len(rest)
	rest = appendIFD(order, rest, gps)
	tiff := appendIFD(order, tiffHeader(order), ifd0(ifd0Len, gpsAt))
	return append(tiff, rest[ifd0Len:]...)
}

// minimalTIFF returns the EXIF block a cleaned file must carry for
// orientation o, built with the test's own TIFF writer: a big-endian
// header and IFD0 with the orientation entry and nothing else.
func minimalTIFF(o uint16) []byte {
	return appendIFD(binary.BigEndian, tiffHeader(binary.BigEndian), []ifdEntry{orientationEntry(binary.BigEndian, o)})
}

// xmpPacket returns an XMP packet with a GPS position and the camera.
func xmpPacket() string {
	return `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
		`<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.2376N"` +
		` exif:BodySerialNumber="` + cameraSerial + `"/></rdf:RDF></x:xmpmeta>`
}

// checkClean checks everything a successful Clean promises about one
// input: the result, the exact output bytes, that no secret is left, and
// that the EXIF blocks of the output are at most the minimal one.
func checkClean(t *testing.T, f vitrine.Format, in, want []byte, wantRes metadata.Result) []byte {
	t.Helper()
	var out bytes.Buffer
	res, err := metadata.Clean(&out, bytes.NewReader(in), f)
	if err != nil {
		t.Fatalf("Clean: got error %v, want nil", err)
	}
	if res.Orientation != wantRes.Orientation {
		t.Errorf("Orientation: got %v, want %v", res.Orientation, wantRes.Orientation)
	}
	if !slices.Equal(res.Removed, wantRes.Removed) {
		t.Errorf("Removed: got %q, want %q", res.Removed, wantRes.Removed)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output: got %d bytes %q\nwant %d bytes %q", out.Len(), clip(out.Bytes()), len(want), clip(want))
	}
	for _, s := range secrets {
		if bytes.Contains(out.Bytes(), []byte(s)) {
			t.Errorf("output contains %q", s)
		}
	}
	checkExif(t, f, out.Bytes(), res.Orientation)
	return out.Bytes()
}

// clip shortens a byte dump in a failure message.
func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// checkExif checks that the cleaned file out holds no EXIF block for
// orientation 1, and otherwise exactly one: the minimal one for o. A WebP
// without a VP8X chunk holds none, since no flag could announce it.
func checkExif(t testing.TB, f vitrine.Format, out []byte, o int) {
	t.Helper()
	blocks := exifBlocks(t, f, out)
	if o == 1 || f == vitrine.WebP && webpChunks(t, out)[0].fourcc != "VP8X" {
		if len(blocks) != 0 {
			t.Errorf("EXIF blocks for orientation 1: got %q, want none", blocks)
		}
		return
	}
	if len(blocks) != 1 || !bytes.Equal(blocks[0], minimalTIFF(uint16(o))) {
		t.Errorf("EXIF blocks: got %q, want [%q]", blocks, minimalTIFF(uint16(o)))
	}
}

// exifBlocks returns the TIFF data of every EXIF segment or chunk of a
// cleaned file, and fails the test if the file is not well formed.
func exifBlocks(t testing.TB, f vitrine.Format, out []byte) [][]byte {
	t.Helper()
	var blocks [][]byte
	switch f {
	case vitrine.JPEG:
		for _, s := range jpegSegments(t, out) {
			if s.marker == 0xE1 && bytes.HasPrefix(s.payload, []byte("Exif\x00\x00")) {
				blocks = append(blocks, s.payload[6:])
			}
		}
	case vitrine.PNG:
		for _, c := range pngChunks(t, out) {
			if c.typ == "eXIf" {
				if !c.crcOK {
					t.Errorf("eXIf chunk has a bad CRC")
				}
				blocks = append(blocks, c.data)
			}
		}
	case vitrine.WebP:
		for _, c := range webpChunks(t, out) {
			if c.fourcc == "EXIF" {
				blocks = append(blocks, c.payload)
			}
		}
	}
	return blocks
}

// checkInvalid checks that err is the Invalid *vitrine.Error of a
// malformed image.
func checkInvalid(t *testing.T, err error) {
	t.Helper()
	var e *vitrine.Error
	if !errors.As(err, &e) {
		t.Fatalf("error: got %v, want an *vitrine.Error", err)
	}
	if e.Kind != vitrine.Invalid || e.Err == nil {
		t.Errorf("error: got kind %v cause %v, want kind %v and a cause", e.Kind, e.Err, vitrine.Invalid)
	}
	const msg = "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
	if e.Message != msg {
		t.Errorf("message: got %q, want %q", e.Message, msg)
	}
}

// samePixels decodes two images and checks that every pixel is equal.
func samePixels(t *testing.T, a, b []byte) {
	t.Helper()
	ia, _, err := image.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatalf("decode input: %v", err)
	}
	ib, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode output: %v", err)
	}
	if ia.Bounds() != ib.Bounds() {
		t.Fatalf("bounds: got %v, want %v", ib.Bounds(), ia.Bounds())
	}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := ia.At(x, y).RGBA()
			r2, g2, b2, a2 := ib.At(x, y).RGBA()
			if [4]uint32{r1, g1, b1, a1} != [4]uint32{r2, g2, b2, a2} {
				t.Fatalf("pixel (%d,%d): got %v, want %v", x, y, ib.At(x, y), ia.At(x, y))
			}
		}
	}
}

// gradient returns an image with varied colours and alpha, so encoders
// produce non-trivial data.
func gradient(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			img.Pix[i+0] = uint8(x * 255 / w)
			img.Pix[i+1] = uint8(y * 255 / h)
			img.Pix[i+2] = uint8((x*7 + y*13) % 256)
			img.Pix[i+3] = uint8(128 + (x+y)%128)
		}
	}
	return img
}

func TestCleanUnsupportedFormat(t *testing.T) {
	t.Parallel()
	for _, f := range []vitrine.Format{vitrine.AVIF, vitrine.GIF, vitrine.HEIC, ""} {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			_, err := metadata.Clean(io.Discard, bytes.NewReader([]byte("GIF89a")), f)
			if !errors.Is(err, metadata.ErrUnsupportedFormat) {
				t.Errorf("error: got %v, want %v", err, metadata.ErrUnsupportedFormat)
			}
		})
	}
}

var (
	errRead  = errors.New("connection reset")
	errWrite = errors.New("disk full")
)

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write(p []byte) (int, error) { return 0, errWrite }

// failingReader returns data, then errRead instead of io.EOF.
type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errRead
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestCleanIOErrors checks that I/O errors are returned as they are, not
// as an invalid image.
func TestCleanIOErrors(t *testing.T) {
	t.Parallel()
	inputs := []struct {
		f    vitrine.Format
		data []byte
	}{
		{vitrine.JPEG, encodeJPEG(t)},
		{vitrine.PNG, encodePNG(t)},
		{vitrine.WebP, simpleWebP()},
	}
	for _, in := range inputs {
		t.Run(string(in.f)+"/write", func(t *testing.T) {
			t.Parallel()
			_, err := metadata.Clean(failingWriter{}, bytes.NewReader(in.data), in.f)
			if !errors.Is(err, errWrite) || vitrine.KindOf(err) != vitrine.Internal {
				t.Errorf("error: got %v (kind %v), want %v", err, vitrine.KindOf(err), errWrite)
			}
		})
		t.Run(string(in.f)+"/read", func(t *testing.T) {
			t.Parallel()
			src := &failingReader{data: in.data[:len(in.data)/2]}
			_, err := metadata.Clean(io.Discard, src, in.f)
			if !errors.Is(err, errRead) || vitrine.KindOf(err) != vitrine.Internal {
				t.Errorf("error: got %v (kind %v), want %v", err, vitrine.KindOf(err), errRead)
			}
		})
	}
}

// TestCleanStreams checks that Clean streams large JPEG and PNG files
// instead of reading them whole. It is not parallel: it measures the
// allocations of the whole process.
func TestCleanStreams(t *testing.T) {
	const size = 5 << 20
	// Scan data with no 0xFF except stuffed ones.
	data := make([]byte, 0, size)
	for i := 0; len(data) < size; i++ {
		data = append(data, byte(i%255))
		if i%1000 == 0 {
			data = append(data, 0xFF, 0x00)
		}
	}
	jpg := slices.Concat([]byte{0xFF, 0xD8}, jpegSeg(0xDA, "\x01\x01\x00\x00\x3f\x00"), data, []byte{0xFF, 0xD9})
	png := slices.Concat([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", make([]byte, 13)), pngChunk("IDAT", data), pngChunk("IEND", nil))

	for _, in := range []struct {
		f    vitrine.Format
		data []byte
	}{{vitrine.JPEG, jpg}, {vitrine.PNG, png}} {
		var out bytes.Buffer
		out.Grow(len(in.data))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := metadata.Clean(&out, bytes.NewReader(in.data), in.f)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: Clean: %v", in.f, err)
		}
		if !bytes.Equal(out.Bytes(), in.data) {
			t.Errorf("%s: output differs from the input", in.f)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: allocated %d bytes for a %d-byte file, want at most 1 MiB", in.f, n, len(in.data))
		}
	}
}

// fuzzClean checks the invariants of Clean on any input: it never panics,
// fails only with Invalid on a reader and writer that cannot fail, is
// idempotent, and leaves at most the minimal EXIF block.
func fuzzClean(t *testing.T, f vitrine.Format, in []byte) {
	var out bytes.Buffer
	res, err := metadata.Clean(&out, bytes.NewReader(in), f)
	if err != nil {
		if vitrine.KindOf(err) != vitrine.Invalid {
			t.Fatalf("error: got %v (kind %v), want kind %v", err, vitrine.KindOf(err), vitrine.Invalid)
		}
		return
	}
	if res.Orientation < 1 || res.Orientation > 8 {
		t.Fatalf("Orientation: got %v, want 1..8", res.Orientation)
	}
	var again bytes.Buffer
	res2, err := metadata.Clean(&again, bytes.NewReader(out.Bytes()), f)
	if err != nil {
		t.Fatalf("clean the output again: got error %v, want nil", err)
	}
	if !bytes.Equal(again.Bytes(), out.Bytes()) {
		t.Fatalf("clean the output again: got %q, want %q", clip(again.Bytes()), clip(out.Bytes()))
	}
	if res2.Orientation != res.Orientation {
		t.Fatalf("Orientation the second time: got %v, want %v", res2.Orientation, res.Orientation)
	}
	checkExif(t, f, out.Bytes(), res.Orientation)
}
