import ArgumentParser
import DeepLearning
import Foundation
import PneumoniaModels

/// `pneumonia train`: trains a seed model on the Kaggle layout or a PneumoniaMNIST archive, picks
/// the decision threshold on a patient-grouped validation split, and writes the checkpoint, the
/// history, the validation metrics, predictions, a report and plots.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a seed model and write its checkpoint, history, validation metrics, report and plots.",
        discussion: """
            --data is a Kaggle-layout root (train/, optional val/; the images of val/ join train/ \
            before a patient-grouped validation split of --val-fraction is carved out, because the \
            official val/ holds only 16 images) or a MedMNIST .npz file (train_* for training, val_* \
            for validation; the images are used at their native 28x28 when the model can take that \
            size, as the small cnn can, and are resized to the model's seed size otherwise, or to \
            --image-size). Every model uses its seed's image size, channels, optimizer (RMSprop 1e-4 \
            for cnn150, Adam 1e-3 otherwise) and batch size (20 for cnn150, 32 otherwise) unless a \
            flag overrides it. The decision threshold stored in the checkpoint maximizes Youden's J \
            (sensitivity + specificity - 1) on the validation split. With --labels cause the task is \
            NORMAL / BACTERIA / VIRUS from the file names (seed 000's future work): the model ends in a \
            3-way softmax trained with sparse categorical cross-entropy, each image gets its most \
            probable class, and early stopping watches val_loss.
            """)

    /// What the labels are.
    enum LabelMode: String, ExpressibleByArgument, CaseIterable {
        /// The class folders: NORMAL / PNEUMONIA.
        case folders
        /// The cause of pneumonia from the file names: NORMAL / BACTERIA / VIRUS.
        case cause
    }

    @Option(help: "The model: \(SeedModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: SeedModel

    @Option(help: "A Kaggle-layout root (train/, optional val/) or a MedMNIST .npz file.")
    var data: String

    @Option(help: "The output folder (created if needed).")
    var out: String

    @Option(help: "Epochs.")
    var epochs: Int = 10

    @Option(help: "Images per batch (default: the seed's, 20 for cnn150 and 32 otherwise).")
    var batchSize: Int?

    @Option(help: "Square input size in pixels (default: the model's seed size; 28 for a .npz when the model takes it).")
    var imageSize: Int?

    @Option(help: "Channels: 1 (grayscale) or 3 (RGB) (default: the model's seed channels).")
    var channels: Int?

    @Option(help: "Learning rate (default: 1e-4 for cnn150, 1e-3 otherwise).")
    var learningRate: Double?

    @Option(help: "Seed of the weights, the split, the data order, dropout and augmentation.")
    var seed: UInt64 = 1

    @Option(help: "Share of the training images (whole patients) held out for validation.")
    var valFraction: Double = 0.1

    @Option(help: "At most this many images per class (a seeded choice), for quick runs.")
    var limit: Int?

    @Flag(help: "Augment training images: rotation 10 degrees, shifts 10%, zoom 10% (seed 004's kinds).")
    var augment = false

    @Flag(help: "Weight the loss by balanced class weights (seed 004).")
    var classWeights = false

    @Flag(help: "Oversample the minority class up to the majority class (seed 003).")
    var oversample = false

    @Option(help: "Stop when validation AUC has not improved for this many epochs, restoring the best weights.")
    var earlyStoppingPatience: Int?

    @Option(help: "Where decoded images are cached (default: OUT/cache); share it between runs to decode once.")
    var cacheDir: String?

    @Option(help: "Labels: folders (NORMAL / PNEUMONIA) or cause (NORMAL / BACTERIA / VIRUS from the file names).")
    var labels: LabelMode = .folders

    @Flag(help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        if let batchSize, batchSize <= 0 { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let imageSize, imageSize <= 0 { throw ValidationError("--image-size must be positive, got \(imageSize)") }
        if let channels, channels != 1 && channels != 3 { throw ValidationError("--channels must be 1 or 3, got \(channels)") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
        guard valFraction > 0 && valFraction < 1 else { throw ValidationError("--val-fraction must be in (0, 1), got \(valFraction)") }
        if let limit, limit <= 0 { throw ValidationError("--limit must be positive, got \(limit)") }
        if let earlyStoppingPatience, earlyStoppingPatience < 0 {
            throw ValidationError("--early-stopping-patience must be non-negative, got \(earlyStoppingPatience)")
        }
    }

    func run() throws {
        let start = Date()
        let outURL = URL(fileURLWithPath: out)
        try makeDirectory(outURL)
        let say: (String) -> Void = quiet ? { _ in } : { FileHandle.standardOutput.write(Data(($0 + "\n").utf8)) }
        let channelCount = channels ?? model.inputShape[2]
        let dataURL = URL(fileURLWithPath: data)

        // The data: training and validation images.
        let train: ImageDataset, validation: ImageDataset, validationNames: [String], size: Int
        var splitDescription: String
        if DataLoading.isArchive(data) {
            guard labels == .folders else { throw PneumoniaError("--labels cause needs image files named like person1_virus_6.jpeg, not \(data)") }
            let native = try DataLoading.archiveImageSize(url: dataURL)
            if let imageSize {
                size = imageSize
            } else if (try? model.build(imageSize: native, channels: channelCount, seed: seed)) != nil {
                size = native
            } else {
                size = model.inputShape[0]
                say("note: \(model.rawValue) cannot take \(native)x\(native) inputs; the images are resized to \(size)x\(size)")
            }
            let preprocessing = ImagePreprocessing(width: size, height: size, channels: channelCount)
            train = try DataLoading.archive(url: dataURL, split: "train", preprocessing: preprocessing, limit: limit, seed: seed).dataset
            let val = try DataLoading.archive(url: dataURL, split: "val", preprocessing: preprocessing, limit: limit, seed: seed)
            validation = val.dataset
            validationNames = val.names
            splitDescription = "the archive's train split for training and its val split for validation"
        } else {
            size = imageSize ?? model.inputShape[0]
            let preprocessing = ImagePreprocessing(width: size, height: size, channels: channelCount)
            let splits = try SplitFolders(root: dataURL, names: ["train", "val"],
                                          labelling: labels == .cause ? .pneumoniaCause : .folders)
            guard let trainFolder = splits.splits["train"] else { throw PneumoniaError("\(dataURL.path) has no train/ folder") }
            var records = trainFolder.records
            if let val = splits.splits["val"] {
                guard val.classNames == trainFolder.classNames else {
                    throw PneumoniaError("val/ has classes \(val.classNames) but train/ has \(trainFolder.classNames)")
                }
                records += val.records
            }
            guard trainFolder.classNames.count == 2 || labels == .cause else {
                throw PneumoniaError("\(trainFolder.root.path) has classes \(trainFolder.classNames); the models need two (NORMAL, PNEUMONIA)")
            }
            records = DataLoading.limited(records, limit: limit, seed: seed)
            let cache = URL(fileURLWithPath: cacheDir ?? outURL.appendingPathComponent("cache").path)
            say("loading \(records.count) images at \(size)x\(size)x\(channelCount) (cache: \(cache.path))")
            let all = try DataLoading.load(records: records, classNames: trainFolder.classNames, preprocessing: preprocessing, cacheDirectory: cache)
            let split = try DataSplit.grouped(labels: all.labels, groups: all.patients, fractions: [1 - valFraction, valFraction], seed: seed)
            guard !split.parts[0].isEmpty, !split.parts[1].isEmpty else {
                throw PneumoniaError("too few patients for a validation split of \(valFraction) (\(all.count) images)")
            }
            train = all.subset(split.parts[0])
            validation = all.subset(split.parts[1])
            validationNames = validation.records.map { DataLoading.relativePath($0.path, to: dataURL) }
            let parts = "\(Int(((1 - valFraction) * 100).rounded()))% training, \(Int((valFraction * 100).rounded()))% validation"
            splitDescription = "train/" + (splits.splits["val"] == nil ? "" : " and val/") + " split by patient: \(parts), no patient on both sides"
        }
        if let limit { splitDescription += " (at most \(limit) images per class)" }
        let classNames = train.classNames
        func countText(_ d: ImageDataset) -> String {
            classNames.indices.map { c in "\(d.labels.filter { $0 == c }.count) \(classNames[c])" }.joined(separator: ", ")
        }
        say("training on \(train.count) images (\(countText(train))), validating on \(validation.count) (\(countText(validation)))")

        // The model, optimizer and data sources.
        let classCount = classNames.count
        let multiclass = classCount > 2
        let network = try model.build(imageSize: size, channels: channelCount, seed: seed, classCount: classCount)
        let optimizer = model.defaultOptimizer(learningRate: learningRate)
        let batch = batchSize ?? model.defaultBatchSize
        let augmentation = augment ? Augmentation(rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: 0.1) : nil
        var trainSource = ImageBatchSource<Float>(train, augmentation: augmentation, seed: seed)
        var oversampling = ""
        if oversample {
            trainSource = trainSource.oversampled(seed: seed)
            let counts = classNames.indices.map { c in "\(trainSource.sampleLabels.filter { $0 == c }.count) \(classNames[c])" }
            oversampling = "oversampled to \(trainSource.count) images per epoch (\(counts.joined(separator: ", ")))"
            say("training images " + oversampling)
        }
        let validationSource = ImageBatchSource<Float>(validation)
        let weights = classWeights ? balancedClassWeights(labels: trainSource.sampleLabels, classCount: classNames.count) : nil
        if let weights { say("class weights: " + weights.keys.sorted().map { "\(classNames[$0]) \(String(format: "%.3f", weights[$0]!))" }.joined(separator: ", ")) }
        say("\(model.rawValue): \(network.totalParameterCount) parameters, \(model.optimizerName) learning rate \(optimizer.learningRate), batch \(batch), \(epochs) epochs")

        let trainer = Trainer(model: network, loss: multiclass ? .sparseCategoricalCrossEntropy() : .binaryCrossEntropy(),
                              optimizer: optimizer, seed: seed,
                              progress: quiet ? ProgressReporter(style: .silent) : .automatic())
        let monitored = multiclass ? "val_loss" : "val_auc"
        var callbacks: [any Callback<Float>] = []
        if let earlyStoppingPatience {
            callbacks.append(EarlyStopping<Float>(monitor: monitored, patience: earlyStoppingPatience, restoreBestWeights: true))
        }
        let history = try trainer.fit(trainSource, epochs: epochs, batchSize: batch, validation: validationSource,
                                      classWeights: weights, callbacks: callbacks)
        let trainingSeconds = Date().timeIntervalSince(start)

        // Threshold and validation metrics.
        let extra: [(String, JSONValue)] = [
            ("split", .string("validation")), ("model", .string(model.rawValue)), ("data", .string(data)),
            ("epochs_run", .integer(history.count)), ("training_seconds", .number(trainingSeconds)),
        ]
        var threshold = 0.5
        let decision: String, results: String, summary: String
        if multiclass {
            let rows = try predictOutputs(model: network, dataset: validation, batchSize: batch, columns: classCount)
            let evaluation = try MulticlassEvaluation(files: validationNames, labels: validation.labels, probabilities: rows,
                                                      classNames: classNames)
            try evaluation.write(to: outURL, extra: extra)
            decision = "- Decision: each image is given its most probable class (arg-max of the softmax); no threshold."
            results = evaluation.markdown(title: "Validation split")
            summary = String(format: "validation: accuracy %.3f, macro F1 %.3f, macro AUC (one vs rest) %@",
                             evaluation.accuracy, evaluation.report.macroAverage.f1Score,
                             evaluation.macroAUC.map { String(format: "%.3f", $0) } ?? "n/a")
        } else {
            let probabilities = try predictProbabilities(model: network, dataset: validation, batchSize: batch)
            let labels = validation.labels
            var thresholdRule = "0.5 (Youden's J needs both classes in the validation split)"
            if Set(labels).count == 2 {
                threshold = try ThresholdSelection.maximizingYoudenJ(labels: labels, scores: probabilities).threshold
                thresholdRule = "maximizes Youden's J (sensitivity + specificity - 1) on the validation split"
            }
            let evaluation = try BinaryEvaluation(files: validationNames, labels: labels, probabilities: probabilities,
                                                  threshold: threshold, classNames: classNames)
            try evaluation.write(to: outURL, extra: extra)
            decision = """
                - Decision threshold: \(String(format: "%.4f", threshold)), which \(thresholdRule). The validation \
                figures below use the threshold chosen on the same images, so they are optimistic; evaluate on \
                held-out data (`pneumonia evaluate`) for unbiased figures.
                """
            results = evaluation.markdown(title: "Validation split")
            summary = String(format: "validation: accuracy %.3f, sensitivity %.3f, specificity %.3f, AUC %@ at threshold %.4f",
                             evaluation.accuracy, evaluation.sensitivity, evaluation.specificity,
                             evaluation.auc.map { String(format: "%.3f", $0) } ?? "n/a", threshold)
        }
        let info = CheckpointInfo(model: model, imageSize: size, channels: channelCount, classNames: classNames, threshold: threshold, seed: seed)
        try network.saveWeights(to: outURL.appendingPathComponent("checkpoint.safetensors"), metadata: info.metadata)
        try history.writeCSV(to: outURL.appendingPathComponent("history.csv"))
        try writeText(trainingCurves(history), to: outURL.appendingPathComponent("training-curves.svg"))

        let flags = [augment ? "--augment" : nil, classWeights ? "--class-weights" : nil, oversample ? "--oversample" : nil].compactMap { $0 }
        let report = """
            # \(model.rawValue) on \(data)

            - Command: `pneumonia \(CommandLine.arguments.dropFirst().joined(separator: " "))`
            - Data: \(splitDescription); \(train.count) training images (\(countText(train))), \
            \(validation.count) validation images (\(countText(validation)))\(oversampling.isEmpty ? "" : "; training images " + oversampling).
            - Model: \(model.rawValue), input \(size)x\(size)x\(channelCount), \(network.totalParameterCount) parameters.
            - Training: \(model.optimizerName), learning rate \(learningRate ?? (model == .cnn150 ? 1e-4 : 1e-3)), batch \(batch), \
            \(history.count) of \(epochs) epochs\(earlyStoppingPatience.map { ", early stopping on \(monitored) with patience \($0) (best weights restored)" } ?? ""), \
            seed \(seed)\(flags.isEmpty ? "" : ", " + flags.joined(separator: " ")); \(String(format: "%.1f", trainingSeconds)) s.
            \(decision)

            \(results)
            ## Training history

            ```
            \(history.csv())```

            Files: `checkpoint.safetensors`, `history.csv`, `metrics.json`, `predictions.csv`, `training-curves.svg`, \
            \(multiclass ? "" : "`roc.svg`, ")`confusion-matrix.svg`.

            """
        try writeText(report, to: outURL.appendingPathComponent("report.md"))
        say(summary)
        say("wrote \(outURL.path)/{checkpoint.safetensors,history.csv,metrics.json,predictions.csv,report.md,training-curves.svg,"
            + (multiclass ? "" : "roc.svg,") + "confusion-matrix.svg}")
    }

    /// Loss and accuracy per epoch, training (solid) and validation (dashed), as two stacked charts.
    func trainingCurves(_ history: History) -> String {
        let x = history.epochs.map(Double.init)
        let loss = SVGPlot.lineChart(title: "Loss", xLabel: "Epoch", yLabel: "Binary cross-entropy", x: x, series: [
            .init(name: "training", values: history["loss"], color: "#1f77b4"),
            .init(name: "validation", values: history["val_loss"], color: "#ff7f0e", dashed: true),
        ])
        let hasAUC = !history["val_auc"].isEmpty
        var series: [SVGPlot.Series] = [
            .init(name: "training", values: history["accuracy"], color: "#1f77b4"),
            .init(name: "validation", values: history["val_accuracy"], color: "#ff7f0e", dashed: true),
        ]
        if hasAUC { series.append(.init(name: "validation AUC", values: history["val_auc"], color: "#2ca02c", dashed: true)) }
        let accuracy = SVGPlot.lineChart(title: hasAUC ? "Accuracy and validation AUC" : "Accuracy", xLabel: "Epoch",
                                         yLabel: hasAUC ? "Accuracy / AUC" : "Accuracy", x: x, series: series, yRange: 0...1)
        return SVGPlot.stacked([loss, accuracy])
    }
}
