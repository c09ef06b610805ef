// Each seed model's training step (forward, loss, backward, optimizer update) and inference at
// batch 32 on synthetic data. Throughput is reported as images per second.
// Run from Benchmarks/: swift package benchmark --target Models
import Benchmark
import DeepLearning
import PneumoniaModels

let batch = 32

nonisolated(unsafe) let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(10),
        maxIterations: 20
    )

    for seedModel in SeedModel.allCases {
        let shape = [batch] + seedModel.inputShape
        let x = Tensor<Float>.uniform(shape, seed: 1)
        let y = Tensor<Float>(shape: [batch, 1], scalars: (0..<batch).map { Float($0 % 2) })

        Benchmark("\(seedModel.rawValue) train step, batch \(batch) (images per iteration: \(batch))") { benchmark in
            let model: Sequential<Float> = try seedModel.build(seed: 1)
            let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(),
                                  seed: 1, progress: ProgressReporter(style: .silent))
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try trainer.trainOnBatch(x: x, y: y))
            }
        }

        Benchmark("\(seedModel.rawValue) inference, batch \(batch) (images per iteration: \(batch))") { benchmark in
            let model: Sequential<Float> = try seedModel.build(seed: 1)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(model(x))
            }
        }
    }
}
