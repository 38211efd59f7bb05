package vitrine

import (
	"crypto/rand"
	"fmt"
	"path"
	"strings"
	"time"
)

// OriginalKey returns a new, never reused storage key for an uploaded
// original: products/YYYY/MM/DD/<uuid>.<ext>, dated in UTC, with the
// extension of the sniffed format. The client's file name is never part of it.
func OriginalKey(now time.Time, f Format) string {
	return fmt.Sprintf("products/%s/%s.%s", now.UTC().Format("2006/01/02"), newUUID(), f.Ext())
}

// RenditionKey returns the key of the rendition of the original at key made
// with spec and stored as format f (spec.Format, or the original's format
// when the original itself is smaller): products/<dir>/YYYY/MM/DD/
// <uuid>-<version>.<ext>, where dir is "thumbnails" for the thumbnail (the
// note's directory) and the spec's name otherwise. The same original, spec
// and format always give the same key, so a repeated render job overwrites
// its own files; a changed spec gives a new key.
func RenditionKey(original string, spec Spec, f Format) string {
	dir := spec.Name
	if dir == "thumbnail" {
		dir = "thumbnails"
	}
	dated := strings.TrimPrefix(original, "products/")
	base := strings.TrimSuffix(path.Base(dated), path.Ext(dated))
	return fmt.Sprintf("products/%s/%s/%s-%s.%s", dir, path.Dir(dated), base, spec.Version(), f.Ext())
}

// ValidKey reports whether key has the shape vitrine gives its keys: a
// relative slash-separated path of [a-z0-9_-] segments ending in a known
// image extension. Media serving and storage refuse anything else, which
// rules out traversal such as "../" before any file system call.
func ValidKey(key string) bool {
	if len(key) > 512 || !strings.HasPrefix(key, "products/") {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
				return false
			}
		}
	}
	switch path.Ext(key) {
	case ".jpg", ".png", ".webp", ".avif":
		return true
	}
	return false
}

// FormatOfKey returns the format a key's extension names.
func FormatOfKey(key string) Format {
	switch path.Ext(key) {
	case ".jpg":
		return JPEG
	case ".png":
		return PNG
	case ".webp":
		return WebP
	case ".avif":
		return AVIF
	}
	return ""
}

// newUUID returns a random (version 4) UUID in its canonical form.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never returns an error (crypto/rand documents this)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
