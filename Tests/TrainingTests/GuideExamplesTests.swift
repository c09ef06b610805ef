import Foundation
import Testing
import TestSupport
import Training

// The code samples of Docs/Training.md, the README ("Using it from another package") and the DocC
// landing pages of Layers and Training, run on tiny data. The samples there `import DeepLearning`;
// `Training` re-exports the same modules (Tensor, Autograd, Layers, Optimizers, Metrics), so the
// code below is the samples' code, verbatim except where a comment says otherwise (temporary
// directories instead of fixed paths, silent progress, fewer epochs).

// MARK: - Tiny data

/// Tiny 16x16 grey "X-rays": class 1 (three in four samples, as in the pneumonia data) has a
/// bright patch in the middle, class 0 does not. Labels are `[count, 1]`.
func tinyImages(count: Int, seed: UInt64) -> (x: Tensor<Float>, y: Tensor<Float>) {
    var generator = SeededGenerator(seed: seed)
    var pixels = [Float](repeating: 0, count: count * 16 * 16)
    var labels = [Float](repeating: 0, count: count)
    for i in 0..<count {
        let positive = i % 4 != 0
        labels[i] = positive ? 1 : 0
        for r in 0..<16 {
            for c in 0..<16 {
                let inPatch = (5..<11).contains(r) && (5..<11).contains(c)
                let base = positive && inPatch ? 0.8 : 0.2
                pixels[(i * 16 + r) * 16 + c] = Float(base + 0.15 * generator.nextStandardNormal())
            }
        }
    }
    return (Tensor(shape: [count, 16, 16, 1], scalars: pixels), Tensor(shape: [count, 1], scalars: labels))
}

/// A fresh temporary directory, removed by the caller.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sdl-guide-\(UUID())")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

// MARK: - Guide: defining a model

/// Docs/Training.md, "Defining a model".
func makeModel(seed: UInt64) throws -> Sequential<Float> {
    try Sequential<Float>(inputShape: [16, 16, 1], seed: seed) {
        Conv2D(8, kernelSize: 3, activation: .relu)
        MaxPool2D(2)
        Conv2D(16, kernelSize: 3, activation: .relu)
        MaxPool2D(2)
        Flatten()
        Dropout(0.5)
        Dense(1, activation: .sigmoid)
    }
}

/// Docs/Training.md, "Residual blocks".
func residualBlock(_ filters: Int) -> Add<Float> {
    Add {
        Identity()  // the shortcut
        Sequential {
            Conv2D(filters, kernelSize: 3, padding: .same, useBias: false)
            BatchNorm()
            ReLU()
            Conv2D(filters, kernelSize: 3, padding: .same, useBias: false)
            BatchNorm()
        }
    }
}

/// Docs/Training.md, "Residual blocks" (the model).
func makeResidualModel(seed: UInt64) throws -> Sequential<Float> {
    try Sequential<Float>(inputShape: [16, 16, 1], seed: seed) {
        Conv2D(16, kernelSize: 3, padding: .same, activation: .relu)
        residualBlock(16)
        ReLU()
        residualBlock(16)
        ReLU()
        GlobalAveragePooling2D()
        Dense(1, activation: .sigmoid)
    }
}

/// Docs/Training.md, "Data": a data set read on demand (here: the in-memory samples with a little
/// noise added, as an augmentation would).
struct NoisyImages: BatchSource {
    let images: TensorDataset<Float>
    var count: Int { images.count }

    func batch(_ indices: [Int]) throws -> (x: Tensor<Float>, y: Tensor<Float>) {
        let (x, y) = try images.batch(indices)
        let noise = Tensor<Float>.normal(x.shape, standardDeviation: 0.05, seed: UInt64(indices[0]))
        return (x + noise, y)
    }
}

/// Docs/Training.md, "Resuming an interrupted run" (the directory is a parameter here).
func trainWithBackup(
    epochs: Int, runDirectory: URL, xTrain: Tensor<Float>, yTrain: Tensor<Float>, xVal: Tensor<Float>, yVal: Tensor<Float>
) throws -> (History, Sequential<Float>) {
    let backup = runDirectory.appendingPathComponent("backup.safetensors")
    let model = try makeModel(seed: 1)
    let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 1e-3), seed: 42)
    trainer.progress = ProgressReporter(style: .silent)  // test only
    var initialEpoch = 0
    var history = History()
    if FileManager.default.fileExists(atPath: backup.path) {
        let progress = try trainer.resume(from: backup)
        initialEpoch = progress.epoch
        history = progress.history
    }
    history = try trainer.fit(
        x: xTrain, y: yTrain, epochs: epochs, batchSize: 16, validationData: (xVal, yVal),
        callbacks: [BackupAndRestore(url: backup)], initialEpoch: initialEpoch, history: history)
    return (history, model)
}

@Suite("Guide and documentation examples")
struct GuideExamplesTests {
    @Test("README: the Autograd example computes the closed-form gradient")
    func readmeExample() throws {
        // README, "Using it from another package" (without the print).
        let x = Variable(Tensor<Float>.uniform([8, 3], lower: -1, upper: 1, seed: 1))
        let w = Variable(Tensor<Float>.normal([3, 1], standardDeviation: 0.5, seed: 2), requiresGradient: true)
        let loss = sigmoidCrossEntropy(logits: x.matmul(w), labels: Tensor<Float>.ones([8, 1])).mean()
        loss.backward()
        let gradient = try #require(w.gradient)
        // d/dw mean(log(1 + exp(-x w))) = x^T (sigmoid(x w) - 1) / 8.
        let expected = x.value.transposed().matmul(x.value.matmul(w.value).sigmoid() - 1) / 8
        #expect(maxRelativeDifference(gradient, expected) < 1e-5)
    }

    @Test("Layers landing page: the example model builds, trains one step and predicts")
    func layersCatalogExample() throws {
        let model = try Sequential<Float>(inputShape: [28, 28, 1], seed: 1) {
            Conv2D(16, kernelSize: 3, activation: .relu)
            MaxPool2D(2)
            Conv2D(32, kernelSize: 3, padding: .same, activation: .relu)
            GlobalAveragePooling2D()
            Dropout(0.3)
            Dense(10, activation: .softmax)
        }
        let summary = model.summary()
        var context = ForwardContext(mode: .training, seed: 7)
        let x = Tensor<Float>.uniform([8, 28, 28, 1], seed: 2)
        let labels = Tensor<Float>(shape: [8], scalars: [0, 1, 2, 3, 4, 5, 6, 7])
        let loss = Loss.sparseCategoricalCrossEntropy()(predictions: model(Variable(x), context: &context), targets: labels)
        loss.backward()
        let probabilities = try model.predict(x)

        #expect(summary.contains("conv2d_1 (Conv2D)") && summary.contains("(None, 13, 13, 32)"))
        #expect(model.totalParameterCount == (9 * 16 + 16) + (9 * 16 * 32 + 32) + (32 * 10 + 10))
        #expect(model.trainableVariables.allSatisfy { $0.gradient != nil })
        #expect(probabilities.shape == [8, 10])
        #expect(maxRelativeDifference(probabilities.sum(alongAxes: [1]), Tensor.ones([8])) < 1e-5)
        // The loss of a 10-way softmax near its start is close to log(10).
        #expect(abs(Double(loss.value.scalar) - log(10)) < 0.5)

        // The residual block of the landing page.
        let block = Add<Float> {
            Conv2D(64, kernelSize: 1, strides: 2, padding: .same)  // shortcut
            Sequential {
                SeparableConv2D(64, kernelSize: 3, padding: .same, activation: .relu)
                SeparableConv2D(64, kernelSize: 3, padding: .same)
                MaxPool2D(3, strides: 2, padding: .same)
            }
        }
        #expect(try block.outputShape(for: [9, 9, 32]) == [5, 5, 64])
    }

    @Test("Training landing page: the example trains, checkpoints and resumes")
    func trainingCatalogExample() throws {
        let runDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runDirectory) }
        let (xTrain, yTrain) = tinyImages(count: 48, seed: 1)
        let (xVal, yVal) = tinyImages(count: 16, seed: 2)
        let model = try makeModel(seed: 1)

        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: RMSprop<Float>(learningRate: 1e-3), seed: 7)
        trainer.progress = ProgressReporter(style: .silent)  // test only
        let history = try trainer.fit(
            x: xTrain, y: yTrain, epochs: 4, batchSize: 16, validationData: (xVal, yVal),  // 4 epochs in the test
            callbacks: [
                EarlyStopping(monitor: "val_auc", patience: 5, restoreBestWeights: true),
                BackupAndRestore(url: runDirectory.appendingPathComponent("backup.safetensors")),
            ])
        let evaluation = try trainer.evaluate(x: xVal, y: yVal)
        print(history["val_auc"], evaluation.loss, evaluation.accuracy, evaluation.auc ?? .nan)

        #expect(history.count == 4)
        #expect(history.keys.contains("val_auc"))
        #expect(evaluation.auc != nil)
        let progress = try trainer.resume(from: runDirectory.appendingPathComponent("backup.safetensors"))
        #expect(progress.epoch == 4 && progress.history == history)
    }

    @Test("DeepLearning landing page: the example trains")
    func deepLearningCatalogExample() throws {
        let (xTrain, yTrain) = tinyImages(count: 32, seed: 1)
        let (xVal, yVal) = tinyImages(count: 16, seed: 2)
        let model = try Sequential<Float>(inputShape: [16, 16, 1], seed: 1) {
            Conv2D(8, kernelSize: 3, activation: .relu)
            MaxPool2D(2)
            Flatten()
            Dense(1, activation: .sigmoid)
        }
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(), seed: 42)
        trainer.progress = ProgressReporter(style: .silent)  // test only
        let history = try trainer.fit(x: xTrain, y: yTrain, epochs: 10, validationData: (xVal, yVal))

        #expect(history.count == 10)
        #expect(history["loss"].last! < history["loss"].first!)
        #expect(model.totalParameterCount == 80 + 7 * 7 * 8 + 1)
    }

    @Test("Guide: the model definition and its summary")
    func definingAModel() throws {
        let model = try makeModel(seed: 1)
        let summary = model.summary()
        #expect(summary == Self.guideSummary, "\n\(summary)")
        #expect(model.namedWeights.map(\.name) == [
            "conv2d.kernel", "conv2d.bias", "conv2d_1.kernel", "conv2d_1.bias", "dense.kernel", "dense.bias",
        ])
        #expect(try model.predict(Tensor<Float>.zeros([2, 16, 16, 1])).shape == [2, 1])
    }

    @Test("Guide: residual blocks")
    func residualBlocks() throws {
        let resnet = try makeResidualModel(seed: 1)
        #expect(try resnet.outputShape(for: [16, 16, 1]) == [1])
        let block = 2 * (9 * 16 * 16) + 2 * 4 * 16
        #expect(resnet.totalParameterCount == (9 * 16 + 16) + 2 * block + (16 + 1))
        #expect(resnet.trainableParameterCount == resnet.totalParameterCount - 2 * 2 * 2 * 16)
        let summary = resnet.summary()
        #expect(summary.contains("add (Add)") && summary.contains("add_1 (Add)") && summary.contains("identity (Identity)"))
        #expect(resnet.namedWeights.map(\.name).contains("batch_normalization_3.moving_variance"))
        let y = try resnet.predict(tinyImages(count: 4, seed: 3).x)
        #expect(y.shape == [4, 1] && y.scalars.allSatisfy { $0 > 0 && $0 < 1 })
    }

    @Test("Guide: fit with validation data, class weights and callbacks; evaluate and predict; save and load")
    func fitEvaluatePredictSaveLoad() throws {
        // The guide: URL(fileURLWithPath: "runs/tiny") and FileManager.default.createDirectory(...).
        let runDirectory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runDirectory) }
        let (xTrain, yTrain) = tinyImages(count: 64, seed: 1)
        let (xVal, yVal) = tinyImages(count: 32, seed: 2)
        let (xTest, yTest) = tinyImages(count: 32, seed: 3)
        let model = try makeModel(seed: 1)

        // Class weights, scikit-learn's "balanced": n / (classes * count of the class).
        let n = yTrain.shape[0]
        let positives = yTrain.scalars.filter { $0 == 1 }.count
        let classWeights = [0: Double(n) / Double(2 * (n - positives)), 1: Double(n) / Double(2 * positives)]

        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 1e-3), seed: 42)
        trainer.progress = ProgressReporter(style: .silent)  // test only
        let history = try trainer.fit(
            x: xTrain, y: yTrain, epochs: 20, batchSize: 16,
            validationData: (xVal, yVal),
            classWeights: classWeights,
            callbacks: [
                EarlyStopping(monitor: "val_loss", patience: 4, restoreBestWeights: true),
                ReduceLROnPlateauCallback(monitor: "val_loss", factor: 0.5, patience: 2),
                ModelCheckpoint(url: runDirectory.appendingPathComponent("best.safetensors"), monitor: "val_auc", saveBestOnly: true),
                CSVLogger(url: runDirectory.appendingPathComponent("history.csv")),
            ])
        print(history["val_auc"])

        #expect(classWeights[0]! == 2 && abs(classWeights[1]! - 2.0 / 3) < 1e-12)
        #expect(history.keys == ["loss", "accuracy", "val_loss", "val_accuracy", "val_auc", "learning_rate"])
        #expect((1...20).contains(history.count))
        #expect(history["val_auc"].max()! >= 0.95, "\(history["val_auc"])")
        let csv = try String(contentsOf: runDirectory.appendingPathComponent("history.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("epoch,loss,accuracy,val_loss,val_accuracy,val_auc,learning_rate\n"))
        #expect(FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent("best.safetensors").path))

        // Evaluate and predict.
        let evaluation = try trainer.evaluate(x: xTest, y: yTest)
        print(evaluation.loss, evaluation.accuracy, evaluation.auc ?? .nan)
        let probabilities = try trainer.predict(xTest)  // [32, 1]: the sigmoid outputs
        let predicted = probabilities.scalars.map { $0 >= 0.5 ? 1 : 0 }
        let report = try ClassificationReport(
            labels: yTest.scalars.map { Int($0) }, predictions: predicted, classNames: ["NORMAL", "PNEUMONIA"])
        print(report)

        #expect(probabilities.shape == [32, 1])
        #expect(abs(report.accuracy - evaluation.accuracy) < 1e-12)
        let auc = try rocAUCScore(labels: yTest.scalars.map { Int($0) }, scores: probabilities)
        #expect(abs(auc - evaluation.auc!) < 1e-12)
        #expect(evaluation.auc! >= 0.95)
        #expect(evaluation.accuracy >= 0.9, "\(report)")

        // Save and load.
        let url = runDirectory.appendingPathComponent("final.safetensors")
        try model.saveWeights(to: url, metadata: ["epochs": "\(history.count)"])

        let restored = try makeModel(seed: 0)  // other initial weights, replaced by the file's
        let metadata = try restored.loadWeights(from: url)
        let same = try restored.predict(xTest) == model.predict(xTest)  // true

        #expect(same)
        #expect(metadata["epochs"] == "\(history.count)")
        // Loading into another architecture is refused, naming the tensors.
        #expect(throws: CheckpointError.self) { try makeResidualModel(seed: 1).loadWeights(from: url) }
    }

    @Test("Guide: a data source read on demand")
    func customBatchSource() throws {
        let (xTrain, yTrain) = tinyImages(count: 32, seed: 1)
        let (xVal, yVal) = tinyImages(count: 16, seed: 2)
        let model = try makeModel(seed: 1)
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 1e-3), seed: 42)
        trainer.progress = ProgressReporter(style: .silent)  // test only

        let train = NoisyImages(images: try TensorDataset(x: xTrain, y: yTrain))
        let history = try trainer.fit(train, epochs: 3, batchSize: 16, validation: try TensorDataset(x: xVal, y: yVal))

        #expect(history.count == 3)
        let (x, y) = try train.batch([3, 1])
        #expect(x.shape == [2, 16, 16, 1] && y.scalars == [1, 1])
        // Noise of standard deviation 0.05 on every pixel.
        let differences = zip(x.scalars, xTrain.gathering([3, 1]).scalars).map { abs($0 - $1) }
        #expect(differences.max()! > 0.05 && differences.max()! < 0.3)
    }

    @Test("Guide: resuming an interrupted run continues exactly as the uninterrupted run")
    func resumingFromACheckpoint() throws {
        let (xTrain, yTrain) = tinyImages(count: 32, seed: 1)
        let (xVal, yVal) = tinyImages(count: 16, seed: 2)
        let interrupted = try temporaryDirectory(), uninterrupted = try temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(at: interrupted)
            try? FileManager.default.removeItem(at: uninterrupted)
        }
        // Two epochs, "interrupted", then the same program run again asking for four.
        let (first, _) = try trainWithBackup(
            epochs: 2, runDirectory: interrupted, xTrain: xTrain, yTrain: yTrain, xVal: xVal, yVal: yVal)
        #expect(first.count == 2)
        let (resumed, resumedModel) = try trainWithBackup(
            epochs: 4, runDirectory: interrupted, xTrain: xTrain, yTrain: yTrain, xVal: xVal, yVal: yVal)
        let (full, fullModel) = try trainWithBackup(
            epochs: 4, runDirectory: uninterrupted, xTrain: xTrain, yTrain: yTrain, xVal: xVal, yVal: yVal)
        #expect(resumed == full)
        #expect(resumed.epochs == [1, 2, 3, 4])
        #expect(resumedModel.namedWeights.map { $0.weight.variable.value } == fullModel.namedWeights.map { $0.weight.variable.value })
    }

    @Test("Guide: a hand-written training loop lowers the loss")
    func handWrittenLoop() throws {
        let (xTrain, yTrain) = tinyImages(count: 32, seed: 1)
        let model = try makeModel(seed: 1)
        var losses: [Float] = []

        let optimizer = Adam<Float>(learningRate: 1e-3)
        let loss = Loss.binaryCrossEntropy()
        let parameters = model.namedWeights.filter { $0.weight.isTrainable }
            .map { (name: $0.name, variable: $0.weight.variable) }
        for step in 0..<20 {
            var context = ForwardContext(mode: .training, seed: UInt64(step))  // dropout masks from the seed
            let value = loss(predictions: model(Variable(xTrain), context: &context), targets: yTrain)
            value.backward()
            optimizer.update(parameters)
            for p in parameters { p.variable.zeroGradient() }
            losses.append(value.value.scalar)  // test only
        }

        #expect(optimizer.iterations == 20)
        #expect(losses.last! < losses.first! * 0.9, "\(losses)")
        #expect(parameters.allSatisfy { $0.variable.gradient == nil || $0.variable.gradient!.scalars.allSatisfy { $0 == 0 } })
    }

    /// Docs/Training.md's printed summary of `makeModel`.
    static let guideSummary = """
        Model: "sequential"
        ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━┓
        ┃ Layer (type)                   ┃ Output Shape      ┃ Param # ┃
        ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━┩
        │ conv2d (Conv2D)                │ (None, 14, 14, 8) │      80 │
        ├────────────────────────────────┼───────────────────┼─────────┤
        │ max_pooling2d (MaxPooling2D)   │ (None, 7, 7, 8)   │       0 │
        ├────────────────────────────────┼───────────────────┼─────────┤
        │ conv2d_1 (Conv2D)              │ (None, 5, 5, 16)  │   1,168 │
        ├────────────────────────────────┼───────────────────┼─────────┤
        │ max_pooling2d_1 (MaxPooling2D) │ (None, 2, 2, 16)  │       0 │
        ├────────────────────────────────┼───────────────────┼─────────┤
        │ flatten (Flatten)              │ (None, 64)        │       0 │
        ├────────────────────────────────┼───────────────────┼─────────┤
        │ dropout (Dropout)              │ (None, 64)        │       0 │
        ├────────────────────────────────┼───────────────────┼─────────┤
        │ dense (Dense)                  │ (None, 1)         │      65 │
        └────────────────────────────────┴───────────────────┴─────────┘
         Total params: 1,313 (5.13 KB)
         Trainable params: 1,313 (5.13 KB)
         Non-trainable params: 0 (0.00 B)
        """
}
