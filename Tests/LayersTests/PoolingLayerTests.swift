import Layers
import TestSupport
import Testing

/// The pooling layers of each Keras value case in layers_conv.json, configured as the script
/// configures them.
func poolingLayer<S: TensorScalar>(_ caseName: String, _: S.Type) -> any Layer<S> {
    switch caseName {
    case "maxpool_2": return MaxPool2D<S>(2)
    case "maxpool_3_s2_same": return MaxPool2D<S>(3, strides: 2, padding: .same)
    case "maxpool_rect_strides": return MaxPool2D<S>((2, 3), strides: (1, 2))
    case "avgpool_2": return AveragePool2D<S>(2)
    case "avgpool_3_s2_same": return AveragePool2D<S>(3, strides: 2, padding: .same)
    case "global_average": return GlobalAveragePooling2D<S>()
    case "global_average_keepdims": return GlobalAveragePooling2D<S>(keepDims: true)
    default: preconditionFailure("no pooling layer for case \(caseName)")
    }
}

@Suite("Pooling layers: MaxPool2D, AveragePool2D, GlobalAveragePooling2D")
struct PoolingLayerTests {
    static let valueCases = [
        "maxpool_2", "maxpool_3_s2_same", "maxpool_rect_strides", "avgpool_2", "avgpool_3_s2_same",
        "global_average", "global_average_keepdims",
    ]

    @Test("Output and input gradient equal Keras's in Double", arguments: valueCases)
    func matchesKerasInDouble(_ caseName: String) throws {
        try expectMatchesKeras(caseName, poolingLayer(caseName, Double.self), tolerance: 1e-10)
    }

    @Test("Output and input gradient equal Keras's in Float", arguments: valueCases)
    func matchesKerasInFloat(_ caseName: String) throws {
        try expectMatchesKeras(caseName, poolingLayer(caseName, Float.self), tolerance: 1e-4)
    }

    @Test("Output shapes equal Keras's")
    func shapesMatchKeras() throws {
        let cases: [(String, any Layer<Float>)] = [
            ("shape_maxpool_2", MaxPool2D(2)),
            ("shape_maxpool_3_s2_same", MaxPool2D(3, strides: 2, padding: .same)),
            ("shape_maxpool_3_s2_valid", MaxPool2D(3, strides: 2)),
            ("shape_avgpool_2_same", AveragePool2D(2, padding: .same)),
            ("shape_avgpool_rect", AveragePool2D((3, 2), strides: (1, 3))),
            ("shape_global_average", GlobalAveragePooling2D()),
        ]
        for (name, layer) in cases { try expectShapeMatchesKeras(name, layer) }
    }

    @Test("Keras defaults, type names and aliases")
    func defaultsAndNames() {
        let pool = MaxPool2D<Float>()
        #expect(pool.poolSize == (2, 2) && pool.strides == (2, 2) && pool.padding == .valid)
        let strided = MaxPool2D<Float>(3, strides: 2, padding: .same)
        #expect(strided.poolSize == (3, 3) && strided.strides == (2, 2) && strided.padding == .same)
        let rect = AveragePool2D<Float>((2, 3))
        #expect(rect.strides == (2, 3))
        #expect(pool.typeName == "MaxPooling2D")
        #expect(rect.typeName == "AveragePooling2D")
        #expect(GlobalAveragePooling2D<Float>().typeName == "GlobalAveragePooling2D")
        #expect(MaxPooling2D<Float>(2).typeName == "MaxPooling2D")
        #expect(AveragePooling2D<Float>(2).typeName == "AveragePooling2D")
        #expect(pool.weights.isEmpty && rect.weights.isEmpty)
    }

    @Test("Hand-checked values: max and mean of each window")
    func handCheckedValues() throws {
        // One 4x4 single-channel image holding 0 ... 15 row by row.
        let x = Tensor<Double>(shape: [1, 4, 4, 1], scalars: (0..<16).map(Double.init))
        var g = SeededGenerator(seed: 0)
        let max = MaxPool2D<Double>(2)
        try max.build(inputShape: [4, 4, 1], generator: &g)
        #expect(max(x).scalars == [5, 7, 13, 15])
        let average = AveragePool2D<Double>(2)
        try average.build(inputShape: [4, 4, 1], generator: &g)
        #expect(average(x).scalars == [2.5, 4.5, 10.5, 12.5])
        // 3x3 windows with stride 2 and same padding: output 2x2, padding 1 at the bottom/right only.
        let same = AveragePool2D<Double>(3, strides: 2, padding: .same)
        try same.build(inputShape: [4, 4, 1], generator: &g)
        #expect(same(x).scalars == [5, 6.5, 11, 12.5])
        let global = GlobalAveragePooling2D<Double>()
        try global.build(inputShape: [4, 4, 1], generator: &g)
        #expect(global(x).shape == [1, 1] && global(x).scalars == [7.5])
    }

    @Test("Gradients match finite differences", arguments: 0..<6)
    func gradientsMatchFiniteDifferences(_ index: Int) throws {
        let cases: [(any Layer<Double>, [Int])] = [
            (MaxPool2D(2), [2, 5, 4, 2]),
            (MaxPool2D(3, strides: 2, padding: .same), [1, 5, 6, 2]),
            (AveragePool2D(2), [2, 4, 5, 2]),
            (AveragePool2D((3, 2), strides: (2, 1), padding: .same), [1, 5, 4, 3]),
            (GlobalAveragePooling2D(), [2, 3, 4, 2]),
            (GlobalAveragePooling2D(keepDims: true), [1, 3, 2, 3]),
        ]
        try expectGradientsCheck(cases[index].0, inputShape: cases[index].1)
    }

    @Test("Unsuitable input shapes are thrown, naming the layer and the shape")
    func badShapesThrow() throws {
        var g = SeededGenerator(seed: 1)
        let pool = MaxPool2D<Float>(3, name: "p")
        for bad in [[10, 10], [1, 10, 10, 3], [2, 10, 3]] {
            #expect(throws: LayerError.self) { try pool.build(inputShape: bad, generator: &g) }
        }
        do {
            _ = try pool.outputShape(for: [10, 2, 3])
            Issue.record("no error for a 2-column input to valid 3x3 pooling")
        } catch {
            #expect("\(error)".contains("MaxPooling2D 'p'") && "\(error)".contains("[10, 2, 3]"))
        }
        // Same padding accepts any positive size.
        #expect(try MaxPool2D<Float>(3, padding: .same).outputShape(for: [2, 2, 3]) == [1, 1, 3])
        #expect(throws: LayerError.self) { try AveragePool2D<Float>(4).outputShape(for: [3, 8, 1]) }
        #expect(throws: LayerError.self) { try GlobalAveragePooling2D<Float>().outputShape(for: [8, 3]) }
    }
}
