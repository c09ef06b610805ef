@_exported import Layers
@_exported import Optimizers
import Foundation
@_exported import Metrics

/// Trains, evaluates and runs a model (Keras's `compile` / `fit` / `evaluate` / `predict`): a loss,
/// an optimizer, a seed that fixes the data order and the dropout masks, and a progress reporter.
///
/// ```swift
/// let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: RMSprop<Float>(learningRate: 1e-4), seed: 1)
/// let history = try trainer.fit(x: x, y: y, epochs: 30, batchSize: 20, validationData: (xv, yv),
///                               callbacks: [EarlyStopping(monitor: "val_auc", patience: 5, restoreBestWeights: true)])
/// ```
///
/// Every epoch's shuffle and every step's dropout draws are derived from `seed`, the epoch and the
/// step, so a run resumed from a checkpoint (``saveCheckpoint(to:epoch:history:metadata:)``,
/// ``resume(from:)``) continues exactly as the uninterrupted run would have.
public final class Trainer<Scalar: TensorScalar> {
    /// The model trained.
    public let model: any Layer<Scalar>
    /// The loss minimized.
    public let loss: Loss
    /// The optimizer applying the updates.
    public let optimizer: any Optimizer<Scalar>
    /// The seed of the data order and dropout masks.
    public let seed: UInt64
    /// How progress is shown (a live bar on a terminal, a line per epoch otherwise).
    public var progress: ProgressReporter
    /// The probability at or above which a binary prediction counts as positive for accuracy.
    public var decisionThreshold: Double = 0.5
    /// Whether training steps run as planned steps where the model allows it: every layer's
    /// buffers allocated once per batch shape and reused, so a step after the first allocates no
    /// buffers. Models with a layer, loss or output that does not plan (see `PlannableLayer`)
    /// always take the graph path; the two give the same updates. Default `true`, or `false` when
    /// the environment variable `DEEPLEARNING_GRAPH_STEPS=1` is set (to compare the two paths).
    public var usesPlannedSteps = ProcessInfo.processInfo.environment["DEEPLEARNING_GRAPH_STEPS"] != "1"

    /// Whether the last training step ran as a planned step (see ``usesPlannedSteps``).
    public var isUsingPlannedSteps: Bool { lastStepWasPlanned }
    /// Set by every step.
    private var lastStepWasPlanned = false

    /// The planned step of the current batch shape, `nil` before the first step.
    private var plannedStep: PlannedTrainingStep<Scalar>?
    /// Set once the model turned out not to plan, so later steps do not try again.
    private var planUnavailable = false
    /// The batch shape of the last step when it did not fit the plan.
    private var otherShape: [Int]?

    /// A trainer for `model`; the model must be built.
    ///
    /// The first trainer of a process applies ``AllocatorPolicy`` (unless
    /// `DEEPLEARNING_MALLOC_DEFAULTS=1`), so training steps reuse their large buffers.
    public init(
        model: any Layer<Scalar>, loss: Loss, optimizer: any Optimizer<Scalar>, seed: UInt64 = 0,
        progress: ProgressReporter = .automatic()
    ) {
        AllocatorPolicy.apply()
        _ = model.requireBuilt()
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.seed = seed
        self.progress = progress
    }

    // MARK: Fitting

    /// Trains on in-memory tensors; see ``fit(_:epochs:batchSize:validation:classWeights:shuffle:callbacks:initialEpoch:history:)``.
    public func fit(
        x: Tensor<Scalar>, y: Tensor<Scalar>, epochs: Int, batchSize: Int = 32,
        validationData: (x: Tensor<Scalar>, y: Tensor<Scalar>)? = nil, classWeights: [Int: Double]? = nil,
        shuffle: Bool = true, callbacks: [any Callback<Scalar>] = [], initialEpoch: Int = 0, history: History = History()
    ) throws -> History {
        let validation = try validationData.map { try TensorDataset(x: $0.x, y: $0.y) }
        return try fit(
            try TensorDataset(x: x, y: y), epochs: epochs, batchSize: batchSize, validation: validation,
            classWeights: classWeights, shuffle: shuffle, callbacks: callbacks, initialEpoch: initialEpoch, history: history)
    }

    /// Trains for epochs `initialEpoch + 1 ... epochs` over `data` in shuffled mini-batches (the last
    /// one may be smaller, as in Keras), evaluating on `validation` after each epoch, and returns the
    /// history (`history` is extended, for resumed runs).
    ///
    /// Logged per epoch: `loss` and `accuracy` (averages over the epoch's batches, weighted by
    /// batch size, as Keras reports them), `val_loss`, `val_accuracy` and, for a binary task,
    /// `val_auc` (exact ROC AUC from the Metrics module), and `learning_rate`.
    ///
    /// - Parameters:
    ///   - data: the training samples.
    ///   - epochs: the epoch to train up to (1-based, inclusive).
    ///   - batchSize: samples per mini-batch (Keras default 32).
    ///   - validation: samples evaluated in inference mode after every epoch, or `nil`.
    ///   - classWeights: a weight per class index applied to each training sample by its
    ///     label (Keras's `class_weight`), e.g. `Metrics`-style balanced weights for 3:1 pneumonia data.
    ///   - shuffle: whether each epoch visits the samples in a new order fixed by the seed and the epoch.
    ///   - callbacks: hooks called at the start and end of training and of every epoch.
    ///   - initialEpoch: the number of epochs already done (Keras `initial_epoch`; from a checkpoint
    ///     when resuming).
    ///   - history: the history to extend (from a checkpoint when resuming).
    public func fit(
        _ data: some BatchSource<Scalar>, epochs: Int, batchSize: Int = 32, validation: (any BatchSource<Scalar>)? = nil,
        classWeights: [Int: Double]? = nil, shuffle: Bool = true, callbacks: [any Callback<Scalar>] = [],
        initialEpoch: Int = 0, history: History = History()
    ) throws -> History {
        guard batchSize > 0 else { throw LayerError.invalidArgument("fit: batch size must be positive, got \(batchSize)") }
        guard data.count > 0 else { throw LayerError.invalidArgument("fit: the training data is empty") }
        guard initialEpoch >= 0, initialEpoch <= epochs else {
            throw LayerError.invalidArgument("fit: initial epoch \(initialEpoch) is outside 0...\(epochs)")
        }
        let state = TrainingState(
            model: model, optimizer: optimizer, history: history, epochs: epochs, reporter: progress, seed: seed)
        let parameters = model.namedWeights.filter { $0.weight.isTrainable }.map { (name: $0.name, variable: $0.weight.variable) }
        for callback in callbacks { try callback.trainBegin(state) }
        let steps = (data.count + batchSize - 1) / batchSize

        for epoch in (initialEpoch + 1)...max(initialEpoch + 1, epochs) where epoch <= epochs {
            state.epoch = epoch
            for callback in callbacks { try callback.epochBegin(epoch, state: state) }
            progress.beginEpoch(epoch, of: epochs, steps: steps)
            let order = shuffle ? epochOrder(count: data.count, epoch: epoch) : Array(0..<data.count)
            var running = RunningMetrics()
            for step in 0..<steps {
                let indices = Array(order[(step * batchSize)..<min(order.count, (step + 1) * batchSize)])
                let (x, y) = try data.batch(indices, epoch: epoch)
                let result = try trainStep(
                    x: x, y: y, classWeights: classWeights, seed: stepSeed(epoch: epoch, step: step), parameters: parameters)
                guard result.loss.isFinite else {
                    throw TrainingError.nonFiniteLoss(epoch: epoch, step: step + 1, value: result.loss)
                }
                running.add(loss: result.loss, correct: result.correct, count: indices.count)
                progress.update(step: step + 1, logs: running.logs)
            }
            var logs = Dictionary(uniqueKeysWithValues: running.logs)
            if let validation {
                let result = try evaluate(validation, batchSize: batchSize)
                for (key, value) in result.logs { logs["val_" + key] = value }
            }
            logs["learning_rate"] = optimizer.learningRate
            state.history.record(epoch: epoch, logs: logs)
            progress.endEpoch(logs: state.history.keys.compactMap { key in logs[key].map { (key, $0) } })
            for callback in callbacks { try callback.epochEnd(epoch, logs: logs, state: state) }
            if state.stopTraining { break }
        }
        for callback in callbacks { try callback.trainEnd(state) }
        return state.history
    }

    /// One optimization step on one batch (Keras `train_on_batch`): forward in training mode with
    /// random layers seeded by `seed`, loss (weighted by `classWeights` when given), backward, and
    /// an optimizer update. Returns the batch's loss and its number of correct predictions.
    @discardableResult
    public func trainOnBatch(x: Tensor<Scalar>, y: Tensor<Scalar>, classWeights: [Int: Double]? = nil, seed: UInt64 = 0) throws
        -> (loss: Double, correct: Int)
    {
        try trainStep(x: x, y: y, classWeights: classWeights, seed: seed, parameters: nil)
    }

    /// One step: the planned step when the model plans (see ``usesPlannedSteps``), else the graph
    /// path updating `parameters` (the model's trainable weights, collected when `nil`).
    func trainStep(
        x: Tensor<Scalar>, y: Tensor<Scalar>, classWeights: [Int: Double]?, seed: UInt64,
        parameters: [(name: String, variable: Variable<Scalar>)]?
    ) throws -> (loss: Double, correct: Int) {
        let plan = try plan(for: x.shape, targets: y.shape)
        lastStepWasPlanned = plan != nil
        if let plan {
            return plan.step(
                x: x, y: y, classWeights: classWeights, seed: seed, threshold: decisionThreshold, optimizer: optimizer)
        }
        let parameters = parameters
            ?? model.namedWeights.filter { $0.weight.isTrainable }.map { (name: $0.name, variable: $0.weight.variable) }
        try model.checkInput(x.shape)
        var context = ForwardContext(mode: .training, seed: seed)
        let output = model(Variable(x), context: &context)
        try loss.validate(predictions: output.value, targets: y, sampleWeights: nil)
        let weights = classWeights.map { sampleWeights(for: y, classWeights: $0) }
        let value = loss(predictions: output, targets: y, sampleWeights: weights)
        let lossValue = Double(value.value.scalar)
        guard lossValue.isFinite else { return (lossValue, 0) }
        value.backward()
        optimizer.update(parameters)
        for p in parameters { p.variable.zeroGradient() }
        return (lossValue, correctCount(output.value, y))
    }

    /// The planned step for batches of `shape`, or `nil` (the graph path) when planned steps are
    /// off, the model does not plan, or the batch is a one-off shape: the plan is made on the first
    /// step and remade (its buffers released first) only when another shape comes twice in a row,
    /// so the smaller last batch of an epoch does not reallocate every buffer twice. Batches that
    /// do not match the model's input go to the graph path, which reports the problem.
    private func plan(for shape: [Int], targets: [Int]) throws -> PlannedTrainingStep<Scalar>? {
        guard usesPlannedSteps, !planUnavailable else { return nil }
        if let plannedStep {
            if plannedStep.fits(shape, targets: targets) {
                otherShape = nil
                return plannedStep
            }
            guard otherShape == shape else {
                otherShape = shape
                return nil
            }
        }
        otherShape = nil
        let expected = model.requireBuilt()
        guard shape.count == expected.count + 1, shape.dropFirst().elementsEqual(expected), shape[0] > 0,
              targets.first == shape[0], targets.count == 1 || targets.count == 2 && targets[1] == 1
        else { return nil }
        plannedStep = nil
        plannedStep = try PlannedTrainingStep(model: model, loss: loss, inputShape: shape)
        if plannedStep == nil { planUnavailable = true }
        return plannedStep
    }

    // MARK: Checkpoints

    /// Saves a complete training checkpoint (weights, optimizer state, `epoch`, seed, history)
    /// atomically; ``resume(from:)`` continues from it.
    public func saveCheckpoint(to url: URL, epoch: Int, history: History, metadata: [String: String] = [:]) throws {
        try TrainingCheckpoint.save(
            model: model, optimizer: optimizer, epoch: epoch, seed: seed, history: history, metadata: metadata, to: url)
    }

    /// Restores weights and optimizer state from a training checkpoint and returns its progress;
    /// continue with `fit(..., initialEpoch: progress.epoch, history: progress.history)`. Throws when
    /// the checkpoint was made with another seed (the data order would differ) or another model.
    public func resume(from url: URL) throws -> TrainingCheckpoint.Progress {
        try TrainingCheckpoint.load(model: model, optimizer: optimizer, from: url, expectedSeed: seed)
    }

    // MARK: Evaluation and prediction

    /// The model's outputs for `x` in inference mode, in batches, without recording a graph
    /// (probabilities when the model ends in a sigmoid or softmax). Throws when `x` does not match
    /// the model's input shape.
    public func predict(_ x: Tensor<Scalar>, batchSize: Int = 32) throws -> Tensor<Scalar> {
        try model.checkInput(x.shape)
        return try predict(try TensorDataset(x: x, y: Tensor.zeros([x.shape[0], 1])), batchSize: batchSize).outputs
    }

    /// Outputs and targets for every sample of `data`, in order, in inference mode.
    func predict(_ data: any BatchSource<Scalar>, batchSize: Int) throws -> (outputs: Tensor<Scalar>, targets: Tensor<Scalar>) {
        var outputs: [Tensor<Scalar>] = []
        var targets: [Tensor<Scalar>] = []
        var start = 0
        while start < data.count {
            let indices = Array(start..<min(data.count, start + batchSize))
            let (x, y) = try data.batch(indices)
            try model.checkInput(x.shape)
            outputs.append(model(x))
            targets.append(y)
            start += batchSize
        }
        guard !outputs.isEmpty else { throw LayerError.invalidArgument("predict: the data is empty") }
        return (Tensor.concatenate(outputs, alongAxis: 0), Tensor.concatenate(targets, alongAxis: 0))
    }

    /// Loss, accuracy and (for a binary task) ROC AUC of the model on `data`, in inference mode.
    public func evaluate(_ data: any BatchSource<Scalar>, batchSize: Int = 32) throws -> Evaluation<Scalar> {
        let (outputs, targets) = try predict(data, batchSize: batchSize)
        try loss.validate(predictions: outputs, targets: targets, sampleWeights: nil)
        let lossValue = Double(loss(predictions: outputs, targets: targets))
        let probabilities = self.probabilities(outputs)
        let accuracy = Double(correctCount(outputs, targets)) / Double(targets.shape[0])
        var auc: Double?
        if probabilities.shape.last == 1 || probabilities.rank == 1 {
            let labels = targets.scalars.map { Int(($0).rounded()) }
            auc = try? rocAUCScore(labels: labels, scores: probabilities.scalars.map { Double($0) })
        }
        return Evaluation(loss: lossValue, accuracy: accuracy, auc: auc, probabilities: probabilities, targets: targets)
    }

    /// Evaluates on in-memory tensors.
    public func evaluate(x: Tensor<Scalar>, y: Tensor<Scalar>, batchSize: Int = 32) throws -> Evaluation<Scalar> {
        try evaluate(TensorDataset(x: x, y: y), batchSize: batchSize)
    }

    // MARK: Helpers

    /// Whether the loss takes logits (so outputs need a sigmoid or softmax to be probabilities).
    var lossTakesLogits: Bool {
        switch loss {
        case let .binaryCrossEntropy(fromLogits, _, _), let .categoricalCrossEntropy(fromLogits, _, _),
             let .sparseCategoricalCrossEntropy(fromLogits, _):
            return fromLogits
        case .meanSquaredError:
            return false
        }
    }

    /// Model outputs as probabilities.
    func probabilities(_ outputs: Tensor<Scalar>) -> Tensor<Scalar> {
        guard lossTakesLogits else { return outputs }
        return outputs.shape.last == 1 || outputs.rank == 1 ? outputs.sigmoid() : outputs.softmax(alongAxis: -1)
    }

    /// Correctly classified samples: thresholded for one output, arg-max for several (against
    /// one-hot targets, or integer labels for the sparse loss).
    func correctCount(_ outputs: Tensor<Scalar>, _ targets: Tensor<Scalar>) -> Int {
        let probabilities = self.probabilities(outputs)
        let n = probabilities.shape[0]
        let columns = probabilities.count / max(n, 1)
        var correct = 0
        if columns == 1 {
            let threshold = Scalar(decisionThreshold)
            for i in 0..<n where (probabilities.scalars[i] >= threshold) == (targets.scalars[i] >= 0.5) { correct += 1 }
        } else {
            let predicted = probabilities.reshaped(to: [n, columns]).argmax(alongAxis: 1).scalars
            let actual = targets.count == n ? targets.scalars : targets.reshaped(to: [n, -1]).argmax(alongAxis: 1).scalars
            for i in 0..<n where predicted[i] == actual[i].rounded() { correct += 1 }
        }
        return correct
    }

    /// Per-sample weights `[N]` from class weights, by each target's class.
    func sampleWeights(for targets: Tensor<Scalar>, classWeights: [Int: Double]) -> Tensor<Scalar> {
        let n = targets.shape[0]
        let columns = targets.count / max(n, 1)
        let classes: [Int]
        if columns == 1 {
            classes = targets.scalars.map { Int($0.rounded()) }
        } else {
            classes = targets.reshaped(to: [n, columns]).argmax(alongAxis: 1).scalars.map { Int($0) }
        }
        return Tensor(classes.map { Scalar(classWeights[$0] ?? 1) })
    }

    /// The sample order of `epoch`: a permutation fixed by the seed and the epoch alone.
    func epochOrder(count: Int, epoch: Int) -> [Int] {
        var generator = SeededGenerator(seed: mix(seed, UInt64(epoch), 0x5348_5546))
        var order = Array(0..<count)
        generator.shuffle(&order)
        return order
    }

    /// The seed of a training step's random layers, fixed by the seed, the epoch and the step.
    func stepSeed(epoch: Int, step: Int) -> UInt64 {
        mix(seed, UInt64(epoch), UInt64(step) &+ 0x44524F50)
    }

    private func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var g = SeededGenerator(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ (c &* 0xC2B2_AE3D_27D4_EB4F))
        return g.next()
    }
}

/// The result of ``Trainer/evaluate(_:batchSize:)``.
public struct Evaluation<Scalar: TensorScalar> {
    /// The mean loss.
    public let loss: Double
    /// The share of samples classified correctly.
    public let accuracy: Double
    /// The exact ROC AUC for a binary task with both classes present, else `nil`.
    public let auc: Double?
    /// The predicted probabilities, one row per sample.
    public let probabilities: Tensor<Scalar>
    /// The targets, one row per sample.
    public let targets: Tensor<Scalar>

    /// The values as Keras-style logs (`loss`, `accuracy`, `auc`).
    public var logs: [String: Double] {
        var l = ["loss": loss, "accuracy": accuracy]
        if let auc { l["auc"] = auc }
        return l
    }
}

/// Errors that end training.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The loss became NaN or infinite.
    case nonFiniteLoss(epoch: Int, step: Int, value: Double)
    /// A checkpoint does not belong to this model or is incomplete.
    case invalidCheckpoint(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(epoch, step, value):
            return "training stopped: the loss is \(value) at epoch \(epoch), step \(step) (try a lower learning rate)"
        case let .invalidCheckpoint(message):
            return "invalid training checkpoint: \(message)"
        }
    }
}

/// Loss and correct counts accumulated over an epoch's batches.
struct RunningMetrics {
    private var lossSum = 0.0
    private var correct = 0
    private var count = 0

    mutating func add(loss: Double, correct: Int, count: Int) {
        lossSum += loss * Double(count)
        self.correct += correct
        self.count += count
    }

    /// `loss` and `accuracy` so far, in Keras's order.
    var logs: [(String, Double)] {
        guard count > 0 else { return [] }
        return [("accuracy", Double(correct) / Double(count)), ("loss", lossSum / Double(count))]
    }
}
