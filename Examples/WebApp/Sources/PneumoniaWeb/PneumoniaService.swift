import DeepLearning
import Foundation
import PneumoniaModels

/// The answer to one image: what `POST /api/predict` returns as JSON.
public struct Prediction: Codable, Sendable, Equatable {
    /// The probability of pneumonia (the model's sigmoid output).
    public var probability: Double
    /// The predicted class name at ``threshold`` (`PNEUMONIA` when `probability >= threshold`).
    public var label: String
    /// The checkpoint's decision threshold.
    public var threshold: Double
    /// The model's name (`cnn`, `vgg3`, ...).
    public var model: String
    /// The Grad-CAM heatmap, coloured, at the model's input size: `data:image/png;base64,...`
    /// (`nil` for a model without convolutions, such as `dense`).
    public var heatmap: String?
    /// The layer whose activations the heatmap explains (`nil` with no heatmap).
    public var heatmapLayer: String?
}

/// What `GET /api/health` returns as JSON.
public struct HealthStatus: Codable, Sendable, Equatable {
    /// Always `ok` when the server answers.
    public var status: String
    /// The model's name.
    public var model: String
    /// The square input size in pixels.
    public var imageSize: Int
    /// 1 (grayscale) or 3 (RGB).
    public var channels: Int
    /// Class names in label order.
    public var classNames: [String]
    /// The decision threshold.
    public var threshold: Double
}

/// A rejected upload: not an image, or an image that cannot be decoded.
public struct InvalidImageError: Error, CustomStringConvertible, Sendable {
    /// A one-line reason.
    public let description: String
}

/// Classifies uploaded images with a `pneumonia` checkpoint and explains them with Grad-CAM.
public struct PneumoniaService: Sendable {
    /// The checkpoint's metadata.
    public let info: CheckpointInfo
    /// The model replicas requests borrow.
    public let pool: ModelPool
    /// Images declaring more pixels than this are refused before decoding.
    public let maxPixels: Int

    /// Loads the checkpoint at `url` (throwing a one-line ``PneumoniaError`` when it is missing or
    /// not a `pneumonia` checkpoint); up to `replicas` copies of the model serve concurrent requests.
    /// Images declaring more than `maxPixels` pixels (default 50 million) are refused.
    public init(checkpoint url: URL, replicas: Int = ProcessInfo.processInfo.activeProcessorCount, maxPixels: Int = 50_000_000) throws {
        let first = try LoadedCheckpoint(url: url)
        guard first.info.classNames.count == 2 else {
            throw PneumoniaError("\(url.path): the web app serves two-class (NORMAL / PNEUMONIA) checkpoints; this one has classes \(first.info.classNames)")
        }
        info = first.info
        self.maxPixels = maxPixels
        pool = ModelPool(capacity: max(1, replicas), first: ModelReplica(first)) { ModelReplica(try LoadedCheckpoint(url: url)) }
    }

    /// The health answer.
    public var health: HealthStatus {
        HealthStatus(status: "ok", model: info.model.rawValue, imageSize: info.imageSize, channels: info.channels,
                     classNames: info.classNames, threshold: info.threshold)
    }

    /// Decodes `bytes` (JPEG or PNG), preprocesses the image as in training, and returns the
    /// probability, the class at the checkpoint's threshold and the Grad-CAM heatmap. Throws
    /// ``InvalidImageError`` for bytes that are not a decodable JPEG or PNG, or that declare more
    /// than ``maxPixels`` pixels.
    public func predict(imageBytes bytes: Data) async throws -> Prediction {
        if let size = ImageHeader.dimensions([UInt8](bytes)), size.width * size.height > maxPixels {
            throw InvalidImageError(description: "image of \(size.width)x\(size.height) pixels, over the limit of \(maxPixels) pixels")
        }
        let image: Image
        do { image = try Image(encoded: bytes, path: "upload") } catch let error as DatasetError {
            throw InvalidImageError(description: error.description)
        }
        let info = self.info
        let input = try info.inputBatch([image])
        let result = try await pool.withReplica { replica -> GradCAM.Result? in
            let model = replica.checkpoint.model
            guard GradCAM.targetLayerIndex(in: model) != nil else { return nil }
            return try GradCAM.compute(model: model, input: input)
        }
        let probability: Double
        if let result {
            probability = result.probability
        } else {
            // No convolution to explain: the probability alone (a read-only forward pass).
            probability = try await pool.withReplica { replica in Double(try replica.checkpoint.model.predict(input).scalars[0]) }
        }
        let positive = probability >= info.threshold ? 1 : 0
        let label = info.classNames.indices.contains(positive) ? info.classNames[positive] : String(positive)
        return Prediction(
            probability: probability, label: label, threshold: info.threshold, model: info.model.rawValue,
            heatmap: result.map { Heatmap.pngDataURL($0.map, width: $0.width, height: $0.height, size: info.imageSize) },
            heatmapLayer: result?.layerName)
    }
}
