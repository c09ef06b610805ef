// Inference with a batch normalization folded into the linear layer before it.
//
// In inference a batch normalization is a fixed per-channel affine map, so a convolution followed
// by one is a single convolution with its kernel's output channels scaled and a new bias (what
// TensorFlow's graph optimizer does for Keras models in inference): one pass over the activations
// instead of two. `Sequential` takes it only where nothing can observe the difference but rounding:
// in inference mode and while no graph is recorded (a graph would need the gradients of the
// original kernel and of the normalization's parameters).

/// A linear layer whose output channels (the last axis) a following ``BatchNorm`` can be folded into.
protocol BatchNormFoldable<Scalar>: Layer {
    /// The layer's forward pass with its output replaced by `output * factor[c] + offset[c]` (then
    /// `max(_, 0)` when `applyingReLU`), computed as one pass with a scaled kernel and bias; `nil`
    /// when the layer has an activation other than linear (the map must follow the linear part).
    func forward(
        _ input: Variable<Scalar>, foldingFactor factor: [Double], offset: [Double], applyingReLU: Bool
    ) -> Variable<Scalar>?
}

extension BatchNorm {
    /// The inference map `x * factor[c] + offset[c]` over the last axis of a rank-`rank` input
    /// (`factor = gamma / sqrt(movingVariance + epsilon)`, `offset = beta - movingMean * factor`),
    /// or `nil` when the layer is not built for such an input or normalizes another axis.
    func inferenceAffine(rank: Int) -> (factor: [Double], offset: [Double])? {
        guard let built = builtInputShape, rank == built.count + 1, let movingMean, let movingVariance else { return nil }
        let a = axis < 0 ? axis + rank : axis
        guard a == rank - 1 else { return nil }
        guard built[a - 1] == movingVariance.value.count else { return nil }
        let mean = movingMean.value.scalars
        let (betaValues, _, factor) = normalization(variance: movingVariance.value.scalars.map { Double($0) })
        let offset = (0..<factor.count).map { c in betaValues[c] - Double(mean[c]) * factor[c] }
        return (factor, offset)
    }
}

/// `kernel` with its last axis scaled by `factor`, and `bias * factor + offset` (`bias` 0 when absent).
func foldedKernelAndBias<Scalar: TensorScalar>(
    _ kernel: Tensor<Scalar>, bias: Tensor<Scalar>?, factor: [Double], offset: [Double]
) -> (kernel: Tensor<Scalar>, bias: Tensor<Scalar>) {
    let channels = factor.count
    precondition(kernel.shape.last == channels, "batch-norm folding: kernel shape \(kernel.shape) does not end with \(channels) channels")
    let scaled = kernel * Tensor<Scalar>(shape: [channels], scalars: factor.map { Scalar($0) })
    let b = bias?.scalars
    let folded = (0..<channels).map { c in Scalar((b.map { Double($0[c]) } ?? 0) * factor[c] + offset[c]) }
    return (scaled, Tensor(shape: [channels], scalars: folded))
}

extension Conv2D: BatchNormFoldable {
    func forward(
        _ input: Variable<Scalar>, foldingFactor factor: [Double], offset: [Double], applyingReLU: Bool
    ) -> Variable<Scalar>? {
        guard activation == .linear, let kernel, requireBuilt().last == input.shape.last, input.rank == 4 else { return nil }
        let (k, b) = foldedKernelAndBias(kernel.value, bias: bias?.value, factor: factor, offset: offset)
        return conv2d(
            input, Variable(k), bias: Variable(b), applyingReLU: applyingReLU,
            strides: strides, padding: padding, dilations: dilationRate)
    }
}

extension SeparableConv2D: BatchNormFoldable {
    func forward(
        _ input: Variable<Scalar>, foldingFactor factor: [Double], offset: [Double], applyingReLU: Bool
    ) -> Variable<Scalar>? {
        guard activation == .linear, let depthwiseKernel, let pointwiseKernel,
              requireBuilt().last == input.shape.last, input.rank == 4 else { return nil }
        let depthwise = depthwiseConv2d(input, depthwiseKernel, strides: strides, padding: padding, dilations: dilationRate)
        let (k, b) = foldedKernelAndBias(pointwiseKernel.value, bias: bias?.value, factor: factor, offset: offset)
        return conv2d(depthwise, Variable(k), bias: Variable(b), applyingReLU: applyingReLU)
    }
}
