// The planned step of a GlobalAveragePooling2D layer.

extension GlobalAveragePooling2D: PlannableLayer {
    /// A node for NHWC inputs.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard inputShape.count == 4 else { return nil }
        let outputShape = try [inputShape[0]] + self.outputShape(for: Array(inputShape.dropFirst()))
        return (GlobalAveragePooling2DPlanNode(
            layer: self, inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient), 0)
    }
}

/// Spatial means on preallocated buffers.
final class GlobalAveragePooling2DPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    let layer: GlobalAveragePooling2D<Scalar>

    init(layer: GlobalAveragePooling2D<Scalar>, inputShape: [Int], outputShape: [Int], needsInputGradient: Bool) {
        self.layer = layer
        super.init(inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        layer.trainingForward(input.tensor, into: &output.tensor)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        guard let inputGradient else { return }
        layer.trainingBackward(outputGradient.tensor, into: &inputGradient.tensor)
    }
}
