import Metrics
import Tensor
import Testing

/// Batch-by-batch accumulation gives the one-shot results.
@Suite("Streaming metrics")
struct StreamingTests {
    @Test func binaryBatchesEqualOneShot() throws {
        let c = try MetricsFixture.load().case("pneumonia")
        let labels = try c.labels, scores = try c.scores
        var streaming = StreamingMetrics(classCount: 2, threshold: 0.5)
        var start = 0
        for size in [1, 100, 64, 200, 0, 259] {  // uneven batches covering all 624 samples
            try streaming.update(labels: Array(labels[start..<(start + size)]), scores: Array(scores[start..<(start + size)]))
            start += size
        }
        #expect(start == labels.count && streaming.sampleCount == labels.count)
        let oneShot = try ConfusionMatrix(labels: labels, scores: scores, threshold: 0.5)
        #expect(streaming.confusionMatrix == oneShot)
        let summary = streaming.summary()
        #expect(summary.accuracy == oneShot.accuracy && summary.recall == oneShot.sensitivity())
        #expect(summary.specificity == oneShot.specificity() && summary.precision == oneShot.precision())
        #expect(summary.f1Score == oneShot.f1Score() && summary.matthewsCorrelation == oneShot.matthewsCorrelation)
        #expect(summary.balancedAccuracy == oneShot.balancedAccuracy)
        #expect(summary.rocAUC == (try rocAUCScore(labels: labels, scores: scores)))
        let expectedAUC = try c.double("roc_auc")
        #expect(summary.rocAUC.map { close($0, expectedAUC) } == true)
        #expect(summary.averagePrecision == (try averagePrecisionScore(labels: labels, scores: scores)))
        #expect(try streaming.rocAUC(method: .kerasInterpolation()) == (try KerasAUC.rocAUC(labels: labels, scores: scores)))
        #expect(try streaming.rocCurve() == (try ROCCurve(labels: labels, scores: scores)))
        #expect(try streaming.precisionRecallCurve() == (try PrecisionRecallCurve(labels: labels, scores: scores)))
        #expect(streaming.classificationReport(classNames: ["NORMAL", "PNEUMONIA"]).text() == (try c.string("report_text")))
        #expect(summary.description.contains("auc="))
    }

    @Test func tensorBatchesEqualOneShot() throws {
        let c = try MetricsFixture.load().case("pneumonia")
        let labels = try c.labels
        let scores = try c.scores.map { Float($0) }
        var streaming = StreamingMetrics()
        for start in stride(from: 0, to: labels.count, by: 32) {
            let end = min(start + 32, labels.count)
            let y = Tensor<Float>(shape: [end - start, 1], scalars: labels[start..<end].map(Float.init))
            let p = Tensor<Float>(shape: [end - start, 1], scalars: Array(scores[start..<end]))
            try streaming.update(labels: y, probabilities: p)
        }
        #expect(streaming.confusionMatrix == (try ConfusionMatrix(labels: labels, scores: scores)))
        #expect(try streaming.rocAUC() == (try rocAUCScore(labels: labels, scores: scores)))
    }

    @Test func multiclassBatchesEqualOneShot() throws {
        let c = try MetricsFixture.load().case("multiclass3")
        let labels = try c.labels, p = try c.probabilities
        var streaming = StreamingMetrics(classCount: 3)
        for start in stride(from: 0, to: labels.count, by: 7) {
            let end = min(start + 7, labels.count)
            try streaming.update(labels: Array(labels[start..<end]), probabilities: Tensor<Double>(Array(p[start..<end])))
        }
        #expect(streaming.confusionMatrix.rows == (try c.intMatrix("confusion_matrix")))
        #expect(close(try streaming.rocAUC(), try c.double("roc_auc_ovr_macro")))
        #expect(close(try streaming.rocAUC(averaging: .weighted), try c.double("roc_auc_ovr_weighted")))
        let summary = streaming.summary()
        let precision = try c.double("precision_macro"), recall = try c.double("recall_macro")
        #expect(close(summary.precision, precision) && close(summary.recall, recall))
        #expect(summary.averagePrecision == nil)
    }

    @Test func resetForgetsEverythingAndABadBatchIsNotAdded() throws {
        var streaming = StreamingMetrics()
        try streaming.update(labels: [0, 1], scores: [0.3, 0.7])
        #expect(throws: MetricsError.nanScore(operation: "ConfusionMatrix", index: 1)) {
            try streaming.update(labels: [0, 1], scores: [0.3, .nan])
        }
        #expect(throws: MetricsError.self) { try streaming.update(labels: [0, 2], scores: [0.3, 0.4]) }
        #expect(streaming.sampleCount == 2 && streaming.confusionMatrix.sampleCount == 2)
        #expect(try streaming.rocAUC() == 1)
        streaming.reset()
        #expect(streaming.sampleCount == 0 && streaming.confusionMatrix.sampleCount == 0 && streaming.scores.isEmpty)
        let empty = streaming.summary()
        #expect(empty.rocAUC == nil && empty.averagePrecision == nil && empty.accuracy == 0)
        try streaming.update(labels: [1, 1], scores: [0.9, 0.1])
        #expect(streaming.summary().rocAUC == nil)  // one class seen: AUC undefined
        #expect(streaming.summary().recall == 0.5)
    }
}
