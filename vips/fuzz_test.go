package vips

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitrine/vitrine"
)

// FuzzProbeVerify runs the upload checks on arbitrary bytes: Probe, the
// upload limits, then Verify, as the upload handler does. Neither may
// crash (libvips aborts the process on some inputs it should refuse), and
// each refusal is an Invalid error, never a plain one that the server
// would answer with a 500. What Probe reports must agree with the bytes.
// The pixel limit is small to keep each run fast.
func FuzzProbeVerify(f *testing.F) {
	r := NewRenderer()
	jpg := encodeJPEG(f, pattern(24, 16))
	pngData := encodePNG(f, pattern(24, 16))
	f.Add(jpg)
	f.Add(pngData)
	f.Add(renderOne(f, pngData, vitrine.Spec{Name: "w", Width: 24, Height: 24, Fit: vitrine.Contain, Format: vitrine.WebP, Quality: 50}))
	f.Add(encodeJPEG(f, pattern(1, 1)))
	f.Add(withEXIF(jpg, 6))
	f.Add(jpegWithSize(jpg, 65500, 1))
	f.Add(bombPNG(50000, 50000))
	f.Add(jpg[:len(jpg)/2])
	f.Add([]byte("GIF89a"))
	dir := f.TempDir()
	lim := vitrine.DefaultGalleryLimits()
	lim.MaxPixels = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "upload")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		info, err := r.Probe(ctx, path)
		if err != nil {
			if vitrine.KindOf(err) != vitrine.Invalid {
				t.Fatalf("Probe: got %v (kind %v), want an Invalid error", err, vitrine.KindOf(err))
			}
			return
		}
		if info.Format != vitrine.SniffFormat(data) {
			t.Fatalf("Probe: got format %q, the bytes sniff as %q", info.Format, vitrine.SniffFormat(data))
		}
		decodable := formatCode(info.Format) != 0
		if decodable != (info.Width > 0 && info.Height > 0) || info.Width < 0 || info.Height < 0 {
			t.Fatalf("Probe: got %+v: a decodable format needs a size, another none", info)
		}
		if lim.Check(info) != nil {
			return
		}
		if err := r.Verify(ctx, path, info); err != nil && vitrine.KindOf(err) != vitrine.Invalid {
			t.Fatalf("Verify: got %v (kind %v), want nil or an Invalid error", err, vitrine.KindOf(err))
		}
	})
}
