package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vitrine/vitrine"
)

// productJSON is a product as the API shows it: the note's
// ProductSerializer and ProductWithImagesSerializer fields together.
type productJSON struct {
	ID           int64       `json:"id"`
	Name         string      `json:"name"`
	Slug         string      `json:"slug"`
	Description  string      `json:"description"`
	Price        *string     `json:"price"`
	Image        *string     `json:"image"`
	ImageURL     *string     `json:"image_url"`
	ImageWidth   *int        `json:"image_width"`
	ImageHeight  *int        `json:"image_height"`
	Images       []imageJSON `json:"images"`
	PrimaryImage *imageJSON  `json:"primary_image"`
	CreatedAt    string      `json:"created_at"`
	UpdatedAt    string      `json:"updated_at"`
}

// imageJSON is a gallery image: the note's ProductImageSerializer fields,
// plus its size, rendering status, every rendition, srcsets and what a
// storefront needs to reserve space and show a placeholder.
type imageJSON struct {
	ID           int64                    `json:"id"`
	Image        string                   `json:"image"`
	ImageURL     string                   `json:"image_url"`
	ThumbnailURL *string                  `json:"thumbnail_url"`
	MediumURL    *string                  `json:"medium_url"`
	AltText      string                   `json:"alt_text"`
	Caption      string                   `json:"caption"`
	IsPrimary    bool                     `json:"is_primary"`
	Order        int                      `json:"order"`
	UploadedAt   string                   `json:"uploaded_at"`
	Width        int                      `json:"width"`
	Height       int                      `json:"height"`
	Status       vitrine.Status           `json:"status"`
	StatusReason *string                  `json:"status_reason"`
	Renditions   map[string]renditionJSON `json:"renditions"`
	// Srcset holds, per format, a ready-made srcset attribute of the
	// renditions that show the whole picture (contain), smallest first.
	Srcset        map[string]string `json:"srcset"`
	Placeholder   *string           `json:"placeholder"`    // ThumbHash, base64
	DominantColor *string           `json:"dominant_color"` // "#rrggbb"
}

type renditionJSON struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Format string `json:"format"`
	Bytes  int64  `json:"bytes"`
}

// presenter turns stored values into their JSON form for one request.
type presenter struct {
	urls  urlBuilder
	media interface{ URL(key string) string }
}

func (p presenter) product(r *http.Request, pr *vitrine.Product) productJSON {
	out := productJSON{
		ID:          pr.ID,
		Name:        pr.Name,
		Slug:        string(pr.Slug),
		Description: pr.Description,
		Images:      p.images(r, pr.Images),
		CreatedAt:   drfTime(pr.CreatedAt),
		UpdatedAt:   drfTime(pr.UpdatedAt),
	}
	if pr.Price != nil {
		s := pr.Price.String()
		out.Price = &s
	}
	if pr.ImageKey != "" {
		u := p.urls.abs(r, p.media.URL(pr.ImageKey))
		w, h := pr.ImageWidth, pr.ImageHeight
		out.Image, out.ImageURL, out.ImageWidth, out.ImageHeight = &u, &u, &w, &h
	}
	if primary := pr.Primary(); primary != nil {
		img := p.image(r, primary)
		out.PrimaryImage = &img
	}
	return out
}

func (p presenter) images(r *http.Request, imgs []*vitrine.Image) []imageJSON {
	out := make([]imageJSON, len(imgs))
	for i, img := range imgs {
		out[i] = p.image(r, img)
	}
	return out
}

func (p presenter) image(r *http.Request, img *vitrine.Image) imageJSON {
	u := p.urls.abs(r, p.media.URL(img.Key))
	out := imageJSON{
		ID:         img.ID,
		Image:      u,
		ImageURL:   u,
		AltText:    img.AltText,
		Caption:    img.Caption,
		IsPrimary:  img.IsPrimary,
		Order:      img.Order,
		UploadedAt: drfTime(img.UploadedAt),
		Width:      img.Width,
		Height:     img.Height,
		Status:     img.Status,
		Renditions: map[string]renditionJSON{},
		Srcset:     map[string]string{},
	}
	if img.Placeholder != "" {
		out.Placeholder = &img.Placeholder
	}
	if img.DominantColor != "" {
		out.DominantColor = &img.DominantColor
	}
	if img.Status == vitrine.StatusFailed {
		reason := img.Error
		out.StatusReason = &reason
	}
	for _, rd := range img.Renditions {
		out.Renditions[rd.Name] = renditionJSON{
			URL:    p.urls.abs(r, p.media.URL(rd.Key)),
			Width:  rd.Width,
			Height: rd.Height,
			Format: string(rd.Format),
			Bytes:  rd.Bytes,
		}
	}
	// The note's two URLs stay null until the image is ready, so a client
	// never gets a URL that does not serve yet.
	if img.Status == vitrine.StatusReady {
		if rd, ok := out.Renditions["thumbnail"]; ok {
			out.ThumbnailURL = &rd.URL
		}
		if rd, ok := out.Renditions["medium"]; ok {
			out.MediumURL = &rd.URL
		}
		out.Srcset = srcsets(img.Renditions, out.Renditions)
	}
	return out
}

// srcsets builds one srcset per format from the renditions that show the
// whole picture (Contain), so every candidate has the same aspect ratio;
// cropped (Cover) ones would not belong. One candidate per width.
func srcsets(rs []vitrine.Rendition, shown map[string]renditionJSON) map[string]string {
	byFormat := map[string][]renditionJSON{}
	for _, r := range rs {
		sp, err := vitrine.ParseSpec(r.Spec)
		if err != nil || sp.Fit != vitrine.Contain {
			continue
		}
		rd := shown[r.Name]
		if !slices.ContainsFunc(byFormat[rd.Format], func(o renditionJSON) bool { return o.Width == rd.Width }) {
			byFormat[rd.Format] = append(byFormat[rd.Format], rd)
		}
	}
	out := make(map[string]string, len(byFormat))
	for f, list := range byFormat {
		slices.SortFunc(list, func(a, b renditionJSON) int { return a.Width - b.Width })
		parts := make([]string, len(list))
		for i, rd := range list {
			parts[i] = fmt.Sprintf("%s %dw", rd.URL, rd.Width)
		}
		out[f] = strings.Join(parts, ", ")
	}
	return out
}

// drfTime formats a time as DRF does: ISO 8601 in UTC with a Z, with
// microseconds only when there are any (Python's isoformat).
func drfTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}
