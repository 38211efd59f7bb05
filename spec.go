package vitrine

import (
	"fmt"
	"hash/fnv"
	"image"
	"strconv"
	"strings"
)

// Fit says how a rendition fills its box.
type Fit string

const (
	// Contain fits the whole image inside the box, keeping its aspect
	// ratio (Pillow's thumbnail()).
	Contain Fit = "contain"
	// Cover fills the box exactly, cropping what sticks out.
	Cover Fit = "cover"
)

// Spec describes one rendition: a name clients ask for, a bounding box, a
// fit, an output format and an encoder quality. Renditions are never larger
// than their original.
type Spec struct {
	Name    string
	Width   int
	Height  int
	Fit     Fit
	Format  Format
	Quality int // 1..100
	// Effort is the encoder's CPU effort for WebP (1..6) and AVIF (1..9);
	// 0 leaves the encoder's default (4). Lower is faster and a little
	// larger. JPEG and PNG take none.
	Effort int
}

// DefaultSpecs is the note's pair, thumbnail (fits 200x200, JPEG q85) and
// medium (fits 800x800, JPEG q90), their WebP twins, and large (fits
// 2048x2048, WebP q85): the note's "optimize to WebP" without replacing the
// original and without the cost of a full-size WebP. large is encoded at
// effort 2: measured on the benchmark corpus, 1.7x faster than the default
// effort 4 for about 4 % more bytes and an SSIM lower by 0.001; the twins,
// small and the most often served, keep effort 4.
func DefaultSpecs() []Spec {
	return []Spec{
		{Name: "thumbnail", Width: 200, Height: 200, Fit: Contain, Format: JPEG, Quality: 85},
		{Name: "medium", Width: 800, Height: 800, Fit: Contain, Format: JPEG, Quality: 90},
		{Name: "thumbnail_webp", Width: 200, Height: 200, Fit: Contain, Format: WebP, Quality: 85},
		{Name: "medium_webp", Width: 800, Height: 800, Fit: Contain, Format: WebP, Quality: 85},
		{Name: "large", Width: 2048, Height: 2048, Fit: Contain, Format: WebP, Quality: 85, Effort: 2},
	}
}

// ParseSpec reads a spec written as
// "name=WxH[,contain|cover][,jpeg|png|webp|avif][,qN][,eN]", for example
// "thumbnail=200x200,contain,jpeg,q85" or "large=2048x2048,webp,q85,e3".
// Fit defaults to contain, format to jpeg, quality to 85 and effort to the
// encoder's default.
func ParseSpec(s string) (Spec, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok {
		return Spec{}, fmt.Errorf("rendition %q: want name=WxH[,fit][,format][,qN]", s)
	}
	sp := Spec{Name: name, Fit: Contain, Format: JPEG, Quality: 85}
	parts := strings.Split(rest, ",")
	w, h, ok := strings.Cut(parts[0], "x")
	var errW, errH error
	sp.Width, errW = strconv.Atoi(w)
	sp.Height, errH = strconv.Atoi(h)
	if !ok || errW != nil || errH != nil {
		return Spec{}, fmt.Errorf("rendition %q: size %q is not WxH", s, parts[0])
	}
	for _, p := range parts[1:] {
		switch {
		case p == string(Contain) || p == string(Cover):
			sp.Fit = Fit(p)
		case p == "jpeg" || p == "jpg":
			sp.Format = JPEG
		case p == string(PNG) || p == string(WebP) || p == string(AVIF):
			sp.Format = Format(p)
		case strings.HasPrefix(p, "q"):
			q, err := strconv.Atoi(p[1:])
			if err != nil {
				return Spec{}, fmt.Errorf("rendition %q: quality %q is not qN", s, p)
			}
			sp.Quality = q
		case strings.HasPrefix(p, "e"):
			e, err := strconv.Atoi(p[1:])
			if err != nil {
				return Spec{}, fmt.Errorf("rendition %q: effort %q is not eN", s, p)
			}
			sp.Effort = e
		default:
			return Spec{}, fmt.Errorf("rendition %q: unknown option %q", s, p)
		}
	}
	return sp, sp.Validate()
}

// Validate reports a spec that cannot be rendered.
func (sp Spec) Validate() error {
	if sp.Name == "" || len(sp.Name) > 32 || !isIdent(sp.Name) {
		return fmt.Errorf("rendition %q: name must be 1-32 characters of a-z, 0-9, _ and -", sp.Name)
	}
	if sp.Width < 1 || sp.Height < 1 || sp.Width > 10000 || sp.Height > 10000 {
		return fmt.Errorf("rendition %q: size %dx%d must be within 1..10000", sp.Name, sp.Width, sp.Height)
	}
	if sp.Fit != Contain && sp.Fit != Cover {
		return fmt.Errorf("rendition %q: fit %q must be contain or cover", sp.Name, sp.Fit)
	}
	switch sp.Format {
	case JPEG, PNG, WebP, AVIF:
	default:
		return fmt.Errorf("rendition %q: format %q must be jpeg, png, webp or avif", sp.Name, sp.Format)
	}
	if sp.Quality < 1 || sp.Quality > 100 {
		return fmt.Errorf("rendition %q: quality %d must be within 1..100", sp.Name, sp.Quality)
	}
	maxEffort := map[Format]int{WebP: 6, AVIF: 9}[sp.Format]
	if sp.Effort < 0 || sp.Effort > maxEffort {
		return fmt.Errorf("rendition %q: effort %d must be within 1..%d for %s (0 for the default)", sp.Name, sp.Effort, maxEffort, sp.Format)
	}
	return nil
}

// String writes the spec in the form ParseSpec reads.
func (sp Spec) String() string {
	s := fmt.Sprintf("%s=%dx%d,%s,%s,q%d", sp.Name, sp.Width, sp.Height, sp.Fit, sp.Format, sp.Quality)
	if sp.Effort != 0 {
		s += fmt.Sprintf(",e%d", sp.Effort)
	}
	return s
}

// Version is a short hash of everything that shapes the output, so a
// changed spec writes new keys and old URLs stay immutable.
func (sp Spec) Version() string {
	h := fnv.New32a()
	h.Write([]byte(sp.String()))
	return fmt.Sprintf("%08x", h.Sum32())
}

func isIdent(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// RenderResult is what a renderer makes of one original: every rendition
// asked for, and a small upright sRGB preview of the whole picture (at most
// PreviewSize a side) from which placeholders and colours are computed.
type RenderResult struct {
	Source     ImageInfo // what the original's header says
	Renditions []Rendered
	Preview    *image.NRGBA
}

// PreviewSize bounds the preview's sides; ThumbHash wants at most 100.
const PreviewSize = 100

// Rendered is one rendition as a renderer made it, before it is stored.
type Rendered struct {
	Spec   Spec
	Data   []byte // the encoded file
	Width  int
	Height int
}
