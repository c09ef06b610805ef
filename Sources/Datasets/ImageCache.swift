import Foundation

/// The on-disk cache of a decoded, preprocessed ``ImageDataset``: one file
/// `images-<key>.sdlcache` holding a magic line, a JSON header (format version, preprocessing,
/// every source file's path, size, modification time and label, the skipped files) and then the
/// 8-bit pixels. The key is a 64-bit FNV-1a hash of the header's identity part; on reading, the
/// stored identity is compared in full, so a stale or colliding file is never used. Written
/// atomically (temporary file, then rename).
struct ImageCache {
    static let magic = Array("SDLIMGCACHE1\n".utf8)

    /// What decides whether a cache file is valid.
    struct Identity: Codable, Equatable {
        var version = 1
        var preprocessing: ImagePreprocessing
        var classNames: [String]
        var skipUnreadable: Bool
        var files: [ImageRecord]
    }

    struct Header: Codable {
        var identity: Identity
        var kept: [Int]
        var skipped: [SkippedFile]
    }

    let directory: URL
    let identity: Identity

    init(directory: URL, records: [ImageRecord], classNames: [String], preprocessing: ImagePreprocessing, skipUnreadable: Bool) {
        self.directory = directory
        self.identity = Identity(preprocessing: preprocessing, classNames: classNames, skipUnreadable: skipUnreadable, files: records)
    }

    /// The cache file of this identity.
    var url: URL {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let bytes = (try? encoder.encode(identity)) ?? Data()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        return directory.appendingPathComponent("images-" + String(hash, radix: 16) + ".sdlcache")
    }

    /// The cached data set, or nil when there is no valid cache file.
    func read() throws -> ImageDataset? {
        let url = self.url
        guard FileManager.default.fileExists(atPath: url.path),
              let data = try? Data(contentsOf: url, options: .alwaysMapped) else { return nil }
        return data.withUnsafeBytes { raw -> ImageDataset? in
            let m = Self.magic.count
            guard raw.count >= m + 8, raw.prefix(m).elementsEqual(Self.magic) else { return nil }
            let headerLength = Int(raw.loadUnaligned(fromByteOffset: m, as: UInt64.self).littleEndian)
            guard headerLength > 0, raw.count >= m + 8 + headerLength else { return nil }
            let headerBytes = Data(raw[(m + 8)..<(m + 8 + headerLength)])
            guard let header = try? JSONDecoder().decode(Header.self, from: headerBytes), header.identity == identity else { return nil }
            let p = identity.preprocessing
            let size = p.width * p.height * p.channels * header.kept.count
            let start = m + 8 + headerLength
            guard raw.count == start + size, header.kept.allSatisfy({ $0 >= 0 && $0 < identity.files.count }) else { return nil }
            let pixels = [UInt8](raw[start..<(start + size)])
            return ImageDataset(records: header.kept.map { identity.files[$0] }, classNames: identity.classNames, preprocessing: p,
                                pixels: pixels, skipped: header.skipped, loadedFromCache: true)
        }
    }

    /// Writes `dataset` (decoded from this identity's files) atomically.
    func write(_ dataset: ImageDataset) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let skippedPaths = Set(dataset.skipped.map(\.path))
            let kept = identity.files.indices.filter { !skippedPaths.contains(identity.files[$0].path) }
            let header = try JSONEncoder().encode(Header(identity: identity, kept: kept, skipped: dataset.skipped))
            var data = Data(capacity: Self.magic.count + 8 + header.count + dataset.pixels.count)
            data.append(contentsOf: Self.magic)
            withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
            data.append(header)
            data.append(contentsOf: dataset.pixels)
            try data.write(to: url, options: .atomic)
        } catch {
            throw DatasetError.unreadableFile(path: url.path, message: "cannot write the image cache: \(error.localizedDescription)")
        }
    }
}
