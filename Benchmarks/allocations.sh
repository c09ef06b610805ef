#!/usr/bin/env bash
# Heap allocations per step of `pneumonia bench` (release build), counted exactly with perf uprobes
# on glibc's allocation functions: the run with 8 timed steps minus the run with 3, divided by 5
# (start-up, building and the first steps cancel out). Needs perf and permission to add uprobes.
#
#   Benchmarks/allocations.sh cnn150 train        # or: infer
set -euo pipefail
model=${1:?model}; mode=${2:-train}
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${PNEUMONIA_BIN:-$root/.build/release/pneumonia}"
libc=$(ldconfig -p | awk '/libc\.so\.6 .*x86-64/ {print $NF; exit}')
events=()
for f in malloc calloc realloc posix_memalign aligned_alloc; do
    perf probe -l 2>/dev/null | grep -q "probe_libc:$f " || perf probe -q -x "$libc" "$f" >/dev/null 2>&1 || true
    events+=("probe_libc:$f")
done
list=$(IFS=,; echo "${events[*]}")
count() {
    perf stat -x, -e "$list" "$bin" bench --model "$model" --mode "$mode" --steps "$1" --warmup 1 --warmup-seconds 0 \
        2>&1 >/dev/null | awk -F, '/probe_libc/ { s += $1 } END { print s }'
}
a=$(count 3); b=$(count 8)
echo "$model $mode: $(( (b - a) / 5 )) heap allocations per step ($a in a run of 3 timed steps, $b in one of 8)"
