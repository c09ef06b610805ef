import Foundation
import Layers
import TestSupport
import Testing

/// Reference values: Tests/ReferenceScripts/layers_norm_fixtures.py (Keras 3.15.1 on TensorFlow 2.21.0,
/// float64), written to Tests/LayersTests/Fixtures/layers_norm.json.
@Suite("Activation layers")
struct ActivationLayerTests {
    /// Each fixture case and the layer that should reproduce it.
    static func layers<S: TensorScalar>(_ type: S.Type) -> [(String, any Layer<S>)] {
        [
            ("relu", ReLU<S>()),
            ("relu_max_slope_threshold", ReLU<S>(maxValue: 1.5, negativeSlope: 0.1, threshold: 0.5)),
            ("relu_max6", ReLU<S>(maxValue: 6)),
            ("relu_slope", ReLU<S>(negativeSlope: 0.2)),
            ("leaky_relu_default", LeakyReLU<S>()),
            ("softmax_last", Softmax<S>()),
            ("softmax_axis1", Softmax<S>(axis: 1)),
            ("activation_sigmoid", ActivationLayer<S>(.sigmoid)),
            ("activation_tanh", ActivationLayer<S>(.tanh)),
        ]
    }

    func compareWithKeras<S: TensorScalar>(_ type: S.Type, tolerance: Double) throws {
        let fixture = try ReferenceFixture.load("layers_norm.json", from: Bundle.module)
        for (caseName, layer) in Self.layers(S.self) {
            let c = try fixture.case(caseName)
            let x: Tensor<S> = try c.tensor("x")
            var generator = SeededGenerator(seed: 0)
            try layer.build(inputShape: Array(x.shape.dropFirst()), generator: &generator)
            let input = Variable(x, requiresGradient: true)
            var context = ForwardContext(mode: .training)
            let y = layer(input, context: &context)
            y.backward(seed: try c.tensor("w"))
            // TensorFlow's LeakyRelu kernel (which Keras uses for a slope without max or threshold)
            // takes its slope as a float32 attribute, so in float64 it multiplies by Float(0.3) =
            // 0.30000001192...: a relative difference of 4e-8 from the exact slope used here.
            let usesFloat32Slope = caseName == "leaky_relu_default" || caseName == "relu_slope"
            let limit = usesFloat32Slope ? Swift.max(tolerance, 5e-8) : tolerance
            #expect(maxRelativeDifference(y.value, try c.tensor("y")) < limit, "\(caseName) \(S.self): output")
            #expect(maxRelativeDifference(try #require(input.gradient), try c.tensor("dx")) < limit, "\(caseName) \(S.self): dx")
            // The layers behave the same in inference mode.
            #expect(maxRelativeDifference(layer(x), y.value) == 0)
        }
    }

    @Test func matchKerasInDouble() throws { try compareWithKeras(Double.self, tolerance: 1e-12) }
    @Test func matchKerasInFloat() throws { try compareWithKeras(Float.self, tolerance: 1e-5) }

    @Test func kerasDefaultsAndNames() throws {
        let fixture = try ReferenceFixture.load("layers_norm.json", from: Bundle.module)
        #expect(LeakyReLU<Float>().negativeSlope == fixture.cases["leaky_relu_default"]?.params["negative_slope"])
        let relu = ReLU<Float>()
        #expect(relu.maxValue == nil && relu.negativeSlope == 0 && relu.threshold == 0)
        #expect(Softmax<Float>().axis == -1)
        let model = try Sequential<Float>(inputShape: [6], seed: 1) {
            Dense(4)
            ReLU()
            LeakyReLU()
            ActivationLayer(.sigmoid)
            ActivationLayer(.tanh)
            Softmax()
        }
        #expect(model.allLayers.dropFirst().map(\.name) == ["dense", "re_lu", "leaky_re_lu", "activation", "activation_1", "softmax"])
        #expect(model.allLayers.dropFirst().map(\.typeName) == ["Dense", "ReLU", "LeakyReLU", "Activation", "Activation", "Softmax"])
        #expect(model.totalParameterCount == 28)
        #expect(try model.outputShape(for: [6]) == [4])
        let probabilities = try model.predict(Tensor<Float>.normal([3, 6], seed: 2))
        #expect(maxRelativeDifference(probabilities.sum(alongAxes: [1]), Tensor.ones([3])) < 1e-6)
    }

    @Test func softmaxAxisMustExist() throws {
        #expect(throws: LayerError.self) { try Softmax<Float>(axis: 3).outputShape(for: [4, 5]) }
        #expect(throws: LayerError.self) { try Softmax<Float>(axis: -4).outputShape(for: [4, 5]) }
        #expect(try Softmax<Float>(axis: 2).outputShape(for: [4, 5]) == [4, 5])
    }

    @Test func reluOptionsFollowTheKerasFormula() throws {
        // Closed form: min(x, max) above the threshold, slope * (x - threshold) below it.
        let layer = ReLU<Double>(maxValue: 2, negativeSlope: 0.25, threshold: 1)
        var generator = SeededGenerator(seed: 0)
        try layer.build(inputShape: [6], generator: &generator)
        let x = Tensor<Double>([[-3, -1, 0.5, 1.5, 2.5, 10]])
        #expect(layer(x) == Tensor([[-1, -0.5, -0.125, 1.5, 2, 2]]))
    }

    @Test func leakyReLUIsExactInDouble() throws {
        let layer = LeakyReLU<Double>()
        var generator = SeededGenerator(seed: 0)
        try layer.build(inputShape: [4], generator: &generator)
        #expect(layer(Tensor([[-2, -0.5, 0.25, 3]])) == Tensor([[-2 * 0.3, -0.5 * 0.3, 0.25, 3]]))
    }

    @Test func gradientChecks() throws {
        let x = Tensor<Double>.uniform([3, 4, 5], lower: -4, upper: 4, seed: 5)
        // Keep the ReLU inputs away from the kinks at 0, 0.5 and 1.5.
        let smooth = x.scalars.map { v -> Double in
            for kink in [0.0, 0.5, 1.5] where Swift.abs(v - kink) < 0.01 { return kink + 0.05 }
            return v
        }
        let input = Variable(Tensor(shape: x.shape, scalars: smooth), requiresGradient: true)
        let layers: [any Layer<Double>] = [
            ReLU(maxValue: 1.5, negativeSlope: 0.1, threshold: 0.5), ReLU(negativeSlope: 0.2), LeakyReLU(),
            Softmax(axis: 1), Softmax(), ActivationLayer(.sigmoid), ActivationLayer(.tanh),
        ]
        for layer in layers {
            var generator = SeededGenerator(seed: 0)
            try layer.build(inputShape: [4, 5], generator: &generator)
            let result = checkGradients(of: [input]) {
                var context = ForwardContext.inference
                return layer(input, context: &context)
            }
            #expect(result.passed, "\(layer.typeName): \(result)")
        }
    }
}
