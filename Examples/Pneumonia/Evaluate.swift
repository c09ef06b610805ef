import ArgumentParser
import DeepLearning
import Foundation
import PneumoniaModels

/// `pneumonia evaluate`: a trained checkpoint on a labelled folder (one subfolder per class) or
/// a split of a MedMNIST archive: metrics with bootstrap intervals, predictions, report, plots.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint on labelled images; writes metrics.json, predictions.csv, report.md, roc.svg, confusion-matrix.svg.")

    @Option(help: "A checkpoint written by `pneumonia train`.")
    var checkpoint: String

    @Option(help: "A folder with one subfolder per class (e.g. chest_xray/test), or a MedMNIST .npz file.")
    var data: String

    @Option(help: "The output folder (created if needed).")
    var out: String

    @Option(help: "Decision threshold on the probability of pneumonia (default: the checkpoint's, chosen on validation data).")
    var threshold: Double?

    @Option(help: "The split of a .npz file to evaluate.")
    var split: String = "test"

    @Option(help: "Fail unless the checkpoint holds this model.")
    var model: SeedModel?

    @Option(help: "Where decoded images are cached (default: no cache).")
    var cacheDir: String?

    @Option(help: "Images per inference batch.")
    var batchSize: Int = 32

    func validate() throws {
        if let threshold, !(threshold >= 0 && threshold <= 1) { throw ValidationError("--threshold must be in [0, 1], got \(threshold)") }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
    }

    func run() throws {
        let loaded = try LoadedCheckpoint(url: URL(fileURLWithPath: checkpoint), expectedModel: model)
        let info = loaded.info
        let dataURL = URL(fileURLWithPath: data)
        let images: LabelledImages
        let multiclass = info.isMulticlass
        if DataLoading.isArchive(data) {
            guard !multiclass else { throw PneumoniaError("\(checkpoint) classifies \(info.classNames); \(data) has no such labels") }
            images = try DataLoading.archive(url: dataURL, split: split, preprocessing: info.preprocessing)
        } else {
            images = try DataLoading.folder(root: dataURL, preprocessing: info.preprocessing,
                                            cacheDirectory: cacheDir.map { URL(fileURLWithPath: $0) },
                                            labelling: multiclass ? .pneumoniaCause : .folders)
        }
        guard images.dataset.classNames == info.classNames else {
            throw PneumoniaError("\(data) has classes \(images.dataset.classNames) but the checkpoint was trained on \(info.classNames)")
        }
        let outURL = URL(fileURLWithPath: out)
        try makeDirectory(outURL)
        let extra: [(String, JSONValue)] = [
            ("split", .string(DataLoading.isArchive(data) ? split : "evaluation")), ("model", .string(info.model.rawValue)),
            ("data", .string(data)), ("checkpoint", .string(checkpoint)),
        ]
        let heading = """
            # \(info.model.rawValue) evaluated on \(data)

            - Command: `pneumonia \(CommandLine.arguments.dropFirst().joined(separator: " "))`
            - Checkpoint: `\(checkpoint)` (\(info.model.rawValue), input \(info.imageSize)x\(info.imageSize)x\(info.channels), \
            training seed \(info.seed)).
            """
        if multiclass {
            try MulticlassEvaluation.rejectThreshold(threshold, checkpoint: checkpoint, classNames: info.classNames)
            let rows = try predictOutputs(model: loaded.model, dataset: images.dataset, batchSize: batchSize, columns: info.classNames.count)
            let evaluation = try MulticlassEvaluation(files: images.names, labels: images.dataset.labels, probabilities: rows,
                                                      classNames: info.classNames)
            try evaluation.write(to: outURL, extra: extra)
            try writeText(heading + "\n- Decision: the most probable class (arg-max).\n\n" + evaluation.markdown(title: "Results"),
                          to: outURL.appendingPathComponent("report.md"))
            print(String(format: "%d images: accuracy %.3f, macro F1 %.3f, macro AUC (one vs rest) %@", evaluation.labels.count,
                         evaluation.accuracy, evaluation.report.macroAverage.f1Score,
                         evaluation.macroAUC.map { String(format: "%.3f", $0) } ?? "n/a"))
            print("wrote \(outURL.path)/{metrics.json,predictions.csv,report.md,confusion-matrix.svg}")
            return
        }
        let probabilities = try predictProbabilities(model: loaded.model, dataset: images.dataset, batchSize: batchSize)
        let chosen = threshold ?? info.threshold
        let evaluation = try BinaryEvaluation(files: images.names, labels: images.dataset.labels, probabilities: probabilities,
                                              threshold: chosen, classNames: info.classNames)
        try evaluation.write(to: outURL, extra: extra)
        let report = """
            \(heading)
            - Threshold: \(String(format: "%.4f", chosen)) (\(threshold == nil ? "the checkpoint's, chosen on its validation split" : "given on the command line")).

            \(evaluation.markdown(title: "Results"))
            """
        try writeText(report, to: outURL.appendingPathComponent("report.md"))
        print(String(format: "%d images: accuracy %@, sensitivity %@, specificity %@, F1 %.3f, AUC %@",
                     evaluation.labels.count, evaluation.percent("accuracy", evaluation.accuracy),
                     evaluation.percent("sensitivity", evaluation.sensitivity), evaluation.percent("specificity", evaluation.specificity),
                     evaluation.f1, evaluation.auc.map { String(format: "%.3f", $0) } ?? "n/a"))
        print("wrote \(outURL.path)/{metrics.json,predictions.csv,report.md,roc.svg,confusion-matrix.svg}")
    }
}

/// `pneumonia predict`: the probability of pneumonia and the predicted class of image files.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify image files with a checkpoint: file, probability of pneumonia, predicted class.")

    @Option(help: "A checkpoint written by `pneumonia train`.")
    var checkpoint: String

    @Flag(help: "One JSON object per image and line.")
    var json = false

    @Option(help: "Decision threshold (default: the checkpoint's).")
    var threshold: Double?

    @Argument(help: "JPEG or PNG files.")
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image file") }
        if let threshold, !(threshold >= 0 && threshold <= 1) { throw ValidationError("--threshold must be in [0, 1], got \(threshold)") }
    }

    func run() throws {
        for line in try outputLines() { print(line) }
    }

    /// The lines `run` prints: per image, tab-separated file, probability and class, or a JSON object.
    func outputLines() throws -> [String] {
        let loaded = try LoadedCheckpoint(url: URL(fileURLWithPath: checkpoint))
        let info = loaded.info
        let preprocessing = info.preprocessing
        var pixels: [UInt8] = []
        var records: [ImageRecord] = []
        for path in images {
            let image = try Image(contentsOf: URL(fileURLWithPath: path))
            pixels += preprocessing.apply(to: image).pixels
            records.append(ImageRecord(file: path, label: 0))
        }
        let dataset = ImageDataset(records: records, classNames: info.classNames, preprocessing: preprocessing, pixels: pixels)
        if info.isMulticlass {
            try MulticlassEvaluation.rejectThreshold(threshold, checkpoint: checkpoint, classNames: info.classNames)
            let rows = try predictOutputs(model: loaded.model, dataset: dataset, columns: info.classNames.count)
            return zip(images, rows).map { path, row in
                let predicted = MulticlassEvaluation.mostProbableClass(row)
                if json {
                    return JSONValue.object([
                        ("file", .string(path)), ("prediction", .integer(predicted)), ("class", .string(info.classNames[predicted])),
                        ("probabilities", .object(zip(info.classNames, row).map { ($0, .number($1)) })),
                    ]).text(indent: nil)
                }
                let text = zip(info.classNames, row).map { "\($0) \(String(format: "%.4f", $1))" }.joined(separator: " ")
                return "\(path)\t\(info.classNames[predicted])\t\(text)"
            }
        }
        let probabilities = try predictProbabilities(model: loaded.model, dataset: dataset)
        let cut = threshold ?? info.threshold
        return zip(images, probabilities).map { path, p in
            let predicted = p >= cut ? 1 : 0
            let className = info.classNames.indices.contains(predicted) ? info.classNames[predicted] : String(predicted)
            if json {
                return JSONValue.object([
                    ("file", .string(path)), ("probability", .number(p)), ("prediction", .integer(predicted)),
                    ("class", .string(className)), ("threshold", .number(cut)),
                ]).text(indent: nil)
            }
            return "\(path)\t\(String(format: "%.4f", p))\t\(className)"
        }
    }
}
