#ifndef SDL_CIMAGECODECS_H
#define SDL_CIMAGECODECS_H

#include <stddef.h>

/// A decoded 8-bit image: `height` rows of `width` pixels of `channels` interleaved samples
/// (1 = grayscale, 3 = RGB). `pixels` is allocated with malloc; release it with `cic_free`.
typedef struct cic_image {
    unsigned char *pixels;
    int width;
    int height;
    int channels;
} cic_image;

/// Status codes of the decoders.
enum {
    CIC_OK = 0,
    CIC_ERROR_CORRUPT = 1,      ///< the codec reported an error or a warning (corrupt or truncated data)
    CIC_ERROR_UNSUPPORTED = 2,  ///< a valid file of a kind this library does not decode (CMYK, 16-bit...)
    CIC_ERROR_MEMORY = 3        ///< allocation failed
};

/// Decodes a baseline or progressive JPEG from memory into grayscale or RGB (as stored).
/// Returns a status code and writes a message into `message` (of `message_size` bytes) on failure.
/// libjpeg warnings (premature end of data, corrupt entropy data) are treated as errors.
int cic_decode_jpeg(const unsigned char *data, size_t size, cic_image *out, char *message, size_t message_size);

/// Decodes an 8-bit PNG from memory into grayscale or RGB (palette images become RGB; an alpha
/// channel is dropped by compositing onto black, as libpng's simplified API does).
int cic_decode_png(const unsigned char *data, size_t size, cic_image *out, char *message, size_t message_size);

/// Releases the pixels of an image returned by a decoder.
void cic_free(cic_image *image);

#endif
