// Differentiable softmax, log-softmax and cross-entropy losses on logits.

extension Variable {
    /// Softmax along `axis` (the last by default), stable for logits of any finite magnitude.
    public func softmax(alongAxis axis: Int = -1) -> Variable {
        let output = value.softmax(alongAxis: axis)
        // Named "softmax" only over the last axis, where losses may take its input as logits.
        let lastAxis = axis == -1 || axis == rank - 1
        return Variable.record(lastAxis ? "softmax" : "softmax(axis: \(axis))", value: output, inputs: [self]) { g in
            [Tensor.softmaxBackward(output: output, gradient: g, alongAxis: axis)]
        }
    }

    /// Log-softmax along `axis` (the last by default), stable for logits of any finite magnitude.
    public func logSoftmax(alongAxis axis: Int = -1) -> Variable {
        let output = value.logSoftmax(alongAxis: axis)
        return Variable.record("logSoftmax", value: output, inputs: [self]) { g in
            [Tensor.logSoftmaxBackward(output: output, gradient: g, alongAxis: axis)]
        }
    }
}

/// Elementwise binary cross-entropy of constant `labels` against the sigmoid of `logits`,
/// `max(x, 0) - x * z + log(1 + exp(-|x|))`, with the shape of `logits`. The gradient with
/// respect to the logits is `sigmoid(x) - z`; the labels get none.
public func sigmoidCrossEntropy<Scalar: TensorScalar>(
    logits: Variable<Scalar>, labels: Tensor<Scalar>
) -> Variable<Scalar> {
    let x = logits.value
    let loss = sigmoidCrossEntropy(logits: x, labels: labels)
    return Variable.record("sigmoidCrossEntropy", value: loss, inputs: [logits]) { g in
        [sigmoidCrossEntropyBackward(logits: x, labels: labels, gradient: g)]
    }
}

/// Per-example categorical cross-entropy of constant `labels` (one-hot rows or probability
/// distributions along the last axis) against the softmax of `logits`; the result drops the last
/// axis. The gradient with respect to the logits is `softmax(x) - z` per example (exactly
/// `softmax(x) * sum(z) - z`); the labels get none.
public func softmaxCrossEntropy<Scalar: TensorScalar>(
    logits: Variable<Scalar>, labels: Tensor<Scalar>
) -> Variable<Scalar> {
    let x = logits.value
    let loss = softmaxCrossEntropy(logits: x, labels: labels)
    return Variable.record("softmaxCrossEntropy", value: loss, inputs: [logits]) { g in
        [softmaxCrossEntropyBackward(logits: x, labels: labels, gradient: g)]
    }
}
