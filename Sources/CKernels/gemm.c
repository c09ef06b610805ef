// Few-rows matrix product: see ck_gemm.h.
//
// The inner dimension is walked in blocks of GM_KC. Within a block, for each group of up to four
// column vectors (64 floats), tiles of up to six rows of C keep their 6 x 4 accumulators in
// registers; every inner index loads the group's vectors of B's row once (from L1: the block's
// GM_KC x 64 slice of B is 32 KiB and is reused by every row tile) and broadcasts one value of A
// per row. The first block stores its sums, later blocks add theirs to C, so the summation order
// depends only on GM_KC, never on how threads split the columns.
#include "ck_gemm.h"
#include "ck_internal.h"

enum { GM_LANES = 16, GM_KC = 128, GM_MR = 6, GM_NV = 4 };

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

#define GM_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define GM_INLINE static inline __attribute__((always_inline))
#define GM_UNROLL _Pragma("clang loop unroll(full)")

int ck_sgemm_few_rows_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}

/// P rows x V vectors of C over `kc` inner indices; `last` masks vector V - 1; `accumulate` adds
/// the sums to C's values instead of storing them.
GM_INLINE GM_AVX512 void gm_tile(const int P, const int V, const float *restrict a, ptrdiff_t lda,
                                 const float *restrict b, ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc,
                                 ptrdiff_t kc, __mmask16 last, int accumulate) {
    __m512 acc[GM_MR][GM_NV];
    GM_UNROLL for (int p = 0; p < P; p++) {
        GM_UNROLL for (int v = 0; v < V; v++) acc[p][v] = _mm512_setzero_ps();
    }
    for (ptrdiff_t k = 0; k < kc; k++) {
        const float *restrict bk = b + k * ldb;
        __m512 bv[GM_NV];
        GM_UNROLL for (int v = 0; v < V; v++) {
            bv[v] = v == V - 1 ? _mm512_maskz_loadu_ps(last, bk + GM_LANES * v) : _mm512_loadu_ps(bk + GM_LANES * v);
        }
        GM_UNROLL for (int p = 0; p < P; p++) {
            const __m512 x = _mm512_set1_ps(a[p * lda + k]);
            GM_UNROLL for (int v = 0; v < V; v++) acc[p][v] = _mm512_fmadd_ps(x, bv[v], acc[p][v]);
        }
    }
    GM_UNROLL for (int p = 0; p < P; p++) {
        GM_UNROLL for (int v = 0; v < V; v++) {
            float *dst = c + p * ldc + GM_LANES * v;
            const __mmask16 mask = v == V - 1 ? last : (__mmask16)0xFFFF;
            const __m512 r = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, dst), acc[p][v]) : acc[p][v];
            _mm512_mask_storeu_ps(dst, mask, r);
        }
    }
}

typedef void (*gm_tile_fn)(const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                           ptrdiff_t kc, __mmask16 last, int accumulate);

#define GM_TILE(P, V)                                                                                          \
    static GM_AVX512 void gm_tile_##P##_##V(const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,       \
                                            float *c, ptrdiff_t ldc, ptrdiff_t kc, __mmask16 last,             \
                                            int accumulate) {                                                  \
        gm_tile(P, V, a, lda, b, ldb, c, ldc, kc, last, accumulate);                                           \
    }
#define GM_TILES(P) GM_TILE(P, 1) GM_TILE(P, 2) GM_TILE(P, 3) GM_TILE(P, 4)
GM_TILES(1)
GM_TILES(2)
GM_TILES(3)
GM_TILES(4)
GM_TILES(5)
GM_TILES(6)

static const gm_tile_fn gm_tiles[GM_MR][GM_NV] = {
    {gm_tile_1_1, gm_tile_1_2, gm_tile_1_3, gm_tile_1_4}, {gm_tile_2_1, gm_tile_2_2, gm_tile_2_3, gm_tile_2_4},
    {gm_tile_3_1, gm_tile_3_2, gm_tile_3_3, gm_tile_3_4}, {gm_tile_4_1, gm_tile_4_2, gm_tile_4_3, gm_tile_4_4},
    {gm_tile_5_1, gm_tile_5_2, gm_tile_5_3, gm_tile_5_4}, {gm_tile_6_1, gm_tile_6_2, gm_tile_6_3, gm_tile_6_4},
};

GM_AVX512
void ck_sgemm_few_rows_f32(const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                           ptrdiff_t m, ptrdiff_t k, ptrdiff_t column_begin, ptrdiff_t column_end) {
    if (k <= 0) {
        for (ptrdiff_t i = 0; i < m; i++) {
            for (ptrdiff_t j = column_begin; j < column_end; j++) c[i * ldc + j] = 0.0f;
        }
        return;
    }
    for (ptrdiff_t k0 = 0; k0 < k; k0 += GM_KC) {
        const ptrdiff_t kc = k - k0 < GM_KC ? k - k0 : GM_KC;
        for (ptrdiff_t j0 = column_begin; j0 < column_end; j0 += GM_LANES * GM_NV) {
            const ptrdiff_t width = column_end - j0 < GM_LANES * GM_NV ? column_end - j0 : GM_LANES * GM_NV;
            const ptrdiff_t vectors = (width + GM_LANES - 1) / GM_LANES, rest = width % GM_LANES;
            const __mmask16 last = rest ? (__mmask16)((1u << rest) - 1) : (__mmask16)0xFFFF;
            for (ptrdiff_t i0 = 0; i0 < m; i0 += GM_MR) {
                const ptrdiff_t rows = m - i0 < GM_MR ? m - i0 : GM_MR;
                gm_tiles[rows - 1][vectors - 1](a + i0 * lda + k0, lda, b + k0 * ldb + j0, ldb, c + i0 * ldc + j0,
                                                ldc, kc, last, k0 > 0);
            }
        }
    }
}

#else

int ck_sgemm_few_rows_available(void) { return 0; }

// Portable and slow, for completeness only: callers use BLAS where the function above is missing.
void ck_sgemm_few_rows_f32(const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc,
                           ptrdiff_t m, ptrdiff_t k, ptrdiff_t column_begin, ptrdiff_t column_end) {
    for (ptrdiff_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        for (ptrdiff_t j = column_begin; j < column_end; j++) row[j] = 0.0f;
        for (ptrdiff_t k0 = 0; k0 < k; k0++) {
            const float x = a[i * lda + k0];
            const float *bk = b + k0 * ldb;
            for (ptrdiff_t j = column_begin; j < column_end; j++) row[j] += x * bk[j];
        }
    }
}

#endif
