extension ClassCounts {
    /// `TN / (TN + FN)`: the share of negative predictions that are correct (0 when nothing is
    /// predicted negative).
    public var negativePredictiveValue: Double { Self.ratio(trueNegatives, trueNegatives + falseNegatives) }
}

extension ConfusionMatrix {
    /// Negative predictive value, averaged as `averaging` says. For a binary problem with the
    /// default `.binary(positiveClass: 1)` it is the precision of class 0.
    public func negativePredictiveValue(averaging: Averaging = .binary()) -> Double {
        averaged(averaging) { $0.negativePredictiveValue }
    }
}
