// The planned step of a MaxPool2D layer: the winners' indices kept for the backward pass.

extension MaxPool2D: PlannableLayer {
    /// A node for NHWC inputs.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard inputShape.count == 4 else { return nil }
        let outputShape = try [inputShape[0]] + self.outputShape(for: Array(inputShape.dropFirst()))
        return (MaxPool2DPlanNode(layer: self, inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient), 0)
    }
}

/// Max pooling on preallocated buffers (output, winner indices, input gradient).
final class MaxPool2DPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    let layer: MaxPool2D<Scalar>
    /// The flat input index of each output's winner, from the last forward pass.
    var indices: [Int32]

    init(layer: MaxPool2D<Scalar>, inputShape: [Int], outputShape: [Int], needsInputGradient: Bool) {
        self.layer = layer
        indices = [Int32](repeating: 0, count: outputShape.reduce(1, *))
        super.init(inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        layer.trainingForward(input.tensor, into: &output.tensor, indices: &indices)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        guard let inputGradient else { return }
        layer.trainingBackward(outputGradient.tensor, indices: indices, into: &inputGradient.tensor)
    }
}
