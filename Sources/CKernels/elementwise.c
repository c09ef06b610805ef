#include "ck_elementwise.h"
#include "ck_internal.h"

// No restrict: the output may be an input (in place). Every loop reads and writes index i only,
// which `vectorize(assume_safety)` tells the vectorizer, so it needs no overlap checks.
#pragma clang fp contract(off)

#define CK_LOOP _Pragma("clang loop vectorize(assume_safety)") for (ptrdiff_t i = 0; i < count; i++)

// One loop per stride pattern, each a simple vectorizable loop.
#define CK_BINARY_LOOPS(EXPR)                                          \
    if (a_stride == 1 && b_stride == 1) {                              \
        CK_LOOP { const float x = a[i], y = b[i]; out[i] = (EXPR); }   \
    } else if (a_stride == 1) {                                        \
        const float y = b[0];                                          \
        CK_LOOP { const float x = a[i]; out[i] = (EXPR); }             \
    } else if (b_stride == 1) {                                        \
        const float x = a[0];                                          \
        CK_LOOP { const float y = b[i]; out[i] = (EXPR); }             \
    } else {                                                           \
        const float x = a[0], y = b[0], v = (EXPR);                    \
        CK_LOOP { out[i] = v; }                                        \
    }

CK_MULTIVERSION
void ck_binary_f32(ck_binary_op op, const float *a, ptrdiff_t a_stride, const float *b, ptrdiff_t b_stride,
                   float *out, ptrdiff_t count) {
    switch (op) {
    case CK_BINARY_ADD: CK_BINARY_LOOPS(x + y) break;
    case CK_BINARY_SUBTRACT: CK_BINARY_LOOPS(x - y) break;
    case CK_BINARY_MULTIPLY: CK_BINARY_LOOPS(x * y) break;
    case CK_BINARY_DIVIDE: CK_BINARY_LOOPS(x / y) break;
    case CK_BINARY_MAXIMUM: CK_BINARY_LOOPS((x >= y || x != x) ? x : y) break;
    case CK_BINARY_MINIMUM: CK_BINARY_LOOPS((x <= y || x != x) ? x : y) break;
    }
}

// Rows are often short (32 channels): vectors of 16 without interleaving cover them without a
// scalar remainder.
#define CK_ROW_LOOPS(EXPR)                                                         \
    for (ptrdiff_t r = 0; r < rows; r++) {                                                          \
        const float *ar = a + r * width;                                                            \
        float *o = out + r * width;                                                                 \
        if (row_is_left) {                                                                          \
            _Pragma("clang loop vectorize(assume_safety) vectorize_width(16) interleave_count(1)")  \
            for (ptrdiff_t j = 0; j < width; j++) { const float x = row[j], y = ar[j]; o[j] = (EXPR); } \
        } else {                                                                                    \
            _Pragma("clang loop vectorize(assume_safety) vectorize_width(16) interleave_count(1)")  \
            for (ptrdiff_t j = 0; j < width; j++) { const float x = ar[j], y = row[j]; o[j] = (EXPR); } \
        }                                                                                           \
    }

CK_MULTIVERSION
void ck_binary_rows_f32(ck_binary_op op, const float *a, const float *row, float *out, ptrdiff_t rows,
                        ptrdiff_t width, int row_is_left) {
    switch (op) {
    case CK_BINARY_ADD: CK_ROW_LOOPS(x + y) break;
    case CK_BINARY_SUBTRACT: CK_ROW_LOOPS(x - y) break;
    case CK_BINARY_MULTIPLY: CK_ROW_LOOPS(x * y) break;
    case CK_BINARY_DIVIDE: CK_ROW_LOOPS(x / y) break;
    case CK_BINARY_MAXIMUM: CK_ROW_LOOPS((x >= y || x != x) ? x : y) break;
    case CK_BINARY_MINIMUM: CK_ROW_LOOPS((x <= y || x != x) ? x : y) break;
    }
}

CK_MULTIVERSION
void ck_unary_f32(ck_unary_op op, const float *x, float *out, ptrdiff_t count, float p, float q) {
    switch (op) {
    case CK_UNARY_NEGATE: CK_LOOP { out[i] = -x[i]; } break;
    case CK_UNARY_ABS: CK_LOOP { out[i] = __builtin_fabsf(x[i]); } break;
    case CK_UNARY_SQUARE: CK_LOOP { out[i] = x[i] * x[i]; } break;
    case CK_UNARY_SQRT: CK_LOOP { out[i] = __builtin_elementwise_sqrt(x[i]); } break;
    case CK_UNARY_RECIPROCAL: CK_LOOP { out[i] = 1.0f / x[i]; } break;
    case CK_UNARY_RELU: CK_LOOP { const float v = x[i]; out[i] = v > 0.0f ? v : 0.0f; } break;
    case CK_UNARY_STEP: CK_LOOP { out[i] = x[i] > 0.0f ? 1.0f : 0.0f; } break;
    case CK_UNARY_AFFINE: CK_LOOP { out[i] = x[i] * p + q; } break;
    case CK_UNARY_CLAMP:
        // Swift.max(v, p) is `p >= v ? p : v` and Swift.min(m, q) is `q < m ? q : m`.
        CK_LOOP {
            const float v = x[i], m = p >= v ? p : v;
            out[i] = q < m ? q : m;
        }
        break;
    case CK_UNARY_LEAKY_RELU: CK_LOOP { const float v = x[i]; out[i] = v > 0.0f ? v : p * v; } break;
    }
}
