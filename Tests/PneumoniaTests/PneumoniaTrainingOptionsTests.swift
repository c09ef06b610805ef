import Datasets
import Foundation
import PneumoniaModels
import Tensor
import Testing

@testable import pneumonia

/// `pneumonia train` options beyond the defaults: `--oversample`, `--early-stopping-patience`
/// and the 3-class `--labels cause` task, on generated images.
@Suite("pneumonia training options")
struct PneumoniaTrainingOptionsTests {
    let helpers = PneumoniaEndToEndTests()

    /// Writes a Kaggle-layout tree of generated PNGs: NORMAL is dark noise; bacterial pneumonia a
    /// bright blob in the centre; viral pneumonia a bright band at the top. Patients are one per image.
    func writeData(_ root: URL, counts: [String: Int], seed: UInt64 = 11) throws {
        var generator = SeededGenerator(seed: seed)
        var patient = 0
        for split in ["train", "test"] {
            for kind in ["normal", "bacteria", "virus"] {
                let count = (counts["\(split)/\(kind)"] ?? 0)
                let folder = root.appendingPathComponent("\(split)/\(kind == "normal" ? "NORMAL" : "PNEUMONIA")")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                for i in 0..<count {
                    patient += 1
                    let (w, h) = (32, 32)
                    var pixels = [UInt8](repeating: 0, count: w * h)
                    for y in 0..<h {
                        for x in 0..<w {
                            let noise = Double(UInt8.random(in: 0...40, using: &generator))
                            let dx = Double(x - w / 2), dy = Double(y - h / 2)
                            let signal: Double
                            switch kind {
                            case "bacteria": signal = 180 * exp(-(dx * dx + dy * dy) / 40)
                            case "virus": signal = y < 8 ? 170 : 0
                            default: signal = 0
                            }
                            pixels[y * w + x] = UInt8(min(255, 30 + noise + signal))
                        }
                    }
                    let name = kind == "normal" ? String(format: "IM-%04d-0001.png", patient) : "person\(patient)_\(kind)_\(i).png"
                    try Image(width: w, height: h, channels: 1, pixels: pixels).pngData().write(to: folder.appendingPathComponent(name))
                }
            }
        }
    }

    @Test("--oversample repeats the minority class up to the majority class's count")
    func oversample() throws {
        let root = try helpers.temporaryFolder("oversample")
        defer { try? FileManager.default.removeItem(at: root) }
        try writeData(root, counts: ["train/normal": 12, "train/bacteria": 36])
        let out = root.appendingPathComponent("run")
        try helpers.run(["train", "--model", "cnn", "--data", root.path, "--out", out.path, "--epochs", "1", "--image-size", "16",
                         "--batch-size", "16", "--val-fraction", "0.25", "--oversample", "--quiet"])
        let report = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        // The grouped split keeps whole patients (one image each here), so the training side has
        // some NORMAL n and PNEUMONIA p images; oversampling must give p + p images, p of each class.
        let line = try #require(report.split(separator: "\n").first { $0.contains("training images oversampled") }, "\(report)")
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        // "- Data: ... N training images (n NORMAL, p PNEUMONIA), V validation images (...); training
        //  images oversampled to T images per epoch (p NORMAL, p PNEUMONIA)."
        let trained = try #require(report.range(of: #"(\d+) training images \((\d+) NORMAL, (\d+) PNEUMONIA\)"#, options: .regularExpression))
        let parts = report[trained].split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        #expect(parts.count == 3 && parts[0] == parts[1] + parts[2] && parts[1] < parts[2], "\(parts)")
        let majority = parts[2]
        #expect(Array(numbers.suffix(3)) == [2 * majority, majority, majority], "\(line)")
    }

    @Test("--early-stopping-patience stops when validation AUC stalls and restores the best weights")
    func earlyStopping() throws {
        let root = try helpers.temporaryFolder("early")
        defer { try? FileManager.default.removeItem(at: root) }
        try writeData(root, counts: ["train/normal": 24, "train/bacteria": 24])
        let out = root.appendingPathComponent("run")
        try helpers.run(["train", "--model", "cnn", "--data", root.path, "--out", out.path, "--epochs", "40", "--image-size", "16",
                         "--batch-size", "8", "--val-fraction", "0.3", "--early-stopping-patience", "2", "--quiet"])
        // The blob separates the classes perfectly within a few epochs: the validation AUC reaches
        // its best and cannot improve for 2 more epochs long before epoch 40.
        let history = try helpers.lines(out.appendingPathComponent("history.csv"))
        let aucs = history.dropFirst().map { Double($0.split(separator: ",")[5])! }
        #expect(aucs.count < 40, "ran all \(aucs.count) epochs")
        let best = try #require(aucs.max())
        let bestEpoch = try #require(aucs.firstIndex(of: best))
        #expect(aucs.count == bestEpoch + 1 + 2, "stopped at epoch \(aucs.count), best at \(bestEpoch + 1): \(aucs)")
        // The checkpoint holds the best epoch's weights: its validation AUC is the best one logged.
        let metrics = try helpers.jsonObject(out.appendingPathComponent("metrics.json"))
        let auc = try #require(metrics["auc"] as? Double)
        #expect(abs(auc - best) < 1e-9, "final AUC \(auc), best logged \(best)")
        #expect(metrics["epochs_run"] as? Int == aucs.count)
    }

    @Test("--labels cause trains a 3-class NORMAL / BACTERIA / VIRUS model; evaluate and predict read it")
    func threeClasses() throws {
        let root = try helpers.temporaryFolder("cause")
        defer { try? FileManager.default.removeItem(at: root) }
        try writeData(root, counts: ["train/normal": 20, "train/bacteria": 20, "train/virus": 20,
                                     "test/normal": 5, "test/bacteria": 5, "test/virus": 5])
        let out = root.appendingPathComponent("run")
        try helpers.run(["train", "--model", "cnn", "--data", root.path, "--out", out.path, "--epochs", "8", "--image-size", "16",
                         "--batch-size", "8", "--val-fraction", "0.25", "--labels", "cause", "--quiet"])
        let checkpoint = out.appendingPathComponent("checkpoint.safetensors")
        let info = try CheckpointInfo(metadata: try SafeTensorsFile(contentsOf: checkpoint).metadata, file: checkpoint.path)
        #expect(info.classNames == ["NORMAL", "BACTERIA", "VIRUS"])
        for svg in ["training-curves.svg", "confusion-matrix.svg"] { try helpers.checkSVG(out.appendingPathComponent(svg)) }

        let evaluation = root.appendingPathComponent("eval")
        try helpers.run(["evaluate", "--checkpoint", checkpoint.path, "--data", root.appendingPathComponent("test").path,
                         "--out", evaluation.path])
        let csv = try helpers.lines(evaluation.appendingPathComponent("predictions.csv"))
        #expect(csv.first == "file,label,prediction,probability_NORMAL,probability_BACTERIA,probability_VIRUS")
        let rows = csv.dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == 15)
        var confusion = [[Int]](repeating: [0, 0, 0], count: 3)
        for row in rows {
            let label = try #require(Int(row[1])), prediction = try #require(Int(row[2]))
            let p = row[3...].compactMap { Double($0) }
            #expect(p.count == 3 && abs(p.reduce(0, +) - 1) < 1e-4, "\(row)")
            #expect(prediction == p.indices.max { p[$0] < p[$1] }, "\(row)")
            // The label comes from the file name, not the folder.
            #expect(label == (row[0].contains("_virus_") ? 2 : row[0].contains("_bacteria_") ? 1 : 0))
            confusion[label][prediction] += 1
        }
        let metrics = try helpers.jsonObject(evaluation.appendingPathComponent("metrics.json"))
        #expect(metrics["confusion"] as? [[Int]] == confusion)
        let accuracy = try #require(metrics["accuracy"] as? Double)
        #expect(abs(accuracy - Double((0..<3).map { confusion[$0][$0] }.reduce(0, +)) / 15) < 1e-9)
        // Three visibly different patterns: a short run separates them well.
        let macroAUC = try #require(metrics["macro_auc_ovr"] as? Double)
        #expect(macroAUC > 0.8, "macro AUC \(macroAUC)")
        let perClass = try #require(metrics["per_class"] as? [String: [String: Any]])
        #expect(Set(perClass.keys) == ["NORMAL", "BACTERIA", "VIRUS"] && perClass.values.allSatisfy { $0["support"] as? Int == 5 })
        let report = try String(contentsOf: evaluation.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("precision    recall  f1-score   support") && report.contains("VIRUS"))

        let virus = try #require(rows.first { $0[0].contains("_virus_") })
        let predict = try Predict.parse(["--checkpoint", checkpoint.path, "--json",
                                         root.appendingPathComponent("test").appendingPathComponent(virus[0]).path])
        let line = try #require(try predict.outputLines().first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(["NORMAL", "BACTERIA", "VIRUS"].contains(object["class"] as? String ?? ""))
        #expect((object["probabilities"] as? [String: Double])?.count == 3)

        // A threshold means nothing for an arg-max decision: a one-line error, not a silent no-op.
        try helpers.expectOneLineError(["evaluate", "--checkpoint", checkpoint.path, "--data", root.appendingPathComponent("test").path,
                                        "--out", evaluation.path, "--threshold", "0.3"], mentioning: "--threshold")
        try helpers.expectOneLineError(["predict", "--checkpoint", checkpoint.path, "--threshold", "0.3",
                                        root.appendingPathComponent("test").appendingPathComponent(virus[0]).path], mentioning: "--threshold")
        // PneumoniaMNIST has no cause labels: a one-line error.
        try helpers.expectOneLineError(["train", "--model", "cnn", "--data", root.appendingPathComponent("x.npz").path, "--out",
                                        out.path, "--labels", "cause"], mentioning: "--labels cause")
    }
}
