import Tensor

/// Every metric at once, as read at the end of an epoch from ``StreamingMetrics``.
public struct MetricSummary: Sendable, Equatable, CustomStringConvertible {
    /// The number of samples seen.
    public let sampleCount: Int
    /// The share classified correctly.
    public let accuracy: Double
    /// Precision (binary: of class 1; multi-class: the summary's averaging).
    public let precision: Double
    /// Recall, the sensitivity.
    public let recall: Double
    /// Specificity.
    public let specificity: Double
    /// F1 score.
    public let f1Score: Double
    /// Balanced accuracy.
    public let balancedAccuracy: Double
    /// Matthews correlation coefficient.
    public let matthewsCorrelation: Double
    /// Exact ROC AUC (one-vs-rest macro for multi-class), or `nil` when undefined (one class seen).
    public let rocAUC: Double?
    /// Average precision (binary only), or `nil` for multi-class problems or no samples.
    public let averagePrecision: Double?

    /// One line: `n=624 acc=0.9054 prec=... auc=0.9639 ap=...`.
    public var description: String {
        func f(_ v: Double) -> String { String((v * 10000).rounded() / 10000) }
        var parts = [
            "n=\(sampleCount)", "acc=\(f(accuracy))", "prec=\(f(precision))", "rec=\(f(recall))",
            "spec=\(f(specificity))", "f1=\(f(f1Score))", "bacc=\(f(balancedAccuracy))", "mcc=\(f(matthewsCorrelation))",
        ]
        if let rocAUC { parts.append("auc=\(f(rocAUC))") }
        if let averagePrecision { parts.append("ap=\(f(averagePrecision))") }
        return parts.joined(separator: " ")
    }
}

/// Metrics accumulated batch by batch, read at the end of an epoch.
///
/// Threshold metrics are accumulated as confusion counts; ranking metrics (ROC AUC, average
/// precision) keep every label and score of the epoch, since they cannot be computed from
/// per-batch summaries. Reading gives exactly the result of the one-shot functions on the
/// concatenated batches.
///
/// ```swift
/// var validation = StreamingMetrics(classCount: 2, threshold: 0.5)
/// for (images, labels) in validationBatches {
///     try validation.update(labels: labels, probabilities: model(images))
/// }
/// print("validation AUC", try validation.rocAUC())
/// validation.reset()
/// ```
public struct StreamingMetrics: Sendable {
    /// The number of classes.
    public let classCount: Int
    /// The decision threshold of binary problems (positive when `score >= threshold`).
    public let threshold: Double
    /// The labels seen since the last reset.
    public private(set) var labels: [Int] = []
    /// The scores seen since the last reset: one positive-class score per sample for binary
    /// problems, rows of `classCount` probabilities for multi-class ones.
    public private(set) var scores: [Double] = []
    /// The confusion counts since the last reset.
    public private(set) var confusionMatrix: ConfusionMatrix

    /// An empty accumulator for `classCount` classes (2 for a binary problem).
    public init(classCount: Int = 2, threshold: Double = 0.5) {
        precondition(classCount >= 2, "StreamingMetrics: classCount \(classCount) must be at least 2")
        self.classCount = classCount
        self.threshold = threshold
        confusionMatrix = ConfusionMatrix(classCount: classCount)
    }

    /// The number of samples seen.
    public var sampleCount: Int { labels.count }

    /// Adds a batch of a binary problem: labels 0 or 1 and positive-class scores. A batch with an
    /// invalid label or a NaN score throws and is not added.
    public mutating func update<Score: BinaryFloatingPoint>(labels batchLabels: [Int], scores batchScores: [Score]) throws {
        precondition(classCount == 2, "StreamingMetrics.update(labels:scores:): scores are for binary problems; use probabilities for \(classCount) classes")
        let s = MetricInputs.doubles(batchScores)
        let batch = try ConfusionMatrix(labels: batchLabels, scores: s, threshold: threshold)
        confusionMatrix.add(batch)
        labels += batchLabels
        scores += s
    }

    /// Adds a batch of probabilities: `[N]`, `[N, 1]` or `[N, 2]` for a binary problem,
    /// `[N, classCount]` for a multi-class one (predicted class by argmax).
    public mutating func update<S: TensorScalar>(labels batchLabels: [Int], probabilities: Tensor<S>) throws {
        let operation = "StreamingMetrics.update"
        if classCount == 2 {
            try update(labels: batchLabels, scores: MetricInputs.binaryScores(probabilities, operation: operation))
            return
        }
        let (values, width) = MetricInputs.rows(probabilities, operation: operation)
        precondition(
            width == classCount,
            "\(operation): probabilities of shape \(probabilities.shape) for \(classCount) classes")
        let batch = try ConfusionMatrix(labels: batchLabels, probabilities: probabilities, threshold: threshold)
        confusionMatrix.add(batch)
        labels += batchLabels
        scores += values
    }

    /// Adds a batch given as tensors: labels `[N]` / `[N, 1]` class indices or `[N, C]` one-hot.
    public mutating func update<S: TensorScalar>(labels batchLabels: Tensor<S>, probabilities: Tensor<S>) throws {
        try update(labels: MetricInputs.labels(batchLabels, operation: "StreamingMetrics.update"), probabilities: probabilities)
    }

    /// Forgets every sample (at the start of an epoch).
    public mutating func reset() {
        labels.removeAll(keepingCapacity: true)
        scores.removeAll(keepingCapacity: true)
        confusionMatrix.reset()
    }

    /// The exact (or Keras-style) ROC AUC of the samples seen; multi-class problems average the
    /// one-vs-rest AUCs by `averaging` (`.macro` by default). Throws when a class is missing.
    public func rocAUC(method: AUCMethod = .exact, averaging: Averaging = .macro) throws -> Double {
        if classCount == 2 { return try rocAUCScore(labels: labels, scores: scores, method: method) }
        return try multiclassAUC(labels: labels, values: scores, width: classCount, averaging: averaging, method: method)
    }

    /// The ROC curve of the samples seen (binary problems).
    public func rocCurve(dropIntermediate: Bool = true) throws -> ROCCurve {
        precondition(classCount == 2, "StreamingMetrics.rocCurve: only for binary problems")
        return try ROCCurve(labels: labels, scores: scores, dropIntermediate: dropIntermediate)
    }

    /// The precision-recall curve of the samples seen (binary problems).
    public func precisionRecallCurve() throws -> PrecisionRecallCurve {
        precondition(classCount == 2, "StreamingMetrics.precisionRecallCurve: only for binary problems")
        return try PrecisionRecallCurve(labels: labels, scores: scores)
    }

    /// The classification report of the samples seen.
    public func classificationReport(classNames: [String]? = nil) -> ClassificationReport {
        ClassificationReport(confusionMatrix, classNames: classNames)
    }

    /// Every metric of the samples seen. Threshold metrics use `averaging`, by default
    /// `.binary(positiveClass: 1)` for binary problems and `.macro` for multi-class ones.
    public func summary(averaging: Averaging? = nil) -> MetricSummary {
        let averaging = averaging ?? (classCount == 2 ? .binary() : .macro)
        let m = confusionMatrix
        return MetricSummary(
            sampleCount: sampleCount, accuracy: m.accuracy, precision: m.precision(averaging: averaging),
            recall: m.recall(averaging: averaging), specificity: m.specificity(averaging: averaging),
            f1Score: m.f1Score(averaging: averaging), balancedAccuracy: m.balancedAccuracy,
            matthewsCorrelation: m.matthewsCorrelation, rocAUC: try? rocAUC(),
            averagePrecision: classCount == 2 && sampleCount > 0 ? try? precisionRecallCurve().averagePrecision : nil)
    }
}
