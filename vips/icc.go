package vips

import (
	"bytes"
	"encoding/binary"
	"unicode/utf16"
)

// iccIsSRGB reports whether an ICC profile describes itself as sRGB: its
// 'desc' tag (ICC v2 text, or v4 multi-localized Unicode) starts with
// "sRGB", as the profiles of cameras, Photoshop, GIMP and browsers do
// ("sRGB IEC61966-2.1", "sRGB built-in", "sRGB v4 ICC preference"). A
// CMYK, Display P3 or Adobe RGB profile never does. Anything malformed is
// not sRGB, so it is converted, which is always correct.
func iccIsSRGB(profile []byte) bool {
	if len(profile) < 132 || string(profile[16:20]) != "RGB " {
		return false
	}
	be := binary.BigEndian
	count := int(be.Uint32(profile[128:]))
	for i := 0; i < count && 132+12*(i+1) <= len(profile); i++ {
		entry := profile[132+12*i:]
		if string(entry[:4]) != "desc" {
			continue
		}
		off, size := int(be.Uint32(entry[4:])), int(be.Uint32(entry[8:]))
		if off < 0 || size < 12 || off+size > len(profile) || off+size < off {
			return false
		}
		return bytes.HasPrefix([]byte(descText(profile[off:off+size])), []byte("sRGB"))
	}
	return false
}

// descText returns the text of a 'desc' (v2) or 'mluc' (v4) tag.
func descText(tag []byte) string {
	be := binary.BigEndian
	switch string(tag[:4]) {
	case "desc": // type, reserved, ASCII count, ASCII text
		n := int(be.Uint32(tag[8:]))
		if n <= 0 || 12+n > len(tag) {
			return ""
		}
		return string(bytes.TrimRight(tag[12:12+n], "\x00"))
	case "mluc": // type, reserved, record count, record size, records
		if len(tag) < 28 {
			return ""
		}
		length, offset := int(be.Uint32(tag[20:])), int(be.Uint32(tag[24:]))
		if length < 2 || offset+length > len(tag) || offset < 0 {
			return ""
		}
		units := make([]uint16, length/2)
		for i := range units {
			units[i] = be.Uint16(tag[offset+2*i:])
		}
		return string(utf16.Decode(units))
	}
	return ""
}
