// Per-channel kernels of batch normalization for Float buffers in [rows, width] layout (the
// channel axis contiguous; width may hold several rows of channels side by side, with the
// per-channel parameters repeated to match). No pointer may alias another of the same call.
#ifndef CK_NORMALIZATION_H
#define CK_NORMALIZATION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// sum[j] += (x[r, j] - shift[j]) and sum_sq[j] += (x[r, j] - shift[j])^2 over the rows, in Double.
void ck_channel_moments_f32(const float *x, ptrdiff_t rows, ptrdiff_t width, const double *shift, double *sum,
                            double *sum_sq);

/// The affine map of a batch normalization followed by a ReLU, (x - shift[j]) * factor[j] + offset[j]
/// per element of a row of width: ck_channel_affine_f32 applies it, and the backward kernels
/// recompute it from x (with the same arithmetic, so the same result) to know where the ReLU let
/// the gradient through, instead of reading the output.
typedef struct {
    const float *shift;
    const float *factor;
    const float *offset;
} ck_channel_relu;

/// With m[r, j] = g[r, j], or, when relu is not NULL, 0 where relu's affine map of x[r, j] is not > 0:
/// sum_g[j] += m[r, j] and sum_gx[j] += m[r, j] * (x[r, j] - shift[j]) over the rows, in Double.
void ck_channel_gradient_sums_f32(const float *g, const float *x, const ck_channel_relu *relu, ptrdiff_t rows,
                                  ptrdiff_t width, const double *shift, double *sum_g, double *sum_gx);

/// out[r, j] = (x[r, j] - shift[j]) * factor[j] + offset[j], then, when relu is non-zero,
/// replaced by 0 unless it is > 0 (a NaN becomes 0, as the ReLU layer does).
void ck_channel_affine_f32(const float *x, float *out, ptrdiff_t rows, ptrdiff_t width, const float *shift,
                           const float *factor, const float *offset, int relu);

/// out[r, j] = m[r, j] * g_factor[j] + ((x[r, j] - shift[j]) * factor[j] + offset[j]), with m as in
/// ck_channel_gradient_sums_f32.
void ck_channel_affine_backward_f32(const float *g, const float *x, const ck_channel_relu *relu, float *out,
                                    ptrdiff_t rows, ptrdiff_t width, const float *shift, const float *factor,
                                    const float *offset, const float *g_factor);

#ifdef __cplusplus
}
#endif

#endif
