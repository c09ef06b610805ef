import Foundation

/// Per-class precision, recall, F1 and support with accuracy and macro and weighted averages, as
/// data and as text in scikit-learn's `classification_report` layout.
///
/// ```
///               precision    recall  f1-score   support
///
///       NORMAL       0.84      0.92      0.88       234
///    PNEUMONIA       0.95      0.90      0.92       390
///
///     accuracy                           0.91       624
///    macro avg       0.90      0.91      0.90       624
/// weighted avg       0.91      0.91      0.91       624
/// ```
///
/// Undefined ratios are 0 (`zero_division=0`); every class of the matrix is listed.
public struct ClassificationReport: Sendable, Equatable, CustomStringConvertible {
    /// One line of the report.
    public struct Row: Sendable, Equatable {
        /// The class name, or `"macro avg"` / `"weighted avg"`.
        public let name: String
        /// Precision.
        public let precision: Double
        /// Recall.
        public let recall: Double
        /// F1 score.
        public let f1Score: Double
        /// Number of true samples (the total for the average rows).
        public let support: Int
    }

    /// One row per class, in class order.
    public let classes: [Row]
    /// The share of correctly classified samples.
    public let accuracy: Double
    /// Unweighted means over the classes.
    public let macroAverage: Row
    /// Means weighted by support.
    public let weightedAverage: Row

    /// The report of a confusion matrix; `classNames` (one per class) default to the class indices.
    public init(_ matrix: ConfusionMatrix, classNames: [String]? = nil) {
        let names = classNames ?? (0..<matrix.classCount).map(String.init)
        precondition(
            names.count == matrix.classCount,
            "ClassificationReport: \(names.count) class names for \(matrix.classCount) classes")
        let support = matrix.support
        classes = (0..<matrix.classCount).map { c in
            let counts = matrix.classCounts(of: c)
            return Row(
                name: names[c], precision: counts.precision, recall: counts.recall, f1Score: counts.f1Score,
                support: support[c])
        }
        accuracy = matrix.accuracy
        let total = matrix.sampleCount
        macroAverage = Row(
            name: "macro avg", precision: matrix.precision(averaging: .macro),
            recall: matrix.recall(averaging: .macro), f1Score: matrix.f1Score(averaging: .macro), support: total)
        weightedAverage = Row(
            name: "weighted avg", precision: matrix.precision(averaging: .weighted),
            recall: matrix.recall(averaging: .weighted), f1Score: matrix.f1Score(averaging: .weighted),
            support: total)
    }

    /// The report of true `labels` against predicted classes.
    public init(labels: [Int], predictions: [Int], classCount: Int? = nil, classNames: [String]? = nil) throws {
        let matrix = try ConfusionMatrix(
            labels: labels, predictions: predictions, classCount: classCount ?? classNames?.count)
        self.init(matrix, classNames: classNames)
    }

    /// The report as text with `digits` decimals, laid out exactly like scikit-learn's
    /// `classification_report(..., digits=digits)`.
    public func text(digits: Int = 2) -> String {
        precondition(digits >= 0, "ClassificationReport.text: digits \(digits) must be >= 0")
        let width = max(classes.map(\.name.count).max() ?? 0, "weighted avg".count, digits)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        func number(_ v: Double) -> String { pad(String(format: "%.\(digits)f", v), 9) }
        func line(_ row: Row) -> String {
            pad(row.name, width) + " " + [row.precision, row.recall, row.f1Score].map { " " + number($0) }.joined()
                + " " + pad(String(row.support), 9) + "\n"
        }
        var report = pad("", width) + " " + ["precision", "recall", "f1-score", "support"].map { " " + pad($0, 9) }.joined()
        report += "\n\n"
        for row in classes { report += line(row) }
        report += "\n"
        report += pad("accuracy", width) + " " + " " + pad("", 9) + " " + pad("", 9) + " " + number(accuracy)
            + " " + pad(String(macroAverage.support), 9) + "\n"
        report += line(macroAverage)
        report += line(weightedAverage)
        return report
    }

    /// The report as text with two decimals.
    public var description: String { text() }
}
