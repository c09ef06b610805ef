import Metrics
import Tensor
import Testing

/// Seeded percentile bootstrap: determinism, sanity of the interval, stratification.
@Suite("Bootstrap confidence intervals")
struct BootstrapTests {
    func pneumonia() throws -> (labels: [Int], scores: [Double]) {
        let c = try MetricsFixture.load().case("pneumonia")
        return (try c.labels, try c.scores)
    }

    @Test func sameSeedSameIntervalAndOtherSeedOtherInterval() throws {
        let (labels, scores) = try pneumonia()
        let auc: ([Int], [Double]) throws -> Double = { try rocAUCScore(labels: $0, scores: $1) }
        let a = try Bootstrap.confidenceInterval(labels: labels, scores: scores, resampleCount: 200, seed: 7, metric: auc)
        let b = try Bootstrap.confidenceInterval(labels: labels, scores: scores, resampleCount: 200, seed: 7, metric: auc)
        let c = try Bootstrap.confidenceInterval(labels: labels, scores: scores, resampleCount: 200, seed: 8, metric: auc)
        #expect(a == b)
        #expect(a.lower != c.lower || a.upper != c.upper)
        #expect(a.estimate == (try rocAUCScore(labels: labels, scores: scores)))
    }

    @Test func intervalContainsTheEstimateWithAPlausibleWidth() throws {
        let (labels, scores) = try pneumonia()
        let ci = try Bootstrap.confidenceInterval(labels: labels, scores: scores) {
            try ConfusionMatrix(labels: $0, scores: $1, threshold: 0.5).accuracy
        }
        #expect(ci.resampleCount == Bootstrap.defaultResampleCount && ci.skippedResampleCount == 0)
        #expect(ci.level == 0.95)
        #expect(ci.lower < ci.estimate && ci.estimate < ci.upper)
        // Binomial standard error sqrt(p (1 - p) / n) = 0.0117 for p = 0.905, n = 624: a 95%
        // interval about 4 standard errors wide, 0.046 (stratification makes it slightly narrower).
        let width = ci.upper - ci.lower
        #expect(width > 0.035 && width < 0.055, "\(ci)")
        #expect(ci.percentText().hasPrefix("90.5% (95% CI "))
        #expect(ci.text().hasPrefix("0.905 (95% CI "))
    }

    @Test func stratifiedResamplesKeepTheClassCounts() throws {
        let (labels, scores) = try pneumonia()
        let positives = labels.reduce(0, +)
        let ci = try Bootstrap.confidenceInterval(labels: labels, scores: scores, resampleCount: 100) { l, _ in
            Double(l.reduce(0, +))
        }
        #expect(ci.lower == Double(positives) && ci.upper == Double(positives))
        let free = try Bootstrap.confidenceInterval(labels: labels, scores: scores, resampleCount: 100, stratified: false) { l, _ in
            Double(l.reduce(0, +))
        }
        #expect(free.lower < Double(positives) && free.upper > Double(positives))
    }

    @Test func resamplesWhereTheMetricThrowsAreSkippedAndCounted() throws {
        // Two samples: a plain resample has one class with probability 1/2, where the AUC throws.
        let ci = try Bootstrap.confidenceInterval(labels: [0, 1], scores: [0.2, 0.8], resampleCount: 400, stratified: false) {
            try rocAUCScore(labels: $0, scores: $1)
        }
        #expect(ci.skippedResampleCount > 100 && ci.skippedResampleCount < 300)
        #expect(ci.resampleCount + ci.skippedResampleCount == 400)
        #expect(ci.lower == 1 && ci.upper == 1)
    }

    @Test func percentilesInterpolateLinearlyBetweenRanks() throws {
        // The metric returns the resample's first index over 9 samples (uniform on 0...8); with
        // 10000 resamples its 2.5% and 97.5% percentiles are 0 and 8, and the 50% interval is close to [2, 6].
        let wide = try Bootstrap.confidenceInterval(sampleCount: 9, resampleCount: 10000) { Double($0[0]) }
        #expect(wide.lower == 0 && wide.upper == 8 && wide.estimate == 0)
        let half = try Bootstrap.confidenceInterval(sampleCount: 9, level: 0.5, resampleCount: 10000) { Double($0[0]) }
        #expect(half.lower == 2 && half.upper == 6)
    }

    @Test func invalidArgumentsThrow() {
        #expect(throws: MetricsError.self) { try Bootstrap.confidenceInterval(sampleCount: 5, level: 1) { _ in 0 } }
        #expect(throws: MetricsError.self) { try Bootstrap.confidenceInterval(sampleCount: 5, resampleCount: 0) { _ in 0 } }
        #expect(throws: MetricsError.self) { try Bootstrap.confidenceInterval(sampleCount: 0) { _ in 0 } }
    }
}
