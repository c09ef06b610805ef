"""Reference values for 2-D convolution (regular and depthwise), forward and backward, from JAX.

Run from the package root:
    /work/refenv/bin/python Tests/ReferenceScripts/conv_fixtures.py
Writes Tests/TensorTests/Fixtures/conv.json, read by Tests/TensorTests/ConvolutionTests.swift.

Layouts are Keras channels_last: input NHWC, filter HWIO ([KH, KW, Cin, Cout]), output NHWC.
Depthwise filters use the Keras DepthwiseConv2D layout [KH, KW, C, M] (M = depth multiplier) and
output channel c * M + m. JAX computes them as a grouped convolution (feature_group_count = C) with
the filter reshaped to [KH, KW, 1, C * M]: group c owns output channels c*M ..< (c+1)*M, which is
exactly the Keras order; an independent NumPy loop below asserts this.

Backward passes come from jax.vjp with a fixed upstream gradient `grad_output`:
grad_input = d<grad_output, conv(input, filter)>/d input, grad_filter likewise.

Every input, filter and upstream-gradient value is a small multiple of 1/16, so the file stays
compact and every product and sum is exact in float64 (and in float32), while the values are still
irregular enough that any indexing mistake shows.
"""
import os
import sys

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_io  # noqa: E402

rng = np.random.default_rng(20240611)


def quantized(shape):
    """Random values k/16 with k in [-24, 24]: exact in float32 and float64, short in JSON."""
    return rng.integers(-24, 25, size=shape).astype(np.float64) / 16.0


def conv(x, f, strides, padding, dilations, groups=1):
    return jax.lax.conv_general_dilated(
        x, f,
        window_strides=strides,
        padding=padding,
        rhs_dilation=dilations,
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=groups,
    )


def regular_case(n, h, w, cin, kh, kw, cout, strides, padding, dilations):
    x = jnp.asarray(quantized((n, h, w, cin)))
    f = jnp.asarray(quantized((kh, kw, cin, cout)))
    y, vjp = jax.vjp(lambda x, f: conv(x, f, strides, padding, dilations), x, f)
    g = jnp.asarray(quantized(y.shape))
    gx, gf = vjp(g)
    return {
        "arrays": {"input": x, "filter": f, "output": y, "grad_output": g, "grad_input": gx, "grad_filter": gf},
        "params": {
            "stride_h": strides[0], "stride_w": strides[1],
            "dilation_h": dilations[0], "dilation_w": dilations[1],
            "same": 1 if padding == "SAME" else 0,
        },
    }


def depthwise_numpy(x, f, strides, padding, dilations):
    """Independent direct loop for the Keras depthwise definition, to confirm the channel order."""
    n, h, w, c = x.shape
    kh, kw, _, m = f.shape
    pads = jax.lax.padtype_to_pads((h, w), ((kh - 1) * dilations[0] + 1, (kw - 1) * dilations[1] + 1),
                                   strides, padding)
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    oh = (xp.shape[1] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (xp.shape[2] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    out = np.zeros((n, oh, ow, c * m))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    patch = xp[:, i * strides[0] + a * dilations[0], j * strides[1] + b * dilations[1], :]  # [n, c]
                    for ch in range(c):
                        for mm in range(m):
                            out[:, i, j, ch * m + mm] += patch[:, ch] * f[a, b, ch, mm]
    return out


def depthwise_case(n, h, w, c, kh, kw, m, strides, padding, dilations):
    x = jnp.asarray(quantized((n, h, w, c)))
    f = jnp.asarray(quantized((kh, kw, c, m)))

    def dw(x, f):
        return conv(x, f.reshape(kh, kw, 1, c * m), strides, padding, dilations, groups=c)

    y, vjp = jax.vjp(dw, x, f)
    direct = depthwise_numpy(np.asarray(x), np.asarray(f), strides, padding, dilations)
    assert direct.shape == y.shape and np.array_equal(direct, np.asarray(y)), "depthwise channel order mismatch"
    g = jnp.asarray(quantized(y.shape))
    gx, gf = vjp(g)
    return {
        "arrays": {"input": x, "filter": f, "output": y, "grad_output": g, "grad_input": gx, "grad_filter": gf},
        "params": {
            "stride_h": strides[0], "stride_w": strides[1],
            "dilation_h": dilations[0], "dilation_w": dilations[1],
            "same": 1 if padding == "SAME" else 0,
        },
    }


cases = {
    # Regular convolution: (n, h, w, cin, kh, kw, cout, strides, padding, dilations)
    "conv_valid_s1": regular_case(2, 7, 6, 3, 3, 3, 2, (1, 1), "VALID", (1, 1)),
    "conv_same_s1": regular_case(2, 7, 6, 3, 3, 3, 2, (1, 1), "SAME", (1, 1)),
    "conv_valid_s2": regular_case(2, 7, 6, 3, 3, 3, 2, (2, 2), "VALID", (1, 1)),
    # 7 rows: total padding 2 (1 + 1); 6 columns: total padding 1, all of it at the end.
    "conv_same_s2": regular_case(2, 7, 6, 3, 3, 3, 2, (2, 2), "SAME", (1, 1)),
    # Even kernel, stride 1: total padding 1 (rows) and 2 (columns), asymmetric in rows.
    "conv_same_even_kernel": regular_case(2, 6, 7, 2, 2, 3, 3, (1, 1), "SAME", (1, 1)),
    "conv_valid_dilation2_cin1": regular_case(2, 7, 6, 1, 3, 3, 3, (1, 1), "VALID", (2, 2)),
    "conv_same_dilation2": regular_case(2, 7, 6, 3, 3, 3, 2, (1, 1), "SAME", (2, 2)),
    # Mixed per-axis stride and dilation, odd input, same padding.
    "conv_same_s2x1_d1x2": regular_case(2, 7, 6, 2, 3, 2, 2, (2, 1), "SAME", (1, 2)),
    # 1x1 kernels: the stride-1 case takes the no-im2col path, the stride-2 case does not.
    "conv_1x1_s1": regular_case(2, 5, 4, 3, 1, 1, 4, (1, 1), "VALID", (1, 1)),
    "conv_1x1_s2_same": regular_case(2, 5, 4, 3, 1, 1, 2, (2, 2), "SAME", (1, 1)),
    # Depthwise: (n, h, w, c, kh, kw, m, strides, padding, dilations)
    "depthwise_valid_s1_m1": depthwise_case(2, 7, 6, 3, 3, 3, 1, (1, 1), "VALID", (1, 1)),
    "depthwise_same_s1_m2": depthwise_case(2, 7, 6, 3, 3, 3, 2, (1, 1), "SAME", (1, 1)),
    "depthwise_same_s2_m2": depthwise_case(2, 7, 6, 3, 3, 3, 2, (2, 2), "SAME", (1, 1)),
    "depthwise_valid_s2_m1": depthwise_case(2, 6, 7, 2, 3, 2, 1, (2, 2), "VALID", (1, 1)),
    "depthwise_same_dilation2_m3": depthwise_case(2, 7, 6, 2, 3, 3, 3, (1, 1), "SAME", (2, 2)),
    "depthwise_valid_dilation2_c1": depthwise_case(2, 7, 6, 1, 3, 3, 2, (1, 1), "VALID", (2, 2)),
}

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
fixture_io.write(
    os.path.join(root, "TensorTests", "Fixtures", "conv.json"),
    "Tests/ReferenceScripts/conv_fixtures.py",
    cases,
    [("jax", jax), ("numpy", np)],
)
