#include "ck_optimizers.h"
#include "ck_internal.h"

// Keras's operation order exactly: no contraction into fused multiply-adds, whatever the clone.
#pragma STDC FP_CONTRACT OFF

// sqrt without errno (so it vectorizes); a negative argument gives NaN, as Swift's squareRoot().
#define CK_SQRT(x) __builtin_elementwise_sqrt(x)

CK_MULTIVERSION
void ck_adam_f32(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                 float *restrict v_hat, ptrdiff_t count, float alpha, float one_minus_beta1,
                 float one_minus_beta2, float epsilon) {
    if (v_hat) {
        for (ptrdiff_t i = 0; i < count; i++) {
            float mi = m[i] + (g[i] - m[i]) * one_minus_beta1;
            float vi = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta2;
            float hi = vi >= v_hat[i] ? vi : v_hat[i];   // Swift.max(v_hat, v), NaN included
            m[i] = mi;
            v[i] = vi;
            v_hat[i] = hi;
            w[i] = w[i] - (mi * alpha) / (CK_SQRT(hi) + epsilon);
        }
    } else {
        for (ptrdiff_t i = 0; i < count; i++) {
            float mi = m[i] + (g[i] - m[i]) * one_minus_beta1;
            float vi = v[i] + (g[i] * g[i] - v[i]) * one_minus_beta2;
            m[i] = mi;
            v[i] = vi;
            w[i] = w[i] - (mi * alpha) / (CK_SQRT(vi) + epsilon);
        }
    }
}

CK_MULTIVERSION
void ck_rmsprop_f32(float *restrict w, const float *restrict g, float *restrict v, float *restrict m,
                    float *restrict a, ptrdiff_t count, float lr, float rho, float one_minus_rho, float mu,
                    float epsilon) {
    for (ptrdiff_t i = 0; i < count; i++) {
        float vi = rho * v[i] + one_minus_rho * (g[i] * g[i]);
        v[i] = vi;
        float denominator;
        if (a) {
            float ai = rho * a[i] + one_minus_rho * g[i];
            a[i] = ai;
            denominator = CK_SQRT(vi - ai * ai + epsilon);
        } else {
            denominator = CK_SQRT(vi + epsilon);
        }
        float step = (lr * g[i]) / denominator;
        if (m) {
            float mi = mu * m[i] + step;
            m[i] = mi;
            w[i] = w[i] - mi;
        } else {
            w[i] = w[i] - step;
        }
    }
}
