// Direct convolution: see ck_directconv.h.
//
// Forward: for one output row and a chunk of V output-channel vectors (16 floats each), a tile of
// P output pixels keeps P x V accumulators in registers (P * V <= 24); every tap loads V filter
// vectors and broadcasts one input value per pixel. In the planar input the P pixels of a tap are
// `stride_w` floats apart, so the broadcasts are constant displacements from one pointer (stride 1
// and 2 are compiled as constants; others, and NHWC inputs, use a run-time step). The
// accumulators start at the bias and are written once, after the ReLU.
//
// Filter gradient: up to 3 taps that read adjacent input elements ("a run": adjacent in the kernel
// row in a planar input, adjacent channels in NHWC) are read from one pointer, so a tile of R runs
// x L taps x V vectors of accumulators walks a segment of output pixels with R pointers, one load
// of V upstream vectors and R * L broadcasts per pixel. Each segment's sums are added to the gradient buffer (partial sums
// over at most a few hundred pixels, then added up: less rounding drift than one long chain).
#include "ck_directconv.h"
#include "ck_internal.h"

enum { CK_LANES = 16 };

ptrdiff_t ck_conv_direct_padded_channels(ptrdiff_t out_channels) {
    return (out_channels + CK_LANES - 1) / CK_LANES * CK_LANES;
}

CK_MULTIVERSION
void ck_conv_planar_pad_f32(const float *restrict x, float *restrict xq, ptrdiff_t height, ptrdiff_t width,
                            ptrdiff_t channels, ptrdiff_t plane_height, ptrdiff_t plane_width, ptrdiff_t top,
                            ptrdiff_t left, ptrdiff_t image_begin, ptrdiff_t image_end) {
    const ptrdiff_t plane = plane_height * plane_width;
    // The plane columns that hold input columns 0 ..< width (the rest is padding).
    const ptrdiff_t x0 = left < 0 ? -left : 0;
    const ptrdiff_t x1 = width < plane_width - left ? width : plane_width - left;
    for (ptrdiff_t n = image_begin; n < image_end; n++) {
        const float *restrict image = x + n * height * width * channels;
        for (ptrdiff_t c = 0; c < channels; c++) {
            float *restrict q = xq + (n * channels + c) * plane;
            for (ptrdiff_t yp = 0; yp < plane_height; yp++) {
                float *restrict row = q + yp * plane_width;
                const ptrdiff_t y = yp - top;
                if (y < 0 || y >= height || x1 <= x0) {
                    for (ptrdiff_t xp = 0; xp < plane_width; xp++) row[xp] = 0.0f;
                    continue;
                }
                const float *restrict src = image + y * width * channels + c;
                for (ptrdiff_t xp = 0; xp < x0 + left; xp++) row[xp] = 0.0f;
                if (channels == 1) {
                    for (ptrdiff_t xi = x0; xi < x1; xi++) row[xi + left] = src[xi];
                } else {
                    for (ptrdiff_t xi = x0; xi < x1; xi++) row[xi + left] = src[xi * channels];
                }
                for (ptrdiff_t xp = x1 + left; xp < plane_width; xp++) row[xp] = 0.0f;
            }
        }
    }
}

void ck_conv_direct_pack_f32(const float *restrict filter, float *restrict packed, ptrdiff_t taps,
                             ptrdiff_t out_channels) {
    const ptrdiff_t padded = ck_conv_direct_padded_channels(out_channels);
    for (ptrdiff_t t = 0; t < taps; t++) {
        for (ptrdiff_t o = 0; o < out_channels; o++) packed[t * padded + o] = filter[t * out_channels + o];
        for (ptrdiff_t o = out_channels; o < padded; o++) packed[t * padded + o] = 0.0f;
    }
}

/// The input offset of tap (a, b) in channel c from a window's top-left element (channel 0).
static inline ptrdiff_t tap_offset(const ck_conv_direct_shape *s, ptrdiff_t a, ptrdiff_t b, ptrdiff_t c) {
    return c * s->channel_stride + a * s->dilation_h * s->row_stride + b * s->dilation_w * s->column_stride;
}

/// offsets[(a * KW + b) * C + c] = tap_offset(a, b, c).
static void tap_offsets(const ck_conv_direct_shape *s, ptrdiff_t *offsets) {
    ptrdiff_t t = 0;
    for (ptrdiff_t a = 0; a < s->kernel_height; a++)
        for (ptrdiff_t b = 0; b < s->kernel_width; b++)
            for (ptrdiff_t c = 0; c < s->channels; c++) offsets[t++] = tap_offset(s, a, b, c);
}

/// The input distance between horizontally adjacent output pixels.
static inline ptrdiff_t pixel_step(const ck_conv_direct_shape *s) { return s->stride_w * s->column_stride; }

/// The input element under the top-left tap (channel 0) of output row r's (flat `n * out_height + i`)
/// first window.
static inline const float *row_base(const ck_conv_direct_shape *s, const float *xq, ptrdiff_t r) {
    const ptrdiff_t n = r / s->out_height, i = r % s->out_height;
    return xq + n * s->image_stride + i * s->stride_h * s->row_stride;
}

// MARK: Portable

CK_MULTIVERSION
void ck_conv_direct_forward_portable_f32(const ck_conv_direct_shape *s, const float *restrict xq,
                                         const float *restrict packed, const float *restrict bias,
                                         float *restrict y, ptrdiff_t row_begin, ptrdiff_t row_end, int relu) {
    const ptrdiff_t taps = s->kernel_height * s->kernel_width * s->channels;
    const ptrdiff_t cout = s->out_channels, padded = ck_conv_direct_padded_channels(cout);
    ptrdiff_t offsets[taps];
    tap_offsets(s, offsets);
    for (ptrdiff_t r = row_begin; r < row_end; r++) {
        const float *restrict base = row_base(s, xq, r);
        for (ptrdiff_t j = 0; j < s->out_width; j++) {
            const float *restrict xp = base + j * pixel_step(s);
            float *restrict out = y + (r * s->out_width + j) * cout;
            for (ptrdiff_t c0 = 0; c0 < padded; c0 += 64) {
                const ptrdiff_t width = padded - c0 < 64 ? padded - c0 : 64;
                float acc[64];
                for (ptrdiff_t o = 0; o < width; o++) acc[o] = bias ? bias[c0 + o] : 0.0f;
                for (ptrdiff_t t = 0; t < taps; t++) {
                    const float v = xp[offsets[t]];
                    const float *restrict w = packed + t * padded + c0;
                    for (ptrdiff_t o = 0; o < width; o++) acc[o] += v * w[o];
                }
                const ptrdiff_t stored = cout - c0 < width ? cout - c0 : width;
                for (ptrdiff_t o = 0; o < stored; o++) {
                    const float v = acc[o];
                    out[c0 + o] = relu && v < 0.0f ? 0.0f : v;   // NaN compares false: stays NaN
                }
            }
        }
    }
}

CK_MULTIVERSION
void ck_conv_direct_backward_filter_portable_f32(const ck_conv_direct_shape *s, const float *restrict xq,
                                                 const float *restrict dy, float *restrict dw,
                                                 ptrdiff_t row_begin, ptrdiff_t row_end) {
    const ptrdiff_t taps = s->kernel_height * s->kernel_width * s->channels;
    const ptrdiff_t cout = s->out_channels, padded = ck_conv_direct_padded_channels(cout);
    ptrdiff_t offsets[taps];
    tap_offsets(s, offsets);
    for (ptrdiff_t r = row_begin; r < row_end; r++) {
        const float *restrict base = row_base(s, xq, r);
        for (ptrdiff_t j = 0; j < s->out_width; j++) {
            const float *restrict xp = base + j * pixel_step(s);
            const float *restrict g = dy + (r * s->out_width + j) * cout;
            for (ptrdiff_t t = 0; t < taps; t++) {
                const float v = xp[offsets[t]];
                float *restrict d = dw + t * padded;
                for (ptrdiff_t o = 0; o < cout; o++) d[o] += v * g[o];
            }
        }
    }
}

// MARK: AVX-512

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

#define CK_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define CK_INLINE static inline __attribute__((always_inline))
#define CK_UNROLL _Pragma("clang loop unroll(full)")

static int has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}

/// P output pixels (`sw` elements apart, the first at `base`) x V vectors of output
/// channels; `last` masks the store of vector V - 1.
CK_INLINE CK_AVX512 void forward_tile(const int P, const int V, const ptrdiff_t sw, const float *restrict base,
                                      const ptrdiff_t *restrict offsets, ptrdiff_t taps, const float *restrict w,
                                      ptrdiff_t w_stride, const float *restrict bias, float *restrict y,
                                      ptrdiff_t y_stride, __mmask16 last, int relu) {
    __m512 acc[12][4];
    CK_UNROLL for (int v = 0; v < V; v++) {
        const __m512 b = bias ? _mm512_loadu_ps(bias + CK_LANES * v) : _mm512_setzero_ps();
        CK_UNROLL for (int p = 0; p < P; p++) acc[p][v] = b;
    }
    for (ptrdiff_t t = 0; t < taps; t++) {
        const float *restrict xp = base + offsets[t];
        const float *restrict wt = w + t * w_stride;
        __m512 wv[4];
        CK_UNROLL for (int v = 0; v < V; v++) wv[v] = _mm512_loadu_ps(wt + CK_LANES * v);
        CK_UNROLL for (int p = 0; p < P; p++) {
            const __m512 x = _mm512_set1_ps(xp[p * sw]);
            CK_UNROLL for (int v = 0; v < V; v++) acc[p][v] = _mm512_fmadd_ps(x, wv[v], acc[p][v]);
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    CK_UNROLL for (int p = 0; p < P; p++) {
        CK_UNROLL for (int v = 0; v < V; v++) {
            // max(0, x) returns x when x is NaN.
            const __m512 r = relu ? _mm512_max_ps(zero, acc[p][v]) : acc[p][v];
            float *dst = y + p * y_stride + CK_LANES * v;
            if (v == V - 1) _mm512_mask_storeu_ps(dst, last, r);
            else _mm512_storeu_ps(dst, r);
        }
    }
}

typedef void (*forward_span_fn)(ptrdiff_t sw, const float *base, const ptrdiff_t *offsets, ptrdiff_t taps,
                                const float *w, ptrdiff_t w_stride, const float *bias, float *y, ptrdiff_t y_stride,
                                ptrdiff_t width, __mmask16 last, int relu);

/// One output row's `width` pixels for V vectors: tiles of PM pixels, then 4, then 1; SW is the
/// stride when known at compile time (0: the run-time `sw`).
#define CK_FORWARD_SPAN(V, PM, SW)                                                                          \
    static CK_AVX512 void forward_span_##V##_##SW(                                                          \
        ptrdiff_t sw, const float *base, const ptrdiff_t *offsets, ptrdiff_t taps, const float *w,           \
        ptrdiff_t w_stride, const float *bias, float *y, ptrdiff_t y_stride, ptrdiff_t width,                \
        __mmask16 last, int relu) {                                                                          \
        const ptrdiff_t st = (SW) ? (SW) : sw;                                                               \
        ptrdiff_t j = 0;                                                                                     \
        for (; j + (PM) <= width; j += (PM))                                                                 \
            forward_tile(PM, V, st, base + j * st, offsets, taps, w, w_stride, bias, y + j * y_stride,       \
                         y_stride, last, relu);                                                              \
        for (; j + 4 <= width; j += 4)                                                                       \
            forward_tile(4, V, st, base + j * st, offsets, taps, w, w_stride, bias, y + j * y_stride,        \
                         y_stride, last, relu);                                                              \
        for (; j < width; j++)                                                                               \
            forward_tile(1, V, st, base + j * st, offsets, taps, w, w_stride, bias, y + j * y_stride,        \
                         y_stride, last, relu);                                                              \
    }

#define CK_FORWARD_SPANS(V, PM) CK_FORWARD_SPAN(V, PM, 1) CK_FORWARD_SPAN(V, PM, 2) CK_FORWARD_SPAN(V, PM, 0)
CK_FORWARD_SPANS(1, 12)
CK_FORWARD_SPANS(2, 12)
CK_FORWARD_SPANS(3, 8)
CK_FORWARD_SPANS(4, 6)

static const forward_span_fn forward_spans[4][3] = {
    {forward_span_1_1, forward_span_1_2, forward_span_1_0},
    {forward_span_2_1, forward_span_2_2, forward_span_2_0},
    {forward_span_3_1, forward_span_3_2, forward_span_3_0},
    {forward_span_4_1, forward_span_4_2, forward_span_4_0},
};

static CK_AVX512 void forward_avx512(const ck_conv_direct_shape *s, const float *xq, const float *packed,
                                     const float *bias, float *y, ptrdiff_t row_begin, ptrdiff_t row_end,
                                     int relu) {
    const ptrdiff_t taps = s->kernel_height * s->kernel_width * s->channels;
    const ptrdiff_t cout = s->out_channels, padded = ck_conv_direct_padded_channels(cout);
    const ptrdiff_t vectors = padded / CK_LANES, rest = cout % CK_LANES;
    const __mmask16 tail = rest ? (__mmask16)((1u << rest) - 1) : (__mmask16)0xFFFF;
    const ptrdiff_t step = pixel_step(s);
    const int stride_index = step == 1 ? 0 : step == 2 ? 1 : 2;
    ptrdiff_t offsets[taps];
    tap_offsets(s, offsets);
    for (ptrdiff_t r = row_begin; r < row_end; r++) {
        const float *base = row_base(s, xq, r);
        float *row = y + r * s->out_width * cout;
        for (ptrdiff_t v0 = 0; v0 < vectors; v0 += 4) {
            const ptrdiff_t v = vectors - v0 < 4 ? vectors - v0 : 4;
            const __mmask16 last = v0 + v == vectors ? tail : (__mmask16)0xFFFF;
            forward_spans[v - 1][stride_index](
                step, base, offsets, taps, packed + v0 * CK_LANES, padded,
                bias ? bias + v0 * CK_LANES : 0, row + v0 * CK_LANES, cout, s->out_width, last, relu);
        }
    }
}

/// A run of L adjacent taps of one kernel row and channel: `offset` in the input from a window's
/// top-left element, `tap` the index of its first tap (the next ones are `channels` apart).
typedef struct {
    ptrdiff_t offset, tap;
} ck_run;

/// R runs of L taps x V vectors over `count` output pixels: adds the sums to `dw` (`[taps, padded]`
/// at the chunk's first vector); `tap_step` is the tap index distance of adjacent taps in a run.
CK_INLINE CK_AVX512 void filter_tile(const int R, const int L, const int V, ptrdiff_t sw, const float *base,
                                     const ck_run *runs, const float *restrict dy, ptrdiff_t dy_stride,
                                     ptrdiff_t count, __mmask16 last, float *restrict dw, ptrdiff_t tap_step,
                                     ptrdiff_t padded) {
    __m512 acc[4][3][4];
    const float *p[4];
    CK_UNROLL for (int r = 0; r < R; r++) {
        p[r] = base + runs[r].offset;
        CK_UNROLL for (int b = 0; b < L; b++) {
            CK_UNROLL for (int v = 0; v < V; v++) acc[r][b][v] = _mm512_setzero_ps();
        }
    }
    for (ptrdiff_t k = 0; k < count; k++) {
        __m512 d[4];
        CK_UNROLL for (int v = 0; v < V; v++)
            d[v] = v == V - 1 ? _mm512_maskz_loadu_ps(last, dy + CK_LANES * v) : _mm512_loadu_ps(dy + CK_LANES * v);
        CK_UNROLL for (int r = 0; r < R; r++) {
            CK_UNROLL for (int b = 0; b < L; b++) {
                const __m512 x = _mm512_set1_ps(p[r][b]);
                CK_UNROLL for (int v = 0; v < V; v++) acc[r][b][v] = _mm512_fmadd_ps(x, d[v], acc[r][b][v]);
            }
            p[r] += sw;
        }
        dy += dy_stride;
    }
    CK_UNROLL for (int r = 0; r < R; r++) {
        CK_UNROLL for (int b = 0; b < L; b++) {
            float *dst = dw + (runs[r].tap + b * tap_step) * padded;
            CK_UNROLL for (int v = 0; v < V; v++) {
                float *d = dst + CK_LANES * v;
                _mm512_storeu_ps(d, _mm512_add_ps(_mm512_loadu_ps(d), acc[r][b][v]));
            }
        }
    }
}

typedef void (*filter_runs_fn)(ptrdiff_t sw, const float *base, const ck_run *runs, ptrdiff_t run_count,
                               const float *dy, ptrdiff_t dy_stride, ptrdiff_t count, __mmask16 last, float *dw,
                               ptrdiff_t tap_step, ptrdiff_t padded);

/// All `run_count` runs of length L for V vectors, in tiles of at most RM runs of near-equal size.
#define CK_FILTER_RUNS(L, V, RM)                                                                            \
    static CK_AVX512 void filter_runs_##L##_##V(                                                            \
        ptrdiff_t sw, const float *base, const ck_run *runs, ptrdiff_t run_count, const float *dy,           \
        ptrdiff_t dy_stride, ptrdiff_t count, __mmask16 last, float *dw, ptrdiff_t tap_step,                 \
        ptrdiff_t padded) {                                                                                  \
        const ptrdiff_t tiles = (run_count + (RM) - 1) / (RM);                                               \
        ptrdiff_t done = 0;                                                                                  \
        for (ptrdiff_t tile = 0; tile < tiles; tile++) {                                                     \
            const ptrdiff_t size = (run_count - done) / (tiles - tile) +                                     \
                                   ((run_count - done) % (tiles - tile) ? 1 : 0);                            \
            const ck_run *rs = runs + done;                                                                  \
            switch (size) {                                                                                  \
            case 4: filter_tile(4 <= (RM) ? 4 : 1, L, V, sw, base, rs, dy, dy_stride, count, last, dw,        \
                                tap_step, padded); break;                                                    \
            case 3: filter_tile(3 <= (RM) ? 3 : 1, L, V, sw, base, rs, dy, dy_stride, count, last, dw,        \
                                tap_step, padded); break;                                                    \
            case 2: filter_tile(2, L, V, sw, base, rs, dy, dy_stride, count, last, dw, tap_step, padded);     \
                    break;                                                                                   \
            default: filter_tile(1, L, V, sw, base, rs, dy, dy_stride, count, last, dw, tap_step, padded);    \
                    break;                                                                                   \
            }                                                                                                \
            done += size;                                                                                    \
        }                                                                                                    \
    }

CK_FILTER_RUNS(3, 1, 4) CK_FILTER_RUNS(3, 2, 4) CK_FILTER_RUNS(3, 3, 2) CK_FILTER_RUNS(3, 4, 2)
CK_FILTER_RUNS(2, 1, 4) CK_FILTER_RUNS(2, 2, 4) CK_FILTER_RUNS(2, 3, 4) CK_FILTER_RUNS(2, 4, 3)
CK_FILTER_RUNS(1, 1, 4) CK_FILTER_RUNS(1, 2, 4) CK_FILTER_RUNS(1, 3, 4) CK_FILTER_RUNS(1, 4, 4)

static const filter_runs_fn filter_runs[3][4] = {
    {filter_runs_1_1, filter_runs_1_2, filter_runs_1_3, filter_runs_1_4},
    {filter_runs_2_1, filter_runs_2_2, filter_runs_2_3, filter_runs_2_4},
    {filter_runs_3_1, filter_runs_3_2, filter_runs_3_3, filter_runs_3_4},
};

static CK_AVX512 void backward_filter_avx512(const ck_conv_direct_shape *s, const float *xq, const float *dy,
                                             float *dw, ptrdiff_t row_begin, ptrdiff_t row_end) {
    const ptrdiff_t kw = s->kernel_width, channels = s->channels;
    const ptrdiff_t cout = s->out_channels, padded = ck_conv_direct_padded_channels(cout);
    const ptrdiff_t vectors = padded / CK_LANES, rest = cout % CK_LANES;
    const ptrdiff_t step = pixel_step(s);
    const __mmask16 tail = rest ? (__mmask16)((1u << rest) - 1) : (__mmask16)0xFFFF;
    // Runs of up to 3 taps at adjacent input elements: along the kernel row in a planar input
    // (without dilation), along the channels in NHWC, else single taps; grouped by length L as
    // runs first[L - 1] ..< first[L - 1] + run_counts[L - 1] of one table.
    const int along_b = s->dilation_w * s->column_stride == 1, along_c = !along_b && s->channel_stride == 1;
    const ptrdiff_t extent = along_b ? kw : along_c ? channels : 1, longest = extent < 3 ? extent : 3;
    const ptrdiff_t tap_step = along_b ? channels : 1;
    const ptrdiff_t taps = s->kernel_height * kw * channels;
    ck_run runs[taps];
    ptrdiff_t run_counts[3] = {0, 0, 0}, first[3], filled[3];
    for (int pass = 0; pass < 2; pass++) {
        for (ptrdiff_t a = 0; a < s->kernel_height; a++) {
            for (ptrdiff_t b = 0; b < kw; b++) {
                for (ptrdiff_t c = 0; c < channels; c++) {
                    const ptrdiff_t position = along_b ? b : along_c ? c : 0;
                    if (position % longest != 0) continue;
                    const ptrdiff_t length = extent - position < longest ? extent - position : longest;
                    if (pass == 0) {
                        run_counts[length - 1]++;
                    } else {
                        ck_run run = {tap_offset(s, a, b, c), (a * kw + b) * channels + c};
                        runs[filled[length - 1]++] = run;
                    }
                }
            }
        }
        first[2] = filled[2] = 0;
        first[1] = filled[1] = run_counts[2];
        first[0] = filled[0] = run_counts[2] + run_counts[1];
    }
    for (ptrdiff_t r = row_begin; r < row_end; r++) {
        const float *base = row_base(s, xq, r);
        const float *g = dy + r * s->out_width * cout;
        for (ptrdiff_t v0 = 0; v0 < vectors; v0 += 4) {
            const ptrdiff_t v = vectors - v0 < 4 ? vectors - v0 : 4;
            const __mmask16 last = v0 + v == vectors ? tail : (__mmask16)0xFFFF;
            // Segments of pixels whose upstream vectors (about 16 KiB) stay in L1 across the run tiles.
            const ptrdiff_t segment = 256 / v;
            for (ptrdiff_t j0 = 0; j0 < s->out_width; j0 += segment) {
                const ptrdiff_t count = s->out_width - j0 < segment ? s->out_width - j0 : segment;
                for (int l = 2; l >= 0; l--) {
                    if (run_counts[l] == 0) continue;
                    filter_runs[l][v - 1](step, base + j0 * step, runs + first[l], run_counts[l],
                                          g + j0 * cout + v0 * CK_LANES, cout, count, last, dw + v0 * CK_LANES,
                                          tap_step, padded);
                }
            }
        }
    }
}
#endif

// MARK: Dispatch

void ck_conv_direct_forward_f32(const ck_conv_direct_shape *s, const float *xq, const float *packed,
                                const float *bias, float *y, ptrdiff_t row_begin, ptrdiff_t row_end, int relu) {
#if defined(__x86_64__) && defined(__clang__)
    if (has_avx512()) {
        forward_avx512(s, xq, packed, bias, y, row_begin, row_end, relu);
        return;
    }
#endif
    ck_conv_direct_forward_portable_f32(s, xq, packed, bias, y, row_begin, row_end, relu);
}

void ck_conv_direct_backward_filter_f32(const ck_conv_direct_shape *s, const float *xq, const float *dy,
                                        float *dw, ptrdiff_t row_begin, ptrdiff_t row_end) {
#if defined(__x86_64__) && defined(__clang__)
    if (has_avx512()) {
        backward_filter_avx512(s, xq, dy, dw, row_begin, row_end);
        return;
    }
#endif
    ck_conv_direct_backward_filter_portable_f32(s, xq, dy, dw, row_begin, row_end);
}
