// Depthwise 2-D convolution (Keras DepthwiseConv2D), Float, NHWC input `[N, H, W, C]`, filter
// `[KH, KW, C, M]`, output `[N, OH, OW, C * M]` with channel `c * M + m`. The loops run over rows
// of the output (or of the input, for its gradient), so callers split them across threads by
// rows; the innermost loop walks the contiguous channel axis. Out-of-range (padding) taps are
// skipped. No pointer may alias another of the same call.
#ifndef CK_DEPTHWISE_H
#define CK_DEPTHWISE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The sizes of a depthwise convolution: input `[N, height, width, channels]`, depth
/// `multiplier` M, output `[N, out_height, out_width, channels * M]`; output pixel (i, j), tap
/// (a, b) reads input row `i * stride_h + a * dilation_h - pad_top`, column
/// `j * stride_w + b * dilation_w - pad_left` (zero outside the input).
typedef struct {
    ptrdiff_t height, width, channels, multiplier;
    ptrdiff_t kernel_height, kernel_width;
    ptrdiff_t stride_h, stride_w, dilation_h, dilation_w;
    ptrdiff_t pad_top, pad_left;
    ptrdiff_t out_height, out_width;
} ck_depthwise_shape;

/// Output rows `row_begin ..< row_end` (flat `n * out_height + i`) of the depthwise convolution
/// of `x` with `w`, written to `y` (every element of those rows written once).
void ck_depthwise_forward_f32(const ck_depthwise_shape *shape, const float *x, const float *w, float *y,
                              ptrdiff_t row_begin, ptrdiff_t row_end);

/// Input rows `row_begin ..< row_end` (flat `n * height + y`) of the input gradient for the
/// upstream gradient `dy` `[N, out_height, out_width, C * M]`, written to `dx` `[N, H, W, C]`
/// (every element of those rows written once).
void ck_depthwise_backward_input_f32(const ck_depthwise_shape *shape, const float *dy, const float *w,
                                     float *dx, ptrdiff_t row_begin, ptrdiff_t row_end);

/// Adds to `dw` `[KH, KW, C, M]` the filter gradient of output rows `row_begin ..< row_end`;
/// `scratch` holds `KH * KW * C * M` floats (each row's sums are formed there, then added to `dw`).
void ck_depthwise_backward_filter_f32(const ck_depthwise_shape *shape, const float *x, const float *dy,
                                      float *dw, float *scratch, ptrdiff_t row_begin, ptrdiff_t row_end);

#ifdef __cplusplus
}
#endif

#endif
