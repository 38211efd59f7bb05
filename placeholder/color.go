package placeholder

import (
	"fmt"
	"image"
)

// DominantColor returns the most common colour of img as "#rrggbb" in
// lower-case hex, for the plain box a storefront can show before the image
// (or even its ThumbHash) is drawn.
//
// It is the most common colour rather than the mean because the mean of a
// red-and-green image is a muddy brown that appears nowhere in it; the
// colour most of the image shows is what a placeholder should show. Pixels
// are grouped into 4096 buckets by the top 4 bits of R, G and B, so that the
// many near-identical shades of a photo count together. The bucket with the
// most pixels wins; on a tie the bucket with the lower index (compared by R,
// then G, then B) wins, so the same image always gives the same colour. The
// result is the mean of the pixels in that bucket, rounded, so each channel
// is within 15 of every pixel in it.
//
// Only pixels with alpha >= 128 count: through a mostly transparent pixel
// the shopper sees the page, not the pixel. An image with no such pixel
// (fully transparent, empty or nil) gives "#ffffff", the white that
// vitrine's JPEG renditions put under transparent areas. Any size works;
// the render job passes its 100x100 preview.
func DominantColor(img *image.NRGBA) string {
	const white = "#ffffff"
	if img == nil || img.Rect.Empty() {
		return white
	}

	type bucket struct{ n, r, g, b int }
	buckets := make([]bucket, 4096)
	w := img.Rect.Dx()
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		start := img.PixOffset(img.Rect.Min.X, y)
		px := img.Pix[start : start+4*w]
		for i := 0; i < len(px); i += 4 {
			if px[i+3] < 128 {
				continue
			}
			k := int(px[i]>>4)<<8 | int(px[i+1]>>4)<<4 | int(px[i+2]>>4)
			buckets[k].n++
			buckets[k].r += int(px[i])
			buckets[k].g += int(px[i+1])
			buckets[k].b += int(px[i+2])
		}
	}

	best := 0
	for k := range buckets {
		// Strictly greater: on a tie the earlier (lower) index stays.
		if buckets[k].n > buckets[best].n {
			best = k
		}
	}
	b := buckets[best]
	if b.n == 0 {
		return white
	}
	return fmt.Sprintf("#%02x%02x%02x", roundedMean(b.r, b.n), roundedMean(b.g, b.n), roundedMean(b.b, b.n))
}

// roundedMean returns sum/n rounded to the nearest integer, halves up, for
// sum >= 0 and n > 0.
func roundedMean(sum, n int) int {
	return (2*sum + n) / (2 * n)
}
