extension ClassCounts {
    /// `TP / (TP + FP)`: the share of predicted positives that are positive (0 when nothing is
    /// predicted positive).
    public var precision: Double { Self.ratio(truePositives, truePositives + falsePositives) }
}

extension ConfusionMatrix {
    /// Precision (positive predictive value), averaged as `averaging` says.
    public func precision(averaging: Averaging = .binary()) -> Double {
        averaged(averaging) { $0.precision }
    }
}
