package metadata

import (
	"bytes"
	"encoding/binary"
)

// exifHeader starts the payload of a JPEG Exif APP1 segment. PNG eXIf and
// WebP EXIF chunks hold bare TIFF data, but some writers put it there too.
const exifHeader = "Exif\x00\x00"

// tagOrientation is the TIFF tag of the EXIF orientation, and typeShort the
// TIFF type it must have (a 16-bit unsigned integer).
const (
	tagOrientation = 0x0112
	typeShort      = 3
)

// orientation returns the orientation stored in IFD0 of the TIFF data
// (optionally preceded by exifHeader). It returns 1 when the data is not
// TIFF, when IFD0 or the tag is missing or runs past the end, when the tag
// is not exactly one SHORT, and when its value is outside 1..8. Every
// offset is checked against len(tiff), so no input makes it panic.
func orientation(tiff []byte) int {
	tiff = bytes.TrimPrefix(tiff, []byte(exifHeader))
	if len(tiff) < 8 {
		return 1
	}
	var order binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		order = binary.LittleEndian
	case "MM\x00*":
		order = binary.BigEndian
	default:
		return 1
	}
	// int64 keeps offsets up to 4 GiB from overflowing on 32-bit platforms.
	size := int64(len(tiff))
	ifd := int64(order.Uint32(tiff[4:8]))
	if ifd+2 > size {
		return 1
	}
	count := int64(order.Uint16(tiff[ifd:]))
	for i := range count {
		entry := ifd + 2 + 12*i
		if entry+12 > size {
			return 1
		}
		e := tiff[entry : entry+12]
		if order.Uint16(e[0:2]) != tagOrientation {
			continue
		}
		if order.Uint16(e[2:4]) != typeShort || order.Uint32(e[4:8]) != 1 {
			return 1
		}
		// A single SHORT sits in the first two bytes of the value field.
		v := int(order.Uint16(e[8:10]))
		if v < 1 || v > 8 {
			return 1
		}
		return v
	}
	return 1
}

// minimalTIFF returns the TIFF data Clean writes in place of the original
// EXIF: a big-endian header and an IFD0 with the one orientation entry and
// no next IFD. It is always the same 26 bytes for a given orientation,
// which makes cleaning a cleaned file give the same bytes again.
func minimalTIFF(o int) []byte {
	return []byte{
		'M', 'M', 0x00, '*', // big-endian TIFF
		0, 0, 0, 8, // IFD0 right after the header
		0, 1, // one entry
		0x01, 0x12, 0, typeShort, 0, 0, 0, 1, 0, byte(o), 0, 0, // orientation, SHORT, count 1, value
		0, 0, 0, 0, // no next IFD
	}
}
