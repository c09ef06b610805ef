import Metrics
import Tensor
import Testing

/// The documented conventions for undefined values and bad data (see `MetricsError`).
@Suite("Edge cases")
struct EdgeCaseTests {
    @Test func noPositiveLabels() throws {
        let labels = [0, 0, 0, 0], scores = [0.1, 0.7, 0.4, 0.6]
        let m = try ConfusionMatrix(labels: labels, scores: scores, threshold: 0.5)
        #expect(m.rows == [[2, 2], [0, 0]])
        #expect(m.precision() == 0 && m.recall() == 0 && m.f1Score() == 0 && m.fScore(beta: 2) == 0)
        #expect(m.specificity() == 0.5 && m.negativePredictiveValue() == 1 && m.accuracy == 0.5)
        #expect(m.matthewsCorrelation == 0)
        #expect(m.balancedAccuracy == 0.5)  // only class 0 occurs among the labels
        let singleClass = MetricsError.singleClass(operation: "rocAUCScore", presentClasses: [0])
        #expect(throws: singleClass) { try rocAUCScore(labels: labels, scores: scores) }
        #expect(throws: MetricsError.singleClass(operation: "KerasAUC", presentClasses: [0])) {
            try rocAUCScore(labels: labels, scores: scores, method: .kerasInterpolation())
        }
        #expect(throws: MetricsError.singleClass(operation: "ROCCurve", presentClasses: [0])) {
            try ROCCurve(labels: labels, scores: scores)
        }
        #expect(throws: MetricsError.self) { try ThresholdSelection.maximizingYoudenJ(labels: labels, scores: scores) }
        // scikit-learn: recall is 1 at every threshold, average precision 0.
        let pr = try PrecisionRecallCurve(labels: labels, scores: scores)
        #expect(pr.recalls == [1, 1, 1, 1, 0] && pr.precisions == [0, 0, 0, 0, 1])
        #expect(try averagePrecisionScore(labels: labels, scores: scores) == 0)
        #expect(singleClass.description.contains("[0]"))
    }

    @Test func noNegativeLabels() throws {
        #expect(throws: MetricsError.singleClass(operation: "rocAUCScore", presentClasses: [1])) {
            try rocAUCScore(labels: [1, 1], scores: [0.2, 0.4])
        }
        let m = try ConfusionMatrix(labels: [1, 1], scores: [0.2, 0.6])
        #expect(m.specificity() == 0 && m.recall() == 0.5 && m.precision() == 1)
    }

    @Test func noPredictedPositives() throws {
        let m = try ConfusionMatrix(labels: [0, 1, 1, 0], scores: [0.1, 0.1, 0.2, 0.3], threshold: 0.5)
        #expect(m.rows == [[2, 0], [2, 0]])
        #expect(m.precision() == 0 && m.recall() == 0 && m.f1Score() == 0)
        #expect(m.specificity() == 1 && m.negativePredictiveValue() == 0.5 && m.accuracy == 0.5)
        #expect(m.matthewsCorrelation == 0 && m.balancedAccuracy == 0.5)
        #expect(m.precision(averaging: .macro) == 0.25 && m.precision(averaging: .weighted) == 0.25)
    }

    @Test func allScoresEqual() throws {
        let labels = [0, 1, 1, 0, 1], scores = [Double](repeating: 0.5, count: 5)
        #expect(try rocAUCScore(labels: labels, scores: scores) == 0.5)
        #expect(try rocAUCScore(labels: labels, scores: scores, method: .kerasInterpolation()) == 0.5)
        let curve = try ROCCurve(labels: labels, scores: scores)
        #expect(curve.falsePositiveRates == [0, 1] && curve.truePositiveRates == [0, 1] && curve.thresholds == [.infinity, 0.5])
        #expect(try averagePrecisionScore(labels: labels, scores: scores) == 0.6)  // the prevalence
        let youden = try ThresholdSelection.maximizingYoudenJ(labels: labels, scores: scores)
        #expect(youden == ThresholdChoice(threshold: 0.5, sensitivity: 1, specificity: 0) && youden.youdenJ == 0)
        let m = try ConfusionMatrix(labels: labels, scores: scores, threshold: 0.5)
        #expect(m.recall() == 1 && m.specificity() == 0 && m.matthewsCorrelation == 0)
    }

    @Test func nanScoresThrowNamingTheIndex() throws {
        let labels = [0, 1, 1, 0], scores = [0.2, 0.9, .nan, 0.4]
        #expect(throws: MetricsError.nanScore(operation: "ConfusionMatrix", index: 2)) {
            try ConfusionMatrix(labels: labels, scores: scores)
        }
        #expect(throws: MetricsError.nanScore(operation: "rocAUCScore", index: 2)) { try rocAUCScore(labels: labels, scores: scores) }
        #expect(throws: MetricsError.nanScore(operation: "ThresholdCounts", index: 2)) { try ROCCurve(labels: labels, scores: scores) }
        #expect(throws: MetricsError.nanScore(operation: "ThresholdCounts", index: 2)) {
            try PrecisionRecallCurve(labels: labels, scores: scores.map(Float.init))
        }
        #expect(throws: MetricsError.nanScore(operation: "ThresholdCounts", index: 2)) {
            try ThresholdSelection.maximizingYoudenJ(labels: labels, scores: scores)
        }
        // Multi-class rows: the error names the sample (row), not the flat element.
        let p = Tensor<Float>([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.3, .nan, 0.4]])
        #expect(throws: MetricsError.nanScore(operation: "ConfusionMatrix", index: 2)) {
            try ConfusionMatrix(labels: [0, 1, 2], probabilities: p)
        }
        #expect(throws: MetricsError.nanScore(operation: "rocAUCScore", index: 2)) {
            try rocAUCScore(labels: [0, 1, 2], probabilities: p)
        }
        #expect(MetricsError.nanScore(operation: "rocAUCScore", index: 2).description.contains("index 2"))
    }

    @Test func invalidLabelsThrow() throws {
        #expect(throws: MetricsError.invalidLabel(operation: "rocAUCScore", index: 1, label: 2, classCount: 2)) {
            try rocAUCScore(labels: [0, 2, 1], scores: [0.1, 0.2, 0.3])
        }
        #expect(throws: MetricsError.self) { try ConfusionMatrix(labels: [0, -1], predictions: [0, 1]) }
        #expect(throws: MetricsError.self) { try ConfusionMatrix(labels: [0, 1], predictions: [0, 3], classCount: 2) }
        #expect(throws: MetricsError.self) {
            try ConfusionMatrix(labels: Tensor<Float>([0, 0.5]), probabilities: Tensor<Float>([0.1, 0.9]))
        }
    }

    @Test func multiclassAUCWithAMissingClassThrows() throws {
        let p = [[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]]
        #expect(throws: MetricsError.singleClass(operation: "rocAUCScore (one-vs-rest, class 2)", presentClasses: [0, 1])) {
            try rocAUCScore(labels: [0, 1, 0], probabilities: p)
        }
        // Weighted averaging gives a class without samples weight 0.
        let weighted = try rocAUCScore(labels: [0, 1, 0], probabilities: p, averaging: .weighted)
        #expect(weighted == 1)
    }

    @Test func emptyInputs() throws {
        let m = try ConfusionMatrix(labels: [], predictions: [], classCount: 3)
        #expect(m.accuracy == 0 && m.balancedAccuracy == 0 && m.matthewsCorrelation == 0)
        #expect(m.precision(averaging: .macro) == 0 && m.recall(averaging: .weighted) == 0)
        #expect(throws: MetricsError.singleClass(operation: "rocAUCScore", presentClasses: [])) {
            try rocAUCScore(labels: [], scores: [Double]())
        }
        #expect(try averagePrecisionScore(labels: [], scores: [Double]()) == 0)
    }

    @Test func infiniteScoresRankAsExtremes() throws {
        #expect(try rocAUCScore(labels: [0, 1, 0, 1], scores: [-.infinity, .infinity, 0.2, 0.3]) == 1)
    }
}
