"""Reference values for the training losses (Tests/LayersTests/LossTests.swift), computed with Keras in float64.

Pins: tensorflow-cpu==2.21.0, keras==3.15.1 (plus numpy 2.4.6 from requirements.txt).

Run from the package root:
    /work/refenv/bin/python Tests/ReferenceScripts/losses_fixtures.py
Writes Tests/LayersTests/Fixtures/losses.json.

Every case calls a Keras loss object (keras.losses.BinaryCrossentropy, CategoricalCrossentropy,
SparseCategoricalCrossentropy, MeanSquaredError) with the default reduction "sum_over_batch_size" and
records the scalar loss and its gradient with respect to the predictions (tf.GradientTape).

Class weights are turned into per-sample weights by Keras's own fit-time conversion
(keras.src.trainers.data_adapters.data_adapter_utils.class_weight_to_sample_weights) and then passed as
sample_weight. Keras's fit refuses class_weight together with sample_weight; the Swift loss multiplies them,
and the "class_and_sample_weights" cases record that product passed as sample_weight.

Arrays per case: predictions, targets, optionally sample_weights and class_weights (dense, index = class),
loss (shape []), gradient (shape of predictions). Params: from_logits, label_smoothing, kind
(0 binary, 1 categorical, 2 sparse categorical, 3 mean squared error).
"""
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras.src.trainers.data_adapters.data_adapter_utils import class_weight_to_sample_weights  # noqa: E402

import fixture_io  # noqa: E402

keras.config.set_floatx("float64")

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "LayersTests", "Fixtures", "losses.json")

rng = np.random.RandomState(20240615)

KINDS = {"binary": 0, "categorical": 1, "sparse": 2, "mse": 3}


def make_loss(kind, from_logits, label_smoothing):
    if kind == "binary":
        return keras.losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    if kind == "categorical":
        return keras.losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing)
    if kind == "sparse":
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    return keras.losses.MeanSquaredError()


def case(kind, predictions, targets, from_logits=False, label_smoothing=0.0, sample_weights=None,
         class_weights=None):
    predictions = np.asarray(predictions, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    weights = None
    if class_weights is not None:
        cw = {i: float(w) for i, w in enumerate(class_weights)}
        weights = class_weight_to_sample_weights(targets, cw).astype(np.float64)
    if sample_weights is not None:
        sw = np.asarray(sample_weights, dtype=np.float64)
        weights = sw if weights is None else weights * sw.reshape(weights.shape)
    loss_fn = make_loss(kind, from_logits, label_smoothing)
    p = tf.Variable(predictions, dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = loss_fn(tf.constant(targets), p, sample_weight=None if weights is None else tf.constant(weights))
    gradient = tape.gradient(loss, p)
    assert loss.dtype == tf.float64 and np.isfinite(loss.numpy())
    arrays = {
        "predictions": predictions,
        "targets": targets,
        "loss": np.asarray(loss.numpy()),
        "gradient": gradient.numpy(),
    }
    if sample_weights is not None:
        arrays["sample_weights"] = np.asarray(sample_weights, dtype=np.float64)
    if class_weights is not None:
        arrays["class_weights"] = np.asarray(class_weights, dtype=np.float64)
    return {
        "arrays": arrays,
        "params": {"from_logits": int(from_logits), "label_smoothing": label_smoothing, "kind": KINDS[kind]},
    }


def probabilities(shape):
    return rng.uniform(0.02, 0.98, size=shape)


def one_hot(labels, classes):
    return np.eye(classes)[labels]


cases = {}

# Binary cross-entropy from probabilities: exact 0 and 1 and values beyond the clipping range.
p_edge = np.array([[0.0], [1.0], [1e-9], [1 - 1e-9], [0.3], [0.999], [0.5], [0.02]])
y_edge = np.array([[0.0], [1.0], [1.0], [0.0], [1.0], [0.0], [1.0], [0.0]])
cases["binary_probs_clipping"] = case("binary", p_edge, y_edge)
cases["binary_probs_clipping_wrong_side"] = case("binary", p_edge, 1 - y_edge)
cases["binary_probs_multilabel"] = case("binary", probabilities((3, 4)), rng.uniform(0, 1, size=(3, 4)))
cases["binary_probs_targets_rank1"] = case("binary", probabilities((5, 1)), np.array([0.0, 1, 1, 0, 1]))
cases["binary_probs_rank1"] = case("binary", probabilities((5,)), np.array([1.0, 0, 1, 0, 0]))
cases["binary_probs_sample_weights"] = case(
    "binary", probabilities((6, 1)), np.array([[0.0], [1], [1], [0], [1], [0]]),
    sample_weights=[0.5, 2.0, 0.0, 1.5, 3.0, 1.0])
cases["binary_probs_smoothing"] = case(
    "binary", np.vstack([probabilities((4, 1)), [[0.0], [1.0]]]), np.array([[0.0], [1], [1], [0], [1], [0]]),
    label_smoothing=0.2)
cases["binary_probs_class_weights"] = case(
    "binary", probabilities((7, 1)), np.array([[0.0], [1], [1], [0], [1], [0], [0]]), class_weights=[0.3, 2.5])
cases["binary_probs_class_and_sample_weights"] = case(
    "binary", probabilities((5, 1)), np.array([[0.0], [1], [1], [0], [1]]), class_weights=[0.7, 1.9],
    sample_weights=[1.0, 0.5, 2.0, 0.25, 1.0])

# Binary cross-entropy from logits, including +-100 (stability) and 0.
logits_edge = np.array([[100.0], [-100.0], [100.0], [-100.0], [0.0], [3.2], [-7.0], [0.4]])
cases["binary_logits"] = case("binary", logits_edge, np.array([[1.0], [0], [0], [1], [1], [0], [1], [0]]),
                              from_logits=True)
cases["binary_logits_smoothing_weights"] = case(
    "binary", rng.normal(0, 3, size=(6, 1)), np.array([[0.0], [1], [1], [0], [1], [0]]), from_logits=True,
    label_smoothing=0.1, sample_weights=[1.0, 2.0, 0.5, 0.0, 1.5, 1.0])
cases["binary_logits_class_weights"] = case(
    "binary", rng.normal(0, 2, size=(6, 1)), np.array([[0.0], [1], [1], [0], [1], [1]]), from_logits=True,
    class_weights=[3.0, 0.6])

# Categorical cross-entropy (3 classes: NORMAL / BACTERIA / VIRUS).
labels = np.array([0, 1, 2, 2, 1, 0])
logits = rng.normal(0, 2, size=(6, 3))
logits[0] = [100.0, -100.0, 0.0]
logits[1] = [100.0, -100.0, 3.0]
cases["categorical_logits"] = case("categorical", logits, one_hot(labels, 3), from_logits=True)
cases["categorical_logits_smoothing"] = case("categorical", logits, one_hot(labels, 3), from_logits=True,
                                             label_smoothing=0.15)
cases["categorical_logits_weights"] = case(
    "categorical", rng.normal(0, 2, size=(6, 3)), one_hot(labels, 3), from_logits=True,
    sample_weights=[1.0, 0.5, 2.0, 0.0, 1.0, 3.0])
cases["categorical_logits_class_weights"] = case(
    "categorical", rng.normal(0, 2, size=(6, 3)), one_hot(labels, 3), from_logits=True,
    class_weights=[0.5, 1.2, 2.4])
cases["categorical_logits_soft_targets"] = case(
    "categorical", rng.normal(0, 2, size=(4, 3)), rng.dirichlet([1, 1, 1], size=4), from_logits=True)
probs = rng.dirichlet([2, 2, 2], size=6)
probs[0] = [1.0, 0.0, 0.0]          # exact one-hot prediction (clipped at both ends)
probs[1] = [0.0, 0.5, 0.5]          # the true class has probability 0
probs[2] = [0.2, 0.6, 0.6]          # not normalised: Keras divides by the row sum first
cases["categorical_probs"] = case("categorical", probs, one_hot(labels, 3))
cases["categorical_probs_smoothing"] = case("categorical", probs, one_hot(labels, 3), label_smoothing=0.1)

# Sparse categorical cross-entropy: labels [N] and [N, 1].
cases["sparse_logits"] = case("sparse", logits, labels.astype(np.float64), from_logits=True)
cases["sparse_logits_column_labels"] = case(
    "sparse", logits, labels.reshape(-1, 1).astype(np.float64), from_logits=True,
    sample_weights=[1.0, 2.0, 0.5, 1.0, 0.0, 1.5])
cases["sparse_logits_class_weights"] = case(
    "sparse", rng.normal(0, 2, size=(6, 3)), labels.astype(np.float64), from_logits=True,
    class_weights=[0.5, 1.2, 2.4])
cases["sparse_probs"] = case("sparse", probs, labels.astype(np.float64))

# Mean squared error.
cases["mse"] = case("mse", rng.normal(0, 1, size=(4, 3)), rng.normal(0, 1, size=(4, 3)))
cases["mse_weights"] = case("mse", rng.normal(0, 1, size=(5, 2)), rng.normal(0, 1, size=(5, 2)),
                            sample_weights=[1.0, 0.0, 2.0, 0.5, 1.0])
cases["mse_targets_rank1"] = case("mse", rng.normal(0, 1, size=(4, 1)), rng.normal(0, 1, size=(4,)))

fixture_io.write(OUT, os.path.basename(__file__), cases, [("keras", keras), ("tensorflow", tf), ("numpy", np)])
