extension ConfusionMatrix {
    /// The mean recall over the classes that occur among the true labels (scikit-learn's
    /// `balanced_accuracy_score`, which leaves out classes with no true samples); 0 for an empty
    /// matrix. For a binary problem it is `(sensitivity + specificity) / 2`.
    public var balancedAccuracy: Double {
        var sum = 0.0
        var present = 0
        for c in 0..<classCount {
            let counts = classCounts(of: c)
            guard counts.support > 0 else { continue }
            sum += counts.recall
            present += 1
        }
        return present == 0 ? 0 : sum / Double(present)
    }
}
