package metadata_test

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"slices"
	"strings"
	"testing"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/metadata"
)

// encodeJPEG returns a baseline JPEG as image/jpeg writes it: SOI, tables,
// one scan and EOI, without any metadata.
func encodeJPEG(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gradient(48, 32), &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// jpegSeg returns a marker segment with the payload parts.
func jpegSeg(marker byte, parts ...string) []byte {
	payload := []byte(strings.Join(parts, ""))
	return slices.Concat([]byte{0xFF, marker}, binary.BigEndian.AppendUint16(nil, uint16(len(payload)+2)), payload)
}

// Segments of a phone photo.
var (
	jfifSeg  = jpegSeg(0xE0, "JFIF\x00", "\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	iccSeg   = jpegSeg(0xE2, "ICC_PROFILE\x00", "\x01\x01", "fake ICC profile: Display P3")
	adobeSeg = jpegSeg(0xEE, "Adobe", "\x00\x64\x00\x00\x00\x00\x01")
)

// phoneJPEG wraps the image data of plain (a JPEG without metadata) in the
// segments a phone writes, with EXIF orientation o. It returns the photo
// and what Clean must make of it.
func phoneJPEG(plain []byte, o uint16) (in, want []byte) {
	exif := jpegSeg(0xE1, "Exif\x00\x00", string(cameraTIFF(binary.LittleEndian, o)))
	in = slices.Concat(
		plain[:2], // SOI
		jfifSeg,
		exif,
		jpegSeg(0xE1, "http://ns.adobe.com/xap/1.0/\x00", xmpPacket()),
		jpegSeg(0xE1, "http://ns.adobe.com/xmp/extension/\x00", "0123456789ABCDEF0123456789ABCDEF", "\x00\x00\x01\x00\x00\x00\x00\x00", xmpPacket()),
		iccSeg,
		jpegSeg(0xE2, "FPXR\x00", "\x00\x01", cameraModel),
		jpegSeg(0xE2, "MPF\x00", "MM\x00*\x00\x00\x00\x08"),
		jpegSeg(0xE3, "META", cameraSerial),
		jpegSeg(0xED, "Photoshop 3.0\x00", "8BIM\x04\x04\x00\x00\x00\x00\x00\x10", "\x1c\x02\x5a\x00\x05Paris", "\x1c\x02\x74\x00\x04Jane"),
		adobeSeg,
		jpegSeg(0xFE, commentText),
		plain[2:len(plain)-2],
		jpegSeg(0xFE, commentText), // after the scan, before EOI
		plain[len(plain)-2:],       // EOI
	)
	var orient []byte
	if o >= 2 && o <= 8 {
		orient = jpegSeg(0xE1, "Exif\x00\x00", string(minimalTIFF(o)))
	}
	want = slices.Concat(plain[:2], jfifSeg, orient, iccSeg, adobeSeg, plain[2:])
	return in, want
}

// phoneRemoved is what Clean removes from a phoneJPEG.
var phoneRemoved = []string{"EXIF", "XMP", "FPXR", "MPF", "APP3", "IPTC", "COM"}

func TestCleanJPEG(t *testing.T) {
	t.Parallel()
	plain := encodeJPEG(t)
	phone6, want6 := phoneJPEG(plain, 6)
	phone1, want1 := phoneJPEG(plain, 1)
	phone9, want9 := phoneJPEG(plain, 9)
	exif := func(o uint16) []byte {
		return jpegSeg(0xE1, "Exif\x00\x00", string(cameraTIFF(binary.BigEndian, o)))
	}
	tests := []struct {
		name string
		in   []byte
		want []byte
		res  metadata.Result
	}{
		{"phone photo, orientation 6", phone6, want6, metadata.Result{Orientation: 6, Removed: phoneRemoved}},
		{"orientation 1 writes no EXIF", phone1, want1, metadata.Result{Orientation: 1, Removed: phoneRemoved}},
		{"invalid orientation 9 writes no EXIF", phone9, want9, metadata.Result{Orientation: 1, Removed: phoneRemoved}},
		{
			"trailer after EOI",
			slices.Concat(phone6, []byte(trailerText)),
			want6,
			metadata.Result{Orientation: 6, Removed: append(slices.Clone(phoneRemoved), "trailer")},
		},
		{"no metadata", plain, plain, metadata.Result{Orientation: 1}},
		{
			"first EXIF wins",
			slices.Concat(plain[:2], exif(3), exif(6), plain[2:]),
			slices.Concat(plain[:2], jpegSeg(0xE1, "Exif\x00\x00", string(minimalTIFF(3))), plain[2:]),
			metadata.Result{Orientation: 3, Removed: []string{"EXIF"}},
		},
		{
			"EXIF without orientation",
			slices.Concat(plain[:2], jpegSeg(0xE1, "Exif\x00\x00", "II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00"), plain[2:]),
			plain,
			metadata.Result{Orientation: 1, Removed: []string{"EXIF"}},
		},
		{
			"other APP0 and APP14 are dropped",
			slices.Concat(plain[:2], jfifSeg, jpegSeg(0xE0, "AVI1", cameraMake), jpegSeg(0xEE, "Ducky", cameraMake), plain[2:]),
			slices.Concat(plain[:2], jfifSeg, plain[2:]),
			metadata.Result{Orientation: 1, Removed: []string{"APP0", "APP14"}},
		},
		{
			"fill bytes and stray bytes between segments",
			slices.Concat(plain[:2], []byte{0xFF, 0xFF}, jfifSeg, []byte("junk\xFF\x00"), exif(8), []byte{0xFF, 0xFF, 0xFF}, plain[2:]),
			slices.Concat(plain[:2], jfifSeg, jpegSeg(0xE1, "Exif\x00\x00", string(minimalTIFF(8))), plain[2:]),
			metadata.Result{Orientation: 8, Removed: []string{"EXIF"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := checkClean(t, vitrine.JPEG, tt.in, tt.want, tt.res)
			samePixels(t, tt.in, out)
		})
	}
}

// TestCleanJPEGScans checks the entropy-coded data of several scans, with
// stuffed bytes, restart markers and fill bytes, and the segments between
// scans. The data is not a decodable image: Clean never decodes.
func TestCleanJPEGScans(t *testing.T) {
	t.Parallel()
	dqt := jpegSeg(0xDB, "\x00", string(bytes.Repeat([]byte{1}, 64)))
	dri := jpegSeg(0xDD, "\x00\x04")
	sos := jpegSeg(0xDA, "\x01\x01\x00\x00\x3f\x00")
	dht := jpegSeg(0xC4, "\x10\x00")
	scan1 := []byte("\x12\xFF\x00\x34\xFF\xD0\x56\xFF\xFF\x00\x78\xFF\xD7\x9A")
	scan2 := []byte("\xBC\xFF\x00")
	late := slices.Concat(
		jpegSeg(0xE1, "Exif\x00\x00", string(cameraTIFF(binary.LittleEndian, 6))),
		jpegSeg(0xE1, "http://ns.adobe.com/xap/1.0/\x00", xmpPacket()),
		jpegSeg(0xFE, commentText),
	)
	in := slices.Concat([]byte{0xFF, 0xD8}, dqt, dri, sos, scan1, []byte{0xFF, 0xFF}, late, dht, sos, scan2, []byte{0xFF, 0xFF, 0xD9})
	want := slices.Concat([]byte{0xFF, 0xD8}, dqt, dri, sos, scan1, dht, sos, scan2, []byte{0xFF, 0xD9})
	// An EXIF block after the first scan is one browsers never read.
	checkClean(t, vitrine.JPEG, in, want, metadata.Result{Orientation: 1, Removed: []string{"EXIF", "XMP", "COM"}})
}

func TestCleanJPEGInvalid(t *testing.T) {
	t.Parallel()
	plain := encodeJPEG(t)
	phone, _ := phoneJPEG(plain, 6)
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"not a JPEG", []byte("\x89PNG\r\n\x1a\n")},
		{"segment length 1", slices.Concat(plain[:2], []byte{0xFF, 0xE1, 0x00, 0x01}, plain[2:])},
		{"segment past the end", slices.Concat(plain[:2], []byte{0xFF, 0xDB, 0x01, 0x00, 0x00})},
		{"EOI before SOS", slices.Concat(plain[:2], jfifSeg, []byte{0xFF, 0xD9})},
		{"SOI inside", slices.Concat(plain[:2], jfifSeg, plain)},
		{"no EOI", plain[:len(plain)-2]},
		{"only fill bytes", slices.Concat(plain[:2], bytes.Repeat([]byte{0xFF}, 100))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := metadata.Clean(&bytes.Buffer{}, bytes.NewReader(tt.in), vitrine.JPEG)
			checkInvalid(t, err)
		})
	}
	t.Run("every truncation", func(t *testing.T) {
		t.Parallel()
		for n := range len(phone) {
			_, err := metadata.Clean(&bytes.Buffer{}, bytes.NewReader(phone[:n]), vitrine.JPEG)
			checkInvalid(t, err)
		}
	})
}

// jpegSegment is one marker segment of a cleaned JPEG.
type jpegSegment struct {
	marker  byte
	payload []byte
}

// jpegSegments returns the segments of a cleaned JPEG from SOI to the
// first SOS. A cleaned JPEG has no fill bytes, so any byte out of place
// fails the test.
func jpegSegments(t testing.TB, data []byte) []jpegSegment {
	t.Helper()
	if !bytes.HasPrefix(data, []byte{0xFF, 0xD8}) {
		t.Fatalf("output does not start with SOI: %q", clip(data))
	}
	var segs []jpegSegment
	for rest := data[2:]; ; {
		if len(rest) < 2 || rest[0] != 0xFF {
			t.Fatalf("no marker where one must be: %q", clip(rest))
		}
		m := rest[1]
		if m == 0x01 || m >= 0xD0 && m <= 0xD7 {
			rest = rest[2:]
			continue
		}
		if len(rest) < 4 {
			t.Fatalf("segment 0x%02X is cut short", m)
		}
		n := int(binary.BigEndian.Uint16(rest[2:4]))
		if n < 2 || 2+n > len(rest) {
			t.Fatalf("segment 0x%02X has length %d with %d bytes left", m, n, len(rest))
		}
		segs = append(segs, jpegSegment{m, rest[4 : 2+n]})
		if m == 0xDA {
			return segs
		}
		rest = rest[2+n:]
	}
}

func FuzzCleanJPEG(f *testing.F) {
	plain := encodeJPEG(f)
	phone, _ := phoneJPEG(plain, 6)
	f.Add(plain)
	f.Add(phone)
	f.Add(slices.Concat(phone, []byte(trailerText)))
	f.Add(slices.Concat(plain[:2], jpegSeg(0xE1, "Exif\x00\x00", string(minimalTIFF(3))), plain[2:]))
	f.Add([]byte("\xFF\xD8\xFF\xDA\x00\x08\x01\x01\x00\x00\x3f\x00\x12\xFF\x00\xFF\xD0\xFF\xFF\xFF\xE1\x00\x02\xFF\xD9"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzClean(t, vitrine.JPEG, in)
	})
}
