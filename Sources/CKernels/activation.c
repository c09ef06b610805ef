#include "ck_activation.h"
#include "ck_internal.h"

// Column sums are accumulated in blocks of this many rows into a local row, then added to db:
// a shorter dependency chain per lane and less rounding drift than one running sum.
enum { CK_SUM_BLOCK = 64 };

CK_MULTIVERSION
void ck_add_bias_f32(float *restrict out, const float *restrict bias, ptrdiff_t rows, ptrdiff_t channels, int relu) {
    if (relu) {
        for (ptrdiff_t r = 0; r < rows; r++) {
            float *restrict row = out + r * channels;
            for (ptrdiff_t c = 0; c < channels; c++) {
                float v = row[c] + bias[c];
                row[c] = v < 0.0f ? 0.0f : v;   // NaN compares false: stays NaN
            }
        }
    } else {
        for (ptrdiff_t r = 0; r < rows; r++) {
            float *restrict row = out + r * channels;
            for (ptrdiff_t c = 0; c < channels; c++) row[c] += bias[c];
        }
    }
}

CK_MULTIVERSION
void ck_relu_mask_f32(const float *restrict g, const float *restrict y, float *restrict dx, ptrdiff_t count) {
    for (ptrdiff_t i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? g[i] : 0.0f;
}

// The row sweep of ck_relu_bias_backward_f32; `in_place` (a constant at each call, so each clone
// is specialized) writes the mask over `g` through the same pointer. (Passing dx == g to the
// out-of-place loop would break its restrict contract, and without restrict the compiler's runtime
// overlap check sends an in-place call to its scalar loop: 3x slower, measured.)
CK_ALWAYS_INLINE void relu_bias_backward_rows(float *restrict g, const float *restrict y, float *restrict dx,
                                              float *restrict db, ptrdiff_t rows, ptrdiff_t channels, int in_place) {
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += CK_SUM_BLOCK) {
        ptrdiff_t r1 = r0 + CK_SUM_BLOCK < rows ? r0 + CK_SUM_BLOCK : rows;
        for (ptrdiff_t c0 = 0; c0 < channels; c0 += 256) {
            ptrdiff_t width = channels - c0 < 256 ? channels - c0 : 256;
            float block[256];
            for (ptrdiff_t c = 0; c < width; c++) block[c] = 0.0f;
            for (ptrdiff_t r = r0; r < r1; r++) {
                const ptrdiff_t offset = r * channels + c0;
                float *restrict gr = g + offset;
                const float *restrict yr = y + offset;
                if (in_place) {
                    for (ptrdiff_t c = 0; c < width; c++) {
                        float v = yr[c] > 0.0f ? gr[c] : 0.0f;
                        gr[c] = v;
                        block[c] += v;
                    }
                } else {
                    float *restrict dr = dx + offset;
                    for (ptrdiff_t c = 0; c < width; c++) {
                        float v = yr[c] > 0.0f ? gr[c] : 0.0f;
                        dr[c] = v;
                        block[c] += v;
                    }
                }
            }
            for (ptrdiff_t c = 0; c < width; c++) db[c0 + c] += block[c];
        }
    }
}

CK_MULTIVERSION
void ck_relu_bias_backward_f32(const float *restrict g, const float *restrict y, float *restrict dx,
                               float *restrict db, ptrdiff_t rows, ptrdiff_t channels) {
    relu_bias_backward_rows((float *)g, y, dx, db, rows, channels, 0);
}

CK_MULTIVERSION
void ck_relu_bias_backward_inplace_f32(float *restrict g, const float *restrict y, float *restrict db,
                                       ptrdiff_t rows, ptrdiff_t channels) {
    relu_bias_backward_rows(g, y, g, db, rows, channels, 1);
}

CK_MULTIVERSION
void ck_sum_rows_f32(const float *restrict g, float *restrict db, ptrdiff_t rows, ptrdiff_t channels) {
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += CK_SUM_BLOCK) {
        ptrdiff_t r1 = r0 + CK_SUM_BLOCK < rows ? r0 + CK_SUM_BLOCK : rows;
        for (ptrdiff_t c0 = 0; c0 < channels; c0 += 256) {
            ptrdiff_t width = channels - c0 < 256 ? channels - c0 : 256;
            float block[256];
            for (ptrdiff_t c = 0; c < width; c++) block[c] = 0.0f;
            for (ptrdiff_t r = r0; r < r1; r++) {
                const float *restrict gr = g + r * channels + c0;
                for (ptrdiff_t c = 0; c < width; c++) block[c] += gr[c];
            }
            for (ptrdiff_t c = 0; c < width; c++) db[c0 + c] += block[c];
        }
    }
}
