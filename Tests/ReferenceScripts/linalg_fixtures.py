"""Reference values for the linear algebra tests (Tests/TensorTests/LinearAlgebraTests.swift).

Run:  /work/refenv/bin/python Tests/ReferenceScripts/linalg_fixtures.py
Writes Tests/TensorTests/Fixtures/linalg.json with numpy.linalg / numpy.matmul results.
Matrices are small (at most 6 x 6) so the file stays a few KB.
"""
import os

import numpy as np

import fixture_io

rng = np.random.default_rng(20240611)


def rand(*shape):
    # Two decimals, so the inputs are short in JSON; the outputs keep full precision.
    return np.round(rng.uniform(-2.0, 2.0, size=shape), 2)


def well_conditioned(*shape):
    n = shape[-1]
    return rand(*shape) + 4.0 * np.eye(n)


def spd(*shape):
    m = rand(*shape)
    n = shape[-1]
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


cases = {}

# matmul: plain, each transpose flag, batched, broadcast batch dims, shared rank-2 operands.
a, b = rand(3, 4), rand(4, 5)
cases["matmul_plain"] = {"arrays": {"a": a, "b": b, "c": a @ b}}
a, b = rand(4, 3), rand(4, 5)
cases["matmul_transpose_self"] = {"arrays": {"a": a, "b": b, "c": a.T @ b}}
a, b = rand(3, 4), rand(5, 4)
cases["matmul_transpose_other"] = {"arrays": {"a": a, "b": b, "c": a @ b.T}}
a, b = rand(4, 3), rand(5, 4)
cases["matmul_transpose_both"] = {"arrays": {"a": a, "b": b, "c": a.T @ b.T}}
a, b = rand(2, 3, 4), rand(2, 4, 2)
cases["matmul_batched"] = {"arrays": {"a": a, "b": b, "c": a @ b}}
a, b = rand(2, 1, 3, 4), rand(3, 4, 2)
cases["matmul_broadcast"] = {"arrays": {"a": a, "b": b, "c": a @ b}}
a, b = rand(2, 3, 4), rand(4, 5)
cases["matmul_shared_rhs"] = {"arrays": {"a": a, "b": b, "c": a @ b}}
a, b = rand(3, 4), rand(2, 4, 2)
cases["matmul_shared_lhs"] = {"arrays": {"a": a, "b": b, "c": a @ b}}

# solve: single, batched, broadcast batch of right-hand sides against one matrix.
a, b = well_conditioned(5, 5), rand(5, 2)
cases["solve"] = {"arrays": {"a": a, "b": b, "x": np.linalg.solve(a, b)}}
a, b = well_conditioned(2, 3, 3), rand(2, 3, 2)
cases["solve_batched"] = {"arrays": {"a": a, "b": b, "x": np.linalg.solve(a, b)}}
a, b = well_conditioned(4, 4), rand(3, 4, 1)
cases["solve_broadcast"] = {"arrays": {"a": a, "b": b, "x": np.linalg.solve(a, b)}}

# inverse
a = well_conditioned(5, 5)
cases["inverse"] = {"arrays": {"a": a, "inverse": np.linalg.inv(a)}}
a = well_conditioned(2, 3, 3)
cases["inverse_batched"] = {"arrays": {"a": a, "inverse": np.linalg.inv(a)}}

# determinant and slogdet (random signs: no shift towards the identity)
a = rand(4, 4)
sign, logabs = np.linalg.slogdet(a)
cases["det"] = {"arrays": {"a": a, "det": np.linalg.det(a), "sign": sign, "logabs": logabs}}
a = rand(3, 3, 3)
sign, logabs = np.linalg.slogdet(a)
cases["det_batched"] = {"arrays": {"a": a, "det": np.linalg.det(a), "sign": sign, "logabs": logabs}}

# singular values (tall, wide, batched)
for name, shape in [("svd_tall", (6, 4)), ("svd_wide", (3, 5)), ("svd_batched", (2, 4, 3))]:
    a = rand(*shape)
    cases[name] = {"arrays": {"a": a, "s": np.linalg.svd(a, compute_uv=False)}}

# QR: R is unique up to the signs of its rows, so the tests compare |R|.
for name, shape in [("qr_tall", (5, 3)), ("qr_wide", (3, 5))]:
    a = rand(*shape)
    q, r = np.linalg.qr(a, mode="reduced")
    cases[name] = {"arrays": {"a": a, "abs_r": np.abs(r)}}

# Cholesky
a = spd(5, 5)
cases["cholesky"] = {"arrays": {"a": a, "l": np.linalg.cholesky(a)}}
a = spd(2, 3, 3)
cases["cholesky_batched"] = {"arrays": {"a": a, "l": np.linalg.cholesky(a)}}

here = os.path.dirname(os.path.abspath(__file__))
fixture_io.write(
    os.path.join(here, "..", "TensorTests", "Fixtures", "linalg.json"),
    "Tests/ReferenceScripts/linalg_fixtures.py",
    cases,
    [("numpy", np)],
)
