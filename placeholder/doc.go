// Package placeholder computes what a storefront shows while a product image
// is still loading: a ThumbHash, from which the browser draws a blurred
// preview and reserves the right aspect ratio, and a dominant colour for a
// plain box when even that is too much.
//
// Both functions read the small upright sRGB preview that the render job
// makes (an *image.NRGBA of at most 100x100 pixels, alpha not premultiplied),
// never the original upload. The package uses only the standard library.
package placeholder
