import DeepLearning
import Foundation

/// A minimal JSON value that keeps the order of object keys (for readable `metrics.json`).
indirect enum JSONValue {
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// A number, or null when it is not finite (JSON has no NaN).
    static func finite(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .number(value)
    }

    /// The JSON text, objects indented by two spaces per level (`indent: nil` for one line).
    func text(indent: Int? = 0) -> String {
        let pad = indent.map { String(repeating: "  ", count: $0 + 1) } ?? ""
        let closePad = indent.map { String(repeating: "  ", count: $0) } ?? ""
        let newline = indent == nil ? "" : "\n"
        let next = indent.map { $0 + 1 }
        switch self {
        case let .number(v): return String(format: "%.10g", v)
        case let .integer(v): return String(v)
        case let .string(s): return JSONValue.quote(s)
        case let .bool(b): return b ? "true" : "false"
        case .null: return "null"
        case let .array(items): return "[" + items.map { $0.text(indent: nil) }.joined(separator: ", ") + "]"
        case let .object(members):
            let body = members.map { "\(pad)\(JSONValue.quote($0.0)): \($0.1.text(indent: next))" }
            return "{" + newline + body.joined(separator: "," + (indent == nil ? " " : newline)) + newline + closePad + "}"
        }
    }

    /// A JSON string literal.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// A binary classifier's results on one labelled set at one decision threshold: the counts,
/// the metrics, the ROC curve and bootstrap intervals.
struct BinaryEvaluation {
    /// File names (relative to the data folder), labels (1 = PNEUMONIA) and probabilities of pneumonia.
    let files: [String]
    let labels: [Int]
    let probabilities: [Double]
    /// The decision threshold: predicted PNEUMONIA when `probability >= threshold`.
    let threshold: Double
    /// Class names in label order.
    let classNames: [String]
    /// The 2x2 confusion matrix.
    let confusion: ConfusionMatrix
    /// ROC AUC, nil when only one class is present.
    let auc: Double?
    /// The ROC curve, nil when only one class is present.
    let roc: ROCCurve?
    /// 95% percentile-bootstrap intervals (stratified by class, 1000 resamples, seed 42) by metric name.
    let intervals: [(String, ConfidenceInterval?)]

    /// Bootstrap resamples for the intervals.
    static let resamples = 1000

    /// Computes everything for `labels` and `probabilities` at `threshold`.
    init(files: [String], labels: [Int], probabilities: [Double], threshold: Double, classNames: [String]) throws {
        guard !labels.isEmpty else { throw PneumoniaError("no images to evaluate") }
        self.files = files
        self.labels = labels
        self.probabilities = probabilities
        self.threshold = threshold
        self.classNames = classNames
        confusion = try ConfusionMatrix(labels: labels, scores: probabilities, threshold: threshold)
        let bothClasses = Set(labels).count == 2
        auc = bothClasses ? try rocAUCScore(labels: labels, scores: probabilities) : nil
        roc = bothClasses ? try ROCCurve(labels: labels, scores: probabilities) : nil
        func interval(_ metric: @escaping (ConfusionMatrix) -> Double) -> ConfidenceInterval? {
            try? Bootstrap.confidenceInterval(labels: labels, scores: probabilities, resampleCount: Self.resamples) {
                metric(try ConfusionMatrix(labels: $0, scores: $1, threshold: threshold))
            }
        }
        intervals = [
            ("accuracy", interval { Double($0.correctCount) / Double(max($0.sampleCount, 1)) }),
            ("sensitivity", bothClasses || labels.first == 1 ? interval { $0.sensitivity() } : nil),
            ("specificity", bothClasses || labels.first == 0 ? interval { $0.specificity() } : nil),
            ("auc", bothClasses
                ? try? Bootstrap.confidenceInterval(labels: labels, scores: probabilities, resampleCount: Self.resamples) {
                    try rocAUCScore(labels: $0, scores: $1)
                }
                : nil),
        ]
    }

    var counts: ClassCounts { confusion.classCounts(of: 1) }
    var accuracy: Double { Double(confusion.correctCount) / Double(confusion.sampleCount) }
    var precision: Double { confusion.precision() }
    var sensitivity: Double { confusion.sensitivity() }
    var specificity: Double { confusion.specificity() }
    var f1: Double { confusion.f1Score() }

    /// The ROC point of the threshold: (false positive rate, true positive rate).
    var operatingPoint: (falsePositiveRate: Double, truePositiveRate: Double, threshold: Double) {
        (1 - specificity, sensitivity, threshold)
    }

    /// `metrics.json`: the keys of issue 6 in a fixed order, then the intervals and `extra`.
    func metricsJSON(extra: [(String, JSONValue)] = []) -> String {
        let c = counts
        var members: [(String, JSONValue)] = [
            ("count", .integer(labels.count)),
            ("accuracy", .finite(accuracy)), ("precision", .finite(precision)), ("recall", .finite(sensitivity)),
            ("sensitivity", .finite(sensitivity)), ("specificity", .finite(specificity)), ("f1", .finite(f1)),
            ("auc", .finite(auc)), ("threshold", .finite(threshold)),
            ("confusion", .object([("tn", .integer(c.trueNegatives)), ("fp", .integer(c.falsePositives)),
                                   ("fn", .integer(c.falseNegatives)), ("tp", .integer(c.truePositives))])),
            ("positives", .integer(labels.filter { $0 == 1 }.count)), ("negatives", .integer(labels.filter { $0 == 0 }.count)),
        ]
        members.append(("ci95", Self.intervalsJSON(intervals)))
        return JSONValue.object(members + extra).text() + "\n"
    }

    /// The `ci95` object of `metrics.json`: level, method, resamples, and `lower`/`upper` per metric.
    static func intervalsJSON(_ intervals: [(String, ConfidenceInterval?)]) -> JSONValue {
        var ci: [(String, JSONValue)] = [
            ("level", .number(0.95)), ("method", .string("stratified percentile bootstrap")), ("resamples", .integer(resamples)),
        ]
        for (name, interval) in intervals {
            ci.append((name, interval.map { .object([("lower", .finite($0.lower)), ("upper", .finite($0.upper))]) } ?? .null))
        }
        return .object(ci)
    }

    /// `predictions.csv`: `file,label,probability,prediction`.
    var predictionsCSV: String {
        var lines = ["file,label,probability,prediction"]
        for i in labels.indices {
            lines.append("\(Self.csvField(files[i])),\(labels[i]),\(String(format: "%.6f", probabilities[i])),\(probabilities[i] >= threshold ? 1 : 0)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A CSV field, quoted when it holds a comma, quote or newline.
    static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One metric with its interval, as a percentage.
    func percent(_ name: String, _ value: Double) -> String {
        guard value.isFinite else { return "n/a" }
        if let interval = intervals.first(where: { $0.0 == name })?.1 {
            return String(format: "%.1f%% (95%% CI %.1f-%.1f)", value * 100, interval.lower * 100, interval.upper * 100)
        }
        return String(format: "%.1f%%", value * 100)
    }

    /// The report section: summary table, classification report, confusion matrix.
    func markdown(title: String) -> String {
        let c = counts
        var aucText = "n/a (one class only)"
        if let auc {
            aucText = String(format: "%.3f", auc)
            if let interval = intervals.first(where: { $0.0 == "auc" })?.1 {
                aucText += String(format: " (95%% CI %.3f-%.3f)", interval.lower, interval.upper)
            }
        }
        let report = ClassificationReport(confusion, classNames: classNames)
        return """
            ## \(title)

            \(labels.count) images (\(labels.filter { $0 == 0 }.count) \(classNames[0]), \(labels.filter { $0 == 1 }.count) \(classNames[1])), \
            decision threshold \(String(format: "%.4f", threshold)) on the probability of \(classNames[1]).

            | metric | value |
            |---|---|
            | accuracy | \(percent("accuracy", accuracy)) |
            | sensitivity (recall) | \(percent("sensitivity", sensitivity)) |
            | specificity | \(percent("specificity", specificity)) |
            | precision | \(String(format: "%.1f%%", precision * 100)) |
            | F1 | \(String(format: "%.3f", f1)) |
            | ROC AUC | \(aucText) |

            Intervals: 95% percentile bootstrap, stratified by class, \(Self.resamples) resamples.

            Confusion matrix (rows: true class, columns: predicted): TN \(c.trueNegatives), FP \(c.falsePositives), \
            FN \(c.falseNegatives), TP \(c.truePositives).

            Classification report:

            ```
            \(report.text(digits: 3))
            ```

            """
    }

    /// Writes `metrics.json`, `predictions.csv`, `roc.svg` and `confusion-matrix.svg` into `folder`.
    func write(to folder: URL, extra: [(String, JSONValue)] = []) throws {
        try writeText(metricsJSON(extra: extra), to: folder.appendingPathComponent("metrics.json"))
        try writeText(predictionsCSV, to: folder.appendingPathComponent("predictions.csv"))
        let rocSVG: String
        if let roc, let auc {
            rocSVG = SVGPlot.rocChart(falsePositiveRates: roc.falsePositiveRates, truePositiveRates: roc.truePositiveRates,
                                      auc: auc, operatingPoint: operatingPoint)
        } else {
            rocSVG = SVGPlot.rocChart(falsePositiveRates: [0, 1], truePositiveRates: [0, 1], auc: .nan, operatingPoint: nil)
        }
        try writeText(rocSVG, to: folder.appendingPathComponent("roc.svg"))
        try writeText(SVGPlot.confusionMatrix(confusion.rows, classNames: classNames),
                      to: folder.appendingPathComponent("confusion-matrix.svg"))
    }
}
