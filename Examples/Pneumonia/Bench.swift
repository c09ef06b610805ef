import ArgumentParser
import DeepLearning
import Foundation
import PneumoniaModels

/// `pneumonia bench`: a model's training or inference speed on synthetic data, as one JSON line
/// (images/s, median step, peak RSS, page faults per timed step and in the last one, the OpenBLAS
/// kernel family).
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

    @Option(help: "Timed steps (after the untimed warm-up).")
    var steps: Int = 10

    @Option(help: "Untimed warm-up steps first (Benchmarks/Compare gives its peers the same).")
    var warmup: Int = 2

    @Option(help: "Keep warming up until this many seconds have passed (a shared virtual machine's idle cores take a few milliseconds to come up to speed; steps of a millisecond would be timed before).")
    var warmupSeconds: Double = 0.2

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        guard steps > 0 else { throw ValidationError("--steps must be positive, got \(steps)") }
        guard warmup >= 1 else { throw ValidationError("--warmup must be at least 1, got \(warmup)") }
        guard warmupSeconds >= 0, warmupSeconds.isFinite else {
            throw ValidationError("--warmup-seconds must be a non-negative number, got \(warmupSeconds)")
        }
    }

    func run() throws {
        print(try measure().jsonLine)
    }

    /// One measurement: what `run` prints.
    struct Result: Codable, Equatable {
        /// The model's name.
        var model: String
        /// `train` or `infer`.
        var mode: String
        /// Images per step.
        var batch: Int
        /// Images per second over the timed steps.
        var imagesPerSecond: Double
        /// The median step time in milliseconds.
        var stepMillisecondsMedian: Double
        /// The process's peak resident set size in MiB.
        var peakResidentMegabytes: Double
        /// Page faults per timed step, on average (the first steps still grow the heap).
        var pageFaultsPerStep: Double
        /// Page faults in the last timed step: 0 once every step reuses the previous step's memory.
        var pageFaultsLastStep: Int
        /// The OpenBLAS kernel family in use.
        var blasCore: String

        enum CodingKeys: String, CodingKey {
            case model, mode, batch
            case imagesPerSecond = "images_per_s"
            case stepMillisecondsMedian = "step_ms_median"
            case peakResidentMegabytes = "peak_rss_mb"
            case pageFaultsPerStep = "page_faults_per_step"
            case pageFaultsLastStep = "page_faults_last_step"
            case blasCore = "blas_core"
        }

        /// The result as one line of JSON, keys in the order above.
        var jsonLine: String {
            String(
                format: "{\"model\":\"%@\",\"mode\":\"%@\",\"batch\":%d,\"images_per_s\":%.2f,\"step_ms_median\":%.3f,\"peak_rss_mb\":%.1f,\"page_faults_per_step\":%.1f,\"page_faults_last_step\":%d,\"blas_core\":\"%@\"}",
                model, mode, batch, imagesPerSecond, stepMillisecondsMedian, peakResidentMegabytes, pageFaultsPerStep,
                pageFaultsLastStep, blasCore)
        }
    }

    /// Builds the model, runs `warmup` untimed steps (more until `warmupSeconds` have passed) and
    /// `steps` timed ones.
    func measure() throws -> Result {
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
        let warmupStart = DispatchTime.now().uptimeNanoseconds
        var warmed = 0
        while warmed < warmup || Double(DispatchTime.now().uptimeNanoseconds - warmupStart) / 1e9 < warmupSeconds {
            try step(warmed == 0 ? 0 : steps + warmed)  // seeds apart from the timed steps' 1...steps
            warmed += 1
        }
        var times: [Double] = []
        let faultsBefore = pageFaults()
        var faultsBeforeLast = faultsBefore
        for i in 1...steps {
            faultsBeforeLast = pageFaults()
            let start = DispatchTime.now().uptimeNanoseconds
            try step(i)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let faultsAfter = pageFaults()
        let faultsPerStep = Double(faultsAfter - faultsBefore) / Double(steps)
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let total = times.reduce(0, +) / 1000
        return Result(
            model: model.rawValue, mode: mode.rawValue, batch: batchSize, imagesPerSecond: Double(batchSize * steps) / total,
            stepMillisecondsMedian: median, peakResidentMegabytes: peakResidentMegabytes(), pageFaultsPerStep: faultsPerStep,
            pageFaultsLastStep: faultsAfter - faultsBeforeLast, blasCore: BLASInfo.coreName)
    }
}

/// Page faults (minor and major) of the process so far (`getrusage`): a step that reuses the
/// previous step's buffers faults no new pages in.
func pageFaults() -> Int {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return 0 }
    return usage.ru_minflt + usage.ru_majflt
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
