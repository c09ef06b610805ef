extension ConfusionMatrix {
    /// The Matthews correlation coefficient, in `[-1, 1]`, for binary and multi-class matrices
    /// (Gorodkin's R_K, the formula of scikit-learn's `matthews_corrcoef`); 0 when it is undefined
    /// because all true labels or all predictions are one class.
    public var matthewsCorrelation: Double {
        let n = Double(sampleCount)
        let t = support.map(Double.init)
        let p = predictedCounts.map(Double.init)
        let covariance = Double(correctCount) * n - zip(t, p).reduce(0) { $0 + $1.0 * $1.1 }
        let predictedVariance = n * n - p.reduce(0) { $0 + $1 * $1 }
        let trueVariance = n * n - t.reduce(0) { $0 + $1 * $1 }
        let product = predictedVariance * trueVariance
        return product == 0 ? 0 : covariance / product.squareRoot()
    }
}
