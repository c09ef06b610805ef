// Data loading: JPEG/PNG decoding, decode + resize as training preprocesses, the on-disk cache of
// decoded images, and batches of 32 from cached pixels (plain and augmented) as the trainer gets
// them. Throughput is images per second (32 images per iteration).
//
// The images are the first 16 NORMAL and 16 PNEUMONIA chest X-rays (224x224 JPEG) of
// ../../shared/data/chest_xray/train when that folder exists (run from Benchmarks/), else 32
// generated 224x224 grayscale PNGs, and the benchmark names say which.
// Run from Benchmarks/: swift package benchmark --target DataLoading
import Benchmark
import DeepLearning
import Foundation

let batch = 32

/// The benchmark's 32 image files: real chest X-rays when the shared data set is beside the
/// repository, otherwise generated PNGs written to a temporary folder.
func benchmarkImages() throws -> (records: [ImageRecord], format: String) {
    let root = URL(fileURLWithPath: "../../shared/data/chest_xray/train")
    if FileManager.default.fileExists(atPath: root.path) {
        let folder = try ImageFolder(root: root)
        var records: [ImageRecord] = []
        for label in 0..<2 {
            records += folder.records.filter { $0.label == label }.prefix(batch / 2)
        }
        if records.count == batch { return (records, "chest X-ray JPEG 224x224") }
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sdl-data-loading-bench")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var records: [ImageRecord] = []
    for i in 0..<batch {
        // A smooth gradient with a bright disc and a little texture, so the encoder has work to do.
        var pixels = [UInt8](repeating: 0, count: 224 * 224)
        for y in 0..<224 {
            for x in 0..<224 {
                let dx = Double(x - 112 - i), dy = Double(y - 100)
                let disc = dx * dx + dy * dy < 60 * 60 ? 80.0 : 0
                pixels[y * 224 + x] = UInt8(min(255, Double(x + y) / 3 + disc + Double((x * 7 + y * 13 + i) % 17)))
            }
        }
        let url = directory.appendingPathComponent("image\(i).png")
        try Image(width: 224, height: 224, channels: 1, pixels: pixels).pngData().write(to: url)
        records.append(ImageRecord(file: url.path, label: i % 2))
    }
    return (records, "generated PNG 224x224")
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 100
    )
    let images: (records: [ImageRecord], format: String)
    let encoded: [Data]
    do {
        images = try benchmarkImages()
        encoded = try images.records.map { try Data(contentsOf: URL(fileURLWithPath: $0.path)) }
    } catch {
        fatalError("DataLoading: cannot prepare the benchmark images: \(error)")
    }
    let classNames = ["NORMAL", "PNEUMONIA"]
    let preprocessing = ImagePreprocessing(width: 150, height: 150, channels: 1)
    let suffix = "\(images.format), batch \(batch) (images per iteration: \(batch))"

    Benchmark("decode, \(suffix)") { benchmark in
        for _ in benchmark.scaledIterations {
            for data in encoded { blackHole(try Image(encoded: data)) }
        }
    }
    Benchmark("decode + resize to 150x150 gray (bilinear), \(suffix)") { benchmark in
        for _ in benchmark.scaledIterations {
            for data in encoded { blackHole(preprocessing.apply(to: try Image(encoded: data))) }
        }
    }
    Benchmark("ImageDataset.load from files, no cache (parallel decode + resize), \(suffix)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ImageDataset.load(records: images.records, classNames: classNames, preprocessing: preprocessing))
        }
    }

    let cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("sdl-data-loading-cache-\(getpid())")
    Benchmark("ImageDataset.load from the on-disk cache, \(suffix)") { benchmark in
        // Fills the cache before the measured iterations.
        blackHole(try ImageDataset.load(records: images.records, classNames: classNames, preprocessing: preprocessing,
                                        cacheDirectory: cacheDirectory))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let dataset = try ImageDataset.load(records: images.records, classNames: classNames, preprocessing: preprocessing,
                                                cacheDirectory: cacheDirectory)
            precondition(dataset.loadedFromCache, "DataLoading: the cache was not used")
            blackHole(dataset)
        }
        benchmark.stopMeasurement()
        try? FileManager.default.removeItem(at: cacheDirectory)
    }

    let dataset: ImageDataset
    do {
        dataset = try ImageDataset.load(records: images.records, classNames: classNames, preprocessing: preprocessing)
    } catch {
        fatalError("DataLoading: cannot decode the benchmark images: \(error)")
    }
    let indices = Array(0..<batch)
    let plain = ImageBatchSource<Float>(dataset)
    Benchmark("batch from decoded pixels to Tensor<Float> [32,150,150,1], \(suffix)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try plain.batch(indices))
        }
    }
    let augmentation = Augmentation(rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: 0.2,
                                    horizontalFlip: true)
    let augmented = ImageBatchSource<Float>(dataset, augmentation: augmentation, seed: 1)
    Benchmark("augmented batch (rotation, shifts, zoom, flip) [32,150,150,1], \(suffix)") { benchmark in
        var epoch = 0
        for _ in benchmark.scaledIterations {
            blackHole(augmented.batch(indices, epoch: epoch))
            epoch += 1
        }
    }
}
