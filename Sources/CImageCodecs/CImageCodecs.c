// JPEG (libjpeg-turbo) and PNG (libpng) decoding from memory. libjpeg reports errors by calling
// error_exit, which by default exits the process; here it longjmps back to the decoder, which
// returns an error code and message instead. Swift cannot call setjmp, hence this C file.
#include "CImageCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

struct cic_jpeg_error {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char *message;
    size_t message_size;
};

static void cic_jpeg_error_exit(j_common_ptr info) {
    struct cic_jpeg_error *err = (struct cic_jpeg_error *)info->err;
    char buffer[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, buffer);
    if (err->message && err->message_size > 0) snprintf(err->message, err->message_size, "%s", buffer);
    longjmp(err->jump, 1);
}

static void cic_jpeg_emit_message(j_common_ptr info, int level) {
    // level -1 is a warning: corrupt entropy data or a premature end of the file. libjpeg would
    // go on and fill the rest of the image with grey; a truncated training image is an error here.
    if (level < 0) cic_jpeg_error_exit(info);
}

int cic_decode_jpeg(const unsigned char *data, size_t size, cic_image *out, char *message, size_t message_size) {
    struct jpeg_decompress_struct info;
    struct cic_jpeg_error err;
    unsigned char *volatile pixels = NULL;
    memset(out, 0, sizeof(*out));
    if (message_size > 0) message[0] = 0;
    info.err = jpeg_std_error(&err.base);
    err.base.error_exit = cic_jpeg_error_exit;
    err.base.emit_message = cic_jpeg_emit_message;
    err.message = message;
    err.message_size = message_size;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&info);
        free(pixels);
        return CIC_ERROR_CORRUPT;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    if (info.jpeg_color_space == JCS_GRAYSCALE) {
        info.out_color_space = JCS_GRAYSCALE;
    } else if (info.jpeg_color_space == JCS_YCbCr || info.jpeg_color_space == JCS_RGB) {
        info.out_color_space = JCS_RGB;
    } else {
        if (message_size > 0) snprintf(message, message_size, "unsupported JPEG colour space %d (CMYK or YCCK)", (int)info.jpeg_color_space);
        jpeg_destroy_decompress(&info);
        return CIC_ERROR_UNSUPPORTED;
    }
    jpeg_start_decompress(&info);
    int width = (int)info.output_width, height = (int)info.output_height, channels = info.output_components;
    size_t stride = (size_t)width * (size_t)channels;
    pixels = malloc(stride * (size_t)height);
    if (!pixels) {
        if (message_size > 0) snprintf(message, message_size, "out of memory for a %dx%d image", width, height);
        jpeg_destroy_decompress(&info);
        return CIC_ERROR_MEMORY;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    out->pixels = pixels;
    out->width = width;
    out->height = height;
    out->channels = channels;
    return CIC_OK;
}

int cic_decode_png(const unsigned char *data, size_t size, cic_image *out, char *message, size_t message_size) {
    png_image image;
    memset(out, 0, sizeof(*out));
    memset(&image, 0, sizeof(image));
    if (message_size > 0) message[0] = 0;
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        if (message_size > 0) snprintf(message, message_size, "%s", image.message);
        png_image_free(&image);
        return CIC_ERROR_CORRUPT;
    }
    if (image.format & PNG_FORMAT_FLAG_LINEAR) {
        // 16-bit samples: the simplified API would convert them through a gamma curve.
        if (message_size > 0) snprintf(message, message_size, "16-bit PNG files are not supported");
        png_image_free(&image);
        return CIC_ERROR_UNSUPPORTED;
    }
    int color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    int channels = color ? 3 : 1;
    size_t bytes = PNG_IMAGE_SIZE(image);
    unsigned char *pixels = malloc(bytes);
    if (!pixels) {
        if (message_size > 0) snprintf(message, message_size, "out of memory for a %ux%u image", image.width, image.height);
        png_image_free(&image);
        return CIC_ERROR_MEMORY;
    }
    if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
        if (message_size > 0) snprintf(message, message_size, "%s", image.message);
        free(pixels);
        png_image_free(&image);
        return CIC_ERROR_CORRUPT;
    }
    out->pixels = pixels;
    out->width = (int)image.width;
    out->height = (int)image.height;
    out->channels = channels;
    return CIC_OK;
}

void cic_free(cic_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}
