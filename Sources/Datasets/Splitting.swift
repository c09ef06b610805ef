import Foundation
import Tensor

/// A division of sample indices into named parts (e.g. train / validation / test), with the counts
/// that matter for leakage and balance.
public struct DataSplit: Sendable, CustomStringConvertible {
    /// The part names, in order.
    public let names: [String]
    /// The sample indices of each part, sorted.
    public let parts: [[Int]]
    /// The label of every sample of the split data.
    public let labels: [Int]
    /// The group (patient) of every sample, or nil for an ungrouped split.
    public let groups: [String]?

    /// The indices of the part called `name`.
    public subscript(name: String) -> [Int] {
        guard let i = names.firstIndex(of: name) else { preconditionFailure("DataSplit: no part named \(name) (has \(names))") }
        return parts[i]
    }

    /// The number of samples of each class in part `i`.
    public func classCounts(part i: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: (labels.max() ?? -1) + 1)
        for s in parts[i] { counts[labels[s]] += 1 }
        return counts
    }

    /// The number of distinct groups (patients) in part `i` (the sample count when ungrouped).
    public func groupCount(part i: Int) -> Int {
        guard let groups else { return parts[i].count }
        return Set(parts[i].map { groups[$0] }).count
    }

    /// One line per part: patients, images and images per class.
    public var description: String {
        names.indices.map { i in
            "\(names[i]): \(groupCount(part: i)) patients, \(parts[i].count) images, per class \(classCounts(part: i))"
        }.joined(separator: "\n")
    }

    /// Splits `labels` by `fractions` (e.g. `[0.7, 0.15, 0.15]`), separately within each class, so
    /// each part has the class ratios of the whole; seeded. Each class's shuffled samples are cut at
    /// the rounded cumulative fractions.
    public static func stratified(labels: [Int], fractions: [Double], names: [String]? = nil, seed: UInt64) throws -> DataSplit {
        try validate(fractions: fractions, names: names)
        var generator = SeededGenerator(seed: seed)
        var parts = [[Int]](repeating: [], count: fractions.count)
        for label in Set(labels).sorted() {
            var members = labels.indices.filter { labels[$0] == label }
            generator.shuffle(&members)
            let bounds = cumulativeBounds(members.count, fractions)
            for p in 0..<fractions.count { parts[p] += members[bounds[p]..<bounds[p + 1]] }
        }
        return DataSplit(names: names ?? defaultNames(fractions.count), parts: parts.map { $0.sorted() }, labels: labels, groups: nil)
    }

    /// Splits so that all samples of one group (patient) land in one part, with the class ratios
    /// kept as far as whole patients allow; seeded.
    ///
    /// Each patient takes the class of the majority of their images. Within each class, patients
    /// are shuffled and each goes to the part whose image count is furthest below its target
    /// (`fraction * images of the class`), so image counts approach the fractions.
    public static func grouped(labels: [Int], groups: [String], fractions: [Double], names: [String]? = nil, seed: UInt64) throws -> DataSplit {
        try validate(fractions: fractions, names: names)
        guard labels.count == groups.count else {
            throw DatasetError.invalidArgument("DataSplit.grouped: \(labels.count) labels but \(groups.count) groups")
        }
        var members: [String: [Int]] = [:]
        for (i, g) in groups.enumerated() { members[g, default: []].append(i) }
        var patientsByClass: [Int: [String]] = [:]
        for (g, samples) in members {
            var votes: [Int: Int] = [:]
            for s in samples { votes[labels[s], default: 0] += 1 }
            let label = votes.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }!.key
            patientsByClass[label, default: []].append(g)
        }
        var generator = SeededGenerator(seed: seed)
        var parts = [[Int]](repeating: [], count: fractions.count)
        for label in patientsByClass.keys.sorted() {
            var patients = patientsByClass[label]!.sorted()
            generator.shuffle(&patients)
            let total = Double(patients.reduce(0) { $0 + members[$1]!.count })
            var filled = [Double](repeating: 0, count: fractions.count)
            for g in patients {
                let samples = members[g]!
                // The part furthest below its target, relative to the target (ties: the earlier part).
                var best = 0, bestDeficit = -Double.infinity
                for p in fractions.indices where fractions[p] > 0 {
                    let deficit = (fractions[p] * total - filled[p]) / (fractions[p] * total)
                    if deficit > bestDeficit { best = p; bestDeficit = deficit }
                }
                filled[best] += Double(samples.count)
                parts[best] += samples
            }
        }
        return DataSplit(names: names ?? defaultNames(fractions.count), parts: parts.map { $0.sorted() }, labels: labels, groups: groups)
    }

    private static func validate(fractions: [Double], names: [String]?) throws {
        guard !fractions.isEmpty, fractions.allSatisfy({ $0 >= 0 }), abs(fractions.reduce(0, +) - 1) < 1e-9 else {
            throw DatasetError.invalidArgument("DataSplit: fractions \(fractions) must be non-negative and sum to 1")
        }
        if let names, names.count != fractions.count {
            throw DatasetError.invalidArgument("DataSplit: \(names.count) names for \(fractions.count) fractions")
        }
    }

    private static func defaultNames(_ n: Int) -> [String] {
        n == 2 ? ["train", "validation"] : n == 3 ? ["train", "validation", "test"] : (0..<n).map { "part\($0)" }
    }

    private static func cumulativeBounds(_ n: Int, _ fractions: [Double]) -> [Int] {
        var bounds = [0]
        var cumulative = 0.0
        for f in fractions.dropLast() {
            cumulative += f
            bounds.append(min(n, Int((cumulative * Double(n)).rounded())))
        }
        bounds.append(n)
        return bounds
    }
}

/// Class weights `n_samples / (n_classes * count[c])`, as scikit-learn's
/// `compute_class_weight("balanced")`, for the classes `0..<classCount` (a class with no samples
/// gets weight 0, where scikit-learn would refuse).
public func balancedClassWeights(labels: [Int], classCount: Int) -> [Int: Double] {
    var counts = [Int](repeating: 0, count: classCount)
    for l in labels { counts[l] += 1 }
    let present = counts.filter { $0 > 0 }.count
    var weights: [Int: Double] = [:]
    for c in 0..<classCount {
        weights[c] = counts[c] == 0 ? 0 : Double(labels.count) / (Double(present) * Double(counts[c]))
    }
    return weights
}
