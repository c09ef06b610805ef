// Winograd F(4x4, 3x3) for Float NHWC tensors: the forward pass with a fused bias + ReLU
// epilogue (also the input gradient, with the rotated kernel) and the filter gradient.
//
// Each 4x4 block of outputs (a tile) comes from the 6x6 input patch around it as
// `A^T [(G g G^T) .* (B^T d B)] A`. Over all channels the 36 elementwise products are 36 matrix
// products `M_e [tiles, Cout] = V_e [tiles, Cin] * U_e [Cin, Cout]`. The tiles are processed in
// blocks small enough that a block's transformed input V and products M stay in the core's L2
// cache: per block, the input transform writes V, a register-blocked micro-kernel computes M one
// 32-channel panel of outputs at a time, and the output transform reads that panel of M and
// writes the output with the bias and ReLU applied. Nothing here calls BLAS, so the caller may run
// blocks on several threads.
//
// The filter gradient is the transpose: per tile, `dU_e += V_e^T W_e` with `W = A dY A^T` (the
// output gradient's 4x4 tile taken to the transform domain), summed over the tiles, and at the end
// `dg = G^T dU G`.
//
// Vectors are 16 floats (GCC vector extensions): one AVX-512 register in the x86-64-v4 clone,
// two or four registers in the others. Every helper is `always_inline`, so it is compiled into
// each clone of the multiversioned entry points.
//
// Layouts (all rows 64-byte aligned in the workspace):
// - packed filter: `[panel][e][Cin][32]`, output channel `panel * 32 + lane`, zero past Cout;
// - V: `[e][block][ldv]`, ldv = Cin rounded up to 16 (the lanes past Cin hold zeros);
// - M: `[e][block][32]`, one output panel;
// - W (filter gradient): `[e][block][ldw]`, ldw = Cout rounded up to 32;
// - filter-gradient partial sums dU: `[panel][e][Cin][32]`.
//
// Transform matrices: Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks" (2016),
// interpolation points 0, 1, -1, 2, -2 and infinity (the same as Sources/Tensor/Winograd.swift).
#include "ck_winograd.h"
#include "ck_internal.h"

#include <string.h>

// The vector helpers are always inlined, so their (16-float vector) calling convention never
// matters; clang warns about it in the clones without AVX-512.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float wg_v __attribute__((vector_size(64)));
typedef float wg_vu __attribute__((vector_size(64), aligned(4)));
typedef int wg_vi __attribute__((vector_size(64)));

#define WG_INLINE static inline __attribute__((always_inline))
// Loops with a constant trip count are unrolled so their arrays of vectors live in registers.
#define WG_UNROLL _Pragma("clang loop unroll(full)")
#ifdef WG_PROFILE
#define WG_BLOCK static __attribute__((noinline))
#else
#define WG_BLOCK WG_INLINE
#endif

enum {
    WG_LANES = 16,   // floats per vector
    WG_NR = 32,      // output channels per micro-kernel panel (two vectors)
    WG_MR = 12,      // rows per micro-kernel call
    WG_E = 36,       // transform-domain elements per tile
};

// Target bytes of one block's transformed data (V and M, or V and W), per thread.
#define WG_BLOCK_BYTES (1 << 20)
#define WG_MAX_BLOCK 240
// How many tiles ahead the input transform prefetches its input, for at most this many channels:
// with few channels per pixel the transforms outrun the hardware prefetcher (vgg3's 150x150x32
// layer on one thread: 48-56 -> 44 ms); with more, the prefetches cost more than they gain.
#define WG_PREFETCH_TILES 2
#define WG_PREFETCH_CHANNELS 32

static ptrdiff_t wg_round_up(ptrdiff_t n, ptrdiff_t m) { return (n + m - 1) / m * m; }

WG_INLINE wg_v wg_splat(float x) { return (wg_v){0} + x; }
WG_INLINE wg_v wg_load(const float *p) { return *(const wg_vu *)p; }
WG_INLINE void wg_store(float *p, wg_v x) { *(wg_vu *)p = x; }
WG_INLINE wg_v wg_load_n(const float *p, ptrdiff_t n) {
    wg_v x = {0};
    memcpy(&x, p, (size_t)n * sizeof(float));
    return x;
}
WG_INLINE void wg_store_n(float *p, wg_v x, ptrdiff_t n) { memcpy(p, &x, (size_t)n * sizeof(float)); }

// max(x, 0) with a NaN kept: lanes below zero cleared.
WG_INLINE wg_v wg_relu(wg_v x) { return (wg_v)((wg_vi)x & ~(wg_vi)(x < 0.0f)); }

// MARK: 1-D transforms

// B^T x, rows (4, 0, -5, 0, 1, 0), (0, -4, -4, 1, 1, 0), (0, 4, -4, -1, 1, 0), (0, -2, -1, 2, 1, 0),
// (0, 2, -1, -2, 1, 0), (0, 4, 0, -5, 0, 1).
WG_INLINE void wg_bt(const wg_v x[6], wg_v y[6]) {
    const wg_v t1 = x[4] - 4.0f * x[2], t2 = x[3] - 4.0f * x[1];
    const wg_v t3 = x[4] - x[2], t4 = 2.0f * (x[3] - x[1]);
    y[0] = 4.0f * x[0] - 5.0f * x[2] + x[4];
    y[1] = t1 + t2;
    y[2] = t1 - t2;
    y[3] = t3 + t4;
    y[4] = t3 - t4;
    y[5] = 4.0f * x[1] - 5.0f * x[3] + x[5];
}

// A^T x, rows (1, 1, 1, 1, 1, 0), (0, 1, -1, 2, -2, 0), (0, 1, 1, 4, 4, 0), (0, 1, -1, 8, -8, 1).
WG_INLINE void wg_at(const wg_v x[6], wg_v y[4]) {
    const wg_v s12 = x[1] + x[2], d12 = x[1] - x[2], s34 = x[3] + x[4], d34 = x[3] - x[4];
    y[0] = x[0] + s12 + s34;
    y[1] = d12 + 2.0f * d34;
    y[2] = s12 + 4.0f * s34;
    y[3] = d12 + 8.0f * d34 + x[5];
}

// A x (the transpose of A^T), 4 values to 6.
WG_INLINE void wg_a(const wg_v x[4], wg_v y[6]) {
    const wg_v s02 = x[0] + x[2], s13 = x[1] + x[3];
    const wg_v f02 = x[0] + 4.0f * x[2], f13 = 2.0f * x[1] + 8.0f * x[3];
    y[0] = x[0];
    y[1] = s02 + s13;
    y[2] = s02 - s13;
    y[3] = f02 + f13;
    y[4] = f02 - f13;
    y[5] = x[3];
}

// G x for 3 kernel taps: rows (1/4, 0, 0), (-1/6, -1/6, -1/6), (-1/6, 1/6, -1/6),
// (1/24, 1/12, 1/6), (1/24, -1/12, 1/6), (0, 0, 1).
WG_INLINE void wg_g(const wg_v x[3], wg_v y[6]) {
    const wg_v x0 = x[0], x1 = x[1], x2 = x[2];
    const wg_v s02 = x0 + x2;
    const wg_v e = x0 * (1.0f / 24) + x2 * (1.0f / 6), o = x1 * (1.0f / 12);
    y[0] = x0 * 0.25f;
    y[1] = -(s02 + x1) * (1.0f / 6);
    y[2] = -(s02 - x1) * (1.0f / 6);
    y[3] = e + o;
    y[4] = e - o;
    y[5] = x2;
}

// G^T y, 6 values to 3 (the filter gradient's last step).
WG_INLINE void wg_gt(const wg_v y[6], wg_v x[3]) {
    const wg_v s12 = y[1] + y[2], d12 = y[2] - y[1], s34 = y[3] + y[4], d34 = y[3] - y[4];
    x[0] = y[0] * 0.25f - s12 * (1.0f / 6) + s34 * (1.0f / 24);
    x[1] = d12 * (1.0f / 6) + d34 * (1.0f / 12);
    x[2] = (s34 - s12) * (1.0f / 6) + y[5];
}

// MARK: Tiles

typedef struct {
    ptrdiff_t tiles_high, tiles_wide, per_image, batch;
} wg_tiling;

WG_INLINE wg_tiling wg_tiling_of(const ck_winograd_shape *s) {
    wg_tiling t;
    t.tiles_high = (s->out_height + 3) / 4;
    t.tiles_wide = (s->out_width + 3) / 4;
    t.per_image = t.tiles_high * t.tiles_wide;
    t.batch = s->batch;
    return t;
}

// A walk over consecutive tiles: the image and the output row and column of the current tile's
// top-left corner (no division per tile).
typedef struct {
    wg_tiling tiling;
    ptrdiff_t n, i0, j0;
} wg_cursor;

WG_INLINE wg_cursor wg_cursor_at(wg_tiling tiling, ptrdiff_t index) {
    wg_cursor c;
    c.tiling = tiling;
    c.n = index / tiling.per_image;
    const ptrdiff_t r = index % tiling.per_image;
    c.i0 = 4 * (r / tiling.tiles_wide);
    c.j0 = 4 * (r % tiling.tiles_wide);
    return c;
}

WG_INLINE void wg_cursor_next(wg_cursor *c) {
    c->j0 += 4;
    if (c->j0 < 4 * c->tiling.tiles_wide) return;
    c->j0 = 0;
    c->i0 += 4;
    if (c->i0 < 4 * c->tiling.tiles_high) return;
    c->i0 = 0;
    c->n += 1;
}

// The 1-D transform of the data side: B^T for a 6-value row of an input patch, A for a 4-value
// row of an output-gradient tile; 6 values out either way.
WG_INLINE void wg_data_1d(const int size, const wg_v *x, wg_v y[6]) {
    if (size == 6) {
        wg_bt(x, y);
    } else {
        wg_a(x, y);
    }
}

// One vector of channels `c ..< c + lanes` (lanes past them read as zero) of the transform of the
// patch whose element (r, q) is at `p[r * size + q]`: element e to `dst[e * stride_e]`.
// With `p` NULL, element (r, q) is at `base + r * row_stride + q * column_stride` instead.
WG_INLINE void wg_transform_vector(const int size, const float *const *p, const float *base, ptrdiff_t row_stride,
                                   ptrdiff_t column_stride, ptrdiff_t c, ptrdiff_t lanes, float *restrict dst,
                                   ptrdiff_t stride_e) {
    wg_v rows[WG_E];
    WG_UNROLL
    for (int r = 0; r < size; r++) {
        wg_v d[6];
        WG_UNROLL
        for (int q = 0; q < size; q++) {
            const float *at = (p ? p[r * size + q] : base + r * row_stride + q * column_stride) + c;
            d[q] = lanes == WG_LANES ? wg_load(at) : wg_load_n(at, lanes);
        }
        wg_data_1d(size, d, rows + r * 6);
    }
    WG_UNROLL
    for (int q = 0; q < 6; q++) {
        wg_v col[6], y[6];
        WG_UNROLL
        for (int r = 0; r < size; r++) col[r] = rows[r * 6 + q];
        wg_data_1d(size, col, y);
        WG_UNROLL
        for (int r = 0; r < 6; r++) *(wg_v *)(dst + (r * 6 + q) * stride_e) = y[r];
    }
}

// The transform of the `size x size` patches (6: `V = B^T d B` of the input; 4: `W = A dY A^T` of
// the output gradient) of tiles `first ..< first + count`, into `dst[e * stride_e + t * ld + c]`.
// Patch row r of a tile at output (i0, j0) is row `i0 + offset_y + r` of `src`
// (`[batch, h, w, channels]`, zero outside); lanes from `channels` up to `ld` are written as zeros.
WG_BLOCK void wg_transform_block(const int size, const float *restrict src, ptrdiff_t h, ptrdiff_t w,
                                 ptrdiff_t channels, ptrdiff_t offset_y, ptrdiff_t offset_x, wg_tiling tiling,
                                 ptrdiff_t first, ptrdiff_t count, float *restrict dst, ptrdiff_t stride_e,
                                 ptrdiff_t ld, const float *restrict zeros) {
    wg_cursor at = wg_cursor_at(tiling, first), ahead = at;
    for (int d = 0; d < WG_PREFETCH_TILES; d++) wg_cursor_next(&ahead);
    for (ptrdiff_t t = 0; t < count; t++, wg_cursor_next(&at), wg_cursor_next(&ahead)) {
        const ptrdiff_t y0 = at.i0 + offset_y, x0 = at.j0 + offset_x;
        const float *const base = src + ((at.n * h + y0) * w + x0) * channels;
        float *restrict row = dst + t * ld;
        ptrdiff_t c = 0;
        if (channels <= WG_PREFETCH_CHANNELS) {
            // The rows of a tile WG_PREFETCH_TILES ahead that the tiles before it have not read
            // (the last 4 columns of its patch), where they are inside the image.
            const ptrdiff_t py0 = ahead.i0 + offset_y, px0 = ahead.j0 + offset_x + (size - 4);
            if (ahead.n < tiling.batch && px0 >= 0 && px0 + 4 <= w) {
                for (int r = 0; r < size; r++) {
                    if (py0 + r < 0 || py0 + r >= h) continue;
                    const char *line = (const char *)(src + ((ahead.n * h + py0 + r) * w + px0) * channels);
                    for (ptrdiff_t b = 0; b < 4 * channels * (ptrdiff_t)sizeof(float); b += 64) __builtin_prefetch(line + b, 0, 3);
                }
            }
        }
        if (y0 >= 0 && y0 + size <= h && x0 >= 0 && x0 + size <= w) {
            // Inside the image: addressed from the corner.
            for (; c + WG_LANES <= channels; c += WG_LANES) {
                wg_transform_vector(size, NULL, base, w * channels, channels, c, WG_LANES, row + c, stride_e);
            }
            if (c < channels) wg_transform_vector(size, NULL, base, w * channels, channels, c, channels - c, row + c, stride_e);
        } else {
            // On the border: a pointer per patch element, to the zero row outside the image.
            const float *p[WG_E];
            for (int r = 0; r < size; r++) {
                const ptrdiff_t y = y0 + r;
                for (int q = 0; q < size; q++) {
                    const ptrdiff_t x = x0 + q;
                    p[r * size + q] = y >= 0 && y < h && x >= 0 && x < w ? src + ((at.n * h + y) * w + x) * channels : zeros;
                }
            }
            for (; c + WG_LANES <= channels; c += WG_LANES) {
                wg_transform_vector(size, p, NULL, 0, 0, c, WG_LANES, row + c, stride_e);
            }
            if (c < channels) wg_transform_vector(size, p, NULL, 0, 0, c, channels - c, row + c, stride_e);
        }
        for (ptrdiff_t z = wg_round_up(channels, WG_LANES); z < ld; z += WG_LANES) {
            for (int e = 0; e < WG_E; e++) *(wg_v *)(row + e * stride_e + z) = (wg_v){0};
        }
    }
}

// V = B^T d B of the input for tiles `first ..< first + count`: `v[e * stride_e + t * ldv + c]`.
WG_INLINE void wg_input_block(const float *restrict x, const ck_winograd_shape *s, ptrdiff_t first, ptrdiff_t count,
                              float *restrict v, ptrdiff_t stride_e, ptrdiff_t ldv, const float *restrict zeros) {
    wg_transform_block(6, x, s->height, s->width, s->in_channels, -s->pad_top, -s->pad_left, wg_tiling_of(s),
                       first, count, v, stride_e, ldv, zeros);
}

// W = A dY A^T of the output gradient for tiles `first ..< first + count`: `w[e * stride_e + t * ldw + c]`.
WG_INLINE void wg_gradient_block(const float *restrict dy, const ck_winograd_shape *s, ptrdiff_t first,
                                 ptrdiff_t count, float *restrict w, ptrdiff_t stride_e, ptrdiff_t ldw,
                                 const float *restrict zeros) {
    wg_transform_block(4, dy, s->out_height, s->out_width, s->out_channels, 0, 0, wg_tiling_of(s),
                       first, count, w, stride_e, ldw, zeros);
}

// The output transform of one vector of channels of one tile: the 36 products at
// `src[e * stride_e]` to the `rows x columns` outputs at `corner + (i * row_stride + j * cout)`,
// channels `0 ..< lanes` of the vector, plus `*bias` when `bias` is non-NULL, then ReLU.
WG_INLINE void wg_output_vector(const float *restrict src, ptrdiff_t stride_e, const int rows, const int columns,
                                ptrdiff_t lanes, const wg_v *bias, int relu, float *restrict corner,
                                ptrdiff_t row_stride, ptrdiff_t cout) {
    wg_v cols[24];
    WG_UNROLL
    for (int q = 0; q < 6; q++) {
        wg_v x[6];
        WG_UNROLL
        for (int r = 0; r < 6; r++) x[r] = *(const wg_v *)(src + (r * 6 + q) * stride_e);
        wg_at(x, cols + q * 4);
    }
    WG_UNROLL
    for (int i = 0; i < 4; i++) {
        wg_v x[6], y[4];
        WG_UNROLL
        for (int q = 0; q < 6; q++) x[q] = cols[q * 4 + i];
        wg_at(x, y);
        float *row = corner + i * row_stride;
        WG_UNROLL
        for (int j = 0; j < 4; j++) {
            if (i >= rows || j >= columns) continue;
            wg_v value = bias ? y[j] + *bias : y[j];
            if (relu) value = wg_relu(value);
            if (lanes == WG_LANES) {
                wg_store(row + j * cout, value);
            } else {
                wg_store_n(row + j * cout, value, lanes);
            }
        }
    }
}

// The output transform of panel `panel` (channels `panel * 32 ..< panel * 32 + 32`) for tiles
// `first ..< first + count`, from `m[e * stride_e + t * 32]`, plus `bias` (padded, or NULL), ReLU.
WG_BLOCK void wg_output_block(const float *restrict m, ptrdiff_t stride_e, const ck_winograd_shape *s,
                              ptrdiff_t first, ptrdiff_t count, ptrdiff_t panel, const float *restrict bias,
                              int relu, float *restrict out) {
    const wg_tiling tiling = wg_tiling_of(s);
    const ptrdiff_t oh = s->out_height, ow = s->out_width, cout = s->out_channels;
    wg_cursor at = wg_cursor_at(tiling, first);
    for (ptrdiff_t t = 0; t < count; t++, wg_cursor_next(&at)) {
        const ptrdiff_t n = at.n, i0 = at.i0, j0 = at.j0;
        const int rows = oh - i0 < 4 ? (int)(oh - i0) : 4, columns = ow - j0 < 4 ? (int)(ow - j0) : 4;
        float *const corner = out + ((n * oh + i0) * ow + j0) * cout;
        for (int half = 0; half < WG_NR / WG_LANES; half++) {
            const ptrdiff_t ch = panel * WG_NR + half * WG_LANES;
            if (ch >= cout) break;
            const ptrdiff_t lanes = cout - ch < WG_LANES ? cout - ch : WG_LANES;
            const float *src = m + t * WG_NR + half * WG_LANES;
            const wg_v *b = bias ? (const wg_v *)(bias + ch) : NULL;
            if (rows == 4 && columns == 4 && lanes == WG_LANES) {
                wg_output_vector(src, stride_e, 4, 4, WG_LANES, b, relu, corner + ch, ow * cout, cout);
            } else {
                wg_output_vector(src, stride_e, rows, columns, lanes, b, relu, corner + ch, ow * cout, cout);
            }
        }
    }
}

// MARK: Micro-kernel

// C[r][0 ..< 32] (+)= sum over k < kc of A(r, k) * B[k][0 ..< 32] for r < mr, with A(r, k) =
// a[r * a_row + k * a_k], B rows at `b + k * b_k` and C rows at `c + r * c_row` (64-byte aligned).
// The sum over k runs in order for every row, whatever mr is, in registers from zero; with
// `accumulate` it is then added to C (a block's sum added to the running total: the filter
// gradient's rounding error is that of a two-level sum, 5e-6 instead of 3e-5 of the largest
// value over 4000 tiles).
WG_INLINE void wg_kernel(const int mr, ptrdiff_t kc, const float *restrict a, ptrdiff_t a_row, ptrdiff_t a_k,
                         const float *restrict b, ptrdiff_t b_k, float *restrict c, ptrdiff_t c_row,
                         const int accumulate) {
    wg_v c0[WG_MR], c1[WG_MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        c0[r] = (wg_v){0};
        c1[r] = (wg_v){0};
    }
    for (ptrdiff_t k = 0; k < kc; k++) {
        const wg_v b0 = *(const wg_v *)(b + k * b_k), b1 = *(const wg_v *)(b + k * b_k + WG_LANES);
        const float *ak = a + k * a_k;
#pragma clang loop unroll(full)
        for (int r = 0; r < mr; r++) {
            const float x = ak[r * a_row];
            c0[r] += x * b0;
            c1[r] += x * b1;
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < mr; r++) {
        if (accumulate) {
            *(wg_v *)(c + r * c_row) += c0[r];
            *(wg_v *)(c + r * c_row + WG_LANES) += c1[r];
        } else {
            *(wg_v *)(c + r * c_row) = c0[r];
            *(wg_v *)(c + r * c_row + WG_LANES) = c1[r];
        }
    }
}

// wg_kernel with `mr` (1 ... WG_MR) turned into a constant, so each case is fully unrolled
// with its accumulators in registers.
WG_INLINE void wg_kernel_rows(int mr, ptrdiff_t kc, const float *restrict a, ptrdiff_t a_row, ptrdiff_t a_k,
                              const float *restrict b, ptrdiff_t b_k, float *restrict c, ptrdiff_t c_row,
                              const int accumulate) {
#define WG_CASE(n) case n: wg_kernel(n, kc, a, a_row, a_k, b, b_k, c, c_row, accumulate); break;
    switch (mr) {
        WG_CASE(12) WG_CASE(11) WG_CASE(10) WG_CASE(9) WG_CASE(8) WG_CASE(7)
        WG_CASE(6) WG_CASE(5) WG_CASE(4) WG_CASE(3) WG_CASE(2) WG_CASE(1)
        default: break;
    }
#undef WG_CASE
}

// MARK: Sizes

ptrdiff_t ck_winograd_f4_tiles(const ck_winograd_shape *s) {
    if (s->batch <= 0 || s->out_height <= 0 || s->out_width <= 0) return 0;
    return s->batch * wg_tiling_of(s).per_image;
}

static ptrdiff_t wg_panels(ptrdiff_t out_channels) { return (out_channels + WG_NR - 1) / WG_NR; }

ptrdiff_t ck_winograd_f4_filter_size(ptrdiff_t in_channels, ptrdiff_t out_channels) {
    return wg_panels(out_channels) * WG_E * in_channels * WG_NR;
}

ptrdiff_t ck_winograd_f4_gradient_size(ptrdiff_t in_channels, ptrdiff_t out_channels) {
    return ck_winograd_f4_filter_size(in_channels, out_channels);
}

// The block size for `per_tile` bytes of transformed data per tile: a multiple of WG_MR within
// WG_BLOCK_BYTES (at least WG_MR, at most WG_MAX_BLOCK).
static ptrdiff_t wg_block_for(ptrdiff_t per_tile) {
    ptrdiff_t block = WG_BLOCK_BYTES / (per_tile > 0 ? per_tile : 1) / WG_MR * WG_MR;
    if (block < WG_MR) block = WG_MR;
    if (block > WG_MAX_BLOCK) block = WG_MAX_BLOCK;
    return block;
}

ptrdiff_t ck_winograd_f4_block_tiles(const ck_winograd_shape *s) {
    return wg_block_for(WG_E * (wg_round_up(s->in_channels, WG_LANES) + WG_NR) * (ptrdiff_t)sizeof(float));
}

ptrdiff_t ck_winograd_f4_gradient_block_tiles(const ck_winograd_shape *s) {
    const ptrdiff_t ldv = wg_round_up(s->in_channels, WG_LANES), ldw = wg_panels(s->out_channels) * WG_NR;
    // The partial sums are read and written once per block: at least 2 * WG_MR tiles per block
    // (measured at 256 channels: 48 ms with 12, 41 with 24 on one thread).
    const ptrdiff_t block = wg_block_for(WG_E * (ldv + ldw) * (ptrdiff_t)sizeof(float));
    return block < 2 * WG_MR ? 2 * WG_MR : block;
}

ptrdiff_t ck_winograd_f4_forward_workspace(const ck_winograd_shape *s, ptrdiff_t block) {
    const ptrdiff_t ldv = wg_round_up(s->in_channels, WG_LANES);
    return WG_LANES + WG_E * block * (ldv + WG_NR) + wg_panels(s->out_channels) * WG_NR + ldv;
}

ptrdiff_t ck_winograd_f4_gradient_workspace(const ck_winograd_shape *s, ptrdiff_t block) {
    const ptrdiff_t ldv = wg_round_up(s->in_channels, WG_LANES), ldw = wg_panels(s->out_channels) * WG_NR;
    return WG_LANES + WG_E * block * (ldv + ldw) + ldv + ldw;
}

static float *wg_aligned(float *p) { return (float *)(((size_t)p + 63) & ~(size_t)63); }

// MARK: Filter transform

CK_MULTIVERSION
void ck_winograd_f4_pack_filter(const float *restrict f, ptrdiff_t fi, ptrdiff_t fo, int rotated, ptrdiff_t first,
                                ptrdiff_t count, float *restrict packed) {
    const ptrdiff_t cin = rotated ? fo : fi, cout = rotated ? fi : fo, plane = fi * fo;
    for (ptrdiff_t k = first; k < first + count; k++) {
        for (ptrdiff_t panel = 0; panel < wg_panels(cout); panel++) {
            // The conv's taps for input channel k and the panel's 32 output channels (zero past cout).
            float g[9][WG_NR] __attribute__((aligned(64)));
            for (ptrdiff_t l = 0; l < WG_NR; l++) {
                const ptrdiff_t o = panel * WG_NR + l;
                for (int tap = 0; tap < 9; tap++) {
                    g[tap][l] = o >= cout ? 0.0f : rotated ? f[(8 - tap) * plane + o * fo + k] : f[tap * plane + k * fo + o];
                }
            }
            float *dst = packed + (panel * WG_E * cin + k) * WG_NR;
            for (int half = 0; half < WG_NR / WG_LANES; half++) {
                // G g column by column, then (G g) G^T row by row.
                wg_v gg[6][3];
                WG_UNROLL
                for (int b = 0; b < 3; b++) {
                    const wg_v taps[3] = {*(const wg_v *)&g[b][half * WG_LANES], *(const wg_v *)&g[3 + b][half * WG_LANES],
                                          *(const wg_v *)&g[6 + b][half * WG_LANES]};
                    wg_v col[6];
                    wg_g(taps, col);
                    WG_UNROLL
                    for (int r = 0; r < 6; r++) gg[r][b] = col[r];
                }
                WG_UNROLL
                for (int r = 0; r < 6; r++) {
                    wg_v row[6];
                    wg_g(gg[r], row);
                    WG_UNROLL
                    for (int q = 0; q < 6; q++) *(wg_v *)(dst + (r * 6 + q) * cin * WG_NR + half * WG_LANES) = row[q];
                }
            }
        }
    }
}

// MARK: Forward

CK_MULTIVERSION
void ck_winograd_f4_forward_part(const float *restrict input, const float *restrict packed, const float *restrict bias,
                                 int relu, float *restrict output, const ck_winograd_shape *s, ptrdiff_t first,
                                 ptrdiff_t count, ptrdiff_t block, float *restrict workspace) {
    const ptrdiff_t cin = s->in_channels, cout = s->out_channels, ldv = wg_round_up(cin, WG_LANES);
    const ptrdiff_t panels = wg_panels(cout);
    if (count <= 0 || cin <= 0 || cout <= 0) return;
    float *const v = wg_aligned(workspace);
    float *const m = v + WG_E * block * ldv;
    float *const padded_bias = m + WG_E * block * WG_NR;
    float *const zeros = padded_bias + panels * WG_NR;
    memset(zeros, 0, (size_t)ldv * sizeof(float));
    memset(padded_bias, 0, (size_t)(panels * WG_NR) * sizeof(float));
    if (bias) memcpy(padded_bias, bias, (size_t)cout * sizeof(float));
    for (ptrdiff_t start = first; start < first + count; start += block) {
        const ptrdiff_t nb = first + count - start < block ? first + count - start : block;
        wg_input_block(input, s, start, nb, v, block * ldv, ldv, zeros);
        for (ptrdiff_t panel = 0; panel < panels; panel++) {
            const float *u = packed + panel * WG_E * cin * WG_NR;
            for (int e = 0; e < WG_E; e++) {
                const float *ve = v + e * block * ldv, *ue = u + e * cin * WG_NR;
                float *me = m + e * block * WG_NR;
                for (ptrdiff_t r = 0; r < nb; r += WG_MR) {
                    const int mr = nb - r < WG_MR ? (int)(nb - r) : WG_MR;
                    wg_kernel_rows(mr, cin, ve + r * ldv, ldv, 1, ue, WG_NR, me + r * WG_NR, WG_NR, 0);
                }
            }
            wg_output_block(m, block * WG_NR, s, start, nb, panel, bias ? padded_bias : NULL, relu, output);
        }
    }
}

// MARK: Filter gradient

CK_MULTIVERSION
void ck_winograd_f4_filter_gradient_part(const float *restrict input, const float *restrict dy,
                                         const ck_winograd_shape *s, ptrdiff_t first, ptrdiff_t count,
                                         ptrdiff_t block, int overwrite, float *restrict partial,
                                         float *restrict workspace) {
    const ptrdiff_t cin = s->in_channels, cout = s->out_channels, ldv = wg_round_up(cin, WG_LANES);
    const ptrdiff_t panels = wg_panels(cout), ldw = panels * WG_NR;
    if (count <= 0 || cin <= 0 || cout <= 0) return;
    float *const v = wg_aligned(workspace);
    float *const w = v + WG_E * block * ldv;
    float *const zeros_in = w + WG_E * block * ldw;
    float *const zeros_out = zeros_in + ldv;
    memset(zeros_in, 0, (size_t)(ldv + ldw) * sizeof(float));
    for (ptrdiff_t start = first; start < first + count; start += block) {
        const ptrdiff_t nb = first + count - start < block ? first + count - start : block;
        wg_input_block(input, s, start, nb, v, block * ldv, ldv, zeros_in);
        wg_gradient_block(dy, s, start, nb, w, block * ldw, ldw, zeros_out);
        for (ptrdiff_t panel = 0; panel < panels; panel++) {
            for (int e = 0; e < WG_E; e++) {
                const float *ve = v + e * block * ldv, *we = w + e * block * ldw + panel * WG_NR;
                float *du = partial + (panel * WG_E + e) * cin * WG_NR;
                for (ptrdiff_t r = 0; r < cin; r += WG_MR) {
                    const int mr = cin - r < WG_MR ? (int)(cin - r) : WG_MR;
                    wg_kernel_rows(mr, nb, ve + r, 1, ldv, we, ldw, du + r * WG_NR, WG_NR, !overwrite || start > first);
                }
            }
        }
    }
}

CK_MULTIVERSION
void ck_winograd_f4_gradient_finish(const float *restrict partials, ptrdiff_t parts, ptrdiff_t cin, ptrdiff_t cout,
                                    ptrdiff_t first, ptrdiff_t count, float *restrict df) {
    const ptrdiff_t plane = cin * cout, size = ck_winograd_f4_gradient_size(cin, cout);
    for (ptrdiff_t k = first; k < first + count; k++) {
        for (ptrdiff_t panel = 0; panel < wg_panels(cout); panel++) {
            const float *src = partials + (panel * WG_E * cin + k) * WG_NR;
            float out[9][WG_NR] __attribute__((aligned(64)));
            for (int half = 0; half < WG_NR / WG_LANES; half++) {
                // The parts' sums in part order, then G^T along each row and down each column.
                wg_v du[WG_E];
                WG_UNROLL
                for (int e = 0; e < WG_E; e++) {
                    const float *at = src + e * cin * WG_NR + half * WG_LANES;
                    wg_v sum = *(const wg_v *)at;
                    for (ptrdiff_t part = 1; part < parts; part++) sum += *(const wg_v *)(at + part * size);
                    du[e] = sum;
                }
                wg_v rows[6][3];
                WG_UNROLL
                for (int r = 0; r < 6; r++) wg_gt(du + r * 6, rows[r]);
                WG_UNROLL
                for (int b = 0; b < 3; b++) {
                    wg_v y[6], x[3];
                    WG_UNROLL
                    for (int r = 0; r < 6; r++) y[r] = rows[r][b];
                    wg_gt(y, x);
                    WG_UNROLL
                    for (int a = 0; a < 3; a++) *(wg_v *)&out[a * 3 + b][half * WG_LANES] = x[a];
                }
            }
            const ptrdiff_t lanes = cout - panel * WG_NR < WG_NR ? cout - panel * WG_NR : WG_NR;
            for (int tap = 0; tap < 9; tap++) {
                memcpy(df + tap * plane + k * cout + panel * WG_NR, out[tap], (size_t)lanes * sizeof(float));
            }
        }
    }
}
