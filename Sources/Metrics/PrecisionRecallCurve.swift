import Tensor

/// A precision-recall curve, as scikit-learn's `precision_recall_curve` returns it.
///
/// Point `i < thresholds.count` is the precision and recall when samples with
/// `score >= thresholds[i]` are predicted positive; thresholds increase, so recall decreases. A
/// last point (precision 1, recall 0) with no threshold ends the curve. Precision with nothing
/// predicted positive is 0; with no positive label recall is 1 at every threshold (scikit-learn's
/// conventions).
public struct PrecisionRecallCurve: Sendable, Equatable {
    /// Precisions, one more than thresholds; the last is 1.
    public let precisions: [Double]
    /// Recalls, non-increasing, one more than thresholds; the last is 0.
    public let recalls: [Double]
    /// The distinct scores, increasing.
    public let thresholds: [Double]

    /// The curve of binary `labels` (0 or 1) and positive-class `scores`; throws for a NaN score
    /// or a label other than 0 and 1.
    public init<Score: BinaryFloatingPoint>(labels: [Int], scores: [Score]) throws {
        self.init(counts: try ThresholdCounts(labels: labels, scores: scores))
    }

    /// The curve of binary `labels` and a score tensor of shape `[N]`, `[N, 1]` or `[N, 2]`.
    public init<S: TensorScalar>(labels: [Int], scores: Tensor<S>) throws {
        try self.init(labels: labels, scores: MetricInputs.binaryScores(scores, operation: "PrecisionRecallCurve"))
    }

    /// The curve of precomputed threshold counts.
    public init(counts: ThresholdCounts) {
        let m = counts.thresholds.count
        var precisions = [Double](), recalls = [Double]()
        precisions.reserveCapacity(m + 1)
        recalls.reserveCapacity(m + 1)
        for i in stride(from: m - 1, through: 0, by: -1) {
            let tp = counts.truePositives[i], predicted = tp + counts.falsePositives[i]
            precisions.append(predicted == 0 ? 0 : Double(tp) / Double(predicted))
            recalls.append(counts.positiveCount == 0 ? 1 : Double(tp) / Double(counts.positiveCount))
        }
        precisions.append(1)
        recalls.append(0)
        self.precisions = precisions
        self.recalls = recalls
        thresholds = counts.thresholds.reversed()
    }

    /// Average precision: `sum over i of (R_i - R_{i+1}) * P_i`, the step-function integral of
    /// precision over recall without interpolation (scikit-learn's `average_precision_score`);
    /// 0 when there is no positive label.
    public var averagePrecision: Double {
        var sum = 0.0
        for i in 0..<(recalls.count - 1) { sum += (recalls[i] - recalls[i + 1]) * precisions[i] }
        return max(0, sum)
    }
}

/// The average precision of binary `labels` (0 or 1) and positive-class `scores`; see
/// ``PrecisionRecallCurve/averagePrecision``.
public func averagePrecisionScore<Score: BinaryFloatingPoint>(labels: [Int], scores: [Score]) throws -> Double {
    try PrecisionRecallCurve(labels: labels, scores: scores).averagePrecision
}

/// The average precision of binary `labels` and a score tensor of shape `[N]`, `[N, 1]` or `[N, 2]`.
public func averagePrecisionScore<S: TensorScalar>(labels: [Int], scores: Tensor<S>) throws -> Double {
    try PrecisionRecallCurve(labels: labels, scores: scores).averagePrecision
}
