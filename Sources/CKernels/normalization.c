#include "ck_normalization.h"
#include "ck_internal.h"

CK_MULTIVERSION
void ck_channel_moments_f32(const float *restrict x, ptrdiff_t rows, ptrdiff_t width, const double *restrict shift,
                            double *restrict sum, double *restrict sum_sq) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *restrict row = x + r * width;
        for (ptrdiff_t j = 0; j < width; j++) {
            const double d = (double)row[j] - shift[j];
            sum[j] += d;
            sum_sq[j] += d * d;
        }
    }
}

// The normalization's affine map: the one expression every kernel uses (contracted to one FMA, or
// not, the same way everywhere), so the backward kernels recompute the forward output exactly.
static inline __attribute__((always_inline)) float ck_affine(float x, float shift, float factor, float offset) {
    return (x - shift) * factor + offset;
}

CK_MULTIVERSION
void ck_channel_gradient_sums_f32(const float *restrict g, const float *restrict x, const ck_channel_relu *relu,
                                  ptrdiff_t rows, ptrdiff_t width, const double *restrict shift,
                                  double *restrict sum_g, double *restrict sum_gx) {
    if (relu) {
        const float *restrict rs = relu->shift, *restrict rf = relu->factor, *restrict ro = relu->offset;
        for (ptrdiff_t r = 0; r < rows; r++) {
            const ptrdiff_t o = r * width;
            const float *restrict gr = g + o, *restrict xr = x + o;
            for (ptrdiff_t j = 0; j < width; j++) {
                const double gv = ck_affine(xr[j], rs[j], rf[j], ro[j]) > 0.0f ? (double)gr[j] : 0.0;
                sum_g[j] += gv;
                sum_gx[j] += gv * ((double)xr[j] - shift[j]);
            }
        }
    } else {
        for (ptrdiff_t r = 0; r < rows; r++) {
            const ptrdiff_t o = r * width;
            const float *restrict gr = g + o, *restrict xr = x + o;
            for (ptrdiff_t j = 0; j < width; j++) {
                const double gv = (double)gr[j];
                sum_g[j] += gv;
                sum_gx[j] += gv * ((double)xr[j] - shift[j]);
            }
        }
    }
}

CK_MULTIVERSION
void ck_channel_affine_f32(const float *restrict x, float *restrict out, ptrdiff_t rows, ptrdiff_t width,
                           const float *restrict shift, const float *restrict factor, const float *restrict offset,
                           int relu) {
    if (relu) {
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *restrict xr = x + r * width;
            float *restrict yr = out + r * width;
            for (ptrdiff_t j = 0; j < width; j++) {
                const float v = ck_affine(xr[j], shift[j], factor[j], offset[j]);
                yr[j] = v > 0.0f ? v : 0.0f;
            }
        }
    } else {
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *restrict xr = x + r * width;
            float *restrict yr = out + r * width;
            for (ptrdiff_t j = 0; j < width; j++) yr[j] = ck_affine(xr[j], shift[j], factor[j], offset[j]);
        }
    }
}

CK_MULTIVERSION
void ck_channel_affine_backward_f32(const float *restrict g, const float *restrict x, const ck_channel_relu *relu,
                                    float *restrict out, ptrdiff_t rows, ptrdiff_t width, const float *restrict shift,
                                    const float *restrict factor, const float *restrict offset,
                                    const float *restrict g_factor) {
    if (relu) {
        const float *restrict rs = relu->shift, *restrict rf = relu->factor, *restrict ro = relu->offset;
        for (ptrdiff_t r = 0; r < rows; r++) {
            const ptrdiff_t o = r * width;
            const float *restrict gr = g + o, *restrict xr = x + o;
            float *restrict yr = out + o;
            for (ptrdiff_t j = 0; j < width; j++) {
                const float gv = ck_affine(xr[j], rs[j], rf[j], ro[j]) > 0.0f ? gr[j] : 0.0f;
                yr[j] = gv * g_factor[j] + ck_affine(xr[j], shift[j], factor[j], offset[j]);
            }
        }
    } else {
        for (ptrdiff_t r = 0; r < rows; r++) {
            const ptrdiff_t o = r * width;
            const float *restrict gr = g + o, *restrict xr = x + o;
            float *restrict yr = out + o;
            for (ptrdiff_t j = 0; j < width; j++) {
                yr[j] = gr[j] * g_factor[j] + ck_affine(xr[j], shift[j], factor[j], offset[j]);
            }
        }
    }
}
