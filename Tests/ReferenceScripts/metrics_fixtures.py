"""Reference values for the Metrics module, computed with scikit-learn (and NumPy for the few
quantities scikit-learn has no function for).

Run from the repository root:
    /work/refenv/bin/python Tests/ReferenceScripts/metrics_fixtures.py
Writes Tests/MetricsTests/Fixtures/metrics.json.

Layout (simpler than fixture_io's, because the values are of mixed kinds: integer matrices, curves,
dictionaries and the text of a classification report):
    {"generator": "...versions...",
     "cases": {name: {"inputs": {...}, "expected": {key: number | [numbers] | [[numbers]] | string | dict}}}}
Non-finite numbers are written as the strings "inf", "-inf" and "nan" (JSON has no literal for them).

Keras's thresholded AUC (keras.metrics.AUC(num_thresholds=200, curve='ROC',
summation_method='interpolation'), Keras 3.15.1 on TensorFlow 2.21.0) is taken from Keras itself, and
cross-checked against a NumPy transcription of Keras's formula (the script stops if they disagree
by more than 1e-6; Keras computes in float32): thresholds are
[-epsilon, 1/(n-1), 2/(n-1), ..., (n-2)/(n-1), 1+epsilon] with epsilon = 1e-7 (keras.backend.epsilon()),
a prediction counts as positive at threshold t when prediction > t, and the area is the trapezoid
sum over (false positive rate, recall) with divide-no-nan ratios.

Threshold selection is our own definition, computed here independently from scikit-learn's full ROC
curve (roc_curve(drop_intermediate=False)): Youden's J picks the first (highest) threshold with the
largest tpr - fpr among the finite thresholds; the required-sensitivity threshold is the first
(highest) finite threshold whose tpr reaches the requirement.
"""
import json
import os
import platform
import sys

import numpy as np
import sklearn
from sklearn import metrics as skm

OUT = os.path.join(os.path.dirname(__file__), "..", "MetricsTests", "Fixtures", "metrics.json")


def num(v):
    v = float(v)
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def nums(a):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return num(a)
    return [nums(x) for x in a] if a.ndim > 1 else [num(x) for x in a]


def ints(a):
    a = np.asarray(a)
    return [ints(x) for x in a] if a.ndim > 1 else [int(x) for x in a]


def keras_auc(y_true, y_score, num_thresholds=200, epsilon=1e-7):
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    thresholds = np.array([0.0 - epsilon] + inner + [1.0 + epsilon])
    y_true = np.asarray(y_true, dtype=bool)
    pred = np.asarray(y_score, dtype=np.float64)[None, :] > thresholds[:, None]
    tp = (pred & y_true[None, :]).sum(axis=1).astype(np.float64)
    fp = (pred & ~y_true[None, :]).sum(axis=1).astype(np.float64)
    fn = (~pred & y_true[None, :]).sum(axis=1).astype(np.float64)
    tn = (~pred & ~y_true[None, :]).sum(axis=1).astype(np.float64)

    def divide_no_nan(a, b):
        return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))

    recall = divide_no_nan(tp, tp + fn)
    fp_rate = divide_no_nan(fp, fp + tn)
    x, y = fp_rate, recall
    heights = (y[: num_thresholds - 1] + y[1:]) / 2.0
    return float(np.sum((x[: num_thresholds - 1] - x[1:]) * heights))


def keras_metric_auc(y_true, y_score, num_thresholds):
    """Keras's own AUC metric, checked against the NumPy transcription above."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    metric = keras.metrics.AUC(num_thresholds=num_thresholds, curve="ROC", summation_method="interpolation")
    metric.update_state(np.asarray(y_true, dtype=np.float32), np.asarray(y_score, dtype=np.float32))
    value = float(metric.result())
    mine = keras_auc(y_true, y_score, num_thresholds)
    assert abs(value - mine) < 1e-6, f"Keras AUC {value} differs from the NumPy transcription {mine}"
    return value


def one_vs_rest(y_true, y_pred, n_classes):
    """Per-class (tn, fp, fn, tp) from scikit-learn's multilabel_confusion_matrix."""
    mcm = skm.multilabel_confusion_matrix(y_true, y_pred, labels=list(range(n_classes)))
    return mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0], mcm[:, 1, 1]


def safe_ratio(num_, den):
    num_ = np.asarray(num_, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.where(den == 0, 0.0, num_ / np.where(den == 0, 1.0, den))


def averaged_ovr(num_, den, support):
    per_class = safe_ratio(num_, den)
    total = support.sum()
    return {
        "per_class": nums(per_class),
        "macro": num(per_class.mean()),
        "weighted": num(0.0 if total == 0 else (per_class * support).sum() / total),
        "micro": num(safe_ratio(num_.sum(), den.sum())),
    }


def classification_metrics(y_true, y_pred, n_classes, target_names=None):
    labels = list(range(n_classes))
    out = {
        "confusion_matrix": ints(skm.confusion_matrix(y_true, y_pred, labels=labels)),
        "accuracy": num(skm.accuracy_score(y_true, y_pred)),
        "balanced_accuracy": num(skm.balanced_accuracy_score(y_true, y_pred)),
        "matthews": num(skm.matthews_corrcoef(y_true, y_pred)),
    }
    averages = ["macro", "weighted", "micro", None] + (["binary"] if n_classes == 2 else [])
    for avg in averages:
        key = "per_class" if avg is None else avg
        kw = dict(labels=labels, average=avg, zero_division=0)
        out[f"precision_{key}"] = nums(skm.precision_score(y_true, y_pred, **kw))
        out[f"recall_{key}"] = nums(skm.recall_score(y_true, y_pred, **kw))
        out[f"f1_{key}"] = nums(skm.f1_score(y_true, y_pred, **kw))
        out[f"f2_{key}"] = nums(skm.fbeta_score(y_true, y_pred, beta=2.0, **kw))
        out[f"f05_{key}"] = nums(skm.fbeta_score(y_true, y_pred, beta=0.5, **kw))
    tn, fp, fn, tp = one_vs_rest(y_true, y_pred, n_classes)
    support = tp + fn
    spec = averaged_ovr(tn, tn + fp, support)
    npv = averaged_ovr(tn, tn + fn, support)
    for key, value in spec.items():
        out[f"specificity_{key}"] = value
    for key, value in npv.items():
        out[f"npv_{key}"] = value
    if n_classes == 2:
        # Binary specificity and negative predictive value are recall and precision of class 0.
        out["specificity_binary"] = num(skm.recall_score(y_true, y_pred, pos_label=0, zero_division=0))
        out["npv_binary"] = num(skm.precision_score(y_true, y_pred, pos_label=0, zero_division=0))
    report = skm.classification_report(
        y_true, y_pred, labels=labels, target_names=target_names, output_dict=True, zero_division=0)
    out["report_dict"] = {k: (num(v) if not isinstance(v, dict) else {kk: num(vv) for kk, vv in v.items()})
                          for k, v in report.items()}
    out["report_text"] = skm.classification_report(
        y_true, y_pred, labels=labels, target_names=target_names, zero_division=0)
    out["report_text_digits4"] = skm.classification_report(
        y_true, y_pred, labels=labels, target_names=target_names, digits=4, zero_division=0)
    return out


def binary_case(y_true, y_score, threshold, target_names=None):
    y_true = np.asarray(y_true, dtype=np.int64)
    y_score = np.asarray(y_score, dtype=np.float64)
    y_pred = (y_score >= threshold).astype(np.int64)
    expected = classification_metrics(y_true, y_pred, 2, target_names)
    fpr, tpr, thr = skm.roc_curve(y_true, y_score)
    expected.update(roc_fpr=nums(fpr), roc_tpr=nums(tpr), roc_thresholds=nums(thr))
    fpr_all, tpr_all, thr_all = skm.roc_curve(y_true, y_score, drop_intermediate=False)
    expected.update(roc_full_fpr=nums(fpr_all), roc_full_tpr=nums(tpr_all), roc_full_thresholds=nums(thr_all))
    expected["roc_auc"] = num(skm.roc_auc_score(y_true, y_score))
    precision, recall, pr_thr = skm.precision_recall_curve(y_true, y_score)
    expected.update(pr_precision=nums(precision), pr_recall=nums(recall), pr_thresholds=nums(pr_thr))
    expected["average_precision"] = num(skm.average_precision_score(y_true, y_score))
    expected["keras_auc_200"] = keras_metric_auc(y_true, y_score, 200)
    expected["keras_auc_11"] = keras_metric_auc(y_true, y_score, 11)
    # Threshold selection on the full curve, finite thresholds only (index 0 is +inf).
    j = tpr_all[1:] - fpr_all[1:]
    best = 1 + int(np.argmax(j))
    expected["youden"] = {"threshold": num(thr_all[best]), "sensitivity": num(tpr_all[best]),
                          "specificity": num(1 - fpr_all[best]), "j": num(j.max())}
    hit = 1 + int(np.argmax(tpr_all[1:] >= 0.9))
    expected["sensitivity_90"] = {"threshold": num(thr_all[hit]), "sensitivity": num(tpr_all[hit]),
                                  "specificity": num(1 - fpr_all[hit])}
    return {"inputs": {"labels": ints(y_true), "scores": nums(y_score), "threshold": threshold},
            "expected": expected}


def multiclass_case(y_true, probabilities, target_names=None):
    y_true = np.asarray(y_true, dtype=np.int64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    n_classes = probabilities.shape[1]
    y_pred = probabilities.argmax(axis=1)
    expected = classification_metrics(y_true, y_pred, n_classes, target_names)
    for avg in ["macro", "weighted", "micro"]:
        expected[f"roc_auc_ovr_{avg}"] = num(skm.roc_auc_score(y_true, probabilities, multi_class="ovr", average=avg))
    expected["roc_auc_ovr_per_class"] = nums(skm.roc_auc_score(
        y_true, probabilities, multi_class="ovr", average=None))
    return {"inputs": {"labels": ints(y_true), "probabilities": nums(probabilities)}, "expected": expected}


def main():
    rng = np.random.default_rng(20240624)
    cases = {}

    # Small binary case with many tied scores (one decimal), threshold 0.5.
    labels = [0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0]
    scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.7, 0.2, 0.4, 0.9, 0.6, 0.6, 0.1, 0.3, 0.5, 0.35, 0.5, 0.2, 0.7, 0.9, 0.0]
    cases["binary_ties"] = binary_case(labels, scores, 0.5)

    # Imbalanced binary case: 200 samples, about 10% positive, scores rounded to two decimals (ties).
    n = 200
    y = (rng.random(n) < 0.1).astype(np.int64)
    s = np.clip(0.3 + 0.25 * y + 0.18 * rng.standard_normal(n), 0, 1).round(2)
    cases["binary_imbalanced"] = binary_case(y, s, 0.4)

    # Pneumonia-like case: 624 test images (234 NORMAL = 0, 390 PNEUMONIA = 1), named classes.
    y = np.array([0] * 234 + [1] * 390)
    rng.shuffle(y)
    logits = np.where(y == 1, 1.6, -1.4) + 1.3 * rng.standard_normal(y.size)
    s = 1 / (1 + np.exp(-logits))
    cases["pneumonia"] = binary_case(y, s, 0.5, target_names=["NORMAL", "PNEUMONIA"])

    # Three classes, imbalanced (6 / 9 / 15), softmax probabilities; predictions by argmax.
    y = np.array([0] * 6 + [1] * 9 + [2] * 15)
    rng.shuffle(y)
    logits = rng.standard_normal((y.size, 3)) + 1.2 * np.eye(3)[y]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    cases["multiclass3"] = multiclass_case(y, p)
    cases["multiclass3_named"] = multiclass_case(y, p, target_names=["NORMAL", "BACTERIA", "VIRUS"])

    # Multi-class with one class never predicted (zero_division applies to its precision).
    y = np.array([0, 0, 1, 1, 2, 2, 2, 0, 1, 2])
    p = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.3, 0.6, 0.1],
                  [0.1, 0.5, 0.4], [0.45, 0.1, 0.45], [0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.2, 0.3, 0.5]])
    p[6] = [0.5, 0.1, 0.4]  # no tie in the argmax
    p[9] = [0.2, 0.45, 0.35]  # class 2 is never the argmax
    cases["multiclass_never_predicted"] = multiclass_case(y, p)

    import keras
    import tensorflow as tf

    versions = (f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
                f"keras {keras.__version__}, tensorflow {tf.__version__}")
    doc = {
        "generator": f"Tests/ReferenceScripts/metrics_fixtures.py (Python {platform.python_version()}, {versions})",
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}: {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
