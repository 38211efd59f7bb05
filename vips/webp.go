package vips

import (
	"encoding/binary"
	"errors"
	"slices"
)

// WebP extended-format (VP8X) flags for the metadata chunks.
const (
	vp8xICC  = 0x20
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

// stripWebP drops the ICCP, EXIF and XMP chunks from a WebP file and clears
// their flags in the VP8X header. libvips 8.14's webpsave ignores strip and
// always writes an EXIF chunk, rebuilt from the image's size and resolution
// even when every metadata field was removed beforehand; only the file
// itself can be cleaned. The picture chunks are copied byte for byte.
func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, errors.New("strip webp: not a RIFF WEBP file")
	}
	out := make([]byte, 0, len(data))
	out = append(out, data[:12]...)
	rest := data[12:]
	for len(rest) > 0 {
		if len(rest) < 8 {
			return nil, errors.New("strip webp: short chunk header")
		}
		fourcc := string(rest[:4])
		size := int(binary.LittleEndian.Uint32(rest[4:8]))
		end := 8 + size + size%2 // chunks are padded to an even size
		if size < 0 || end > len(rest) {
			return nil, errors.New("strip webp: chunk runs past the end")
		}
		chunk := rest[:end]
		rest = rest[end:]

		switch fourcc {
		case "ICCP", "EXIF", "XMP ":
			continue
		case "VP8X":
			if size < 1 {
				return nil, errors.New("strip webp: empty VP8X chunk")
			}
			chunk = slices.Clone(chunk)
			chunk[8] &^= vp8xICC | vp8xEXIF | vp8xXMP
		}
		out = append(out, chunk...)
	}
	binary.LittleEndian.PutUint32(out[4:8], uint32(len(out)-8))
	return out, nil
}
