import Dispatch
import Foundation

/// What every image is turned into before it is stored: size, channels, resampling.
public struct ImagePreprocessing: Codable, Sendable, Hashable {
    /// Target width in pixels.
    public var width: Int
    /// Target height in pixels.
    public var height: Int
    /// 1 (grayscale; RGB files by luminance) or 3 (RGB; grayscale files by replication).
    public var channels: Int
    /// The resampling filter.
    public var method: ResizeMethod
    /// Squash to the target size, or center-crop to its aspect ratio first.
    public var aspect: AspectMode

    /// Preprocessing to `width x height` with `channels` channels (defaults: 150x150 grayscale,
    /// bilinear, squashed as Keras does).
    public init(width: Int = 150, height: Int = 150, channels: Int = 1, method: ResizeMethod = .bilinear, aspect: AspectMode = .squash) {
        precondition(width > 0 && height > 0, "ImagePreprocessing: size \(width)x\(height) must be positive")
        precondition(channels == 1 || channels == 3, "ImagePreprocessing: channels must be 1 or 3, got \(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.method = method
        self.aspect = aspect
    }

    /// Decodes nothing; converts and resizes an already decoded image.
    public func apply(to image: Image) -> Image {
        Resize.resizedImage(image.converted(toChannels: channels), width: width, height: height, method: method, aspect: aspect)
    }
}

/// A file left out of a data set because it could not be decoded.
public struct SkippedFile: Sendable, Codable, Equatable {
    /// The file.
    public let path: String
    /// Why (the decoder's message).
    public let reason: String
}

/// Decoded, preprocessed images in memory as one block of 8-bit pixels `[count, height, width,
/// channels]`, with their labels and source records: what batches are cut from.
public struct ImageDataset: Sendable {
    /// The source records of the images held, in order.
    public let records: [ImageRecord]
    /// Class names in label order.
    public let classNames: [String]
    /// The preprocessing every image went through.
    public let preprocessing: ImagePreprocessing
    /// `count * height * width * channels` samples.
    public let pixels: [UInt8]
    /// Files that were skipped as unreadable (only with `skipUnreadable`).
    public let skipped: [SkippedFile]
    /// Whether the pixels came from the on-disk cache rather than from decoding.
    public let loadedFromCache: Bool

    /// The number of images.
    public var count: Int { records.count }
    /// The label of every image.
    public var labels: [Int] { records.map(\.label) }
    /// The patient of every image.
    public var patients: [String] { records.map(\.patient) }
    /// Samples per image.
    public var imageSize: Int { preprocessing.width * preprocessing.height * preprocessing.channels }

    /// A data set over already preprocessed pixels.
    public init(records: [ImageRecord], classNames: [String], preprocessing: ImagePreprocessing, pixels: [UInt8],
                skipped: [SkippedFile] = [], loadedFromCache: Bool = false) {
        let size = preprocessing.width * preprocessing.height * preprocessing.channels
        precondition(pixels.count == records.count * size,
                     "ImageDataset: \(pixels.count) pixels for \(records.count) images of \(size) samples")
        self.records = records
        self.classNames = classNames
        self.preprocessing = preprocessing
        self.pixels = pixels
        self.skipped = skipped
        self.loadedFromCache = loadedFromCache
    }

    /// The image at `index`.
    public func image(at index: Int) -> Image {
        let size = imageSize
        return Image(width: preprocessing.width, height: preprocessing.height, channels: preprocessing.channels,
                     pixels: Array(pixels[(index * size)..<((index + 1) * size)]))
    }

    /// The images at `indices`, in that order (for train/validation splits).
    public func subset(_ indices: [Int]) -> ImageDataset {
        let size = imageSize
        var out = [UInt8](repeating: 0, count: indices.count * size)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "ImageDataset.subset: index \(i) out of 0..<\(count)")
                    (dst.baseAddress! + k * size).update(from: src.baseAddress! + i * size, count: size)
                }
            }
        }
        return ImageDataset(records: indices.map { records[$0] }, classNames: classNames, preprocessing: preprocessing,
                            pixels: out, skipped: skipped, loadedFromCache: loadedFromCache)
    }

    /// Per-channel mean and standard deviation of the pixels scaled to `[0, 1]` (for standardizing
    /// with statistics of the training split only).
    public func channelStatistics() -> (mean: [Double], std: [Double]) {
        let c = preprocessing.channels
        var sum = [Double](repeating: 0, count: c), squares = [Double](repeating: 0, count: c)
        var histogram = [[Int]](repeating: [Int](repeating: 0, count: 256), count: c)
        pixels.withUnsafeBufferPointer { p in
            for i in 0..<p.count { histogram[i % c][Int(p[i])] += 1 }
        }
        let n = Double(max(pixels.count / c, 1))
        for ch in 0..<c {
            for v in 0..<256 {
                let x = Double(v) / 255
                sum[ch] += Double(histogram[ch][v]) * x
                squares[ch] += Double(histogram[ch][v]) * x * x
            }
        }
        let mean = sum.map { $0 / n }
        let std = zip(squares, mean).map { (max($0 / n - $1 * $1, 0)).squareRoot() }
        return (mean, std)
    }

    /// Decodes and preprocesses every image of `folder` on all cores, or reads them from the cache.
    ///
    /// - Parameters:
    ///   - cacheDirectory: where the cache file goes (created if needed); `nil` for no cache. The
    ///     cache is keyed by every source file's path, size and modification time, the labels and
    ///     the preprocessing, and rewritten when any of them changes.
    ///   - skipUnreadable: skip corrupt, truncated and non-image files with a warning on standard
    ///     error (listed in ``skipped``) instead of throwing.
    ///   - threads: decoding threads (default: one per core).
    public static func load(
        _ folder: ImageFolder, preprocessing: ImagePreprocessing = ImagePreprocessing(), cacheDirectory: URL? = nil,
        skipUnreadable: Bool = false, threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> ImageDataset {
        try load(records: folder.records, classNames: folder.classNames, preprocessing: preprocessing,
                 cacheDirectory: cacheDirectory, skipUnreadable: skipUnreadable, threads: threads)
    }

    /// Decodes and preprocesses the files of `records` (see ``load(_:preprocessing:cacheDirectory:skipUnreadable:threads:)``).
    public static func load(
        records: [ImageRecord], classNames: [String], preprocessing: ImagePreprocessing = ImagePreprocessing(),
        cacheDirectory: URL? = nil, skipUnreadable: Bool = false, threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) throws -> ImageDataset {
        let cache = cacheDirectory.map { ImageCache(directory: $0, records: records, classNames: classNames, preprocessing: preprocessing, skipUnreadable: skipUnreadable) }
        if let cache, let cached = try cache.read() { return cached }

        let size = preprocessing.width * preprocessing.height * preprocessing.channels
        let n = records.count
        var pixels = [UInt8](repeating: 0, count: n * size)
        var failures = [DatasetError?](repeating: nil, count: n)
        let workers = max(1, min(threads, n))
        pixels.withUnsafeMutableBufferPointer { out in
            failures.withUnsafeMutableBufferPointer { errors in
                let out = UnsafeSendable(out), errors = UnsafeSendable(errors)
                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                    for i in stride(from: worker, to: n, by: workers) {
                        do {
                            let image = preprocessing.apply(to: try Image(contentsOf: URL(fileURLWithPath: records[i].path)))
                            image.pixels.withUnsafeBufferPointer { src in
                                (out.value.baseAddress! + i * size).update(from: src.baseAddress!, count: size)
                            }
                        } catch let error as DatasetError {
                            errors.value[i] = error
                        } catch {
                            errors.value[i] = .unreadableFile(path: records[i].path, message: "\(error)")
                        }
                    }
                }
            }
        }
        var kept: [Int] = []
        var skipped: [SkippedFile] = []
        for i in 0..<n {
            if let error = failures[i] {
                guard skipUnreadable else { throw error }
                skipped.append(SkippedFile(path: records[i].path, reason: error.description))
            } else {
                kept.append(i)
            }
        }
        if !skipped.isEmpty {
            for file in skipped { warn("warning: skipped \(file.reason)") }
            warn("warning: skipped \(skipped.count) unreadable file(s) of \(n)")
        }
        var dataset = ImageDataset(records: records, classNames: classNames, preprocessing: preprocessing, pixels: pixels)
        if !skipped.isEmpty {
            let compact = dataset.subset(kept)
            dataset = ImageDataset(records: compact.records, classNames: classNames, preprocessing: preprocessing,
                                   pixels: compact.pixels, skipped: skipped)
        }
        try cache?.write(dataset)
        return dataset
    }
}

/// A value handed to concurrent workers that write disjoint parts of it.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Writes a line to standard error.
func warn(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
