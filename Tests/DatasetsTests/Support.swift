import Foundation
import Tensor
import TestSupport

@testable import Datasets

/// The checked-in fixtures of Tests/ReferenceScripts/image_fixtures.py.
enum Fixtures {
    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    static func url(_ path: String) -> URL { root.appendingPathComponent(path) }
    static let reference: ReferenceFixture = try! ReferenceFixture.load("image_fixtures.json", from: .module)
    static func doubles(_ caseName: String, _ array: String) throws -> [Double] {
        try reference.case(caseName).tensor(array, as: Double.self).scalars
    }
}

/// The shared data folder `../shared/data` relative to the repository root, if present.
enum SharedData {
    static let root: URL = {
        // Tests/DatasetsTests/Support.swift -> repository root -> ../shared/data
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data").standardized
    }()
    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path)
    }
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("datasets-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Copies fixture images into `root/class/name` to build small class folders.
func makeFolder(_ root: URL, _ files: [(folder: String, source: String, name: String)]) throws {
    for f in files {
        let dir = root.appendingPathComponent(f.folder)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url(f.source), to: dir.appendingPathComponent(f.name))
    }
}

func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count, "maxAbsDifference: \(a.count) vs \(b.count) values")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
