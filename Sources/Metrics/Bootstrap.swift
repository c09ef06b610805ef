import Foundation
import Tensor

/// A point estimate with a bootstrap confidence interval.
public struct ConfidenceInterval: Sendable, Equatable, CustomStringConvertible {
    /// The metric on the full sample.
    public let estimate: Double
    /// The lower end of the interval.
    public let lower: Double
    /// The upper end of the interval.
    public let upper: Double
    /// The confidence level, for example 0.95.
    public let level: Double
    /// The resamples whose metric entered the interval.
    public let resampleCount: Int
    /// The resamples left out because the metric threw on them (for example a ROC AUC on a
    /// resample with one class only).
    public let skippedResampleCount: Int

    /// The interval as percentages, for example `93.1% (95% CI 91.0-95.0)`.
    public func percentText(digits: Int = 1) -> String {
        func f(_ v: Double) -> String { String(format: "%.\(digits)f", v * 100) }
        return "\(f(estimate))% (\(levelText) CI \(f(lower))-\(f(upper)))"
    }

    /// The interval as plain numbers, for example `0.931 (95% CI 0.910-0.950)`.
    public func text(digits: Int = 3) -> String {
        func f(_ v: Double) -> String { String(format: "%.\(digits)f", v) }
        return "\(f(estimate)) (\(levelText) CI \(f(lower))-\(f(upper)))"
    }

    /// ``text(digits:)`` with three decimals.
    public var description: String { text() }

    private var levelText: String { String(format: "%g%%", level * 100) }
}

/// Percentile bootstrap confidence intervals for any metric, seeded and reproducible.
///
/// Each of `resampleCount` resamples (default 1000) draws as many samples as the data set with
/// replacement using `SeededGenerator` (from Tensor) (default seed 42), and the metric is evaluated on it; the
/// interval is the `(1 - level) / 2` and `(1 + level) / 2` percentiles of those values (linear
/// interpolation, NumPy's default `percentile`). The same inputs, seed and count give the same
/// interval on every run.
///
/// Resampling is **stratified** by class by default: each class is resampled within itself, so
/// every resample keeps the class counts of the data (a test set's composition is fixed by design)
/// and a ROC AUC is defined on every resample. With `stratified: false` samples are drawn from the
/// whole set; resamples on which the metric throws are skipped and counted in
/// ``ConfidenceInterval/skippedResampleCount``.
public enum Bootstrap {
    /// The default number of resamples.
    public static let defaultResampleCount = 1000
    /// The default seed.
    public static let defaultSeed: UInt64 = 42

    /// The interval of a metric of binary or multi-class `labels` and per-sample `scores` (one
    /// score per sample; for multi-class rows use ``confidenceInterval(sampleCount:strata:level:resampleCount:seed:metric:)``).
    ///
    /// ```swift
    /// let auc = try Bootstrap.confidenceInterval(labels: y, scores: p) { try rocAUCScore(labels: $0, scores: $1) }
    /// let sensitivity = try Bootstrap.confidenceInterval(labels: y, scores: p) {
    ///     try ConfusionMatrix(labels: $0, scores: $1, threshold: 0.5).sensitivity()
    /// }
    /// print(sensitivity.percentText())   // 93.1% (95% CI 91.0-95.0)
    /// ```
    public static func confidenceInterval<Score: BinaryFloatingPoint>(
        labels: [Int], scores: [Score], level: Double = 0.95, resampleCount: Int = defaultResampleCount,
        seed: UInt64 = defaultSeed, stratified: Bool = true,
        metric: (_ labels: [Int], _ scores: [Double]) throws -> Double
    ) throws -> ConfidenceInterval {
        let s = MetricInputs.doubles(scores)
        MetricInputs.checkCounts(labels: labels.count, samples: s.count, operation: "Bootstrap.confidenceInterval")
        var resampledLabels = [Int](repeating: 0, count: labels.count)
        var resampledScores = [Double](repeating: 0, count: s.count)
        return try confidenceInterval(
            sampleCount: labels.count, strata: stratified ? labels : nil, level: level,
            resampleCount: resampleCount, seed: seed
        ) { indices in
            for (k, i) in indices.enumerated() {
                resampledLabels[k] = labels[i]
                resampledScores[k] = s[i]
            }
            return try metric(resampledLabels, resampledScores)
        }
    }

    /// The interval of a metric of any data set of `sampleCount` samples. `metric` receives the
    /// indices of a resample (with repetitions; `0 ..< sampleCount` for the point estimate) and
    /// evaluates the metric on those samples. With `strata` (one value per sample, usually the
    /// labels) each stratum is resampled within itself.
    public static func confidenceInterval(
        sampleCount: Int, strata: [Int]? = nil, level: Double = 0.95, resampleCount: Int = defaultResampleCount,
        seed: UInt64 = defaultSeed, metric: (_ indices: [Int]) throws -> Double
    ) throws -> ConfidenceInterval {
        let operation = "Bootstrap.confidenceInterval"
        guard level > 0, level < 1 else {
            throw MetricsError.invalidArgument(operation: operation, message: "level \(level) is not in (0, 1)")
        }
        guard resampleCount > 0 else {
            throw MetricsError.invalidArgument(operation: operation, message: "resampleCount \(resampleCount) must be positive")
        }
        guard sampleCount > 0 else {
            throw MetricsError.invalidArgument(operation: operation, message: "no samples to resample")
        }
        if let strata { MetricInputs.checkCounts(labels: strata.count, samples: sampleCount, operation: operation) }
        let estimate = try metric(Array(0..<sampleCount))

        // Groups of sample indices to resample within; one group without strata.
        var groups: [[Int]]
        if let strata {
            var byStratum = [Int: [Int]]()
            for (i, s) in strata.enumerated() { byStratum[s, default: []].append(i) }
            groups = byStratum.keys.sorted().map { byStratum[$0]! }
        } else {
            groups = [Array(0..<sampleCount)]
        }

        var generator = SeededGenerator(seed: seed)
        var values = [Double]()
        values.reserveCapacity(resampleCount)
        var skipped = 0
        var indices = [Int](repeating: 0, count: sampleCount)
        for _ in 0..<resampleCount {
            var k = 0
            for group in groups {
                for _ in 0..<group.count {
                    indices[k] = group[generator.nextIndex(below: group.count)]
                    k += 1
                }
            }
            do {
                let value = try metric(indices)
                if value.isNaN { skipped += 1 } else { values.append(value) }
            } catch {
                skipped += 1
            }
        }
        guard !values.isEmpty else {
            throw MetricsError.invalidArgument(
                operation: operation, message: "the metric failed on all \(resampleCount) resamples")
        }
        values.sort()
        return ConfidenceInterval(
            estimate: estimate, lower: percentile(values, (1 - level) / 2), upper: percentile(values, (1 + level) / 2),
            level: level, resampleCount: values.count, skippedResampleCount: skipped)
    }

    /// The `q` quantile (`0 ... 1`) of sorted values with linear interpolation between ranks.
    static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        let fraction = position - Double(below)
        return sorted[below] + fraction * (sorted[above] - sorted[below])
    }
}
