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
        return (DropoutPlanNode(layer: self, shape: inputShape, needsInputGradient: needsInputGradient), 0)
    }
}

extension SpatialDropout2D: PlannableLayer {
    /// A node drawing this step's per-channel mask.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard inputShape.count == 4 else { return nil }
        _ = try outputShape(for: Array(inputShape.dropFirst()))
        return (DropoutPlanNode(layer: self, shape: inputShape, needsInputGradient: needsInputGradient), 0)
    }
}

/// A dropout layer's training step on preallocated buffers, its mask kept for the backward pass.
final class DropoutPlanNode<Dropping: MaskedDropout>: PlanNode<Dropping.Scalar> {
    typealias Scalar = Dropping.Scalar
    let layer: Dropping
    var mask: DropoutMaskBuffer<Scalar>

    init(layer: Dropping, shape: [Int], needsInputGradient: Bool) {
        self.layer = layer
        mask = layer.makeMaskBuffer(inputShape: shape)
        super.init(inputShape: shape, outputShape: shape, needsInputGradient: needsInputGradient)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        layer.trainingForward(input.tensor, generator: &context.generator, mask: &mask, into: &output.tensor)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        guard let inputGradient else { return }
        layer.trainingBackward(outputGradient.tensor, mask: mask, into: &inputGradient.tensor)
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
