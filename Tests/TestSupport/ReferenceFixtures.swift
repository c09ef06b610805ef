import Foundation
import Tensor

/// A named array in a reference fixture file: its shape and row-major values.
public struct FixtureArray: Codable, Sendable {
    /// The array's shape.
    public let shape: [Int]
    /// Row-major values.
    public let data: [Double]

    /// The array as a tensor of any element type.
    public func tensor<Scalar: TensorScalar>(_ type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        Tensor(shape: shape, scalars: data.map { Scalar($0) })
    }
}

/// A fixture file written by one of the scripts in `Tests/ReferenceScripts/`: named cases, each a
/// dictionary of named arrays plus scalar parameters, and the generator's provenance.
public struct ReferenceFixture: Codable, Sendable {
    /// The script and library versions that produced the file.
    public let generator: String
    /// The cases by name.
    public let cases: [String: FixtureCase]

    /// Loads `name` (for example `"conv2d.json"`) from a test bundle's `Fixtures` folder.
    public static func load(_ name: String, from bundle: Bundle) throws -> ReferenceFixture {
        guard let url = bundle.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw FixtureError.missing(name)
        }
        return try JSONDecoder().decode(ReferenceFixture.self, from: Data(contentsOf: url))
    }

    /// The case named `name`, or a thrown error naming it.
    public func `case`(_ name: String) throws -> FixtureCase {
        guard let c = cases[name] else { throw FixtureError.missingCase(name, available: cases.keys.sorted()) }
        return c
    }
}

/// One reference case: arrays and numeric parameters.
public struct FixtureCase: Codable, Sendable {
    /// Named arrays (inputs and expected outputs).
    public let arrays: [String: FixtureArray]
    /// Named numeric parameters (strides, padding flags, and so on).
    public let params: [String: Double]

    /// The array named `name` as a tensor, or a thrown error naming it.
    public func tensor<Scalar: TensorScalar>(_ name: String, as type: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        guard let a = arrays[name] else { throw FixtureError.missingCase(name, available: arrays.keys.sorted()) }
        return a.tensor(type)
    }

    /// The integer parameter named `name`, or a thrown error naming it.
    public func int(_ name: String) throws -> Int {
        guard let v = params[name] else { throw FixtureError.missingCase(name, available: params.keys.sorted()) }
        return Int(v)
    }
}

/// Errors reading fixture files.
public enum FixtureError: Error, CustomStringConvertible {
    /// The fixture file is not in the bundle.
    case missing(String)
    /// A case, array or parameter is not in the file.
    case missingCase(String, available: [String])

    public var description: String {
        switch self {
        case .missing(let name): return "fixture file \(name) not found in the test bundle"
        case let .missingCase(name, available): return "fixture entry \(name) not found; available: \(available)"
        }
    }
}

/// The largest relative difference `|a - b| / max(1, |b|)` between two tensors of equal shape,
/// or infinity when the shapes differ.
public func maxRelativeDifference<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Double {
    guard a.shape == b.shape else { return .infinity }
    var worst = 0.0
    for (x, y) in zip(a.scalars, b.scalars) {
        let d = abs(Double(x) - Double(y)) / max(1, abs(Double(y)))
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}
