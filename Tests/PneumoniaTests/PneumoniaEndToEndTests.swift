import Datasets
import Foundation
import PneumoniaModels
import Tensor
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import pneumonia

/// The shared chest X-ray data next to the package (`../shared/data/chest_xray`), when present.
let realDataRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data/chest_xray")
let realDataAvailable = FileManager.default.fileExists(atPath: realDataRoot.appendingPathComponent("train/NORMAL").path)

/// End-to-end runs of `pneumonia train`, `evaluate` and `predict` through the argument parser,
/// checking that every output file exists and parses.
@Suite("pneumonia end to end")
struct PneumoniaEndToEndTests {
    @Test("train, evaluate and predict on generated PNG images")
    func generatedImages() throws {
        let root = try temporaryFolder("generated")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data")
        // NORMAL: dark noise; PNEUMONIA: a bright blob; patient ids in the Kermany file-name styles.
        var generator = SeededGenerator(seed: 7)
        func write(_ split: String, _ cls: String, count: Int, offset: Int) throws {
            let folder = data.appendingPathComponent("\(split)/\(cls)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<count {
                let (w, h) = (36 + i % 5, 40 - i % 3)
                var pixels = [UInt8](repeating: 0, count: w * h)
                for y in 0..<h {
                    for x in 0..<w {
                        let noise = Double(UInt8.random(in: 0...40, using: &generator))
                        let dx = Double(x - w / 2), dy = Double(y - h / 2)
                        let blob = cls == "PNEUMONIA" ? 180 * exp(-(dx * dx + dy * dy) / 60) : 0
                        pixels[y * w + x] = UInt8(min(255, 30 + noise + blob))
                    }
                }
                let name = cls == "NORMAL" ? String(format: "IM-%04d-0001.png", offset + i) : "person\(offset + i)_bacteria_\(i).png"
                try Image(width: w, height: h, channels: 1, pixels: pixels).pngData().write(to: folder.appendingPathComponent(name))
            }
        }
        try write("train", "NORMAL", count: 20, offset: 0)
        try write("train", "PNEUMONIA", count: 20, offset: 100)
        try write("val", "NORMAL", count: 2, offset: 200)
        try write("val", "PNEUMONIA", count: 2, offset: 300)
        try write("test", "NORMAL", count: 6, offset: 400)
        try write("test", "PNEUMONIA", count: 6, offset: 500)

        let out = root.appendingPathComponent("run")
        try run(["train", "--model", "cnn", "--data", data.path, "--out", out.path, "--epochs", "2", "--image-size", "24",
                 "--batch-size", "8", "--val-fraction", "0.25", "--augment", "--class-weights", "--quiet"])
        let validationCount = try checkTrainingOutputs(out, epochs: 2)
        #expect(validationCount >= 4 && validationCount <= 20)

        let checkpoint = out.appendingPathComponent("checkpoint.safetensors")
        let file = try SafeTensorsFile(contentsOf: checkpoint)
        let info = try CheckpointInfo(metadata: file.metadata, file: checkpoint.path)
        #expect(info.model == .cnn && info.imageSize == 24 && info.channels == 1)
        #expect(info.classNames == ["NORMAL", "PNEUMONIA"])
        #expect(info.threshold > 0 && info.threshold < 1)

        let evaluation = root.appendingPathComponent("eval")
        try run(["evaluate", "--checkpoint", checkpoint.path, "--data", data.appendingPathComponent("test").path, "--out", evaluation.path])
        let rows = try checkEvaluationOutputs(evaluation, count: 12)
        #expect(rows.allSatisfy { $0.file.hasPrefix("NORMAL/") || $0.file.hasPrefix("PNEUMONIA/") })
        #expect(rows.filter { $0.label == 1 }.count == 6)
        // The blob is easy: one short run separates the classes on the test images.
        let metrics = try jsonObject(evaluation.appendingPathComponent("metrics.json"))
        #expect((metrics["auc"] as? Double ?? 0) > 0.8, "AUC \(metrics["auc"] ?? "none")")

        // predict: one line per image; JSON lines that agree with evaluate's predictions.
        let images = ["NORMAL/IM-0400-0001.png", "PNEUMONIA/person500_bacteria_0.png"]
        let paths = images.map { data.appendingPathComponent("test/" + $0).path }
        var predict = try Predict.parse(["--checkpoint", checkpoint.path, "--json"] + paths)
        let lines = try predict.outputLines()
        #expect(lines.count == 2)
        for (line, name) in zip(lines, images) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let row = try #require(rows.first { $0.file == name })
            #expect(object["file"] as? String == data.appendingPathComponent("test/" + name).path)
            #expect(abs((object["probability"] as? Double ?? -1) - row.probability) < 1e-5)
            #expect(object["prediction"] as? Int == row.prediction)
            #expect(object["class"] as? String == (row.prediction == 1 ? "PNEUMONIA" : "NORMAL"))
        }
        predict.json = false
        let plain = try predict.outputLines()
        #expect(plain.count == 2 && plain.allSatisfy { $0.split(separator: "\t").count == 3 })

        // Bad input: one-line errors, no crash.
        try expectOneLineError(["evaluate", "--checkpoint", root.appendingPathComponent("missing.safetensors").path,
                                "--data", data.path, "--out", evaluation.path])
        try expectOneLineError(["evaluate", "--checkpoint", checkpoint.path, "--data", root.appendingPathComponent("nothing").path,
                                "--out", evaluation.path])
        try expectOneLineError(["evaluate", "--model", "vgg3", "--checkpoint", checkpoint.path, "--data", data.path, "--out", evaluation.path])
        // Weights of cnn under the metadata of dense: a checkpoint of another model.
        var foreign = file
        foreign.metadata["model"] = "dense"
        let foreignURL = root.appendingPathComponent("foreign.safetensors")
        try foreign.write(to: foreignURL)
        try expectOneLineError(["predict", "--checkpoint", foreignURL.path, paths[0]], mentioning: "does not hold dense weights")
        // A truncated checkpoint and an unreadable image.
        let corrupt = root.appendingPathComponent("corrupt.safetensors")
        try Data(try Data(contentsOf: checkpoint).prefix(64)).write(to: corrupt)
        try expectOneLineError(["predict", "--checkpoint", corrupt.path, paths[0]])
        let notAnImage = root.appendingPathComponent("not-an-image.png")
        try Data("hello".utf8).write(to: notAnImage)
        try expectOneLineError(["predict", "--checkpoint", checkpoint.path, notAnImage.path], mentioning: notAnImage.path)
    }

    @Test("train and evaluate on a few dozen real chest X-rays", .enabled(if: realDataAvailable, "../shared/data/chest_xray is absent: skipped"))
    func realImages() throws {
        let root = try temporaryFolder("real")
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("run")
        try run(["train", "--model", "cnn", "--data", realDataRoot.path, "--out", out.path, "--epochs", "1", "--image-size", "32",
                 "--limit", "20", "--batch-size", "16", "--val-fraction", "0.3"])
        let validationCount = try checkTrainingOutputs(out, epochs: 1)
        #expect(validationCount > 0 && validationCount < 40)
        let evaluation = root.appendingPathComponent("eval")
        try run(["evaluate", "--checkpoint", out.appendingPathComponent("checkpoint.safetensors").path,
                 "--data", realDataRoot.appendingPathComponent("val").path, "--out", evaluation.path])
        let rows = try checkEvaluationOutputs(evaluation, count: 16)
        #expect(rows.contains { $0.file == "NORMAL/NORMAL2-IM-1427-0001.jpeg" && $0.label == 0 })
    }

    // MARK: Helpers

    /// Parses and runs a `pneumonia` command line in-process.
    func run(_ arguments: [String]) throws {
        var command = try Pneumonia.parseAsRoot(arguments)
        try command.run()
    }

    /// Running `arguments` throws an error whose message is one line (containing `mentioning`).
    func expectOneLineError(_ arguments: [String], mentioning: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) throws {
        do {
            try run(arguments)
            Issue.record("\(arguments) did not fail", sourceLocation: sourceLocation)
        } catch {
            let message = Pneumonia.message(for: error)
            #expect(!message.isEmpty && !message.contains("\n"), "\(message)", sourceLocation: sourceLocation)
            if let mentioning { #expect(message.contains(mentioning), "\(message)", sourceLocation: sourceLocation) }
        }
    }

    /// Checks the files of a training run; returns the number of validation predictions.
    func checkTrainingOutputs(_ out: URL, epochs: Int) throws -> Int {
        let history = try lines(out.appendingPathComponent("history.csv"))
        #expect(history.first == "epoch,loss,accuracy,val_loss,val_accuracy,val_auc,learning_rate")
        #expect(history.count == epochs + 1)
        for (i, row) in history.dropFirst().enumerated() {
            let fields = row.split(separator: ",")
            #expect(fields.count == 7 && Int(fields[0]) == i + 1)
            #expect(fields.dropFirst().allSatisfy { Double($0) != nil }, "\(row)")
        }
        let rows = try predictionRows(out.appendingPathComponent("predictions.csv"))
        try checkMetrics(out.appendingPathComponent("metrics.json"), rows: rows)
        for svg in ["training-curves.svg", "roc.svg", "confusion-matrix.svg"] { try checkSVG(out.appendingPathComponent(svg)) }
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("precision") && report.contains("Validation split") && report.contains("Youden"))
        return rows.count
    }

    /// Checks the files of an evaluation of `count` images; returns its predictions.
    func checkEvaluationOutputs(_ out: URL, count: Int) throws -> [(file: String, label: Int, probability: Double, prediction: Int)] {
        let rows = try predictionRows(out.appendingPathComponent("predictions.csv"))
        #expect(rows.count == count)
        try checkMetrics(out.appendingPathComponent("metrics.json"), rows: rows)
        for svg in ["roc.svg", "confusion-matrix.svg"] { try checkSVG(out.appendingPathComponent(svg)) }
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("precision    recall  f1-score   support"))
        return rows
    }

    /// `metrics.json` has the required keys, and its counts agree with the predictions.
    func checkMetrics(_ url: URL, rows: [(file: String, label: Int, probability: Double, prediction: Int)]) throws {
        let metrics = try jsonObject(url)
        for key in ["count", "accuracy", "precision", "recall", "sensitivity", "specificity", "f1", "auc", "threshold", "confusion", "ci95"] {
            #expect(metrics[key] != nil, "metrics.json lacks \(key)")
        }
        #expect(metrics["count"] as? Int == rows.count)
        let confusion = try #require(metrics["confusion"] as? [String: Int])
        let tp = rows.filter { $0.label == 1 && $0.prediction == 1 }.count, tn = rows.filter { $0.label == 0 && $0.prediction == 0 }.count
        let fp = rows.filter { $0.label == 0 && $0.prediction == 1 }.count, fn = rows.filter { $0.label == 1 && $0.prediction == 0 }.count
        #expect(confusion == ["tp": tp, "tn": tn, "fp": fp, "fn": fn])
        let accuracy = try #require(metrics["accuracy"] as? Double)
        #expect(abs(accuracy - Double(tp + tn) / Double(rows.count)) < 1e-9)
        let threshold = try #require(metrics["threshold"] as? Double)
        for row in rows { #expect((row.probability >= threshold + 1e-6 ? 1 : row.probability < threshold - 1e-6 ? 0 : row.prediction) == row.prediction) }
        let intervals = try #require(metrics["ci95"] as? [String: Any])
        for key in ["accuracy", "sensitivity", "specificity", "auc"] {
            let interval = try #require(intervals[key] as? [String: Double], "no interval for \(key)")
            let lower = try #require(interval["lower"]), upper = try #require(interval["upper"])
            #expect(lower <= upper && lower >= 0 && upper <= 1)
            if let estimate = metrics[key] as? Double { #expect(lower <= estimate + 1e-9 && estimate <= upper + 1e-9, "\(key)") }
        }
    }

    /// The rows of a predictions.csv (after checking its header).
    func predictionRows(_ url: URL) throws -> [(file: String, label: Int, probability: Double, prediction: Int)] {
        let all = try lines(url)
        #expect(all.first == "file,label,probability,prediction")
        return try all.dropFirst().map { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false)
            #expect(f.count == 4, "\(line)")
            let label = try #require(Int(f[1])), probability = try #require(Double(f[2])), prediction = try #require(Int(f[3]))
            #expect([0, 1].contains(label) && [0, 1].contains(prediction) && probability >= 0 && probability <= 1)
            return (String(f[0]), label, probability, prediction)
        }
    }

    func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func jsonObject(_ url: URL) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// The file is well-formed XML whose root element is `svg`.
    func checkSVG(_ url: URL) throws {
        let parser = XMLParser(data: try Data(contentsOf: url))
        let delegate = RootElement()
        parser.delegate = delegate
        #expect(parser.parse(), "\(url.lastPathComponent): \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(delegate.root == "svg", "\(url.lastPathComponent)")
    }

    func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("pneumonia-tests-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Records the name of the first element.
final class RootElement: NSObject, XMLParserDelegate {
    var root: String?
    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if root == nil { root = elementName }
    }
}
