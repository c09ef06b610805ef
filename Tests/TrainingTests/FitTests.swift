import Foundation
import Testing
import TestSupport
import Training

/// Two Gaussian blobs in 2-D, labels 0 and 1, from a seeded generator.
func blobs(count: Int, seed: UInt64, separation: Double = 2.5) -> (x: Tensor<Float>, y: Tensor<Float>) {
    var g = SeededGenerator(seed: seed)
    var xs: [Float] = [], ys: [Float] = []
    for i in 0..<count {
        let label = i % 2
        let center = label == 0 ? -separation / 2 : separation / 2
        xs.append(Float(center + g.nextStandardNormal() * 0.7))
        xs.append(Float(center + g.nextStandardNormal() * 0.7))
        ys.append(Float(label))
    }
    return (Tensor(shape: [count, 2], scalars: xs), Tensor(shape: [count, 1], scalars: ys))
}

func smallModel(seed: UInt64, dropout: Bool = false) throws -> Sequential<Float> {
    try Sequential<Float>(inputShape: [2], seed: seed) {
        Dense(16, activation: .relu)
        if dropout {
            BatchNorm()
            Dropout(0.3)
        }
        Dense(1, activation: .sigmoid)
    }
}

/// Collects what a progress reporter writes.
final class Captured: @unchecked Sendable {
    var text = ""
}

@Suite("Training loop")
struct FitTests {
    @Test func convergesOnASeparableProblem() throws {
        let train = blobs(count: 256, seed: 1), validation = blobs(count: 128, seed: 2)
        let model = try smallModel(seed: 3)
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 0.01),
                              seed: 4, progress: ProgressReporter(style: .silent))
        let history = try trainer.fit(x: train.x, y: train.y, epochs: 25, batchSize: 32,
                                      validationData: (validation.x, validation.y))
        // 25 epochs of 8 steps: 200 updates.
        #expect(history.count == 25)
        #expect(history.keys == ["loss", "accuracy", "val_loss", "val_accuracy", "val_auc", "learning_rate"])
        #expect(history["loss"].last! < 0.1, "final loss \(history["loss"].last!)")
        #expect(history["loss"].last! < history["loss"].first! / 3)
        #expect(history["val_accuracy"].last! >= 0.97)
        #expect(history["val_auc"].last! >= 0.99)
        #expect(history["learning_rate"].allSatisfy { abs($0 - 0.01) < 1e-9 })
        // evaluate and predict agree with the history and with the Metrics module.
        let evaluation = try trainer.evaluate(x: validation.x, y: validation.y)
        #expect(abs(evaluation.loss - history["val_loss"].last!) < 1e-6)
        let probabilities = try trainer.predict(validation.x, batchSize: 50)
        #expect(probabilities.shape == [128, 1])
        let auc = try rocAUCScore(labels: validation.y.scalars.map { Int($0) }, scores: probabilities.scalars.map { Double($0) })
        #expect(abs(auc - evaluation.auc!) < 1e-12)
    }

    @Test func resumingFromACheckpointReproducesTheUninterruptedRun() throws {
        let train = blobs(count: 100, seed: 5), validation = blobs(count: 40, seed: 6)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sdl-resume-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let checkpoint = directory.appendingPathComponent("train.safetensors")

        // Uninterrupted: 4 epochs (dropout and batch norm exercise the random draws and running statistics).
        let full = try smallModel(seed: 7, dropout: true)
        let fullTrainer = Trainer(model: full, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 0.01),
                                  seed: 8, progress: ProgressReporter(style: .silent))
        let fullHistory = try fullTrainer.fit(x: train.x, y: train.y, epochs: 4, batchSize: 16,
                                              validationData: (validation.x, validation.y))

        // Interrupted after 2 epochs, checkpointed by BackupAndRestore.
        let first = try smallModel(seed: 7, dropout: true)
        let firstTrainer = Trainer(model: first, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 0.01),
                                   seed: 8, progress: ProgressReporter(style: .silent))
        _ = try firstTrainer.fit(x: train.x, y: train.y, epochs: 2, batchSize: 16,
                                 validationData: (validation.x, validation.y), callbacks: [BackupAndRestore(url: checkpoint)])

        // A fresh process: a model with other initial weights and a new optimizer, restored and continued.
        let resumed = try smallModel(seed: 99, dropout: true)
        let resumedTrainer = Trainer(model: resumed, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 0.01),
                                     seed: 8, progress: ProgressReporter(style: .silent))
        let progress = try resumedTrainer.resume(from: checkpoint)
        #expect(progress.epoch == 2)
        #expect(progress.history == fullHistory.prefix(2))
        let resumedHistory = try resumedTrainer.fit(x: train.x, y: train.y, epochs: 4, batchSize: 16,
                                                    validationData: (validation.x, validation.y),
                                                    initialEpoch: progress.epoch, history: progress.history)
        #expect(resumedHistory == fullHistory)
        for (a, b) in zip(full.namedWeights, resumed.namedWeights) {
            #expect(a.name == b.name)
            #expect(a.weight.variable.value == b.weight.variable.value, "\(a.name) differs after resuming")
        }

        // Another seed is refused before anything changes.
        let other = Trainer(model: resumed, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(), seed: 9,
                            progress: ProgressReporter(style: .silent))
        let before = resumed.namedWeights.map { $0.weight.variable.value }
        #expect(throws: TrainingError.self) { try other.resume(from: checkpoint) }
        #expect(resumed.namedWeights.map { $0.weight.variable.value } == before)
        // A checkpoint of another architecture is refused naming the tensor.
        let wider = try Sequential<Float>(inputShape: [2], seed: 1) { Dense(8, activation: .relu); Dense(1) }
        let widerTrainer = Trainer(model: wider, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(), seed: 8,
                                   progress: ProgressReporter(style: .silent))
        #expect(throws: CheckpointError.self) { try widerTrainer.resume(from: checkpoint) }
    }

    @Test func sameSeedSameRunDifferentSeedDifferentOrder() throws {
        let data = blobs(count: 64, seed: 10)
        func run(_ seed: UInt64) throws -> History {
            let trainer = Trainer(model: try smallModel(seed: 1, dropout: true), loss: .binaryCrossEntropy(),
                                  optimizer: SGD<Float>(learningRate: 0.1), seed: seed, progress: ProgressReporter(style: .silent))
            return try trainer.fit(x: data.x, y: data.y, epochs: 2, batchSize: 8)
        }
        #expect(try run(1) == run(1))
        #expect(try run(1)["loss"] != run(2)["loss"])
    }

    @Test func classWeightsWeighTheLossByLabel() throws {
        // One batch and a zero learning rate: the logged loss is the weighted loss of the initial model.
        let data = blobs(count: 8, seed: 11)
        let model = try smallModel(seed: 12)
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: SGD<Float>(learningRate: 0),
                              seed: 1, progress: ProgressReporter(style: .silent))
        let history = try trainer.fit(x: data.x, y: data.y, epochs: 1, batchSize: 8, classWeights: [0: 3, 1: 0.5])
        let p = model(data.x)
        let weights = Tensor<Float>(data.y.scalars.map { $0 == 0 ? 3 : 0.5 })
        let expected = Loss.binaryCrossEntropy()(predictions: p, targets: data.y, sampleWeights: weights)
        #expect(abs(history["loss"][0] - Double(expected)) < 1e-6)
        let unweighted = Loss.binaryCrossEntropy()(predictions: p, targets: data.y)
        #expect(abs(Double(expected) - Double(unweighted)) > 1e-3)
    }

    @Test func earlyStoppingStopsAndRestoresTheBestWeights() throws {
        let data = blobs(count: 32, seed: 13)
        let model = try smallModel(seed: 14)
        // A learning rate so large that the loss gets worse after the first epoch.
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: SGD<Float>(learningRate: 0.05),
                              seed: 1, progress: ProgressReporter(style: .silent))
        var snapshots: [[Tensor<Float>]] = []
        final class Snapshot: Callback {
            typealias Scalar = Float
            let record: ([Tensor<Float>]) -> Void
            init(_ record: @escaping ([Tensor<Float>]) -> Void) { self.record = record }
            func epochEnd(_ epoch: Int, logs: [String: Double], state: TrainingState<Float>) throws {
                record(state.model.namedWeights.map { $0.weight.variable.value })
            }
        }
        // After epoch 2 the rate jumps so training diverges from the best point.
        let scheduler = LearningRateScheduler<Float> { epoch, rate in epoch >= 3 ? 50 : rate }
        let stopper = EarlyStopping<Float>(monitor: "loss", patience: 1, restoreBestWeights: true)
        let history = try trainer.fit(
            x: data.x, y: data.y, epochs: 20, batchSize: 8,
            callbacks: [scheduler, stopper, Snapshot { snapshots.append($0) }])
        #expect(history.count < 20)
        #expect(stopper.stoppedEpoch == history.count)
        let best = stopper.best!
        #expect(best.value == history["loss"].min())
        // As in Keras: training stops `patience` epochs after the best one.
        #expect(history.count == best.epoch + stopper.patience)
        #expect(model.namedWeights.map { $0.weight.variable.value } == snapshots[best.epoch - 1])
    }

    @Test func checkpointAndCSVCallbacksWriteFiles() throws {
        let train = blobs(count: 64, seed: 15), validation = blobs(count: 32, seed: 16)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sdl-callbacks-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let best = directory.appendingPathComponent("best.safetensors")
        let csv = directory.appendingPathComponent("history.csv")
        let model = try smallModel(seed: 17)
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 0.01),
                              seed: 1, progress: ProgressReporter(style: .silent))
        let checkpoint = ModelCheckpoint<Float>(url: best, monitor: "val_auc", saveBestOnly: true)
        let history = try trainer.fit(
            x: train.x, y: train.y, epochs: 3, batchSize: 16, validationData: (validation.x, validation.y),
            callbacks: [checkpoint, CSVLogger(url: csv)])
        #expect(checkpoint.best == history["val_auc"].max())
        let restored = try smallModel(seed: 18)
        let metadata = try restored.loadWeights(from: best)
        #expect(metadata["val_auc"] != nil && metadata["epoch"] != nil)
        let lines = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "epoch,loss,accuracy,val_loss,val_accuracy,val_auc,learning_rate")
        #expect(lines.count == 4)
        #expect(lines[1].hasPrefix("1,"))
        let json = history.json()
        #expect(json.contains("\"val_auc\": ["))
    }

    @Test func progressIsOneLinePerEpochWhenNotATerminal() throws {
        let data = blobs(count: 20, seed: 19)
        let captured = Captured()
        let trainer = Trainer(model: try smallModel(seed: 20), loss: .binaryCrossEntropy(), optimizer: Adam<Float>(),
                              seed: 1, progress: ProgressReporter(style: .linePerEpoch) { captured.text += $0 })
        _ = try trainer.fit(x: data.x, y: data.y, epochs: 2, batchSize: 8)
        let lines = captured.text.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0] == "Epoch 1/2")
        #expect(lines[1].hasPrefix("3/3 ━━━━━━━━━━━━━━━━━━━━ "))
        #expect(lines[1].contains(" - loss: ") && lines[1].contains(" - accuracy: ") && lines[1].contains(" - learning_rate: "))
        #expect(!captured.text.contains("\r"))
    }

    @Test func liveBarRedrawsInPlace() {
        let captured = Captured()
        let reporter = ProgressReporter(style: .bar) { captured.text += $0 }
        reporter.beginEpoch(1, of: 1, steps: 4)
        reporter.update(step: 1, logs: [("loss", 0.5)])
        reporter.update(step: 4, logs: [("loss", 0.25)])
        reporter.endEpoch(logs: [("loss", 0.25)])
        #expect(captured.text.contains("\r1/4 ━━━━━─────────────── "))
        #expect(captured.text.contains("ETA"))
        #expect(captured.text.hasSuffix("- loss: 0.2500\u{1B}[K\n"))
    }

    @Test func badInputIsThrownNotCrashedOn() throws {
        let model = try smallModel(seed: 21)
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(), seed: 1,
                              progress: ProgressReporter(style: .silent))
        // Inputs of the wrong shape name both shapes.
        #expect(throws: LayerError.self) {
            _ = try trainer.fit(x: Tensor<Float>.zeros([4, 3]), y: Tensor<Float>.zeros([4, 1]), epochs: 1)
        }
        // Different sample counts.
        #expect(throws: TensorError.self) {
            _ = try trainer.fit(x: Tensor<Float>.zeros([4, 2]), y: Tensor<Float>.zeros([5, 1]), epochs: 1)
        }
        // Targets that do not fit the outputs.
        #expect(throws: LayerError.self) {
            _ = try trainer.fit(x: Tensor<Float>.zeros([4, 2]), y: Tensor<Float>.zeros([4, 3]), epochs: 1)
        }
        // A diverging run stops with a clear error.
        let linear = try Sequential<Float>(inputShape: [2], seed: 22) { Dense(1) }
        let exploding = Trainer(model: linear, loss: .meanSquaredError, optimizer: SGD<Float>(learningRate: 1e10),
                                seed: 1, progress: ProgressReporter(style: .silent))
        let data = blobs(count: 16, seed: 23)
        #expect(throws: TrainingError.self) {
            _ = try exploding.fit(x: data.x * 1000, y: data.y, epochs: 20, batchSize: 4)
        }
    }
}
