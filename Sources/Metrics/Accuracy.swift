extension ConfusionMatrix {
    /// The share of samples classified correctly; 0 for an empty matrix.
    public var accuracy: Double { ClassCounts.ratio(correctCount, sampleCount) }
}
