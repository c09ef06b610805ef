// Depthwise convolution: see ck_depthwise.h.
//
// Every loop nest ends in a loop over the contiguous channel axis (C floats, or C * M with a depth
// multiplier), which the compiler vectorizes; with M = 1 (Xception's case) the sums of a block of
// 64 channels stay in registers across the terms (a sum accumulated in memory waits for its own
// previous store at every term: 4-9 cycles per vector instead of about 1). Taps in the padding are
// skipped: each pixel gets its list of in-range taps (forward) or of the output pixels it feeds
// (input gradient, a gather, so each input element is written once); the filter gradient sums, per
// output row and tap, over the row's pixels for which that tap is in range.
#include "ck_depthwise.h"
#include "ck_internal.h"

/// The taps `first ..< end` of a kernel of `kernel` taps, `dilation` apart from `origin`, that
/// land inside `0 ..< size`.
CK_ALWAYS_INLINE void tap_range(ptrdiff_t origin, ptrdiff_t dilation, ptrdiff_t kernel, ptrdiff_t size,
                                ptrdiff_t *first, ptrdiff_t *end) {
    ptrdiff_t lo = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
    ptrdiff_t hi = size - origin <= 0 ? 0 : (size - origin + dilation - 1) / dilation;
    if (hi > kernel) hi = kernel;
    if (lo > hi) lo = hi;
    *first = lo;
    *end = hi;
}

/// The channels of one pixel, in blocks whose sums stay in registers across the taps: a block
/// accumulated in memory instead waits for its own previous store at every tap.
enum { CK_BLOCK = 64 };

/// out[c] (= or +=, by `accumulate`) the sum over terms t < count of x[x_offsets[t] + c] *
/// w[w_offsets[t] + c], for the channels c0 ..< c0 + width (width CK_BLOCK or 16 for register
/// sums, or the tail).
CK_ALWAYS_INLINE void dot_block(float *restrict out, const float *restrict x, const ptrdiff_t *restrict x_offsets,
                                const float *restrict w, const ptrdiff_t *restrict w_offsets, ptrdiff_t count,
                                ptrdiff_t c0, const ptrdiff_t width, int accumulate) {
    float acc[CK_BLOCK];
    for (ptrdiff_t k = 0; k < width; k++) acc[k] = 0.0f;
    for (ptrdiff_t t = 0; t < count; t++) {
        const float *restrict xp = x + x_offsets[t] + c0;
        const float *restrict wp = w + w_offsets[t] + c0;
        for (ptrdiff_t k = 0; k < width; k++) acc[k] += xp[k] * wp[k];
    }
    if (accumulate) {
        for (ptrdiff_t k = 0; k < width; k++) out[c0 + k] += acc[k];
    } else {
        for (ptrdiff_t k = 0; k < width; k++) out[c0 + k] = acc[k];
    }
}

/// The width of the channel block that starts at c0 of n channels: 64, 32 or 16 (register sums),
/// or the tail.
CK_ALWAYS_INLINE ptrdiff_t block_width(ptrdiff_t c0, ptrdiff_t n) {
    const ptrdiff_t left = n - c0;
    return left >= CK_BLOCK ? CK_BLOCK : left >= 32 ? 32 : left >= 16 ? 16 : left;
}

/// dot_block for the block at c0 of `width` = block_width(c0, n), with the width a constant in
/// each call so that the sums stay in registers.
CK_ALWAYS_INLINE void dot_block_any(float *restrict out, const float *restrict x, const ptrdiff_t *restrict x_offsets,
                                    const float *restrict w, const ptrdiff_t *restrict w_offsets, ptrdiff_t count,
                                    ptrdiff_t c0, ptrdiff_t width, int accumulate) {
    if (width == CK_BLOCK) dot_block(out, x, x_offsets, w, w_offsets, count, c0, CK_BLOCK, accumulate);
    else if (width == 32) dot_block(out, x, x_offsets, w, w_offsets, count, c0, 32, accumulate);
    else if (width == 16) dot_block(out, x, x_offsets, w, w_offsets, count, c0, 16, accumulate);
    else dot_block(out, x, x_offsets, w, w_offsets, count, c0, width, accumulate);
}

/// dot_block over every channel c < n.
CK_ALWAYS_INLINE void dot_channels(float *restrict out, const float *restrict x, const ptrdiff_t *restrict x_offsets,
                                   const float *restrict w, const ptrdiff_t *restrict w_offsets, ptrdiff_t count,
                                   ptrdiff_t n, int accumulate) {
    for (ptrdiff_t c = 0, width; c < n; c += width) {
        width = block_width(c, n);
        dot_block_any(out, x, x_offsets, w, w_offsets, count, c, width, accumulate);
    }
}

/// out[c * M + m] (= or +=) x[c] * w[c * M + m] for every channel (the M > 1 loops).
CK_ALWAYS_INLINE void multiply_add(float *restrict out, const float *restrict x, const float *restrict w,
                                ptrdiff_t channels, ptrdiff_t multiplier, int accumulate) {
    for (ptrdiff_t c = 0; c < channels; c++) {
        const float v = x[c];
        float *restrict o = out + c * multiplier;
        const float *restrict k = w + c * multiplier;
        if (accumulate) {
            for (ptrdiff_t m = 0; m < multiplier; m++) o[m] += v * k[m];
        } else {
            for (ptrdiff_t m = 0; m < multiplier; m++) o[m] = v * k[m];
        }
    }
}

CK_MULTIVERSION
void ck_depthwise_forward_f32(const ck_depthwise_shape *s, const float *restrict x, const float *restrict w,
                              float *restrict y, ptrdiff_t row_begin, ptrdiff_t row_end) {
    const ptrdiff_t c = s->channels, m = s->multiplier, cm = c * m, kw = s->kernel_width;
    const ptrdiff_t most = s->kernel_height * kw;
    ptrdiff_t x_offsets[most], w_offsets[most];
    for (ptrdiff_t r = row_begin; r < row_end; r++) {
        const ptrdiff_t n = r / s->out_height, i = r % s->out_height;
        const ptrdiff_t oy = i * s->stride_h - s->pad_top;
        ptrdiff_t a0, a1;
        tap_range(oy, s->dilation_h, s->kernel_height, s->height, &a0, &a1);
        const float *restrict image = x + n * s->height * s->width * c;
        for (ptrdiff_t j = 0; j < s->out_width; j++) {
            const ptrdiff_t ox = j * s->stride_w - s->pad_left;
            ptrdiff_t b0, b1;
            tap_range(ox, s->dilation_w, kw, s->width, &b0, &b1);
            float *restrict out = y + (r * s->out_width + j) * cm;
            ptrdiff_t count = 0;
            for (ptrdiff_t a = a0; a < a1; a++) {
                for (ptrdiff_t b = b0; b < b1; b++) {
                    x_offsets[count] = ((oy + a * s->dilation_h) * s->width + ox + b * s->dilation_w) * c;
                    w_offsets[count++] = (a * kw + b) * cm;
                }
            }
            if (m == 1) {
                dot_channels(out, image, x_offsets, w, w_offsets, count, c, 0);
                continue;
            }
            if (count == 0) {
                for (ptrdiff_t e = 0; e < cm; e++) out[e] = 0.0f;
                continue;
            }
            for (ptrdiff_t t = 0; t < count; t++)
                multiply_add(out, image + x_offsets[t], w + w_offsets[t], c, m, t > 0);
        }
    }
}

CK_MULTIVERSION
void ck_depthwise_backward_input_f32(const ck_depthwise_shape *s, const float *restrict dy, const float *restrict w,
                                     float *restrict dx, ptrdiff_t row_begin, ptrdiff_t row_end) {
    const ptrdiff_t c = s->channels, m = s->multiplier, cm = c * m, kw = s->kernel_width;
    const ptrdiff_t most = s->kernel_height * kw;
    ptrdiff_t rows_a[s->kernel_height], rows_i[s->kernel_height];
    ptrdiff_t g_offsets[most], w_offsets[most];
    for (ptrdiff_t r = row_begin; r < row_end; r++) {
        const ptrdiff_t n = r / s->height, yy = r % s->height;
        // The kernel rows a and output rows i with i * sh + a * dh - top == yy.
        ptrdiff_t row_count = 0;
        for (ptrdiff_t a = 0; a < s->kernel_height; a++) {
            const ptrdiff_t t = yy + s->pad_top - a * s->dilation_h;
            if (t < 0) break;
            if (t % s->stride_h != 0 || t / s->stride_h >= s->out_height) continue;
            rows_a[row_count] = a;
            rows_i[row_count++] = t / s->stride_h;
        }
        const float *restrict image = dy + n * s->out_height * s->out_width * cm;
        for (ptrdiff_t xx = 0; xx < s->width; xx++) {
            float *restrict d = dx + (r * s->width + xx) * c;
            // The output pixels (i, j) and taps (a, b) that read input pixel (yy, xx).
            ptrdiff_t count = 0;
            for (ptrdiff_t b = 0; b < kw && row_count > 0; b++) {
                const ptrdiff_t t = xx + s->pad_left - b * s->dilation_w;
                if (t < 0) break;
                if (t % s->stride_w != 0 || t / s->stride_w >= s->out_width) continue;
                for (ptrdiff_t p = 0; p < row_count; p++) {
                    g_offsets[count] = (rows_i[p] * s->out_width + t / s->stride_w) * cm;
                    w_offsets[count++] = (rows_a[p] * kw + b) * cm;
                }
            }
            if (m == 1) {
                dot_channels(d, image, g_offsets, w, w_offsets, count, c, 0);
                continue;
            }
            for (ptrdiff_t e = 0; e < c; e++) {
                float sum = 0.0f;
                for (ptrdiff_t t = 0; t < count; t++) {
                    const float *restrict up = image + g_offsets[t] + e * m;
                    const float *restrict k = w + w_offsets[t] + e * m;
                    for (ptrdiff_t v = 0; v < m; v++) sum += up[v] * k[v];
                }
                d[e] = sum;
            }
        }
    }
}

/// Output pixels whose filter-gradient sums are formed in `scratch` before being added to `dw`.
enum { CK_DEPTHWISE_FLUSH_PIXELS = 256 };

CK_MULTIVERSION
void ck_depthwise_backward_filter_f32(const ck_depthwise_shape *s, const float *restrict x, const float *restrict dy,
                                      float *restrict dw, float *restrict scratch, ptrdiff_t row_begin,
                                      ptrdiff_t row_end) {
    const ptrdiff_t c = s->channels, m = s->multiplier, cm = c * m, kw = s->kernel_width;
    const ptrdiff_t size = s->kernel_height * kw * cm;
    ptrdiff_t x_offsets[s->out_width], g_offsets[s->out_width];
    ptrdiff_t pending = 0;
    for (ptrdiff_t e = 0; e < size; e++) scratch[e] = 0.0f;
    for (ptrdiff_t r = row_begin; r < row_end; r++) {
        const ptrdiff_t n = r / s->out_height, i = r % s->out_height;
        const ptrdiff_t oy = i * s->stride_h - s->pad_top;
        ptrdiff_t a0, a1;
        tap_range(oy, s->dilation_h, s->kernel_height, s->height, &a0, &a1);
        const float *restrict g = dy + r * s->out_width * cm;
        if (m > 1) {
            for (ptrdiff_t a = a0; a < a1; a++) {
                const float *restrict row = x + (n * s->height + oy + a * s->dilation_h) * s->width * c;
                for (ptrdiff_t b = 0; b < kw; b++) {
                    ptrdiff_t j0, j1;
                    tap_range(b * s->dilation_w - s->pad_left, s->stride_w, s->out_width, s->width, &j0, &j1);
                    for (ptrdiff_t j = j0; j < j1; j++)
                        multiply_add(scratch + (a * kw + b) * cm,
                                     row + (j * s->stride_w + b * s->dilation_w - s->pad_left) * c, g + j * cm, c, m, 1);
                }
            }
        } else {
            // Channel blocks outermost: one block's slices of the upstream row and the input rows
            // stay in L1 across the taps.
            for (ptrdiff_t c0 = 0, width; c0 < c; c0 += width) {
                width = block_width(c0, c);
                for (ptrdiff_t a = a0; a < a1; a++) {
                    const float *restrict row = x + (n * s->height + oy + a * s->dilation_h) * s->width * c;
                    for (ptrdiff_t b = 0; b < kw; b++) {
                        // The pixels j of this row whose tap b is in range: j * sw + b * dw - left in 0 ..< W.
                        ptrdiff_t j0, j1;
                        tap_range(b * s->dilation_w - s->pad_left, s->stride_w, s->out_width, s->width, &j0, &j1);
                        for (ptrdiff_t j = j0; j < j1; j++) {
                            x_offsets[j - j0] = (j * s->stride_w + b * s->dilation_w - s->pad_left) * c;
                            g_offsets[j - j0] = j * cm;
                        }
                        dot_block_any(scratch + (a * kw + b) * cm, row, x_offsets, g, g_offsets, j1 - j0, c0, width, 1);
                    }
                }
            }
        }
        pending += s->out_width;
        if (pending >= CK_DEPTHWISE_FLUSH_PIXELS || r + 1 == row_end) {
            for (ptrdiff_t e = 0; e < size; e++) {
                dw[e] += scratch[e];
                scratch[e] = 0.0f;
            }
            pending = 0;
        }
    }
}
