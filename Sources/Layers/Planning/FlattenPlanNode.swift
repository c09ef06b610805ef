// The planned step of a Flatten layer: a copy into the flat shape (plan buffers are never shared).

extension Flatten: PlannableLayer {
    /// A node copying `[batch, ...]` to `[batch, features]` and the gradient back.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard let batch = inputShape.first else { return nil }
        return (CopyPlanNode(
            inputShape: inputShape, outputShape: [batch, inputShape.dropFirst().reduce(1, *)],
            needsInputGradient: needsInputGradient), 0)
    }
}

/// Copies its input into its output buffer of another shape with the same element count, and the
/// output gradient back into the input gradient (Flatten, Reshape, Identity).
final class CopyPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    init(inputShape: [Int], outputShape: [Int], needsInputGradient: Bool) {
        precondition(
            inputShape.reduce(1, *) == outputShape.reduce(1, *),
            "CopyPlanNode: input shape \(inputShape) and output shape \(outputShape) have different sizes")
        super.init(inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        output.copy(from: input.tensor)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        inputGradient?.copy(from: outputGradient.tensor)
    }
}
