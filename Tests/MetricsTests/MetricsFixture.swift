import Foundation
import Testing

/// Reads `Fixtures/metrics.json`, written by `Tests/ReferenceScripts/metrics_fixtures.py`
/// (scikit-learn 1.9.1): `{"generator": ..., "cases": {name: {"inputs": {...}, "expected": {...}}}}`,
/// non-finite numbers as the strings "inf", "-inf", "nan".
struct MetricsFixture {
    let generator: String
    let cases: [String: [String: Any]]

    static func load() throws -> MetricsFixture {
        let url = try #require(Bundle.module.url(forResource: "metrics", withExtension: "json", subdirectory: "Fixtures"))
        let root = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        return MetricsFixture(
            generator: try #require(root["generator"] as? String),
            cases: try #require(root["cases"] as? [String: [String: Any]]))
    }

    func `case`(_ name: String) throws -> MetricsCase {
        let c = try #require(cases[name], "no fixture case \(name)")
        return MetricsCase(
            name: name, inputs: try #require(c["inputs"] as? [String: Any]),
            expected: try #require(c["expected"] as? [String: Any]))
    }
}

/// One case of the metrics fixture.
struct MetricsCase {
    let name: String
    let inputs: [String: Any]
    let expected: [String: Any]

    var labels: [Int] { get throws { try Self.ints(inputs["labels"]) } }
    var scores: [Double] { get throws { try Self.doubles(inputs["scores"]) } }
    var threshold: Double { get throws { try Self.double(inputs["threshold"]) } }
    var probabilities: [[Double]] {
        get throws { try #require(inputs["probabilities"] as? [Any]).map { try Self.doubles($0) } }
    }

    func double(_ key: String) throws -> Double { try Self.double(expected[key], key) }
    func doubles(_ key: String) throws -> [Double] { try Self.doubles(expected[key], key) }
    func intMatrix(_ key: String) throws -> [[Int]] {
        try #require(expected[key] as? [Any], "missing \(key)").map { try Self.ints($0) }
    }
    func string(_ key: String) throws -> String { try #require(expected[key] as? String, "missing \(key)") }
    func dictionary(_ key: String) throws -> [String: Any] { try #require(expected[key] as? [String: Any], "missing \(key)") }
    func has(_ key: String) -> Bool { expected[key] != nil }

    static func double(_ value: Any?, _ key: String = "") throws -> Double {
        if let s = value as? String {
            switch s {
            case "inf": return .infinity
            case "-inf": return -.infinity
            case "nan": return .nan
            default: break
            }
        }
        return try #require((value as? NSNumber)?.doubleValue, "not a number: \(key)")
    }

    static func doubles(_ value: Any?, _ key: String = "") throws -> [Double] {
        try #require(value as? [Any], "not an array: \(key)").map { try double($0, key) }
    }

    static func ints(_ value: Any?) throws -> [Int] {
        try #require(value as? [Any]).map { try #require(($0 as? NSNumber)?.intValue) }
    }
}

/// `|a - b| <= tolerance * max(1, |b|)`, infinities equal to themselves.
func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-12) -> Bool {
    if a == b { return true }
    return abs(a - b) <= tolerance * max(1, abs(b))
}

/// Elementwise ``close(_:_:_:)`` of equal-length arrays.
func close(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-12) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { close($0, $1, tolerance) }
}
