import Foundation
import Layers
import TestSupport
import Testing

/// Reference values: Tests/ReferenceScripts/layers_norm_fixtures.py (Keras 3.15.1 on TensorFlow 2.21.0,
/// float64), written to Tests/LayersTests/Fixtures/layers_norm.json.
@Suite("BatchNormalization layer")
struct BatchNormTests {
    static let fixtureCases = ["batchnorm_nhwc_defaults", "batchnorm_rank2_scale_off", "batchnorm_axis1_center_off"]

    static func built<S: TensorScalar>(
        _ layer: BatchNorm<S>, _ inputShape: [Int], seed: UInt64 = 1
    ) throws -> BatchNorm<S> {
        var generator = SeededGenerator(seed: seed)
        try layer.build(inputShape: inputShape, generator: &generator)
        return layer
    }

    /// Three training calls, then an inference call, compared with Keras: outputs, gradients of
    /// `sum(y * w)` with respect to the input, gamma and beta, and the moving statistics after each call.
    func compareWithKeras<S: TensorScalar>(_ type: S.Type, tolerance: Double) throws {
        let fixture = try ReferenceFixture.load("layers_norm.json", from: Bundle.module)
        for caseName in Self.fixtureCases {
            let c = try fixture.case(caseName)
            let center = try c.int("center") == 1, scale = try c.int("scale") == 1
            let x1: Tensor<S> = try c.tensor("x1")
            let layer = try Self.built(
                BatchNorm<S>(
                    axis: try c.int("axis"), momentum: c.params["momentum"]!, epsilon: c.params["epsilon"]!,
                    center: center, scale: scale),
                Array(x1.shape.dropFirst()))
            #expect((layer.gamma != nil) == scale && (layer.beta != nil) == center)
            if scale { layer.gamma!.value = try c.tensor("gamma") }
            if center { layer.beta!.value = try c.tensor("beta") }
            layer.movingMean!.value = try c.tensor("moving_mean")
            layer.movingVariance!.value = try c.tensor("moving_variance")

            for step in ["1", "2", "3", "_inference"] {
                let input = Variable<S>(try c.tensor("x\(step)"), requiresGradient: true)
                layer.gamma?.zeroGradient()
                layer.beta?.zeroGradient()
                var context = ForwardContext(mode: step == "_inference" ? .inference : .training)
                let y = layer(input, context: &context)
                y.backward(seed: try c.tensor("w\(step)"))
                let label = "\(caseName) \(S.self) call \(step)"
                #expect(maxRelativeDifference(y.value, try c.tensor("y\(step)")) < tolerance, "\(label): output")
                #expect(maxRelativeDifference(try #require(input.gradient), try c.tensor("dx\(step)")) < tolerance, "\(label): dx")
                if let gamma = layer.gamma {
                    #expect(maxRelativeDifference(try #require(gamma.gradient), try c.tensor("dgamma\(step)")) < tolerance, "\(label): dgamma")
                }
                if let beta = layer.beta {
                    #expect(maxRelativeDifference(try #require(beta.gradient), try c.tensor("dbeta\(step)")) < tolerance, "\(label): dbeta")
                }
                if step != "_inference" {
                    #expect(maxRelativeDifference(layer.movingMean!.value, try c.tensor("moving_mean\(step)")) < tolerance, "\(label): moving mean")
                    #expect(maxRelativeDifference(layer.movingVariance!.value, try c.tensor("moving_variance\(step)")) < tolerance, "\(label): moving variance")
                } else {
                    // Inference leaves the moving statistics as the third training call left them.
                    #expect(maxRelativeDifference(layer.movingMean!.value, try c.tensor("moving_mean3")) < tolerance)
                    #expect(maxRelativeDifference(layer.movingVariance!.value, try c.tensor("moving_variance3")) < tolerance)
                }
            }
        }
    }

    @Test func matchesKerasInDouble() throws { try compareWithKeras(Double.self, tolerance: 1e-10) }
    @Test func matchesKerasInFloat() throws { try compareWithKeras(Float.self, tolerance: 1e-4) }

    @Test func kerasDefaultsWeightsAndShapes() throws {
        let layer = BatchNorm<Float>()
        #expect(layer.typeName == "BatchNormalization")
        #expect(layer.axis == -1 && layer.momentum == 0.99 && layer.epsilon == 1e-3 && layer.center && layer.scale)
        _ = try Self.built(layer, [5, 5, 3])
        #expect(layer.weights.map(\.name) == ["gamma", "beta", "moving_mean", "moving_variance"])
        #expect(layer.weights.map(\.isTrainable) == [true, true, false, false])
        #expect(layer.weights.map(\.variable.requiresGradient) == [true, true, false, false])
        #expect(layer.gamma!.value == Tensor<Float>.ones([3]) && layer.beta!.value == Tensor<Float>.zeros([3]))
        #expect(layer.movingMean!.value == Tensor<Float>.zeros([3]) && layer.movingVariance!.value == Tensor<Float>.ones([3]))
        #expect(try layer.outputShape(for: [5, 5, 3]) == [5, 5, 3])
        // A different channel count than the built one, and shapes with no channel axis, are thrown.
        #expect(throws: LayerError.self) { try layer.outputShape(for: [5, 5, 4]) }
        #expect(throws: LayerError.self) { try BatchNorm<Float>().outputShape(for: []) }
        #expect(throws: LayerError.self) { try BatchNorm<Float>(axis: 3).outputShape(for: [4, 2]) }
        #expect(try BatchNorm<Float>(axis: 1).outputShape(for: [4, 2]) == [4, 2])

        let model = try Sequential<Float>(inputShape: [4, 4, 3], seed: 1) { BatchNorm() }
        #expect(model.namedWeights.map(\.name) == [
            "batch_normalization.gamma", "batch_normalization.beta",
            "batch_normalization.moving_mean", "batch_normalization.moving_variance",
        ])
        #expect(model.trainableParameterCount == 6 && model.totalParameterCount == 12)
        #expect(model.trainableVariables.count == 2)
        #expect(model.summary().contains("Non-trainable params: 6 (24.00 B)"))
    }

    @Test func trainingNormalizesWithBatchStatisticsInferenceWithMovingStatistics() throws {
        let layer = try Self.built(BatchNorm<Double>(momentum: 0.9, epsilon: 1e-3), [2, 3])
        layer.gamma!.value = Tensor([2, 0.5, 1])
        layer.beta!.value = Tensor([0.1, -0.2, 0.3])
        let x = Tensor<Double>.normal([5, 2, 3], seed: 4) * 3 + 1
        // Expected training output from the definition: statistics over batch, height (all but channels).
        let mean = x.mean(alongAxes: [0, 1])
        let variance = x.variance(alongAxes: [0, 1])
        let expected = (x - mean) / (variance + 1e-3).sqrt() * layer.gamma!.value + layer.beta!.value
        var training = ForwardContext(mode: .training)
        let y = layer(Variable(x), context: &training).value
        #expect(maxRelativeDifference(y, expected) < 1e-12)
        // The normalized training output has per-channel mean beta and variance gamma^2 var / (var + eps).
        #expect(maxRelativeDifference(y.mean(alongAxes: [0, 1]), layer.beta!.value) < 1e-12)
        #expect(maxRelativeDifference(y.variance(alongAxes: [0, 1]), layer.gamma!.value.squared() * variance / (variance + 1e-3)) < 1e-12)
        // Moving statistics after one step from (0, 1) with momentum 0.9.
        #expect(maxRelativeDifference(layer.movingMean!.value, mean * 0.1) < 1e-14)
        #expect(maxRelativeDifference(layer.movingVariance!.value, variance * 0.1 + 0.9) < 1e-14)

        // Inference uses the moving statistics and does not change them.
        let movingMean = layer.movingMean!.value, movingVariance = layer.movingVariance!.value
        let inferred = layer(x)
        let expectedInference = (x - movingMean) / (movingVariance + 1e-3).sqrt() * layer.gamma!.value + layer.beta!.value
        #expect(maxRelativeDifference(inferred, expectedInference) < 1e-12)
        #expect(maxRelativeDifference(inferred, y) > 0.1)
        #expect(layer.movingMean!.value == movingMean && layer.movingVariance!.value == movingVariance)

        // After k more training steps on the same batch: moving = batch + (moving - batch) * 0.9^k,
        // and the inference output approaches the training output.
        for _ in 0..<200 { _ = layer(Variable(x), context: &training) }
        let decay = Foundation.pow(0.9, 200.0)
        #expect(maxRelativeDifference(layer.movingMean!.value, mean + (movingMean - mean) * decay) < 1e-12)
        #expect(maxRelativeDifference(layer.movingVariance!.value, variance + (movingVariance - variance) * decay) < 1e-12)
        #expect(maxRelativeDifference(layer(x), y) < 1e-8)
    }

    @Test func movingStatisticsAreUpdatedWithoutRecordingGradients() throws {
        let layer = try Self.built(BatchNorm<Double>(), [3])
        let input = Variable(Tensor<Double>.normal([4, 3], seed: 2), requiresGradient: true)
        var context = ForwardContext(mode: .training)
        let y = layer(input, context: &context)
        #expect(layer.movingMean!.isLeaf && layer.movingVariance!.isLeaf)
        #expect(!layer.movingMean!.requiresGradient && !layer.movingVariance!.requiresGradient)
        y.backward(seed: Tensor.ones([4, 3]))
        #expect(layer.movingMean!.gradient == nil && layer.movingVariance!.gradient == nil)
        // With seed ones the gradient with respect to the input vanishes (the output's per-channel
        // sum does not depend on x), while dbeta counts the batch.
        #expect(maxRelativeDifference(input.gradient!, Tensor.zeros([4, 3])) < 1e-12)
        #expect(layer.beta!.gradient == Tensor([4, 4, 4]))
    }

    func gradientCheck(_ layer: BatchNorm<Double>, inputShape: [Int], mode: LayerMode, seed: UInt64) throws {
        layer.gamma?.value = Tensor.uniform([layer.gamma!.shape[0]], lower: 0.5, upper: 2, seed: seed + 1)
        layer.beta?.value = Tensor.uniform([layer.beta!.shape[0]], lower: -1, upper: 1, seed: seed + 2)
        layer.movingMean!.value = Tensor.uniform(layer.movingMean!.shape, lower: -1, upper: 1, seed: seed + 3)
        layer.movingVariance!.value = Tensor.uniform(layer.movingVariance!.shape, lower: 0.5, upper: 2, seed: seed + 4)
        let input = Variable(Tensor<Double>.normal(inputShape, seed: seed) * 2 + 0.5, requiresGradient: true)
        let result = checkGradients(of: [input] + layer.trainableVariables) {
            var context = ForwardContext(mode: mode)
            return layer(input, context: &context)
        }
        #expect(result.passed, "\(mode): \(result)")
        #expect(result.checkedCount == input.value.count + layer.trainableParameterCount)
    }

    @Test func gradientsInTrainingModeNHWC() throws {
        try gradientCheck(Self.built(BatchNorm<Double>(), [2, 3, 4]), inputShape: [3, 2, 3, 4], mode: .training, seed: 10)
    }

    @Test func gradientsInTrainingModeAlongAxis1WithoutCenter() throws {
        try gradientCheck(
            Self.built(BatchNorm<Double>(axis: 1, epsilon: 1e-2, center: false), [3, 4]), inputShape: [2, 3, 4],
            mode: .training, seed: 20)
    }

    @Test func gradientsInTrainingModeOnARank2BatchWithoutScale() throws {
        try gradientCheck(Self.built(BatchNorm<Double>(scale: false), [5]), inputShape: [6, 5], mode: .training, seed: 30)
    }

    @Test func gradientsInInferenceMode() throws {
        try gradientCheck(Self.built(BatchNorm<Double>(), [2, 2, 3]), inputShape: [2, 2, 2, 3], mode: .inference, seed: 40)
        try gradientCheck(Self.built(BatchNorm<Double>(axis: 1), [3, 4]), inputShape: [2, 3, 4], mode: .inference, seed: 50)
    }

    @Test func floatTrainingAgreesWithDoubleOnALargeOffsetBatch() throws {
        // Values far from zero with a small spread (a naive one-pass Float variance would lose it
        // entirely); the inputs are Float-representable so both runs see the same numbers.
        let x = Tensor<Double>(Tensor<Float>(Tensor<Double>.normal([64, 8, 8, 4], seed: 6) * 0.01 + 1000))
        let w = Tensor<Double>(Tensor<Float>(Tensor<Double>.uniform(x.shape, lower: -1, upper: 1, seed: 7)))
        func run<S: TensorScalar>(_ type: S.Type) throws -> (y: Tensor<Double>, dx: Tensor<Double>, moving: Tensor<Double>) {
            let layer = try Self.built(BatchNorm<S>(), [8, 8, 4])
            let input = Variable(Tensor<S>(x), requiresGradient: true)
            var context = ForwardContext(mode: .training)
            let y = layer(input, context: &context)
            y.backward(seed: Tensor<S>(w))
            return (Tensor<Double>(y.value), Tensor<Double>(input.gradient!), Tensor<Double>(layer.movingVariance!.value))
        }
        let double = try run(Double.self), float = try run(Float.self)
        // The output's error is dominated by rounding the batch mean (~1000) to Float: 3e-5 of a
        // spread of 0.01 is 3e-3 of a standard deviation.
        #expect(maxRelativeDifference(float.y, double.y) < 1e-2)
        let gradientScale = double.dx.abs().max(alongAxes: nil).scalars[0]
        #expect(maxRelativeDifference(float.dx / gradientScale, double.dx / gradientScale) < 1e-3)
        #expect(maxRelativeDifference(float.moving / double.moving, Tensor.ones([4])) < 1e-4)
    }

    /// The Float channels-last kernels (C, split across threads) against the Double path, at sizes
    /// that split into several blocks, channel counts that are not multiples of 16 (a tail of rows
    /// that does not fill a wide row), training and inference.
    @Test(arguments: [[6, 37, 29, 19], [5, 17, 19, 64], [7, 31, 33, 3], [900, 35]])
    func floatChannelsLastKernelsAgreeWithDouble(shape: [Int]) throws {
        let channels = shape.last!
        let x = Tensor<Double>(Tensor<Float>(Tensor<Double>.normal(shape, seed: 61) * 1.5 + 0.7))
        let w = Tensor<Double>(Tensor<Float>(Tensor<Double>.uniform(shape, lower: -1, upper: 1, seed: 62)))
        let gamma = Tensor<Double>(Tensor<Float>(Tensor<Double>.uniform([channels], lower: 0.5, upper: 2, seed: 63)))
        let beta = Tensor<Double>(Tensor<Float>(Tensor<Double>.uniform([channels], lower: -1, upper: 1, seed: 64)))
        func run<S: TensorScalar>(_ type: S.Type) throws -> [Tensor<Double>] {
            let layer = try Self.built(BatchNorm<S>(momentum: 0.9), Array(shape.dropFirst()))
            layer.gamma!.value = Tensor<S>(gamma)
            layer.beta!.value = Tensor<S>(beta)
            var results: [Tensor<Double>] = []
            for mode in [LayerMode.training, .inference] {
                let input = Variable(Tensor<S>(x), requiresGradient: true)
                layer.gamma!.zeroGradient()
                layer.beta!.zeroGradient()
                var context = ForwardContext(mode: mode)
                let y = layer(input, context: &context)
                y.backward(seed: Tensor<S>(w))
                results += [y.value, input.gradient!, layer.gamma!.gradient!, layer.beta!.gradient!,
                            layer.movingMean!.value, layer.movingVariance!.value].map { Tensor<Double>($0) }
            }
            return results
        }
        let double = try run(Double.self), float = try run(Float.self)
        let names = ["y", "dx", "dgamma", "dbeta", "moving mean", "moving variance"]
        for (k, (f, d)) in zip(float, double).enumerated() {
            // Gradient sums over thousands of elements: compare relative to their largest value.
            let scale = Swift.max(1, d.abs().max(alongAxes: nil).scalars[0])
            #expect(maxRelativeDifference(f / scale, d / scale) < 2e-5, "\(shape) \(k < 6 ? "training" : "inference") \(names[k % 6])")
        }
    }

    /// A batch normalization directly followed by a plain ReLU runs fused inside a Sequential:
    /// outputs and every gradient equal those of the two layers called one after the other, for
    /// the Float kernels and the Double path, in training and inference.
    @Test func fusedReLUInASequentialEqualsTheTwoLayers() throws {
        func check<S: TensorScalar>(_ type: S.Type, reluLayer: () -> any Layer<S>) throws {
            let shape = [4, 19, 23, 21]
            let x = Tensor<S>(Tensor<Double>.normal(shape, seed: 71))
            let w = Tensor<S>(Tensor<Double>.uniform(shape, lower: -1, upper: 1, seed: 72))
            for mode in [LayerMode.training, .inference] {
                var results: [[Tensor<S>]] = []
                for fused in [true, false] {
                    let norm = BatchNorm<S>(momentum: 0.8)
                    let relu = reluLayer()
                    let model = try Sequential<S>(inputShape: Array(shape.dropFirst()), seed: 3, layers: [norm, relu])
                    norm.gamma!.value = Tensor<S>(Tensor<Double>.uniform([21], lower: -1, upper: 2, seed: 73))
                    norm.beta!.value = Tensor<S>(Tensor<Double>.uniform([21], lower: -1, upper: 1, seed: 74))
                    let input = Variable(x, requiresGradient: true)
                    var context = ForwardContext(mode: mode)
                    let y = fused ? model(input, context: &context) : relu(norm(input, context: &context), context: &context)
                    y.backward(seed: w)
                    results.append([y.value, input.gradient!, norm.gamma!.gradient!, norm.beta!.gradient!,
                                    norm.movingMean!.value, norm.movingVariance!.value])
                    if fused { #expect(y.operationName?.hasSuffix("+relu") == true) }
                }
                #expect(results[0] == results[1], "\(S.self) \(mode)")
                #expect(results[0][0].scalars.contains(0) && results[0][0].scalars.contains { $0 > 0 })
            }
        }
        try check(Float.self) { ReLU<Float>() }
        try check(Float.self) { ActivationLayer<Float>(.relu) }
        try check(Double.self) { ReLU<Double>() }
        // A ReLU with options is not fused and still gives its own values.
        let model = try Sequential<Float>(inputShape: [3, 5], seed: 1) {
            BatchNorm<Float>()
            ReLU<Float>(maxValue: 0.5)
        }
        let y = model(Tensor<Float>.normal([4, 3, 5], seed: 75))
        #expect(y.scalars.allSatisfy { $0 >= 0 && $0 <= 0.5 } && y.scalars.contains(0.5))
    }
}
