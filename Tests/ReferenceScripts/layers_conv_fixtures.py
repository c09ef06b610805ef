"""Reference values for the convolution, pooling, reshaping and dense layers, from Keras.

Pins: keras==3.15.1, tensorflow-cpu==2.21.0 (plus numpy from requirements.txt).

Run from the package root:
    /work/refenv/bin/python Tests/ReferenceScripts/layers_conv_fixtures.py
Writes Tests/LayersTests/Fixtures/layers_conv.json, read by Tests/LayersTests/ConvolutionLayerTests.swift,
PoolingLayerTests.swift, ReshapeLayerTests.swift and DenseTests.swift.

Two kinds of cases:
- "value" cases: a Keras layer (float64) built for a fixed input, its weights set to fixed values
  (numpy default_rng), run on a fixed input. Recorded: `input`, `weight_<i>` (in Keras's weight
  order, which is the Swift layer's `weights` order), `output`, the fixed `upstream` array, and
  the gradients of sum(output * upstream) with respect to the input (`grad_input`) and each
  weight (`grad_weight_<i>`), from tf.GradientTape.
- "shape" cases (names starting with `shape_`): a layer built for a larger input shape; recorded
  are the input shape (`in_0`, `in_1`, `in_2`), Keras's output shape (`out_0`, `out_1`, ...;
  `out_rank`) and `count_params()`.

The script asserts the Keras 3 local weight names the Swift layers use: Dense and Conv2D `kernel`, `bias`;
DepthwiseConv2D `kernel`, `bias` (Keras 3 renamed Keras 2's `depthwise_kernel`); SeparableConv2D
`depthwise_kernel`, `pointwise_kernel`, `bias`.
"""
import os
import sys

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras.config.set_floatx("float64")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

L = keras.layers
rng = np.random.default_rng(20250301)

EXPECTED_NAMES = {
    "Dense": ["kernel", "bias"],
    "Conv2D": ["kernel", "bias"],
    "DepthwiseConv2D": ["kernel", "bias"],
    "SeparableConv2D": ["depthwise_kernel", "pointwise_kernel", "bias"],
}

# name: (layer factory, input shape with batch)
VALUE_CASES = {
    "conv2d_valid_relu": (lambda: L.Conv2D(4, 3, activation="relu"), (2, 6, 7, 3)),
    "conv2d_same_strides_tanh": (
        lambda: L.Conv2D(3, (3, 2), strides=(2, 2), padding="same", activation="tanh"), (2, 7, 6, 2)),
    "conv2d_dilated_same_sigmoid": (
        lambda: L.Conv2D(2, 3, dilation_rate=2, padding="same", activation="sigmoid"), (1, 7, 7, 2)),
    "conv2d_nobias_rect_strides": (lambda: L.Conv2D(3, (2, 3), strides=(1, 2), use_bias=False), (2, 5, 8, 2)),
    "depthwise_same_strides_relu": (
        lambda: L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="relu"),
        (2, 7, 6, 3)),
    "depthwise_dilated_valid": (lambda: L.DepthwiseConv2D((3, 2), dilation_rate=(2, 1)), (2, 7, 6, 2)),
    "separable_same_relu": (
        lambda: L.SeparableConv2D(4, 3, padding="same", depth_multiplier=2, activation="relu"), (2, 6, 5, 3)),
    "separable_strides_nobias_tanh": (
        lambda: L.SeparableConv2D(3, (3, 2), strides=2, use_bias=False, activation="tanh"), (2, 7, 6, 2)),
    "separable_dilated_valid": (
        lambda: L.SeparableConv2D(2, 2, dilation_rate=2, depth_multiplier=3), (1, 6, 6, 2)),
    "maxpool_2": (lambda: L.MaxPooling2D(2), (2, 7, 6, 3)),
    "maxpool_3_s2_same": (lambda: L.MaxPooling2D(3, strides=2, padding="same"), (2, 7, 8, 3)),
    "maxpool_rect_strides": (lambda: L.MaxPooling2D((2, 3), strides=(1, 2)), (1, 5, 7, 2)),
    "avgpool_2": (lambda: L.AveragePooling2D(2), (2, 6, 7, 3)),
    "avgpool_3_s2_same": (lambda: L.AveragePooling2D(3, strides=2, padding="same"), (2, 7, 8, 3)),
    "global_average": (lambda: L.GlobalAveragePooling2D(), (2, 4, 5, 3)),
    "global_average_keepdims": (lambda: L.GlobalAveragePooling2D(keepdims=True), (2, 4, 5, 3)),
    "flatten": (lambda: L.Flatten(), (2, 3, 4, 2)),
    "reshape_inferred": (lambda: L.Reshape((-1, 4)), (2, 3, 4, 2)),
    "reshape_explicit": (lambda: L.Reshape((6, 4)), (2, 4, 3, 2)),
    # Dense cases come last so the random draws of the cases above are unchanged.
    "dense_relu": (lambda: L.Dense(5, activation="relu"), (4, 6)),
    "dense_sigmoid": (lambda: L.Dense(3, activation="sigmoid"), (3, 7)),
    "dense_linear_nobias": (lambda: L.Dense(4, use_bias=False), (3, 5)),
    "dense_softmax": (lambda: L.Dense(4, activation="softmax"), (3, 6)),
    # Rank 3 [N, T, F]: the kernel applies to the last axis.
    "dense_rank3_tanh": (lambda: L.Dense(4, activation="tanh"), (2, 3, 5)),
}

# name: (layer factory, input shape without batch)
SHAPE_CASES = {
    "shape_conv_cnn150_first": (lambda: L.Conv2D(32, 3, activation="relu"), (150, 150, 3)),
    "shape_conv_cnn128_first": (lambda: L.Conv2D(128, 3, padding="same", activation="relu"), (128, 128, 3)),
    "shape_conv_1x1_stride2": (lambda: L.Conv2D(64, 1, strides=2), (75, 75, 32)),
    "shape_conv_rect_same": (lambda: L.Conv2D(16, (3, 5), strides=(2, 3), padding="same"), (17, 20, 4)),
    "shape_conv_dilated_valid": (lambda: L.Conv2D(8, 3, dilation_rate=3), (20, 21, 2)),
    "shape_conv_dilated_same": (lambda: L.Conv2D(8, 3, dilation_rate=2, padding="same"), (9, 10, 2)),
    "shape_conv_nobias": (lambda: L.Conv2D(10, 5, strides=2, use_bias=False), (31, 30, 6)),
    "shape_depthwise_strides": (lambda: L.DepthwiseConv2D(3, strides=2, depth_multiplier=4), (15, 16, 5)),
    "shape_depthwise_dilated_same": (
        lambda: L.DepthwiseConv2D(5, padding="same", dilation_rate=2), (11, 12, 3)),
    "shape_separable_same": (lambda: L.SeparableConv2D(64, 3, padding="same"), (75, 75, 32)),
    "shape_separable_multiplier_strides": (
        lambda: L.SeparableConv2D(128, 3, strides=2, depth_multiplier=2), (38, 38, 64)),
    "shape_separable_dilated": (lambda: L.SeparableConv2D(16, 3, dilation_rate=2), (20, 20, 8)),
    "shape_maxpool_2": (lambda: L.MaxPooling2D(2), (148, 148, 32)),
    "shape_maxpool_3_s2_same": (lambda: L.MaxPooling2D(3, strides=2, padding="same"), (75, 75, 64)),
    "shape_maxpool_3_s2_valid": (lambda: L.MaxPooling2D(3, strides=2), (10, 11, 4)),
    "shape_avgpool_2_same": (lambda: L.AveragePooling2D(2, padding="same"), (7, 9, 3)),
    "shape_avgpool_rect": (lambda: L.AveragePooling2D((3, 2), strides=(1, 3)), (8, 10, 5)),
    "shape_global_average": (lambda: L.GlobalAveragePooling2D(), (7, 7, 128)),
    "shape_flatten": (lambda: L.Flatten(), (7, 7, 128)),
    "shape_reshape": (lambda: L.Reshape((49, -1)), (7, 7, 128)),
}


def check_names(layer):
    expected = EXPECTED_NAMES.get(type(layer).__name__)
    if expected is not None:
        names = [w.path.split("/")[-1] for w in layer.weights]
        # Without a bias only the trailing "bias" is missing.
        assert names == expected[: len(names)] and len(names) >= len(expected) - 1, names


def value_case(factory, input_shape):
    layer = factory()
    layer.build(input_shape)
    check_names(layer)
    weights = [rng.normal(0.0, 0.5, size=w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    x = tf.constant(rng.normal(0.0, 1.0, size=input_shape))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        upstream = tf.constant(rng.uniform(0.5, 1.5, size=y.shape))
        loss = tf.reduce_sum(y * upstream)
    grads = tape.gradient(loss, [x] + list(layer.trainable_variables))
    arrays = {"input": x.numpy(), "output": y.numpy(), "upstream": upstream.numpy(), "grad_input": grads[0].numpy()}
    for i, (w, g) in enumerate(zip(weights, grads[1:])):
        arrays[f"weight_{i}"] = w
        arrays[f"grad_weight_{i}"] = g.numpy()
    assert y.dtype == tf.float64
    return {"arrays": arrays, "params": {"weight_count": len(weights), "param_count": layer.count_params()}}


def shape_case(factory, input_shape):
    layer = factory()
    layer.build((None,) + input_shape)
    check_names(layer)
    out = layer.compute_output_shape((None,) + input_shape)[1:]
    params = {"param_count": layer.count_params(), "out_rank": len(out)}
    params.update({f"out_{i}": d for i, d in enumerate(out)})
    params.update({f"in_{i}": d for i, d in enumerate(input_shape)})
    return {"params": params}


cases = {name: value_case(*spec) for name, spec in VALUE_CASES.items()}
cases.update({name: shape_case(*spec) for name, spec in SHAPE_CASES.items()})

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
fixture_io.write(
    os.path.join(root, "LayersTests", "Fixtures", "layers_conv.json"),
    "Tests/ReferenceScripts/layers_conv_fixtures.py",
    cases,
    [("numpy", np), ("tensorflow", tf), ("keras", keras)],
)
