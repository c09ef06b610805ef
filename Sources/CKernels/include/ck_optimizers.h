// Optimizer updates on Float buffers of `count` elements, with Keras's formulas in Keras's order
// of operations (no fused multiply-adds, so every CPU gets the same bits). No pointer may alias
// another of the same call.
#ifndef CK_OPTIMIZERS_H
#define CK_OPTIMIZERS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Adam: m += (g - m) * one_minus_beta1; v += (g * g - v) * one_minus_beta2;
/// with v_hat (amsgrad, else NULL) v_hat = max(v_hat, v); w -= (m * alpha) / (sqrt(v or v_hat) + epsilon).
void ck_adam_f32(float *w, const float *g, float *m, float *v, float *v_hat, ptrdiff_t count,
                 float alpha, float one_minus_beta1, float one_minus_beta2, float epsilon);

/// RMSprop: v = rho * v + one_minus_rho * (g * g); with `a` (centered, else NULL)
/// a = rho * a + one_minus_rho * g and the denominator sqrt(v - a * a + epsilon), else sqrt(v + epsilon);
/// with `m` (momentum, else NULL) m = mu * m + (lr * g) / denominator and w -= m, else w -= (lr * g) / denominator.
void ck_rmsprop_f32(float *w, const float *g, float *v, float *m, float *a, ptrdiff_t count,
                    float lr, float rho, float one_minus_rho, float mu, float epsilon);

#ifdef __cplusplus
}
#endif

#endif
