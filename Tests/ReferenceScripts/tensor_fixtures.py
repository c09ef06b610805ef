"""Reference values for the Tensor core: reductions, broadcasting, shape operations, creation, and
the SeededGenerator's sequence.

Run: python Tests/ReferenceScripts/tensor_fixtures.py  (writes Tests/TensorTests/Fixtures/tensor.json)
NumPy computes every array; the generator values come from a plain-Python transcription of the
published xoshiro256** and SplitMix64 reference code (Blackman and Vigna), independent of the Swift one.
"""
import math
import os

import numpy as np

from fixture_io import write

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "TensorTests", "Fixtures", "tensor.json")
MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro256StarStar:
    def __init__(self, seed):
        s = seed
        self.s = []
        for _ in range(4):
            s, v = splitmix64(s)
            self.s.append(v)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def main():
    rng = np.random.default_rng(2018)
    cases = {}

    x = rng.uniform(-3, 3, size=(2, 3, 4))
    reductions = {"x": x}
    for name, axes in [("all", None), ("a0", (0,)), ("a1", (1,)), ("a2", (2,)), ("a02", (0, 2)), ("a12", (1, 2))]:
        reductions[f"sum_{name}"] = np.sum(x, axis=axes)
        reductions[f"mean_{name}"] = np.mean(x, axis=axes)
        reductions[f"max_{name}"] = np.max(x, axis=axes)
        reductions[f"min_{name}"] = np.min(x, axis=axes)
        reductions[f"var_{name}"] = np.var(x, axis=axes)
    reductions["var1_a1"] = np.var(x, axis=1, ddof=1)
    reductions["argmax_a1"] = np.argmax(x, axis=1)
    reductions["argmin_a2"] = np.argmin(x, axis=2)
    cases["reductions"] = {"arrays": reductions}

    a = rng.uniform(-2, 2, size=(2, 1, 4))
    b = rng.uniform(0.5, 2, size=(3, 1))
    c = rng.uniform(-1, 1, size=(4,))
    cases["broadcasting"] = {"arrays": {
        "a": a, "b": b, "c": c,
        "a_plus_b": a + b, "a_minus_b": a - b, "a_times_b": a * b, "a_div_b": a / b,
        "b_pow_c": np.power(b, c), "max_a_c": np.maximum(a, c), "min_b_c": np.minimum(b, c),
    }}

    y = rng.uniform(-1, 1, size=(2, 3, 4, 5))
    cases["shape"] = {"arrays": {
        "y": y,
        "permute_2031": np.transpose(y, (2, 0, 3, 1)),
        "transpose_last": np.swapaxes(y, -1, -2),
        "slice_a2_1_3": y[:, :, 1:3, :],
        "concat_a1": np.concatenate([y, y[:, :2] * 2], axis=1),
        "stack_a2": np.stack([y[0], y[1]], axis=2),
    }}

    cases["creation"] = {"arrays": {
        "arange_0_5_0p5": np.arange(0, 5, 0.5),
        "arange_3_m2_m1p5": np.arange(3, -2, -1.5),
        "linspace_m1_1_9": np.linspace(-1, 1, 9),
        "identity_4": np.eye(4),
    }}

    g = Xoshiro256StarStar(42)
    raw = [g.next() for _ in range(8)]
    # Split each 64-bit value into two exactly representable 32-bit halves for the JSON doubles.
    cases["generator_seed42"] = {"arrays": {
        "high32": np.array([v >> 32 for v in raw], dtype=np.float64),
        "low32": np.array([v & 0xFFFFFFFF for v in raw], dtype=np.float64),
        "unit_double": np.array([(v >> 11) * 2.0 ** -53 for v in raw]),
        "unit_float": np.array([(v >> 40) * 2.0 ** -24 for v in raw]),
    }}
    g = Xoshiro256StarStar(7)
    normals = []
    for _ in range(4):
        u1 = 1 - (g.next() >> 11) * 2.0 ** -53
        u2 = (g.next() >> 11) * 2.0 ** -53
        normals.append(math.sqrt(-2 * math.log(u1)) * math.cos(2 * math.pi * u2))
    cases["normal_seed7"] = {"arrays": {"values": np.array(normals)}}

    write(OUT, "Tests/ReferenceScripts/tensor_fixtures.py", cases, [("numpy", np)])


if __name__ == "__main__":
    main()
