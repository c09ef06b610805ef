// A Float matrix product for few rows and a long inner dimension: a fully connected layer's
// forward pass at a small batch (C[32, 128] = A[32, 22500] B[22500, 128] in the seed models' dense
// network). OpenBLAS packs both operands on every call, and with few rows each packed element of B
// is used only M times, so packing costs about as much as the arithmetic there; this kernel reads
// B (row-major, [K, N]) in place instead.
#ifndef CK_GEMM_H
#define CK_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this CPU runs `ck_sgemm_few_rows_f32` (it needs AVX-512; callers use BLAS otherwise).
int ck_sgemm_few_rows_available(void);

/// C[i, j] = sum over k of A[i, k] * B[k, j], for i < m and column_begin <= j < column_end, all
/// row-major with leading dimensions lda, ldb, ldc (beta 0: C is only written). Threads split the
/// columns: each call writes only its own column range, with the same summation order for every
/// split (blocks of the inner dimension summed in order). Requires `ck_sgemm_few_rows_available()`.
void ck_sgemm_few_rows_f32(const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                           ptrdiff_t m, ptrdiff_t k, ptrdiff_t column_begin, ptrdiff_t column_end);

#ifdef __cplusplus
}
#endif

#endif
