package metadata

import (
	"encoding/binary"
	"hash/crc32"
	"io"
)

// pngSignature starts every PNG file.
const pngSignature = "\x89PNG\r\n\x1a\n"

// pngKeep reports whether Clean copies a chunk of type typ. Besides the
// critical chunks, these change how the pixels look (transparency, colour
// space, gamma, the ICC profile, background, physical size) or are APNG
// frames.
func pngKeep(typ string) bool {
	switch typ {
	case "IHDR", "PLTE", "IDAT", "IEND",
		"tRNS", "cHRM", "gAMA", "iCCP", "sBIT", "sRGB", "bKGD", "hIST", "pHYs", "sPLT",
		"acTL", "fcTL", "fdAT", "cICP":
		return true
	}
	return false
}

// png cleans a PNG. It walks the chunks: chunks in pngKeep and unknown
// critical chunks (which a decoder must understand, so dropping one could
// change the image) are copied with their CRC, every other chunk is
// dropped, and nothing after IEND is copied. The orientation comes from
// the first eXIf chunk, and its minimal replacement takes its place.
func (c *cleaner) png() error {
	var sig [len(pngSignature)]byte
	if err := c.readFull(sig[:], "png signature"); err != nil {
		return err
	}
	if string(sig[:]) != pngSignature {
		return invalid("png: bad signature")
	}
	c.w.Write(sig[:])

	exifSeen := false
	for first := true; ; first = false {
		var head [8]byte // length and type
		if err := c.readFull(head[:], "png chunk header"); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(head[0:4]))
		typ := string(head[4:8])
		if n > 1<<31-1 {
			return invalid("png: chunk %q has length %d", typ, n)
		}
		if !pngType(typ) {
			return invalid("png: bad chunk type %q", typ)
		}
		if first && typ != "IHDR" {
			return invalid("png: first chunk is %q, not IHDR", typ)
		}
		critical := typ[0]&0x20 == 0 // an upper-case first letter
		switch {
		case pngKeep(typ) || critical:
			c.w.Write(head[:])
			if err := c.copyN(n+4, "png chunk"); err != nil { // payload and CRC
				return err
			}
			if typ == "IEND" {
				// Bytes after IEND are not part of the image.
				if _, err := c.r.Peek(1); err == nil {
					c.remove("trailer")
				}
				return nil
			}
		case typ == "eXIf":
			if n > maxMetadataChunk {
				return invalid("png: eXIf chunk of %d bytes", n)
			}
			// Payload and CRC, which is not checked. It is read as it comes
			// rather than allocated at the length the file claims, so that a
			// short file cannot make Clean allocate 16 MiB.
			exif, err := io.ReadAll(io.LimitReader(c.r, n+4))
			if err != nil {
				return readError(err, "png eXIf chunk")
			}
			if int64(len(exif)) < n+4 {
				return invalid("png eXIf chunk: file is truncated")
			}
			c.remove(typ)
			if exifSeen {
				continue
			}
			exifSeen = true
			c.res.Orientation = orientation(exif[:n])
			if c.res.Orientation != 1 {
				c.pngWrite("eXIf", minimalTIFF(c.res.Orientation))
			}
		default:
			if err := c.discard(n+4, "png chunk"); err != nil {
				return err
			}
			c.remove(typ)
		}
	}
}

// pngType reports whether typ is a valid chunk type: four ASCII letters.
func pngType(typ string) bool {
	for _, b := range []byte(typ) {
		if (b < 'A' || b > 'Z') && (b < 'a' || b > 'z') {
			return false
		}
	}
	return len(typ) == 4
}

// pngWrite writes a chunk with its length and CRC.
func (c *cleaner) pngWrite(typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	c.w.Write(n[:])
	c.w.WriteString(typ)
	c.w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	c.w.Write(crc.Sum(nil))
}
