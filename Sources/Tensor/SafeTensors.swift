// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
//
//     [8 bytes: header length N, little-endian u64]
//     [N bytes: UTF-8 JSON {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//                           ..., "__metadata__": {"key": "value"}}, padded with spaces to a multiple of 8]
//     [the tensors' little-endian bytes, row-major, contiguous, offsets relative to the data start]
//
// Writing follows the reference implementation byte for byte: tensors ordered by dtype (F64 before
// F32) then by name, the metadata first in the header, compact JSON, space padding. Saving is
// atomic: a temporary file in the target's folder is written, flushed to disk and renamed over
// the target.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor of a safetensors file, kept in the precision it is stored in (`F16` and `BF16`
/// tensors are read as `Float`).
public enum SafeTensor: Sendable, Equatable {
    /// A 32-bit tensor (`F32`; also `F16` and `BF16` once read).
    case float32(Tensor<Float>)
    /// A 64-bit tensor (`F64`).
    case float64(Tensor<Double>)

    /// Wraps a `Float` tensor as `F32` or a `Double` tensor as `F64`.
    public init<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) {
        if let t = tensor as? Tensor<Float> {
            self = .float32(t)
        } else if let t = tensor as? Tensor<Double> {
            self = .float64(t)
        } else {
            self = .float64(Tensor<Double>(tensor))
        }
    }

    /// The tensor's shape.
    public var shape: [Int] {
        switch self {
        case .float32(let t): return t.shape
        case .float64(let t): return t.shape
        }
    }

    /// The dtype the tensor is written as: `"F32"` or `"F64"`.
    public var dtype: String {
        switch self {
        case .float32: return "F32"
        case .float64: return "F64"
        }
    }

    /// The values converted to `Scalar` (exact from `F32` to `Double`; rounded from `F64` to `Float`).
    public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        switch self {
        case .float32(let t): return t as? Tensor<Scalar> ?? Tensor<Scalar>(t)
        case .float64(let t): return t as? Tensor<Scalar> ?? Tensor<Scalar>(t)
        }
    }
}

/// What is wrong with a safetensors file, thrown by ``SafeTensorsFile`` with the file and the
/// tensor concerned.
public struct SafeTensorsError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The problem found.
    public enum Problem: Equatable, Sendable {
        /// The file is shorter than the 8-byte header length.
        case truncated(fileSize: Int)
        /// The header length exceeds the bytes that follow it.
        case headerLengthBeyondFile(headerLength: UInt64, available: Int)
        /// The header is not valid UTF-8.
        case invalidUTF8
        /// The header is not valid JSON.
        case invalidJSON(String)
        /// The JSON is not a valid safetensors header (missing or mistyped fields, bad metadata).
        case invalidHeader(String)
        /// The dtype is not one the format defines.
        case unknownDtype(String)
        /// The dtype is defined by the format but cannot be read as floating point here.
        case unsupportedDtype(String)
        /// The offsets reach outside the data section, or end before they begin.
        case offsetsOutOfRange(begin: Int, end: Int, dataSize: Int)
        /// The tensor's bytes overlap those of `other`, which ends at `previousEnd`.
        case overlapping(other: String, begin: Int, previousEnd: Int)
        /// Unused bytes lie between the previous tensor's end and this tensor's begin.
        case gap(begin: Int, previousEnd: Int)
        /// The byte range does not hold `shape` elements of `dtype`.
        case sizeMismatch(shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
        /// Bytes follow the last tensor.
        case trailingBytes(count: Int)
        /// The file has no tensor of the requested name.
        case missingTensor
        /// A name cannot be written (`__metadata__` is reserved).
        case reservedName
        /// Reading or writing the file failed.
        case io(String)
    }

    /// The file (its path), or `<memory>` for bytes that came from elsewhere.
    public let file: String
    /// The tensor concerned, when the problem is one tensor's.
    public let tensor: String?
    /// What is wrong.
    public let problem: Problem

    /// An error about `file` (and `tensor`, if given).
    public init(file: String, tensor: String? = nil, problem: Problem) {
        self.file = file
        self.tensor = tensor
        self.problem = problem
    }

    /// The file, the tensor (if any) and the problem, in one line.
    public var description: String {
        let subject = tensor.map { "\(file): tensor '\($0)'" } ?? file
        let message: String
        switch problem {
        case .truncated(let size):
            message = "truncated: \(size) bytes, shorter than the 8-byte header length"
        case let .headerLengthBeyondFile(length, available):
            message = "header length \(length) exceeds the \(available) bytes after the length field (truncated file?)"
        case .invalidUTF8:
            message = "the header is not valid UTF-8"
        case .invalidJSON(let detail):
            message = "the header is not valid JSON: \(detail)"
        case .invalidHeader(let detail):
            message = "invalid header: \(detail)"
        case .unknownDtype(let dtype):
            message = "unknown dtype \"\(dtype)\""
        case .unsupportedDtype(let dtype):
            message = "dtype \(dtype) is not supported (readable: F32, F64, F16, BF16)"
        case let .offsetsOutOfRange(begin, end, dataSize):
            message = "data offsets [\(begin), \(end)] lie outside the data section of \(dataSize) bytes"
        case let .overlapping(other, begin, previousEnd):
            message = "data offsets begin at \(begin), overlapping tensor '\(other)' which ends at \(previousEnd)"
        case let .gap(begin, previousEnd):
            message = "data offsets begin at \(begin), leaving unused bytes after the previous tensor's end at \(previousEnd)"
        case let .sizeMismatch(shape, dtype, expected, actual):
            message = "shape \(shape) of \(dtype) needs \(expected) bytes but the data offsets span \(actual)"
        case .trailingBytes(let count):
            message = "\(count) trailing bytes after the last tensor"
        case .missingTensor:
            message = "no such tensor"
        case .reservedName:
            message = "the name __metadata__ is reserved for the metadata"
        case .io(let detail):
            message = detail
        }
        return "\(subject): \(message)"
    }
}

/// The contents of a safetensors file: named `Float` or `Double` tensors and string metadata.
///
/// ```swift
/// var file = SafeTensorsFile(metadata: ["epoch": "12"])
/// file["dense.kernel"] = SafeTensor(kernel)
/// try file.write(to: url)                       // atomic
/// let loaded = try SafeTensorsFile(contentsOf: url)
/// let kernel: Tensor<Float> = try loaded.tensor("dense.kernel")
/// ```
///
/// Reading validates the whole file and throws ``SafeTensorsError`` naming the file, the tensor and
/// the problem. `F32`, `F64`, `F16` and `BF16` tensors are read (the half-precision ones as
/// `Float`); writing produces `F32` and `F64`. Unknown fields in a tensor's header entry are
/// ignored, as the reference implementation does.
public struct SafeTensorsFile: Sendable, Equatable {
    /// The tensors by name.
    public var tensors: [String: SafeTensor]
    /// The `__metadata__` map (string values only, as the format requires).
    public var metadata: [String: String]

    /// A file holding `tensors` and `metadata`.
    public init(tensors: [String: SafeTensor] = [:], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor named `name`, if any.
    public subscript(name: String) -> SafeTensor? {
        get { tensors[name] }
        set { tensors[name] = newValue }
    }

    /// The tensor named `name` converted to `Scalar`, or a thrown ``SafeTensorsError`` when absent.
    public func tensor<Scalar: TensorScalar>(_ name: String, as type: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        guard let t = tensors[name] else {
            throw SafeTensorsError(file: "<memory>", tensor: name, problem: .missingTensor)
        }
        return t.tensor(as: type)
    }

    // MARK: Reading

    /// Reads and validates the file at `url`.
    public init(contentsOf url: URL) throws {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SafeTensorsError(file: path, problem: .io("cannot read the file: \(error.localizedDescription)"))
        }
        try self.init(bytes: data, source: path)
    }

    /// Parses and validates the bytes of a safetensors file; `source` names them in errors.
    public init(bytes: Data, source: String = "<memory>") throws {
        let bytes = [UInt8](bytes)
        func fail(_ problem: SafeTensorsError.Problem, _ tensor: String? = nil) -> SafeTensorsError {
            SafeTensorsError(file: source, tensor: tensor, problem: problem)
        }
        guard bytes.count >= 8 else { throw fail(.truncated(fileSize: bytes.count)) }
        var length: UInt64 = 0
        for i in (0..<8).reversed() { length = length << 8 | UInt64(bytes[i]) }
        guard length <= UInt64(bytes.count - 8) else {
            throw fail(.headerLengthBeyondFile(headerLength: length, available: bytes.count - 8))
        }
        let headerEnd = 8 + Int(length)
        let headerBytes = Array(bytes[8..<headerEnd])
        guard String(validating: headerBytes, as: UTF8.self) != nil else { throw fail(.invalidUTF8) }
        let json: HeaderJSON
        do {
            json = try HeaderJSONParser.parse(headerBytes)
        } catch {
            throw fail(.invalidJSON(error.message))
        }
        guard case .object(let members) = json else {
            throw fail(.invalidHeader("the header is \(json.kind), not an object"))
        }

        // Entries: metadata, then every tensor's dtype, shape and offsets.
        struct Entry {
            let name: String
            let dtype: String
            let bits: Int
            let shape: [Int]
            let begin: Int
            let end: Int
        }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else {
                    throw fail(.invalidHeader("__metadata__ is \(value.kind), not an object of strings"))
                }
                for (key, item) in pairs {
                    guard case .string(let text) = item else {
                        throw fail(.invalidHeader("metadata value for \"\(key)\" is \(item.kind), not a string"))
                    }
                    metadata[key] = text
                }
                continue
            }
            guard case .object(let fields) = value else {
                throw fail(.invalidHeader("the entry is \(value.kind), not an object"), name)
            }
            func field(_ key: String) throws -> HeaderJSON {
                guard let v = fields.first(where: { $0.key == key })?.value else {
                    throw fail(.invalidHeader("missing field \"\(key)\""), name)
                }
                return v
            }
            guard case .string(let dtype) = try field("dtype") else {
                throw fail(.invalidHeader("dtype is \(try field("dtype").kind), not a string"), name)
            }
            guard let bits = Self.dtypeBits[dtype] else { throw fail(.unknownDtype(dtype), name) }
            guard case .array(let dims) = try field("shape") else {
                throw fail(.invalidHeader("shape is \(try field("shape").kind), not an array"), name)
            }
            var shape: [Int] = []
            for d in dims {
                guard let n = d.nonNegativeInteger else {
                    throw fail(.invalidHeader("shape entry \(d.kind) is not a non-negative integer"), name)
                }
                shape.append(n)
            }
            guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
                  let begin = offsets[0].nonNegativeInteger, let end = offsets[1].nonNegativeInteger else {
                throw fail(.invalidHeader("data_offsets must be two non-negative integers [begin, end]"), name)
            }
            entries.append(Entry(name: name, dtype: dtype, bits: bits, shape: shape, begin: begin, end: end))
        }

        // Layout: in range, matching shape x dtype, contiguous from 0 to the end of the file.
        let dataSize = bytes.count - headerEnd
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var previousEnd = 0
        var previousName: String?
        for entry in entries {
            guard entry.begin <= entry.end, entry.end <= dataSize else {
                throw fail(.offsetsOutOfRange(begin: entry.begin, end: entry.end, dataSize: dataSize), entry.name)
            }
            var count = 1
            for d in entry.shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail(.invalidHeader("shape \(entry.shape) overflows"), entry.name) }
                count = product
            }
            let (bitCount, overflow) = count.multipliedReportingOverflow(by: entry.bits)
            guard !overflow else { throw fail(.invalidHeader("shape \(entry.shape) overflows"), entry.name) }
            let expectedBytes = (bitCount + 7) / 8
            guard bitCount % 8 == 0, entry.end - entry.begin == expectedBytes else {
                throw fail(.sizeMismatch(shape: entry.shape, dtype: entry.dtype, expectedBytes: expectedBytes,
                                         actualBytes: entry.end - entry.begin), entry.name)
            }
            if entry.begin < previousEnd {
                throw fail(.overlapping(other: previousName ?? "", begin: entry.begin, previousEnd: previousEnd), entry.name)
            }
            if entry.begin > previousEnd {
                throw fail(.gap(begin: entry.begin, previousEnd: previousEnd), entry.name)
            }
            previousEnd = entry.end
            previousName = entry.name
        }
        if previousEnd != dataSize { throw fail(.trailingBytes(count: dataSize - previousEnd)) }

        // Values.
        var tensors: [String: SafeTensor] = [:]
        try bytes.withUnsafeBufferPointer { all in
            for entry in entries {
                let raw = UnsafeBufferPointer(rebasing: all[(headerEnd + entry.begin)..<(headerEnd + entry.end)])
                switch entry.dtype {
                case "F32":
                    tensors[entry.name] = .float32(Tensor(shape: entry.shape, scalars: Self.decode(raw) { Float(bitPattern: $0) }))
                case "F64":
                    tensors[entry.name] = .float64(Tensor(shape: entry.shape, scalars: Self.decode(raw) { Double(bitPattern: $0) }))
                case "F16":
                    tensors[entry.name] = .float32(Tensor(shape: entry.shape, scalars: Self.decode(raw, Self.halfToFloat)))
                case "BF16":
                    tensors[entry.name] = .float32(Tensor(shape: entry.shape, scalars: Self.decode(raw) { (b: UInt16) in
                        Float(bitPattern: UInt32(b) << 16)
                    }))
                default:
                    throw fail(.unsupportedDtype(entry.dtype), entry.name)
                }
            }
        }
        self.init(tensors: tensors, metadata: metadata)
    }

    /// The size in bits of one element of every dtype the format defines (safetensors 0.8).
    static let dtypeBits: [String: Int] = [
        "BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
        "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
        "F64": 64, "C64": 64, "I64": 64, "U64": 64,
    ]

    /// Little-endian words of `raw` mapped through `convert`.
    private static func decode<Word: FixedWidthInteger, Value>(
        _ raw: UnsafeBufferPointer<UInt8>, _ convert: (Word) -> Value
    ) -> [Value] {
        let size = MemoryLayout<Word>.size
        let count = raw.count / size
        let base = UnsafeRawPointer(raw.baseAddress)
        return [Value](unsafeUninitializedCapacity: count) { out, initialized in
            guard let base else { initialized = 0; return }
            for i in 0..<count {
                out[i] = convert(Word(littleEndian: base.loadUnaligned(fromByteOffset: i * size, as: Word.self)))
            }
            initialized = count
        }
    }

    /// IEEE 754 half precision to `Float` (exact).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h) & 0x3FF
        let magnitude: Float
        if exponent == 0 {
            magnitude = Float(mantissa) * 0x1p-24  // zero and subnormals
        } else if exponent == 31 {
            magnitude = Float(bitPattern: 0x7F80_0000 | mantissa << 13)  // infinity and NaN
        } else {
            magnitude = Float(bitPattern: (exponent + 112) << 23 | mantissa << 13)
        }
        return Float(bitPattern: sign | magnitude.bitPattern)
    }

    // MARK: Writing

    /// The file's bytes, laid out as the reference implementation writes them: tensors sorted by
    /// dtype (`F64` before `F32`) then by name (byte order), the metadata first in the header with
    /// its keys sorted (the reference writes them in hash order), the header padded with spaces
    /// to a multiple of 8. Throws for a tensor named `__metadata__`.
    public func serialized() throws -> Data {
        let ordered = tensors.sorted { a, b in
            if a.value.dtype != b.value.dtype { return a.value.dtype == "F64" }
            return a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        var header: [UInt8] = [UInt8(ascii: "{")]
        var first = true
        func separator() {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
        }
        if !metadata.isEmpty {
            separator()
            appendJSONString("__metadata__", to: &header)
            header.append(contentsOf: Array(":{".utf8))
            for (i, (key, value)) in metadata.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                appendJSONString(value, to: &header)
            }
            header.append(UInt8(ascii: "}"))
        }
        var offset = 0
        for (name, tensor) in ordered {
            guard name != "__metadata__" else {
                throw SafeTensorsError(file: "<memory>", tensor: name, problem: .reservedName)
            }
            let size = tensor.shape.reduce(1, *) * (tensor.dtype == "F64" ? 8 : 4)
            separator()
            appendJSONString(name, to: &header)
            header.append(contentsOf: Array(":{\"dtype\":\"\(tensor.dtype)\",\"shape\":[".utf8))
            header.append(contentsOf: Array(tensor.shape.map(String.init).joined(separator: ",").utf8))
            header.append(contentsOf: Array("],\"data_offsets\":[\(offset),\(offset + size)]}".utf8))
            offset += size
        }
        header.append(UInt8(ascii: "}"))
        header.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - header.count % 8) % 8))

        var data = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: header)
        for (_, tensor) in ordered {
            switch tensor {
            case .float32(let t): Self.appendLittleEndian(t.scalars, bits: \.bitPattern, to: &data)
            case .float64(let t): Self.appendLittleEndian(t.scalars, bits: \.bitPattern, to: &data)
            }
        }
        return data
    }

    private static func appendLittleEndian<Value, Word: FixedWidthInteger>(
        _ values: [Value], bits: KeyPath<Value, Word>, to data: inout Data
    ) {
        #if _endian(little)
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        #else
        for v in values { withUnsafeBytes(of: v[keyPath: bits].littleEndian) { data.append(contentsOf: $0) } }
        #endif
    }

    /// Writes the file to `url` atomically: the bytes go to a temporary file in the same folder,
    /// which is flushed to disk (`fsync`) and then renamed over `url`, so a crash or a failure
    /// during the save leaves any previous file intact (and no temporary file behind on failure).
    public func write(to url: URL) throws {
        try write(to: url, beforeReplacing: { _ in })
    }

    /// ``write(to:)`` with a hook called with the temporary file once it is written and flushed,
    /// just before it replaces `url`; an error thrown by the hook aborts the save (used by tests to
    /// simulate a failure at the last moment).
    package func write(to url: URL, beforeReplacing hook: (URL) throws -> Void) throws {
        let path = url.path
        let bytes = try serialized()
        let folder = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UInt64.random(in: 0...UInt64.max)).tmp")
        func ioError(_ what: String, _ code: Int32 = errno) -> SafeTensorsError {
            SafeTensorsError(file: path, problem: .io("\(what): \(String(cString: strerror(code)))"))
        }

        let fd = posixOpen(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("cannot create a temporary file in \(folder)") }
        var isOpen = true
        var renamed = false
        defer {
            if isOpen { close(fd) }
            if !renamed { unlink(temporary.path) }
        }
        try bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var written = 0
            while written < buffer.count {
                let n = posixWrite(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot write the temporary file")
                }
                written += n
            }
        }
        guard fsync(fd) == 0 else { throw ioError("cannot flush the temporary file to disk") }
        isOpen = false
        guard close(fd) == 0 else { throw ioError("cannot close the temporary file") }
        try hook(temporary)
        guard rename(temporary.path, path) == 0 else { throw ioError("cannot replace the file") }
        renamed = true
        // Make the rename itself durable.
        let directory = posixOpen(folder.isEmpty ? "." : folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
    }
}

/// `open(2)`, named apart from the methods above that shadow it.
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

/// `write(2)`, named apart from the methods above that shadow it.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}
