import ArgumentParser
import DeepLearning
import Foundation
import PneumoniaModels

/// `pneumonia bench`: a model's training or inference speed on synthetic data, as one JSON line.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time a model's training steps or inference on synthetic data; prints one JSON line.")

    /// What to time.
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case train, infer
    }

    @Option(help: "The model: \(SeedModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: SeedModel

    @Option(help: "train (forward, backward and an Adam update) or infer (forward in inference mode).")
    var mode: Mode = .train

    @Option(help: "Images per batch.")
    var batchSize: Int = 32

    @Option(help: "Timed steps (after one untimed warm-up step).")
    var steps: Int = 10

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
    }

    func run() throws {
        // Before the first large allocation (the trainer would apply it too, but after building).
        AllocatorPolicy.apply()
        let network: Sequential<Float> = try model.build(seed: 1)
        let x = Tensor<Float>.uniform([batchSize] + model.inputShape, seed: 2)
        let y = Tensor<Float>(shape: [batchSize, 1], scalars: (0..<batchSize).map { Float($0 % 2) })
        let trainer = Trainer(model: network, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(), seed: 1,
                              progress: ProgressReporter(style: .silent))
        func step(_ i: Int) throws {
            switch mode {
            case .train: try trainer.trainOnBatch(x: x, y: y, seed: UInt64(i))
            case .infer: _ = network(x)
            }
        }
        try step(0)
        var times: [Double] = []
        for i in 1...steps {
            let start = DispatchTime.now().uptimeNanoseconds
            try step(i)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let total = times.reduce(0, +) / 1000
        let imagesPerSecond = Double(batchSize * steps) / total
        print(String(
            format: "{\"model\":\"%@\",\"mode\":\"%@\",\"batch\":%d,\"images_per_s\":%.2f,\"step_ms_median\":%.3f,\"peak_rss_mb\":%.1f,\"blas_core\":\"%@\"}",
            model.rawValue, mode.rawValue, batchSize, imagesPerSecond, median, peakResidentMegabytes(), BLASInfo.coreName))
    }
}

/// The process's peak resident set size in MiB (`VmHWM` in /proc/self/status), or 0 where unavailable.
func peakResidentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kilobytes = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kilobytes / 1024
    }
    return 0
}
