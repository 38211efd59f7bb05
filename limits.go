package vitrine

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// UploadLimits says which image files an upload route accepts. Every check
// runs on the header (ImageInfo) and the file name, before any decode.
type UploadLimits struct {
	MaxBytes   int64    // largest accepted file; the note's 5 MiB
	Formats    []Format // formats accepted, as sniffed from the bytes
	Extensions []string // file name extensions accepted, lower case
	MaxPixels  int64    // width x height cap against decompression bombs
	MinSide    int      // smallest width and height (0: no minimum)
	MaxSide    int      // largest width and height (0: no maximum)
}

// Default upload limits: the note's 5 MB and JPG/PNG/WebP, and its
// 200..5000 px rule for the product's own image.
const (
	DefaultMaxBytes  = 5 * 1024 * 1024
	DefaultMaxPixels = 50_000_000
)

// DefaultGalleryLimits returns the limits of gallery uploads.
func DefaultGalleryLimits() UploadLimits {
	return UploadLimits{
		MaxBytes:   DefaultMaxBytes,
		Formats:    []Format{JPEG, PNG, WebP},
		Extensions: []string{"jpg", "jpeg", "png", "webp"},
		MaxPixels:  DefaultMaxPixels,
	}
}

// DefaultProductImageLimits returns the limits of the product's single image.
func DefaultProductImageLimits() UploadLimits {
	l := DefaultGalleryLimits()
	l.MinSide, l.MaxSide = 200, 5000
	return l
}

// Validate reports a configuration that cannot work.
func (l UploadLimits) Validate() error {
	var problems []string
	if l.MaxBytes <= 0 {
		problems = append(problems, "max bytes must be positive")
	}
	if l.MaxPixels <= 0 {
		problems = append(problems, "max pixels must be positive")
	}
	if l.MinSide < 0 || l.MaxSide < 0 || l.MaxSide > 0 && l.MinSide > l.MaxSide {
		problems = append(problems, fmt.Sprintf("side limits %d..%d are not a range", l.MinSide, l.MaxSide))
	}
	if len(l.Formats) == 0 || len(l.Extensions) == 0 {
		problems = append(problems, "at least one format and one extension are needed")
	}
	if len(problems) > 0 {
		return fmt.Errorf("upload limits: %s", strings.Join(problems, "; "))
	}
	return nil
}

// CheckName checks the client's file name: the extension must be allowed
// (Django's FileExtensionValidator). The name is never used in a path.
func (l UploadLimits) CheckName(filename string) error {
	ext := ""
	if i := strings.LastIndexByte(filename, '.'); i >= 0 {
		ext = strings.ToLower(filename[i+1:])
	}
	if slices.Contains(l.Extensions, ext) {
		return nil
	}
	return Errorf(Invalid, "File extension “%s” is not allowed. Allowed extensions are: %s.",
		clip(ext, 20), strings.Join(l.Extensions, ", "))
}

// CheckSize checks the byte size of a file.
func (l UploadLimits) CheckSize(n int64) error {
	if n == 0 {
		return Errorf(Invalid, "The submitted file is empty.")
	}
	if n > l.MaxBytes {
		return Errorf(Invalid, "Image file too large. Maximum size is %s.", humanBytes(l.MaxBytes))
	}
	return nil
}

// CheckFormat checks a sniffed format against the allow-list.
func (l UploadLimits) CheckFormat(f Format) error {
	if f == "" {
		return Errorf(Invalid, "Upload a valid image. The file you uploaded was either not an image or a corrupted image.")
	}
	if !slices.Contains(l.Formats, f) {
		names := make([]string, len(l.Formats))
		for i, a := range l.Formats {
			names[i] = formatName(a)
		}
		return Errorf(Invalid, "Unsupported format (%s). Use %s.", formatName(f), strings.Join(names, ", "))
	}
	return nil
}

// Check checks what the header says: format, frames, pixels and sides.
// It returns an Invalid *Error with a message for the client.
func (l UploadLimits) Check(info ImageInfo) error {
	if err := l.CheckFormat(info.Format); err != nil {
		return err
	}
	if info.Frames > 1 {
		return Errorf(Invalid, "Animated or multi-page images are not supported.")
	}
	if info.Width <= 0 || info.Height <= 0 {
		return Errorf(Invalid, "Upload a valid image. The file you uploaded was either not an image or a corrupted image.")
	}
	if px := int64(info.Width) * int64(info.Height); px > l.MaxPixels {
		return Errorf(Invalid, "Image too large: %dx%d is %.1f megapixels. Maximum is %.1f megapixels.",
			info.Width, info.Height, float64(px)/1e6, float64(l.MaxPixels)/1e6)
	}
	if l.MinSide > 0 && (info.Width < l.MinSide || info.Height < l.MinSide) {
		return Errorf(Invalid, "Image dimensions too small. Minimum %dx%d pixels.", l.MinSide, l.MinSide)
	}
	if l.MaxSide > 0 && (info.Width > l.MaxSide || info.Height > l.MaxSide) {
		return Errorf(Invalid, "Image dimensions too large. Maximum %dx%d pixels.", l.MaxSide, l.MaxSide)
	}
	return nil
}

// BaseName returns the last element of a client's file name, as Django keeps
// it (both / and \ separate), clipped to 255 bytes. A name over 255 bytes
// keeps its extension and loses the end of its stem, as Django's
// UploadedFile._set_name does, so that a long name still passes CheckName.
// It is for messages and the extension check only, never a path.
func BaseName(filename string) string {
	filename = strings.ReplaceAll(filename, "\\", "/")
	filename = path.Base(filename)
	if filename == "." || filename == "/" {
		return ""
	}
	filename = strings.ToValidUTF8(filename, "\uFFFD")
	if len(filename) <= maxNameBytes {
		return filename
	}
	ext := clip(path.Ext(filename), maxNameBytes)
	return clip(strings.TrimSuffix(filename, path.Ext(filename)), maxNameBytes-len(ext)) + ext
}

// maxNameBytes is the longest file name BaseName returns, Django's 255.
const maxNameBytes = 255

func formatName(f Format) string {
	switch f {
	case JPEG:
		return "JPG"
	case WebP:
		return "WebP"
	}
	return strings.ToUpper(string(f))
}

func humanBytes(n int64) string {
	if n%(1024*1024) == 0 {
		return fmt.Sprintf("%dMB", n/(1024*1024))
	}
	if n%1024 == 0 {
		return fmt.Sprintf("%dKB", n/1024)
	}
	return fmt.Sprintf("%d bytes", n)
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
