package metadata

import (
	"bufio"
	"bytes"
	"fmt"
)

// JPEG markers Clean treats specially (ITU-T T.81, table B.1).
const (
	jpegTEM   = 0x01
	jpegRST0  = 0xD0
	jpegRST7  = 0xD7
	jpegSOI   = 0xD8
	jpegEOI   = 0xD9
	jpegSOS   = 0xDA
	jpegAPP0  = 0xE0
	jpegAPP1  = 0xE1
	jpegAPP2  = 0xE2
	jpegAPP13 = 0xED
	jpegAPP14 = 0xEE
	jpegAPP15 = 0xEF
	jpegCOM   = 0xFE
)

// Identifiers at the start of the APPn payloads Clean recognizes.
const (
	jfifHeader   = "JFIF\x00"
	jfxxHeader   = "JFXX\x00"
	xmpHeader    = "http://ns.adobe.com/xap/1.0/\x00"
	xmpExtHeader = "http://ns.adobe.com/xmp/extension/\x00"
	iccHeader    = "ICC_PROFILE\x00"
	mpfHeader    = "MPF\x00"
	fpxrHeader   = "FPXR\x00"
	psHeader     = "Photoshop 3.0\x00"
	adobeHeader  = "Adobe"
)

// jpeg cleans a JPEG. It walks the marker segments, keeps or drops each
// one (jpegDrop), and copies the entropy-coded data of every scan as is.
// Segments between the scans of a progressive JPEG get the same treatment,
// and nothing after EOI is copied. The orientation comes from the first
// Exif APP1 before the first scan, the one browsers read, and its minimal
// replacement takes that segment's place.
func (c *cleaner) jpeg() error {
	var soi [2]byte
	if err := c.readFull(soi[:], "jpeg SOI"); err != nil {
		return err
	}
	if soi != [2]byte{0xFF, jpegSOI} {
		return invalid("jpeg: file does not start with SOI")
	}
	c.w.Write(soi[:])

	scans := 0
	exifSeen := false
	var next byte // a marker jpegScan already read; 0 when there is none
	for {
		m := next
		next = 0
		if m == 0 {
			var err error
			if m, err = c.jpegMarker(); err != nil {
				return err
			}
		}
		switch {
		case m == jpegEOI:
			if scans == 0 {
				return invalid("jpeg: EOI before any SOS")
			}
			c.w.Write([]byte{0xFF, jpegEOI})
			// Bytes after EOI are not part of the image. Phones append
			// motion-photo videos, MPF gain maps and vendor trailers
			// there, each with metadata of its own.
			if _, err := c.r.Peek(1); err == nil {
				c.remove("trailer")
			}
			return nil
		case m == jpegSOI:
			return invalid("jpeg: SOI inside the image")
		case m == jpegTEM, m >= jpegRST0 && m <= jpegRST7:
			// Standalone markers have no length and no payload.
			c.w.Write([]byte{0xFF, m})
			continue
		}

		payload, err := c.jpegSegment(m)
		if err != nil {
			return err
		}
		if m == jpegAPP1 && scans == 0 && !exifSeen && bytes.HasPrefix(payload, []byte(exifHeader)) {
			exifSeen = true
			c.res.Orientation = orientation(payload[len(exifHeader):])
			if c.res.Orientation != 1 {
				c.jpegWrite(jpegAPP1, append([]byte(exifHeader), minimalTIFF(c.res.Orientation)...))
			}
		}
		if name := jpegDrop(m, payload); name != "" {
			c.remove(name)
			continue
		}
		c.jpegWrite(m, payload)
		if m == jpegSOS {
			scans++
			if next, err = c.jpegScan(); err != nil {
				return err
			}
		}
	}
}

// jpegDrop returns the name under which Clean drops a segment with marker
// m and the given payload, or "" to keep it. Only application segments and
// comments are dropped; tables, frame and scan headers are what decoding
// needs. Of the APPn segments Clean keeps JFIF/JFXX (APP0), ICC profiles
// (APP2) for correct colours, and Adobe (APP14), which says how to decode
// CMYK and YCCK.
func jpegDrop(m byte, payload []byte) string {
	has := func(prefix string) bool { return bytes.HasPrefix(payload, []byte(prefix)) }
	switch m {
	case jpegCOM:
		return "COM"
	case jpegAPP0:
		if has(jfifHeader) || has(jfxxHeader) {
			return ""
		}
	case jpegAPP1:
		switch {
		case has(exifHeader):
			return "EXIF"
		case has(xmpHeader), has(xmpExtHeader):
			return "XMP"
		}
	case jpegAPP2:
		switch {
		case has(iccHeader):
			return ""
		case has(mpfHeader):
			return "MPF"
		case has(fpxrHeader):
			return "FPXR"
		}
	case jpegAPP13:
		if has(psHeader) {
			return "IPTC"
		}
	case jpegAPP14:
		if has(adobeHeader) {
			return ""
		}
	}
	if m >= jpegAPP0 && m <= jpegAPP15 {
		return fmt.Sprintf("APP%d", m-jpegAPP0)
	}
	return ""
}

// jpegMarker reads up to and including the next marker and returns its
// code. Fill bytes (0xFF) before a marker are dropped, and so are stray
// bytes between segments, which libjpeg and image/jpeg skip as well;
// neither holds any pixel.
func (c *cleaner) jpegMarker() (byte, error) {
	for {
		b, err := c.r.ReadByte()
		if err != nil {
			return 0, readError(err, "jpeg marker")
		}
		if b != 0xFF {
			continue
		}
		for b == 0xFF {
			if b, err = c.r.ReadByte(); err != nil {
				return 0, readError(err, "jpeg marker")
			}
		}
		// 0xFF 0x00 is a stuffed byte in entropy-coded data; out here it
		// is stray data like any other.
		if b != 0x00 {
			return b, nil
		}
	}
}

// jpegSegment reads the length and payload of the segment that marker m
// starts. A segment is at most 64 KiB, so it is read whole.
func (c *cleaner) jpegSegment(m byte) ([]byte, error) {
	var size [2]byte
	if err := c.readFull(size[:], "jpeg segment length"); err != nil {
		return nil, err
	}
	n := int(size[0])<<8 | int(size[1])
	if n < 2 {
		return nil, invalid("jpeg: segment 0x%02X has length %d", m, n)
	}
	payload := make([]byte, n-2)
	if err := c.readFull(payload, "jpeg segment"); err != nil {
		return nil, err
	}
	return payload, nil
}

// jpegWrite writes a segment with marker m. The caller guarantees that
// payload came from a segment or is a minimal EXIF block, so its length
// fits in the two length bytes.
func (c *cleaner) jpegWrite(m byte, payload []byte) {
	n := len(payload) + 2
	c.w.Write([]byte{0xFF, m, byte(n >> 8), byte(n)})
	c.w.Write(payload)
}

// jpegScan copies the entropy-coded data that follows an SOS header, up to
// the next marker, which it reads and returns. Inside the data a 0xFF is
// followed by 0x00 (a stuffed 0xFF byte) or by a restart marker RSTn;
// both are copied as they are, with any fill bytes before them.
func (c *cleaner) jpegScan() (byte, error) {
	for {
		data, err := c.r.ReadSlice(0xFF)
		if err == bufio.ErrBufferFull {
			c.w.Write(data)
			continue
		}
		if err != nil {
			return 0, readError(err, "jpeg scan")
		}
		c.w.Write(data[:len(data)-1])
		// data ended with a 0xFF; the first other byte says what it starts.
		fills := 1
		b, err := c.r.ReadByte()
		for err == nil && b == 0xFF {
			fills++
			b, err = c.r.ReadByte()
		}
		if err != nil {
			return 0, readError(err, "jpeg scan")
		}
		if b != 0x00 && (b < jpegRST0 || b > jpegRST7) {
			return b, nil // a marker ends the scan; its fill bytes go
		}
		for range fills {
			c.w.WriteByte(0xFF)
		}
		c.w.WriteByte(b)
	}
}
