import ArgumentParser
import DeepLearning
import Foundation
import PneumoniaModels

/// `pneumonia`: the seed projects' chest X-ray classifiers, reproduced with swift-deep-learning.
/// A thrown error ends the command with a one-line message and a non-zero exit status (the
/// argument parser's handling), never a crash trace.
@main
struct Pneumonia: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pediatric chest X-ray classifiers (NORMAL vs PNEUMONIA) from the seed projects.",
        subcommands: [Summary.self, Train.self, Evaluate.self, Predict.self, Bench.self]
    )
}

extension SeedModel: ExpressibleByArgument {
    /// Accepts the names used in docs/seed-models.md (`cnn150`, `deep-cnn`, ...).
    public init?(argument: String) {
        self.init(rawValue: argument)
    }

    /// Every model name, for `--help`.
    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}

/// `pneumonia summary --model NAME`: the Keras-style summary.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a model's Keras-style summary.")

    @Option(help: "The model: \(SeedModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: SeedModel

    func run() throws {
        let built: Sequential<Float> = try model.build(seed: 1)
        print(built.summary())
    }
}
