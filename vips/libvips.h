// Small wrappers around libvips' varargs functions, which cgo cannot call.
// Each one runs exactly one libvips operation with fixed options, returns 0
// on success and -1 on failure (the message is then in vips_error_buffer),
// and never keeps a pointer it was given beyond what libvips itself keeps.

#ifndef VITRINE_LIBVIPS_H
#define VITRINE_LIBVIPS_H

#include <malloc.h>
#include <stdlib.h>
#include <vips/vips.h>

// The three formats vitrine decodes. Any other value loads nothing.
enum {
	VT_JPEG = 1,
	VT_PNG = 2,
	VT_WEBP = 3,
};

int vt_init(int concurrency);
void vt_unref(VipsImage *im);
void vt_free(void *p);

int vt_load_file(int format, const char *path, int reduce, VipsImage **out);
int vt_load_buffer(int format, void *buf, size_t len, VipsImage **out);
int vt_has_icc(VipsImage *im);
int vt_icc(VipsImage *im, const void **data, size_t *len);
int vt_avg(VipsImage *in, double *out);
int vt_min_alpha(VipsImage *in, double *out);

int vt_thumbnail_buffer(void *buf, size_t len, int width, int height, int to_srgb, VipsImage **out);
int vt_png_flat_thumbnail(void *buf, size_t len, int width, int height, int to_srgb, VipsImage **out);
int vt_thumbnail_image(VipsImage *in, int width, int height, int cover, VipsImage **out);
int vt_resize(VipsImage *in, double hscale, double vscale, double gap, VipsImage **out);
int vt_colourspace(VipsImage *in, VipsInterpretation space, VipsImage **out);
int vt_cast_uchar(VipsImage *in, VipsImage **out);
int vt_flatten_white(VipsImage *in, VipsImage **out);
int vt_strip(VipsImage *in, VipsImage **out);

int vt_preview_rgba(VipsImage *in, int size, void **buf, size_t *len, int *width, int *height);

int vt_jpegsave(VipsImage *in, int quality, void **buf, size_t *len);
int vt_pngsave(VipsImage *in, void **buf, size_t *len);
int vt_webpsave(VipsImage *in, int quality, int effort, void **buf, size_t *len);
int vt_avifsave(VipsImage *in, int quality, int effort, void **buf, size_t *len);

// Test fixtures (fixtures.go).
enum {
	VT_FIXTURE_CMYK_JPEG = 1,
	VT_FIXTURE_PROGRESSIVE_JPEG = 2,
	VT_FIXTURE_GREY_ALPHA_PNG = 3,
};
int vt_fixture_save(void *rgba, int width, int height, int kind, void **buf, size_t *len);

#endif
