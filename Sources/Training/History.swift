import Foundation

/// Per-epoch values recorded by a training run (Keras's `History`): one series per key (`loss`,
/// `accuracy`, `val_loss`, `val_accuracy`, `val_auc`, `learning_rate`, ...), in the order the keys
/// first appeared.
public struct History: Codable, Sendable, Equatable {
    /// The keys in the order they were first recorded.
    public private(set) var keys: [String] = []
    /// The recorded values by key; every series has one value per epoch (NaN where a key was
    /// missing in an epoch).
    public private(set) var values: [String: [Double]] = [:]
    /// The epoch numbers recorded (starting at 1, as Keras prints them).
    public private(set) var epochs: [Int] = []

    /// An empty history.
    public init() {}

    /// Appends one epoch's logs.
    public mutating func record(epoch: Int, logs: [String: Double]) {
        for key in logs.keys.sorted(by: History.keyOrder) where values[key] == nil {
            keys.append(key)
            values[key] = [Double](repeating: .nan, count: epochs.count)
        }
        epochs.append(epoch)
        for key in keys {
            values[key, default: []].append(logs[key] ?? .nan)
        }
    }

    /// The series for `key` (empty when never recorded).
    public subscript(key: String) -> [Double] { values[key] ?? [] }

    /// The number of epochs recorded.
    public var count: Int { epochs.count }

    /// The history truncated to its first `count` epochs (used when resuming from a checkpoint).
    public func prefix(_ count: Int) -> History {
        var h = History()
        h.keys = keys
        h.epochs = Array(epochs.prefix(count))
        h.values = values.mapValues { Array($0.prefix(count)) }
        return h
    }

    /// Keys ordered as Keras prints them: training metrics, loss first, then validation metrics,
    /// then the learning rate.
    static func keyOrder(_ a: String, _ b: String) -> Bool {
        func rank(_ k: String) -> (Int, String) {
            if k == "loss" { return (0, k) }
            if k == "val_loss" { return (2, k) }
            if k == "learning_rate" { return (4, k) }
            if k.hasPrefix("val_") { return (3, k) }
            return (1, k)
        }
        return rank(a) < rank(b)
    }

    /// The history as CSV: a header `epoch,key1,key2,...` and one row per epoch.
    public func csv() -> String {
        var lines = [(["epoch"] + keys).joined(separator: ",")]
        for (i, epoch) in epochs.enumerated() {
            let row = [String(epoch)] + keys.map { History.format(values[$0]![i]) }
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The history as JSON: `{"epoch": [...], "loss": [...], ...}` (NaN written as null).
    public func json() -> String {
        var parts = ["\"epoch\": [\(epochs.map(String.init).joined(separator: ", "))]"]
        for key in keys {
            let series = values[key]!.map { $0.isFinite ? History.format($0) : "null" }
            parts.append("\"\(key)\": [\(series.joined(separator: ", "))]")
        }
        return "{\n  " + parts.joined(separator: ",\n  ") + "\n}\n"
    }

    /// Writes ``csv()`` to `url` atomically.
    public func writeCSV(to url: URL) throws {
        try Data(csv().utf8).write(to: url, options: .atomic)
    }

    /// Writes ``json()`` to `url` atomically.
    public func writeJSON(to url: URL) throws {
        try Data(json().utf8).write(to: url, options: .atomic)
    }

    /// A value with enough digits to round-trip a Float and stay readable.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return String(format: "%.9g", v)
    }
}
