// The planned step of a Conv2D layer (NHWC input, linear or ReLU activation).

extension Conv2D: PlannableLayer {
    /// A node for a linear or ReLU activation (the fused bias + ReLU epilogue); `nil` otherwise.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard inputShape.count == 4, let kernel, activation == .linear || activation == .relu else { return nil }
        let outputShape = try [inputShape[0]] + self.outputShape(for: Array(inputShape.dropFirst()))
        return (Conv2DPlanNode(
            layer: self, kernel: kernel, inputShape: inputShape, outputShape: outputShape,
            needsInputGradient: needsInputGradient), 0)
    }
}

/// `relu(conv2d(x, kernel) + bias)` (or without the ReLU) on preallocated buffers, through the
/// convolution's `into:` kernels (the same paths as the graph: direct, Winograd, im2col + GEMM).
final class Conv2DPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    let layer: Conv2D<Scalar>
    let kernel: Variable<Scalar>
    let kernelGradient: PlannedGradient<Scalar>
    let epilogue: EpilogueGradient<Scalar>

    init(layer: Conv2D<Scalar>, kernel: Variable<Scalar>, inputShape: [Int], outputShape: [Int], needsInputGradient: Bool) {
        let kernelGradient = PlannedGradient(kernel)
        let epilogue = EpilogueGradient(bias: layer.bias, outputShape: outputShape, applyingReLU: layer.activation == .relu)
        self.layer = layer
        self.kernel = kernel
        self.kernelGradient = kernelGradient
        self.epilogue = epilogue
        super.init(inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient,
                   gradients: epilogue.gradients(after: [kernelGradient]))
    }

    override func outputGradientIsExclusive() { epilogue.maskInPlace() }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        input.tensor.conv2d(
            filter: kernel.value, bias: layer.bias?.value, applyingReLU: epilogue.applyingReLU, strides: layer.strides,
            padding: layer.padding, dilations: layer.dilationRate, into: &output.tensor)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        let g = epilogue.backward(outputGradient, output: output)
        Tensor.conv2dBackwardFilter(
            gradient: g.tensor, input: input.tensor, strides: layer.strides, padding: layer.padding,
            dilations: layer.dilationRate, into: &kernelGradient.buffer)
        if let inputGradient {
            Tensor.conv2dBackwardInput(
                gradient: g.tensor, filter: kernel.value, strides: layer.strides, padding: layer.padding,
                dilations: layer.dilationRate, into: &inputGradient.tensor)
        }
    }
}
