#include <malloc.h>
#include <string.h>

#include "libvips.h"

// vt_init starts libvips for the whole process. Besides the settings the
// FINDINGS ask for (no operation cache, fixed concurrency), it blocks every
// loader but JPEG, PNG and WebP, so that no other libvips loader (TIFF, SVG,
// PDF, ImageMagick, ...) can ever run on client bytes, even when an
// operation such as vips_thumbnail_buffer picks its loader from the bytes.
//
// It also caps glibc's malloc arenas at two, as MALLOC_ARENA_MAX=2 would:
// libvips allocates from many threads, and one arena per thread makes a
// long-running process's RSS creep (FINDINGS, pitfall 4). Doing it here
// means the binary does not depend on the variable being set.
//
// libvips' warnings (e.g. "not enough data" for a truncated upload) are
// dropped: every failure that matters also comes back as an error, with
// its message, from the call that hit it, and stderr is for our JSON logs.
static void vt_drop_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data) {
}

int vt_init(int concurrency) {
	mallopt(M_ARENA_MAX, 2);
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO, vt_drop_log, NULL);
	if (vips_init("vitrine") != 0) {
		return -1;
	}
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_cache_set_max_files(0);
	vips_concurrency_set(concurrency);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	vips_operation_block_set("VipsForeignLoadJpeg", FALSE);
	vips_operation_block_set("VipsForeignLoadPng", FALSE);
	vips_operation_block_set("VipsForeignLoadWebp", FALSE);
	return 0;
}

void vt_unref(VipsImage *im) {
	g_object_unref(im);
}

// vt_free frees what a saver allocated with g_malloc.
void vt_free(void *p) {
	g_free(p);
}

// vt_load_file opens a file with its format's own loader, never the generic
// vips_image_new_from_file. Only the header is read here; pixels are decoded
// when something asks for them. reduce > 1 asks the JPEG and WebP decoders
// for a smaller image (shrink-on-load); PNG has no such option.
int vt_load_file(int format, const char *path, int reduce, VipsImage **out) {
	switch (format) {
	case VT_JPEG:
		return vips_jpegload(path, out,
			"access", VIPS_ACCESS_SEQUENTIAL,
			"fail_on", VIPS_FAIL_ON_ERROR,
			"shrink", reduce,
			NULL);
	case VT_PNG:
		return vips_pngload(path, out,
			"access", VIPS_ACCESS_SEQUENTIAL,
			"fail_on", VIPS_FAIL_ON_ERROR,
			NULL);
	case VT_WEBP:
		return vips_webpload(path, out,
			"access", VIPS_ACCESS_SEQUENTIAL,
			"fail_on", VIPS_FAIL_ON_ERROR,
			"scale", 1.0 / reduce,
			NULL);
	}
	vips_error("vitrine", "format %d has no loader", format);
	return -1;
}

// vt_load_buffer opens an image held in memory with its format's own loader,
// for its header only.
int vt_load_buffer(int format, void *buf, size_t len, VipsImage **out) {
	switch (format) {
	case VT_JPEG:
		return vips_jpegload_buffer(buf, len, out, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	case VT_PNG:
		return vips_pngload_buffer(buf, len, out, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	case VT_WEBP:
		return vips_webpload_buffer(buf, len, out, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	}
	vips_error("vitrine", "format %d has no loader", format);
	return -1;
}

int vt_has_icc(VipsImage *im) {
	return vips_image_get_typeof(im, VIPS_META_ICC_NAME) != 0;
}

// vt_icc points *data at the embedded ICC profile (owned by the image) and
// sets *len, or returns -1 when there is none.
int vt_icc(VipsImage *im, const void **data, size_t *len) {
	if (!vt_has_icc(im)) {
		return -1;
	}
	return vips_image_get_blob(im, VIPS_META_ICC_NAME, data, len);
}

// vt_min_alpha sets *out to the smallest value of the last band (alpha).
int vt_min_alpha(VipsImage *in, double *out) {
	VipsImage *alpha = NULL;
	int err = vips_extract_band(in, &alpha, vips_image_get_bands(in) - 1, NULL) ||
		vips_min(alpha, out, NULL);
	if (alpha != NULL) {
		g_object_unref(alpha);
	}
	return err ? -1 : 0;
}

int vt_avg(VipsImage *in, double *out) {
	return vips_avg(in, out, NULL);
}

// vt_thumbnail_buffer decodes once at the smallest scale that still covers
// width x height, never enlarges, and rotates upright by the EXIF
// orientation. With to_srgb it converts through the embedded ICC profile
// (RGB, CMYK or grey) to 8-bit sRGB; without a profile libvips converts to
// 8-bit sRGB or B_W by itself. Truncation is an error: on 8.14 the
// thumbnail's own fail_on option does not reach a buffer loader, so it goes
// in the loader's option string.
int vt_thumbnail_buffer(void *buf, size_t len, int width, int height, int to_srgb, VipsImage **out) {
	return vips_thumbnail_buffer(buf, len, out, width,
		"height", height,
		"size", VIPS_SIZE_DOWN,
		"option_string", "fail_on=error",
		"export_profile", to_srgb ? "srgb" : NULL,
		NULL);
}

// vt_thumbnail_image resizes an image already decoded and upright, so it
// must not rotate again.
int vt_thumbnail_image(VipsImage *in, int width, int height, int cover, VipsImage **out) {
	return vips_thumbnail_image(in, out, width,
		"height", height,
		"size", VIPS_SIZE_DOWN,
		"no_rotate", TRUE,
		"crop", cover ? VIPS_INTERESTING_CENTRE : VIPS_INTERESTING_NONE,
		NULL);
}

// vt_resize scales an upright 8-bit image by hscale x vscale with a
// Lanczos3 kernel.
// gap is vips_resize's reducing gap: the image is first box-shrunk by
// whole factors while it stays at least gap times the target, which is
// fast but softens fine detail; 0 makes the whole reduction Lanczos.
// Alpha is premultiplied around the resize so that transparent pixels
// do not bleed their colour into their neighbours.
int vt_resize(VipsImage *in, double hscale, double vscale, double gap, VipsImage **out) {
	VipsImage *t[4] = {NULL, NULL, NULL, NULL};
	int err;
	if (vips_image_hasalpha(in)) {
		err = vips_premultiply(in, &t[0], NULL) ||
			vips_resize(t[0], &t[1], hscale, "vscale", vscale, "kernel", VIPS_KERNEL_LANCZOS3, "gap", gap, NULL) ||
			vips_unpremultiply(t[1], &t[2], NULL) ||
			vips_cast(t[2], out, VIPS_FORMAT_UCHAR, NULL);
	} else {
		err = vips_resize(in, out, hscale, "vscale", vscale, "kernel", VIPS_KERNEL_LANCZOS3, "gap", gap, NULL);
	}
	for (int i = 0; i < 4; i++) {
		if (t[i] != NULL) {
			g_object_unref(t[i]);
		}
	}
	return err ? -1 : 0;
}

int vt_colourspace(VipsImage *in, VipsInterpretation space, VipsImage **out) {
	return vips_colourspace(in, out, space, NULL);
}

int vt_cast_uchar(VipsImage *in, VipsImage **out) {
	return vips_cast(in, out, VIPS_FORMAT_UCHAR, NULL);
}

// vt_flatten_white composes the alpha band onto white. One background value
// is used for every band, so grey + alpha works too; white and opaque are
// 65535 in a 16-bit image, 255 otherwise.
int vt_flatten_white(VipsImage *in, VipsImage **out) {
	double max = vips_image_get_format(in) == VIPS_FORMAT_USHORT ? 65535.0 : 255.0;
	VipsArrayDouble *background = vips_array_double_new(&max, 1);
	int err = vips_flatten(in, out, "background", background, "max_alpha", max, NULL);
	vips_area_unref(VIPS_AREA(background));
	return err;
}

// vt_png_flat_thumbnail is vt_thumbnail_buffer for a PNG with alpha whose
// renditions are all opaque (JPEG): it flattens onto white before
// shrinking, which gives the same pixels (compositing on a constant colour
// commutes with premultiplied resampling) without resizing four bands in
// float. PNG has no shrink-on-load, so nothing is lost by loading it here.
int vt_png_flat_thumbnail(void *buf, size_t len, int width, int height, int to_srgb, VipsImage **out) {
	VipsImage *t[2] = {NULL, NULL};
	int err = vips_pngload_buffer(buf, len, &t[0],
			"access", VIPS_ACCESS_SEQUENTIAL,
			"fail_on", VIPS_FAIL_ON_ERROR,
			NULL) ||
		vt_flatten_white(t[0], &t[1]) ||
		vips_thumbnail_image(t[1], out, width,
			"height", height,
			"size", VIPS_SIZE_DOWN,
			"export_profile", to_srgb ? "srgb" : NULL,
			NULL);
	for (int i = 0; i < 2; i++) {
		if (t[i] != NULL) {
			g_object_unref(t[i]);
		}
	}
	return err ? -1 : 0;
}

static int has_prefix(const char *s, const char *prefix) {
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

// vt_strip copies the image header and removes every metadata field a saver
// could write. The savers' strip option is not enough on 8.14: webpsave
// ignores it, and a saver rebuilds EXIF from the exif-* fields when
// exif-data is gone, so those go too. The copy keeps the input untouched,
// since other renditions share it.
int vt_strip(VipsImage *in, VipsImage **out) {
	if (vips_copy(in, out, NULL) != 0) {
		return -1;
	}
	gchar **fields = vips_image_get_fields(*out);
	for (int i = 0; fields[i] != NULL; i++) {
		const char *f = fields[i];
		if (has_prefix(f, "exif-") ||
			has_prefix(f, "png-comment-") ||
			strcmp(f, VIPS_META_XMP_NAME) == 0 ||
			strcmp(f, VIPS_META_IPTC_NAME) == 0 ||
			strcmp(f, VIPS_META_ICC_NAME) == 0 ||
			strcmp(f, VIPS_META_PHOTOSHOP_NAME) == 0 ||
			strcmp(f, VIPS_META_IMAGEDESCRIPTION) == 0 ||
			strcmp(f, VIPS_META_ORIENTATION) == 0) {
			vips_image_remove(*out, f);
		}
	}
	g_strfreev(fields);
	return 0;
}

// vt_preview_rgba fits an upright 8-bit image into size x size and returns
// its pixels as 8-bit RGBA in g_malloc'ed memory: grey becomes RGB, a
// missing alpha band becomes opaque.
int vt_preview_rgba(VipsImage *in, int size, void **buf, size_t *len, int *width, int *height) {
	VipsImage *t[4] = {NULL, NULL, NULL, NULL};
	int err = vips_thumbnail_image(in, &t[0], size, "height", size, "size", VIPS_SIZE_DOWN, "no_rotate", TRUE, NULL) ||
		vips_colourspace(t[0], &t[1], VIPS_INTERPRETATION_sRGB, NULL);
	if (!err && !vips_image_hasalpha(t[1])) {
		err = vips_bandjoin_const1(t[1], &t[2], 255.0, NULL);
	} else if (!err) {
		err = vips_copy(t[1], &t[2], NULL);
	}
	err = err || vips_cast(t[2], &t[3], VIPS_FORMAT_UCHAR, NULL);
	if (!err && vips_image_get_bands(t[3]) != 4) {
		vips_error("vitrine", "preview has %d bands, want 4", vips_image_get_bands(t[3]));
		err = -1;
	}
	if (!err) {
		*buf = vips_image_write_to_memory(t[3], len);
		*width = vips_image_get_width(t[3]);
		*height = vips_image_get_height(t[3]);
		err = *buf == NULL;
	}
	for (int i = 0; i < 4; i++) {
		if (t[i] != NULL) {
			g_object_unref(t[i]);
		}
	}
	return err ? -1 : 0;
}

// vt_jpegsave writes a baseline JPEG with 4:2:0 chroma at every quality,
// as Pillow does: libvips would switch to 4:4:4 from Q 90, which makes the
// note's q90 medium a third larger for no visible gain at 800 px.
int vt_jpegsave(VipsImage *in, int quality, void **buf, size_t *len) {
	return vips_jpegsave_buffer(in, buf, len,
		"Q", quality,
		"optimize_coding", TRUE,
		"interlace", FALSE,
		"subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON,
		"strip", TRUE,
		NULL);
}

int vt_pngsave(VipsImage *in, void **buf, size_t *len) {
	return vips_pngsave_buffer(in, buf, len,
		"compression", 6,
		"strip", TRUE,
		NULL);
}

// vt_webpsave writes lossy WebP; effort 0 keeps libwebp's default (4).
int vt_webpsave(VipsImage *in, int quality, int effort, void **buf, size_t *len) {
	return vips_webpsave_buffer(in, buf, len,
		"Q", quality,
		"effort", effort > 0 ? effort : 4,
		"strip", TRUE,
		NULL);
}

// vt_avifsave writes AVIF through libheif. bitdepth is set because the
// default is 12 bits, which needs more space for the same 8-bit picture.
int vt_avifsave(VipsImage *in, int quality, int effort, void **buf, size_t *len) {
	return vips_heifsave_buffer(in, buf, len,
		"Q", quality,
		"compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
		"bitdepth", 8,
		"effort", effort > 0 ? effort : 4,
		"strip", TRUE,
		NULL);
}

// vt_fixture_save encodes width x height RGBA pixels as a test fixture:
// a CMYK JPEG (through libvips' built-in CMYK profile), a progressive JPEG,
// or a grey + alpha PNG. Only tests call it.
int vt_fixture_save(void *rgba, int width, int height, int kind, void **buf, size_t *len) {
	VipsImage *t[3] = {NULL, NULL, NULL};
	int err = 0;
	t[0] = vips_image_new_from_memory_copy(rgba, (size_t) width * height * 4, width, height, 4, VIPS_FORMAT_UCHAR);
	if (t[0] == NULL) {
		return -1;
	}
	t[0]->Type = VIPS_INTERPRETATION_sRGB;
	switch (kind) {
	case VT_FIXTURE_CMYK_JPEG:
		err = vips_flatten(t[0], &t[1], NULL) ||
			vips_colourspace(t[1], &t[2], VIPS_INTERPRETATION_CMYK, NULL) ||
			vips_jpegsave_buffer(t[2], buf, len, "Q", 95, NULL);
		break;
	case VT_FIXTURE_PROGRESSIVE_JPEG:
		err = vips_flatten(t[0], &t[1], NULL) ||
			vips_jpegsave_buffer(t[1], buf, len, "Q", 95, "interlace", TRUE, NULL);
		break;
	case VT_FIXTURE_GREY_ALPHA_PNG:
		err = vips_colourspace(t[0], &t[1], VIPS_INTERPRETATION_B_W, NULL) ||
			vips_pngsave_buffer(t[1], buf, len, NULL);
		break;
	default:
		vips_error("vitrine", "unknown fixture %d", kind);
		err = -1;
	}
	for (int i = 0; i < 3; i++) {
		if (t[i] != NULL) {
			g_object_unref(t[i]);
		}
	}
	return err ? -1 : 0;
}
