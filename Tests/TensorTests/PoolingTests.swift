import Foundation
import Tensor
import TestSupport
import Testing

/// Pooling kernels against JAX float64 references written by
/// `Tests/ReferenceScripts/pool_softmax_fixtures.py` (`lax.reduce_window`, `jax.vjp`), plus closed forms.
@Suite("Pooling")
struct PoolingTests {
    static let poolCases = [
        "pool2_stride2_valid", "pool3_stride2_same_odd", "pool3_stride2_same_even", "pool3_stride1_same",
        "pool3x2_stride1x2_valid", "pool2x3_stride3x1_same",
    ]

    static func fixture() throws -> ReferenceFixture {
        try ReferenceFixture.load("pool_softmax.json", from: Bundle.module)
    }

    struct Window {
        let pool: (Int, Int)
        let strides: (Int, Int)
        let padding: Padding
        init(_ c: FixtureCase) throws {
            pool = (try c.int("pool_h"), try c.int("pool_w"))
            strides = (try c.int("stride_h"), try c.int("stride_w"))
            padding = try c.int("same") == 1 ? .same : .valid
        }
    }

    func checkAgainstFixture<S: TensorScalar>(_ type: S.Type, tolerance: Double) throws {
        let fixture = try Self.fixture()
        for name in Self.poolCases {
            let c = try fixture.case(name)
            let w = try Window(c)
            let x = try c.tensor("input", as: S.self)
            let g = try c.tensor("upstream", as: S.self)

            let (maxOut, indices) = x.maxPool2DWithIndices(poolSize: w.pool, strides: w.strides, padding: w.padding)
            let expectedMax = try c.tensor("max_output", as: S.self)
            #expect(maxOut.shape == expectedMax.shape, "\(name)")
            #expect(maxRelativeDifference(maxOut, expectedMax) <= tolerance, "\(name) max forward")
            #expect(x.maxPool2D(poolSize: w.pool, strides: w.strides, padding: w.padding) == maxOut, "\(name)")
            let maxGrad = Tensor<S>.maxPool2DBackward(gradient: g, indices: indices, inputShape: x.shape)
            #expect(maxRelativeDifference(maxGrad, try c.tensor("max_input_grad", as: S.self)) <= tolerance,
                    "\(name) max backward")

            let avgOut = x.avgPool2D(poolSize: w.pool, strides: w.strides, padding: w.padding)
            #expect(maxRelativeDifference(avgOut, try c.tensor("avg_output", as: S.self)) <= tolerance,
                    "\(name) avg forward")
            let avgGrad = Tensor<S>.avgPool2DBackward(
                gradient: g, inputShape: x.shape, poolSize: w.pool, strides: w.strides, padding: w.padding)
            #expect(maxRelativeDifference(avgGrad, try c.tensor("avg_input_grad", as: S.self)) <= tolerance,
                    "\(name) avg backward")
        }

        let c = try fixture.case("global_average")
        let x = try c.tensor("input", as: S.self)
        let out = x.globalAveragePool2D()
        #expect(out.shape == [2, 4])
        #expect(maxRelativeDifference(out, try c.tensor("output", as: S.self)) <= tolerance)
        let grad = Tensor<S>.globalAveragePool2DBackward(gradient: try c.tensor("upstream", as: S.self), inputShape: x.shape)
        #expect(maxRelativeDifference(grad, try c.tensor("input_grad", as: S.self)) <= tolerance)
    }

    @Test func matchesJAXInDouble() throws {
        try checkAgainstFixture(Double.self, tolerance: 1e-12)
    }

    @Test func matchesJAXInFloat() throws {
        try checkAgainstFixture(Float.self, tolerance: 1e-5)
    }

    @Test func outputShapesFollowKerasRules() {
        let x = Tensor<Float>.zeros([2, 5, 7, 3])
        #expect(x.maxPool2D(poolSize: (2, 2)).shape == [2, 2, 3, 3])
        #expect(x.maxPool2D(poolSize: (3, 3), strides: (2, 2), padding: .same).shape == [2, 3, 4, 3])
        #expect(x.avgPool2D(poolSize: (3, 3), strides: (1, 1), padding: .same).shape == [2, 5, 7, 3])
        #expect(x.avgPool2D(poolSize: (3, 2), strides: (1, 2), padding: .valid).shape == [2, 3, 3, 3])
        #expect(x.globalAveragePool2D().shape == [2, 3])
        let geometry = Pool2DGeometry(inputShape: [2, 6, 7, 3], poolSize: (3, 3), strides: (2, 2), padding: .same)
        #expect(geometry.outputShape == [2, 3, 4, 3])
        // Height 6, window 3, stride 2: total padding 1, all of it at the bottom.
        #expect(geometry.padTop == 0)
        // Width 7, window 3, stride 2: total padding 2, one column on each side.
        #expect(geometry.padLeft == 1)
    }

    @Test func paddingNeverWinsAndAverageCountsOnlyRealElements() {
        // All-negative input: zero padding would win a max and shrink an average.
        let x = Tensor<Double>.full([1, 4, 5, 2], -3)
        let maxOut = x.maxPool2D(poolSize: (3, 3), strides: (2, 2), padding: .same)
        #expect(maxOut.scalars.allSatisfy { $0 == -3 })
        let avgOut = x.avgPool2D(poolSize: (3, 3), strides: (1, 1), padding: .same)
        #expect(avgOut.scalars.allSatisfy { abs($0 + 3) < 1e-15 })
        // 1-D by hand: row [1, 2, 3, 4, 5], window 3, stride 1, same: [1.5, 2, 3, 4, 4.5].
        let row = Tensor<Double>(shape: [1, 1, 5, 1], scalars: [1, 2, 3, 4, 5])
        #expect(row.avgPool2D(poolSize: (1, 3), strides: (1, 1), padding: .same).scalars == [1.5, 2, 3, 4, 4.5])
        #expect(row.maxPool2D(poolSize: (1, 3), strides: (1, 1), padding: .same).scalars == [2, 3, 4, 5, 5])
    }

    @Test func maxBackwardRoutesToTheFirstMaximumOnTies() {
        // One 2x2 window of equal values per channel: the gradient goes to the top-left element.
        let x = Tensor<Float>.full([1, 2, 2, 2], 7)
        let (out, indices) = x.maxPool2DWithIndices(poolSize: (2, 2))
        #expect(out.scalars == [7, 7])
        #expect(indices == [0, 1])
        let grad = Tensor<Float>.maxPool2DBackward(gradient: Tensor(shape: [1, 1, 1, 2], scalars: [5, 6]),
                                                   indices: indices, inputShape: x.shape)
        #expect(grad.scalars == [5, 6, 0, 0, 0, 0, 0, 0])
    }

    @Test func maxBackwardAccumulatesOverOverlappingWindows() {
        // Row [0, 9, 1, 2], window 2, stride 1: 9 wins the first two windows.
        let x = Tensor<Double>(shape: [1, 1, 4, 1], scalars: [0, 9, 1, 2])
        let (out, indices) = x.maxPool2DWithIndices(poolSize: (1, 2), strides: (1, 1))
        #expect(out.scalars == [9, 9, 2])
        let grad = Tensor<Double>.maxPool2DBackward(
            gradient: Tensor(shape: [1, 1, 3, 1], scalars: [1, 10, 100]), indices: indices, inputShape: x.shape)
        #expect(grad.scalars == [0, 11, 0, 100])
    }

    @Test func maxPoolPropagatesNaN() {
        let x = Tensor<Float>(shape: [1, 2, 2, 1], scalars: [1, .nan, 3, 2])
        #expect(x.maxPool2D(poolSize: (2, 2)).scalars[0].isNaN)
    }

    @Test(arguments: [[2, 7, 5, 19], [1, 4, 4, 8], [3, 6, 9, 3]])
    func simd2x2Stride2MatchesTheGenericKernel(shape: [Int]) {
        // The Float 2x2/stride-2/valid fast path against the generic kernel (which Double runs):
        // small integers give many ties (the first maximum must win), and a few NaNs must win.
        let values = Tensor<Double>.uniform(shape, lower: 0, upper: 4, seed: 41).scalars.enumerated().map { i, v in
            i % 37 == 5 ? Double.nan : v.rounded(.down)
        }
        let x = Tensor<Double>(shape: shape, scalars: values)
        let (fast, fastIndices) = Tensor<Float>(x).maxPool2DWithIndices(poolSize: (2, 2))
        let (generic, genericIndices) = x.maxPool2DWithIndices(poolSize: (2, 2))
        #expect(fast.shape == generic.shape)
        #expect(fastIndices == genericIndices)
        #expect(zip(fast.scalars, generic.scalars).allSatisfy { a, b in a.isNaN ? b.isNaN : Double(a) == b })
    }

    /// A pooling window and an input shape for the Float kernels.
    struct ThreadedCase: Sendable, CustomTestStringConvertible {
        let shape: [Int]
        let pool: (Int, Int)
        let strides: (Int, Int)
        let padding: Padding
        var testDescription: String { "\(shape) pool \(pool) strides \(strides) \(padding)" }
    }

    /// Sizes that split across threads, channel counts that are not multiples of 16, odd and even
    /// spatial sizes, every padding case, disjoint and overlapping windows.
    static let threadedCases: [ThreadedCase] = [
        ThreadedCase(shape: [8, 41, 37, 35], pool: (3, 3), strides: (2, 2), padding: .same),   // padding on both sides
        ThreadedCase(shape: [6, 40, 38, 64], pool: (3, 3), strides: (2, 2), padding: .same),   // padding at the end only
        ThreadedCase(shape: [8, 40, 37, 19], pool: (2, 2), strides: (2, 2), padding: .valid),  // last column in no window
        ThreadedCase(shape: [9, 33, 35, 16], pool: (2, 2), strides: (2, 2), padding: .same),   // disjoint, padded
        ThreadedCase(shape: [5, 23, 29, 33], pool: (3, 3), strides: (1, 1), padding: .same),   // overlapping, stride 1
        ThreadedCase(shape: [4, 30, 31, 17], pool: (2, 3), strides: (3, 1), padding: .same),   // gap rows, overlapping columns
        ThreadedCase(shape: [3, 35, 20, 48], pool: (3, 2), strides: (4, 2), padding: .valid),  // rows in no window
    ]

    @Test(arguments: threadedCases)
    func floatKernelsMatchTheGenericKernel(_ c: ThreadedCase) {
        // Small integers give many ties (the first maximum must win), and a few NaNs must win.
        let values = Tensor<Double>.uniform(c.shape, lower: 0, upper: 4, seed: 43).scalars.enumerated().map { i, v in
            i % 41 == 7 ? Double.nan : v.rounded(.down)
        }
        let x = Tensor<Double>(shape: c.shape, scalars: values)
        let xf = Tensor<Float>(x)
        let (generic, genericIndices) = x.maxPool2DWithIndices(poolSize: c.pool, strides: c.strides, padding: c.padding)
        let (fast, fastIndices) = xf.maxPool2DWithIndices(poolSize: c.pool, strides: c.strides, padding: c.padding)
        #expect(fast.shape == generic.shape)
        #expect(fastIndices == genericIndices)
        func same(_ a: Tensor<Float>, _ b: Tensor<Double>) -> Bool {
            a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { u, v in u.isNaN ? v.isNaN : Double(u) == v }
        }
        #expect(same(fast, generic))
        // Without indices (inference): the same values.
        #expect(same(xf.maxPool2D(poolSize: c.pool, strides: c.strides, padding: c.padding), generic))

        // Backward: the geometry-aware Float pass and the Float scatter against the Double scatter.
        let g = Tensor<Double>(Tensor<Float>(Tensor<Double>.uniform(generic.shape, lower: -1, upper: 1, seed: 44)))
        let expected = Tensor<Double>.maxPool2DBackward(gradient: g, indices: genericIndices, inputShape: c.shape)
        let scattered = Tensor<Float>.maxPool2DBackward(gradient: Tensor<Float>(g), indices: fastIndices, inputShape: c.shape)
        let direct = Tensor<Float>.maxPool2DBackward(
            gradient: Tensor<Float>(g), indices: fastIndices, inputShape: c.shape, poolSize: c.pool, strides: c.strides,
            padding: c.padding)
        #expect(direct == scattered)
        // Overlapping windows add up to a few Float gradients at one input element.
        #expect(maxRelativeDifference(Tensor<Double>(direct), expected) < 1e-6)
        #expect(direct.scalars.contains(0) && direct.scalars.contains { $0 != 0 })
    }

    @Test func globalAverageIsTheSpatialMean() {
        let x = Tensor<Double>.uniform([3, 4, 2, 5], lower: -1, upper: 1, seed: 11)
        let reference = x.mean(alongAxes: [1, 2])
        #expect(maxRelativeDifference(x.globalAveragePool2D(), reference) < 1e-14)
        let g = Tensor<Double>.uniform([3, 5], lower: -1, upper: 1, seed: 12)
        let grad = Tensor<Double>.globalAveragePool2DBackward(gradient: g, inputShape: x.shape)
        #expect(maxRelativeDifference(grad, (g / 8).reshaped(to: [3, 1, 1, 5]).broadcast(to: x.shape)) < 1e-15)
    }
}
