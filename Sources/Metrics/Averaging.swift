/// How a per-class metric becomes one number.
///
/// - ``binary(positiveClass:)``: the value for one class against the rest (default class 1, the
///   positive class of a binary problem).
/// - ``macro``: the unweighted mean over all `classCount` classes of the matrix, including classes
///   that never occur (their undefined ratios count as 0), like scikit-learn with
///   `labels=range(classCount)`.
/// - ``weighted``: the mean weighted by each class's support (number of true samples); 0 when there
///   are no samples.
/// - ``micro``: the metric of the summed one-vs-rest counts (for single-label multi-class data,
///   micro precision, recall and F1 all equal the accuracy).
public enum Averaging: Sendable, Equatable, Hashable {
    /// The value for `positiveClass` against all other classes.
    case binary(positiveClass: Int = 1)
    /// Unweighted mean over classes.
    case macro
    /// Mean weighted by class support.
    case weighted
    /// Metric of the summed counts.
    case micro
}

extension ConfusionMatrix {
    /// The value of `metric` for every class, in class order.
    public func perClass(_ metric: (ClassCounts) -> Double) -> [Double] {
        let total = sampleCount
        return (0..<classCount).map { metric(classCounts(of: $0, total: total)) }
    }

    /// `metric` averaged over the classes as `averaging` says.
    public func averaged(_ averaging: Averaging, _ metric: (ClassCounts) -> Double) -> Double {
        switch averaging {
        case .binary(let positiveClass):
            precondition(
                positiveClass >= 0 && positiveClass < classCount,
                "Averaging.binary: positive class \(positiveClass) not in 0..<\(classCount)")
            return metric(classCounts(of: positiveClass))
        case .macro:
            let values = perClass(metric)
            return values.reduce(0, +) / Double(classCount)
        case .weighted:
            let values = perClass(metric)
            let support = self.support
            let total = support.reduce(0, +)
            guard total > 0 else { return 0 }
            var sum = 0.0
            for (v, s) in zip(values, support) { sum += v * Double(s) }
            return sum / Double(total)
        case .micro:
            let total = sampleCount
            let summed = (0..<classCount).map { classCounts(of: $0, total: total) }.reduce(
                ClassCounts(truePositives: 0, falsePositives: 0, falseNegatives: 0, trueNegatives: 0), +)
            return metric(summed)
        }
    }
}
