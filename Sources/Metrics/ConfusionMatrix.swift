import Tensor

/// One class's one-vs-rest confusion counts: the shared core from which every threshold metric
/// (precision, recall, specificity, F-beta, negative predictive value) is computed.
public struct ClassCounts: Sendable, Equatable, Hashable {
    /// Samples of the class predicted as the class.
    public var truePositives: Int
    /// Samples of other classes predicted as the class.
    public var falsePositives: Int
    /// Samples of the class predicted as another class.
    public var falseNegatives: Int
    /// Samples of other classes predicted as another class.
    public var trueNegatives: Int

    /// Counts from their four values.
    public init(truePositives: Int, falsePositives: Int, falseNegatives: Int, trueNegatives: Int) {
        self.truePositives = truePositives
        self.falsePositives = falsePositives
        self.falseNegatives = falseNegatives
        self.trueNegatives = trueNegatives
    }

    /// The number of samples that truly belong to the class (`TP + FN`).
    public var support: Int { truePositives + falseNegatives }

    /// Elementwise sum (used for micro averaging).
    public static func + (a: ClassCounts, b: ClassCounts) -> ClassCounts {
        ClassCounts(
            truePositives: a.truePositives + b.truePositives,
            falsePositives: a.falsePositives + b.falsePositives,
            falseNegatives: a.falseNegatives + b.falseNegatives,
            trueNegatives: a.trueNegatives + b.trueNegatives)
    }

    /// `numerator / denominator`, or 0 when the denominator is 0 (scikit-learn's `zero_division=0`).
    static func ratio(_ numerator: Int, _ denominator: Int) -> Double {
        denominator == 0 ? 0 : Double(numerator) / Double(denominator)
    }
}

/// A confusion matrix: `counts[actual * classCount + predicted]` samples of true class `actual`
/// were predicted as `predicted` (rows are true classes, as in scikit-learn).
///
/// Binary problems use class 0 as the negative class and class 1 as the positive one (for the
/// pneumonia task NORMAL = 0, PNEUMONIA = 1). From scores, a sample is predicted positive when its
/// score is **greater than or equal to** the threshold, the convention of scikit-learn's
/// `roc_curve`, so a threshold taken from a ROC curve reproduces that curve's point exactly.
///
/// ```swift
/// let matrix = try ConfusionMatrix(labels: [0, 1, 1, 0], scores: [0.2, 0.9, 0.4, 0.6], threshold: 0.5)
/// matrix.recall()          // sensitivity of class 1: 0.5
/// matrix.specificity()     // 0.5
/// ```
public struct ConfusionMatrix: Sendable, Equatable, CustomStringConvertible {
    /// The number of classes (rows and columns).
    public let classCount: Int
    /// Row-major counts, `classCount * classCount` of them.
    public private(set) var counts: [Int]

    /// An empty matrix for `classCount` classes.
    public init(classCount: Int) {
        precondition(classCount >= 1, "ConfusionMatrix: classCount \(classCount) must be at least 1")
        self.classCount = classCount
        counts = [Int](repeating: 0, count: classCount * classCount)
    }

    /// The matrix of true `labels` against predicted classes. Without `classCount` the classes are
    /// `0 ... max(labels, predictions)` (at least two).
    public init(labels: [Int], predictions: [Int], classCount: Int? = nil) throws {
        let inferred = max(2, (labels.max() ?? 0) + 1, (predictions.max() ?? 0) + 1)
        self.init(classCount: classCount ?? inferred)
        try add(labels: labels, predictions: predictions)
    }

    /// A binary matrix from positive-class scores: predicted 1 when `score >= threshold`.
    public init<Score: BinaryFloatingPoint>(labels: [Int], scores: [Score], threshold: Double = 0.5) throws {
        let s = MetricInputs.doubles(scores)
        MetricInputs.checkCounts(labels: labels.count, samples: s.count, operation: "ConfusionMatrix")
        try MetricInputs.checkNoNaN(s, operation: "ConfusionMatrix")
        try self.init(labels: labels, predictions: s.map { $0 >= threshold ? 1 : 0 }, classCount: 2)
    }

    /// A matrix from a probability tensor: `[N]` or `[N, 1]` (positive-class probability) and
    /// `[N, 2]` (two-class softmax, column 1) are thresholded; `[N, C]` with `C > 2` is classified
    /// by argmax (the first maximum wins a tie) and `threshold` is not used.
    public init<S: TensorScalar>(labels: [Int], probabilities: Tensor<S>, threshold: Double = 0.5) throws {
        let operation = "ConfusionMatrix"
        let (values, width) = MetricInputs.rows(probabilities, operation: operation)
        if width <= 2 {
            try self.init(
                labels: labels, scores: MetricInputs.binaryScores(probabilities, operation: operation),
                threshold: threshold)
        } else {
            MetricInputs.checkCounts(labels: labels.count, samples: values.count / width, operation: operation)
            try MetricInputs.checkNoNaN(values, width: width, operation: operation)
            try self.init(
                labels: labels, predictions: MetricInputs.argmax(values, width: width), classCount: width)
        }
    }

    /// A matrix from label and probability tensors. Labels `[N]` or `[N, 1]` hold class indices;
    /// `[N, C]` one-hot rows. Probabilities as in ``init(labels:probabilities:threshold:)``.
    public init<S: TensorScalar>(labels: Tensor<S>, probabilities: Tensor<S>, threshold: Double = 0.5) throws {
        try self.init(
            labels: MetricInputs.labels(labels, operation: "ConfusionMatrix"), probabilities: probabilities,
            threshold: threshold)
    }

    /// Adds one sample per label; labels and predictions must be classes of the matrix.
    public mutating func add(labels: [Int], predictions: [Int]) throws {
        let operation = "ConfusionMatrix.add"
        precondition(
            labels.count == predictions.count,
            "\(operation): \(labels.count) labels but \(predictions.count) predictions")
        try MetricInputs.checkLabels(labels, classCount: classCount, operation: operation)
        if let i = predictions.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw MetricsError.invalidArgument(
                operation: operation,
                message: "prediction \(predictions[i]) at index \(i) is not a class in 0..<\(classCount)")
        }
        for (a, p) in zip(labels, predictions) { counts[a * classCount + p] += 1 }
    }

    /// Adds the counts of another matrix with the same classes.
    public mutating func add(_ other: ConfusionMatrix) {
        precondition(
            other.classCount == classCount,
            "ConfusionMatrix.add: \(classCount) classes and \(other.classCount) classes")
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// Sets every count to zero.
    public mutating func reset() {
        for i in counts.indices { counts[i] = 0 }
    }

    /// The number of samples of true class `actual` predicted as `predicted`.
    public subscript(actual: Int, predicted: Int) -> Int {
        counts[actual * classCount + predicted]
    }

    /// The matrix as rows (one per true class).
    public var rows: [[Int]] {
        (0..<classCount).map { Array(counts[($0 * classCount)..<(($0 + 1) * classCount)]) }
    }

    /// The total number of samples.
    public var sampleCount: Int { counts.reduce(0, +) }

    /// The number of samples of each true class (row sums).
    public var support: [Int] { (0..<classCount).map { r in (0..<classCount).reduce(0) { $0 + self[r, $1] } } }

    /// The number of samples predicted as each class (column sums).
    public var predictedCounts: [Int] { (0..<classCount).map { c in (0..<classCount).reduce(0) { $0 + self[$1, c] } } }

    /// The number of correctly classified samples (the trace).
    public var correctCount: Int { (0..<classCount).reduce(0) { $0 + self[$1, $1] } }

    /// One-vs-rest counts of class `c`.
    public func classCounts(of c: Int) -> ClassCounts {
        classCounts(of: c, total: sampleCount)
    }

    /// One-vs-rest counts of class `c` when the total sample count is already known.
    func classCounts(of c: Int, total: Int) -> ClassCounts {
        precondition(c >= 0 && c < classCount, "ConfusionMatrix.classCounts: class \(c) not in 0..<\(classCount)")
        var rowSum = 0, columnSum = 0
        for k in 0..<classCount {
            rowSum += self[c, k]
            columnSum += self[k, c]
        }
        let tp = self[c, c]
        return ClassCounts(
            truePositives: tp, falsePositives: columnSum - tp, falseNegatives: rowSum - tp,
            trueNegatives: total - rowSum - columnSum + tp)
    }

    /// The matrix as aligned rows, true classes down, predicted classes across.
    public var description: String {
        let width = max(1, counts.map { String($0).count }.max() ?? 1)
        return rows.map { row in
            row.map { String(repeating: " ", count: width - String($0).count) + String($0) }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}
