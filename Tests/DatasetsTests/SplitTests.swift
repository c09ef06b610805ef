import Foundation
import Tensor
import Testing

@testable import Datasets

@Suite("Splits")
struct SplitTests {
    /// 60 patients: 20 normal with 1-3 images, 40 pneumonia with 1-4 images.
    static let synthetic: (labels: [Int], groups: [String]) = {
        var labels: [Int] = [], groups: [String] = []
        var g = SeededGenerator(seed: 77)
        for p in 0..<60 {
            let label = p < 20 ? 0 : 1
            for _ in 0...(g.nextIndex(below: label == 0 ? 3 : 4)) {
                labels.append(label)
                groups.append("patient\(p)")
            }
        }
        return (labels, groups)
    }()

    @Test("Stratified: every sample once, class ratios kept, same seed same split", arguments: [(UInt64(0), [0.7, 0.15, 0.15]), (UInt64(1), [0.8, 0.1, 0.1])] as [(UInt64, [Double])])
    func stratified(seed: UInt64, fractions: [Double]) throws {
        let labels = (0..<1000).map { $0 % 4 == 0 ? 0 : 1 }  // 250 / 750
        let split = try DataSplit.stratified(labels: labels, fractions: fractions, seed: seed)
        #expect(split.parts.flatMap { $0 }.sorted() == Array(0..<1000))
        for (i, f) in fractions.enumerated() {
            let counts = split.classCounts(part: i)
            #expect(abs(Double(counts[0]) - 250 * f) <= 1 && abs(Double(counts[1]) - 750 * f) <= 1)
        }
        let again = try DataSplit.stratified(labels: labels, fractions: fractions, seed: seed)
        #expect(again.parts == split.parts)
        #expect(try DataSplit.stratified(labels: labels, fractions: fractions, seed: seed + 100).parts != split.parts)
    }

    @Test("Grouped: no patient on two sides, ratios within tolerance, deterministic")
    func grouped() throws {
        let (labels, groups) = Self.synthetic
        let split = try DataSplit.grouped(labels: labels, groups: groups, fractions: [0.7, 0.15, 0.15], seed: 3)
        #expect(split.parts.flatMap { $0 }.sorted() == Array(labels.indices))
        let sides = split.parts.map { Set($0.map { groups[$0] }) }
        #expect(sides[0].isDisjoint(with: sides[1]) && sides[0].isDisjoint(with: sides[2]) && sides[1].isDisjoint(with: sides[2]))
        let n = Double(labels.count)
        for (i, f) in [0.7, 0.15, 0.15].enumerated() {
            #expect(abs(Double(split.parts[i].count) / n - f) < 0.05, "\(split)")
            let counts = split.classCounts(part: i)
            #expect(counts[0] > 0 && counts[1] > 0)
        }
        #expect(try DataSplit.grouped(labels: labels, groups: groups, fractions: [0.7, 0.15, 0.15], seed: 3).parts == split.parts)
        #expect(split.description.contains("train: \(split.groupCount(part: 0)) patients, \(split.parts[0].count) images"))
    }

    @Test("Invalid fractions are rejected")
    func invalid() {
        #expect(throws: DatasetError.self) { try DataSplit.stratified(labels: [0, 1], fractions: [0.5, 0.6], seed: 0) }
        #expect(throws: DatasetError.self) { try DataSplit.grouped(labels: [0, 1], groups: ["a"], fractions: [1], seed: 0) }
    }

    /// All 5,232 images of ../shared/data/chest_xray, decoded and resized to 64x64 (debug build:
    /// about 10 s on 2 cores), then read back from the cache, split by patient.
    @Test("Loading all of ../shared/data/chest_xray (train + val) and a patient-grouped split of train")
    func realChestXray() throws {
        let root = SharedData.root.appendingPathComponent("chest_xray")
        guard SharedData.exists("chest_xray/train") else {
            print("skipped: \(root.path) is absent")
            return
        }
        let splits = try SplitFolders(root: root)
        let train = try #require(splits.splits["train"]), val = try #require(splits.splits["val"])
        #expect(train.classNames == ["NORMAL", "PNEUMONIA"])
        #expect(train.records.filter { $0.label == 0 }.count == 1341 && train.records.filter { $0.label == 1 }.count == 3875)
        #expect(val.records.count == 16)
        let cacheDir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: cacheDir) }
        let p = ImagePreprocessing(width: 64, height: 64, channels: 1)
        let records = train.records + val.records
        let start = Date()
        let all = try ImageDataset.load(records: records, classNames: train.classNames, preprocessing: p, cacheDirectory: cacheDir)
        let decodeSeconds = Date().timeIntervalSince(start)
        #expect(all.count == 5232 && all.skipped.isEmpty && !all.loadedFromCache)
        let cached = try ImageDataset.load(records: records, classNames: train.classNames, preprocessing: p, cacheDirectory: cacheDir)
        #expect(cached.loadedFromCache && cached.pixels == all.pixels)
        print("chest_xray: \(all.count) images decoded and resized to 64x64 in \(String(format: "%.1f", decodeSeconds)) s, cached reload in \(String(format: "%.2f", Date().timeIntervalSince(start) - decodeSeconds)) s")
        // Spot check: image 0 equals decoding its file alone.
        #expect(all.image(at: 0) == p.apply(to: try Image(contentsOf: URL(fileURLWithPath: records[0].path))))

        let trainOnly = cached.subset(Array(0..<train.records.count))
        let split = try DataSplit.grouped(labels: trainOnly.labels, groups: trainOnly.patients, fractions: [0.85, 0.15], seed: 0)
        print(split)
        let sides = split.parts.map { Set($0.map { trainOnly.patients[$0] }) }
        #expect(sides[0].isDisjoint(with: sides[1]))
        let normalShare = Double(1341) / 5216
        for i in 0..<2 {
            let counts = split.classCounts(part: i)
            #expect(abs(Double(counts[0]) / Double(split.parts[i].count) - normalShare) < 0.02)
        }
        #expect(abs(Double(split.parts[1].count) / 5216 - 0.15) < 0.01)
        let weights = balancedClassWeights(labels: trainOnly.labels, classCount: 2)
        #expect(abs(weights[0]! - 5216.0 / (2 * 1341)) < 1e-12 && abs(weights[1]! - 5216.0 / (2 * 3875)) < 1e-12)
    }
}
