#include "ck_pooling.h"
#include "ck_internal.h"

#include <string.h>

// Channels per block: the running maxima (and their indices) of one block stay in registers while
// the window is walked (one 512-bit vector, two 256-bit or four 128-bit ones).
enum { CK_POOL_BLOCK = 16 };

// The maximum of one window whose real part is nh x nw elements starting at flat input offset
// `first`, for every channel. Called with constant nh, nw (and with_indices) so the window loops
// unroll; `rule` is the one of every max kernel here: v > best or v is NaN takes over.
static inline __attribute__((always_inline)) void pool_window(
    const float *restrict x, ptrdiff_t c, ptrdiff_t row_stride, ptrdiff_t first, ptrdiff_t nh, ptrdiff_t nw,
    float *restrict o, int32_t *restrict ix, int with_indices) {
    ptrdiff_t k = 0;
    for (; k + CK_POOL_BLOCK <= c; k += CK_POOL_BLOCK) {
        float best[CK_POOL_BLOCK];
        int32_t at[CK_POOL_BLOCK];
        const ptrdiff_t start = first + k;
        for (int l = 0; l < CK_POOL_BLOCK; l++) {
            best[l] = x[start + l];
            if (with_indices) at[l] = (int32_t)(start + l);
        }
        for (ptrdiff_t i = 0; i < nh; i++) {
            for (ptrdiff_t j = (i == 0 ? 1 : 0); j < nw; j++) {
                const ptrdiff_t base = start + i * row_stride + j * c;
                for (int l = 0; l < CK_POOL_BLOCK; l++) {
                    const float v = x[base + l];
                    const int takes = (v > best[l]) | (v != v);
                    best[l] = takes ? v : best[l];
                    if (with_indices) at[l] = takes ? (int32_t)(base + l) : at[l];
                }
            }
        }
        for (int l = 0; l < CK_POOL_BLOCK; l++) {
            o[k + l] = best[l];
            if (with_indices) ix[k + l] = at[l];
        }
    }
    for (; k < c; k++) {
        float best = x[first + k];
        int32_t at = (int32_t)(first + k);
        for (ptrdiff_t i = 0; i < nh; i++) {
            for (ptrdiff_t j = (i == 0 ? 1 : 0); j < nw; j++) {
                const ptrdiff_t base = first + k + i * row_stride + j * c;
                const float v = x[base];
                if (v > best || v != v) {
                    best = v;
                    at = (int32_t)base;
                }
            }
        }
        o[k] = best;
        if (with_indices) ix[k] = at;
    }
}

static inline __attribute__((always_inline)) void pool_rows(
    const float *restrict x, float *restrict out, int32_t *restrict indices, const ck_pool2d_geometry *g,
    ptrdiff_t first_row, ptrdiff_t rows, int with_indices) {
    const ptrdiff_t c = g->channels, row_stride = g->width * c;
    for (ptrdiff_t r = first_row; r < first_row + rows; r++) {
        const ptrdiff_t n = r / g->out_h, oh = r % g->out_h;
        ptrdiff_t h0 = oh * g->stride_h - g->pad_top, h1 = h0 + g->pool_h;
        if (h0 < 0) h0 = 0;
        if (h1 > g->height) h1 = g->height;
        const ptrdiff_t nh = h1 - h0;
        for (ptrdiff_t ow = 0; ow < g->out_w; ow++) {
            ptrdiff_t w0 = ow * g->stride_w - g->pad_left, w1 = w0 + g->pool_w;
            if (w0 < 0) w0 = 0;
            if (w1 > g->width) w1 = g->width;
            const ptrdiff_t nw = w1 - w0;
            const ptrdiff_t first = ((n * g->height + h0) * g->width + w0) * c;
            const ptrdiff_t offset = (r * g->out_w + ow) * c;
            float *restrict o = out + offset;
            int32_t *restrict ix = with_indices ? indices + offset : 0;
            // The seed models' windows (2x2, and 3x3 away from the borders) with constant bounds.
            if (nh == 2 && nw == 2) {
                pool_window(x, c, row_stride, first, 2, 2, o, ix, with_indices);
            } else if (nh == 3 && nw == 3) {
                pool_window(x, c, row_stride, first, 3, 3, o, ix, with_indices);
            } else {
                pool_window(x, c, row_stride, first, nh, nw, o, ix, with_indices);
            }
        }
    }
}

CK_MULTIVERSION
void ck_max_pool2d_f32(const float *restrict x, float *restrict out, int32_t *restrict indices,
                       const ck_pool2d_geometry *g, ptrdiff_t first_row, ptrdiff_t rows) {
    if (g->channels <= 0) return;
    if (indices) {
        pool_rows(x, out, indices, g, first_row, rows, 1);
    } else {
        pool_rows(x, out, 0, g, first_row, rows, 0);
    }
}

CK_MULTIVERSION
void ck_max_pool2d_backward_disjoint_f32(const float *restrict grad, const int32_t *restrict indices,
                                         float *restrict dx, const ck_pool2d_geometry *g,
                                         ptrdiff_t first_row, ptrdiff_t rows) {
    const ptrdiff_t c = g->channels;
    if (c <= 0) return;
    for (ptrdiff_t r = first_row; r < first_row + rows; r++) {
        const ptrdiff_t n = r / g->height, h = r % g->height;
        float *restrict d = dx + r * g->width * c;
        // The window row covering input row h, if any (windows do not overlap: at most one).
        const ptrdiff_t ph = h + g->pad_top, oh = ph / g->stride_h;
        if (oh >= g->out_h || ph - oh * g->stride_h >= g->pool_h) {
            memset(d, 0, (size_t)(g->width * c) * sizeof(float));
            continue;
        }
        for (ptrdiff_t w = 0; w < g->width; w++) {
            float *restrict dw = d + w * c;
            const ptrdiff_t pw = w + g->pad_left, ow = pw / g->stride_w;
            if (ow >= g->out_w || pw - ow * g->stride_w >= g->pool_w) {
                for (ptrdiff_t k = 0; k < c; k++) dw[k] = 0.0f;
                continue;
            }
            const ptrdiff_t o = ((n * g->out_h + oh) * g->out_w + ow) * c;
            const float *restrict gw = grad + o;
            const int32_t *restrict iw = indices + o;
            const int32_t flat = (int32_t)((r * g->width + w) * c);
            for (ptrdiff_t k = 0; k < c; k++) dw[k] = iw[k] == flat + (int32_t)k ? gw[k] : 0.0f;
        }
    }
}

void ck_scatter_add_f32(const float *restrict grad, const int32_t *restrict indices, float *restrict dx,
                        ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i++) dx[indices[i]] += grad[i];
}
