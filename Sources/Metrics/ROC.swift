import Tensor

/// A receiver operating characteristic curve, as scikit-learn's `roc_curve` returns it.
///
/// Point `i` is the false positive rate (1 - specificity) and true positive rate (sensitivity)
/// when samples with `score >= thresholds[i]` are predicted positive. The first threshold is
/// `+infinity` (nothing predicted positive, the point (0, 0)); the last is the lowest score
/// (everything positive, the point (1, 1)).
public struct ROCCurve: Sendable, Equatable {
    /// False positive rates, non-decreasing from 0 to 1.
    public let falsePositiveRates: [Double]
    /// True positive rates (sensitivities), non-decreasing from 0 to 1.
    public let truePositiveRates: [Double]
    /// Decreasing thresholds, the first `+infinity`.
    public let thresholds: [Double]

    /// The curve of binary `labels` (0 or 1) and positive-class `scores`.
    ///
    /// With `dropIntermediate` (the default, as in scikit-learn) points collinear with their
    /// neighbours are left out; they do not change the curve or its area. Throws when only one
    /// class is present, for a NaN score, or for a label other than 0 and 1.
    public init<Score: BinaryFloatingPoint>(labels: [Int], scores: [Score], dropIntermediate: Bool = true) throws {
        try self.init(counts: ThresholdCounts(labels: labels, scores: scores), dropIntermediate: dropIntermediate)
    }

    /// The curve of binary `labels` and a score tensor of shape `[N]`, `[N, 1]` or `[N, 2]`
    /// (column 1 of a two-class softmax).
    public init<S: TensorScalar>(labels: [Int], scores: Tensor<S>, dropIntermediate: Bool = true) throws {
        try self.init(
            labels: labels, scores: MetricInputs.binaryScores(scores, operation: "ROCCurve"),
            dropIntermediate: dropIntermediate)
    }

    /// The curve of precomputed threshold counts.
    public init(counts: ThresholdCounts, dropIntermediate: Bool = true) throws {
        try counts.requireBothClasses(operation: "ROCCurve")
        var tps = counts.truePositives, fps = counts.falsePositives, thresholds = counts.thresholds
        if dropIntermediate && fps.count > 2 {
            var keep = [0]
            for i in 1..<(fps.count - 1)
            where fps[i + 1] - 2 * fps[i] + fps[i - 1] != 0 || tps[i + 1] - 2 * tps[i] + tps[i - 1] != 0 {
                keep.append(i)
            }
            keep.append(fps.count - 1)
            tps = keep.map { tps[$0] }
            fps = keep.map { fps[$0] }
            thresholds = keep.map { thresholds[$0] }
        }
        let p = Double(counts.positiveCount), n = Double(counts.negativeCount)
        truePositiveRates = [0] + tps.map { Double($0) / p }
        falsePositiveRates = [0] + fps.map { Double($0) / n }
        self.thresholds = [.infinity] + thresholds
    }

    /// The area under the curve by the trapezoidal rule.
    public var area: Double {
        var sum = 0.0
        for i in 1..<falsePositiveRates.count {
            sum += (falsePositiveRates[i] - falsePositiveRates[i - 1])
                * (truePositiveRates[i] + truePositiveRates[i - 1]) / 2
        }
        return sum
    }
}

/// How ``rocAUCScore(labels:scores:method:)-(_,[Score],_)`` computes the area.
public enum AUCMethod: Sendable, Equatable, Hashable {
    /// Exactly, from the ranking of the scores (scikit-learn's `roc_auc_score`; ties count half).
    case exact
    /// Keras's approximation `tf.keras.metrics.AUC(num_thresholds:, curve: "ROC",
    /// summation_method: "interpolation")` on a fixed grid of thresholds (see ``KerasAUC``);
    /// meant for probabilities in `[0, 1]`.
    case kerasInterpolation(thresholdCount: Int = 200)
}

/// The area under the ROC curve of binary `labels` (0 or 1) and positive-class `scores`: the
/// probability that a random positive sample scores higher than a random negative one (ties
/// count one half).
///
/// Throws ``MetricsError/singleClass(operation:presentClasses:)`` when only one class is present
/// (the area is undefined), ``MetricsError/nanScore(operation:index:)`` for a NaN score.
public func rocAUCScore<Score: BinaryFloatingPoint>(
    labels: [Int], scores: [Score], method: AUCMethod = .exact
) throws -> Double {
    let s = MetricInputs.doubles(scores)
    let operation = "rocAUCScore"
    MetricInputs.checkCounts(labels: labels.count, samples: s.count, operation: operation)
    try MetricInputs.checkNoNaN(s, operation: operation)
    let positive = try MetricInputs.positives(labels, operation: operation)
    return try binaryAUC(count: s.count, score: { s[$0] }, isPositive: { positive[$0] }, method: method)
}

/// The binary ROC AUC of `labels` and a score tensor of shape `[N]`, `[N, 1]` or `[N, 2]`
/// (column 1 of a two-class softmax).
public func rocAUCScore<S: TensorScalar>(labels: [Int], scores: Tensor<S>, method: AUCMethod = .exact) throws -> Double {
    try rocAUCScore(labels: labels, scores: MetricInputs.binaryScores(scores, operation: "rocAUCScore"), method: method)
}

/// The multi-class one-vs-rest ROC AUC of class `labels` and per-class `probabilities` rows
/// (scikit-learn's `roc_auc_score(multi_class="ovr")`): each class's scores against the rest,
/// averaged by `averaging` (`.macro` mean, `.weighted` by class prevalence, `.micro` over the
/// flattened one-hot labels and scores, `.binary(positiveClass:)` one class's AUC).
///
/// Throws ``MetricsError/singleClass(operation:presentClasses:)`` when a class needed by the
/// average has no samples or all samples (its AUC is undefined); weighted averaging skips classes
/// without samples (their weight is 0).
public func rocAUCScore<Score: BinaryFloatingPoint>(
    labels: [Int], probabilities: [[Score]], averaging: Averaging = .macro, method: AUCMethod = .exact
) throws -> Double {
    let width = probabilities.first?.count ?? 0
    precondition(
        probabilities.allSatisfy { $0.count == width },
        "rocAUCScore: probability rows of unequal length")
    return try multiclassAUC(
        labels: labels, values: MetricInputs.doubles(probabilities.flatMap { $0 }), width: width,
        averaging: averaging, method: method)
}

/// The multi-class one-vs-rest ROC AUC of class `labels` and a `[N, C]` probability tensor; see
/// the array overload of `rocAUCScore(labels:probabilities:averaging:method:)`.
public func rocAUCScore<S: TensorScalar>(
    labels: [Int], probabilities: Tensor<S>, averaging: Averaging = .macro, method: AUCMethod = .exact
) throws -> Double {
    precondition(probabilities.rank == 2, "rocAUCScore: expected probabilities [N, C], got \(probabilities.shape)")
    let (values, width) = MetricInputs.rows(probabilities, operation: "rocAUCScore")
    return try multiclassAUC(labels: labels, values: values, width: width, averaging: averaging, method: method)
}

/// One-vs-rest AUC over row-major `values` of `width` classes.
func multiclassAUC(labels: [Int], values: [Double], width: Int, averaging: Averaging, method: AUCMethod) throws -> Double {
    let operation = "rocAUCScore"
    precondition(width >= 2, "\(operation): multi-class probabilities need at least 2 columns, got \(width)")
    let n = values.count / width
    MetricInputs.checkCounts(labels: labels.count, samples: n, operation: operation)
    try MetricInputs.checkNoNaN(values, width: width, operation: operation)
    try MetricInputs.checkLabels(labels, classCount: width, operation: operation)

    func classAUC(_ c: Int) throws -> Double {
        do {
            return try binaryAUC(
                count: n, score: { values[$0 * width + c] }, isPositive: { labels[$0] == c }, method: method)
        } catch MetricsError.singleClass {
            throw MetricsError.singleClass(
                operation: "\(operation) (one-vs-rest, class \(c))", presentClasses: Set(labels).sorted())
        }
    }
    switch averaging {
    case .binary(let c):
        precondition(c >= 0 && c < width, "\(operation): class \(c) not in 0..<\(width)")
        return try classAUC(c)
    case .macro:
        return try (0..<width).reduce(0) { try $0 + classAUC($1) } / Double(width)
    case .weighted:
        var support = [Int](repeating: 0, count: width)
        for l in labels { support[l] += 1 }
        var sum = 0.0
        for c in 0..<width where support[c] > 0 { sum += Double(support[c]) * (try classAUC(c)) }
        return sum / Double(n)
    case .micro:
        return try binaryAUC(
            count: n * width, score: { values[$0] }, isPositive: { labels[$0 / width] == $0 % width },
            method: method)
    }
}

/// The binary AUC of validated samples given by accessors.
func binaryAUC(count: Int, score: (Int) -> Double, isPositive: (Int) -> Bool, method: AUCMethod) throws -> Double {
    switch method {
    case .exact:
        let counts = ThresholdCounts(count: count, score: score, isPositive: isPositive)
        try counts.requireBothClasses(operation: "rocAUCScore")
        return counts.exactROCArea
    case .kerasInterpolation(let thresholdCount):
        return try KerasAUC.area(count: count, score: score, isPositive: isPositive, thresholdCount: thresholdCount)
    }
}
