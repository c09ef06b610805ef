extension ClassCounts {
    /// `TP / (TP + FN)`: the share of the class's samples that are found (sensitivity, true
    /// positive rate; 0 when the class has no samples).
    public var recall: Double { Self.ratio(truePositives, truePositives + falseNegatives) }
}

extension ConfusionMatrix {
    /// Recall, averaged as `averaging` says.
    public func recall(averaging: Averaging = .binary()) -> Double {
        averaged(averaging) { $0.recall }
    }

    /// Sensitivity: another name for ``recall(averaging:)``; for the pneumonia task, the share of
    /// pneumonia cases caught.
    public func sensitivity(averaging: Averaging = .binary()) -> Double {
        recall(averaging: averaging)
    }
}
