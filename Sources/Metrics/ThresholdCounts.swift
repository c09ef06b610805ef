import Tensor

/// Binary confusion counts at every distinct score, the ranking core of the ROC curve, the
/// precision-recall curve and threshold selection (scikit-learn's `confusion_matrix_at_thresholds`).
///
/// `thresholds` are the distinct scores in decreasing order; at `thresholds[i]` the samples with
/// `score >= thresholds[i]` are predicted positive, of which `truePositives[i]` are positive and
/// `falsePositives[i]` negative. Tied scores share one threshold, so ties are counted together.
public struct ThresholdCounts: Sendable, Equatable {
    /// Distinct scores, decreasing.
    public let thresholds: [Double]
    /// Positive samples with `score >= thresholds[i]` (non-decreasing).
    public let truePositives: [Int]
    /// Negative samples with `score >= thresholds[i]` (non-decreasing).
    public let falsePositives: [Int]
    /// The number of positive samples.
    public let positiveCount: Int
    /// The number of negative samples.
    public let negativeCount: Int

    /// The counts for binary `labels` (0 or 1) and positive-class `scores`; throws for a NaN score
    /// or a label other than 0 and 1.
    public init<Score: BinaryFloatingPoint>(labels: [Int], scores: [Score]) throws {
        let operation = "ThresholdCounts"
        let s = MetricInputs.doubles(scores)
        MetricInputs.checkCounts(labels: labels.count, samples: s.count, operation: operation)
        try MetricInputs.checkNoNaN(s, operation: operation)
        self.init(isPositive: try MetricInputs.positives(labels, operation: operation), scores: s)
    }

    /// The counts for validated inputs: `isPositive[i]` says whether sample `i` is positive.
    init(isPositive: [Bool], scores: [Double]) {
        self.init(count: scores.count, score: { scores[$0] }, isPositive: { isPositive[$0] })
    }

    /// The counts for `count` validated samples given by accessors (used for one-vs-rest columns).
    init(count: Int, score: (Int) -> Double, isPositive: (Int) -> Bool) {
        var pairs = [(score: Double, positive: Bool)]()
        pairs.reserveCapacity(count)
        for i in 0..<count { pairs.append((score(i), isPositive(i))) }
        pairs.sort { $0.score > $1.score }
        var thresholds = [Double](), tps = [Int](), fps = [Int]()
        var tp = 0, fp = 0
        for (i, pair) in pairs.enumerated() {
            if pair.positive { tp += 1 } else { fp += 1 }
            if i == pairs.count - 1 || pairs[i + 1].score != pair.score {
                thresholds.append(pair.score)
                tps.append(tp)
                fps.append(fp)
            }
        }
        self.thresholds = thresholds
        truePositives = tps
        falsePositives = fps
        positiveCount = tp
        negativeCount = fp
    }

    /// Throws ``MetricsError/singleClass(operation:presentClasses:)`` unless both classes occur.
    func requireBothClasses(operation: String) throws {
        guard positiveCount > 0, negativeCount > 0 else {
            let present = (negativeCount > 0 ? [0] : []) + (positiveCount > 0 ? [1] : [])
            throw MetricsError.singleClass(operation: operation, presentClasses: present)
        }
    }

    /// The exact area under the ROC curve from the ranking: the trapezoid over the points of the
    /// distinct thresholds, summed in integers (a tie between a positive and a negative counts
    /// one half, the Mann-Whitney statistic). Both classes must be present.
    var exactROCArea: Double {
        var twiceArea = 0  // sum of dFP * (TP_i + TP_{i-1}), in units of 1 / (2 P N)
        var previousTP = 0, previousFP = 0
        for (tp, fp) in zip(truePositives, falsePositives) {
            twiceArea += (fp - previousFP) * (tp + previousTP)
            previousTP = tp
            previousFP = fp
        }
        return Double(twiceArea) / (2 * Double(positiveCount) * Double(negativeCount))
    }
}
