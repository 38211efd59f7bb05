package metadata

import (
	"encoding/binary"
	"io"
	"slices"
	"strings"
)

// maxWebP is the largest WebP file Clean reads. Uploads are capped far
// below it (vitrine.DefaultMaxBytes is 5 MiB).
const maxWebP = 64 << 20

// VP8X flags that announce the metadata chunks (WebP container
// specification, "Extended File Format").
const (
	vp8xEXIF = 0x08
	vp8xXMP  = 0x04
)

// webp cleans a WebP. The RIFF header states the size of the whole file,
// and dst is a plain io.Writer: the output's size is known only once every
// chunk has been seen, so the file is read whole, up to maxWebP, and
// written once the new size is known. This is simpler than a second pass
// over an io.ReadSeeker, and WebP uploads are a few megabytes.
//
// The image chunks, the ICC profile and the animation chunks are kept
// byte for byte; EXIF, XMP and unknown chunks are dropped, and so is
// anything after the RIFF data. When the first EXIF chunk had an
// orientation of 2..8 and the file has a VP8X header, a minimal EXIF chunk
// takes its place; without VP8X no flag could announce it, readers ignore
// it, and the orientation reported is 1. The VP8X flags are updated to match what remains. A
// simple WebP (one VP8 or VP8L chunk) has no metadata and comes out
// unchanged.
func (c *cleaner) webp() error {
	data, err := io.ReadAll(io.LimitReader(c.r, maxWebP+1))
	if err != nil {
		return readError(err, "webp")
	}
	if len(data) > maxWebP {
		return invalid("webp: file is over %d bytes", maxWebP)
	}
	if len(data) < 12 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return invalid("webp: no RIFF WEBP header")
	}
	size := int64(binary.LittleEndian.Uint32(data[4:8]))
	if size < 4 || size+8 > int64(len(data)) {
		return invalid("webp: RIFF size %d for a file of %d bytes", size, len(data))
	}

	var chunks [][]byte // what follows "WEBP" in the output
	vp8x := -1          // index of the VP8X chunk in chunks
	exifSeen, exifKept := false, false
	body := data[12 : size+8]
	if len(body) == 0 {
		return invalid("webp: no chunks")
	}
	for first := true; len(body) > 0; first = false {
		if len(body) < 8 {
			return invalid("webp: chunk header runs past the end")
		}
		fourcc := string(body[0:4])
		n := int64(binary.LittleEndian.Uint32(body[4:8]))
		end := 8 + n + n%2 // payloads are padded to an even size
		if end > int64(len(body)) {
			return invalid("webp: chunk %q runs past the end", fourcc)
		}
		chunk, payload := body[:end], body[8:8+n]
		body = body[end:]
		if first && fourcc != "VP8 " && fourcc != "VP8L" && fourcc != "VP8X" {
			return invalid("webp: first chunk is %q", fourcc)
		}

		switch fourcc {
		case "VP8X":
			if !first {
				return invalid("webp: VP8X is not the first chunk")
			}
			if n != 10 {
				return invalid("webp: VP8X chunk of %d bytes, not 10", n)
			}
			vp8x = len(chunks)
			chunks = append(chunks, slices.Clone(chunk)) // its flags change below
		case "VP8 ", "VP8L", "ALPH", "ANIM", "ANMF", "ICCP":
			chunks = append(chunks, chunk)
		case "EXIF":
			c.remove("EXIF")
			if exifSeen {
				continue
			}
			exifSeen = true
			if vp8x < 0 {
				// Without VP8X no flag announces the EXIF and readers
				// ignore it: the picture is shown as stored, upright.
				continue
			}
			c.res.Orientation = orientation(payload)
			if c.res.Orientation != 1 {
				chunks = append(chunks, webpChunk("EXIF", minimalTIFF(c.res.Orientation)))
				exifKept = true
			}
		default:
			c.remove(strings.TrimRight(fourcc, " ")) // "XMP " is "XMP"
		}
	}
	if size+8 < int64(len(data)) {
		c.remove("trailer")
	}
	if vp8x >= 0 {
		flags := &chunks[vp8x][8]
		*flags &^= vp8xEXIF | vp8xXMP
		if exifKept {
			*flags |= vp8xEXIF
		}
	}

	total := 4 // "WEBP"
	for _, ch := range chunks {
		total += len(ch)
	}
	c.w.WriteString("RIFF")
	c.w.Write(binary.LittleEndian.AppendUint32(nil, uint32(total)))
	c.w.WriteString("WEBP")
	for _, ch := range chunks {
		c.w.Write(ch)
	}
	return nil
}

// webpChunk returns a chunk with its header and padding.
func webpChunk(fourcc string, payload []byte) []byte {
	ch := append([]byte(fourcc), binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))...)
	ch = append(ch, payload...)
	if len(payload)%2 == 1 {
		ch = append(ch, 0)
	}
	return ch
}
