#!/usr/bin/env bash
# Side-by-side comparison of this library with PyTorch and Keras 3 (TensorFlow) on the seed models.
# Makes a virtual environment (Benchmarks/Compare/.venv, or $COMPARE_VENV) with the pinned peers,
# builds `pneumonia` in release, and runs compare.py with the arguments given, for example:
#   nice -n 5 Benchmarks/Compare/run.sh --models dense,cnn150 --steps 10 --rounds 2 --out /tmp/table.md
# COMPARE_SKIP_INSTALL=1 skips pip, COMPARE_SKIP_BUILD=1 skips swift build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${COMPARE_VENV:-$here/.venv}"

if [ ! -x "$venv/bin/python" ]; then
    echo "run.sh: creating $venv" >&2
    python3 -m venv "$venv"
fi
if [ "${COMPARE_SKIP_INSTALL:-0}" != 1 ]; then
    # One framework that fails to install must not stop the others: compare.py reports it as
    # "not available" in the table.
    if ! "$venv/bin/pip" install --quiet --progress-bar off -r "$here/requirements.txt"; then
        echo "run.sh: installing all requirements at once failed; trying them one by one" >&2
        grep -Ev '^\s*(#|$)' "$here/requirements.txt" | while read -r requirement; do
            "$venv/bin/pip" install --quiet --progress-bar off "$requirement" \
                || echo "run.sh: could not install $requirement; its framework will be missing from the table" >&2
        done
    fi
fi
if [ "${COMPARE_SKIP_BUILD:-0}" != 1 ]; then
    (cd "$root" && swift build -c release --product pneumonia >&2)
fi
bin="$(cd "$root" && swift build -c release --show-bin-path)/pneumonia"
exec "$venv/bin/python" "$here/compare.py" --swift-bin "$bin" "$@"
