// A training step on preallocated buffers: forward, loss, backward and update without a heap
// allocation once the plan exists (see Layers' PlanNode).

/// One batch shape's planned training step for a model whose layers all plan (`PlannableLayer`)
/// with a binary cross-entropy on a sigmoid output: the same computation as the graph path of
/// ``Trainer/trainOnBatch(x:y:classWeights:seed:)``, on buffers allocated once.
final class PlannedTrainingStep<Scalar: TensorScalar> {
    /// The batch shape the plan was made for.
    let inputShape: [Int]
    /// The model's node.
    let root: PlanNode<Scalar>
    /// Holds the caller's batch during a step (released after it).
    let input: PlanBuffer<Scalar>
    /// The targets as `[N, 1]`.
    let labels: PlanBuffer<Scalar>
    /// The per-sample weight of each loss divided by the batch size: the gradient of the loss
    /// with respect to each per-sample loss.
    let lossGradient: PlanBuffer<Scalar>
    /// The per-sample binary cross-entropies.
    let losses: PlanBuffer<Scalar>
    /// The gradient of the loss with respect to the model's logits.
    let logitsGradient: PlanBuffer<Scalar>
    /// The trainable weights with their names, for the optimizer.
    let parameters: [(name: String, variable: Variable<Scalar>)]
    /// What an idle ``input`` holds (so no batch is kept alive between steps).
    private let emptyInput = Tensor<Scalar>.zeros([0])

    /// The plan for `model` on batches of `inputShape` (with the batch dimension), or `nil` when a
    /// layer cannot be planned, the loss is not a plain binary cross-entropy on probabilities, or
    /// the model does not end in a sigmoid with one output per sample.
    init?(model: any Layer<Scalar>, loss: Loss, inputShape: [Int]) throws {
        guard case .binaryCrossEntropy(fromLogits: false, labelSmoothing: 0, classWeights: nil) = loss,
              let plannable = model as? any PlannableLayer<Scalar>,
              let (root, _) = try plannable.makePlanNode(inputShape: inputShape, needsInputGradient: false, following: []),
              root.sigmoidLogits != nil,
              root.output.tensor.shape == [inputShape[0], 1]
        else { return nil }
        // Every trainable weight must get its gradient from the plan.
        let named = model.namedWeights.filter { $0.weight.isTrainable }
        let planned = Set(root.gradients.map { ObjectIdentifier($0.variable) })
        guard planned.count == root.gradients.count, planned == Set(named.map { ObjectIdentifier($0.weight.variable) })
        else { return nil }
        self.inputShape = inputShape
        self.root = root
        input = PlanBuffer(shape: [0])
        let outputShape = root.output.tensor.shape
        labels = PlanBuffer(shape: outputShape)
        lossGradient = PlanBuffer(shape: outputShape)
        losses = PlanBuffer(shape: outputShape)
        logitsGradient = PlanBuffer(shape: outputShape)
        parameters = named.map { (name: $0.name, variable: $0.weight.variable) }
    }

    /// Whether a batch of `shape` with targets of `targetShape` fits this plan.
    func fits(_ shape: [Int], targets targetShape: [Int]) -> Bool {
        let n = inputShape[0]
        return shape == inputShape
            && (targetShape.count == 1 && targetShape[0] == n || targetShape.count == 2 && targetShape[0] == n && targetShape[1] == 1)
    }

    /// One step: forward in training mode seeded by `seed`, the (class-weighted) loss, backward,
    /// and `optimizer`'s update. Returns the loss and the number of correct predictions at
    /// `threshold`; a non-finite loss skips the update, as the graph path does.
    func step(
        x: Tensor<Scalar>, y: Tensor<Scalar>, classWeights: [Int: Double]?, seed: UInt64,
        threshold: Double, optimizer: any Optimizer<Scalar>
    ) -> (loss: Double, correct: Int) {
        let n = inputShape[0]
        input.tensor = x
        defer { input.tensor = emptyInput }
        var context = ForwardContext(mode: .training, seed: seed)
        root.forward(input, context: &context)
        let logits = root.sigmoidLogits!

        // Targets, per-sample weights over the batch size, and the cross-entropies from the logits.
        let scale = 1 / Double(Swift.max(n, 1))
        y.withUnsafeBufferPointer { targets in
            labels.tensor.withUnsafeMutableBufferPointer { l in
                lossGradient.tensor.withUnsafeMutableBufferPointer { w in
                    for i in 0..<n {
                        l[i] = targets[i]
                        var weight = 1.0
                        if let classWeights { weight = classWeights[Int(targets[i].rounded())] ?? 1 }
                        w[i] = Scalar(weight * scale)
                    }
                }
            }
        }
        sigmoidCrossEntropy(logits: logits.tensor, labels: labels.tensor, into: &losses.tensor)
        var total = 0.0
        losses.tensor.withUnsafeBufferPointer { l in
            lossGradient.tensor.withUnsafeBufferPointer { w in
                for i in 0..<n { total += Double(w[i]) * Double(l[i]) }
            }
        }
        guard total.isFinite else { return (total, 0) }

        sigmoidCrossEntropyBackward(
            logits: logits.tensor, labels: labels.tensor, gradient: lossGradient.tensor, into: &logitsGradient.tensor)
        root.backward(input, logitsGradient: logitsGradient)
        let gradients = root.gradients
        var i = 0
        while i < gradients.count {
            gradients[i].variable.gradient = gradients[i].buffer
            i += 1
        }
        optimizer.update(parameters)
        i = 0
        while i < gradients.count {
            gradients[i].variable.gradient = nil
            i += 1
        }

        var correct = 0
        let cut = Scalar(threshold)
        root.output.tensor.withUnsafeBufferPointer { p in
            labels.tensor.withUnsafeBufferPointer { l in
                for i in 0..<n where (p[i] >= cut) == (l[i] >= 0.5) { correct += 1 }
            }
        }
        return (total, correct)
    }
}
