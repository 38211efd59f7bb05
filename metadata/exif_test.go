package metadata_test

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/vitrine/vitrine"
	"github.com/vitrine/vitrine/metadata"
)

// TestOrientation checks that the EXIF orientation is read robustly, in
// each format: both byte orders, and 1 for anything that is not exactly
// one SHORT of 1..8 inside the data.
func TestOrientation(t *testing.T) {
	t.Parallel()
	le, be := binary.LittleEndian, binary.BigEndian
	makeEntry := ascii(cameraMake)
	makeEntry.tag = 0x010F
	one := func(e ifdEntry) []byte { return appendIFD(le, tiffHeader(le), []ifdEntry{e}) }
	tests := []struct {
		name string
		tiff []byte
		want int
	}{
		{"little endian", cameraTIFF(le, 6), 6},
		{"big endian", cameraTIFF(be, 8), 8},
		{"minimal", minimalTIFF(2), 2},
		{"orientation 1", cameraTIFF(le, 1), 1},
		{"orientation 0", cameraTIFF(le, 0), 1},
		{"orientation 9", cameraTIFF(be, 9), 1},
		{"LONG, not SHORT", one(ifdEntry{0x0112, 4, 1, le.AppendUint32(nil, 6)}), 1},
		{"count 2", one(ifdEntry{0x0112, 3, 2, []byte{6, 0, 6, 0}}), 1},
		{"no orientation", one(makeEntry), 1},
		{"IFD0 past the end", slices.Concat([]byte("II*\x00"), le.AppendUint32(nil, 1000)), 1},
		{"IFD0 at 4 GiB", slices.Concat([]byte("MM\x00*"), be.AppendUint32(nil, 0xFFFFFFFF)), 1},
		{"entries past the end", slices.Concat(tiffHeader(le), le.AppendUint16(nil, 3), one(makeEntry)[10:22]), 1},
		{"entry cut short", one(orientationEntry(le, 6))[:20], 1},
		{"not TIFF", []byte("XX*\x00\x08\x00\x00\x00\x00\x00"), 1},
		{"header only", tiffHeader(be), 1},
		{"empty", nil, 1},
	}
	plainJPEG, plainPNG := encodeJPEG(t), encodePNG(t)
	ihdrEnd := len(pngSignature) + 25
	wrap := map[vitrine.Format]func(tiff []byte) []byte{
		vitrine.JPEG: func(tiff []byte) []byte {
			return slices.Concat(plainJPEG[:2], jpegSeg(0xE1, "Exif\x00\x00", string(tiff)), plainJPEG[2:])
		},
		vitrine.PNG: func(tiff []byte) []byte {
			return slices.Concat(plainPNG[:ihdrEnd], pngChunk("eXIf", tiff), plainPNG[ihdrEnd:])
		},
		vitrine.WebP: func(tiff []byte) []byte {
			return webpFile(vp8x(flagEXIF), riffChunk("VP8L", []byte(vp8lPixel)), riffChunk("EXIF", tiff))
		},
	}
	for _, tt := range tests {
		for f, wrap := range wrap {
			t.Run(string(f)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				var out bytes.Buffer
				res, err := metadata.Clean(&out, bytes.NewReader(wrap(tt.tiff)), f)
				if err != nil {
					t.Fatalf("Clean: got error %v, want nil", err)
				}
				if res.Orientation != tt.want {
					t.Errorf("Orientation: got %v, want %v", res.Orientation, tt.want)
				}
				checkExif(t, f, out.Bytes(), tt.want)
			})
		}
	}
}
