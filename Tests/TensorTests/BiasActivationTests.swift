import Tensor
import TestSupport
import Testing

@Suite("Fused bias + ReLU kernels")
struct BiasActivationTests {
    @Test func addBiasWithAndWithoutReLU() {
        let x = Tensor<Float>(shape: [2, 3], scalars: [-1, 0.5, 2, 3, -4, -0.25])
        let bias = Tensor<Float>([0.5, -1, 0.25])
        var plain = x
        plain.addBias(bias, applyingReLU: false)
        #expect(plain.scalars == [-0.5, -0.5, 2.25, 3.5, -5, 0])
        var relu = x
        relu.addBias(bias, applyingReLU: true)
        #expect(relu.scalars == [0, 0, 2.25, 3.5, 0, 0])
        var reluOnly = x
        reluOnly.addBias(nil, applyingReLU: true)
        #expect(reluOnly.scalars == [0, 0.5, 2, 3, 0, 0])
    }

    @Test func addBiasMatchesBroadcastingOnARank4Tensor() {
        let x = Tensor<Double>.uniform([2, 3, 4, 5], lower: -1, upper: 1, seed: 7)
        let bias = Tensor<Double>.uniform([5], lower: -1, upper: 1, seed: 8)
        var fused = x
        fused.addBias(bias, applyingReLU: true)
        #expect(fused == (x + bias).relu())
    }

    @Test func reluBackwardMasksByOutput() {
        let g = Tensor<Float>([1, 2, 3, 4])
        let y = Tensor<Float>([0, 0.5, 0, 7])
        #expect(Tensor.reluBackward(gradient: g, output: y).scalars == [0, 2, 0, 4])
    }

    @Test func biasActivationBackwardMasksAndSums() {
        let g = Tensor<Double>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        let y = Tensor<Double>(shape: [3, 2], scalars: [1, 0, 0, 2, 3, 4])
        let relu = Tensor.biasActivationBackward(gradient: g, output: y, applyingReLU: true)
        #expect(relu.input.scalars == [1, 0, 0, 4, 5, 6])
        #expect(relu.bias.scalars == [6, 10])
        let linear = Tensor.biasActivationBackward(gradient: g, output: y, applyingReLU: false)
        #expect(linear.input == g)
        #expect(linear.bias.scalars == [9, 12])
    }

    /// The Float kernels (C, split across threads above 65,536 elements) on a tensor large enough
    /// to be split, against the same operations in Double through broadcasting and reductions:
    /// masks exact, sums within Float rounding; 300 channels exercise the 256-channel blocks' tail.
    @Test(arguments: [32, 300])
    func floatKernelsMatchDoubleOnLargeTensors(channels: Int) {
        let shape = [6, 20, 17, channels]
        let x = Tensor<Float>.uniform(shape, lower: -1, upper: 1, seed: 11)
        let g = Tensor<Float>.uniform(shape, lower: -1, upper: 1, seed: 12)
        let bias = Tensor<Float>.uniform([channels], lower: -0.5, upper: 0.5, seed: 13)
        let gd = Tensor<Double>(g)

        var y = x
        y.addBias(bias, applyingReLU: true)
        #expect(y == (x + bias).relu())
        var linear = x
        linear.addBias(bias, applyingReLU: false)
        #expect(linear == x + bias)

        let mask = Tensor<Double>(y).map(.step)
        let expectedInput = gd * mask
        #expect(Tensor.reluBackward(gradient: g, output: y) == Tensor<Float>(expectedInput))

        let fused = Tensor.biasActivationBackward(gradient: g, output: y, applyingReLU: true)
        #expect(fused.input == Tensor<Float>(expectedInput))
        let expectedBias = expectedInput.sum(alongAxes: [0, 1, 2])
        for c in 0..<channels {
            #expect(abs(Double(fused.bias.scalars[c]) - expectedBias.scalars[c]) < 1e-4, "channel \(c)")
        }
        let plain = Tensor.biasActivationBackward(gradient: g, output: y, applyingReLU: false)
        let expectedSum = gd.sum(alongAxes: [0, 1, 2])
        for c in 0..<channels {
            #expect(abs(Double(plain.bias.scalars[c]) - expectedSum.scalars[c]) < 1e-4, "channel \(c)")
        }
    }
}
