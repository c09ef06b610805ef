// Mean squared error.

extension Loss {
    /// Per-sample mean squared error of `[N, ..., k]` predictions against targets of the same
    /// shape: `mean((p - y)^2)` over the last axis, shape `[N, ...]`.
    static func meanSquaredErrorPerSample<Scalar: TensorScalar>(
        predictions: Variable<Scalar>, targets: Tensor<Scalar>
    ) -> Variable<Scalar> {
        precondition(
            predictions.shape == targets.shape,
            "meanSquaredError: predictions shape \(predictions.shape) and targets shape \(targets.shape) differ")
        let difference = predictions.value - targets
        let squared = Variable.record("squaredError", value: difference.squared(), inputs: [predictions]) { g in
            [g * difference * 2]
        }
        return squared.mean(alongAxes: [predictions.rank - 1])
    }
}
