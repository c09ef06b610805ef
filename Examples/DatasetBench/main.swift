// dataset-bench: times a cold load (decode + resize) and a cached load of the chest X-ray images,
// and one epoch of augmented batches through the prefetching loader.
//
//   swift run -c release dataset-bench [data root] [size]
//   (defaults: ../shared/data/chest_xray, 150)
import Datasets
import Foundation
import Tensor

let arguments = CommandLine.arguments
let root = URL(fileURLWithPath: arguments.count > 1 ? arguments[1] : "../shared/data/chest_xray")
let side = arguments.count > 2 ? Int(arguments[2]) ?? 150 : 150

func seconds(_ start: DispatchTime) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }

do {
    let splits = try SplitFolders(root: root, names: ["train", "val"])
    let records = splits.splits.keys.sorted().flatMap { splits.splits[$0]!.records }
    let classNames = splits.splits["train"]?.classNames ?? ["NORMAL", "PNEUMONIA"]
    let preprocessing = ImagePreprocessing(width: side, height: side, channels: 1)
    let cache = FileManager.default.temporaryDirectory.appendingPathComponent("dataset-bench-\(getpid())")
    defer { try? FileManager.default.removeItem(at: cache) }
    print("\(records.count) images under \(root.path), target \(side)x\(side) grayscale, \(ProcessInfo.processInfo.activeProcessorCount) cores")

    var start = DispatchTime.now()
    let decodedOnly = try ImageDataset.load(records: records, classNames: classNames, preprocessing: preprocessing)
    print(String(format: "cold load (decode + resize, no cache):        %.2f s", seconds(start)))

    start = DispatchTime.now()
    let cold = try ImageDataset.load(records: records, classNames: classNames, preprocessing: preprocessing, cacheDirectory: cache)
    print(String(format: "cold load + writing the cache:                %.2f s", seconds(start)))

    start = DispatchTime.now()
    let cached = try ImageDataset.load(records: records, classNames: classNames, preprocessing: preprocessing, cacheDirectory: cache)
    print(String(format: "cached load:                                  %.2f s (from cache: %@)", seconds(start), "\(cached.loadedFromCache)"))
    precondition(cached.pixels == cold.pixels && cold.pixels == decodedOnly.pixels, "cache contents differ from the decoded images")
    let bytes = try FileManager.default.contentsOfDirectory(at: cache, includingPropertiesForKeys: [.fileSizeKey])
        .compactMap { try $0.resourceValues(forKeys: [.fileSizeKey]).fileSize }.reduce(0, +)
    print("cache file: \(bytes) bytes")

    let augmentation = Augmentation(rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: 0.2, horizontalFlip: true)
    let source = ImageBatchSource<Float>(cached, augmentation: augmentation, seed: 1)
    let loader = PrefetchingLoader(source, batchSize: 32, shuffleSeed: 1)
    start = DispatchTime.now()
    var served = 0
    for b in 0..<((loader.count + 31) / 32) {
        let batch = try loader.batch(Array((b * 32)..<min(loader.count, (b + 1) * 32)))
        served += batch.x.shape[0]
    }
    print(String(format: "one augmented epoch of batches (32):          %.2f s for %d images", seconds(start), served))
} catch {
    print("dataset-bench: \(error)")
    exit(1)
}
