// Each seed model's training step (forward, loss, backward, optimizer update) and inference at
// batch 32 on synthetic data, after one untimed step (which makes the planned step's buffers), so
// the malloc count is that of the steps after the first. Throughput is reported as images per second.
// Run from Benchmarks/: swift package benchmark --target Models
import Benchmark
import DeepLearning
import PneumoniaModels

let batch = 32

nonisolated(unsafe) let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        // No `.peakMemoryResident` here: its sampling thread allocates while a step runs (about
        // 70 mallocs per cnn150 step), which the malloc count would include. Peak RSS per model
        // comes from `pneumonia bench` and the comparison script.
        metrics: [.wallClock, .throughput, .mallocCountTotal],
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
            // The first step makes the planned step's buffers: measure the steps after it.
            _ = try trainer.trainOnBatch(x: x, y: y)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(try trainer.trainOnBatch(x: x, y: y))
            }
        }

        Benchmark("\(seedModel.rawValue) inference, batch \(batch) (images per iteration: \(batch))") { benchmark in
            let model: Sequential<Float> = try seedModel.build(seed: 1)
            blackHole(model(x))
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                blackHole(model(x))
            }
        }
    }
}
