extension ClassCounts {
    /// The F-beta score `(1 + b^2) TP / ((1 + b^2) TP + b^2 FN + FP)`, the weighted harmonic mean of
    /// precision and recall in which recall counts `beta` times as much; 0 when `TP + FN + FP = 0`
    /// (scikit-learn's formula and `zero_division=0`).
    public func fScore(beta: Double) -> Double {
        let b2 = beta * beta
        let numerator = (1 + b2) * Double(truePositives)
        let denominator = numerator + b2 * Double(falseNegatives) + Double(falsePositives)
        return denominator == 0 ? 0 : numerator / denominator
    }

    /// The F1 score, the harmonic mean of precision and recall.
    public var f1Score: Double { fScore(beta: 1) }
}

extension ConfusionMatrix {
    /// The F-beta score, averaged as `averaging` says (macro and weighted average the per-class
    /// scores; micro is the score of the summed counts).
    public func fScore(beta: Double, averaging: Averaging = .binary()) -> Double {
        precondition(beta >= 0 && beta.isFinite, "ConfusionMatrix.fScore: beta \(beta) must be finite and >= 0")
        return averaged(averaging) { $0.fScore(beta: beta) }
    }

    /// The F1 score, averaged as `averaging` says.
    public func f1Score(averaging: Averaging = .binary()) -> Double {
        fScore(beta: 1, averaging: averaging)
    }
}
