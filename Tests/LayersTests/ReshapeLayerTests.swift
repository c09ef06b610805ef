import Layers
import TestSupport
import Testing

/// The reshaping layers of each Keras value case in layers_conv.json.
func reshapeLayer<S: TensorScalar>(_ caseName: String, _: S.Type) -> any Layer<S> {
    switch caseName {
    case "flatten": return Flatten<S>()
    case "reshape_inferred": return Reshape<S>([-1, 4])
    case "reshape_explicit": return Reshape<S>([6, 4])
    default: preconditionFailure("no reshaping layer for case \(caseName)")
    }
}

@Suite("Reshaping layers: Flatten, Reshape")
struct ReshapeLayerTests {
    static let valueCases = ["flatten", "reshape_inferred", "reshape_explicit"]

    @Test("Output and input gradient equal Keras's in Double", arguments: valueCases)
    func matchesKerasInDouble(_ caseName: String) throws {
        try expectMatchesKeras(caseName, reshapeLayer(caseName, Double.self), tolerance: 1e-10)
    }

    @Test("Output and input gradient equal Keras's in Float", arguments: valueCases)
    func matchesKerasInFloat(_ caseName: String) throws {
        try expectMatchesKeras(caseName, reshapeLayer(caseName, Float.self), tolerance: 1e-4)
    }

    @Test("Output shapes equal Keras's")
    func shapesMatchKeras() throws {
        try expectShapeMatchesKeras("shape_flatten", Flatten<Float>())
        try expectShapeMatchesKeras("shape_reshape", Reshape<Float>([49, -1]))
    }

    @Test("Flatten keeps the row-major (channels-last) order; a rank-1 example stays as it is")
    func flattenOrder() throws {
        var g = SeededGenerator(seed: 0)
        let flatten = Flatten<Float>()
        try flatten.build(inputShape: [2, 3, 2], generator: &g)
        let x = Tensor<Float>(shape: [2, 2, 3, 2], scalars: (0..<24).map(Float.init))
        let y = flatten(x)
        #expect(y.shape == [2, 12])
        #expect(y.scalars == x.scalars)
        #expect(try Flatten<Float>().outputShape(for: [5]) == [5])
        #expect(flatten.typeName == "Flatten" && flatten.weights.isEmpty)
    }

    @Test("Reshape infers one -1 and rejects sizes that do not divide")
    func reshapeInference() throws {
        #expect(try Reshape<Float>([-1, 4]).outputShape(for: [3, 4, 2]) == [6, 4])
        #expect(try Reshape<Float>([2, -1, 3]).outputShape(for: [4, 3]) == [2, 2, 3])
        #expect(try Reshape<Float>([12]).outputShape(for: [3, 4]) == [12])
        let bad = Reshape<Float>([-1, 5], name: "r")
        do {
            _ = try bad.outputShape(for: [3, 4, 2])
            Issue.record("no error reshaping 24 elements to [-1, 5]")
        } catch {
            #expect("\(error)".contains("Reshape 'r'") && "\(error)".contains("[3, 4, 2]"))
        }
        #expect(throws: LayerError.self) { try Reshape<Float>([5, 5]).outputShape(for: [3, 4, 2]) }
        #expect(Reshape<Float>([2]).typeName == "Reshape")
    }

    @Test("Gradients match finite differences", arguments: 0..<3)
    func gradientsMatchFiniteDifferences(_ index: Int) throws {
        let cases: [(any Layer<Double>, [Int])] = [
            (Flatten(), [2, 3, 2, 2]),
            (Reshape([-1, 3]), [2, 2, 3, 2]),
            (Reshape([2, 6]), [1, 3, 4]),
        ]
        try expectGradientsCheck(cases[index].0, inputShape: cases[index].1)
    }
}
