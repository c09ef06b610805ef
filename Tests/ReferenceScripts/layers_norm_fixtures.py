"""Reference values for the normalization and activation layers (Tests/LayersTests/BatchNormTests.swift,
Tests/LayersTests/ActivationLayerTests.swift), computed with Keras itself in float64.

Pins: tensorflow-cpu==2.21.0, keras==3.15.1 (plus numpy from requirements.txt).

Run from the package root:
    /work/refenv/bin/python Tests/ReferenceScripts/layers_norm_fixtures.py
Writes Tests/LayersTests/Fixtures/layers_norm.json.

BatchNormalization: each case builds the layer with fixed gamma, beta, moving mean and moving variance, then
makes three training-mode calls `layer(x_t, training=True)` on fixed inputs. For every call it records the
output, the gradients of `sum(output * w_t)` (fixed weights w_t) with respect to the input, gamma and beta
(tf.GradientTape), and the moving statistics after the call. A final inference-mode call
(`training=False`) records the output and its gradients too. Cases cover the Keras defaults on an NHWC
input, a rank-2 input with other momentum/epsilon and `scale=False`, and a rank-3 input normalized along
axis 1 with `center=False`.

Activation layers: keras.layers.ReLU (default and with max_value / negative_slope / threshold),
LeakyReLU (default negative_slope), Softmax (last axis and axis 1) and Activation("sigmoid"/"tanh"):
outputs and the input gradient of `sum(output * w)`. Inputs stay away from the kinks.
"""
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"  # plain TensorFlow kernels, reproducible round-off

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras.config.set_floatx("float64")

import fixture_io  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "LayersTests", "Fixtures", "layers_norm.json")

rng = np.random.RandomState(20240617)


def batchnorm_case(shape, axis, momentum, epsilon, center, scale):
    channels = shape[axis]
    layer = keras.layers.BatchNormalization(
        axis=axis, momentum=momentum, epsilon=epsilon, center=center, scale=scale, dtype="float64")
    layer.build(shape)
    gamma = rng.uniform(0.5, 1.5, size=channels)
    beta = rng.uniform(-0.5, 0.5, size=channels)
    moving_mean = rng.uniform(-0.3, 0.3, size=channels)
    moving_variance = rng.uniform(0.5, 2.0, size=channels)
    if scale:
        layer.gamma.assign(gamma)
    if center:
        layer.beta.assign(beta)
    layer.moving_mean.assign(moving_mean)
    layer.moving_variance.assign(moving_variance)
    arrays = {"gamma": gamma, "beta": beta, "moving_mean": moving_mean, "moving_variance": moving_variance}

    def call(x, w, training):
        xv = tf.Variable(x)
        with tf.GradientTape() as tape:
            y = layer(xv, training=training)
            loss = tf.reduce_sum(y * w)
        grads = tape.gradient(loss, [xv] + list(layer.trainable_weights))
        return y.numpy(), [g.numpy() for g in grads]

    for t in range(1, 4):
        # Different means and spreads per channel, so the statistics matter.
        x = rng.normal(size=shape) * rng.uniform(0.5, 3.0) + rng.uniform(-2, 2)
        w = rng.uniform(-1, 1, size=shape)
        y, grads = call(x, w, True)
        arrays[f"x{t}"] = x
        arrays[f"w{t}"] = w
        arrays[f"y{t}"] = y
        arrays[f"dx{t}"] = grads[0]
        names = (["gamma"] if scale else []) + (["beta"] if center else [])
        for name, g in zip(names, grads[1:]):
            arrays[f"d{name}{t}"] = g
        arrays[f"moving_mean{t}"] = layer.moving_mean.numpy()
        arrays[f"moving_variance{t}"] = layer.moving_variance.numpy()

    x = rng.normal(size=shape) * 1.5 + 0.2
    w = rng.uniform(-1, 1, size=shape)
    before = (layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy())
    y, grads = call(x, w, False)
    assert np.array_equal(before[0], layer.moving_mean.numpy())
    assert np.array_equal(before[1], layer.moving_variance.numpy())
    arrays["x_inference"] = x
    arrays["w_inference"] = w
    arrays["y_inference"] = y
    arrays["dx_inference"] = grads[0]
    names = (["gamma"] if scale else []) + (["beta"] if center else [])
    for name, g in zip(names, grads[1:]):
        arrays[f"d{name}_inference"] = g

    # Cross-check the recorded moving statistics with the documented update, biased batch variance.
    mm, mv = moving_mean, moving_variance
    axes = tuple(i for i in range(len(shape)) if i != (axis % len(shape)))
    for t in range(1, 4):
        x = arrays[f"x{t}"]
        mm = mm * momentum + x.mean(axis=axes) * (1 - momentum)
        mv = mv * momentum + x.var(axis=axes) * (1 - momentum)
        assert np.allclose(mm, arrays[f"moving_mean{t}"], rtol=1e-13, atol=1e-15)
        assert np.allclose(mv, arrays[f"moving_variance{t}"], rtol=1e-13, atol=1e-15)
    return {
        "arrays": arrays,
        "params": {"axis": axis, "momentum": momentum, "epsilon": epsilon,
                   "center": int(center), "scale": int(scale)},
    }


def away_from(values, kinks, margin=0.05):
    """Moves values within `margin` of a kink to kink + margin * 2 (gradients are ambiguous at kinks)."""
    v = values.copy()
    for k in kinks:
        near = np.abs(v - k) < margin
        v[near] = k + 2 * margin
    return v


def activation_case(layer, x, params=None):
    w = rng.uniform(-1, 1, size=x.shape)
    xv = tf.Variable(x)
    with tf.GradientTape() as tape:
        y = layer(xv)
        loss = tf.reduce_sum(y * w)
    dx = tape.gradient(loss, xv)
    return {"arrays": {"x": x, "w": w, "y": y.numpy(), "dx": dx.numpy()}, "params": params or {}}


cases = {
    "batchnorm_nhwc_defaults": batchnorm_case((4, 3, 2, 3), -1, 0.99, 1e-3, True, True),
    "batchnorm_rank2_scale_off": batchnorm_case((6, 4), -1, 0.8, 1e-2, True, False),
    "batchnorm_axis1_center_off": batchnorm_case((3, 4, 5), 1, 0.9, 1e-5, False, True),
}

x = away_from(rng.uniform(-8, 8, size=(4, 6)), [0.0, 0.5, 1.5, 6.0])
cases["relu"] = activation_case(keras.layers.ReLU(dtype="float64"), x)
cases["relu_max_slope_threshold"] = activation_case(
    keras.layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5, dtype="float64"), x,
    {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.5})
cases["relu_max6"] = activation_case(keras.layers.ReLU(max_value=6.0, dtype="float64"), x, {"max_value": 6.0})
cases["relu_slope"] = activation_case(
    keras.layers.ReLU(negative_slope=0.2, dtype="float64"), x, {"negative_slope": 0.2})
leaky = keras.layers.LeakyReLU(dtype="float64")
cases["leaky_relu_default"] = activation_case(leaky, x, {"negative_slope": leaky.negative_slope})
cases["softmax_last"] = activation_case(keras.layers.Softmax(dtype="float64"), rng.normal(size=(2, 3, 5)) * 2)
cases["softmax_axis1"] = activation_case(
    keras.layers.Softmax(axis=1, dtype="float64"), rng.normal(size=(2, 3, 5)) * 2, {"axis": 1})
cases["activation_sigmoid"] = activation_case(keras.layers.Activation("sigmoid", dtype="float64"), x)
cases["activation_tanh"] = activation_case(keras.layers.Activation("tanh", dtype="float64"), x)

fixture_io.write(OUT, os.path.basename(__file__), cases, [("numpy", np), ("tensorflow", tf), ("keras", keras)])
