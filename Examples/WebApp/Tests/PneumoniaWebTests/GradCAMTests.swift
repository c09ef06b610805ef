import DeepLearning
import Foundation
import PneumoniaModels
import Testing

@testable import PneumoniaWeb

@Suite("Grad-CAM")
struct GradCAMTests {
    /// A toy model on 8x8 grayscale images whose output depends only on one region: a 1x1
    /// convolution with two channels, `A0 = ReLU(2x - 1)` (bright pixels) and `A1 = ReLU(1 - 2x)`
    /// (dark pixels), then a sigmoid `Dense` whose weights are 1 on one channel inside `region` and 0
    /// everywhere else.
    static func toyModel(channel: Int, region: Set<Int>) throws -> Sequential<Float> {
        let conv = Conv2D<Float>(2, kernelSize: 1, activation: .relu)
        let dense = Dense<Float>(1, activation: .sigmoid)
        let model = try Sequential<Float>(inputShape: [8, 8, 1], seed: 3, layers: [conv, Flatten<Float>(), dense])
        conv.kernel!.value = Tensor(shape: [1, 1, 1, 2], scalars: [2, -2])
        conv.bias!.value = Tensor([-1, 1])
        var weights = [Float](repeating: 0, count: 8 * 8 * 2)
        for p in region { weights[p * 2 + channel] = 1 }
        dense.kernel!.value = Tensor(shape: [128, 1], scalars: weights)
        dense.bias!.value = Tensor([0])
        return model
    }

    /// Pixels (row-major indices) of the 2x2 squares the test image has: bright top-left, dark bottom-right.
    static let bright: Set<Int> = [9, 10, 17, 18]
    static let dark: Set<Int> = [45, 46, 53, 54]

    /// Gray 0.5 everywhere (both channels 0), 1 in `bright` (A0 = 1), 0 in `dark` (A1 = 1).
    static var image: Tensor<Float> {
        Tensor(shape: [1, 8, 8, 1], scalars: (0..<64).map { bright.contains($0) ? 1 : dark.contains($0) ? 0 : 0.5 })
    }

    /// With weights on A0 inside `bright`: the logit is 4 (four active pixels, weight 1), α = (4/64, 0),
    /// so the map is exactly 1 on `bright` and 0 elsewhere, though `dark` is just as strong in A1.
    /// With weights on A1 inside `dark` the map moves there: the map follows the deciding region.
    @Test("the map is exactly the region that decides the output", arguments: [(0, bright), (1, dark)])
    func highlightsDecidingRegion(channel: Int, region: Set<Int>) throws {
        let model = try Self.toyModel(channel: channel, region: region)
        let result = try GradCAM.compute(model: model, input: Self.image)
        #expect(result.width == 8 && result.height == 8)
        #expect(result.layerName == "conv2d")
        #expect(result.score == 4)
        #expect(abs(result.probability - 1 / (1 + exp(-4))) < 1e-6)
        #expect(abs(result.probability - Double(model(Self.image).scalars[0])) < 1e-7)
        #expect(result.map == (0..<64).map { region.contains($0) ? 1 : 0 })

        // The coloured overlay at 64x64 peaks (reddest) inside the region's 16x16 block of pixels.
        let upsampled = Heatmap.upsampled(result.map, width: 8, height: 8, outputWidth: 64, outputHeight: 64)
        let peak = upsampled.pixels.indices.max { upsampled.pixels[$0] < upsampled.pixels[$1] }!
        let (row, column) = (peak / 64 / 8, peak % 64 / 8)
        #expect(region.contains(row * 8 + column))
        // No gradient is left in the model's weights.
        #expect(model.trainableVariables.allSatisfy { $0.gradient == nil })
    }

    /// A model whose deciding region is not in the image (all gray): the map is all zeros, not NaN.
    @Test("a map with no positive evidence is all zeros")
    func zeroMap() throws {
        let model = try Self.toyModel(channel: 0, region: Self.bright)
        let result = try GradCAM.compute(model: model, input: Tensor(shape: [1, 8, 8, 1], scalars: [Float](repeating: 0.5, count: 64)))
        #expect(result.map == [Float](repeating: 0, count: 64))
        #expect(result.score == 0 && result.probability == 0.5)
    }

    /// The target layer of every seed CNN is its last top-level convolution (or residual block).
    @Test("target layers of the seed models")
    func targetLayers() throws {
        #expect(GradCAM.targetLayerIndex(in: try Sequential<Float>(inputShape: [4], layers: [Dense<Float>(1)])) == nil)
        let cnn = try SeedModelBuilds.cnn()
        #expect(GradCAM.targetLayerIndex(in: cnn) == 2)
        // vgg3: the last Conv2D (before its BatchNorm and ReLU); xception-mini: the last residual block.
        let input = Tensor<Float>.uniform([1, 32, 32, 1], lower: 0, upper: 1, seed: 5)
        for (model, index, kind) in [(SeedModel.vgg3, 17, "Conv2D"), (.xceptionMini, 5, "Add")] {
            let built = try model.build(imageSize: 32, channels: 1, seed: 1)
            #expect(GradCAM.targetLayerIndex(in: built) == index)
            #expect(built.layers[index].typeName == kind)
            let result = try GradCAM.compute(model: built, input: input)
            #expect(result.map.count == result.width * result.height && result.map.allSatisfy { $0 >= 0 && $0 <= 1 })
            #expect(abs(result.probability - Double(built(input).scalars[0])) < 1e-6)
        }
    }

    /// The jet colormap's ends and middle.
    @Test("jet colours")
    func jet() {
        #expect(Heatmap.jet(0) == (0, 0, 128))
        #expect(Heatmap.jet(0.5) == (128, 255, 128))
        #expect(Heatmap.jet(1) == (128, 0, 0))
    }
}

/// Seed models built small for tests.
enum SeedModelBuilds {
    static func cnn() throws -> Sequential<Float> { try Fixtures.info.model.build(imageSize: 32, channels: 1, seed: 1) }
}
