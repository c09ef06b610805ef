import Layers
import PneumoniaModels
import TestSupport
import Testing

// The seed models of docs/seed-models.md: counts and names stated there and in Keras's summaries.

@Suite("Seed CNN models: parameter counts as in Keras")
struct SeedModelCountTests {
    @Test("cnn150 has 3,453,121 parameters and Keras's layer names and shapes")
    func cnn150() throws {
        let model: Sequential<Float> = try SeedModel.cnn150.build(seed: 1)
        #expect(model.totalParameterCount == 3_453_121)
        #expect(model.trainableParameterCount == 3_453_121)
        #expect(try model.outputShape(for: [150, 150, 3]) == [1])
        // Per-layer counts as Keras prints them: 896, 18,496, 73,856, 147,584, 3,211,776, 513.
        #expect(model.layers.map(\.parameterCount) == [896, 0, 18_496, 0, 73_856, 0, 0, 147_584, 0, 0, 0, 3_211_776, 513])
        #expect(model.layers.map(\.name) == [
            "conv2d", "max_pooling2d", "conv2d_1", "max_pooling2d_1", "conv2d_2", "max_pooling2d_2", "spatial_dropout2d",
            "conv2d_3", "max_pooling2d_3", "spatial_dropout2d_1", "flatten", "dense", "dense_1",
        ])
        let summary = model.summary()
        #expect(summary.contains("max_pooling2d_3 (MaxPooling2D)"))
        #expect(summary.contains("(None, 7, 7, 128)"))
        #expect(summary.contains("(None, 6272)"))
        #expect(summary.contains("Total params: 3,453,121"))
        // One image runs through the whole model to a probability.
        let y = try model.predict(Tensor<Float>.uniform([1, 150, 150, 3], seed: 2))
        #expect(y.shape == [1, 1])
        #expect(y.scalars[0] > 0 && y.scalars[0] < 1)
    }

    @Test("cnn128 (without its Dropout layers) has 296,609 parameters")
    func cnn128() throws {
        let model = try Sequential<Float>(inputShape: [128, 128, 3], seed: 1) {
            Conv2D(128, kernelSize: 3, padding: .same, activation: .relu)
            MaxPool2D(2)
            Conv2D(64, kernelSize: 3, activation: .relu)
            MaxPool2D(2)
            Conv2D(32, kernelSize: 3, activation: .relu)
            MaxPool2D(2)
            Flatten()
            Dense(32, activation: .relu)
            Dense(1, activation: .sigmoid)
        }
        #expect(model.totalParameterCount == 296_609)
        #expect(model.layers.map(\.parameterCount) == [3_584, 0, 73_792, 0, 18_464, 0, 0, 200_736, 33])
        // Output shapes from seed-models.md: 128x128x128, 64, 62x62x64, 31, 29x29x32, 14, 6,272.
        var shape = [128, 128, 3]
        var shapes: [[Int]] = []
        for layer in model.layers {
            shape = try layer.outputShape(for: shape)
            shapes.append(shape)
        }
        #expect(shapes == [
            [128, 128, 128], [64, 64, 128], [62, 62, 64], [31, 31, 64], [29, 29, 32], [14, 14, 32], [6272], [32], [1],
        ])
    }
}
