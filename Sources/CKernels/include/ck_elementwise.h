// Elementwise maps of Float buffers, the same arithmetic as the Swift loops of TensorScalar (no
// contraction into fused multiply-adds, so the results are identical). The output may be the same
// buffer as an input (in place); other overlaps are not allowed.
#ifndef CK_ELEMENTWISE_H
#define CK_ELEMENTWISE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The binary operations of ck_binary_f32.
typedef enum {
    CK_BINARY_ADD = 0,
    CK_BINARY_SUBTRACT = 1,
    CK_BINARY_MULTIPLY = 2,
    CK_BINARY_DIVIDE = 3,
    /// a >= b or a is NaN ? a : b (a NaN wins).
    CK_BINARY_MAXIMUM = 4,
    /// a <= b or a is NaN ? a : b (a NaN wins).
    CK_BINARY_MINIMUM = 5,
} ck_binary_op;

/// out[i] = op(a[i * a_stride], b[i * b_stride]) for i < count, strides 0 or 1.
void ck_binary_f32(ck_binary_op op, const float *a, ptrdiff_t a_stride, const float *b, ptrdiff_t b_stride,
                   float *out, ptrdiff_t count);

/// out[r, j] = op(a[r, j], row[j]) (or op(row[j], a[r, j]) when row_is_left is non-zero) for
/// r < rows, j < width: a binary operation with one operand broadcast along the rows.
void ck_binary_rows_f32(ck_binary_op op, const float *a, const float *row, float *out, ptrdiff_t rows,
                        ptrdiff_t width, int row_is_left);

/// The unary operations of ck_unary_f32 (p and q are their parameters).
typedef enum {
    /// -x
    CK_UNARY_NEGATE = 0,
    /// |x|
    CK_UNARY_ABS = 1,
    /// x * x
    CK_UNARY_SQUARE = 2,
    /// sqrt(x)
    CK_UNARY_SQRT = 3,
    /// 1 / x
    CK_UNARY_RECIPROCAL = 4,
    /// x > 0 ? x : 0 (a NaN becomes 0)
    CK_UNARY_RELU = 5,
    /// x > 0 ? 1 : 0
    CK_UNARY_STEP = 6,
    /// x * p + q
    CK_UNARY_AFFINE = 7,
    /// min(max(x, p), q) with Swift's min and max
    CK_UNARY_CLAMP = 8,
    /// x > 0 ? x : p * x
    CK_UNARY_LEAKY_RELU = 9,
} ck_unary_op;

/// out[i] = op(x[i]) for i < count.
void ck_unary_f32(ck_unary_op op, const float *x, float *out, ptrdiff_t count, float p, float q);

#ifdef __cplusplus
}
#endif

#endif
