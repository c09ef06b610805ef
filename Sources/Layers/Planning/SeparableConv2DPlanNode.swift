// The planned step of a SeparableConv2D layer: depthwise, then the 1x1 pointwise with the epilogue.

extension SeparableConv2D: PlannableLayer {
    /// A node for a linear or ReLU activation; `nil` otherwise.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard inputShape.count == 4, let depthwiseKernel, let pointwiseKernel,
              activation == .linear || activation == .relu
        else { return nil }
        let outputShape = try [inputShape[0]] + self.outputShape(for: Array(inputShape.dropFirst()))
        let depthwiseShape = [inputShape[0], outputShape[1], outputShape[2], inputShape[3] * depthMultiplier]
        return (SeparableConv2DPlanNode(
            layer: self, depthwiseKernel: depthwiseKernel, pointwiseKernel: pointwiseKernel, inputShape: inputShape,
            depthwiseShape: depthwiseShape, outputShape: outputShape, needsInputGradient: needsInputGradient), 0)
    }
}

/// `relu(pointwise(depthwise(x)) + bias)` on preallocated buffers, as the graph path computes it
/// (a depthwise convolution node, then a 1x1 convolution with the fused epilogue).
final class SeparableConv2DPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    let layer: SeparableConv2D<Scalar>
    let depthwiseKernel: Variable<Scalar>
    let pointwiseKernel: Variable<Scalar>
    let depthwiseGradient: PlannedGradient<Scalar>
    let pointwiseGradient: PlannedGradient<Scalar>
    let epilogue: EpilogueGradient<Scalar>
    /// The depthwise convolution's output and the gradient with respect to it.
    let depthwise: PlanBuffer<Scalar>
    let depthwiseOutputGradient: PlanBuffer<Scalar>

    init(
        layer: SeparableConv2D<Scalar>, depthwiseKernel: Variable<Scalar>, pointwiseKernel: Variable<Scalar>,
        inputShape: [Int], depthwiseShape: [Int], outputShape: [Int], needsInputGradient: Bool
    ) {
        let depthwiseGradient = PlannedGradient(depthwiseKernel)
        let pointwiseGradient = PlannedGradient(pointwiseKernel)
        let epilogue = EpilogueGradient(bias: layer.bias, outputShape: outputShape, applyingReLU: layer.activation == .relu)
        self.layer = layer
        self.depthwiseKernel = depthwiseKernel
        self.pointwiseKernel = pointwiseKernel
        self.depthwiseGradient = depthwiseGradient
        self.pointwiseGradient = pointwiseGradient
        self.epilogue = epilogue
        depthwise = PlanBuffer(shape: depthwiseShape)
        depthwiseOutputGradient = PlanBuffer(shape: depthwiseShape)
        super.init(inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient,
                   gradients: epilogue.gradients(after: [depthwiseGradient, pointwiseGradient]))
    }

    override func outputGradientIsExclusive() { epilogue.maskInPlace() }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        input.tensor.depthwiseConv2d(
            filter: depthwiseKernel.value, strides: layer.strides, padding: layer.padding, dilations: layer.dilationRate,
            into: &depthwise.tensor)
        depthwise.tensor.conv2d(
            filter: pointwiseKernel.value, bias: layer.bias?.value, applyingReLU: epilogue.applyingReLU, into: &output.tensor)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        let g = epilogue.backward(outputGradient, output: output)
        Tensor.conv2dBackwardFilter(gradient: g.tensor, input: depthwise.tensor, into: &pointwiseGradient.buffer)
        Tensor.conv2dBackwardInput(gradient: g.tensor, filter: pointwiseKernel.value, into: &depthwiseOutputGradient.tensor)
        Tensor.depthwiseConv2dBackwardFilter(
            gradient: depthwiseOutputGradient.tensor, input: input.tensor, strides: layer.strides, padding: layer.padding,
            dilations: layer.dilationRate, into: &depthwiseGradient.buffer)
        if let inputGradient {
            Tensor.depthwiseConv2dBackwardInput(
                gradient: depthwiseOutputGradient.tensor, filter: depthwiseKernel.value, strides: layer.strides,
                padding: layer.padding, dilations: layer.dilationRate, into: &inputGradient.tensor)
        }
    }
}
