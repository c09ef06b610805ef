// The planned step of a plain ReLU layer (one not fused into the layer before it).

extension ReLU: PlannableLayer {
    /// A node for `max(x, 0)` (a ReLU with its defaults); `nil` for other configurations.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard isPlainReLU(self) else { return nil }
        return (ReLUPlanNode(shape: inputShape, needsInputGradient: needsInputGradient), 0)
    }
}

extension ActivationLayer: PlannableLayer {
    /// A node for the ReLU activation; `nil` for the others.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard activation == .relu else { return nil }
        return (ReLUPlanNode(shape: inputShape, needsInputGradient: needsInputGradient), 0)
    }
}

/// `max(x, 0)` on preallocated buffers; the backward pass masks by the output.
final class ReLUPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    init(shape: [Int], needsInputGradient: Bool) {
        super.init(inputShape: shape, outputShape: shape, needsInputGradient: needsInputGradient)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        input.tensor.map(.relu, into: &output.tensor)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        guard let inputGradient else { return }
        Tensor.reluBackward(gradient: outputGradient.tensor, output: output.tensor, into: &inputGradient.tensor)
    }
}
