package vips

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/vitrine/vitrine"
)

// Probe reads the header of the image file at path, never its pixels, so it
// is safe on a decompression bomb. The format is sniffed from the first
// bytes with vitrine.SniffFormat. For a format vitrine does not decode (GIF,
// BMP, TIFF, HEIC, SVG, AVIF, or unknown "") Probe returns only the Format,
// zero size and a nil error: the caller's UploadLimits write the message.
// JPEG, PNG and WebP are opened with their own libvips loader only; Width
// and Height are as displayed (swapped for EXIF orientations 5 to 8),
// Frames counts pages or animation frames. A header libvips cannot read
// returns an Invalid *vitrine.Error; a file that cannot be opened, a plain
// error.
func (r *Renderer) Probe(ctx context.Context, path string) (vitrine.ImageInfo, error) {
	if err := ctx.Err(); err != nil {
		return vitrine.ImageInfo{}, err
	}
	f, err := sniffFile(path)
	if err != nil {
		return vitrine.ImageInfo{}, err
	}
	if formatCode(f) == 0 {
		return vitrine.ImageInfo{Format: f}, nil
	}

	// libvips keeps per-thread state; stay on one thread for the call.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	im := &vimage{}
	defer im.close()
	if err := im.loadFile(f, path, 1); err != nil {
		return vitrine.ImageInfo{}, invalidImage(err)
	}
	return im.info(f), nil
}

// Verify decodes the whole file at path, at reduced scale where the format
// allows it (JPEG and WebP at up to 1/8, PNG in full but streamed), and
// fails on truncation or any decode error. It proves an upload is not
// corrupt before it is accepted. Call it only after the pixel count from
// Probe has passed the upload limits. The scale comes from the file's own
// header, not from info, so a wrong info cannot make it shrink too far. A
// file that is not a decodable JPEG, PNG or WebP returns an Invalid
// *vitrine.Error; a cancelled ctx or a file that cannot be opened, a plain
// error.
func (r *Renderer) Verify(ctx context.Context, path string, _ vitrine.ImageInfo) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Sniff again rather than trust info.Format: the loader must match the
	// bytes.
	f, err := sniffFile(path)
	if err != nil {
		return err
	}
	if formatCode(f) == 0 {
		return invalidImage(fmt.Errorf("format %q cannot be decoded", f))
	}

	// The decode runs at low priority, as renders do: an upload's check
	// must not slow the reads either. lowPriority's thread is locked, as
	// libvips' per-thread state wants.
	return lowPriority(func() error { return decodeReduced(f, path) })
}

// decodeReduced decodes the file at path, in format f, at the scale
// verifyReduce picks, for Verify.
func decodeReduced(f vitrine.Format, path string) error {
	im := &vimage{}
	defer im.close()
	if err := im.loadFile(f, path, 1); err != nil {
		return invalidImage(err)
	}
	if reduce := verifyReduce(f, im.width(), im.height()); reduce > 1 {
		if err := im.loadFile(f, path, reduce); err != nil {
			return invalidImage(err)
		}
	}
	if err := im.avg(); err != nil {
		return invalidImage(err)
	}
	return nil
}

// verifyReduce picks the shrink-on-load factor for Verify from the stored
// width and height: 8, or less for a side under 8 px. libjpeg scales by 1/2,
// 1/4 or 1/8 and libwebp to a size; either must keep at least one pixel, for
// libvips 8.14 aborts the whole process (a failed assertion, not an error)
// on a JPEG shrunk on load to zero rows, a 1x1 JPEG at 1/8 for one.
func verifyReduce(f vitrine.Format, width, height int) int {
	side := min(width, height)
	switch f {
	case vitrine.JPEG:
		r := 8
		for r > 1 && r > side {
			r /= 2
		}
		return r
	case vitrine.WebP:
		return max(1, min(8, side))
	}
	return 1
}

// sniffFile names the format of the file at path from its first bytes.
func sniffFile(path string) (vitrine.Format, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("probe: %w", err)
	}
	defer file.Close()
	head := make([]byte, 32)
	n, err := io.ReadFull(file, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("probe %s: %w", path, err)
	}
	return vitrine.SniffFormat(head[:n]), nil
}
