// Binary cross-entropy, from probabilities (Keras's clipped formula) and from logits (stable).

extension Loss {
    /// Per-sample binary cross-entropy of `[N, ..., k]` predictions against targets of the same
    /// shape: the elementwise loss averaged over the last axis, shape `[N, ...]`.
    static func binaryCrossEntropyPerSample<Scalar: TensorScalar>(
        predictions: Variable<Scalar>, targets: Tensor<Scalar>, fromLogits: Bool, labelSmoothing: Double
    ) -> Variable<Scalar> {
        precondition(
            predictions.shape == targets.shape,
            "binaryCrossEntropy: predictions shape \(predictions.shape) and targets shape \(targets.shape) differ")
        var labels = targets
        if labelSmoothing != 0 {
            // Keras: y * (1 - s) + 0.5 * s.
            labels = labels * Scalar(1 - labelSmoothing) + Scalar(0.5 * labelSmoothing)
        }
        let elementwise = fromLogits
            ? sigmoidCrossEntropy(logits: predictions, labels: labels)
            : binaryCrossEntropyFromProbabilities(predictions, labels)
        return elementwise.mean(alongAxes: [predictions.rank - 1])
    }

    /// Keras's `-(y log p + (1 - y) log(1 - p))` on `p` clipped to `[epsilon, 1 - epsilon]`, as
    /// one recorded operation. The gradient is `(1 - y) / (1 - p) - y / p` where `p` lies within the
    /// clipping range (bounds included, as TensorFlow's `clip_by_value`) and zero outside it.
    static func binaryCrossEntropyFromProbabilities<Scalar: TensorScalar>(
        _ predictions: Variable<Scalar>, _ labels: Tensor<Scalar>
    ) -> Variable<Scalar> {
        let lower = Tensor(Scalar(epsilon)), upper = Tensor(Scalar(1.0 - epsilon))
        let p = predictions.value
        let clipped = p.maximum(lower).minimum(upper)
        let oneMinusClipped = 1 - clipped
        let oneMinusLabels = 1 - labels
        let loss = -(labels * clipped.log() + oneMinusLabels * oneMinusClipped.log())
        return Variable.record("binaryCrossEntropy", value: loss, inputs: [predictions]) { g in
            let inside = p.isGreaterOrEqual(to: lower) * p.isLessOrEqual(to: upper)
            return [g * inside * (oneMinusLabels / oneMinusClipped - labels / clipped)]
        }
    }
}
