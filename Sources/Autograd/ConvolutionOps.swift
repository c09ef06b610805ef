// Differentiable 2-D convolutions: forward and backward rules side by side, on the Tensor kernels.

/// Differentiable 2-D convolution of an NHWC `input` `[N, H, W, Cin]` with an HWIO `filter`
/// `[KH, KW, Cin, Cout]`, giving `[N, OH, OW, Cout]` (see `Tensor.conv2d(filter:strides:padding:dilations:)`).
///
/// Backward: the input gradient is the transposed convolution of the upstream gradient
/// (`Tensor.conv2dBackwardInput`), the filter gradient is `im2col(input)^T * gradient`
/// (`Tensor.conv2dBackwardFilter`); each is computed only if that operand requires a gradient.
///
/// - Parameters:
///   - input: the NHWC input `[N, H, W, C]`.
///   - filter: the kernel (`[KH, KW, Cin, Cout]`; `[KH, KW, C, M]` for depthwise).
///   - strides: `(sh, sw)`, the step between windows along height and width.
///   - padding: `.valid` or `.same` (Keras rules, extra padding at the bottom/right).
///   - dilations: `(dh, dw)`, the spacing between kernel taps.
public func conv2d<Scalar: TensorScalar>(
    _ input: Variable<Scalar>, _ filter: Variable<Scalar>,
    strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
) -> Variable<Scalar> {
    let x = input.value, f = filter.value
    let value = x.conv2d(filter: f, strides: strides, padding: padding, dilations: dilations)
    let needsInput = input.requiresGradient, needsFilter = filter.requiresGradient
    return Variable.record("conv2d", value: value, inputs: [input, filter]) { g in
        let (dx, df) = conv2dGradients(
            g, input: x, filter: f, needsInput: needsInput, needsFilter: needsFilter,
            strides: strides, padding: padding, dilations: dilations)
        return [dx, df]
    }
}

/// Differentiable depthwise 2-D convolution (Keras `DepthwiseConv2D`) of an NHWC `input`
/// `[N, H, W, C]` with a filter `[KH, KW, C, M]`, giving `[N, OH, OW, C * M]` with output channel
/// `c * M + m` (see `Tensor.depthwiseConv2d(filter:strides:padding:dilations:)`).
///
/// Backward: `Tensor.depthwiseConv2dBackwardInput` and `Tensor.depthwiseConv2dBackwardFilter`,
/// each computed only if that operand requires a gradient. Strides, padding and dilations as in
/// ``conv2d(_:_:strides:padding:dilations:)``.
public func depthwiseConv2d<Scalar: TensorScalar>(
    _ input: Variable<Scalar>, _ filter: Variable<Scalar>,
    strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
) -> Variable<Scalar> {
    let x = input.value, f = filter.value
    let value = x.depthwiseConv2d(filter: f, strides: strides, padding: padding, dilations: dilations)
    let needsInput = input.requiresGradient, needsFilter = filter.requiresGradient
    return Variable.record("depthwiseConv2d", value: value, inputs: [input, filter]) { g in
        let (dx, df) = depthwiseConv2dGradients(
            g, input: x, filter: f, needsInput: needsInput, needsFilter: needsFilter,
            strides: strides, padding: padding, dilations: dilations)
        return [dx, df]
    }
}

/// Differentiable 2-D convolution with a fused bias and optional ReLU epilogue:
/// `relu(conv2d(input, filter) + bias)` (or without the ReLU), recorded as one graph node.
///
/// The forward pass adds the bias and applies ReLU in one sweep over the convolution's output
/// (`Tensor.conv2d(filter:bias:applyingReLU:strides:padding:dilations:)`, inside the Winograd
/// output transform where that applies); the backward pass masks the upstream gradient and sums
/// the bias gradient in one sweep (`Tensor.biasActivationBackward(gradient:output:applyingReLU:)`)
/// before the convolution's own input and filter gradients.
///
/// - Parameters:
///   - input: the NHWC input `[N, H, W, Cin]`.
///   - filter: the HWIO kernel `[KH, KW, Cin, Cout]`.
///   - bias: `[Cout]`, or `nil` for none.
///   - applyingReLU: whether to apply `max(_, 0)` after the bias.
///   - strides: `(sh, sw)`, the step between windows along height and width.
///   - padding: `.valid` or `.same` (Keras rules, extra padding at the bottom/right).
///   - dilations: `(dh, dw)`, the spacing between kernel taps.
public func conv2d<Scalar: TensorScalar>(
    _ input: Variable<Scalar>, _ filter: Variable<Scalar>, bias: Variable<Scalar>?, applyingReLU: Bool,
    strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
) -> Variable<Scalar> {
    let x = input.value, f = filter.value
    let value = x.conv2d(
        filter: f, bias: bias?.value, applyingReLU: applyingReLU, strides: strides, padding: padding, dilations: dilations)
    let needsInput = input.requiresGradient, needsFilter = filter.requiresGradient
    return recordBiasActivation(
        "conv2d", value: value, input: input, weight: filter, bias: bias, applyingReLU: applyingReLU
    ) { g in
        conv2dGradients(
            g, input: x, filter: f, needsInput: needsInput, needsFilter: needsFilter,
            strides: strides, padding: padding, dilations: dilations)
    }
}

/// Differentiable depthwise 2-D convolution with a fused bias and optional ReLU epilogue:
/// `relu(depthwiseConv2d(input, filter) + bias)` (or without the ReLU), recorded as one graph node.
///
/// The bias (`[C * M]`) and ReLU are applied in place in one sweep over the convolution's output
/// (`Tensor.addBias(_:applyingReLU:)`); the backward pass masks the upstream gradient and sums the
/// bias gradient in one sweep before the depthwise input and filter gradients. Strides, padding
/// and dilations as in ``depthwiseConv2d(_:_:strides:padding:dilations:)``.
public func depthwiseConv2d<Scalar: TensorScalar>(
    _ input: Variable<Scalar>, _ filter: Variable<Scalar>, bias: Variable<Scalar>?, applyingReLU: Bool,
    strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
) -> Variable<Scalar> {
    let x = input.value, f = filter.value
    var value = x.depthwiseConv2d(filter: f, strides: strides, padding: padding, dilations: dilations)
    value.addBias(bias?.value, applyingReLU: applyingReLU)
    let needsInput = input.requiresGradient, needsFilter = filter.requiresGradient
    return recordBiasActivation(
        "depthwiseConv2d", value: value, input: input, weight: filter, bias: bias, applyingReLU: applyingReLU
    ) { g in
        depthwiseConv2dGradients(
            g, input: x, filter: f, needsInput: needsInput, needsFilter: needsFilter,
            strides: strides, padding: padding, dilations: dilations)
    }
}

/// The input and filter gradients of a depthwise convolution for the upstream gradient `g`, each
/// computed only if needed (`nil` otherwise).
private func depthwiseConv2dGradients<Scalar: TensorScalar>(
    _ g: Tensor<Scalar>, input x: Tensor<Scalar>, filter f: Tensor<Scalar>, needsInput: Bool, needsFilter: Bool,
    strides: (Int, Int), padding: Padding, dilations: (Int, Int)
) -> (Tensor<Scalar>?, Tensor<Scalar>?) {
    (needsInput
        ? Tensor.depthwiseConv2dBackwardInput(
            gradient: g, filter: f, inputShape: x.shape, strides: strides, padding: padding, dilations: dilations)
        : nil,
     needsFilter
        ? Tensor.depthwiseConv2dBackwardFilter(
            gradient: g, input: x, filterShape: f.shape, strides: strides, padding: padding, dilations: dilations)
        : nil)
}

/// The input and filter gradients of a regular convolution for the upstream gradient `g`, each
/// computed only if needed (`nil` otherwise).
private func conv2dGradients<Scalar: TensorScalar>(
    _ g: Tensor<Scalar>, input x: Tensor<Scalar>, filter f: Tensor<Scalar>, needsInput: Bool, needsFilter: Bool,
    strides: (Int, Int), padding: Padding, dilations: (Int, Int)
) -> (Tensor<Scalar>?, Tensor<Scalar>?) {
    (needsInput
        ? Tensor.conv2dBackwardInput(
            gradient: g, filter: f, inputShape: x.shape, strides: strides, padding: padding, dilations: dilations)
        : nil,
     needsFilter
        ? Tensor.conv2dBackwardFilter(
            gradient: g, input: x, filterShape: f.shape, strides: strides, padding: padding, dilations: dilations)
        : nil)
}
