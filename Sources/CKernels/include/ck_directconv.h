// Direct 2-D convolution for few input channels (the 1- and 3-channel first layers), Float, NHWC
// output and gradients, HWIO filters. The input is first copied to a planar, zero-padded layout
// `[N, C, Hp, Wp]` in which every window lies inside the plane, so the kernels have no border
// cases; the kernels vectorize over output channels (16 per AVX-512 vector) and keep a block of
// output pixels (forward) or of filter taps (filter gradient) in registers.
// No pointer may alias another of the same call.
#ifndef CK_DIRECTCONV_H
#define CK_DIRECTCONV_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The sizes of a direct convolution over an input whose every window lies inside it: output pixel
/// (n, i, j), tap (a, b) in channel c reads the element at `n * image_stride + (i * stride_h + a *
/// dilation_h) * row_stride + (j * stride_w + b * dilation_w) * column_stride + c * channel_stride`.
/// A planar padded input `[N, C, Hp, Wp]` has strides (Hp * Wp, 1, Wp, C * Hp * Wp) (channel,
/// column, row, image); an NHWC input `[N, H, W, C]` that needs no padding (C, ... ) (1, C, W * C,
/// H * W * C).
typedef struct {
    ptrdiff_t channels;
    ptrdiff_t channel_stride, column_stride, row_stride, image_stride;
    ptrdiff_t kernel_height, kernel_width;
    ptrdiff_t stride_h, stride_w;
    ptrdiff_t dilation_h, dilation_w;
    ptrdiff_t out_height, out_width, out_channels;
} ck_conv_direct_shape;

/// The output-channel stride of packed filters and filter gradients: out_channels rounded up to 16.
ptrdiff_t ck_conv_direct_padded_channels(ptrdiff_t out_channels);

/// Copies images `image_begin ..< image_end` of the NHWC input `x` `[N, height, width, channels]`
/// to the planar `xq` `[N, channels, plane_height, plane_width]`: plane row `y + top` and column
/// `x + left` hold `x[n, y, x, c]`, every other plane element is zero.
void ck_conv_planar_pad_f32(const float *x, float *xq, ptrdiff_t height, ptrdiff_t width, ptrdiff_t channels,
                            ptrdiff_t plane_height, ptrdiff_t plane_width, ptrdiff_t top, ptrdiff_t left,
                            ptrdiff_t image_begin, ptrdiff_t image_end);

/// Packs an HWIO filter, viewed as `[taps, out_channels]` (`taps = KH * KW * C`), to
/// `packed` `[taps, padded]` with `padded = ck_conv_direct_padded_channels(out_channels)` and
/// zeros in the padding lanes.
void ck_conv_direct_pack_f32(const float *filter, float *packed, ptrdiff_t taps, ptrdiff_t out_channels);

/// Output rows `row_begin ..< row_end` (flat `n * out_height + i`) of the convolution of `xq`
/// (laid out as `shape` says)
/// with the packed filter, plus `bias` (`[padded]`, zero padding lanes; NULL for none), then
/// `max(_, 0)` when relu is non-zero, written to the NHWC `y` `[N, out_height, out_width,
/// out_channels]` (every element of those rows written once). AVX-512 when the CPU has it.
void ck_conv_direct_forward_f32(const ck_conv_direct_shape *shape, const float *xq, const float *packed,
                                const float *bias, float *y, ptrdiff_t row_begin, ptrdiff_t row_end, int relu);

/// The portable loop ck_conv_direct_forward_f32 falls back to without AVX-512 (exported for tests).
void ck_conv_direct_forward_portable_f32(const ck_conv_direct_shape *shape, const float *xq, const float *packed,
                                         const float *bias, float *y, ptrdiff_t row_begin, ptrdiff_t row_end,
                                         int relu);

/// Adds to `dw` `[taps, padded]` the filter gradient of output rows `row_begin ..< row_end`:
/// `dw[(a * KW + b) * C + c, o] += sum over those rows' pixels (i, j) of
/// xq[tap (a, b), channel c of window (n, i, j)] * dy[n, i, j, o]`, with `dy` NHWC
/// `[N, out_height, out_width, out_channels]`. AVX-512 when the CPU has it.
void ck_conv_direct_backward_filter_f32(const ck_conv_direct_shape *shape, const float *xq, const float *dy,
                                        float *dw, ptrdiff_t row_begin, ptrdiff_t row_end);

/// The portable loop ck_conv_direct_backward_filter_f32 falls back to (exported for tests).
void ck_conv_direct_backward_filter_portable_f32(const ck_conv_direct_shape *shape, const float *xq,
                                                 const float *dy, float *dw, ptrdiff_t row_begin,
                                                 ptrdiff_t row_end);

#ifdef __cplusplus
}
#endif

#endif
