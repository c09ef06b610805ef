import Foundation
import Tensor
import TestSupport
import Testing

/// A fresh empty folder under the temporary directory.
private func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A safetensors file from a header text (padded with spaces to a multiple of 8) and data bytes.
private func file(header: String, data: [UInt8] = []) -> Data {
    var json = Array(header.utf8)
    json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
    return file(rawHeader: json, data: data)
}

/// A safetensors file from header bytes used as they are.
private func file(rawHeader: [UInt8], declaredLength: UInt64? = nil, data: [UInt8] = []) -> Data {
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (declaredLength ?? UInt64(rawHeader.count)).littleEndian) { bytes += $0 }
    return Data(bytes + rawHeader + data)
}

/// The problem reading `bytes` reports, or `nil` if they read.
private func problem(_ bytes: Data) -> SafeTensorsError? {
    do {
        _ = try SafeTensorsFile(bytes: bytes, source: "test.safetensors")
        return nil
    } catch let error as SafeTensorsError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

private let interopMetadata = [
    "format": "np",
    "epoch": "12",
    "note": "quote \" backslash \\ newline \n tab \t caf\u{e9} \u{2713}",
]

/// The tensors of reference.safetensors (see safetensors_fixtures.py), built from the same literals.
private func referenceFile() -> SafeTensorsFile {
    var file = SafeTensorsFile(metadata: ["format": "pt"])
    file["b.weight"] = SafeTensor(Tensor<Float>(shape: [2, 3], scalars: (0..<6).map { Float($0) * 0.5 - 1 }))
    file["a.bias"] = SafeTensor(Tensor<Double>([1.0 / 3.0, -2.5, 1e-300]))
    file["z"] = SafeTensor(Tensor<Float>(7.25))
    file["empty"] = SafeTensor(Tensor<Float>.zeros([0]))
    file["m.x"] = SafeTensor(Tensor<Double>([[1, 2], [3, 4]]))
    return file
}

@Suite("SafeTensors: format, interoperability with safetensors 0.8.0, validation, atomic writes")
struct SafeTensorsTests {
    @Test func roundTripsFloatAndDoubleWithMetadata() throws {
        var original = SafeTensorsFile(metadata: [
            "epoch": "3", "escapes": "\" \\ / \u{8} \u{c} \n \r \t \u{1} \u{1f} \u{7f}", "unicode": "r\u{e9}sum\u{e9} \u{1f600}",
            "": "empty key",
        ])
        original["dense.kernel"] = SafeTensor(Tensor<Float>.normal([5, 3], seed: 1))
        original["dense.bias"] = SafeTensor(Tensor<Float>([-0.0, .infinity, -.infinity, .leastNonzeroMagnitude]))
        original["conv.kernel"] = SafeTensor(Tensor<Double>.normal([3, 3, 2, 4], seed: 2))
        original["scalar"] = SafeTensor(Tensor<Double>(.pi))
        original["empty"] = SafeTensor(Tensor<Double>.zeros([2, 0, 3]))
        original["caf\u{e9}/\"name\""] = SafeTensor(Tensor<Float>([1, 2]))

        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("weights.safetensors")
        try original.write(to: url)
        let read = try SafeTensorsFile(contentsOf: url)
        #expect(read == original)
        #expect(read["dense.bias"]?.tensor(as: Float.self).scalars[0].sign == .minus)
        #expect(read["conv.kernel"]?.dtype == "F64" && read["dense.kernel"]?.dtype == "F32")
        #expect(try SafeTensorsFile(bytes: original.serialized()) == original)

        // Header layout: 8-byte length, a multiple of 8, F64 tensors first.
        let bytes = [UInt8](try original.serialized())
        let length = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        #expect(length % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        #expect(header.hasPrefix("{\"__metadata__\":{\"\":\"empty key\",\"epoch\":\"3\""))
        #expect(header.contains(#""escapes":"\" \\ / \b \f \n \r \t \u0001 \u001f "#))
        let conv = try #require(header.range(of: "\"conv.kernel\"")), dense = try #require(header.range(of: "\"dense.bias\""))
        #expect(conv.lowerBound < dense.lowerBound)
    }

    @Test func convertsBetweenPrecisionsOnRequest() throws {
        let file = SafeTensorsFile(tensors: ["x": SafeTensor(Tensor<Float>([0.1, 2]))])
        #expect(try file.tensor("x", as: Double.self) == Tensor<Double>([Double(Float(0.1)), 2]))
        let missing = #expect(throws: SafeTensorsError.self) { try file.tensor("y", as: Float.self) }
        #expect(missing?.problem == .missingTensor && missing?.tensor == "y")
    }

    @Test func readsTheFileWrittenByThePythonPackage() throws {
        let url = try #require(Bundle.module.url(forResource: "interop", withExtension: "safetensors", subdirectory: "Fixtures"))
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.metadata == interopMetadata)
        let expected = try ReferenceFixture.load("interop.json", from: Bundle.module).case("interop")
        #expect(Set(file.tensors.keys) == Set(expected.arrays.keys))
        for (name, array) in expected.arrays {
            let tensor = try #require(file[name])
            #expect(tensor.shape == array.shape, "\(name)")
            // Every stored value is exactly representable in the stored precision.
            #expect(tensor.tensor(as: Double.self) == array.tensor(Double.self), "\(name)")
        }
        #expect(file["half"]?.dtype == "F32" && file["bfloat"]?.dtype == "F32" && file["scalar"]?.dtype == "F64")
        #expect(file["half"]?.tensor(as: Float.self).scalars[5].sign == .minus)
    }

    @Test func writesTheSameBytesAsThePythonPackage() throws {
        let url = try #require(Bundle.module.url(forResource: "reference", withExtension: "safetensors", subdirectory: "Fixtures"))
        let expected = try Data(contentsOf: url)
        let ours = try referenceFile().serialized()
        #expect(ours == expected, "\(String(decoding: ours.prefix(400), as: UTF8.self))")
        #expect(try SafeTensorsFile(bytes: expected) == referenceFile())
    }

    @Test func rejectsTheReservedName() {
        let file = SafeTensorsFile(tensors: ["__metadata__": SafeTensor(Tensor<Float>([1]))])
        let error = #expect(throws: SafeTensorsError.self) { try file.serialized() }
        #expect(error?.problem == .reservedName)
    }

    // MARK: Corrupt files

    @Test func truncatedFilesAndBadHeaderLengths() throws {
        #expect(problem(Data([1, 0, 0]))?.problem == .truncated(fileSize: 3))
        #expect(problem(Data())?.problem == .truncated(fileSize: 0))
        let beyond = problem(file(rawHeader: Array("{}      ".utf8), declaredLength: 1000))
        #expect(beyond?.problem == .headerLengthBeyondFile(headerLength: 1000, available: 8))
        let huge = problem(file(rawHeader: [], declaredLength: .max))
        #expect(huge?.problem == .headerLengthBeyondFile(headerLength: .max, available: 0))
        // A valid file cut short loses data: the last tensor's offsets now reach past the end.
        let valid = try referenceFile().serialized()
        let cut = problem(valid.prefix(valid.count - 3))
        #expect(cut?.problem == .offsetsOutOfRange(begin: 80, end: 84, dataSize: 81) && cut?.tensor == "z")
        // Cut inside the header.
        #expect(problem(valid.prefix(100))?.problem == .headerLengthBeyondFile(headerLength: 328, available: 92))
    }

    @Test func invalidHeaderText() {
        #expect(problem(file(rawHeader: [0x7B, 0xFF, 0xFE, 0x7D]))?.problem == .invalidUTF8)
        for bad in ["{\"a\":", "{\"a\" 1}", "{'a': 1}", "{\"a\":{}} x", "", "{\"a\":tru}", "{\"a\":01}", "{\"a\":\"\\q\"}",
                    "{\"a\":{},\"a\":{}}"] {
            guard case .invalidJSON(let message)? = problem(file(header: bad))?.problem else {
                Issue.record("\(bad) was not rejected as invalid JSON")
                continue
            }
            #expect(message.contains("at byte"), "\(message)")
        }
        #expect(problem(file(header: "{\"a\":{},\"a\":{}}"))?.description.contains("duplicate key \"a\"") == true)
        #expect(problem(file(header: "[]"))?.problem == .invalidHeader("the header is an array, not an object"))
    }

    @Test func invalidEntries() {
        func entryProblem(_ entry: String, data: [UInt8] = []) -> SafeTensorsError? {
            problem(file(header: "{\"t\":\(entry)}", data: data))
        }
        let cases: [(String, String)] = [
            ("[1]", "not an object"),
            ("{\"shape\":[],\"data_offsets\":[0,4]}", "missing field \"dtype\""),
            ("{\"dtype\":\"F32\",\"data_offsets\":[0,4]}", "missing field \"shape\""),
            ("{\"dtype\":\"F32\",\"shape\":[]}", "missing field \"data_offsets\""),
            ("{\"dtype\":32,\"shape\":[],\"data_offsets\":[0,4]}", "not a string"),
            ("{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}", "not a non-negative integer"),
            ("{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}", "not a non-negative integer"),
            ("{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0]}", "data_offsets"),
            ("{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4,8]}", "data_offsets"),
            ("{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}", "not a non-negative integer"),
            ("{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}", "overflows"),
        ]
        for (entry, fragment) in cases {
            let error = entryProblem(entry, data: [0, 0, 128, 63])
            guard case .invalidHeader(let message)? = error?.problem else {
                Issue.record("\(entry): \(String(describing: error))")
                continue
            }
            #expect(message.contains(fragment) && error?.tensor == "t", "\(entry): \(message)")
        }
        let metadata = problem(file(header: "{\"__metadata__\":{\"epoch\":3}}"))
        #expect(metadata?.problem == .invalidHeader("metadata value for \"epoch\" is the number 3, not a string"))
        #expect(problem(file(header: "{\"__metadata__\":[]}"))?.problem
            == .invalidHeader("__metadata__ is an array, not an object of strings"))
    }

    @Test func unknownAndUnsupportedDtypes() {
        let unknown = problem(file(header: "{\"w\":{\"dtype\":\"F99\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0]))
        #expect(unknown?.problem == .unknownDtype("F99") && unknown?.tensor == "w")
        #expect(unknown?.description == "test.safetensors: tensor 'w': unknown dtype \"F99\"")
        let integer = problem(file(header: "{\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: [UInt8](repeating: 0, count: 8)))
        #expect(integer?.problem == .unsupportedDtype("I32") && integer?.tensor == "i")
        // Sub-byte dtypes are sized in bits: 4 F4 values take 2 bytes.
        let packed = problem(file(header: "{\"q\":{\"dtype\":\"F4\",\"shape\":[4],\"data_offsets\":[0,2]}}", data: [0, 0]))
        #expect(packed?.problem == .unsupportedDtype("F4"))
    }

    @Test func badOffsets() {
        let f32 = #"{"dtype":"F32","shape":[2],"data_offsets":"#
        let outside = problem(file(header: "{\"a\":\(f32)[0,8]}}", data: [UInt8](repeating: 0, count: 4)))
        #expect(outside?.problem == .offsetsOutOfRange(begin: 0, end: 8, dataSize: 4) && outside?.tensor == "a")
        let reversed = problem(file(header: "{\"a\":\(f32)[8,0]}}", data: [UInt8](repeating: 0, count: 8)))
        #expect(reversed?.problem == .offsetsOutOfRange(begin: 8, end: 0, dataSize: 8))
        let overlap = problem(file(header: "{\"a\":\(f32)[0,8]},\"b\":\(f32)[4,12]}}", data: [UInt8](repeating: 0, count: 12)))
        #expect(overlap?.problem == .overlapping(other: "a", begin: 4, previousEnd: 8) && overlap?.tensor == "b")
        #expect(overlap?.description.contains("overlapping tensor 'a'") == true)
        let gap = problem(file(header: "{\"a\":\(f32)[0,8]},\"b\":\(f32)[12,20]}}", data: [UInt8](repeating: 0, count: 20)))
        #expect(gap?.problem == .gap(begin: 12, previousEnd: 8) && gap?.tensor == "b")
        let notFromZero = problem(file(header: "{\"a\":\(f32)[4,12]}}", data: [UInt8](repeating: 0, count: 12)))
        #expect(notFromZero?.problem == .gap(begin: 4, previousEnd: 0))
        let size = problem(file(header: "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", data: [UInt8](repeating: 0, count: 8)))
        #expect(size?.problem == .sizeMismatch(shape: [3], dtype: "F32", expectedBytes: 12, actualBytes: 8) && size?.tensor == "a")
        let f64 = problem(file(header: "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,8]}}", data: [UInt8](repeating: 0, count: 8)))
        #expect(f64?.problem == .sizeMismatch(shape: [2], dtype: "F64", expectedBytes: 16, actualBytes: 8))
    }

    @Test func trailingGarbage() throws {
        let valid = try referenceFile().serialized()
        let error = problem(valid + Data([1, 2, 3, 4]))
        #expect(error?.problem == .trailingBytes(count: 4) && error?.tensor == nil)
        #expect(problem(file(header: "{}", data: [0]))?.problem == .trailingBytes(count: 1))
        // An empty file of tensors is valid.
        #expect(try SafeTensorsFile(bytes: file(header: "{}")) == SafeTensorsFile())
    }

    @Test func errorsNameTheFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("broken.safetensors")
        try file(header: "{\"layer.kernel\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
                 data: [UInt8](repeating: 0, count: 8)).write(to: url)
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(contentsOf: url) }
        #expect(error?.file == url.path)
        #expect(error?.description == "\(url.path): tensor 'layer.kernel': shape [3] of F32 needs 12 bytes but the data offsets span 8")
        let missing = #expect(throws: SafeTensorsError.self) {
            try SafeTensorsFile(contentsOf: folder.appendingPathComponent("absent.safetensors"))
        }
        #expect(missing?.description.hasPrefix(folder.appendingPathComponent("absent.safetensors").path) == true)
    }

    // MARK: Atomic writes

    @Test func aFailedSaveLeavesThePreviousFileAndNoTemporaryFile() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        let old = SafeTensorsFile(tensors: ["w": SafeTensor(Tensor<Float>([1, 2, 3]))], metadata: ["version": "old"])
        let new = SafeTensorsFile(tensors: ["w": SafeTensor(Tensor<Double>([4, 5]))], metadata: ["version": "new"])
        try old.write(to: url)
        let oldBytes = try Data(contentsOf: url)

        struct SimulatedCrash: Error {}
        var sawTemporary = false
        #expect(throws: SimulatedCrash.self) {
            try new.write(to: url) { temporary in
                // The new content is complete on disk, next to the target, before the switch.
                sawTemporary = temporary.deletingLastPathComponent().path == folder.path
                    && (try? SafeTensorsFile(contentsOf: temporary)) == new
                throw SimulatedCrash()
            }
        }
        #expect(sawTemporary)
        #expect(try Data(contentsOf: url) == oldBytes)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])

        try new.write(to: url)
        #expect(try SafeTensorsFile(contentsOf: url) == new)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }

    @Test func aSaveThatCannotReplaceTheTargetCleansUp() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The target is a non-empty folder: the temporary file is written, the rename fails.
        let target = folder.appendingPathComponent("occupied")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data([1]).write(to: target.appendingPathComponent("keep"))
        let file = SafeTensorsFile(tensors: ["w": SafeTensor(Tensor<Float>([1]))])
        let error = #expect(throws: SafeTensorsError.self) { try file.write(to: target) }
        #expect(error?.description.contains("cannot replace the file") == true, "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["occupied"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.path) == ["keep"])

        // A folder that does not exist (or has disappeared).
        let gone = folder.appendingPathComponent("gone/model.safetensors")
        let missing = #expect(throws: SafeTensorsError.self) { try file.write(to: gone) }
        #expect(missing?.file == gone.path && missing?.description.contains("temporary file") == true)
    }
}
