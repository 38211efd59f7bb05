// Package metadata removes location and camera metadata from uploaded
// originals without re-encoding them. vitrine serves the original as
// uploaded, and a phone photo carries GPS coordinates, the camera's serial
// number, XMP and IPTC. Clean drops those and keeps the rest byte for byte,
// so the pixels decode exactly as before. When the image had an EXIF
// orientation other than 1, Clean writes a minimal EXIF block holding only
// that orientation, so that browsers still show the picture upright.
//
// Clean keeps what decoding needs: JPEG tables, ICC colour profiles, the
// Adobe marker of CMYK JPEGs, and the PNG and WebP chunks that change
// colours, transparency or animation. It drops everything else, including
// unknown application segments and chunks and any bytes after the end of
// the image, where phones append motion-photo videos and gain maps that
// carry metadata of their own.
package metadata

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/vitrine/vitrine"
)

// Result says what Clean found and did.
type Result struct {
	// Orientation is the EXIF orientation found, 1..8; it is 1 when the
	// image had none or an invalid one. When it is 2..8 the output carries
	// a minimal EXIF block with that orientation and nothing else.
	Orientation int
	// Removed names what was removed, once each and in the order first
	// found, for logs and tests: "EXIF", "XMP", "IPTC", "COM", "APP3",
	// "tEXt", "trailer" (bytes after the end of the image), ...
	Removed []string
}

// ErrUnsupportedFormat is returned, wrapped, by Clean for a format it
// cannot clean; only JPEG, PNG and WebP are supported.
var ErrUnsupportedFormat = errors.New("metadata: unsupported format")

// invalidMessage is the client-safe message of every malformed image, the
// same one vitrine gives when a file is not an image at all.
const invalidMessage = "Upload a valid image. The file you uploaded was either not an image or a corrupted image."

// maxMetadataChunk bounds the metadata Clean reads into memory to parse it
// (a PNG eXIf chunk). Real EXIF blocks are a few tens of kilobytes.
const maxMetadataChunk = 16 << 20

// Clean copies the image in src to dst without its metadata, byte for byte
// otherwise. f is the format sniffed from the bytes (vitrine.SniffFormat).
// The image data (JPEG scans, PNG IDAT, WebP VP8/VP8L/ALPH/ANMF) and what
// decoding needs are copied unchanged, so the output decodes to exactly the
// same pixels; see the package documentation for what is kept.
//
// JPEG and PNG are streamed a segment or chunk at a time and never held
// whole in memory. A WebP file is read whole, and refused over 64 MiB,
// because its RIFF header states the size of the output, which is known
// only once every chunk has been seen.
//
// A malformed or truncated image returns an *vitrine.Error of kind Invalid
// whose Err says what was wrong. A failed read of src or write to dst
// returns the wrapped I/O error, and a format other than JPEG, PNG or WebP
// returns an error wrapping ErrUnsupportedFormat. After an error dst may
// hold a partial copy, which the caller must discard. Clean never panics.
func Clean(dst io.Writer, src io.Reader, f vitrine.Format) (Result, error) {
	c := &cleaner{
		r:   bufio.NewReaderSize(src, 32<<10),
		w:   bufio.NewWriterSize(dst, 32<<10),
		buf: make([]byte, 32<<10),
		res: Result{Orientation: 1},
	}
	var err error
	switch f {
	case vitrine.JPEG:
		err = c.jpeg()
	case vitrine.PNG:
		err = c.png()
	case vitrine.WebP:
		err = c.webp()
	default:
		return Result{}, fmt.Errorf("%w: %q", ErrUnsupportedFormat, f)
	}
	if err != nil {
		return Result{}, err
	}
	if err := c.w.Flush(); err != nil {
		return Result{}, fmt.Errorf("metadata: write: %w", err)
	}
	return c.res, nil
}

// cleaner holds the state of one Clean call.
type cleaner struct {
	r *bufio.Reader
	// w buffers dst. A bufio.Writer keeps its first error and returns it
	// from every later call and from Flush, so writes are not checked one
	// by one: Clean checks them once, at Flush. After a failed write it
	// still reads src to the end of the image, which the upload limit
	// bounds.
	w   *bufio.Writer
	buf []byte // scratch space of copyN
	res Result
}

// readFull fills p from src; what names the part being read, for the error.
func (c *cleaner) readFull(p []byte, what string) error {
	if _, err := io.ReadFull(c.r, p); err != nil {
		return readError(err, what)
	}
	return nil
}

// copyN copies n bytes from src to dst through buf, so that large image
// data is never held whole in memory.
func (c *cleaner) copyN(n int64, what string) error {
	for n > 0 {
		p := c.buf[:min(n, int64(len(c.buf)))]
		if err := c.readFull(p, what); err != nil {
			return err
		}
		c.w.Write(p) // checked at Flush
		n -= int64(len(p))
	}
	return nil
}

// discard skips n bytes of src.
func (c *cleaner) discard(n int64, what string) error {
	if _, err := io.CopyN(io.Discard, c.r, n); err != nil {
		return readError(err, what)
	}
	return nil
}

// remove records that Clean dropped something called name.
func (c *cleaner) remove(name string) {
	if !slices.Contains(c.res.Removed, name) {
		c.res.Removed = append(c.res.Removed, name)
	}
}

// readError turns a failed read into Clean's error: running out of bytes
// means the image is truncated (Invalid); anything else is an I/O error of
// src, such as a body over its limit, and is returned wrapped, as is.
func readError(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("%s: file is truncated", what)
	}
	return fmt.Errorf("metadata: read %s: %w", what, err)
}

// invalid returns the Invalid *vitrine.Error of a malformed image; the
// formatted text says what was wrong and is only logged.
func invalid(format string, args ...any) error {
	return &vitrine.Error{
		Kind:    vitrine.Invalid,
		Message: invalidMessage,
		Err:     fmt.Errorf("metadata: "+format, args...),
	}
}
