// 2-D max pooling over NHWC Float buffers, forward and backward. No pointer may alias another of
// the same call.
#ifndef CK_POOLING_H
#define CK_POOLING_H

#include <stddef.h>
#include <stdint.h>

#include "ck_dropout.h"

#ifdef __cplusplus
extern "C" {
#endif

/// The geometry of a pooling window sliding over an NHWC input [batch, height, width, channels]
/// (Keras padding: pad_top rows above, pad_left columns left; padded positions never win).
typedef struct {
    ptrdiff_t batch, height, width, channels;
    ptrdiff_t pool_h, pool_w, stride_h, stride_w;
    ptrdiff_t pad_top, pad_left;
    ptrdiff_t out_h, out_w;
} ck_pool2d_geometry;

/// Max pooling of the output rows [first_row, first_row + rows), row r being image r / out_h,
/// output row r % out_h. A larger value or a NaN takes over in window order (row-major), so ties
/// keep the first maximum and a NaN propagates. When indices is not NULL, it receives for every
/// output element the flat input index of the element taken (indexed like out). When dropout is
/// not NULL, input element i is taken as x[i] * (kept ? scale : 0), the dropout of ck_dropout_f32
/// with element i of its stream (channels must then be even): max pooling of a dropout output
/// without that output.
void ck_max_pool2d_f32(const float *x, float *out, int32_t *indices, const ck_pool2d_geometry *g,
                       const ck_dropout_mask *dropout, ptrdiff_t first_row, ptrdiff_t rows);

/// The gradient of max pooling for windows that do not overlap (stride >= pool on both axes):
/// writes every element of the input rows [first_row, first_row + rows) of dx (row r being image
/// r / height, input row r % height): the upstream gradient where indices names the element, else
/// 0, multiplied by the element's dropout factor when dropout is not NULL (channels even). dx
/// needs no zero fill.
void ck_max_pool2d_backward_disjoint_f32(const float *grad, const int32_t *indices, float *dx,
                                         const ck_pool2d_geometry *g, const ck_dropout_mask *dropout,
                                         ptrdiff_t first_row, ptrdiff_t rows);

/// dx[indices[i]] += grad[i] for i < count, in order.
void ck_scatter_add_f32(const float *grad, const int32_t *indices, float *dx, ptrdiff_t count);

#ifdef __cplusplus
}
#endif

#endif
