import DeepLearning
import Foundation
import PneumoniaModels
import Testing

@testable import PneumoniaWeb

/// Files shared by the tests: a tiny `pneumonia` checkpoint and a few images, made once.
enum Fixtures {
    /// This package's folder.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A folder for this test run's files.
    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pneumonia-web-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// The metadata of the tiny checkpoint: the seed `cnn` at 32x32 grayscale, threshold 0.5.
    static let info = CheckpointInfo(model: .cnn, imageSize: 32, channels: 1, classNames: binaryClassNames, threshold: 0.5, seed: 7)

    /// A checkpoint in `pneumonia train`'s format (safetensors with its metadata) of the seed `cnn`
    /// model at 32x32 with random but fixed weights (seed 7).
    static let checkpoint: URL = {
        let url = folder.appendingPathComponent("checkpoint.safetensors")
        do {
            let model = try info.model.build(imageSize: info.imageSize, channels: info.channels, seed: info.seed)
            try model.saveWeights(to: url, metadata: info.metadata)
        } catch { fatalError("cannot write the test checkpoint: \(error)") }
        return url
    }()

    /// A grayscale PNG of `width x height` with a bright disc at (`cx`, `cy`) (fractions of the size).
    static func png(width: Int = 48, height: Int = 40, cx: Double = 0.3, cy: Double = 0.6, seed: Int = 0) -> Data {
        var pixels = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width {
                let dx = Double(x) - cx * Double(width), dy = Double(y) - cy * Double(height)
                let noise = Double((x * 31 + y * 17 + seed * 13) % 23)
                pixels[y * width + x] = UInt8(min(255, 40 + noise + 180 * exp(-(dx * dx + dy * dy) / 40)))
            }
        }
        return Image(width: width, height: height, channels: 1, pixels: pixels).pngData()
    }

    /// A JPEG from the library's decoding fixtures (RGB, 4:2:0).
    static var jpeg: Data {
        get throws {
            try Data(contentsOf: packageRoot.appendingPathComponent("../../Tests/DatasetsTests/Fixtures/images/rgb420.jpeg").standardizedFileURL)
        }
    }

    /// The service over the tiny checkpoint.
    static func service(replicas: Int = 2) throws -> PneumoniaService {
        try PneumoniaService(checkpoint: checkpoint, replicas: replicas)
    }

    /// The probability the checkpoint's model gives `bytes` through the library alone (no web app).
    static func referenceProbability(_ bytes: Data) throws -> Double {
        let loaded = try LoadedCheckpoint(url: checkpoint)
        let x = try loaded.info.inputBatch([try Image(encoded: bytes)])
        return Double(try loaded.model.predict(x).scalars[0])
    }
}
