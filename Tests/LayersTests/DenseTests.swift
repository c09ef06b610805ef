import Layers
import TestSupport
import Testing

/// The Dense layer of each Keras value case in layers_conv.json, configured as the script
/// configures it.
func denseLayer<S: TensorScalar>(_ caseName: String, _: S.Type) -> Dense<S> {
    switch caseName {
    case "dense_relu": return Dense<S>(5, activation: .relu)
    case "dense_sigmoid": return Dense<S>(3, activation: .sigmoid)
    case "dense_linear_nobias": return Dense<S>(4, useBias: false)
    case "dense_softmax": return Dense<S>(4, activation: .softmax)
    case "dense_rank3_tanh": return Dense<S>(4, activation: .tanh)
    default: preconditionFailure("no dense layer for case \(caseName)")
    }
}

@Suite("Dense layer")
struct DenseTests {
    static let valueCases = ["dense_relu", "dense_sigmoid", "dense_linear_nobias", "dense_softmax", "dense_rank3_tanh"]

    @Test("Output and gradients equal Keras's in Double", arguments: valueCases)
    func matchesKerasInDouble(_ caseName: String) throws {
        try expectMatchesKeras(caseName, denseLayer(caseName, Double.self), tolerance: 1e-10)
    }

    @Test("Output and gradients equal Keras's in Float", arguments: valueCases)
    func matchesKerasInFloat(_ caseName: String) throws {
        try expectMatchesKeras(caseName, denseLayer(caseName, Float.self), tolerance: 1e-4)
    }

    @Test("A rank-3 input [N, T, F] is mapped along its last axis, one time step at a time")
    func rank3AppliesToTheLastAxis() throws {
        let layer = Dense<Double>(3, activation: .tanh)
        var g = SeededGenerator(seed: 2)
        try layer.build(inputShape: [4, 5], generator: &g)
        layer.bias!.value = Tensor.uniform([3], lower: -1, upper: 1, generator: &g)
        #expect(try layer.outputShape(for: [4, 5]) == [4, 3])
        let x = Tensor<Double>.normal([2, 4, 5], generator: &g)
        let y = layer(x)
        #expect(y.shape == [2, 4, 3])
        // Each [N, t, :] row equals the layer applied to that row as a rank-2 batch.
        for t in 0..<4 {
            let row = x.slice(alongAxis: 1, t..<(t + 1)).reshaped(to: [2, 5])
            let expected = (row.matmul(layer.kernel!.value) + layer.bias!.value).tanh()
            let actual = y.slice(alongAxis: 1, t..<(t + 1)).reshaped(to: [2, 3])
            #expect(maxRelativeDifference(actual, expected) <= 1e-14, "time step \(t)")
        }
    }

    @Test("Gradients match finite differences", arguments: 0..<5)
    func gradientsMatchFiniteDifferences(_ index: Int) throws {
        let cases: [(any Layer<Double>, [Int])] = [
            (Dense(4, activation: .relu), [3, 5]),
            (Dense(3, activation: .sigmoid), [4, 6]),
            (Dense(4, useBias: false), [3, 5]),
            (Dense(3, activation: .softmax), [2, 4]),
            (Dense(3, activation: .tanh), [2, 3, 4]),
        ]
        let (layer, inputShape) = cases[index]
        var generator = SeededGenerator(seed: 21)
        try layer.build(inputShape: Array(inputShape.dropFirst()), generator: &generator)
        // Random biases too, so the check does not sit at zero-initialized values.
        for weight in layer.weights {
            weight.variable.value = Tensor.uniform(weight.variable.shape, lower: -0.8, upper: 0.8, generator: &generator)
        }
        let input = Variable(Tensor<Double>.normal(inputShape, generator: &generator), requiresGradient: true)
        let result = checkGradients(of: [input] + layer.trainableVariables) {
            var context = ForwardContext.inference
            return layer(input, context: &context)
        }
        #expect(result.passed, "\(result)")
        #expect(result.checkedCount == inputShape.reduce(1, *) + layer.trainableParameterCount)
    }

    @Test("Weights have Keras's names and shapes; the kernel starts glorot uniform, the bias at zero")
    func weightsAndInitialization() throws {
        var g = SeededGenerator(seed: 5)
        let dense = Dense<Double>(30, name: "d")
        try dense.build(inputShape: [20], generator: &g)
        #expect(dense.typeName == "Dense")
        #expect(dense.weights.map(\.name) == ["kernel", "bias"])
        #expect(dense.weights.map(\.variable.shape) == [[20, 30], [30]])
        #expect(dense.weights.allSatisfy { $0.isTrainable })
        #expect(dense.parameterCount == 20 * 30 + 30)
        let limit = (6.0 / Double(20 + 30)).squareRoot()
        #expect(dense.kernel!.value.scalars.allSatisfy { abs($0) <= limit })
        #expect(dense.kernel!.value.max().scalar > 0.9 * limit)
        #expect(dense.bias!.value.scalars.allSatisfy { $0 == 0 })

        let noBias = Dense<Float>(3, useBias: false)
        try noBias.build(inputShape: [4], generator: &g)
        #expect(noBias.weights.map(\.name) == ["kernel"])
        #expect(noBias.bias == nil)
        #expect(noBias.parameterCount == 12)

        // Building again with the same feature count keeps the weights.
        let before = dense.kernel!.value
        try dense.build(inputShape: [20], generator: &g)
        #expect(dense.kernel!.value == before)
    }

    @Test("Unsuitable shapes are thrown as LayerError naming both shapes")
    func badShapesThrow() throws {
        var g = SeededGenerator(seed: 1)
        let dense = Dense<Float>(4, name: "head")
        #expect(throws: LayerError.self) { try dense.outputShape(for: []) }
        #expect(throws: LayerError.self) { try dense.outputShape(for: [3, 0]) }
        do {
            _ = try dense.outputShape(for: [])
        } catch {
            #expect("\(error)".contains("Dense 'head'") && "\(error)".contains("[]"))
        }

        try dense.build(inputShape: [6], generator: &g)
        do {
            _ = try dense.outputShape(for: [7])
            Issue.record("no error for 7 features into a layer built for 6")
        } catch let error as LayerError {
            #expect(error == .shapeMismatch(operation: "Dense 'head'", expected: [6], got: [7]))
            #expect("\(error)".contains("[6]") && "\(error)".contains("[7]"))
        }
        // Building for another feature count is refused the same way, and the weights stay.
        let kernel = dense.kernel!.value
        #expect(throws: LayerError.shapeMismatch(operation: "Dense 'head'", expected: [6], got: [5])) {
            try dense.build(inputShape: [5], generator: &g)
        }
        #expect(dense.kernel!.value == kernel)

        // In a model, a batch of the wrong shape is thrown by predict, naming both shapes.
        let model = try Sequential<Float>(inputShape: [2, 6], seed: 3) { Dense(4, activation: .relu) }
        do {
            _ = try model.predict(Tensor<Float>.zeros([5, 2, 7]))
            Issue.record("no error for a [5, 2, 7] batch into a model built for [2, 6]")
        } catch let error as LayerError {
            #expect("\(error)".contains("[-1, 2, 6]") && "\(error)".contains("[5, 2, 7]"), "\(error)")
        }
        #expect(try model.predict(Tensor<Float>.ones([5, 2, 6])).shape == [5, 2, 4])
    }

    @Test("Inside a model Dense layers get Keras names and summary rows")
    func namingAndSummary() throws {
        let model = try Sequential<Float>(inputShape: [8], seed: 4) {
            Dense(16, activation: .relu)
            Dense(1, activation: .sigmoid, name: "output")
            Dense(2)
        }
        #expect(model.allLayers.dropFirst().map(\.name) == ["dense", "output", "dense_1"])
        #expect(model.namedWeights.map(\.name) == [
            "dense.kernel", "dense.bias", "output.kernel", "output.bias", "dense_1.kernel", "dense_1.bias",
        ])
        #expect(model.trainableParameterCount == 8 * 16 + 16 + 16 + 1 + 2 + 2)
        let summary = model.summary()
        #expect(summary.contains("dense (Dense)"))
        #expect(summary.contains("(None, 16)"))
        #expect(summary.contains("Total params: 165 (660.00 B)"))
    }
}
