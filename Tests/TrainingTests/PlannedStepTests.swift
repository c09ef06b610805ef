import Testing
import TestSupport
import Training
#if canImport(Glibc)
import Glibc
#endif

/// The planned training step (buffers allocated once per batch shape) against the graph path it
/// replaces: the same losses, accuracy counts and updated weights, step after step, and no heap
/// allocation on the calling thread once the plan exists.
@Suite("Planned training steps")
struct PlannedStepTests {
    /// Trains two copies of `make()` (same seed, same weights) for `steps` steps on the same
    /// batches, one with planned steps and one on the graph path, and compares after every step.
    static func compare<Scalar: TensorScalar>(
        _ type: Scalar.Type, inputShape: [Int], batch: Int = 6, steps: Int = 3,
        classWeights: [Int: Double]? = nil, tolerance: Double, expectsPlan: Bool = true,
        optimizer: () -> any Optimizer<Scalar>, make: () throws -> any Layer<Scalar>
    ) throws {
        let planned = try make(), graph = try make()
        let plannedTrainer = Trainer(model: planned, loss: .binaryCrossEntropy(), optimizer: optimizer(), progress: ProgressReporter(style: .silent))
        let graphTrainer = Trainer(model: graph, loss: .binaryCrossEntropy(), optimizer: optimizer(), progress: ProgressReporter(style: .silent))
        graphTrainer.usesPlannedSteps = false
        defer { #expect(plannedTrainer.isUsingPlannedSteps == expectsPlan, "planned steps in use") }
        for step in 0..<steps {
            let x = Tensor<Scalar>.uniform([batch] + inputShape, lower: -1, upper: 1, seed: UInt64(100 + step))
            let y = Tensor<Scalar>(shape: [batch, 1], scalars: (0..<batch).map { Scalar(($0 * 7 + step) % 3 == 0 ? 1 : 0) })
            let a = try plannedTrainer.trainOnBatch(x: x, y: y, classWeights: classWeights, seed: UInt64(step))
            let b = try graphTrainer.trainOnBatch(x: x, y: y, classWeights: classWeights, seed: UInt64(step))
            #expect(abs(a.loss - b.loss) <= tolerance * max(1, abs(b.loss)), "step \(step): loss \(a.loss) vs \(b.loss)")
            #expect(a.correct == b.correct, "step \(step)")
            for (p, g) in zip(planned.namedWeights, graph.namedWeights) {
                let error = maxRelativeError(p.weight.variable.value, g.weight.variable.value)
                #expect(error <= tolerance, "step \(step): \(p.name) differs by \(error)")
            }
        }
    }

    @Test func convolutionalStepsAllocateNothingOnTheCallingThread() throws {
        // Every kind of node: convolutions (direct, Winograd, 1x1, strided), batch normalization
        // with ReLU, separable convolutions, an Add, pooling, dropout fused with pooling.
        let model = try Sequential<Float>(inputShape: [12, 12, 1], seed: 4) {
            Conv2D(16, kernelSize: 3, padding: .same, activation: .relu)
            Conv2D(16, kernelSize: 3, padding: .same)
            BatchNorm()
            ReLU()
            Dropout(0.2)
            MaxPool2D(2)
            Add {
                Sequential {
                    SeparableConv2D(8, kernelSize: 3, padding: .same)
                    BatchNorm()
                    MaxPool2D(3, strides: 2, padding: .same)
                }
                Conv2D(8, kernelSize: 1, strides: 2)
            }
            SpatialDropout2D(0.2)
            GlobalAveragePooling2D()
            Dense(1, activation: .sigmoid)
        }
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: RMSprop<Float>(), progress: ProgressReporter(style: .silent))
        try Self.expectNoAllocationsAfterTheFirstSteps(trainer, inputShape: [12, 12, 1])
        #expect(trainer.isUsingPlannedSteps)
    }

    /// Runs two steps of `trainer` on a batch of 8, then counts the calling thread's heap
    /// allocations in each of three more: none, in debug builds too. Tests of other suites run in
    /// parallel and may hold the thread pool, which sends a loop to libdispatch (whose own
    /// structures it sometimes allocates), so a round of three steps is retried (up to 64 rounds or
    /// 10 s, pausing 2 ms between them) and one round without any allocation passes; a real
    /// allocation per step fails every round.
    static func expectNoAllocationsAfterTheFirstSteps(_ trainer: Trainer<Float>, inputShape: [Int]) throws {
        let x = Tensor<Float>.uniform([8] + inputShape, seed: 1)
        let y = Tensor<Float>(shape: [8, 1], scalars: (0..<8).map { Float($0 % 2) })
        let classWeights = [0: 2.0, 1: 1.0]
        for step in 0..<2 { _ = try trainer.trainOnBatch(x: x, y: y, classWeights: classWeights, seed: UInt64(step)) }
        guard AllocationCounter.isActive else { return }
        var rounds: [[UInt64]] = []
        rounds.reserveCapacity(64)
        let start = ContinuousClock.now
        var round = 0
        while round < 64 && ContinuousClock.now - start < .seconds(10) {
            defer { round += 1 }
            var counts: [UInt64] = []
            counts.reserveCapacity(3)
            for step in 0..<3 {
                let (result, allocations) = try AllocationCounter.countingThreadAllocations {
                    try trainer.trainOnBatch(x: x, y: y, classWeights: classWeights, seed: UInt64(2 + 3 * round + step))
                }
                #expect(result.loss.isFinite && result.loss > 0)
                counts.append(allocations)
            }
            rounds.append(counts)
            if counts == [0, 0, 0] { return }
            usleep(2_000)
        }
        Issue.record("heap allocations on the calling thread per step, in \(rounds.count) rounds of 3 steps: \(rounds)")
    }

    /// Largest `|a - b| / max(1, |b|)` over the elements.
    static func maxRelativeError<Scalar: TensorScalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Double {
        precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
        var worst = 0.0
        for (u, v) in zip(a.scalars, b.scalars) {
            worst = max(worst, abs(Double(u) - Double(v)) / max(1, abs(Double(v))))
        }
        return worst
    }

    @Test func denseChainMatchesTheGraphPathInDouble() throws {
        try Self.compare(Double.self, inputShape: [3, 4, 2], classWeights: [0: 0.4, 1: 1.7], tolerance: 1e-12,
                         optimizer: { Adam<Double>(learningRate: 0.05) }) {
            try Sequential<Double>(inputShape: [3, 4, 2], seed: 5) {
                Flatten()
                Dense(7, activation: .relu)
                Dense(5)
                Dense(6, activation: .relu, useBias: false)
                Dense(1, activation: .sigmoid)
            }
        }
    }

    @Test func denseChainMatchesTheGraphPathInFloat() throws {
        // Few-rows GEMM shapes (K >= 256) and RMSprop, as the seed models use.
        try Self.compare(Float.self, inputShape: [300], batch: 8, tolerance: 1e-5,
                         optimizer: { RMSprop<Float>(learningRate: 1e-3) }) {
            try Sequential<Float>(inputShape: [300], seed: 2) {
                Dense(32, activation: .relu)
                Dense(1, activation: .sigmoid)
            }
        }
    }

    @Test func convolutionalChainMatchesTheGraphPathInDouble() throws {
        // Direct and im2col convolutions, max pooling, both dropouts (Double masks), Flatten.
        try Self.compare(Double.self, inputShape: [11, 11, 2], batch: 3, classWeights: [1: 2.5], tolerance: 1e-12,
                         optimizer: { RMSprop<Double>(learningRate: 1e-2) }) {
            try Sequential<Double>(inputShape: [11, 11, 2], seed: 7) {
                Conv2D(4, kernelSize: 3, activation: .relu)
                MaxPool2D(2)
                Conv2D(5, kernelSize: 2, strides: 2, padding: .same)
                SpatialDropout2D(0.3)
                Flatten()
                Dense(6, activation: .relu)
                Dropout(0.4)
                Dense(1, activation: .sigmoid)
            }
        }
    }

    @Test func convolutionalChainMatchesTheGraphPathInFloat() throws {
        // Winograd (3x3, 16 channels), the direct kernel (1 input channel), Dropout fused with the
        // max pooling after it (Float stream masks, even channel count).
        try Self.compare(Float.self, inputShape: [14, 14, 1], batch: 4, tolerance: 2e-5,
                         optimizer: { Adam<Float>(learningRate: 1e-3) }) {
            try Sequential<Float>(inputShape: [14, 14, 1], seed: 3) {
                Conv2D(16, kernelSize: 3, padding: .same, activation: .relu)
                Conv2D(16, kernelSize: 3, activation: .relu)
                Dropout(0.25)
                MaxPool2D(2)
                SpatialDropout2D(0.2)
                Flatten()
                Dense(1, activation: .sigmoid)
            }
        }
    }

    @Test func batchNormChainMatchesTheGraphPath() throws {
        // VGG blocks: convolution, batch normalization fused with the ReLU after it, pooling,
        // global average pooling; moving statistics compared with the weights.
        func vgg<Scalar: TensorScalar>(_: Scalar.Type) throws -> Sequential<Scalar> {
            try Sequential<Scalar>(inputShape: [10, 10, 3], seed: 11) {
                Conv2D(6, kernelSize: 3, padding: .same)
                BatchNorm()
                ReLU()
                Conv2D(6, kernelSize: 3, padding: .same)
                BatchNorm()
                ActivationLayer(.relu)
                MaxPool2D(2)
                BatchNorm()
                GlobalAveragePooling2D()
                Dense(4, activation: .relu)
                Dropout(0.5)
                Dense(1, activation: .sigmoid)
            }
        }
        try Self.compare(Double.self, inputShape: [10, 10, 3], batch: 4, tolerance: 1e-12,
                         optimizer: { Adam<Double>(learningRate: 1e-2) }) { try vgg(Double.self) }
        try Self.compare(Float.self, inputShape: [10, 10, 3], batch: 4, tolerance: 2e-5,
                         optimizer: { Adam<Float>(learningRate: 1e-2) }) { try vgg(Float.self) }
    }

    @Test func residualModelMatchesTheGraphPath() throws {
        // Xception blocks: a strided convolution without bias, separable convolutions, and an Add
        // of a nested Sequential and a strided 1x1 shortcut (gradients summed at the input).
        func xception<Scalar: TensorScalar>(_: Scalar.Type) throws -> Sequential<Scalar> {
            try Sequential<Scalar>(inputShape: [12, 12, 2], seed: 13) {
                Conv2D(4, kernelSize: 3, strides: 2, padding: .same, useBias: false)
                BatchNorm()
                ReLU()
                Add {
                    Sequential {
                        SeparableConv2D(6, kernelSize: 3, padding: .same)
                        BatchNorm()
                        ReLU()
                        SeparableConv2D(6, kernelSize: 3, padding: .same, activation: .relu)
                        BatchNorm()
                        MaxPool2D(3, strides: 2, padding: .same)
                    }
                    Conv2D(6, kernelSize: 1, strides: 2, padding: .same)
                }
                Add {
                    Identity()
                    Conv2D(6, kernelSize: 1)
                }
                GlobalAveragePooling2D()
                Dropout(0.5)
                Dense(1, activation: .sigmoid)
            }
        }
        try Self.compare(Double.self, inputShape: [12, 12, 2], batch: 3, tolerance: 1e-12,
                         optimizer: { Adam<Double>(learningRate: 1e-2) }) { try xception(Double.self) }
        try Self.compare(Float.self, inputShape: [12, 12, 2], batch: 3, tolerance: 2e-5,
                         optimizer: { SGD<Float>(learningRate: 0.1, momentum: 0.9) }) { try xception(Float.self) }
    }

    @Test func oneOffBatchShapesTakeTheGraphPathAndRepeatedOnesGetAPlan() throws {
        let model = try Sequential<Double>(inputShape: [3], seed: 1) { Dense(4, activation: .relu); Dense(1, activation: .sigmoid) }
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: SGD<Double>(), progress: ProgressReporter(style: .silent))
        func step(_ n: Int) throws -> Bool {
            _ = try trainer.trainOnBatch(
                x: Tensor<Double>.uniform([n, 3], seed: UInt64(n)), y: Tensor<Double>(shape: [n, 1], scalars: (0..<n).map { Double($0 % 2) }))
            return trainer.isUsingPlannedSteps
        }
        #expect(try step(4) && step(4))
        #expect(try !step(3))          // the last batch of an epoch: graph path, the plan stays
        #expect(try step(4))
        #expect(try !step(5) && step(5) && step(5))  // a new shape twice in a row: a new plan
        trainer.usesPlannedSteps = false
        #expect(try !step(5))
    }

    @Test func modelsThatDoNotPlanTakeTheGraphPath() throws {
        // A tanh hidden layer does not plan: the trainer falls back and trains as before.
        try Self.compare(Double.self, inputShape: [4], tolerance: 0, expectsPlan: false, optimizer: { SGD<Double>(learningRate: 0.1) }) {
            try Sequential<Double>(inputShape: [4], seed: 1) {
                Dense(3, activation: .tanh)
                Dense(1, activation: .sigmoid)
            }
        }
    }

    @Test func stepsAfterTheFirstAllocateNothingOnTheCallingThread() throws {
        // Small enough that OpenBLAS runs every GEMM on the calling thread (its threaded driver
        // allocates a job table per call, which no caller can avoid).
        let model = try Sequential<Float>(inputShape: [10, 10, 1], seed: 4) {
            Flatten()
            Dense(300, activation: .relu)
            Dense(16)
            Dense(1, activation: .sigmoid)
        }
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(), progress: ProgressReporter(style: .silent))
        try Self.expectNoAllocationsAfterTheFirstSteps(trainer, inputShape: [10, 10, 1])
        #expect(trainer.isUsingPlannedSteps)
    }
}
