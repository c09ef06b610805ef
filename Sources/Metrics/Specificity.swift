extension ClassCounts {
    /// `TN / (TN + FP)`: the share of the other classes' samples that are not predicted as the class
    /// (true negative rate; 0 when there are no such samples).
    public var specificity: Double { Self.ratio(trueNegatives, trueNegatives + falsePositives) }
}

extension ConfusionMatrix {
    /// Specificity, averaged as `averaging` says. For a binary problem with the default
    /// `.binary(positiveClass: 1)` it is the recall of class 0; for the pneumonia task, the share
    /// of normal images cleared. Multi-class values are one-vs-rest per class (weighted averaging
    /// weights by each class's support).
    public func specificity(averaging: Averaging = .binary()) -> Double {
        averaged(averaging) { $0.specificity }
    }
}
