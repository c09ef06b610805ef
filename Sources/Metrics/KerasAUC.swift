import Tensor

/// Keras's thresholded approximation of the ROC AUC, reproduced exactly:
/// `tf.keras.metrics.AUC(num_thresholds: n, curve: "ROC", summation_method: "interpolation")`.
///
/// Keras counts confusion matrices at `n` fixed thresholds
/// `[-epsilon, 1/(n-1), 2/(n-1), ..., (n-2)/(n-1), 1 + epsilon]` (`epsilon = 1e-7`, Keras's
/// `backend.epsilon()`), predicting positive when `prediction > threshold`, and sums trapezoids over
/// the points (false positive rate, recall), ratios with a zero denominator being 0. It is meant
/// for probabilities in `[0, 1]`: all scores between two grid points are treated as tied, so the
/// result differs from the exact AUC by at most the area of the cells the grid merges.
/// Computed in `Double` (Keras counts in `Float32`; a probability lying exactly between a
/// threshold and its `Float32` rounding may fall on the other side).
public enum KerasAUC {
    /// Keras's fuzz factor `backend.epsilon()`, which pads the end thresholds.
    public static let epsilon = 1e-7

    /// Keras's threshold grid of `count` values (at least 2), increasing.
    public static func thresholds(count: Int) -> [Double] {
        precondition(count > 1, "KerasAUC.thresholds: count \(count) must be greater than 1")
        let inner = (0..<(count - 2)).map { Double($0 + 1) * 1.0 / Double(count - 1) }
        return [0.0 - epsilon] + inner + [1.0 + epsilon]
    }

    /// The Keras ROC AUC of binary `labels` (0 or 1) and positive-class `scores` on a grid of
    /// `thresholdCount` thresholds. Throws when only one class is present (like the exact AUC;
    /// Keras itself would return 0), for a NaN score, a label other than 0 or 1, or
    /// `thresholdCount < 2`.
    public static func rocAUC<Score: BinaryFloatingPoint>(labels: [Int], scores: [Score], thresholdCount: Int = 200) throws -> Double {
        try rocAUCScore(labels: labels, scores: scores, method: .kerasInterpolation(thresholdCount: thresholdCount))
    }

    /// The Keras ROC AUC of validated samples given by accessors.
    static func area(count: Int, score: (Int) -> Double, isPositive: (Int) -> Bool, thresholdCount: Int) throws -> Double {
        guard thresholdCount > 1 else {
            throw MetricsError.invalidArgument(
                operation: "KerasAUC", message: "thresholdCount \(thresholdCount) must be greater than 1")
        }
        let grid = thresholds(count: thresholdCount)
        // above[k]: samples exceeding exactly the k lowest thresholds (k in 0...thresholdCount).
        var positivesAbove = [Int](repeating: 0, count: thresholdCount + 1)
        var negativesAbove = [Int](repeating: 0, count: thresholdCount + 1)
        var positiveCount = 0, negativeCount = 0
        for i in 0..<count {
            let s = score(i)
            var lo = 0, hi = thresholdCount  // first index whose threshold is >= s
            while lo < hi {
                let mid = (lo + hi) / 2
                if grid[mid] < s { lo = mid + 1 } else { hi = mid }
            }
            if isPositive(i) {
                positivesAbove[lo] += 1
                positiveCount += 1
            } else {
                negativesAbove[lo] += 1
                negativeCount += 1
            }
        }
        guard positiveCount > 0, negativeCount > 0 else {
            throw MetricsError.singleClass(
                operation: "KerasAUC", presentClasses: (negativeCount > 0 ? [0] : []) + (positiveCount > 0 ? [1] : []))
        }
        // tp[j] = positives with score > grid[j] = positives exceeding more than j thresholds.
        var recall = [Double](repeating: 0, count: thresholdCount)
        var falsePositiveRate = [Double](repeating: 0, count: thresholdCount)
        var tp = 0, fp = 0
        for j in stride(from: thresholdCount - 1, through: 0, by: -1) {
            tp += positivesAbove[j + 1]
            fp += negativesAbove[j + 1]
            recall[j] = Double(tp) / Double(positiveCount)
            falsePositiveRate[j] = Double(fp) / Double(negativeCount)
        }
        var sum = 0.0
        for j in 0..<(thresholdCount - 1) {
            sum += (falsePositiveRate[j] - falsePositiveRate[j + 1]) * ((recall[j] + recall[j + 1]) / 2.0)
        }
        return sum
    }
}
