"""Shared writer for the JSON fixture files the Swift tests read (Tests/TestSupport/ReferenceFixtures.swift).

Format: {"generator": "...", "cases": {case: {"arrays": {name: {"shape": [...], "data": [...]}},
"params": {name: number}}}}. Values are written with full double precision (repr round-trips).
"""
import json
import platform
import sys

import numpy as np


def array(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def write(path, script, cases, libraries):
    versions = ", ".join(f"{name} {module.__version__}" for name, module in libraries)
    doc = {
        "generator": f"{script} (Python {platform.python_version()}, {versions})",
        "cases": {
            name: {
                "arrays": {k: array(v) for k, v in c.get("arrays", {}).items()},
                "params": {k: float(v) for k, v in c.get("params", {}).items()},
            }
            for name, c in cases.items()
        },
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}: {len(cases)} cases", file=sys.stderr)
