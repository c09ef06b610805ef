// Categorical cross-entropy against one-hot rows and against integer labels, from logits and
// from probabilities.

extension Loss {
    /// Per-sample categorical cross-entropy of `[N, ..., C]` predictions against targets of the same
    /// shape (one-hot rows or distributions), shape `[N, ...]`.
    static func categoricalCrossEntropyPerSample<Scalar: TensorScalar>(
        predictions: Variable<Scalar>, targets: Tensor<Scalar>, fromLogits: Bool, labelSmoothing: Double
    ) -> Variable<Scalar> {
        precondition(
            predictions.shape == targets.shape && predictions.rank >= 1,
            "categoricalCrossEntropy: predictions shape \(predictions.shape) and targets shape \(targets.shape) differ")
        let classes = predictions.shape[predictions.rank - 1]
        var labels = targets
        if labelSmoothing != 0 {
            // Keras: y * (1 - s) + s / C.
            labels = labels * Scalar(1 - labelSmoothing) + Scalar(labelSmoothing) / Scalar(classes)
        }
        if fromLogits {
            return softmaxCrossEntropy(logits: predictions, labels: labels)
        }
        // Keras: p / sum(p), clipped to [epsilon, 1 - epsilon], then -sum(y log p).
        let axis = predictions.rank - 1
        let normalized = predictions / predictions.sum(alongAxes: [axis], keepDims: true)
        return -(normalized.clippedToProbabilityRange().log() * labels).sum(alongAxes: [axis])
    }

    /// Per-sample categorical cross-entropy of `[N, ..., C]` predictions against class indices
    /// `labels` of shape `[N, ...]`. From probabilities, the clipped logarithms serve as logits
    /// (Keras's formula, which renormalises the clipped probabilities).
    static func sparseCategoricalCrossEntropyPerSample<Scalar: TensorScalar>(
        predictions: Variable<Scalar>, labels: Tensor<Scalar>, fromLogits: Bool
    ) -> Variable<Scalar> {
        let logits = fromLogits ? predictions : predictions.clippedToProbabilityRange().log()
        return softmaxCrossEntropy(logits: logits, labels: oneHot(labels, classes: predictions.shape[predictions.rank - 1]))
    }

    /// One-hot rows `[..., classes]` for class indices stored as scalars; stops on a label that is
    /// not a whole number in `0..<classes`.
    static func oneHot<Scalar: TensorScalar>(_ labels: Tensor<Scalar>, classes: Int) -> Tensor<Scalar> {
        labels.withUnsafeBufferPointer { source in
            Tensor.build(shape: labels.shape + [classes]) { out in
                for (i, label) in source.enumerated() {
                    precondition(
                        isClassIndex(label, classes: classes),
                        "sparseCategoricalCrossEntropy: label \(label) at flat index \(i) is not a class index in 0..<\(classes)")
                    out[i * classes + Int(label)] = 1
                }
            }
        }
    }
}
