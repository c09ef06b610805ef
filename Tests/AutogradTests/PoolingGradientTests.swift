import Autograd
import Tensor
import TestSupport
import Testing

/// Finite-difference checks of the pooling backward rules (max pooling at inputs without ties,
/// so every window has a unique, locally stable winner).
@Suite("Pooling gradients")
struct PoolingGradientTests {
    /// A random permutation of distinct values, spaced 0.1 apart (far above the finite-difference step).
    static func distinct(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        let n = shape.reduce(1, *)
        var generator = SeededGenerator(seed: seed)
        let values = (0..<n).map { Double($0) * 0.1 - Double(n) * 0.05 }.shuffled(using: &generator)
        return Tensor(shape: shape, scalars: values)
    }

    static let configurations: [(pool: (Int, Int), strides: (Int, Int)?, padding: Padding)] = [
        ((2, 2), nil, .valid),
        ((3, 3), (2, 2), .same),
        ((3, 3), (1, 1), .same),
        ((3, 2), (1, 2), .valid),
        ((2, 3), (3, 1), .same),
    ]

    @Test func maxPool2D() {
        for (i, c) in Self.configurations.enumerated() {
            let x = Self.distinct([2, 5, 6, 3], seed: UInt64(10 + i))
            let result = checkGradients(at: [x]) { v in
                v[0].maxPool2D(poolSize: c.pool, strides: c.strides, padding: c.padding)
            }
            #expect(result.passed, "configuration \(i): \(result)")
        }
    }

    @Test func avgPool2D() {
        for (i, c) in Self.configurations.enumerated() {
            let x = Tensor<Double>.uniform([2, 5, 6, 3], lower: -1, upper: 1, seed: UInt64(20 + i))
            let result = checkGradients(at: [x]) { v in
                v[0].avgPool2D(poolSize: c.pool, strides: c.strides, padding: c.padding)
            }
            #expect(result.passed, "configuration \(i): \(result)")
        }
    }

    @Test func globalAveragePool2D() {
        let x = Tensor<Double>.uniform([2, 3, 4, 3], lower: -1, upper: 1, seed: 30)
        let result = checkGradients(at: [x]) { v in v[0].globalAveragePool2D() }
        #expect(result.passed, "\(result)")
    }

    @Test func poolingComposesInAGraph() {
        // Max pool, then average pool, then global average: gradients chain through all three.
        let x = Self.distinct([1, 6, 6, 2], seed: 40)
        let result = checkGradients(at: [x]) { v in
            v[0].maxPool2D(poolSize: (2, 2), strides: (1, 1), padding: .same)
                .avgPool2D(poolSize: (3, 3), strides: (2, 2), padding: .same)
                .globalAveragePool2D()
        }
        #expect(result.passed, "\(result)")
    }

    @Test func recordsNothingWithoutGradients() {
        let x = Variable(Self.distinct([1, 4, 4, 1], seed: 50), requiresGradient: true)
        let y = withoutGradients { x.maxPool2D(poolSize: (2, 2)) }
        #expect(y.isLeaf && !y.requiresGradient)
        #expect(x.maxPool2D(poolSize: (2, 2)).operationName == "maxPool2D")
    }
}
