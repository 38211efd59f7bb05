package vitrine_test

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/vitrine/vitrine"
)

func TestParseSlug(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"django-book", true}, {"A_b-9", true}, {strings.Repeat("s", 50), true},
		{"", false}, {strings.Repeat("s", 51), false}, {"a/b", false}, {"a%2Fb", false},
		{"café", false}, {"a b", false}, {"..", false}, {"a\x00", false},
	}
	for _, tt := range tests {
		_, err := vitrine.ParseSlug(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseSlug(%q): got %v, want ok=%v", tt.in, err, tt.ok)
		}
		if err != nil && vitrine.KindOf(err) != vitrine.Invalid {
			t.Errorf("ParseSlug(%q): got kind %v, want Invalid", tt.in, vitrine.KindOf(err))
		}
	}
}

func TestParsePrice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string // "" for an error
	}{
		{"19.99", "19.99"}, {"5", "5.00"}, {".5", "0.50"}, {"0.5", "0.50"}, {"1e2", "100.00"}, {"1E-2", "0.01"},
		{"-0", "0.00"}, {"+3", "3.00"}, {"1.500", "1.50"}, {" 7 ", "7.00"}, {"99999999.99", "99999999.99"},
		{"0.000", "0.00"}, {"1e-999999999", ""}, {"0e999999999", "0.00"},
		{"", ""}, {"NaN", ""}, {"Infinity", ""}, {"-1", ""}, {"1.999", ""}, {"1e400", ""}, {"100000000", ""},
		{"1/3", ""}, {"0x10", ""}, {"1_000", ""}, {"1e", ""}, {"e5", ""}, {".", ""}, {"1..2", ""}, {"--1", ""}, {"1e+-2", ""},
	}
	for _, tt := range tests {
		p, err := vitrine.ParsePrice(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParsePrice(%q): got %s, want an error", tt.in, p)
		case tt.want != "" && err != nil:
			t.Errorf("ParsePrice(%q): got %v, want %s", tt.in, err, tt.want)
		case tt.want != "" && p.String() != tt.want:
			t.Errorf("ParsePrice(%q): got %s, want %s", tt.in, p, tt.want)
		}
	}
}

func FuzzParsePrice(f *testing.F) {
	for _, s := range []string{"19.99", "1e2", "-0", "NaN", "1e400", ".5", "99999999.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := vitrine.ParsePrice(s)
		if err != nil {
			if vitrine.KindOf(err) != vitrine.Invalid {
				t.Fatalf("ParsePrice(%q): got kind %v, want Invalid", s, vitrine.KindOf(err))
			}
			return
		}
		if p < 0 || p > 9999999999 {
			t.Fatalf("ParsePrice(%q) = %d, out of DecimalField(10, 2)", s, p)
		}
		again, err := vitrine.ParsePrice(p.String())
		if err != nil || again != p {
			t.Fatalf("round trip %q -> %s -> %v, %v", s, p, again, err)
		}
	})
}

func TestSniffFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		head string
		want vitrine.Format
	}{
		{"\xff\xd8\xff\xe0", vitrine.JPEG},
		{"\x89PNG\r\n\x1a\n", vitrine.PNG},
		{"RIFF\x00\x00\x00\x00WEBPVP8 ", vitrine.WebP},
		{"GIF89a", vitrine.GIF},
		{"BM" + strings.Repeat("\x00", 12), vitrine.BMP},
		{"II*\x00", vitrine.TIFF},
		{"\x00\x00\x00\x1cftypavif", vitrine.AVIF},
		{"\x00\x00\x00\x18ftypheic", vitrine.HEIC},
		{"<svg xmlns=...", vitrine.SVG},
		{"\xef\xbb\xbf  <?xml version", vitrine.SVG},
		{"RIFF\x00\x00\x00\x00WAVE", ""},
		{"<html>", ""},
		{"", ""},
		{"\xff\xd8", ""},
	}
	for _, tt := range tests {
		if got := vitrine.SniffFormat([]byte(tt.head)); got != tt.want {
			t.Errorf("SniffFormat(%q): got %q, want %q", tt.head, got, tt.want)
		}
	}
}

func FuzzSniffFormat(f *testing.F) {
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("RIFF1234WEBP"))
	f.Fuzz(func(t *testing.T, head []byte) {
		got := vitrine.SniffFormat(head)
		if got == vitrine.JPEG && (len(head) < 3 || head[0] != 0xFF) {
			t.Fatalf("SniffFormat(%q) = jpeg without the JPEG magic", head)
		}
	})
}

func TestUploadLimits(t *testing.T) {
	t.Parallel()
	lim := vitrine.DefaultProductImageLimits()
	tests := []struct {
		name string
		info vitrine.ImageInfo
		msg  string // "" when accepted
	}{
		{"ok", vitrine.ImageInfo{Format: vitrine.PNG, Width: 200, Height: 5000, Frames: 1}, ""},
		{"gif", vitrine.ImageInfo{Format: vitrine.GIF, Width: 300, Height: 300, Frames: 1}, "Unsupported format (GIF). Use JPG, PNG, WebP."},
		{"unknown", vitrine.ImageInfo{}, "Upload a valid image."},
		{"animated", vitrine.ImageInfo{Format: vitrine.WebP, Width: 300, Height: 300, Frames: 2}, "Animated or multi-page images are not supported."},
		{"small", vitrine.ImageInfo{Format: vitrine.JPEG, Width: 199, Height: 300, Frames: 1}, "Image dimensions too small. Minimum 200x200 pixels."},
		{"large", vitrine.ImageInfo{Format: vitrine.JPEG, Width: 5001, Height: 300, Frames: 1}, "Image dimensions too large. Maximum 5000x5000 pixels."},
		{"bomb", vitrine.ImageInfo{Format: vitrine.PNG, Width: 50000, Height: 50000, Frames: 1}, "Image too large: 50000x50000"},
		{"long thin bomb", vitrine.ImageInfo{Format: vitrine.PNG, Width: 1_000_000, Height: 51, Frames: 1}, "Image too large"},
	}
	for _, tt := range tests {
		err := lim.Check(tt.info)
		if tt.msg == "" {
			if err != nil {
				t.Errorf("%s: got %v, want accepted", tt.name, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tt.msg) || vitrine.KindOf(err) != vitrine.Invalid {
			t.Errorf("%s: got %v, want an Invalid error starting %q", tt.name, err, tt.msg)
		}
	}
	for name, want := range map[string]bool{"a.jpg": true, "a.JPEG": true, "x.y.webp": true, "a.png": true, "a.gif": false, "a": false, "png": false, ".png": true} {
		if got := lim.CheckName(name) == nil; got != want {
			t.Errorf("CheckName(%q): got %v, want %v", name, got, want)
		}
	}
	if lim.CheckSize(5*1024*1024) != nil || lim.CheckSize(5*1024*1024+1) == nil || lim.CheckSize(0) == nil {
		t.Error("CheckSize: exactly 5 MiB must pass, one byte more and zero must not")
	}
}

func TestBaseName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("字", 340) // 1020 bytes
	tests := []struct{ in, want string }{
		{"a.png", "a.png"}, {"../../etc/passwd.png", "passwd.png"}, {`..\..\evil.png`, "evil.png"},
		{"../", ".."}, {"", ""}, {"/", ""}, {"a\xff.png", "a\uFFFD.png"},
		{long + ".png", long[:249] + ".png"},
		{strings.Repeat("a", 300), strings.Repeat("a", 255)},
		{"a." + strings.Repeat("b", 300), "." + strings.Repeat("b", 254)},
	}
	for _, tt := range tests {
		if got := vitrine.BaseName(tt.in); got != tt.want {
			t.Errorf("BaseName(%q): got %q, want %q", clipTest(tt.in), clipTest(got), clipTest(tt.want))
		}
	}
}

// FuzzBaseName checks that a client's file name comes back as one clean,
// short name: valid UTF-8, at most 255 bytes, no separator, and the
// extension kept, so that the extension check sees what the client sent.
func FuzzBaseName(f *testing.F) {
	for _, s := range []string{"a.png", "../../etc/passwd.png", `..\x.jpg`, "", "/", "a.png/", "\xff.png", strings.Repeat("字", 100) + ".png", "a." + strings.Repeat("b", 300)} {
		f.Add(s)
	}
	lim := vitrine.DefaultGalleryLimits()
	f.Fuzz(func(t *testing.T, name string) {
		got := vitrine.BaseName(name)
		if len(got) > 255 || !utf8.ValidString(got) || strings.ContainsAny(got, "/\\") {
			t.Fatalf("BaseName(%q) = %q: over 255 bytes, not UTF-8 or with a separator", name, got)
		}
		if vitrine.BaseName(got) != got {
			t.Fatalf("BaseName(%q) = %q, but BaseName of that is %q", name, got, vitrine.BaseName(got))
		}
		last := path.Base(strings.ReplaceAll(name, "\\", "/"))
		if ext := path.Ext(last); got != "" && utf8.ValidString(last) && ext != "" && len(ext) <= 255 && !strings.HasSuffix(got, ext) {
			t.Fatalf("BaseName(%q) = %q lost the extension %q", name, got, ext)
		}
		if err := lim.CheckName(got); err != nil && vitrine.KindOf(err) != vitrine.Invalid {
			t.Fatalf("CheckName(%q): got kind %v, want Invalid", got, vitrine.KindOf(err))
		}
	})
}

// FuzzParseSlug checks ParseSlug against the pattern of Django's SlugField
// (ASCII letters, digits, _ and -, 1 to 50 of them), the one rule that
// keeps a slug safe in a URL path, a key and a SQL parameter.
func FuzzParseSlug(f *testing.F) {
	for _, s := range []string{"django-book", "a/b", "a%2Fb", "café", "..", "a\x00", strings.Repeat("s", 51), ""} {
		f.Add(s)
	}
	valid := regexp.MustCompile(`^[-a-zA-Z0-9_]{1,50}$`)
	f.Fuzz(func(t *testing.T, s string) {
		slug, err := vitrine.ParseSlug(s)
		if (err == nil) != valid.MatchString(s) {
			t.Fatalf("ParseSlug(%q): got %v, want ok=%v", s, err, valid.MatchString(s))
		}
		if err != nil {
			if vitrine.KindOf(err) != vitrine.Invalid {
				t.Fatalf("ParseSlug(%q): got kind %v, want Invalid", s, vitrine.KindOf(err))
			}
			return
		}
		if string(slug) != s || url.PathEscape(s) != s {
			t.Fatalf("ParseSlug(%q) = %q, or it needs escaping in a path", s, slug)
		}
	})
}

func clipTest(s string) string {
	if len(s) > 40 {
		return s[:20] + "..." + s[len(s)-20:]
	}
	return s
}

func TestSpecs(t *testing.T) {
	t.Parallel()
	for _, sp := range vitrine.DefaultSpecs() {
		if err := sp.Validate(); err != nil {
			t.Errorf("default %s: %v", sp.Name, err)
		}
	}
	sp, err := vitrine.ParseSpec("large=2048x2048,webp,q85")
	if err != nil || sp != (vitrine.Spec{Name: "large", Width: 2048, Height: 2048, Fit: vitrine.Contain, Format: vitrine.WebP, Quality: 85}) {
		t.Fatalf("got %+v, %v", sp, err)
	}
	for _, bad := range []string{"x", "x=1", "x=0x10", "x=10x10,gif", "x=10x10,q0", "x=10x10,q101", "X=10x10", "x=10x10,fill", "=10x10"} {
		if _, err := vitrine.ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q): got nil, want an error", bad)
		}
	}
	a, _ := vitrine.ParseSpec("t=200x200,jpeg,q85")
	b, _ := vitrine.ParseSpec("t=200x200,jpeg,q86")
	if a.Version() == b.Version() {
		t.Error("a changed quality must change the spec's version (and so its keys)")
	}
}

func FuzzParseSpec(f *testing.F) {
	f.Add("thumb=200x200,cover,webp")
	f.Add("medium=800x800,contain,jpeg,q90")
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := vitrine.ParseSpec(s)
		if err != nil {
			return
		}
		if again, err := vitrine.ParseSpec(spec.String()); err != nil || again != spec {
			t.Fatalf("round trip %q: got %v, %v", s, again, err)
		}
	})
}

func TestKeys(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 23, 59, 0, 0, time.FixedZone("X", -5*3600)) // 04:59 UTC next day
	key := vitrine.OriginalKey(now, vitrine.JPEG)
	if !regexp.MustCompile(`^products/2026/12/01/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jpg$`).MatchString(key) {
		t.Fatalf("got %q, want products/YYYY/MM/DD (UTC)/<uuid v4>.jpg", key)
	}
	if vitrine.OriginalKey(now, vitrine.JPEG) == key {
		t.Fatal("two original keys are equal; keys must never be reused")
	}
	thumb := vitrine.RenditionKey(key, vitrine.DefaultSpecs()[0], vitrine.JPEG)
	medium := vitrine.RenditionKey(key, vitrine.DefaultSpecs()[1], vitrine.JPEG)
	base := strings.TrimSuffix(path.Base(key), ".jpg")
	if !strings.HasPrefix(thumb, "products/thumbnails/2026/12/01/"+base+"-") || !strings.HasPrefix(medium, "products/medium/2026/12/01/"+base+"-") {
		t.Fatalf("got %q and %q", thumb, medium)
	}
	if vitrine.RenditionKey(key, vitrine.DefaultSpecs()[0], vitrine.JPEG) != thumb {
		t.Fatal("the same original and spec must give the same key (idempotent renders)")
	}
	if png := vitrine.RenditionKey(key, vitrine.DefaultSpecs()[0], vitrine.PNG); png == thumb || path.Ext(png) != ".png" {
		t.Fatalf("got %q for a PNG stored in the thumbnail's place, want its own .png key", png)
	}
	for _, k := range []string{key, thumb, medium} {
		if !vitrine.ValidKey(k) {
			t.Errorf("ValidKey(%q) = false for a key vitrine made", k)
		}
	}
	for _, k := range []string{"", "products/../x.jpg", "products//x.jpg", "/products/x.jpg", "products/x.txt", "products/X.jpg", "other/x.jpg", "products/./x.jpg", "products/a\x00.jpg"} {
		if vitrine.ValidKey(k) {
			t.Errorf("ValidKey(%q) = true", k)
		}
	}
}

func FuzzValidKey(f *testing.F) {
	f.Add("products/2026/11/30/x.jpg")
	f.Add("products/../../etc/passwd.jpg")
	f.Fuzz(func(t *testing.T, k string) {
		if !vitrine.ValidKey(k) {
			return
		}
		if path.Clean(k) != k || strings.HasPrefix(k, "/") || strings.Contains(k, "..") && strings.Contains("/"+k+"/", "/../") {
			t.Fatalf("ValidKey(%q) accepted a path that is not clean and relative", k)
		}
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, ha := vitrine.NewToken()
	b, _ := vitrine.NewToken()
	if a == b || !strings.HasPrefix(a, "vt_") || len(a) != len("vt_")+43 || len(ha) != 32 {
		t.Fatalf("got %q (%d bytes of hash), want distinct vt_ tokens of 32 random bytes", a, len(ha))
	}
	if string(vitrine.HashToken(a)) != string(ha) {
		t.Fatal("HashToken must give the stored hash")
	}
}

func TestValidOrdering(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"": true, "name": true, "-price": true, "created_at": true, "-id": true,
		"--name": false, "slug": false, "-": false, "name;DROP TABLE products": false} {
		if got := vitrine.ValidOrdering(s); got != want {
			t.Errorf("ValidOrdering(%q): got %v, want %v", s, got, want)
		}
	}
}

func ExampleParsePrice() {
	p, _ := vitrine.ParsePrice("1e2")
	fmt.Println(p)
	_, err := vitrine.ParsePrice("1.999")
	fmt.Println(err)
	// Output:
	// 100.00
	// Ensure that there are no more than 2 decimal places.
}

func ExampleParseSpec() {
	sp, _ := vitrine.ParseSpec("thumbnail=200x200,jpeg,q85")
	fmt.Println(sp)
	// Output: thumbnail=200x200,contain,jpeg,q85
}
