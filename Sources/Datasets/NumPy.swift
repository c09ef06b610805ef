import CZlib
import Foundation
import Tensor

/// An array read from a NumPy `.npy` file (or an `.npz` member): its element type, shape and raw
/// little-endian C-order bytes.
public struct NumPyArray: Sendable {
    /// The element types that can be read.
    public enum DType: String, Sendable {
        case bool = "b1", uint8 = "u1", int8 = "i1", uint16 = "u2", int16 = "i2", uint32 = "u4", int32 = "i4"
        case uint64 = "u8", int64 = "i8", float32 = "f4", float64 = "f8"

        /// Bytes per element.
        public var size: Int { Int(rawValue.dropFirst())! }
    }

    /// The element type.
    public let dtype: DType
    /// The shape (empty for a scalar).
    public let shape: [Int]
    /// `shape.product * dtype.size` bytes, little-endian, C order.
    public let bytes: [UInt8]

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }

    /// Parses the bytes of a `.npy` file (format versions 1.0, 2.0 and 3.0); `path` names it in errors.
    public init(npy data: [UInt8], path: String = "<memory>") throws {
        func fail(_ message: String) -> DatasetError { .invalidArray(path: path, message: message) }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard data.count >= 10, data[0..<6].elementsEqual(magic) else { throw fail("missing the \\x93NUMPY magic") }
        let major = data[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(data[8]) | Int(data[9]) << 8
            headerStart = 10
        case 2, 3:
            guard data.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(data[8]) | Int(data[9]) << 8 | Int(data[10]) << 16 | Int(data[11]) << 24
            headerStart = 12
        default:
            throw fail("unknown format version \(major)")
        }
        guard data.count >= headerStart + headerLength else { throw fail("truncated header") }
        let header = String(decoding: data[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        guard let descr = Self.value(of: "descr", in: header), let fortran = Self.value(of: "fortran_order", in: header),
              let shapeText = Self.value(of: "shape", in: header) else {
            throw fail("header \(header.trimmingCharacters(in: .whitespacesAndNewlines)) lacks descr, fortran_order or shape")
        }
        let typeCode = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        guard typeCode.count == 3, let dtype = DType(rawValue: String(typeCode.dropFirst())) else {
            throw DatasetError.unsupported(path: path, message: "NumPy dtype \(typeCode)")
        }
        if dtype.size > 1 && typeCode.first == ">" { throw DatasetError.unsupported(path: path, message: "big-endian dtype \(typeCode)") }
        guard fortran.hasPrefix("False") else { throw DatasetError.unsupported(path: path, message: "Fortran-order arrays") }
        let dims = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw fail("bad shape \(shapeText)") }
            shape.append(v)
        }
        let start = headerStart + headerLength
        let expected = shape.reduce(1, *) * dtype.size
        guard data.count - start >= expected else {
            throw fail("truncated data: \(data.count - start) bytes for shape \(shape) of \(typeCode) (\(expected) bytes)")
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = Array(data[start..<(start + expected)])
    }

    /// Reads a `.npy` file.
    public init(contentsOf url: URL) throws {
        try self.init(npy: try readFile(url), path: url.path)
    }

    /// The text after `'key':` in a NumPy header dictionary, up to the closing of its value.
    private static func value(of key: String, in header: String) -> String? {
        guard let range = header.range(of: "'\(key)':") else { return nil }
        var rest = header[range.upperBound...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else { return nil }
            return String(rest[...close])
        }
        if let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) { rest = rest[..<end] }
        return String(rest)
    }

    /// The elements converted to `Double` (exact for every type but 64-bit integers beyond 2^53).
    public func doubles() -> [Double] {
        bytes.withUnsafeBytes { raw in
            switch dtype {
            case .bool, .uint8: return raw.map { Double($0) }
            case .int8: return raw.map { Double(Int8(bitPattern: $0)) }
            case .uint16: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self).littleEndian) }
            case .int16: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self).littleEndian) }
            case .uint32: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian) }
            case .int32: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self).littleEndian) }
            case .uint64: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian) }
            case .int64: return (0..<count).map { Double(raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self).littleEndian) }
            case .float32:
                return (0..<count).map { Double(Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self).littleEndian)) }
            case .float64:
                return (0..<count).map { Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self).littleEndian) }
            }
        }
    }

    /// The array as a tensor of the same shape, optionally multiplied by `scale` (e.g. `1 / 255`).
    public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self, scale: Double = 1) -> Tensor<Scalar> {
        if dtype == .uint8 {
            let s = Scalar(scale)
            return Tensor(shape: shape, scalars: bytes.map { Scalar($0) * s })
        }
        return Tensor(shape: shape, scalars: doubles().map { Scalar($0 * scale) })
    }
}

/// A NumPy `.npz` archive (a ZIP file of `.npy` members, stored or deflate-compressed, as written
/// by `numpy.savez` and `numpy.savez_compressed`), with every member's CRC-32 checked.
public struct NumPyArchive: Sendable {
    /// The arrays by name (the member name without `.npy`).
    public let arrays: [String: NumPyArray]

    /// The array names, sorted.
    public var names: [String] { arrays.keys.sorted() }

    /// The array called `name`; throws naming the archive and the names it has when it is absent.
    public func array(_ name: String) throws -> NumPyArray {
        guard let a = arrays[name] else {
            throw DatasetError.invalidArgument("\(path): no array named \(name) (has \(names.joined(separator: ", ")))")
        }
        return a
    }

    /// The path the archive was read from.
    public let path: String

    /// Reads an `.npz` file.
    public init(contentsOf url: URL) throws {
        try self.init(zip: try readFile(url), path: url.path)
    }

    /// Parses the bytes of an `.npz` file; `path` names it in errors.
    public init(zip data: [UInt8], path: String = "<memory>") throws {
        self.path = path
        func fail(_ message: String) -> DatasetError { .invalidArray(path: path, message: message) }
        func u16(_ o: Int) -> Int { Int(data[o]) | Int(data[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        func u64(_ o: Int) -> Int { u32(o) | u32(o + 4) << 32 }
        // End of central directory record: the last "PK\5\6" within the final 64 KiB + 22 bytes.
        guard data.count >= 22 else { throw fail("too short for a ZIP archive (\(data.count) bytes)") }
        var eocd = -1
        var o = data.count - 22
        while o >= max(0, data.count - 22 - 65_535) {
            if data[o] == 0x50 && data[o + 1] == 0x4B && data[o + 2] == 5 && data[o + 3] == 6 { eocd = o; break }
            o -= 1
        }
        guard eocd >= 0 else { throw fail("no ZIP end-of-central-directory record (not an .npz file, or truncated)") }
        var entries = u16(eocd + 10)
        var directory = u32(eocd + 16)
        if directory == 0xFFFF_FFFF || entries == 0xFFFF {
            // ZIP64: the locator just before the end record points at the ZIP64 end record.
            let locator = eocd - 20
            guard locator >= 0, u32(locator) == 0x0706_4B50 else { throw fail("missing ZIP64 locator") }
            let record = u64(locator + 8)
            guard record + 56 <= data.count, u32(record) == 0x0606_4B50 else { throw fail("bad ZIP64 end record") }
            entries = u64(record + 32)
            directory = u64(record + 48)
        }
        var arrays: [String: NumPyArray] = [:]
        var p = directory
        for _ in 0..<entries {
            guard p + 46 <= data.count, u32(p) == 0x0201_4B50 else { throw fail("bad central directory entry at \(p)") }
            let method = u16(p + 10)
            let crc = UInt32(u32(p + 16))
            var compressed = u32(p + 20), size = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            var local = u32(p + 42)
            guard p + 46 + nameLength + extraLength <= data.count else { throw fail("truncated central directory") }
            let name = String(decoding: data[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extended information: the 64-bit values of the fields that are 0xFFFFFFFF, in order.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), length = u16(e + 2)
                if id == 1 {
                    var f = e + 4
                    if size == 0xFFFF_FFFF { size = u64(f); f += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = u64(f); f += 8 }
                    if local == 0xFFFF_FFFF { local = u64(f) }
                }
                e += 4 + length
            }
            p = extraEnd + commentLength
            guard local + 30 <= data.count, u32(local) == 0x0403_4B50 else { throw fail("bad local header of \(name)") }
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            guard start + compressed <= data.count else { throw fail("member \(name) is truncated") }
            let payload = Array(data[start..<(start + compressed)])
            let content: [UInt8]
            switch method {
            case 0: content = payload
            case 8: content = try inflate(payload, expected: size, member: name, path: path)
            default: throw DatasetError.unsupported(path: path, message: "ZIP compression method \(method) of \(name)")
            }
            guard content.count == size else { throw fail("member \(name): \(content.count) bytes, expected \(size)") }
            let actual = content.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            guard actual == crc else { throw fail("member \(name): CRC-32 mismatch (corrupt archive)") }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            arrays[key] = try NumPyArray(npy: content, path: "\(path)/\(name)")
        }
        self.arrays = arrays
    }
}

/// Raw-deflate decompression of a ZIP member through zlib.
private func inflate(_ input: [UInt8], expected: Int, member: String, path: String) throws -> [UInt8] {
    var output = [UInt8](repeating: 0, count: expected)
    var stream = z_stream()
    guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw DatasetError.invalidArray(path: path, message: "zlib initialization failed for \(member)")
    }
    defer { inflateEnd(&stream) }
    var input = input
    let status: Int32 = input.withUnsafeMutableBufferPointer { src in
        output.withUnsafeMutableBufferPointer { dst in
            stream.next_in = src.baseAddress
            stream.avail_in = uInt(src.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = uInt(dst.count)
            return CZlib.inflate(&stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END, Int(stream.total_out) == expected else {
        let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
        throw DatasetError.invalidArray(path: path, message: "member \(member) does not inflate to \(expected) bytes: \(reason)")
    }
    return output
}

/// The bytes of a file, or an error naming it.
func readFile(_ url: URL) throws -> [UInt8] {
    do {
        return [UInt8](try Data(contentsOf: url))
    } catch {
        throw DatasetError.unreadableFile(path: url.path, message: error.localizedDescription)
    }
}

/// MedMNIST archives such as PneumoniaMNIST: `<split>_images` `(N, 28, 28)` uint8 and
/// `<split>_labels` `(N, 1)` for the splits `train`, `val`, `test`.
public enum MedMNIST {
    /// The images of `split` as `[N, H, W, 1]` in `[0, 1]` and the labels as `[N, 1]`.
    public static func load<Scalar: TensorScalar>(_ archive: NumPyArchive, split: String, as type: Scalar.Type = Scalar.self) throws -> TensorDataset<Scalar> {
        let images = try archive.array("\(split)_images"), labels = try archive.array("\(split)_labels")
        guard images.shape.count == 3 || (images.shape.count == 4 && [1, 3].contains(images.shape[3])) else {
            throw DatasetError.invalidArray(path: archive.path, message: "\(split)_images has shape \(images.shape), expected (N, H, W) or (N, H, W, C)")
        }
        let shape = images.shape.count == 3 ? images.shape + [1] : images.shape
        let x = Tensor<Scalar>(shape: shape, scalars: images.tensor(as: Scalar.self, scale: 1.0 / 255).scalars)
        let y = labels.tensor(as: Scalar.self)
        return try TensorDataset(x: x, y: y.reshaped(to: [labels.shape.first ?? 0, labels.count / max(labels.shape.first ?? 1, 1)]))
    }
}
