#include "ck_pooling.h"
#include "ck_internal.h"

#include <string.h>

// Channels per block: the running maxima (and their indices) of one block stay in registers while
// the window is walked (one 512-bit vector, two 256-bit or four 128-bit ones).
enum { CK_POOL_BLOCK = 16 };

// Loads the 16 input values of a block at flat offset base (even when dropout is given), with the
// dropout factors applied when dropout is not NULL (one hash for each pair of elements).
static inline __attribute__((always_inline)) void load_block(
    const float *restrict x, ptrdiff_t base, const ck_dropout_mask *dropout, float v[CK_POOL_BLOCK]) {
    if (dropout) {
        const uint64_t key = dropout->key, threshold = dropout->threshold;
        const float scale = dropout->scale;
        const uint64_t pair0 = (uint64_t)base >> 1;
        for (int p = 0; p < CK_POOL_BLOCK / 2; p++) {
            const uint64_t z = ck_dropout_hash(key, pair0 + (uint64_t)p);
            v[2 * p] = x[base + 2 * p] * ((z >> 32) >= threshold ? scale : 0.0f);
            v[2 * p + 1] = x[base + 2 * p + 1] * ((z & 0xFFFFFFFFull) >= threshold ? scale : 0.0f);
        }
    } else {
        for (int l = 0; l < CK_POOL_BLOCK; l++) v[l] = x[base + l];
    }
}

// One input value, with its dropout factor when dropout is not NULL.
static inline __attribute__((always_inline)) float load_one(const float *restrict x, ptrdiff_t e,
                                                            const ck_dropout_mask *dropout) {
    return dropout ? x[e] * ck_dropout_factor(dropout->key, dropout->threshold, dropout->scale, (uint64_t)e) : x[e];
}

// The maximum of one window whose real part is nh x nw elements starting at flat input offset
// `first`, for every channel. Called with constant nh, nw (and with_indices, and dropout NULL or
// not) so the window loops unroll; the rule of every max kernel here: v > best or v is NaN takes over.
static inline __attribute__((always_inline)) void pool_window(
    const float *restrict x, ptrdiff_t c, ptrdiff_t row_stride, ptrdiff_t first, ptrdiff_t nh, ptrdiff_t nw,
    float *restrict o, int32_t *restrict ix, int with_indices, const ck_dropout_mask *dropout) {
    ptrdiff_t k = 0;
    for (; k + CK_POOL_BLOCK <= c; k += CK_POOL_BLOCK) {
        float best[CK_POOL_BLOCK];
        int32_t at[CK_POOL_BLOCK];
        const ptrdiff_t start = first + k;
        load_block(x, start, dropout, best);
        for (int l = 0; l < CK_POOL_BLOCK; l++) {
            if (with_indices) at[l] = (int32_t)(start + l);
        }
        for (ptrdiff_t i = 0; i < nh; i++) {
            for (ptrdiff_t j = (i == 0 ? 1 : 0); j < nw; j++) {
                const ptrdiff_t base = start + i * row_stride + j * c;
                float v[CK_POOL_BLOCK];
                load_block(x, base, dropout, v);
                for (int l = 0; l < CK_POOL_BLOCK; l++) {
                    const int takes = (v[l] > best[l]) | (v[l] != v[l]);
                    best[l] = takes ? v[l] : best[l];
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
        float best = load_one(x, first + k, dropout);
        int32_t at = (int32_t)(first + k);
        for (ptrdiff_t i = 0; i < nh; i++) {
            for (ptrdiff_t j = (i == 0 ? 1 : 0); j < nw; j++) {
                const ptrdiff_t base = first + k + i * row_stride + j * c;
                const float v = load_one(x, base, dropout);
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
    const ck_dropout_mask *dropout, ptrdiff_t first_row, ptrdiff_t rows, int with_indices) {
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
                pool_window(x, c, row_stride, first, 2, 2, o, ix, with_indices, dropout);
            } else if (nh == 3 && nw == 3) {
                pool_window(x, c, row_stride, first, 3, 3, o, ix, with_indices, dropout);
            } else {
                pool_window(x, c, row_stride, first, nh, nw, o, ix, with_indices, dropout);
            }
        }
    }
}

CK_MULTIVERSION
void ck_max_pool2d_f32(const float *restrict x, float *restrict out, int32_t *restrict indices,
                       const ck_pool2d_geometry *g, const ck_dropout_mask *dropout, ptrdiff_t first_row,
                       ptrdiff_t rows) {
    if (g->channels <= 0) return;
    if (dropout) {
        if (indices) {
            pool_rows(x, out, indices, g, dropout, first_row, rows, 1);
        } else {
            pool_rows(x, out, 0, g, dropout, first_row, rows, 0);
        }
    } else if (indices) {
        pool_rows(x, out, indices, g, 0, first_row, rows, 1);
    } else {
        pool_rows(x, out, 0, g, 0, first_row, rows, 0);
    }
}

static inline __attribute__((always_inline)) void backward_disjoint_rows(
    const float *restrict grad, const int32_t *restrict indices, float *restrict dx, const ck_pool2d_geometry *g,
    const ck_dropout_mask *dropout, ptrdiff_t first_row, ptrdiff_t rows) {
    const ptrdiff_t c = g->channels;
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
            const ptrdiff_t flat = (r * g->width + w) * c;
            if (dropout) {
                // flat is even (channels are): elements 2p and 2p + 1 share hash flat / 2 + p.
                const uint64_t key = dropout->key, threshold = dropout->threshold, pair0 = (uint64_t)flat >> 1;
                const float scale = dropout->scale;
                for (ptrdiff_t p = 0; p < c / 2; p++) {
                    const uint64_t z = ck_dropout_hash(key, pair0 + (uint64_t)p);
                    const ptrdiff_t k = 2 * p;
                    const float v0 = iw[k] == (int32_t)(flat + k) ? gw[k] : 0.0f;
                    const float v1 = iw[k + 1] == (int32_t)(flat + k + 1) ? gw[k + 1] : 0.0f;
                    dw[k] = v0 * ((z >> 32) >= threshold ? scale : 0.0f);
                    dw[k + 1] = v1 * ((z & 0xFFFFFFFFull) >= threshold ? scale : 0.0f);
                }
            } else {
                for (ptrdiff_t k = 0; k < c; k++) dw[k] = iw[k] == (int32_t)(flat + k) ? gw[k] : 0.0f;
            }
        }
    }
}

CK_MULTIVERSION
void ck_max_pool2d_backward_disjoint_f32(const float *restrict grad, const int32_t *restrict indices,
                                         float *restrict dx, const ck_pool2d_geometry *g,
                                         const ck_dropout_mask *dropout, ptrdiff_t first_row, ptrdiff_t rows) {
    if (g->channels <= 0) return;
    if (dropout) {
        backward_disjoint_rows(grad, indices, dx, g, dropout, first_row, rows);
    } else {
        backward_disjoint_rows(grad, indices, dx, g, 0, first_row, rows);
    }
}

void ck_scatter_add_f32(const float *restrict grad, const int32_t *restrict indices, float *restrict dx,
                        ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i++) dx[indices[i]] += grad[i];
}
