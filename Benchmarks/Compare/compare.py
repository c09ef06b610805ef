#!/usr/bin/env python3
"""Side-by-side speed of swift-deep-learning, PyTorch and Keras 3 (TensorFlow) on the seed models.

Every measurement -- one framework, one model, one mode -- runs in its own subprocess, so the
peak resident set size (ru_maxrss of that child, from os.wait4) belongs to that measurement
alone. Frameworks take turns (round robin, the order rotating every round) and the whole sweep
repeats --rounds times; the table keeps each framework's best images/s.

    python compare.py --swift-bin .build/release/pneumonia --models dense,cnn150 --steps 10 --rounds 2

Usually started by run.sh, which makes the virtual environment and builds the Swift binary.
The same file is the peer runner: `compare.py worker --framework pytorch --model cnn --mode train`
prints one JSON line in the format of `pneumonia bench`.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

MODELS = ["dense", "dense-dropout", "cnn", "cnn150", "cnn128", "deep-cnn", "vgg3", "vgg5", "xception-mini"]
MODES = ["train", "infer"]
FRAMEWORKS = ["swift", "pytorch", "keras"]
PEERS = ["pytorch", "keras"]

# Exit status of a worker whose framework is not importable; the parent stops asking it.
MISSING = 3


def input_shape(model):
    """(height, width, channels) of a seed model's input, as in SeedModels.swift."""
    return {"cnn150": (150, 150, 3), "cnn128": (128, 128, 3)}.get(model, (150, 150, 1))


def synthetic_batch(model, batch):
    """The same batch for every peer: NHWC uniform [0, 1) images and alternating 0/1 labels."""
    import numpy as np

    rng = np.random.default_rng(2)
    x = rng.random((batch, *input_shape(model)), dtype=np.float32)
    y = (np.arange(batch) % 2).astype(np.float32).reshape(batch, 1)
    return x, y


# ----------------------------------------------------------------------------------------------
# PyTorch: channels_last, 2 intra-op threads, 1 inter-op thread.


def torch_model(model):
    """The seed model in PyTorch, layer for layer as Examples/PneumoniaModels/SeedModels.swift.

    Keras's "valid" is padding 0, its stride-1 "same" 3x3 is padding 1. Flatten reads NHWC
    (Keras order), which is a free view of a channels_last tensor. BatchNorm uses Keras's
    epsilon 1e-3 and momentum 0.99 (PyTorch momentum 0.01)."""
    import torch
    from torch import nn

    class FlattenNHWC(nn.Module):
        def forward(self, x):
            return x.permute(0, 2, 3, 1).flatten(1) if x.dim() == 4 else x.flatten(1)

    class GlobalAveragePool(nn.Module):
        def forward(self, x):
            return x.mean(dim=(2, 3))

    class Add(nn.Module):
        def __init__(self, *branches):
            super().__init__()
            self.branches = nn.ModuleList(branches)

        def forward(self, x):
            out = self.branches[0](x)
            for branch in self.branches[1:]:
                out = out + branch(x)
            return out

    def conv(cin, cout, same, bias=True, stride=1, kernel=3):
        return nn.Conv2d(cin, cout, kernel, stride=stride, padding=(kernel // 2 if same else 0), bias=bias)

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    def separable(cin, cout):
        # Keras SeparableConv2D: depthwise 3x3 (multiplier 1, no bias), then pointwise 1x1 with bias.
        return nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1))

    h, w, c = input_shape(model)
    relu = nn.ReLU
    if model in ("dense", "dense-dropout"):
        drop = [nn.Dropout(0.5)] if model == "dense-dropout" else []
        layers = [FlattenNHWC(), nn.Linear(h * w * c, 128), relu(), *drop, nn.Linear(128, 64), relu(), *drop,
                  nn.Linear(64, 1), nn.Sigmoid()]
    elif model == "cnn":
        layers = [conv(1, 32, False), relu(), nn.MaxPool2d(2), conv(32, 64, False), relu(), nn.MaxPool2d(2),
                  FlattenNHWC(), nn.Linear(36 * 36 * 64, 128), relu(), nn.Linear(128, 1), nn.Sigmoid()]
    elif model == "cnn150":
        layers = [conv(3, 32, False), relu(), nn.MaxPool2d(2), conv(32, 64, False), relu(), nn.MaxPool2d(2),
                  conv(64, 128, False), relu(), nn.MaxPool2d(2), nn.Dropout2d(0.2),
                  conv(128, 128, False), relu(), nn.MaxPool2d(2), nn.Dropout2d(0.2),
                  FlattenNHWC(), nn.Linear(7 * 7 * 128, 512), relu(), nn.Linear(512, 1), nn.Sigmoid()]
    elif model == "cnn128":
        layers = [conv(3, 128, True), relu(), nn.Dropout(0.2), nn.MaxPool2d(2),
                  conv(128, 64, False), relu(), nn.Dropout(0.2), nn.MaxPool2d(2),
                  conv(64, 32, False), relu(), nn.Dropout(0.2), nn.MaxPool2d(2),
                  FlattenNHWC(), nn.Linear(14 * 14 * 32, 32), relu(), nn.Linear(32, 1), nn.Sigmoid()]
    elif model == "deep-cnn":
        layers, cin = [], 1
        for f in (32, 64, 128, 256):
            layers += [conv(cin, f, True), relu(), conv(f, f, True), relu(), nn.MaxPool2d(2)]
            cin = f
        layers += [FlattenNHWC(), nn.Linear(9 * 9 * 256, 256), relu(), nn.Dropout(0.5), nn.Linear(256, 1), nn.Sigmoid()]
    elif model in ("vgg3", "vgg5"):
        layers, cin = [], 1
        for f in ((32, 64, 128) if model == "vgg3" else (32, 64, 128, 256, 256)):
            layers += [conv(cin, f, True), bn(f), relu(), conv(f, f, True), bn(f), relu(), nn.MaxPool2d(2)]
            cin = f
        layers += [GlobalAveragePool(), nn.Linear(cin, 128), relu(), nn.Dropout(0.5), nn.Linear(128, 1), nn.Sigmoid()]
    elif model == "xception-mini":
        # Keras pads a stride-2 "same" window by (0, 1) where the total padding is odd; PyTorch
        # pads (1, 1). Output shapes and work are identical; only which border is zero differs.
        layers, cin = [conv(1, 32, True, bias=False, stride=2), bn(32), relu()], 32
        for f in (64, 128, 256):
            main = nn.Sequential(separable(cin, f), bn(f), relu(), separable(f, f), bn(f), nn.MaxPool2d(3, 2, padding=1))
            layers.append(Add(main, conv(cin, f, True, stride=2, kernel=1)))
            cin = f
        layers += [GlobalAveragePool(), nn.Dropout(0.5), nn.Linear(cin, 1), nn.Sigmoid()]
    else:
        raise ValueError(f"unknown model {model!r}")
    return nn.Sequential(*layers)


def run_pytorch(args):
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    net = torch_model(args.model).to(memory_format=torch.channels_last)
    xn, yn = synthetic_batch(args.model, args.batch_size)
    # NHWC memory viewed as NCHW: exactly PyTorch's channels_last layout, no copy.
    x = torch.from_numpy(xn).permute(0, 3, 1, 2)
    assert x.is_contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy(yn)
    if args.mode == "train":
        net.train()
        # Keras's Adam defaults, as the library's Adam: lr 1e-3, betas (0.9, 0.999), epsilon 1e-7.
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
        loss_fn = torch.nn.BCELoss()

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            optimizer.step()
            return loss.item()
    else:
        net.eval()

        def step():
            with torch.inference_mode():
                return net(x)
    return time_steps(step, args), f"torch {torch.__version__}"


# ----------------------------------------------------------------------------------------------
# Keras 3 on TensorFlow: channels_last, 2 intra-op threads, 1 inter-op thread.


def keras_model(model):
    """The seed model in Keras 3, as ../shared/docs/seed-models.md and SeedModels.swift."""
    import keras
    from keras import layers as L

    h, w, c = input_shape(model)
    inputs = keras.Input((h, w, c))
    x = inputs
    if model in ("dense", "dense-dropout"):
        x = L.Flatten()(x)
        for units in (128, 64):
            x = L.Dense(units, activation="relu")(x)
            if model == "dense-dropout":
                x = L.Dropout(0.5)(x)
    elif model == "cnn":
        for f in (32, 64):
            x = L.MaxPooling2D(2)(L.Conv2D(f, 3, activation="relu")(x))
        x = L.Dense(128, activation="relu")(L.Flatten()(x))
    elif model == "cnn150":
        for f in (32, 64):
            x = L.MaxPooling2D(2)(L.Conv2D(f, 3, activation="relu")(x))
        for f in (128, 128):
            x = L.SpatialDropout2D(0.2)(L.MaxPooling2D(2)(L.Conv2D(f, 3, activation="relu")(x)))
        x = L.Dense(512, activation="relu")(L.Flatten()(x))
    elif model == "cnn128":
        for f, padding in ((128, "same"), (64, "valid"), (32, "valid")):
            x = L.MaxPooling2D(2)(L.Dropout(0.2)(L.Conv2D(f, 3, padding=padding, activation="relu")(x)))
        x = L.Dense(32, activation="relu")(L.Flatten()(x))
    elif model == "deep-cnn":
        for f in (32, 64, 128, 256):
            x = L.Conv2D(f, 3, padding="same", activation="relu")(x)
            x = L.Conv2D(f, 3, padding="same", activation="relu")(x)
            x = L.MaxPooling2D(2)(x)
        x = L.Dropout(0.5)(L.Dense(256, activation="relu")(L.Flatten()(x)))
    elif model in ("vgg3", "vgg5"):
        for f in ((32, 64, 128) if model == "vgg3" else (32, 64, 128, 256, 256)):
            for _ in range(2):
                x = L.ReLU()(L.BatchNormalization()(L.Conv2D(f, 3, padding="same")(x)))
            x = L.MaxPooling2D(2)(x)
        x = L.Dropout(0.5)(L.Dense(128, activation="relu")(L.GlobalAveragePooling2D()(x)))
    elif model == "xception-mini":
        x = L.ReLU()(L.BatchNormalization()(L.Conv2D(32, 3, strides=2, padding="same", use_bias=False)(x)))
        for f in (64, 128, 256):
            main = L.ReLU()(L.BatchNormalization()(L.SeparableConv2D(f, 3, padding="same")(x)))
            main = L.BatchNormalization()(L.SeparableConv2D(f, 3, padding="same")(main))
            main = L.MaxPooling2D(3, strides=2, padding="same")(main)
            x = L.Add()([main, L.Conv2D(f, 1, strides=2, padding="same")(x)])
        x = L.Dropout(0.5)(L.GlobalAveragePooling2D()(x))
    else:
        raise ValueError(f"unknown model {model!r}")
    outputs = L.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name=model)


def run_keras(args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    keras.config.set_image_data_format("channels_last")
    keras.utils.set_random_seed(1)
    net = keras_model(args.model)
    x, y = synthetic_batch(args.model, args.batch_size)
    if args.mode == "train":
        # Keras's default jit_compile="auto" means no XLA on a CPU-only machine.
        net.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss="binary_crossentropy")

        def step():
            return net.train_on_batch(x, y)
    else:
        def step():
            return net.predict_on_batch(x)
    return time_steps(step, args), f"keras {keras.__version__}, tensorflow {tf.__version__}"


def time_steps(step, args):
    # The same warm-up as `pneumonia bench`: `--warmup` steps, more until `--warmup-seconds` passed.
    start, warmed = time.perf_counter(), 0
    while warmed < args.warmup or time.perf_counter() - start < args.warmup_seconds:
        step()
        warmed += 1
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return args.batch_size * args.steps / sum(times), statistics.median(times) * 1000


def worker(args):
    runner = {"pytorch": run_pytorch, "keras": run_keras}[args.framework]
    try:
        (images_per_s, median_ms), version = runner(args)
    except ImportError as error:
        print(f"{args.framework} is not installed in {sys.executable}: {error}", file=sys.stderr)
        sys.exit(MISSING)
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"model": args.model, "mode": args.mode, "batch": args.batch_size,
                      "images_per_s": round(images_per_s, 2), "step_ms_median": round(median_ms, 3),
                      "peak_rss_mb": round(rss, 1), "version": version}), flush=True)
    # Skip the interpreter's teardown: PyTorch's module finalizers raise the RSS by ~100 MiB after
    # the run, which the parent's os.wait4 would otherwise count as the measurement's peak.
    sys.stderr.flush()
    os._exit(0)


# ----------------------------------------------------------------------------------------------
# The parent: round robin over frameworks, one subprocess per measurement.


def measure(command, timeout, env=None):
    """Runs one measurement in a child process.

    Returns (parsed JSON line or None, wall seconds, peak RSS of the child in MiB, error or None,
    exit status). The peak RSS is the child's own ru_maxrss from os.wait4, measured the same way
    for every framework."""
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    output = {}

    def drain(name, stream):
        output[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s)) for n, s in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:
        reader.start()
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    _, status, usage = os.wait4(process.pid, 0)
    timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    elapsed = time.monotonic() - start
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    out, err = output.get("out", ""), output.get("err", "")
    if process.returncode != 0:
        if elapsed >= timeout:
            return None, elapsed, peak, f"killed after the {timeout:.0f} s timeout", process.returncode
        lines = [line for line in err.strip().splitlines() if line.strip()]
        return None, elapsed, peak, (lines[-1] if lines else f"exit status {process.returncode}"), process.returncode
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line), elapsed, peak, None, 0
    return None, elapsed, peak, "no JSON line in the output", 0


def command_for(framework, model, mode, args):
    if framework == "swift":
        return [args.swift_bin, "bench", "--model", model, "--mode", mode,
                "--batch-size", str(args.batch_size), "--steps", str(args.steps),
                "--warmup", str(args.warmup), "--warmup-seconds", str(args.warmup_seconds)]
    return [sys.executable, os.path.abspath(__file__), "worker", "--framework", framework, "--model", model,
            "--mode", mode, "--batch-size", str(args.batch_size), "--steps", str(args.steps),
            "--warmup", str(args.warmup), "--warmup-seconds", str(args.warmup_seconds), "--threads", str(args.threads)]


def machine_description():
    model, cores = "unknown", os.cpu_count()
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    blas = ""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n", "libopenblas*"],
                             capture_output=True, text=True).stdout
        blas = ", ".join(line for line in out.splitlines() if line.split(" ")[-1])
    except OSError:
        pass
    return f"{model}, {cores} cores, {platform.system()} {platform.release()}" + (f"; {blas}" if blas else "")


def library_version():
    """This library's commit, for the report."""
    try:
        commit = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe", "--always", "--dirty"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    return f"this library at {commit}" if commit else "this library"


def fmt(value, digits=1):
    return f"{value:,.{digits}f}" if value is not None else "n/a"


def table(models, modes, frameworks, best, rss, errors, missing):
    head = ["model", "mode"] + [f"{f} img/s" for f in frameworks]
    head += ["swift / fastest peer"] if "swift" in frameworks else []
    head += [f"{f} peak RSS MiB" for f in frameworks]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    for model in models:
        for mode in modes:
            key = (model, mode)
            cells = [model, mode]
            for f in frameworks:
                value = best.get((f,) + key)
                if value is not None:
                    cells.append(fmt(value))
                else:
                    cells.append("not installed" if f in missing else "failed *" if (f,) + key in errors else "n/a")
            if "swift" in frameworks:
                peers = [best[(p,) + key] for p in frameworks if p != "swift" and (p,) + key in best]
                swift = best.get(("swift",) + key)
                cells.append(f"{swift / max(peers):.2f}" if swift is not None and peers else "n/a")
            cells += [fmt(rss.get((f,) + key), 0) for f in frameworks]
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def parent(args):
    models = [m for m in args.models.split(",") if m]
    modes = [m for m in args.modes.split(",") if m]
    frameworks = [f for f in args.frameworks.split(",") if f]
    for name, values, known in (("model", models, MODELS), ("mode", modes, MODES), ("framework", frameworks, FRAMEWORKS)):
        unknown = [v for v in values if v not in known]
        if unknown:
            sys.exit(f"compare.py: unknown {name} {', '.join(unknown)}; expected one of {', '.join(known)}")
    if "swift" in frameworks and not os.access(args.swift_bin, os.X_OK):
        sys.exit(f"compare.py: no Swift binary at {args.swift_bin}; build it with "
                 "`swift build -c release --product pneumonia` or pass --swift-bin")

    best, rss, errors, versions, missing, raw = {}, {}, {}, {}, {}, []
    started = datetime.datetime.now(datetime.timezone.utc)
    for round_index in range(args.rounds):
        order = frameworks[round_index % len(frameworks):] + frameworks[:round_index % len(frameworks)]
        for model in models:
            for mode in modes:
                for framework in order:
                    if framework in missing:
                        continue
                    key = (framework, model, mode)
                    env = dict(os.environ)
                    if framework == "pytorch" and args.omp_wait_policy:
                        env["OMP_WAIT_POLICY"] = args.omp_wait_policy
                    result, elapsed, peak, error, status = measure(command_for(framework, model, mode, args),
                                                                   args.timeout, env)
                    if status == MISSING and framework != "swift":
                        missing[framework] = error
                        print(f"[round {round_index + 1}] {framework}: not available ({error})", file=sys.stderr)
                        continue
                    if result is None:
                        errors[key] = error
                        print(f"[round {round_index + 1}] {framework} {model} {mode}: FAILED: {error}", file=sys.stderr)
                        continue
                    result.update(framework=framework, round=round_index + 1, wall_s=round(elapsed, 1),
                                  self_reported_peak_rss_mb=result.get("peak_rss_mb"), peak_rss_mb=round(peak, 1))
                    raw.append(result)
                    versions.setdefault(framework, result.get("version") or library_version()
                                        + (f", OpenBLAS core {result['blas_core']}" if result.get("blas_core") else ""))
                    if result["images_per_s"] > best.get(key, 0):
                        best[key] = result["images_per_s"]
                    rss[key] = max(rss.get(key, 0), result["peak_rss_mb"])
                    print(f"[round {round_index + 1}] {framework:8} {model:14} {mode:5} "
                          f"{result['images_per_s']:10.1f} img/s  median step {result['step_ms_median']:9.1f} ms  "
                          f"peak RSS {result['peak_rss_mb']:7.0f} MiB  ({elapsed:.0f} s)", file=sys.stderr, flush=True)

    lines = [
        f"Run {started:%Y-%m-%d %H:%M} UTC on {machine_description()}.",
        f"Batch {args.batch_size}, {args.steps} timed steps after a warm-up of at least {args.warmup} steps and "
        f"{args.warmup_seconds:g} s, best of {args.rounds} round(s), "
        f"frameworks in rotating round-robin order; peers use {args.threads} intra-op threads, 1 inter-op thread"
        + (f", PyTorch with OMP_WAIT_POLICY={args.omp_wait_policy}." if args.omp_wait_policy else "."),
        "Versions: " + "; ".join(f"{f}: {versions[f]}" for f in frameworks if f in versions) + ".",
        "",
        table(models, modes, frameworks, best, rss, errors, missing),
    ]
    for framework, error in missing.items():
        lines.append(f"\n{framework}: not available -- {error}")
    for (framework, model, mode), error in sorted(errors.items()):
        lines.append(f"\n* {framework} {model} {mode}: {error}")
    report = "\n".join(lines)
    print(report)
    if args.out:
        with open(args.out, "w") as file:
            file.write(report + "\n")
    if args.json:
        with open(args.json, "w") as file:
            json.dump({"started": started.isoformat(), "machine": machine_description(), "runs": raw}, file, indent=1)


def params(args):
    """Prints each seed model's trainable parameter count in the three frameworks, which must agree."""
    import re

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import numpy as np

    mismatches = 0
    print("| model | swift | pytorch | keras |\n|---|---:|---:|---:|")
    for model in MODELS:
        counts = []
        try:
            summary = subprocess.run([args.swift_bin, "summary", "--model", model], capture_output=True, text=True).stdout
            counts.append(int(re.search(r"Trainable params: ([\d,]+)", summary).group(1).replace(",", "")))
        except (OSError, AttributeError):
            counts.append(None)
        try:
            counts.append(sum(p.numel() for p in torch_model(model).parameters()))
        except ImportError:
            counts.append(None)
        try:
            counts.append(sum(int(np.prod(w.shape)) for w in keras_model(model).trainable_weights))
        except ImportError:
            counts.append(None)
        known = {c for c in counts if c is not None}
        mismatches += len(known) > 1
        print(f"| {model} | " + " | ".join(f"{c:,}" if c is not None else "n/a" for c in counts) + " |"
              + ("" if len(known) <= 1 else " MISMATCH"))
    sys.exit(1 if mismatches else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated seed models (default: all)")
    parser.add_argument("--modes", default="train,infer", help="train, infer or both (default)")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS), help="swift,pytorch,keras (default: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per measurement (default 10)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed steps first, for every framework (default 2: Keras traces on the first)")
    parser.add_argument("--warmup-seconds", type=float, default=0.2,
                        help="keep warming up until this many seconds have passed (default 0.2), for every framework")
    parser.add_argument("--rounds", type=int, default=2, help="repetitions of the whole sweep; best is kept (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="peers' intra-op threads (default 2)")
    parser.add_argument("--omp-wait-policy", choices=["ACTIVE", "PASSIVE"],
                        help="OMP_WAIT_POLICY for the PyTorch workers (default: unset, PyTorch's own behaviour; "
                             "PASSIVE stops its idle OpenMP threads spinning, which costs it a lot on a loaded machine)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per measurement (default 1800)")
    parser.add_argument("--swift-bin", default=".build/release/pneumonia", help="the release pneumonia binary")
    parser.add_argument("--out", help="also write the Markdown report here")
    parser.add_argument("--json", help="also write every measurement here")
    # The peer runner has its own parser (a subparser would clash with --models / --modes).
    work = argparse.ArgumentParser(prog="compare.py worker", description="One peer measurement; prints one JSON line.")
    work.add_argument("--framework", choices=PEERS, required=True)
    work.add_argument("--model", choices=MODELS, required=True)
    work.add_argument("--mode", choices=MODES, required=True)
    work.add_argument("--batch-size", type=int, default=32)
    work.add_argument("--steps", type=int, default=10)
    work.add_argument("--warmup", type=int, default=2)
    work.add_argument("--warmup-seconds", type=float, default=0.2)
    work.add_argument("--threads", type=int, default=2)
    if sys.argv[1:2] == ["worker"]:
        worker(work.parse_args(sys.argv[2:]))
    elif sys.argv[1:2] == ["params"]:
        check = argparse.ArgumentParser(prog="compare.py params",
                                        description="Trainable parameter counts of every seed model in each framework.")
        check.add_argument("--swift-bin", default=".build/release/pneumonia")
        params(check.parse_args(sys.argv[2:]))
    else:
        parent(parser.parse_args())

if __name__ == "__main__":
    main()
