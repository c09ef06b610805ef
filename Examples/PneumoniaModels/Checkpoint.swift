import DeepLearning
import Foundation

/// A one-line error of the pneumonia examples (the `pneumonia` command line prints it and exits
/// with status 1; the web app answers it as JSON).
public struct PneumoniaError: Error, CustomStringConvertible, Sendable {
    /// The message.
    public let description: String
    /// An error with `description` as its message.
    public init(_ description: String) { self.description = description }
}

/// The class names of the binary task, in label order (0 = NORMAL, 1 = PNEUMONIA).
public let binaryClassNames = ["NORMAL", "PNEUMONIA"]

extension SeedModel {
    /// The model built for square `imageSize` inputs with `channels` channels (the seed's size
    /// unless overridden) and `classCount` classes (2: one sigmoid output; more: softmax outputs);
    /// throws a one-line error when the model cannot take that size.
    public func build(imageSize: Int, channels: Int, seed: UInt64, classCount: Int = 2) throws -> Sequential<Float> {
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
public struct CheckpointInfo: Equatable, Sendable {
    /// The seed model.
    public var model: SeedModel
    /// Square input size in pixels.
    public var imageSize: Int
    /// 1 (grayscale) or 3 (RGB).
    public var channels: Int
    /// Class names in label order.
    public var classNames: [String]
    /// The decision threshold on the probability of pneumonia.
    public var threshold: Double
    /// The training seed.
    public var seed: UInt64

    /// The format tag written into the metadata.
    public static let format = "swift-deep-learning/pneumonia-checkpoint-v1"

    /// The safetensors metadata.
    public var metadata: [String: String] {
        [
            "format": Self.format, "model": model.rawValue, "image_size": String(imageSize), "channels": String(channels),
            "class_names": classNames.joined(separator: ","), "threshold": String(threshold), "seed": String(seed),
            "scaling": "unit-interval",
        ]
    }

    /// Reads the metadata of a checkpoint written by `pneumonia train`.
    public init(metadata: [String: String], file: String) throws {
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
    public init(model: SeedModel, imageSize: Int, channels: Int, classNames: [String], threshold: Double, seed: UInt64) {
        self.model = model
        self.imageSize = imageSize
        self.channels = channels
        self.classNames = classNames
        self.threshold = threshold
        self.seed = seed
    }

    /// The preprocessing images go through (squash-resize, bilinear, as Keras loaders do).
    public var preprocessing: ImagePreprocessing { ImagePreprocessing(width: imageSize, height: imageSize, channels: channels) }

    /// Whether the model picks one of more than two classes by arg-max (the 3-class cause task)
    /// rather than thresholding one probability of pneumonia.
    public var isMulticlass: Bool { classNames.count > 2 }

    /// Decoded images (any size, grayscale or RGB) as one model input batch `[n, imageSize,
    /// imageSize, channels]`, preprocessed and scaled to [0, 1] exactly as in training.
    public func inputBatch(_ images: [Image]) throws -> Tensor<Float> {
        let preprocessing = self.preprocessing
        let records = images.indices.map { ImageRecord(file: "image-\($0)", label: 0) }
        let dataset = ImageDataset(records: records, classNames: classNames, preprocessing: preprocessing,
                                   pixels: images.flatMap { preprocessing.apply(to: $0).pixels })
        return try ImageBatchSource<Float>(dataset).batch(Array(images.indices)).x
    }
}

/// A trained model and its checkpoint metadata.
public struct LoadedCheckpoint {
    /// What the checkpoint records besides the weights.
    public let info: CheckpointInfo
    /// The model with the checkpoint's weights.
    public let model: Sequential<Float>

    /// Rebuilds the model named in the checkpoint's metadata and loads its weights; a missing,
    /// damaged or foreign file, or weights of another model, throw a one-line error.
    public init(url: URL, expectedModel: SeedModel? = nil) throws {
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
