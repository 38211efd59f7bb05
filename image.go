package vitrine

import (
	"bytes"
	"time"
)

// Format is an image file format, as sniffed from its bytes.
type Format string

const (
	JPEG Format = "jpeg"
	PNG  Format = "png"
	WebP Format = "webp"
	AVIF Format = "avif"
	// Formats vitrine recognizes only to name them in an error message.
	GIF  Format = "gif"
	BMP  Format = "bmp"
	TIFF Format = "tiff"
	HEIC Format = "heic"
	SVG  Format = "svg"
)

// Ext returns the file extension vitrine stores the format under.
func (f Format) Ext() string {
	if f == JPEG {
		return "jpg"
	}
	return string(f)
}

// ContentType returns the MIME type of the format.
func (f Format) ContentType() string {
	switch f {
	case JPEG, PNG, WebP, AVIF, GIF, BMP, TIFF, HEIC:
		return "image/" + string(f)
	case SVG:
		return "image/svg+xml"
	}
	return "application/octet-stream"
}

// SniffFormat names the format of a file from its first bytes (16 are
// enough), never from a name or a Content-Type. It returns "" for anything
// it does not recognize.
func SniffFormat(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case len(head) >= 12 && bytes.Equal(head[:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return WebP
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF
	case bytes.HasPrefix(head, []byte("BM")) && len(head) >= 14:
		return BMP
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return TIFF
	case len(head) >= 12 && bytes.Equal(head[4:8], []byte("ftyp")):
		switch string(head[8:12]) {
		case "avif", "avis":
			return AVIF
		case "heic", "heix", "hevc", "hevx", "mif1", "msf1":
			return HEIC
		}
	case bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf"), []byte("<svg")),
		bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf"), []byte("<?xml")):
		return SVG
	}
	return ""
}

// ImageInfo is what a prober reads from an image's header, before any decode.
type ImageInfo struct {
	Format Format
	// Width and Height as displayed, that is after the EXIF orientation.
	Width, Height int
	Frames        int // pages or animation frames; 1 for a still image
	Orientation   int // EXIF orientation 1..8 (1 when absent)
	HasAlpha      bool
}

// Status is where an image is in its rendering.
type Status string

const (
	StatusPending Status = "pending" // stored, renditions not made yet
	StatusReady   Status = "ready"   // every configured rendition exists
	StatusFailed  Status = "failed"  // rendering gave up; Image.Error says why
)

// Image is one picture of a product's gallery (the note's ProductImage).
type Image struct {
	ID        int64
	ProductID int64

	// The stored original.
	Key    string
	Format Format
	Width  int
	Height int
	Bytes  int64

	AltText   string
	Caption   string
	IsPrimary bool
	Order     int

	Status     Status
	Error      string // why rendering failed, safe to show
	UploadedAt time.Time

	// Set by rendering: a ThumbHash of the picture (base64) and its most
	// common colour ("#rrggbb"), for placeholders shown before it loads.
	Placeholder   string
	DominantColor string

	Renditions []Rendition
}

// Rendition returns the rendition called name, if it exists.
func (img *Image) Rendition(name string) (Rendition, bool) {
	for _, r := range img.Renditions {
		if r.Name == name {
			return r, true
		}
	}
	return Rendition{}, false
}

// Rendition is one rendered derivative of an Image, made from a Spec.
type Rendition struct {
	Name   string
	Spec   string // the Spec it was made from, as Spec.String writes it
	Key    string
	Format Format // usually the spec's; the original's when that was smaller
	Width  int
	Height int
	Bytes  int64
}

// Current reports whether r was made from sp as it is configured now.
func (r Rendition) Current(sp Spec) bool { return r.Name == sp.Name && r.Spec == sp.String() }

// RenderedImage is what a render job records for an image: its renditions
// and the placeholder data computed from its preview.
type RenderedImage struct {
	Renditions    []Rendition
	Placeholder   string
	DominantColor string
}

// MaxOrder is the largest display order, PositiveIntegerField's maximum.
const MaxOrder = 2147483647

// File is a stored original: what an upload route keeps of a validated file.
type File struct {
	Key    string
	Format Format
	Width  int
	Height int
	Bytes  int64
}

// ImageChange lists the gallery image fields a PATCH may change; nil
// fields stay as they are.
type ImageChange struct {
	AltText   *string
	Caption   *string
	IsPrimary *bool
	Order     *int
}
