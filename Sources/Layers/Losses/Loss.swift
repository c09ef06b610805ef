// The training losses: one enum a training loop calls, with Keras's semantics for shapes, sample and
// class weights and the "sum_over_batch_size" reduction. The per-family computations live in
// BinaryCrossEntropy.swift, CategoricalCrossEntropy.swift and MeanSquaredError.swift.

/// A loss function, reduced as Keras's default `"sum_over_batch_size"`: the per-sample losses
/// (weighted when weights are given) are summed and divided by their count, never by the sum of
/// the weights.
///
/// ```swift
/// let loss = Loss.binaryCrossEntropy()
/// let value = loss(predictions: model(x, context: &context), targets: y)   // shape []
/// value.backward()
/// ```
///
/// Predictions are `[N, ...]`; a sample's loss is the mean over the last axis (binary
/// cross-entropy, mean squared error) or the sum over the class axis (categorical
/// cross-entropies), so the per-sample losses have the predictions' shape without the last axis.
/// Rank-1 predictions `[N]` are treated as `[N, 1]` (one value per sample). Targets have the
/// predictions' shape, or drop a trailing axis of size 1 (`[N]` for `[N, 1]` predictions), as Keras
/// accepts; sparse labels are `[N]` or `[N, 1]` class indices stored as scalars.
///
/// Class weights map a class index to a weight and are applied per sample by its label, as Keras's
/// `class_weight` in `fit` does: the class is the rounded target when the last axis has size 1
/// (binary, sparse labels) and the target's arg-max otherwise (one-hot rows); a class missing from
/// the map weighs 1. When both sample weights and class weights are given, a sample's weight is
/// their product (Keras's `fit` refuses the combination).
///
/// Shape mismatches stop with a precondition naming both shapes; call
/// ``validate(predictions:targets:sampleWeights:)`` first at a data boundary to get a thrown
/// ``LayerError`` instead.
public enum Loss: Sendable, Equatable, CustomStringConvertible {
    /// Binary cross-entropy (Keras `BinaryCrossentropy`). From probabilities, predictions are
    /// clipped to `[1e-7, 1 - 1e-7]` and the loss is `-(y log p + (1 - y) log(1 - p))`, with a zero
    /// gradient where a prediction was clipped; from logits it is the stable
    /// `sigmoidCrossEntropy(logits:labels:)` (Autograd). Label smoothing replaces `y` with
    /// `y (1 - s) + s / 2`.
    case binaryCrossEntropy(fromLogits: Bool = false, labelSmoothing: Double = 0, classWeights: [Int: Double]? = nil)

    /// Categorical cross-entropy against one-hot (or probability) rows along the last axis (Keras
    /// `CategoricalCrossentropy`). From logits it is the stable
    /// `softmaxCrossEntropy(logits:labels:)` (Autograd); from probabilities, each row is divided by its sum,
    /// clipped to `[1e-7, 1 - 1e-7]`, and the loss is `-sum(y log p)`. Label smoothing replaces `y`
    /// with `y (1 - s) + s / C`.
    case categoricalCrossEntropy(fromLogits: Bool = false, labelSmoothing: Double = 0, classWeights: [Int: Double]? = nil)

    /// Categorical cross-entropy against integer class labels `[N]` or `[N, 1]` (Keras
    /// `SparseCategoricalCrossentropy`). From probabilities, they are clipped to
    /// `[1e-7, 1 - 1e-7]` and their logarithms used as logits, as Keras does.
    case sparseCategoricalCrossEntropy(fromLogits: Bool = false, classWeights: [Int: Double]? = nil)

    /// Mean squared error over the last axis (Keras `MeanSquaredError`).
    case meanSquaredError

    /// Keras's fuzz factor `backend.epsilon()`, the clipping margin for probabilities.
    public static let epsilon = 1e-7

    /// The Keras-style name (`binary_crossentropy`, ...).
    public var description: String {
        switch self {
        case let .binaryCrossEntropy(fromLogits, smoothing, weights):
            return "binary_crossentropy" + Self.options(fromLogits, smoothing, weights)
        case let .categoricalCrossEntropy(fromLogits, smoothing, weights):
            return "categorical_crossentropy" + Self.options(fromLogits, smoothing, weights)
        case let .sparseCategoricalCrossEntropy(fromLogits, weights):
            return "sparse_categorical_crossentropy" + Self.options(fromLogits, 0, weights)
        case .meanSquaredError:
            return "mean_squared_error"
        }
    }

    private static func options(_ fromLogits: Bool, _ smoothing: Double, _ weights: [Int: Double]?) -> String {
        var parts: [String] = []
        if fromLogits { parts.append("from_logits=True") }
        if smoothing != 0 { parts.append("label_smoothing=\(smoothing)") }
        if let weights {
            parts.append("class_weight={" + weights.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
                .joined(separator: ", ") + "}")
        }
        return parts.isEmpty ? "" : "(" + parts.joined(separator: ", ") + ")"
    }

    /// The class weights, if any.
    var classWeights: [Int: Double]? {
        switch self {
        case let .binaryCrossEntropy(_, _, weights), let .categoricalCrossEntropy(_, _, weights),
             let .sparseCategoricalCrossEntropy(_, weights):
            return weights
        case .meanSquaredError:
            return nil
        }
    }

    // MARK: Computing

    /// The mean loss over the batch (shape `[]`): `sum(w_i * l_i) / count`, where `l_i` are the
    /// per-sample losses (see ``perSample(predictions:targets:)``), `w_i` the product of the sample
    /// weight and the class weight (1 when absent), and `count` the number of per-sample losses
    /// (0 for an empty batch gives 0). Gradients flow to `predictions`.
    ///
    /// `sampleWeights` has the shape of the per-sample losses (`[N]`), optionally with a trailing
    /// axis of size 1 (`[N, 1]`).
    public func callAsFunction<Scalar: TensorScalar>(
        predictions: Variable<Scalar>, targets: Tensor<Scalar>, sampleWeights: Tensor<Scalar>? = nil
    ) -> Variable<Scalar> {
        if let problem = shapeProblem(predictions.shape, targets.shape, sampleWeights?.shape) {
            preconditionFailure(problem.description)
        }
        let losses = perSample(predictions: predictions, targets: targets)
        let weights = combinedWeights(targets: targets, predictionShape: predictions.shape,
                                      lossShape: losses.shape, sampleWeights: sampleWeights)
        let weighted = weights.map { losses * $0 } ?? losses
        let count = weighted.value.count
        return weighted.sum() / Scalar(Swift.max(count, 1))
    }

    /// The mean loss of a batch as a number, without recording gradients.
    public func callAsFunction<Scalar: TensorScalar>(
        predictions: Tensor<Scalar>, targets: Tensor<Scalar>, sampleWeights: Tensor<Scalar>? = nil
    ) -> Scalar {
        withoutGradients {
            self(predictions: Variable(predictions), targets: targets, sampleWeights: sampleWeights).value.scalar
        }
    }

    /// The unreduced, unweighted per-sample losses (Keras reduction `"none"`): the predictions'
    /// shape without the last axis (`[N]` for `[N, 1]`, `[N]` and `[N, C]` predictions).
    public func perSample<Scalar: TensorScalar>(predictions: Variable<Scalar>, targets: Tensor<Scalar>) -> Variable<Scalar> {
        if let problem = shapeProblem(predictions.shape, targets.shape, nil) {
            preconditionFailure(problem.description)
        }
        switch self {
        case let .binaryCrossEntropy(fromLogits, smoothing, _):
            let (source, logits) = Self.logitsBehind(predictions, fromLogits: fromLogits, activation: "sigmoid")
            let (p, t) = Self.alignedForMean(source, targets)
            return Self.binaryCrossEntropyPerSample(predictions: p, targets: t, fromLogits: logits, labelSmoothing: smoothing)
        case let .categoricalCrossEntropy(fromLogits, smoothing, _):
            let (source, logits) = Self.logitsBehind(predictions, fromLogits: fromLogits, activation: "softmax")
            return Self.categoricalCrossEntropyPerSample(
                predictions: source, targets: targets.reshaped(to: predictions.shape),
                fromLogits: logits, labelSmoothing: smoothing)
        case let .sparseCategoricalCrossEntropy(fromLogits, _):
            let labels = targets.reshaped(to: Array(predictions.shape.dropLast()))
            let (source, logits) = Self.logitsBehind(predictions, fromLogits: fromLogits, activation: "softmax")
            return Self.sparseCategoricalCrossEntropyPerSample(predictions: source, labels: labels, fromLogits: logits)
        case .meanSquaredError:
            let (p, t) = Self.alignedForMean(predictions, targets)
            return Self.meanSquaredErrorPerSample(predictions: p, targets: t)
        }
    }

    /// Checks that `targets` and `sampleWeights` suit `predictions` for this loss, that sparse
    /// labels are whole numbers within `[0, C)`, that class indices are non-negative and label
    /// smoothing is within `[0, 1]`, throwing ``LayerError`` naming the shapes or values otherwise.
    /// Use it where data enters a training loop; the loss itself stops on these errors.
    public func validate<Scalar: TensorScalar>(
        predictions: Tensor<Scalar>, targets: Tensor<Scalar>, sampleWeights: Tensor<Scalar>? = nil
    ) throws {
        if let problem = shapeProblem(predictions.shape, targets.shape, sampleWeights?.shape) { throw problem }
        switch self {
        case let .binaryCrossEntropy(_, smoothing, _), let .categoricalCrossEntropy(_, smoothing, _):
            guard smoothing >= 0 && smoothing <= 1 else {
                throw LayerError.invalidArgument("\(self): label smoothing \(smoothing) is outside [0, 1]")
            }
        case .sparseCategoricalCrossEntropy:
            let classes = predictions.shape[predictions.rank - 1]
            if let bad = targets.scalars.firstIndex(where: { !Self.isClassIndex($0, classes: classes) }) {
                throw LayerError.invalidArgument(
                    "\(self): label \(targets.scalars[bad]) at flat index \(bad) is not a class index in 0..<\(classes)")
            }
        case .meanSquaredError:
            break
        }
        if let weights = classWeights, let bad = weights.keys.first(where: { $0 < 0 }) {
            throw LayerError.invalidArgument("\(self): class weight for negative class \(bad)")
        }
    }

    // MARK: Shapes and weights

    /// The shape error for these operands, or `nil` when they suit the loss.
    func shapeProblem(_ predictions: [Int], _ targets: [Int], _ sampleWeights: [Int]?) -> LayerError? {
        let name = "\(self)"
        let lossShape: [Int]
        switch self {
        case .binaryCrossEntropy, .meanSquaredError:
            guard !predictions.isEmpty else {
                return .invalidArgument("\(name): predictions need a batch axis, got shape \(predictions)")
            }
            guard targets == predictions || (predictions.last == 1 && targets == Array(predictions.dropLast()))
                || (predictions.count == 1 && targets == predictions + [1]) else {
                return .shapeMismatch(operation: "\(name) targets for predictions of shape \(predictions)",
                                      expected: predictions, got: targets)
            }
            lossShape = predictions.count == 1 ? predictions : Array(predictions.dropLast())
        case .categoricalCrossEntropy:
            guard predictions.count >= 2 else {
                return .invalidArgument("\(name): predictions must be [N, C], got shape \(predictions)")
            }
            guard targets == predictions else {
                return .shapeMismatch(operation: "\(name) one-hot targets for predictions of shape \(predictions)",
                                      expected: predictions, got: targets)
            }
            lossShape = Array(predictions.dropLast())
        case .sparseCategoricalCrossEntropy:
            guard predictions.count >= 2 else {
                return .invalidArgument("\(name): predictions must be [N, C], got shape \(predictions)")
            }
            lossShape = Array(predictions.dropLast())
            guard targets == lossShape || targets == lossShape + [1] else {
                return .shapeMismatch(operation: "\(name) labels for predictions of shape \(predictions)",
                                      expected: lossShape, got: targets)
            }
        }
        if let sampleWeights, sampleWeights != lossShape && sampleWeights != lossShape + [1] {
            return .shapeMismatch(operation: "\(name) sample weights for predictions of shape \(predictions)",
                                  expected: lossShape, got: sampleWeights)
        }
        return nil
    }

    /// Keras's rule for a cross-entropy "from probabilities": when the probabilities come straight
    /// out of a recorded `activation` (a sigmoid, or a softmax over the last axis), the loss is
    /// computed from the logits behind it. The value is the same wherever the probabilities lie
    /// inside `[epsilon, 1 - epsilon]`; the gradient no longer vanishes when the output saturates,
    /// so a network whose sigmoid has saturated can still recover (as in Keras, where the
    /// activation caches `_keras_logits`). Without a recorded graph (inference) the probabilities
    /// are used, clipped.
    static func logitsBehind<Scalar: TensorScalar>(
        _ predictions: Variable<Scalar>, fromLogits: Bool, activation: String
    ) -> (Variable<Scalar>, fromLogits: Bool) {
        guard !fromLogits, let logits = predictions.input(ifProducedBy: activation) else { return (predictions, fromLogits) }
        return (logits, true)
    }

    /// Predictions and targets as `[N, ..., k]` with equal shapes, for losses averaged over the
    /// last axis (rank-1 predictions become `[N, 1]`).
    static func alignedForMean<Scalar: TensorScalar>(
        _ predictions: Variable<Scalar>, _ targets: Tensor<Scalar>
    ) -> (Variable<Scalar>, Tensor<Scalar>) {
        let p = predictions.rank == 1 ? predictions.reshaped(to: predictions.shape + [1]) : predictions
        return (p, targets.reshaped(to: p.shape))
    }

    /// The weight of every per-sample loss (sample weight times class weight), or `nil` if none.
    func combinedWeights<Scalar: TensorScalar>(
        targets: Tensor<Scalar>, predictionShape: [Int], lossShape: [Int], sampleWeights: Tensor<Scalar>?
    ) -> Tensor<Scalar>? {
        var weights = sampleWeights?.reshaped(to: lossShape)
        if let classWeights {
            let perClass = classWeightsPerSample(
                targets: targets, predictionShape: predictionShape, lossShape: lossShape, classWeights: classWeights)
            weights = weights.map { $0 * perClass } ?? perClass
        }
        return weights
    }

    /// Keras's conversion of `class_weight` to sample weights: each sample's class is the rounded
    /// label (half to even) when the last axis has size 1 or for sparse labels, else the arg-max
    /// of its target row; classes missing from the map weigh 1.
    func classWeightsPerSample<Scalar: TensorScalar>(
        targets: Tensor<Scalar>, predictionShape: [Int], lossShape: [Int], classWeights: [Int: Double]
    ) -> Tensor<Scalar> {
        let sparse: Bool
        if case .sparseCategoricalCrossEntropy = self { sparse = true } else { sparse = false }
        let width = sparse || predictionShape.count == 1 ? 1 : predictionShape[predictionShape.count - 1]
        let t = targets.scalars
        var weights = [Scalar](repeating: 1, count: lossShape.reduce(1, *))
        for i in weights.indices {
            let row = i * width
            var cls: Int
            if width == 1 {
                cls = Int(Double(t[row]).rounded(.toNearestOrEven))
            } else {
                cls = 0
                for j in 1..<width where t[row + j] > t[row + cls] { cls = j }
            }
            weights[i] = Scalar(classWeights[cls] ?? 1)
        }
        return Tensor(shape: lossShape, scalars: weights)
    }

    /// Whether `value` is a whole number in `0..<classes`.
    static func isClassIndex<Scalar: TensorScalar>(_ value: Scalar, classes: Int) -> Bool {
        let v = Double(value)
        return v.isFinite && v == v.rounded() && v >= 0 && v < Double(classes)
    }
}

// MARK: - Clipping with TensorFlow's gradient

extension Variable {
    /// Every element limited to `[lower, upper]` with TensorFlow's `clip_by_value` gradient: the
    /// incoming gradient passes where `lower <= x <= upper` and is zero strictly outside.
    func clippedByValue(lower: Scalar, upper: Scalar) -> Variable {
        let x = value
        let y = x.clamped(to: lower...upper)
        return Variable.record("clipByValue", value: y, inputs: [self]) { g in
            [g * (x.isGreaterOrEqual(to: Tensor(lower)) * x.isLessOrEqual(to: Tensor(upper)))]
        }
    }

    /// Predictions clipped to Keras's `[epsilon, 1 - epsilon]` (the bounds computed in `Double`
    /// and rounded to `Scalar`, as Keras does for `float32`).
    func clippedToProbabilityRange() -> Variable {
        clippedByValue(lower: Scalar(Loss.epsilon), upper: Scalar(1.0 - Loss.epsilon))
    }
}
