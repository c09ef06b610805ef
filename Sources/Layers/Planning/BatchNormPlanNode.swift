// The planned step of a BatchNorm layer in training (batch statistics, moving statistics updated),
// fused with a directly following plain ReLU as the graph path fuses it.

extension BatchNorm: PlannableLayer {
    /// A node for inputs of the built rank; absorbs a directly following plain ``ReLU``.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        _ = try outputShape(for: Array(inputShape.dropFirst()))
        guard let channels = builtInputShape?.last, inputShape.last == channels else { return nil }
        let relu = following.first.map { isPlainReLU($0) } ?? false
        return (BatchNormPlanNode(
            layer: self, channels: channels, shape: inputShape, applyingReLU: relu, needsInputGradient: needsInputGradient),
                relu ? 1 : 0)
    }
}

/// Batch normalization (and ReLU) on preallocated buffers and a per-channel workspace.
final class BatchNormPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    let layer: BatchNorm<Scalar>
    let applyingReLU: Bool
    var workspace: BatchNormWorkspace<Scalar>
    let gammaGradient: PlannedGradient<Scalar>?
    let betaGradient: PlannedGradient<Scalar>?
    /// Receives the input gradient when the node has none to report (the first layer).
    let unusedInputGradient: PlanBuffer<Scalar>?
    /// What a gradient buffer holds while it is lent to the layer's backward pass.
    private let placeholder = Tensor<Scalar>.zeros([0])

    init(layer: BatchNorm<Scalar>, channels: Int, shape: [Int], applyingReLU: Bool, needsInputGradient: Bool) {
        var gradients: [PlannedGradient<Scalar>] = []
        var gammaGradient: PlannedGradient<Scalar>?, betaGradient: PlannedGradient<Scalar>?
        if let gamma = layer.gamma {
            gammaGradient = PlannedGradient(gamma)
            gradients.append(gammaGradient!)
        }
        if let beta = layer.beta {
            betaGradient = PlannedGradient(beta)
            gradients.append(betaGradient!)
        }
        self.layer = layer
        self.applyingReLU = applyingReLU
        workspace = BatchNormWorkspace(channels: channels)
        self.gammaGradient = gammaGradient
        self.betaGradient = betaGradient
        unusedInputGradient = needsInputGradient ? nil : PlanBuffer(shape: shape)
        super.init(inputShape: shape, outputShape: shape, needsInputGradient: needsInputGradient, gradients: gradients)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        layer.trainingForward(input.tensor, applyingReLU: applyingReLU, workspace: &workspace, into: &output.tensor)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        // The layer takes optional gradient tensors: move the buffers out (so each stays uniquely
        // referenced and is written in place) and back.
        var gamma = gammaGradient.map { take(&$0.buffer) }
        var beta = betaGradient.map { take(&$0.buffer) }
        let dx = (inputGradient ?? unusedInputGradient)!
        layer.trainingBackward(
            outputGradient.tensor, input: input.tensor, output: output.tensor, applyingReLU: applyingReLU,
            workspace: &workspace, inputGradient: &dx.tensor, gammaGradient: &gamma, betaGradient: &beta)
        if let gammaGradient, let gamma { gammaGradient.buffer = gamma }
        if let betaGradient, let beta { betaGradient.buffer = beta }
    }

    /// `tensor`'s value, leaving the placeholder in its place.
    private func take(_ tensor: inout Tensor<Scalar>) -> Tensor<Scalar> {
        var value = placeholder
        swap(&value, &tensor)
        return value
    }
}
