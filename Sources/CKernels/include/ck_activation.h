// Bias and ReLU epilogues and their backward passes, for Float buffers in [rows, channels]
// layout (the channel axis contiguous). No pointer may alias another of the same call.
#ifndef CK_ACTIVATION_H
#define CK_ACTIVATION_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// out[r, c] += bias[c], then max(_, 0) when relu is non-zero (a NaN stays NaN).
void ck_add_bias_f32(float *out, const float *bias, ptrdiff_t rows, ptrdiff_t channels, int relu);

/// dx[i] = y[i] > 0 ? g[i] : 0 for i < count.
void ck_relu_mask_f32(const float *g, const float *y, float *dx, ptrdiff_t count);

/// dx[r, c] = y[r, c] > 0 ? g[r, c] : 0, and db[c] += the sum of dx[r, c] over the rows.
void ck_relu_bias_backward_f32(const float *g, const float *y, float *dx, float *db, ptrdiff_t rows, ptrdiff_t channels);

/// ck_relu_bias_backward_f32 with dx = g: the gradient masked in place.
void ck_relu_bias_backward_inplace_f32(float *g, const float *y, float *db, ptrdiff_t rows, ptrdiff_t channels);

/// db[c] += the sum of g[r, c] over the rows.
void ck_sum_rows_f32(const float *g, float *db, ptrdiff_t rows, ptrdiff_t channels);

#ifdef __cplusplus
}
#endif

#endif
