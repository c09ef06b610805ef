import DeepLearning
import Foundation
import PneumoniaModels

/// A multi-class classifier's results on one labelled set (the 3-class NORMAL / BACTERIA / VIRUS
/// task): the arg-max predictions, confusion matrix, classification report, one-vs-rest ROC AUC
/// per class and bootstrap intervals.
struct MulticlassEvaluation {
    /// File names (relative to the data folder), labels and class probabilities (one row per image).
    let files: [String]
    let labels: [Int]
    let probabilities: [[Double]]
    /// Class names in label order.
    let classNames: [String]
    /// The arg-max class of each row.
    let predictions: [Int]
    /// The confusion matrix (rows: true class, columns: predicted).
    let confusion: ConfusionMatrix
    /// Per-class precision, recall, F1 and support, with macro and weighted averages.
    let report: ClassificationReport
    /// One-vs-rest ROC AUC of each class's probability, nil for a class that is absent (or alone).
    let aucs: [Double?]
    /// 95% stratified percentile-bootstrap intervals (1000 resamples, seed 42) by metric name.
    let intervals: [(String, ConfidenceInterval?)]

    /// Computes everything for `labels` and the probability rows.
    init(files: [String], labels: [Int], probabilities: [[Double]], classNames: [String]) throws {
        guard !labels.isEmpty else { throw PneumoniaError("no images to evaluate") }
        guard probabilities.count == labels.count, probabilities.allSatisfy({ $0.count == classNames.count }) else {
            throw PneumoniaError("expected \(labels.count) rows of \(classNames.count) class probabilities")
        }
        self.files = files
        self.labels = labels
        self.probabilities = probabilities
        self.classNames = classNames
        let predictions = probabilities.map(Self.mostProbableClass)
        self.predictions = predictions
        confusion = try ConfusionMatrix(labels: labels, predictions: predictions, classCount: classNames.count)
        report = ClassificationReport(confusion, classNames: classNames)
        aucs = classNames.indices.map { c in
            let binary = labels.map { $0 == c ? 1 : 0 }
            guard Set(binary).count == 2 else { return nil }
            return try? rocAUCScore(labels: binary, scores: probabilities.map { $0[c] })
        }
        func interval(_ metric: @escaping (ConfusionMatrix) -> Double) -> ConfidenceInterval? {
            try? Bootstrap.confidenceInterval(sampleCount: labels.count, strata: labels,
                                              resampleCount: BinaryEvaluation.resamples) { indices in
                metric(try ConfusionMatrix(labels: indices.map { labels[$0] }, predictions: indices.map { predictions[$0] },
                                           classCount: classNames.count))
            }
        }
        intervals = [
            ("accuracy", interval { Double($0.correctCount) / Double(max($0.sampleCount, 1)) }),
            ("macro_f1", interval { ClassificationReport($0).macroAverage.f1Score }),
        ]
    }

    /// The index of the largest probability of `row` (the first on ties).
    static func mostProbableClass(_ row: [Double]) -> Int {
        row.indices.max { row[$0] < row[$1] } ?? 0
    }

    /// Throws a one-line error when a decision threshold is given for an arg-max decision.
    static func rejectThreshold(_ threshold: Double?, checkpoint: String, classNames: [String]) throws {
        guard threshold == nil else {
            throw PneumoniaError("--threshold applies to the binary task; \(checkpoint) classifies \(classNames) by arg-max")
        }
    }

    /// Accuracy: the share of arg-max predictions that are right.
    var accuracy: Double { report.accuracy }

    /// The mean one-vs-rest AUC over the classes that have one.
    var macroAUC: Double? {
        let defined = aucs.compactMap { $0 }
        return defined.isEmpty ? nil : defined.reduce(0, +) / Double(defined.count)
    }

    /// `metrics.json`: counts, accuracy, macro and weighted averages, per-class figures,
    /// the confusion matrix and the intervals, then `extra`.
    func metricsJSON(extra: [(String, JSONValue)] = []) -> String {
        func row(_ r: ClassificationReport.Row) -> JSONValue {
            .object([("precision", .finite(r.precision)), ("recall", .finite(r.recall)), ("f1", .finite(r.f1Score)),
                     ("support", .integer(r.support))])
        }
        var perClass: [(String, JSONValue)] = []
        for (c, r) in report.classes.enumerated() {
            guard case let .object(members) = row(r) else { continue }
            perClass.append((classNames[c], .object(members + [("auc", .finite(aucs[c]))])))
        }
        let members: [(String, JSONValue)] = [
            ("count", .integer(labels.count)), ("classes", .array(classNames.map { .string($0) })),
            ("accuracy", .finite(accuracy)), ("macro_f1", .finite(report.macroAverage.f1Score)),
            ("weighted_f1", .finite(report.weightedAverage.f1Score)), ("macro_auc_ovr", .finite(macroAUC)),
            ("per_class", .object(perClass)), ("macro_avg", row(report.macroAverage)), ("weighted_avg", row(report.weightedAverage)),
            ("confusion", .array(confusion.rows.map { .array($0.map { .integer($0) }) })),
            ("ci95", BinaryEvaluation.intervalsJSON(intervals)),
        ]
        return JSONValue.object(members + extra).text() + "\n"
    }

    /// `predictions.csv`: `file,label,prediction` and one `probability_<CLASS>` column per class.
    var predictionsCSV: String {
        var lines = ["file,label,prediction," + classNames.map { "probability_\($0)" }.joined(separator: ",")]
        for i in labels.indices {
            let p = probabilities[i].map { String(format: "%.6f", $0) }.joined(separator: ",")
            lines.append("\(BinaryEvaluation.csvField(files[i])),\(labels[i]),\(predictions[i]),\(p)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The report section: summary table, classification report, confusion matrix.
    func markdown(title: String) -> String {
        func withInterval(_ name: String, _ value: Double) -> String {
            guard let interval = intervals.first(where: { $0.0 == name })?.1 else { return String(format: "%.3f", value) }
            return String(format: "%.3f (95%% CI %.3f-%.3f)", value, interval.lower, interval.upper)
        }
        let support = classNames.indices.map { c in "\(labels.filter { $0 == c }.count) \(classNames[c])" }.joined(separator: ", ")
        let aucRows = classNames.indices.map { c in
            "| AUC \(classNames[c]) vs rest | \(aucs[c].map { String(format: "%.3f", $0) } ?? "n/a") |"
        }.joined(separator: "\n")
        let header = "| true \\ predicted | " + classNames.joined(separator: " | ") + " |"
        let rule = "|---|" + classNames.map { _ in "---:|" }.joined()
        let matrix = confusion.rows.enumerated().map { r, counts in
            "| \(classNames[r]) | " + counts.map(String.init).joined(separator: " | ") + " |"
        }.joined(separator: "\n")
        return """
            ## \(title)

            \(labels.count) images (\(support)); each image is given its most probable class.

            | metric | value |
            |---|---|
            | accuracy | \(withInterval("accuracy", accuracy)) |
            | macro F1 | \(withInterval("macro_f1", report.macroAverage.f1Score)) |
            | weighted F1 | \(String(format: "%.3f", report.weightedAverage.f1Score)) |
            | macro AUC (one vs rest) | \(macroAUC.map { String(format: "%.3f", $0) } ?? "n/a") |
            \(aucRows)

            Intervals: 95% percentile bootstrap, stratified by class, \(BinaryEvaluation.resamples) resamples.

            Confusion matrix:

            \(header)
            \(rule)
            \(matrix)

            Classification report:

            ```
            \(report.text(digits: 3))
            ```

            """
    }

    /// Writes `metrics.json`, `predictions.csv` and `confusion-matrix.svg` into `folder`.
    func write(to folder: URL, extra: [(String, JSONValue)] = []) throws {
        try writeText(metricsJSON(extra: extra), to: folder.appendingPathComponent("metrics.json"))
        try writeText(predictionsCSV, to: folder.appendingPathComponent("predictions.csv"))
        try writeText(SVGPlot.confusionMatrix(confusion.rows, classNames: classNames),
                      to: folder.appendingPathComponent("confusion-matrix.svg"))
    }
}
