import DeepLearning
import Foundation
import PneumoniaModels

/// An error of the `pneumonia` command line: one line, printed by the argument parser, exit status 1.
struct PneumoniaError: Error, CustomStringConvertible {
    /// The message.
    let description: String
    init(_ description: String) { self.description = description }
}

/// The class names of the binary task, in label order (0 = NORMAL, 1 = PNEUMONIA).
let binaryClassNames = ["NORMAL", "PNEUMONIA"]

extension SeedModel {
    /// The seed's optimizer and learning rate (docs/seed-models.md): RMSprop 1e-4 for `cnn150`
    /// (seed 001), Adam 1e-3 otherwise.
    func defaultOptimizer(learningRate: Double?) -> any Optimizer<Float> {
        switch self {
        case .cnn150: return RMSprop<Float>(learningRate: learningRate ?? 1e-4)
        default: return Adam<Float>(learningRate: learningRate ?? 1e-3)
        }
    }

    /// The seed's optimizer's name.
    var optimizerName: String { self == .cnn150 ? "RMSprop" : "Adam" }

    /// The seed's batch size: 20 for `cnn150` (seed 001), 32 (Keras's default) otherwise.
    var defaultBatchSize: Int { self == .cnn150 ? 20 : 32 }

    /// The model built for square `imageSize` inputs with `channels` channels (the seed's size
    /// unless overridden) and `classCount` classes (2: one sigmoid output; more: softmax outputs);
    /// throws a one-line error when the model cannot take that size.
    func build(imageSize: Int, channels: Int, seed: UInt64, classCount: Int = 2) throws -> Sequential<Float> {
        do {
            return try Sequential<Float>(inputShape: [imageSize, imageSize, channels], seed: seed, name: rawValue,
                                         layers: layers(classCount: classCount))
        } catch {
            throw PneumoniaError("model \(rawValue) cannot take \(imageSize)x\(imageSize)x\(channels) inputs: \(error)")
        }
    }
}

/// What a `pneumonia` checkpoint records next to the weights (safetensors metadata), enough to
/// rebuild the model and preprocess images as in training.
struct CheckpointInfo: Equatable {
    /// The seed model.
    var model: SeedModel
    /// Square input size in pixels.
    var imageSize: Int
    /// 1 (grayscale) or 3 (RGB).
    var channels: Int
    /// Class names in label order.
    var classNames: [String]
    /// The decision threshold on the probability of pneumonia.
    var threshold: Double
    /// The training seed.
    var seed: UInt64

    /// The format tag written into the metadata.
    static let format = "swift-deep-learning/pneumonia-checkpoint-v1"

    /// The safetensors metadata.
    var metadata: [String: String] {
        [
            "format": Self.format, "model": model.rawValue, "image_size": String(imageSize), "channels": String(channels),
            "class_names": classNames.joined(separator: ","), "threshold": String(threshold), "seed": String(seed),
            "scaling": "unit-interval",
        ]
    }

    /// Reads the metadata of a checkpoint written by `pneumonia train`.
    init(metadata: [String: String], file: String) throws {
        func field(_ key: String) throws -> String {
            guard let value = metadata[key] else {
                throw PneumoniaError("\(file): not a pneumonia checkpoint (no '\(key)' in its metadata)")
            }
            return value
        }
        let name = try field("model")
        guard let model = SeedModel(rawValue: name) else { throw PneumoniaError("\(file): unknown model '\(name)' in its metadata") }
        guard let size = Int(try field("image_size")), size > 0, let channels = Int(try field("channels")), [1, 3].contains(channels),
              let threshold = Double(try field("threshold")), let seed = UInt64(try field("seed"))
        else { throw PneumoniaError("\(file): invalid pneumonia checkpoint metadata \(metadata.sorted { $0.key < $1.key })") }
        self.init(model: model, imageSize: size, channels: channels,
                  classNames: try field("class_names").split(separator: ",").map(String.init), threshold: threshold, seed: seed)
    }

    /// Metadata from its parts.
    init(model: SeedModel, imageSize: Int, channels: Int, classNames: [String], threshold: Double, seed: UInt64) {
        self.model = model
        self.imageSize = imageSize
        self.channels = channels
        self.classNames = classNames
        self.threshold = threshold
        self.seed = seed
    }

    /// The preprocessing images go through (squash-resize, bilinear, as Keras loaders do).
    var preprocessing: ImagePreprocessing { ImagePreprocessing(width: imageSize, height: imageSize, channels: channels) }
}

/// A trained model and its checkpoint metadata.
struct LoadedCheckpoint {
    let info: CheckpointInfo
    let model: Sequential<Float>

    /// Rebuilds the model named in the checkpoint's metadata and loads its weights; a missing,
    /// damaged or foreign file, or weights of another model, throw a one-line error.
    init(url: URL, expectedModel: SeedModel? = nil) throws {
        guard FileManager.default.fileExists(atPath: url.path) else { throw PneumoniaError("missing checkpoint \(url.path)") }
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOf: url) } catch {
            throw PneumoniaError("cannot read checkpoint: \(error)")
        }
        let info = try CheckpointInfo(metadata: file.metadata, file: url.path)
        if let expectedModel, expectedModel != info.model {
            throw PneumoniaError("\(url.path) is a checkpoint of model \(info.model.rawValue), not \(expectedModel.rawValue)")
        }
        let model = try info.model.build(imageSize: info.imageSize, channels: info.channels, seed: info.seed,
                                         classCount: info.classNames.count)
        do { try model.loadWeights(from: file, source: url.path) } catch {
            throw PneumoniaError("\(url.path) does not hold \(info.model.rawValue) weights: \(error)")
        }
        self.info = info
        self.model = model
    }
}

/// Images with labels and display names, ready to batch.
struct LabelledImages {
    /// The images (8-bit, preprocessed).
    let dataset: ImageDataset
    /// How each file is named in predictions.csv (relative to the data folder).
    let names: [String]
}

/// Loading of the two data formats: a folder with one subfolder per class, and a MedMNIST `.npz`.
enum DataLoading {
    /// Whether `path` names a NumPy archive.
    static func isArchive(_ path: String) -> Bool { path.lowercased().hasSuffix(".npz") }

    /// The records of `folder`, capped to `limit` per class by a seeded choice (all when nil).
    static func limited(_ records: [ImageRecord], limit: Int?, seed: UInt64) -> [ImageRecord] {
        guard let limit else { return records }
        var generator = SeededGenerator(seed: seed ^ 0x4C49_4D49_54)
        var kept: [Int] = []
        for label in Set(records.map(\.label)).sorted() {
            var members = records.indices.filter { records[$0].label == label }
            generator.shuffle(&members)
            kept += members.prefix(limit)
        }
        return kept.sorted().map { records[$0] }
    }

    /// Decodes (or reads from the cache) the images of `records`.
    static func load(records: [ImageRecord], classNames: [String], preprocessing: ImagePreprocessing, cacheDirectory: URL?) throws
        -> ImageDataset
    {
        try ImageDataset.load(records: records, classNames: classNames, preprocessing: preprocessing, cacheDirectory: cacheDirectory)
    }

    /// A class folder's images, named relative to `root`.
    static func folder(root: URL, preprocessing: ImagePreprocessing, cacheDirectory: URL?, limit: Int? = nil, seed: UInt64 = 0,
                       labelling: Labelling = .folders) throws -> LabelledImages
    {
        let folder = try ImageFolder(root: root, labelling: labelling)
        let records = limited(folder.records, limit: limit, seed: seed)
        let dataset = try load(records: records, classNames: folder.classNames, preprocessing: preprocessing, cacheDirectory: cacheDirectory)
        return LabelledImages(dataset: dataset, names: dataset.records.map { relativePath($0.path, to: root) })
    }

    /// One split (`train`, `val`, `test`) of a MedMNIST archive as images (resized and converted
    /// when `preprocessing` differs from the archive's 28x28 grayscale), named `split/index`.
    static func archive(url: URL, split: String, preprocessing: ImagePreprocessing?, limit: Int? = nil, seed: UInt64 = 0) throws
        -> LabelledImages
    {
        guard FileManager.default.fileExists(atPath: url.path) else { throw PneumoniaError("missing file \(url.path)") }
        let archive = try NumPyArchive(contentsOf: url)
        let images = try archive.array("\(split)_images"), labels = try archive.array("\(split)_labels")
        guard images.dtype == .uint8, images.shape.count == 3 || (images.shape.count == 4 && images.shape[3] == 1) else {
            throw PneumoniaError("\(url.path): \(split)_images must be uint8 (N, H, W), got \(images.dtype) \(images.shape)")
        }
        let (n, h, w) = (images.shape[0], images.shape[1], images.shape[2])
        let labelValues = labels.doubles().map { Int($0) }
        guard labelValues.count == n, labelValues.allSatisfy({ $0 == 0 || $0 == 1 }) else {
            throw PneumoniaError("\(url.path): \(split)_labels must hold one 0/1 label per image")
        }
        let records = (0..<n).map { i in
            ImageRecord(file: "\(split)/\(i)", label: labelValues[i])
        }
        let chosen = limited(records, limit: limit, seed: seed)
        let native = ImagePreprocessing(width: w, height: h, channels: 1)
        let target = preprocessing ?? native
        let size = target.width * target.height * target.channels
        var pixels = [UInt8](repeating: 0, count: chosen.count * size)
        for (k, record) in chosen.enumerated() {
            let i = Int(record.path.split(separator: "/").last!)!
            let source = Array(images.bytes[(i * h * w)..<((i + 1) * h * w)])
            let out = target == native ? source : target.apply(to: Image(width: w, height: h, channels: 1, pixels: source)).pixels
            pixels.replaceSubrange((k * size)..<((k + 1) * size), with: out)
        }
        let dataset = ImageDataset(records: chosen, classNames: binaryClassNames, preprocessing: target, pixels: pixels)
        return LabelledImages(dataset: dataset, names: chosen.map(\.path))
    }

    /// The native image size of a MedMNIST archive's `train` split.
    static func archiveImageSize(url: URL) throws -> Int {
        guard FileManager.default.fileExists(atPath: url.path) else { throw PneumoniaError("missing file \(url.path)") }
        let images = try NumPyArchive(contentsOf: url).array("train_images")
        guard images.shape.count >= 3 else { throw PneumoniaError("\(url.path): train_images has shape \(images.shape)") }
        return images.shape[1]
    }

    /// `path` relative to `root` when inside it.
    static func relativePath(_ path: String, to root: URL) -> String {
        let base = root.standardizedFileURL.path
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        let prefix = base.hasSuffix("/") ? base : base + "/"
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : path
    }
}

/// The probability of pneumonia for every image of `dataset`, in inference mode, in batches.
func predictProbabilities(model: Sequential<Float>, dataset: ImageDataset, batchSize: Int = 32) throws -> [Double] {
    try predictOutputs(model: model, dataset: dataset, batchSize: batchSize, columns: 1).map { $0[0] }
}

/// The model's `columns` outputs for every image of `dataset` (class probabilities of a softmax
/// model, or the one probability of a sigmoid model), in inference mode, in batches.
func predictOutputs(model: Sequential<Float>, dataset: ImageDataset, batchSize: Int = 32, columns: Int) throws -> [[Double]] {
    let source = ImageBatchSource<Float>(dataset)
    var rows: [[Double]] = []
    rows.reserveCapacity(dataset.count)
    var start = 0
    while start < source.count {
        let indices = Array(start..<min(source.count, start + batchSize))
        let (x, _) = try source.batch(indices)
        try model.checkInput(x.shape)
        let output = model(x)
        guard output.count == indices.count * columns else {
            throw PneumoniaError("the model gives \(output.shape) outputs for \(indices.count) images; expected \(columns) per image")
        }
        let values = output.scalars.map { Double($0) }
        for i in indices.indices { rows.append(Array(values[(i * columns)..<((i + 1) * columns)])) }
        start += batchSize
    }
    return rows
}

/// Creates `url` (and its parents) as a folder, with a one-line error when that fails.
func makeDirectory(_ url: URL) throws {
    do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
        throw PneumoniaError("cannot create folder \(url.path): \(error.localizedDescription)")
    }
}

/// Writes `text` to `url` atomically, with a one-line error when that fails.
func writeText(_ text: String, to url: URL) throws {
    do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
        throw PneumoniaError("cannot write \(url.path): \(error.localizedDescription)")
    }
}
