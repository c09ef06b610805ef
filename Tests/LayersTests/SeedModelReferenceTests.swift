import Foundation
import Layers
import PneumoniaModels
import Testing

/// What Keras 3.15.1 reports for the seed models (Tests/ReferenceScripts/seed_model_fixtures.py,
/// seed_models.json).
struct KerasSeedModels: Decodable {
    struct Row: Decodable, Hashable {
        let `class`: String
        let output: [Int]
        let params: Int
    }
    struct Model: Decodable {
        let layers: [Row]
        let total: Int
        let trainable: Int
    }
    let generator: String
    let models: [String: Model]

    static func load() throws -> KerasSeedModels {
        let url = try #require(Bundle.module.url(forResource: "seed_models", withExtension: "json", subdirectory: "Fixtures"))
        return try JSONDecoder().decode(KerasSeedModels.self, from: Data(contentsOf: url))
    }
}

@Suite("Seed models against Keras")
struct SeedModelReferenceTests {
    @Test(arguments: SeedModel.allCases)
    func layersShapesAndParameterCountsMatchKeras(_ seed: SeedModel) throws {
        let keras = try #require(try KerasSeedModels.load().models[seed.rawValue])
        let model: Sequential<Float> = try seed.build(seed: 1)
        #expect(model.totalParameterCount == keras.total)
        #expect(model.trainableParameterCount == keras.trainable)
        // Every non-container layer with its class, output shape and parameter count. Keras lists
        // the functional models' layers in creation order, so compare as multisets.
        var ours: [KerasSeedModels.Row] = []
        for layer in model.allLayers where layer.sublayers.isEmpty || layer.typeName == "Add" {
            let input = try #require(layer.builtInputShape)
            ours.append(.init(class: layer.typeName, output: try layer.outputShape(for: input), params: layer.parameterCount))
        }
        ours = ours.filter { $0.class != "Identity" }
        #expect(ours.count == keras.layers.count)
        #expect(Dictionary(grouping: ours, by: { $0 }).mapValues(\.count) == Dictionary(grouping: keras.layers, by: { $0 }).mapValues(\.count))
        if seed != .xceptionMini {
            #expect(ours == keras.layers, "layer order differs from Keras")
        }
    }

    @Test func summaryPrintsTheSeedCounts() throws {
        // The counts seed-models.md states.
        let expected: [SeedModel: String] = [.cnn150: "3,453,121", .cnn128: "296,609", .dense: "2,888,449"]
        for (seed, count) in expected {
            let summary = try seed.build(Float.self).summary()
            #expect(summary.contains("Total params: \(count) "), "\(seed): \(summary)")
        }
    }
}
