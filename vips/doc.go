// Package vips reads and renders product images with libvips. It is the only
// cgo package of vitrine.
//
// A *Renderer does three things, from cheapest to most expensive:
//
//   - Probe reads an upload's header (format, size, frames, orientation,
//     alpha) without decoding a pixel, so upload limits run before any decode.
//   - Verify decodes the upload at reduced scale to reject truncated or
//     corrupt files while the client is still waiting.
//   - Render decodes an original once, at the smallest scale that serves
//     the largest rendition, and derives every rendition from that.
//
// Only the JPEG, PNG and WebP loaders ever see client bytes: the format is
// sniffed from the bytes with vitrine.SniffFormat, each format is opened
// with its own loader, and Init blocks every other libvips loader.
//
// Rules this package keeps, so callers need not: every call locks its OS
// thread for its whole duration; every VipsImage is unreffed on every path;
// Go memory is never handed to libvips beyond one call (the original is
// copied into C memory first); libvips' process-wide error buffer is read
// and cleared under a mutex right after each failure.
//
// Call Init once at startup and Shutdown once at exit; nothing happens in
// init().
package vips
