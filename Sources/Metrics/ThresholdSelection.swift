import Tensor

/// A decision threshold and the sensitivity and specificity it gives (predicting positive when
/// `score >= threshold`).
public struct ThresholdChoice: Sendable, Equatable {
    /// The threshold, one of the scores.
    public let threshold: Double
    /// The true positive rate at the threshold.
    public let sensitivity: Double
    /// The true negative rate at the threshold.
    public let specificity: Double

    /// A choice from its three values.
    public init(threshold: Double, sensitivity: Double, specificity: Double) {
        self.threshold = threshold
        self.sensitivity = sensitivity
        self.specificity = specificity
    }

    /// Youden's J statistic, `sensitivity + specificity - 1`.
    public var youdenJ: Double { sensitivity + specificity - 1 }
}

/// Choosing a decision threshold from scores on a validation split (never on the test split,
/// whose numbers would then be optimistic).
///
/// Candidate thresholds are the distinct scores (the points of the full ROC curve); both classes
/// must be present.
public enum ThresholdSelection {
    /// The threshold that maximizes Youden's J (`sensitivity + specificity - 1`), the ROC point
    /// farthest above the diagonal; among equal J the highest threshold wins.
    public static func maximizingYoudenJ<Score: BinaryFloatingPoint>(labels: [Int], scores: [Score]) throws -> ThresholdChoice {
        let counts = try ThresholdCounts(labels: labels, scores: scores)
        try counts.requireBothClasses(operation: "ThresholdSelection.maximizingYoudenJ")
        // J * P * N = TP * N - FP * P, compared exactly in integers.
        let p = counts.positiveCount, n = counts.negativeCount
        var best = 0
        var bestValue = Int.min
        for i in counts.thresholds.indices {
            let value = counts.truePositives[i] * n - counts.falsePositives[i] * p
            if value > bestValue {
                best = i
                bestValue = value
            }
        }
        return choice(counts, best)
    }

    /// The highest threshold whose sensitivity reaches `required` (in `(0, 1]`), with the
    /// specificity it leaves; for instance the threshold that catches 90% of pneumonia cases while
    /// clearing as many normal images as possible.
    public static func highestThreshold<Score: BinaryFloatingPoint>(
        reachingSensitivity required: Double, labels: [Int], scores: [Score]
    ) throws -> ThresholdChoice {
        let operation = "ThresholdSelection.highestThreshold"
        guard required > 0, required <= 1 else {
            throw MetricsError.invalidArgument(operation: operation, message: "required sensitivity \(required) is not in (0, 1]")
        }
        let counts = try ThresholdCounts(labels: labels, scores: scores)
        try counts.requireBothClasses(operation: operation)
        let p = Double(counts.positiveCount)
        // The lowest threshold predicts every sample positive (sensitivity 1), so one is found.
        let i = counts.truePositives.firstIndex { Double($0) / p >= required } ?? counts.thresholds.count - 1
        return choice(counts, i)
    }

    /// ``maximizingYoudenJ(labels:scores:)`` for a score tensor `[N]`, `[N, 1]` or `[N, 2]`.
    public static func maximizingYoudenJ<S: TensorScalar>(labels: [Int], scores: Tensor<S>) throws -> ThresholdChoice {
        try maximizingYoudenJ(labels: labels, scores: MetricInputs.binaryScores(scores, operation: "ThresholdSelection"))
    }

    /// ``highestThreshold(reachingSensitivity:labels:scores:)`` for a score tensor `[N]`, `[N, 1]`
    /// or `[N, 2]`.
    public static func highestThreshold<S: TensorScalar>(
        reachingSensitivity required: Double, labels: [Int], scores: Tensor<S>
    ) throws -> ThresholdChoice {
        try highestThreshold(
            reachingSensitivity: required, labels: labels,
            scores: MetricInputs.binaryScores(scores, operation: "ThresholdSelection"))
    }

    private static func choice(_ counts: ThresholdCounts, _ i: Int) -> ThresholdChoice {
        ThresholdChoice(
            threshold: counts.thresholds[i],
            sensitivity: Double(counts.truePositives[i]) / Double(counts.positiveCount),
            specificity: 1 - Double(counts.falsePositives[i]) / Double(counts.negativeCount))
    }
}
