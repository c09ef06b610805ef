// The planned steps of Dropout and SpatialDropout2D, and of a Dropout fused with the MaxPool2D
// after it (the pair a Sequential fuses in training).

extension Dropout: PlannableLayer {
    /// A node drawing this step's mask; fused with a directly following ``MaxPool2D`` where the
    /// graph path fuses the pair (Float, NHWC with an even channel count).
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        _ = try outputShape(for: Array(inputShape.dropFirst()))
        if let pool = following.first as? MaxPool2D<Scalar>, canFuse(inputShape: inputShape) {
            let outputShape = try [inputShape[0]] + pool.outputShape(for: Array(inputShape.dropFirst()))
            return (DropoutMaxPoolPlanNode(
                dropout: self, pool: pool, inputShape: inputShape, outputShape: outputShape,
                needsInputGradient: needsInputGradient), 1)
        }
        return (DropoutPlanNode(
            mask: makeMaskBuffer(inputShape: inputShape), shape: inputShape, needsInputGradient: needsInputGradient,
            forward: trainingForward, backward: trainingBackward), 0)
    }
}

extension SpatialDropout2D: PlannableLayer {
    /// A node drawing this step's per-channel mask.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard inputShape.count == 4 else { return nil }
        _ = try outputShape(for: Array(inputShape.dropFirst()))
        return (DropoutPlanNode(
            mask: makeMaskBuffer(inputShape: inputShape), shape: inputShape, needsInputGradient: needsInputGradient,
            forward: trainingForward, backward: trainingBackward), 0)
    }
}

/// A dropout layer's training step on preallocated buffers (its mask kept for the backward pass):
/// `forward` and `backward` are the layer's allocation-free training passes.
final class DropoutPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    typealias Forward = (Tensor<Scalar>, inout SeededGenerator, inout DropoutMaskBuffer<Scalar>, inout Tensor<Scalar>) -> Void
    typealias Backward = (Tensor<Scalar>, DropoutMaskBuffer<Scalar>, inout Tensor<Scalar>) -> Void
    var mask: DropoutMaskBuffer<Scalar>
    let forwardPass: Forward
    let backwardPass: Backward

    init(
        mask: DropoutMaskBuffer<Scalar>, shape: [Int], needsInputGradient: Bool,
        forward: @escaping Forward, backward: @escaping Backward
    ) {
        self.mask = mask
        forwardPass = forward
        backwardPass = backward
        super.init(inputShape: shape, outputShape: shape, needsInputGradient: needsInputGradient)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        forwardPass(input.tensor, &context.generator, &mask, &output.tensor)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        guard let inputGradient else { return }
        backwardPass(outputGradient.tensor, mask, &inputGradient.tensor)
    }
}

/// A Dropout followed by a MaxPool2D as one node: the pooling reads through the mask.
final class DropoutMaxPoolPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    let dropout: Dropout<Scalar>
    let pool: MaxPool2D<Scalar>
    var mask: DropoutMaskBuffer<Scalar>
    var indices: [Int32]

    init(dropout: Dropout<Scalar>, pool: MaxPool2D<Scalar>, inputShape: [Int], outputShape: [Int], needsInputGradient: Bool) {
        self.dropout = dropout
        self.pool = pool
        mask = dropout.makeMaskBuffer(inputShape: inputShape)
        indices = [Int32](repeating: 0, count: outputShape.reduce(1, *))
        super.init(inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        dropout.trainingForward(
            input.tensor, followedBy: pool, generator: &context.generator, mask: &mask, into: &output.tensor, indices: &indices)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        guard let inputGradient else { return }
        dropout.trainingBackward(outputGradient.tensor, followedBy: pool, mask: mask, indices: indices, into: &inputGradient.tensor)
    }
}
