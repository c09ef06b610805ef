"""Reference values for the Optimizers module, computed with Keras 3 optimizers, schedules and the
ReduceLROnPlateau callback on the TensorFlow backend, in float64.

Pins: keras==3.15.1, tensorflow-cpu==2.21.0 (plus numpy from requirements.txt).

Run from the repository root:
    /work/refenv/bin/python Tests/ReferenceScripts/optimizers_fixtures.py
Writes Tests/OptimizersTests/Fixtures/optimizers.json (format of fixture_io.py).

Optimizer cases ("opt_<name>"): two variables, "dense.kernel" [3, 2] and "dense.bias" [2], start at
"initial/<var>"; at step s (0-based, 5 steps) the gradients are "gradient/<s>/<var>" (absent when the
variable gets no gradient at that step: Keras filters a None gradient and leaves the variable and its
slots alone) and the variables after keras.optimizers.<X>.apply are "after/<s>/<var>". After the last
step, selected optimizer slots are "slot/<var>/<slot>" (Keras's slot names: momentum, velocity,
velocity_hat, average_gradient). The gradients change per step and their scale varies so that clipping
is active on some steps and not on others. The hyperparameters (numeric entries of the Keras config)
are in each case's params; the Swift tests build the same optimizers from their own table.

Schedule cases ("schedule_<name>"): "steps" and the Keras schedule's "values" at those steps.

Plateau cases ("plateau_<name>"): the monitored "values" fed one per epoch to
keras.callbacks.ReduceLROnPlateau (driven directly: set_model on a stand-in holding a Keras SGD
optimizer, then on_train_begin and on_epoch_end) and the optimizer's learning rate after each epoch,
"learning_rates". The min_lr case reaches the floor, where Keras compares the rate with
np.float32(min_lr) (0.02 > float32(0.02), so it keeps "reducing" to the floor and restarting cooldown).
"""
import inspect
import os
import sys
import types

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import warnings

warnings.filterwarnings("ignore")

import numpy as np
import keras
import tensorflow as tf

sys.path.insert(0, os.path.dirname(__file__))
import fixture_io  # noqa: E402

keras.config.set_floatx("float64")

OUT = os.path.join(os.path.dirname(__file__), "..", "OptimizersTests", "Fixtures", "optimizers.json")
STEPS = 5
SCALES = [0.2, 1.5, 0.5, 3.0, 0.1]
SHAPES = {"dense.kernel": (3, 2), "dense.bias": (2,)}


def make_gradients(seed, missing=()):
    """Per-step gradients; `missing` lists (step, name) pairs that get no gradient."""
    rng = np.random.default_rng(seed)
    steps = []
    for s in range(STEPS):
        grads = {}
        for name, shape in SHAPES.items():
            g = rng.standard_normal(shape) * SCALES[s]
            if (s, name) not in missing:
                grads[name] = g
        steps.append(grads)
    return steps


def slot_lists(opt):
    """Keras's per-variable slot lists by our slot names."""
    names = {
        "momentum": ["momentums", "_momentums"],
        "velocity": ["_velocities"],
        "velocity_hat": ["_velocity_hats"],
        "average_gradient": ["_average_gradients"],
    }
    found = {}
    for slot, attrs in names.items():
        for attr in attrs:
            lst = getattr(opt, attr, None)
            if lst:
                found[slot] = lst
                break
    return found


def run_optimizer(make, seed, missing=()):
    rng = np.random.default_rng(1000 + seed)
    initial = {name: rng.standard_normal(shape) for name, shape in SHAPES.items()}
    variables = {
        name: keras.Variable(initial[name], dtype="float64", name=name.replace(".", "_"))
        for name in SHAPES
    }
    opt = make()
    opt.build(list(variables.values()))
    grads = make_gradients(seed, missing)
    arrays = {f"initial/{n}": v for n, v in initial.items()}
    for s, step in enumerate(grads):
        pairs = [(tf.constant(step[n]) if n in step else None, variables[n]) for n in SHAPES]
        opt.apply([g for g, _ in pairs], [v for _, v in pairs])
        for n, g in step.items():
            arrays[f"gradient/{s}/{n}"] = g
        for n, v in variables.items():
            arrays[f"after/{s}/{n}"] = v.numpy()
    assert int(opt.iterations.numpy()) == STEPS
    for slot, lst in slot_lists(opt).items():
        for n, v in variables.items():
            arrays[f"slot/{n}/{slot}"] = lst[opt._get_variable_index(v)].numpy()
    config = opt.get_config()
    params = {k: float(v) for k, v in config.items() if isinstance(v, (bool, int, float))}
    return {"arrays": arrays, "params": dict(params, steps=STEPS)}


O = keras.optimizers
S = keras.optimizers.schedules
# Every float hyperparameter is passed as a NumPy float64: Keras's ops.cast / convert_to_tensor turn a
# Python float into a float32 tensor first, so a Python 0.9 becomes 0.8999999761581421 in the float64
# bias corrections, weight decay and schedules. With float64 scalars Keras computes its formulas in
# float64 throughout, which is what the Swift Double tests compare against.
F = np.float64


def f64(cls, **kwargs):
    """An optimizer whose float hyperparameters, given or default, are all NumPy float64."""
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name not in kwargs and isinstance(p.default, float):
            kwargs[name] = p.default
    return cls(**{k: F(v) if isinstance(v, float) else v for k, v in kwargs.items()})


def optimizer_cases():
    specs = {
        "sgd": lambda: f64(O.SGD, learning_rate=0.1),
        "sgd_momentum": lambda: f64(O.SGD, learning_rate=0.1, momentum=0.9),
        "sgd_nesterov": lambda: f64(O.SGD, learning_rate=0.1, momentum=0.9, nesterov=True),
        "sgd_weight_decay": lambda: f64(O.SGD, learning_rate=0.1, momentum=0.5, weight_decay=0.2),
        "sgd_clipnorm": lambda: f64(O.SGD, learning_rate=0.1, momentum=0.9, clipnorm=1.0),
        "sgd_schedule": lambda: f64(
            O.SGD, learning_rate=S.ExponentialDecay(F(0.2), decay_steps=2, decay_rate=F(0.5)), momentum=0.5),
        "rmsprop": lambda: f64(O.RMSprop, learning_rate=0.01),
        "rmsprop_momentum": lambda: f64(O.RMSprop, learning_rate=0.01, momentum=0.9),
        "rmsprop_centered": lambda: f64(O.RMSprop, learning_rate=0.01, centered=True),
        "rmsprop_centered_momentum": lambda: f64(O.RMSprop, learning_rate=0.01, momentum=0.5, centered=True),
        "rmsprop_epsilon": lambda: f64(O.RMSprop, learning_rate=0.01, rho=0.8, epsilon=0.1),
        "rmsprop_global_clipnorm": lambda: f64(O.RMSprop, learning_rate=0.01, global_clipnorm=1.0),
        "rmsprop_weight_decay": lambda: f64(O.RMSprop, learning_rate=0.01, weight_decay=0.5),
        "adam": lambda: f64(O.Adam, learning_rate=0.01),
        "adam_amsgrad": lambda: f64(O.Adam, learning_rate=0.01, beta_2=0.9, amsgrad=True),
        "adam_epsilon": lambda: f64(O.Adam, learning_rate=0.01, beta_1=0.8, beta_2=0.9, epsilon=0.1),
        "adam_clipvalue": lambda: f64(O.Adam, learning_rate=0.01, clipvalue=0.5),
        "adam_schedule": lambda: f64(O.Adam, learning_rate=S.CosineDecay(F(0.05), decay_steps=4, alpha=F(0.1))),
        "adamw": lambda: f64(O.AdamW, learning_rate=0.01),
        "adamw_decay": lambda: f64(O.AdamW, learning_rate=0.01, weight_decay=0.3, amsgrad=True),
    }
    cases = {}
    for i, (name, make) in enumerate(specs.items()):
        cases[f"opt_{name}"] = run_optimizer(make, seed=i)
    # Variables without a gradient at some steps, with a global norm over the present gradients.
    missing = {(1, "dense.bias"), (3, "dense.bias"), (2, "dense.kernel")}
    cases["opt_adamw_skip"] = run_optimizer(
        lambda: f64(O.AdamW, learning_rate=0.01, weight_decay=0.3, global_clipnorm=1.0), seed=50, missing=missing)
    cases["opt_sgd_momentum_skip"] = run_optimizer(
        lambda: f64(O.SGD, learning_rate=0.1, momentum=0.9, weight_decay=0.2), seed=51, missing=missing)
    return cases


def schedule_cases():
    steps = np.array([0, 1, 2, 3, 5, 9, 10, 11, 19, 20, 21, 37, 50, 51, 99, 100, 101, 119, 120, 150, 1000])
    specs = {
        "exponential": S.ExponentialDecay(F(0.1), decay_steps=10, decay_rate=F(0.5)),
        "exponential_staircase": S.ExponentialDecay(F(0.1), decay_steps=10, decay_rate=F(0.5), staircase=True),
        "exponential_staircase_3": S.ExponentialDecay(F(0.3), decay_steps=7, decay_rate=F(0.8), staircase=True),
        "piecewise": S.PiecewiseConstantDecay([10, 50], [F(0.1), F(0.05), F(0.01)]),
        "cosine": S.CosineDecay(F(0.1), decay_steps=100),
        "cosine_alpha": S.CosineDecay(F(0.1), decay_steps=100, alpha=F(0.1)),
        "cosine_warmup": S.CosineDecay(F(0.0), decay_steps=100, alpha=F(0.05), warmup_target=F(0.1), warmup_steps=20),
    }
    cases = {}
    for name, schedule in specs.items():
        values = [float(np.asarray(schedule(int(s)))) for s in steps]
        cases[f"schedule_{name}"] = {"arrays": {"steps": steps, "values": values}}
    return cases


def plateau_cases():
    specs = {
        # Keras defaults except patience: factor 0.1, min_delta 1e-4, cooldown 0, min_lr 0.
        "defaults_patience3": (dict(patience=3, mode="min"), 1.0,
                               [1.0, 0.9, 0.9, 0.89995, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.79, 0.79, 0.79, 0.79]),
        "min_cooldown_minlr": (dict(factor=0.5, patience=2, mode="min", min_delta=0.01, cooldown=2, min_lr=0.02),
                               0.1,
                               [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0,
                                3.0, 3.0, 3.0, 2.995, 2.995]),
        "max_mode": (dict(factor=0.2, patience=1, mode="max", min_delta=0.001, cooldown=1), 0.5,
                     [0.5, 0.6, 0.6005, 0.6, 0.7, 0.7, 0.7, 0.7, 0.71, 0.705, 0.705]),
    }
    cases = {}
    for name, (kwargs, lr, values) in specs.items():
        cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **kwargs)
        model = types.SimpleNamespace(optimizer=O.SGD(learning_rate=lr))
        cb.set_model(model)
        cb.on_train_begin()
        lrs = []
        for epoch, v in enumerate(values):
            cb.on_epoch_end(epoch, {"val_loss": v})
            lrs.append(float(np.asarray(model.optimizer.learning_rate)))
        params = {k: float(v) for k, v in kwargs.items() if k != "mode"}
        params["max_mode"] = 1.0 if kwargs["mode"] == "max" else 0.0
        params["initial_learning_rate"] = lr
        cases[f"plateau_{name}"] = {"arrays": {"values": values, "learning_rates": lrs}, "params": params}
    return cases


def main():
    cases = {}
    cases.update(optimizer_cases())
    cases.update(schedule_cases())
    cases.update(plateau_cases())
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    fixture_io.write(OUT, os.path.basename(__file__), cases, [("keras", keras), ("tensorflow", tf), ("numpy", np)])


if __name__ == "__main__":
    main()
