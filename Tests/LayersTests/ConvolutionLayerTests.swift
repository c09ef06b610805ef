import Layers
import TestSupport
import Testing

/// The convolution layers of each Keras value case in layers_conv.json, configured as the script
/// configures them.
func convolutionLayer<S: TensorScalar>(_ caseName: String, _: S.Type) -> any Layer<S> {
    switch caseName {
    case "conv2d_valid_relu": return Conv2D<S>(4, kernelSize: 3, activation: .relu)
    case "conv2d_same_strides_tanh":
        return Conv2D<S>(3, kernelSize: (3, 2), strides: (2, 2), padding: .same, activation: .tanh)
    case "conv2d_dilated_same_sigmoid":
        return Conv2D<S>(2, kernelSize: 3, padding: .same, dilationRate: 2, activation: .sigmoid)
    case "conv2d_nobias_rect_strides": return Conv2D<S>(3, kernelSize: (2, 3), strides: (1, 2), useBias: false)
    case "depthwise_same_strides_relu":
        return DepthwiseConv2D<S>(kernelSize: 3, strides: 2, padding: .same, depthMultiplier: 2, activation: .relu)
    case "depthwise_dilated_valid": return DepthwiseConv2D<S>(kernelSize: (3, 2), dilationRate: (2, 1))
    case "separable_same_relu":
        return SeparableConv2D<S>(4, kernelSize: 3, padding: .same, depthMultiplier: 2, activation: .relu)
    case "separable_strides_nobias_tanh":
        return SeparableConv2D<S>(3, kernelSize: (3, 2), strides: (2, 2), activation: .tanh, useBias: false)
    case "separable_dilated_valid": return SeparableConv2D<S>(2, kernelSize: 2, depthMultiplier: 3, dilationRate: 2)
    default: preconditionFailure("no convolution layer for case \(caseName)")
    }
}

@Suite("Convolution layers: Conv2D, DepthwiseConv2D, SeparableConv2D")
struct ConvolutionLayerTests {
    static let valueCases = [
        "conv2d_valid_relu", "conv2d_same_strides_tanh", "conv2d_dilated_same_sigmoid", "conv2d_nobias_rect_strides",
        "depthwise_same_strides_relu", "depthwise_dilated_valid",
        "separable_same_relu", "separable_strides_nobias_tanh", "separable_dilated_valid",
    ]

    @Test("Output and gradients equal Keras's in Double", arguments: valueCases)
    func matchesKerasInDouble(_ caseName: String) throws {
        try expectMatchesKeras(caseName, convolutionLayer(caseName, Double.self), tolerance: 1e-10)
    }

    @Test("Output and gradients equal Keras's in Float", arguments: valueCases)
    func matchesKerasInFloat(_ caseName: String) throws {
        try expectMatchesKeras(caseName, convolutionLayer(caseName, Float.self), tolerance: 1e-4)
    }

    @Test("Output shapes and parameter counts equal Keras's")
    func shapesAndParameterCountsMatchKeras() throws {
        let cases: [(String, any Layer<Float>)] = [
            ("shape_conv_cnn150_first", Conv2D(32, kernelSize: 3, activation: .relu)),
            ("shape_conv_cnn128_first", Conv2D(128, kernelSize: 3, padding: .same, activation: .relu)),
            ("shape_conv_1x1_stride2", Conv2D(64, kernelSize: 1, strides: 2)),
            ("shape_conv_rect_same", Conv2D(16, kernelSize: (3, 5), strides: (2, 3), padding: .same)),
            ("shape_conv_dilated_valid", Conv2D(8, kernelSize: 3, dilationRate: 3)),
            ("shape_conv_dilated_same", Conv2D(8, kernelSize: 3, padding: .same, dilationRate: 2)),
            ("shape_conv_nobias", Conv2D(10, kernelSize: 5, strides: 2, useBias: false)),
            ("shape_depthwise_strides", DepthwiseConv2D(kernelSize: 3, strides: 2, depthMultiplier: 4)),
            ("shape_depthwise_dilated_same", DepthwiseConv2D(kernelSize: 5, padding: .same, dilationRate: 2)),
            ("shape_separable_same", SeparableConv2D(64, kernelSize: 3, padding: .same)),
            ("shape_separable_multiplier_strides", SeparableConv2D(128, kernelSize: 3, strides: 2, depthMultiplier: 2)),
            ("shape_separable_dilated", SeparableConv2D(16, kernelSize: 3, dilationRate: 2)),
        ]
        for (name, layer) in cases { try expectShapeMatchesKeras(name, layer) }
    }

    @Test("Weights have Keras's local names and shapes")
    func weightNamesAndShapes() throws {
        var g = SeededGenerator(seed: 3)
        let conv = Conv2D<Float>(8, kernelSize: (3, 5))
        try conv.build(inputShape: [10, 10, 4], generator: &g)
        #expect(conv.weights.map(\.name) == ["kernel", "bias"])
        #expect(conv.weights.map(\.variable.shape) == [[3, 5, 4, 8], [8]])
        #expect(conv.typeName == "Conv2D")

        let depthwise = DepthwiseConv2D<Float>(kernelSize: 3, depthMultiplier: 2)
        try depthwise.build(inputShape: [10, 10, 4], generator: &g)
        #expect(depthwise.weights.map(\.name) == ["kernel", "bias"])
        #expect(depthwise.weights.map(\.variable.shape) == [[3, 3, 4, 2], [8]])
        #expect(depthwise.typeName == "DepthwiseConv2D")

        let separable = SeparableConv2D<Float>(6, kernelSize: 3, depthMultiplier: 2)
        try separable.build(inputShape: [10, 10, 4], generator: &g)
        #expect(separable.weights.map(\.name) == ["depthwise_kernel", "pointwise_kernel", "bias"])
        #expect(separable.weights.map(\.variable.shape) == [[3, 3, 4, 2], [1, 1, 8, 6], [6]])
        #expect(separable.parameterCount == 3 * 3 * 4 * 2 + 4 * 2 * 6 + 6)
        #expect(separable.typeName == "SeparableConv2D")

        let noBias = SeparableConv2D<Float>(6, kernelSize: 3, useBias: false)
        try noBias.build(inputShape: [10, 10, 4], generator: &g)
        #expect(noBias.weights.map(\.name) == ["depthwise_kernel", "pointwise_kernel"])
    }

    @Test("Kernels start glorot uniform, biases zero, reproducibly from the seed")
    func initialWeights() throws {
        func make(_ seed: UInt64) throws -> Conv2D<Double> {
            let layer = Conv2D<Double>(16, kernelSize: 3)
            var g = SeededGenerator(seed: seed)
            try layer.build(inputShape: [8, 8, 8], generator: &g)
            return layer
        }
        let a = try make(5), b = try make(5), c = try make(6)
        let limit = (6.0 / Double(3 * 3 * 8 + 3 * 3 * 16)).squareRoot()
        #expect(a.kernel!.value.scalars.allSatisfy { abs($0) <= limit })
        #expect(a.kernel!.value.max().scalar > 0.9 * limit)
        #expect(a.bias!.value.scalars.allSatisfy { $0 == 0 })
        #expect(a.kernel!.value == b.kernel!.value)
        #expect(a.kernel!.value != c.kernel!.value)
        // Building again with the same shape keeps the weights.
        var g = SeededGenerator(seed: 9)
        let before = a.kernel!.value
        try a.build(inputShape: [8, 8, 8], generator: &g)
        #expect(a.kernel!.value == before)
    }

    @Test("Gradients match finite differences", arguments: 0..<6)
    func gradientsMatchFiniteDifferences(_ index: Int) throws {
        let cases: [(any Layer<Double>, [Int])] = [
            (Conv2D(2, kernelSize: 3, activation: .tanh), [2, 5, 4, 2]),
            (Conv2D(3, kernelSize: (2, 3), strides: (2, 1), padding: .same, activation: .sigmoid), [1, 5, 5, 2]),
            (Conv2D(2, kernelSize: 2, padding: .same, dilationRate: 2, useBias: false), [1, 4, 5, 2]),
            (DepthwiseConv2D(kernelSize: 3, strides: 2, padding: .same, depthMultiplier: 2, activation: .tanh), [2, 5, 4, 2]),
            (SeparableConv2D(3, kernelSize: 3, padding: .same, depthMultiplier: 2, activation: .tanh), [1, 4, 5, 2]),
            (SeparableConv2D(2, kernelSize: (2, 3), strides: (2, 2), activation: .relu), [2, 5, 6, 2]),
        ]
        try expectGradientsCheck(cases[index].0, inputShape: cases[index].1)
    }

    @Test("Unsuitable input shapes are thrown, naming the layer and the shape")
    func badShapesThrow() throws {
        var g = SeededGenerator(seed: 1)
        let conv = Conv2D<Float>(4, kernelSize: 3, name: "c")
        for bad in [[10, 10], [2, 10, 10, 3], [2, 10, 3], [10, 0, 3]] {
            #expect(throws: LayerError.self) { try conv.build(inputShape: bad, generator: &g) }
        }
        do {
            _ = try conv.outputShape(for: [2, 10, 3])
            Issue.record("no error for a 2-row input to a valid 3x3 convolution")
        } catch {
            #expect("\(error)".contains("Conv2D 'c'") && "\(error)".contains("[2, 10, 3]"))
        }
        // Dilation makes the kernel span 5 rows: 4 is too few with valid padding, fine with same.
        #expect(throws: LayerError.self) { try Conv2D<Float>(1, kernelSize: 3, dilationRate: 2).outputShape(for: [4, 9, 1]) }
        #expect(try Conv2D<Float>(1, kernelSize: 3, padding: .same, dilationRate: 2).outputShape(for: [4, 9, 1]) == [4, 9, 1])
        // Once built, another channel count is a mismatch naming both shapes.
        try conv.build(inputShape: [8, 8, 3], generator: &g)
        do {
            _ = try conv.outputShape(for: [8, 8, 5])
            Issue.record("no error for a channel mismatch")
        } catch {
            #expect("\(error)".contains("[8, 8, 3]") && "\(error)".contains("[8, 8, 5]"))
        }
        #expect(throws: LayerError.self) { try DepthwiseConv2D<Float>(kernelSize: 5).outputShape(for: [4, 8, 2]) }
        #expect(throws: LayerError.self) { try SeparableConv2D<Float>(3, kernelSize: 3).outputShape(for: [8, 8]) }
    }

    @Test("Inside a model the layers get Keras names and summary rows")
    func namingAndSummary() throws {
        let model = try Sequential<Float>(inputShape: [16, 16, 3], seed: 2) {
            Conv2D(8, kernelSize: 3, padding: .same, activation: .relu)
            DepthwiseConv2D(kernelSize: 3, depthMultiplier: 2)
            SeparableConv2D(4, kernelSize: 3, strides: 2)
            Conv2D(4, kernelSize: 1)
        }
        #expect(model.allLayers.dropFirst().map(\.name) == ["conv2d", "depthwise_conv2d", "separable_conv2d", "conv2d_1"])
        #expect(model.namedWeights.map(\.name) == [
            "conv2d.kernel", "conv2d.bias", "depthwise_conv2d.kernel", "depthwise_conv2d.bias",
            "separable_conv2d.depthwise_kernel", "separable_conv2d.pointwise_kernel", "separable_conv2d.bias",
            "conv2d_1.kernel", "conv2d_1.bias",
        ])
        #expect(try model.outputShape(for: [16, 16, 3]) == [6, 6, 4])
        let summary = model.summary()
        #expect(summary.contains("separable_conv2d (SeparableConv2D)"))
        #expect(summary.contains("(None, 14, 14, 16)"))
        let y = try model.predict(Tensor<Float>.uniform([2, 16, 16, 3], seed: 4))
        #expect(y.shape == [2, 6, 6, 4])
        #expect(y.scalars.allSatisfy { $0.isFinite })
    }
}
