import Foundation
import Layers
import TestSupport
import Testing

/// A fresh empty folder under the temporary directory.
private func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

private func weightValues<S: TensorScalar>(_ model: Sequential<S>) -> [Tensor<S>] {
    model.namedWeights.map(\.weight.variable.value)
}

@Suite("Checkpoints: saving and loading model weights as safetensors")
struct CheckpointTests {
    @Test func floatModelRoundTripsWeightsAndMetadata() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        let saved = try Sequential<Float>(inputShape: [4], seed: 1) { Dense(3, activation: .relu); Dense(2) }
        try saved.saveWeights(to: url, metadata: ["epoch": "7", "loss": "0.25"])

        // What is on disk: one F32 tensor per named weight, under its model name.
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.tensors.keys.sorted() == ["dense.bias", "dense.kernel", "dense_1.bias", "dense_1.kernel"])
        #expect(file["dense.kernel"] == .float32(saved.namedWeights[0].weight.variable.value))
        #expect(file.metadata == ["epoch": "7", "loss": "0.25"])

        let restored = try Sequential<Float>(inputShape: [4], seed: 99) { Dense(3, activation: .relu); Dense(2) }
        #expect(weightValues(restored) != weightValues(saved))
        let metadata = try restored.loadWeights(from: url)
        #expect(metadata == ["epoch": "7", "loss": "0.25"])
        #expect(weightValues(restored) == weightValues(saved))
        let input = Tensor<Float>.normal([5, 4], seed: 3)
        #expect(try restored.predict(input) == saved.predict(input))
    }

    @Test func doubleModelRoundTripsAndCheckpointsConvertBetweenPrecisions() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        let saved = try Sequential<Double>(inputShape: [3], seed: 5) { Dense(4, activation: .tanh); Dense(1) }
        try saved.saveWeights(to: url)
        #expect(try SafeTensorsFile(contentsOf: url)["dense_1.kernel"]?.dtype == "F64")

        let restored = try Sequential<Double>(inputShape: [3], seed: 6) { Dense(4, activation: .tanh); Dense(1) }
        #expect(try restored.loadWeights(from: url) == [:])
        #expect(weightValues(restored) == weightValues(saved))

        // A Double checkpoint loads into a Float model (rounded), and back exactly.
        let single = try Sequential<Float>(inputShape: [3], seed: 7) { Dense(4, activation: .tanh); Dense(1) }
        try single.loadWeights(from: url)
        #expect(weightValues(single) == weightValues(saved).map { Tensor<Float>($0) })
    }

    @Test func aDifferentArchitectureFailsNamingTheTensorAndShapesAndChangesNothing() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        try Sequential<Float>(inputShape: [4], seed: 1) { Dense(3); Dense(2) }.saveWeights(to: url)

        // Same names, different width of the second layer: dense.* match, dense_1.* do not.
        let other = try Sequential<Float>(inputShape: [4], seed: 2) { Dense(3); Dense(5) }
        let before = weightValues(other)
        let error = #expect(throws: CheckpointError.self) { try other.loadWeights(from: url) }
        #expect(error == .shapeMismatch(file: url.path, tensor: "dense_1.kernel", expected: [3, 5], stored: [3, 2]))
        #expect(error?.description == "\(url.path): tensor 'dense_1.kernel' has shape [3, 2] in the checkpoint but [3, 5] in the model")
        #expect(weightValues(other) == before)

        // More layers than the file: the missing names, and nothing loaded.
        let deeper = try Sequential<Float>(inputShape: [4], seed: 3) { Dense(3); Dense(2); Dense(1) }
        let deeperBefore = weightValues(deeper)
        let names = #expect(throws: CheckpointError.self) { try deeper.loadWeights(from: url) }
        #expect(names == .nameMismatch(file: url.path, missing: ["dense_2.kernel", "dense_2.bias"], unexpected: []))
        #expect(weightValues(deeper) == deeperBefore)

        // Fewer layers: the unexpected names.
        let shallow = try Sequential<Float>(inputShape: [4], seed: 4) { Dense(3) }
        let unexpected = #expect(throws: CheckpointError.self) { try shallow.loadWeights(from: url) }
        #expect(unexpected == .nameMismatch(file: url.path, missing: [], unexpected: ["dense_1.bias", "dense_1.kernel"]))
        #expect(unexpected?.description.contains("unexpected tensors [\"dense_1.bias\", \"dense_1.kernel\"]") == true)
    }

    @Test func damagedFilesAndUnnamedModelsThrow() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("model.safetensors")
        let model = try Sequential<Float>(inputShape: [2], seed: 1) { Dense(2) }
        try model.saveWeights(to: url)
        var bytes = try Data(contentsOf: url)
        bytes.removeLast(4)
        try bytes.write(to: url)
        let before = weightValues(model)
        let damaged = #expect(throws: SafeTensorsError.self) { try model.loadWeights(from: url) }
        #expect(damaged?.file == url.path && damaged?.tensor != nil)
        #expect(weightValues(model) == before)

        // Layers without names give every weight the same prefix: saving refuses.
        let unnamed = Sequential<Float> { Dense(2); Dense(2) }
        var generator = SeededGenerator(seed: 1)
        try unnamed.build(inputShape: [2], generator: &generator)
        let duplicate = #expect(throws: CheckpointError.self) { try unnamed.saveWeights(to: url) }
        #expect(duplicate == .duplicateWeightName(".kernel"))
    }
}
