import Foundation
import Metrics
import Tensor
import Testing

/// Every metric against scikit-learn 1.9.1 on fixed inputs (ties, imbalance, three classes), from
/// `Tests/ReferenceScripts/metrics_fixtures.py`.
@Suite("Metrics against scikit-learn")
struct ReferenceTests {
    static let binaryCases = ["binary_ties", "binary_imbalanced", "pneumonia"]
    static let multiclassCases = ["multiclass3", "multiclass3_named", "multiclass_never_predicted"]

    @Test func fixtureNamesItsGenerator() throws {
        let fixture = try MetricsFixture.load()
        #expect(fixture.generator.contains("metrics_fixtures.py"))
        #expect(fixture.generator.contains("scikit-learn 1.9.1"))
        #expect(fixture.generator.contains("numpy 2.4.6"))
    }

    /// Checks the confusion matrix and every threshold metric with every averaging against the case.
    func checkThresholdMetrics(_ m: ConfusionMatrix, _ c: MetricsCase) throws {
        #expect(m.rows == (try c.intMatrix("confusion_matrix")), "\(c.name)")
        #expect(close(m.accuracy, try c.double("accuracy")), "\(c.name) accuracy")
        #expect(close(m.balancedAccuracy, try c.double("balanced_accuracy")), "\(c.name) balanced accuracy")
        #expect(close(m.matthewsCorrelation, try c.double("matthews")), "\(c.name) MCC")
        var averagings: [(String, Averaging)] = [("macro", .macro), ("weighted", .weighted), ("micro", .micro)]
        if m.classCount == 2 { averagings.append(("binary", .binary())) }
        for (key, averaging) in averagings {
            let values: [(String, Double)] = [
                ("precision", m.precision(averaging: averaging)), ("recall", m.recall(averaging: averaging)),
                ("f1", m.f1Score(averaging: averaging)), ("f2", m.fScore(beta: 2, averaging: averaging)),
                ("f05", m.fScore(beta: 0.5, averaging: averaging)),
                ("specificity", m.specificity(averaging: averaging)),
                ("npv", m.negativePredictiveValue(averaging: averaging)),
            ]
            for (metric, value) in values {
                let expected = try c.double("\(metric)_\(key)")
                #expect(close(value, expected), "\(c.name) \(metric) \(key): \(value) vs \(expected)")
            }
        }
        let perClass: [(String, [Double])] = [
            ("precision", m.perClass(\.precision)), ("recall", m.perClass(\.recall)), ("f1", m.perClass(\.f1Score)),
            ("f2", m.perClass { $0.fScore(beta: 2) }), ("specificity", m.perClass(\.specificity)),
            ("npv", m.perClass(\.negativePredictiveValue)),
        ]
        for (metric, values) in perClass {
            #expect(close(values, try c.doubles("\(metric)_per_class")), "\(c.name) \(metric) per class")
        }
        #expect(close(m.sensitivity(averaging: .macro), m.recall(averaging: .macro)))
    }

    @Test(arguments: binaryCases)
    func binaryThresholdMetrics(name: String) throws {
        let c = try MetricsFixture.load().case(name)
        try checkThresholdMetrics(ConfusionMatrix(labels: c.labels, scores: c.scores, threshold: c.threshold), c)
        // Float scores and a [N, 1] Float tensor give the same matrix (no score is within Float
        // rounding of the threshold in these cases).
        let floats = try c.scores.map { Float($0) }
        let fromFloats = try ConfusionMatrix(labels: c.labels, scores: floats, threshold: c.threshold)
        let fromTensor = try ConfusionMatrix(
            labels: c.labels, probabilities: Tensor<Float>(shape: [floats.count, 1], scalars: floats), threshold: c.threshold)
        #expect(fromFloats.rows == (try c.intMatrix("confusion_matrix")))
        #expect(fromTensor == fromFloats)
    }

    @Test(arguments: multiclassCases)
    func multiclassThresholdMetrics(name: String) throws {
        let c = try MetricsFixture.load().case(name)
        let p = try c.probabilities
        let tensor = Tensor<Double>(p)
        try checkThresholdMetrics(ConfusionMatrix(labels: c.labels, probabilities: tensor), c)
        // Labels as a one-hot tensor and as a [N] tensor of class indices.
        let labels = try c.labels
        let oneHot = Tensor<Double>(labels.map { l in (0..<3).map { $0 == l ? 1.0 : 0.0 } })
        let indices = Tensor<Double>(labels.map(Double.init))
        #expect(try ConfusionMatrix(labels: oneHot, probabilities: tensor).rows == (try c.intMatrix("confusion_matrix")))
        #expect(try ConfusionMatrix(labels: indices, probabilities: tensor).rows == (try c.intMatrix("confusion_matrix")))
    }

    @Test(arguments: binaryCases)
    func rocCurveAndAUC(name: String) throws {
        let c = try MetricsFixture.load().case(name)
        let labels = try c.labels, scores = try c.scores
        let curve = try ROCCurve(labels: labels, scores: scores)
        #expect(close(curve.falsePositiveRates, try c.doubles("roc_fpr")), "\(name) fpr")
        #expect(close(curve.truePositiveRates, try c.doubles("roc_tpr")), "\(name) tpr")
        #expect(curve.thresholds == (try c.doubles("roc_thresholds")), "\(name) thresholds")
        let full = try ROCCurve(labels: labels, scores: scores, dropIntermediate: false)
        #expect(close(full.falsePositiveRates, try c.doubles("roc_full_fpr")), "\(name) full fpr")
        #expect(close(full.truePositiveRates, try c.doubles("roc_full_tpr")), "\(name) full tpr")
        #expect(full.thresholds == (try c.doubles("roc_full_thresholds")), "\(name) full thresholds")

        let expected = try c.double("roc_auc")
        #expect(close(try rocAUCScore(labels: labels, scores: scores), expected), "\(name) AUC")
        #expect(close(curve.area, expected), "\(name) trapezoid of dropped curve")
        #expect(close(full.area, expected), "\(name) trapezoid of full curve")
        // Float32 inputs keep the ranking and the ties, so the exact AUC is unchanged.
        let floats = scores.map { Float($0) }
        #expect(close(try rocAUCScore(labels: labels, scores: floats), expected))
        #expect(close(try rocAUCScore(labels: labels, scores: Tensor<Float>(floats)), expected))
        let twoColumn = Tensor<Float>(shape: [floats.count, 2], scalars: floats.flatMap { [1 - $0, $0] })
        #expect(close(try rocAUCScore(labels: labels, scores: twoColumn), expected))
    }

    @Test(arguments: binaryCases)
    func kerasThresholdedAUC(name: String) throws {
        let c = try MetricsFixture.load().case(name)
        let labels = try c.labels, scores = try c.scores
        // The reference is Keras's own metric, which accumulates in float32.
        let k200 = try rocAUCScore(labels: labels, scores: scores, method: .kerasInterpolation())
        #expect(abs(k200 - (try c.double("keras_auc_200"))) < 1e-6, "\(name): \(k200)")
        let k11 = try KerasAUC.rocAUC(labels: labels, scores: scores, thresholdCount: 11)
        #expect(abs(k11 - (try c.double("keras_auc_11"))) < 1e-6, "\(name): \(k11)")
    }

    @Test(arguments: binaryCases)
    func precisionRecallCurveAndAveragePrecision(name: String) throws {
        let c = try MetricsFixture.load().case(name)
        let labels = try c.labels, scores = try c.scores
        let curve = try PrecisionRecallCurve(labels: labels, scores: scores)
        #expect(close(curve.precisions, try c.doubles("pr_precision")), "\(name) precision")
        #expect(close(curve.recalls, try c.doubles("pr_recall")), "\(name) recall")
        #expect(curve.thresholds == (try c.doubles("pr_thresholds")), "\(name) thresholds")
        #expect(close(try averagePrecisionScore(labels: labels, scores: scores), try c.double("average_precision")))
        #expect(close(try averagePrecisionScore(labels: labels, scores: Tensor<Double>(scores)), try c.double("average_precision")))
    }

    @Test(arguments: multiclassCases)
    func oneVsRestAUC(name: String) throws {
        let c = try MetricsFixture.load().case(name)
        let labels = try c.labels, p = try c.probabilities
        let tensor = Tensor<Float>(p.map { $0.map(Float.init) })
        for (key, averaging) in [("macro", Averaging.macro), ("weighted", .weighted), ("micro", .micro)] {
            let expected = try c.double("roc_auc_ovr_\(key)")
            #expect(close(try rocAUCScore(labels: labels, probabilities: p, averaging: averaging), expected), "\(name) \(key)")
            #expect(close(try rocAUCScore(labels: labels, probabilities: tensor, averaging: averaging), expected), "\(name) \(key) Float tensor")
        }
        let perClass = try (0..<3).map { try rocAUCScore(labels: labels, probabilities: p, averaging: .binary(positiveClass: $0)) }
        #expect(close(perClass, try c.doubles("roc_auc_ovr_per_class")))
    }

    @Test(arguments: binaryCases + multiclassCases)
    func classificationReportDataAndText(name: String) throws {
        let c = try MetricsFixture.load().case(name)
        let labels = try c.labels
        let matrix: ConfusionMatrix
        if c.inputs["scores"] != nil {
            matrix = try ConfusionMatrix(labels: labels, scores: c.scores, threshold: c.threshold)
        } else {
            matrix = try ConfusionMatrix(labels: labels, probabilities: Tensor<Double>(c.probabilities))
        }
        let names: [String]? = switch name {
        case "pneumonia": ["NORMAL", "PNEUMONIA"]
        case "multiclass3_named": ["NORMAL", "BACTERIA", "VIRUS"]
        default: nil
        }
        let report = ClassificationReport(matrix, classNames: names)
        let dict = try c.dictionary("report_dict")
        for row in report.classes + [report.macroAverage, report.weightedAverage] {
            let entry = try #require(dict[row.name] as? [String: Any], "\(name): no row \(row.name)")
            #expect(close(row.precision, try MetricsCase.double(entry["precision"])), "\(name) \(row.name)")
            #expect(close(row.recall, try MetricsCase.double(entry["recall"])), "\(name) \(row.name)")
            #expect(close(row.f1Score, try MetricsCase.double(entry["f1-score"])), "\(name) \(row.name)")
            #expect(Double(row.support) == (try MetricsCase.double(entry["support"])), "\(name) \(row.name)")
        }
        #expect(close(report.accuracy, try MetricsCase.double(dict["accuracy"])))
        #expect(report.text() == (try c.string("report_text")), "\(name):\n\(report.text())")
        #expect(report.text(digits: 4) == (try c.string("report_text_digits4")), "\(name):\n\(report.text(digits: 4))")
        #expect(report.description == report.text())
    }

    @Test(arguments: binaryCases)
    func thresholdSelectionMatchesTheFullROCCurve(name: String) throws {
        let c = try MetricsFixture.load().case(name)
        let labels = try c.labels, scores = try c.scores
        for (choice, key) in [
            (try ThresholdSelection.maximizingYoudenJ(labels: labels, scores: scores), "youden"),
            (try ThresholdSelection.highestThreshold(reachingSensitivity: 0.9, labels: labels, scores: scores), "sensitivity_90"),
        ] {
            let e = try c.dictionary(key)
            #expect(choice.threshold == (try MetricsCase.double(e["threshold"])), "\(name) \(key)")
            #expect(close(choice.sensitivity, try MetricsCase.double(e["sensitivity"])), "\(name) \(key)")
            #expect(close(choice.specificity, try MetricsCase.double(e["specificity"])), "\(name) \(key)")
            // The chosen threshold reproduces its sensitivity and specificity in a confusion matrix.
            let m = try ConfusionMatrix(labels: labels, scores: scores, threshold: choice.threshold)
            #expect(close(m.sensitivity(), choice.sensitivity) && close(m.specificity(), choice.specificity))
        }
        let youden = try c.dictionary("youden")
        #expect(close(try ThresholdSelection.maximizingYoudenJ(labels: labels, scores: scores).youdenJ, try MetricsCase.double(youden["j"])))
    }
}
