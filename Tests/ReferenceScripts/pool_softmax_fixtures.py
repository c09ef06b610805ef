"""Reference values for pooling, softmax and the cross-entropy losses (Tests/TensorTests/PoolingTests.swift,
Tests/TensorTests/SoftmaxTests.swift), computed independently with JAX in float64.

Run from the package root:
    /work/refenv/bin/python Tests/ReferenceScripts/pool_softmax_fixtures.py
Writes Tests/TensorTests/Fixtures/pool_softmax.json.

Pooling: NHWC, jax.lax.reduce_window with "SAME"/"VALID" padding (TensorFlow rules: the extra padding goes at
the end). Max pooling pads with -inf (padding never wins); average pooling with SAME divides each window sum by
the number of real elements (reduce_window of ones), as Keras/TensorFlow AveragePooling2D does. Backward values
are jax.vjp with a fixed upstream gradient. Max-pooling inputs are a random permutation of distinct values, so
there are no ties.

Softmax: jax.nn.softmax / jax.nn.log_softmax along an axis, with vjp. Cross-entropies are written as formulas
(no optax) and their gradients cross-checked against jax.grad before writing.
"""
import os

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

import fixture_io  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "TensorTests", "Fixtures", "pool_softmax.json")

rng = np.random.RandomState(20240611)


def distinct_input(shape):
    """Distinct values (a shuffled arange, scaled), so max pooling has no ties."""
    n = int(np.prod(shape))
    values = (rng.permutation(n).astype(np.float64) - n / 2) * 0.25
    return values.reshape(shape)


def max_pool(x, pool, strides, padding):
    return jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, *pool, 1), (1, *strides, 1), padding)


def avg_pool(x, pool, strides, padding):
    window, step = (1, *pool, 1), (1, *strides, 1)
    sums = jax.lax.reduce_window(x, 0.0, jax.lax.add, window, step, padding)
    counts = jax.lax.reduce_window(jnp.ones_like(x), 0.0, jax.lax.add, window, step, padding)
    return sums / counts


cases = {}

POOL_CASES = [
    # name, input shape, pool, strides, padding
    ("pool2_stride2_valid", (2, 4, 6, 3), (2, 2), (2, 2), "VALID"),
    ("pool3_stride2_same_odd", (2, 5, 7, 3), (3, 3), (2, 2), "SAME"),
    ("pool3_stride2_same_even", (2, 6, 4, 3), (3, 3), (2, 2), "SAME"),
    ("pool3_stride1_same", (2, 5, 4, 3), (3, 3), (1, 1), "SAME"),
    ("pool3x2_stride1x2_valid", (2, 6, 7, 3), (3, 2), (1, 2), "VALID"),
    ("pool2x3_stride3x1_same", (2, 7, 5, 3), (2, 3), (3, 1), "SAME"),
]

for name, shape, pool, strides, padding in POOL_CASES:
    x = jnp.asarray(distinct_input(shape))
    params = {"pool_h": pool[0], "pool_w": pool[1], "stride_h": strides[0], "stride_w": strides[1],
              "same": 1 if padding == "SAME" else 0}
    max_out, max_vjp = jax.vjp(lambda t: max_pool(t, pool, strides, padding), x)
    avg_out, avg_vjp = jax.vjp(lambda t: avg_pool(t, pool, strides, padding), x)
    g = rng.uniform(-1, 1, size=max_out.shape)
    (max_grad,) = max_vjp(jnp.asarray(g))
    (avg_grad,) = avg_vjp(jnp.asarray(g))
    # Every input gradient of max pooling is a sum of upstream gradients (routing, no scaling).
    assert np.isclose(float(jnp.sum(max_grad)), float(np.sum(g)))
    cases[name] = {
        "arrays": {"input": x, "upstream": g, "max_output": max_out, "max_input_grad": max_grad,
                   "avg_output": avg_out, "avg_input_grad": avg_grad},
        "params": params,
    }

# Global average pooling [N, H, W, C] -> [N, C].
x = jnp.asarray(rng.normal(size=(2, 3, 5, 4)))
gap_out, gap_vjp = jax.vjp(lambda t: jnp.mean(t, axis=(1, 2)), x)
g = rng.uniform(-1, 1, size=gap_out.shape)
(gap_grad,) = gap_vjp(jnp.asarray(g))
cases["global_average"] = {"arrays": {"input": x, "upstream": g, "output": gap_out, "input_grad": gap_grad}}

# Softmax and log-softmax along an axis, with vjp.
SOFTMAX_CASES = [
    ("softmax_last_random", rng.normal(scale=2.0, size=(4, 5)), -1),
    ("softmax_last_large", np.array([[1000.0, -1000.0, 0.0, 999.0],
                                     [-1000.0, -1000.0, -999.0, -1000.0],
                                     [50.0, -50.0, 49.0, 0.0],
                                     [-50.0, -50.0, -50.0, -50.0],
                                     [3.0, 1.0, -2.0, 0.5]]), -1),
    ("softmax_axis1_rank3", rng.normal(scale=3.0, size=(2, 4, 3)), 1),
    ("softmax_axis0_large", np.array([[1000.0, -50.0, 2.0], [-1000.0, 50.0, 1.0], [999.0, 49.0, 0.0]]), 0),
]
for name, logits, axis in SOFTMAX_CASES:
    x = jnp.asarray(logits)
    sm, sm_vjp = jax.vjp(lambda t: jax.nn.softmax(t, axis=axis), x)
    lsm, lsm_vjp = jax.vjp(lambda t: jax.nn.log_softmax(t, axis=axis), x)
    g = rng.uniform(-1, 1, size=x.shape)
    (sm_grad,) = sm_vjp(jnp.asarray(g))
    (lsm_grad,) = lsm_vjp(jnp.asarray(g))
    assert np.all(np.isfinite(sm)) and np.all(np.isfinite(lsm))
    cases[name] = {
        "arrays": {"logits": x, "upstream": g, "softmax": sm, "softmax_grad": sm_grad,
                   "log_softmax": lsm, "log_softmax_grad": lsm_grad},
        "params": {"axis": axis},
    }


# Sigmoid cross-entropy: max(x, 0) - x z + log(1 + exp(-|x|)), elementwise.
def sigmoid_ce(x, z):
    return jnp.maximum(x, 0) - x * z + jnp.log1p(jnp.exp(-jnp.abs(x)))


sig_logits = np.concatenate([rng.normal(scale=3.0, size=8), [1000.0, -1000.0, 50.0, -50.0, 0.0, 0.0, 20.0, -20.0]])
sig_labels = np.concatenate([rng.uniform(0, 1, size=4), rng.randint(0, 2, size=4).astype(np.float64),
                             [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.3, 0.7]])
sig_logits, sig_labels = sig_logits.reshape(4, 4), sig_labels.reshape(4, 4)
x, z = jnp.asarray(sig_logits), jnp.asarray(sig_labels)
loss = sigmoid_ce(x, z)
# The formula's max/abs kinks at x = 0 give JAX subgradients there, so the gradient is taken through the
# equal smooth form softplus(x) - x z (jax.nn.softplus is logaddexp(x, 0), differentiable everywhere).
smooth, loss_vjp = jax.vjp(lambda t: jax.nn.softplus(t) - t * z, x)
assert np.allclose(smooth, loss, rtol=1e-14, atol=1e-300)
g = rng.uniform(-1, 1, size=x.shape)
(grad,) = loss_vjp(jnp.asarray(g))
# Cross-checks: the gradient is sigmoid(x) - z everywhere, and jax.grad of the stable formula agrees away from
# its kink at 0; the formula equals the naive -(z log s + (1 - z) log(1 - s)) where that is finite.
assert np.allclose(grad, g * (jax.nn.sigmoid(x) - z), rtol=1e-12, atol=1e-14)
auto = jax.grad(lambda t: jnp.sum(sigmoid_ce(t, z) * g))(x)
nonzero = sig_logits != 0
assert np.allclose(np.asarray(auto)[nonzero], np.asarray(grad)[nonzero], rtol=1e-12, atol=1e-14)
moderate = np.abs(sig_logits) < 10
s = jax.nn.sigmoid(x)
naive = -(z * jnp.log(s) + (1 - z) * jnp.log1p(-s))
assert np.allclose(np.asarray(loss)[moderate], np.asarray(naive)[moderate], rtol=1e-9)
assert np.all(np.isfinite(loss))
cases["sigmoid_cross_entropy"] = {"arrays": {"logits": x, "labels": z, "upstream": g, "loss": loss,
                                             "logits_grad": grad}}


# Softmax cross-entropy along the last axis: -sum(z * log_softmax(x)), per example.
def softmax_ce(x, z):
    return -jnp.sum(z * jax.nn.log_softmax(x, axis=-1), axis=-1)


one_hot_logits = np.concatenate([rng.normal(scale=2.0, size=(3, 5)),
                                 [[1000.0, -1000.0, 0.0, 999.0, 50.0],
                                  [-1000.0, 1000.0, -50.0, 0.0, 1.0]]])
one_hot = np.eye(5)[[0, 3, 4, 1, 0]]
prob_logits = rng.normal(scale=2.0, size=(2, 3, 4))
prob_logits[1, 2] = [-1000.0, 1000.0, 50.0, -50.0]
raw = rng.uniform(0.1, 1.0, size=(2, 3, 4))
probs = raw / raw.sum(axis=-1, keepdims=True)
for name, logits, labels in [("softmax_ce_one_hot", one_hot_logits, one_hot),
                             ("softmax_ce_probabilities", prob_logits, probs)]:
    x, z = jnp.asarray(logits), jnp.asarray(labels)
    loss, loss_vjp = jax.vjp(lambda t: softmax_ce(t, z), x)
    g = rng.uniform(-1, 1, size=loss.shape)
    (grad,) = loss_vjp(jnp.asarray(g))
    auto = jax.grad(lambda t: jnp.sum(softmax_ce(t, z) * g))(x)
    # Labels sum to 1, so the gradient is softmax(x) - z per example.
    closed = g[..., None] * (jax.nn.softmax(x, axis=-1) - z)
    assert np.allclose(auto, closed, rtol=1e-12, atol=1e-14)
    assert np.allclose(grad, auto, rtol=1e-12, atol=1e-14)
    assert np.all(np.isfinite(loss))
    cases[name] = {"arrays": {"logits": x, "labels": z, "upstream": g, "loss": loss, "logits_grad": grad}}

fixture_io.write(OUT, "Tests/ReferenceScripts/pool_softmax_fixtures.py", cases,
                 [("numpy", np), ("jax", jax)])
