@testable import Layers
import Testing

/// Inference with a batch normalization folded into the convolution before it (`Sequential`, in
/// inference mode without a graph): the same values as the layers one after the other, up to
/// Float rounding; never taken where a graph is recorded or the convolution has an activation.
@Suite("BatchNorm folding")
struct BatchNormFoldingTests {
    /// Gives the model's batch normalizations non-trivial moving statistics (three training
    /// passes at momentum 0.5) and parameters.
    static func prepare(_ model: Sequential<Float>, inputShape: [Int]) {
        for step in 0..<3 {
            var context = ForwardContext(mode: .training, seed: UInt64(step))
            _ = withoutGradients {
                model.forward(Variable(Tensor<Float>.normal([8] + inputShape, mean: 0.5, standardDeviation: 2, seed: UInt64(10 + step))),
                              context: &context)
            }
        }
        var seed: UInt64 = 40
        for case let norm as BatchNorm<Float> in model.layers {
            for weight in norm.weights where weight.isTrainable {
                seed += 1
                weight.variable.value = Tensor<Float>.uniform(weight.variable.value.shape, lower: 0.5, upper: 1.5, seed: seed)
            }
        }
    }

    /// The model's layers one after the other in inference mode, each on its own (nothing fused).
    static func layerByLayer(_ model: Sequential<Float>, _ x: Tensor<Float>) -> Tensor<Float> {
        withoutGradients {
            var context = ForwardContext(mode: .inference)
            var y = Variable(x)
            for layer in model.layers { y = layer.forward(y, context: &context) }
            return y.value
        }
    }

    static func maxDifference(_ a: Tensor<Float>, _ b: Tensor<Float>) -> (absolute: Float, scale: Float) {
        precondition(a.shape == b.shape)
        let d = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        return (d, b.scalars.map(abs).max() ?? 0)
    }

    @Test("Conv2D + BatchNorm + ReLU, Conv2D without bias + BatchNorm, SeparableConv2D + BatchNorm: folded values")
    func foldedValues() throws {
        let inputShape = [12, 12, 3]
        let model = try Sequential<Float>(inputShape: inputShape, seed: 3) {
            Conv2D<Float>(16, kernelSize: 3, padding: .same)
            BatchNorm<Float>(momentum: 0.5)
            ReLU<Float>()
            Conv2D<Float>(24, kernelSize: 3, strides: 2, padding: .same, useBias: false)
            BatchNorm<Float>(momentum: 0.5)
            SeparableConv2D<Float>(20, kernelSize: 3, padding: .same)
            BatchNorm<Float>(momentum: 0.5)
        }
        Self.prepare(model, inputShape: inputShape)
        let x = Tensor<Float>.normal([4] + inputShape, seed: 5)
        let folded = model(x)
        let reference = Self.layerByLayer(model, x)
        let (difference, scale) = Self.maxDifference(folded, reference)
        #expect(scale > 1)
        #expect(difference <= 2e-6 * scale, "folded differs by \(difference) (largest value \(scale))")
        // Rounding differs, so an exact match would mean the fold did not run.
        #expect(difference > 0, "the folded path gave bit-identical values: it was not taken")
    }

    @Test("with a graph recorded in inference mode the layers run unfolded and the kernels get gradients")
    func notFoldedWhileRecording() throws {
        let inputShape = [8, 8, 2]
        let model = try Sequential<Float>(inputShape: inputShape, seed: 4) {
            Conv2D<Float>(8, kernelSize: 3, padding: .same)
            BatchNorm<Float>(momentum: 0.5)
            ReLU<Float>()
        }
        Self.prepare(model, inputShape: inputShape)
        let x = Tensor<Float>.normal([2] + inputShape, seed: 6)
        var context = ForwardContext(mode: .inference)
        let y = model.forward(Variable(x), context: &context)
        #expect(y.value.scalars == Self.layerByLayer(model, x).scalars)
        y.sum().backward()
        let conv = try #require(model.layers[0] as? Conv2D<Float>)
        #expect(conv.weights.allSatisfy { $0.variable.gradient != nil })
    }

    @Test("a convolution with its own activation before the BatchNorm is not folded")
    func activationBlocksFolding() throws {
        let inputShape = [8, 8, 2]
        let model = try Sequential<Float>(inputShape: inputShape, seed: 5) {
            Conv2D<Float>(8, kernelSize: 3, padding: .same, activation: .relu)
            BatchNorm<Float>(momentum: 0.5)
        }
        Self.prepare(model, inputShape: inputShape)
        let x = Tensor<Float>.normal([2] + inputShape, seed: 7)
        #expect(model(x).scalars == Self.layerByLayer(model, x).scalars)
    }
}
