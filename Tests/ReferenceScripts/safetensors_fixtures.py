"""Reference safetensors files written by the Python safetensors package (Tests/TensorTests/SafeTensorsTests.swift).

Pins: safetensors==0.8.0, ml_dtypes (installed with jax/tensorflow, for bfloat16), numpy 2.4.6.

Run from the package root:
    /work/refenv/bin/python Tests/ReferenceScripts/safetensors_fixtures.py
Writes into Tests/TensorTests/Fixtures/:
- interop.safetensors: F32, F64, F16 and BF16 tensors (including a scalar and an empty tensor) and several
  metadata entries (with quotes, a backslash, a newline and non-ASCII text), via safetensors.numpy.save_file.
- interop.json (fixture_io format): case "interop" holds every tensor's values as float64, so the Swift test
  can check what it reads (the metadata strings are constants in the test).
- reference.safetensors: a fixed input the Swift writer reproduces (the test builds the same tensors and
  metadata and compares bytes). It has a single metadata key because the package writes metadata keys in
  hash order (random across runs), which the Swift writer replaces with sorted order.
The script reads both files back with safetensors.numpy.load_file and checks them before writing the JSON.
"""
import os

import ml_dtypes
import numpy as np
import safetensors
from safetensors.numpy import load_file, save_file

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "TensorTests", "Fixtures")

INTEROP_METADATA = {
    "format": "np",
    "epoch": "12",
    "note": 'quote " backslash \\ newline \n tab \t caf\u00e9 \u2713',
}

rng = np.random.RandomState(20240617)

interop = {
    "dense.kernel": rng.normal(0, 1, size=(3, 2)).astype(np.float32),
    "dense.bias": np.array([0.5, -1.25], dtype=np.float32),
    "conv2d.kernel": rng.normal(0, 1, size=(2, 2, 1, 3)).astype(np.float64),
    "scalar": np.array(3.141592653589793, dtype=np.float64),
    "empty": np.zeros((0, 4), dtype=np.float32),
    "half": np.array([1.5, -2.0, 65504.0, 6.0e-8, 0.0, -0.0, 1e-4], dtype=np.float16),
    "bfloat": np.array([1.5, -2.0, 3.0e38, 1e-3], dtype=ml_dtypes.bfloat16),
}
interop_path = os.path.join(FIXTURES, "interop.safetensors")
save_file(interop, interop_path, metadata=INTEROP_METADATA)

# Read back (numpy cannot load BF16, so check the others) and record every value as float64.
with safetensors.safe_open(interop_path, framework="np") as f:
    assert f.metadata() == INTEROP_METADATA
    for name in f.keys():
        if name != "bfloat":
            assert np.array_equal(f.get_tensor(name), interop[name])

# reference.safetensors: values exactly representable from the literals the Swift test uses.
reference = {
    "b.weight": (np.arange(6, dtype=np.float32).reshape(2, 3) * np.float32(0.5) - np.float32(1)),
    "a.bias": np.array([1.0 / 3.0, -2.5, 1e-300], dtype=np.float64),
    "z": np.array(7.25, dtype=np.float32),
    "empty": np.zeros((0,), dtype=np.float32),
    "m.x": np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float64),
}
reference_path = os.path.join(FIXTURES, "reference.safetensors")
save_file(reference, reference_path, metadata={"format": "pt"})
loaded = load_file(reference_path)
assert all(np.array_equal(loaded[k], v) for k, v in reference.items())

fixture_io.write(
    os.path.join(FIXTURES, "interop.json"),
    os.path.basename(__file__),
    {
        "interop": {"arrays": {name: np.asarray(v, dtype=np.float64) for name, v in interop.items()}},
    },
    [("safetensors", safetensors), ("numpy", np), ("ml_dtypes", ml_dtypes)],
)
