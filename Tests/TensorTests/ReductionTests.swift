import Foundation
import Tensor
import TestSupport
import Testing

/// Reductions compared with NumPy 2.4.6 (Tests/ReferenceScripts/tensor_fixtures.py, tensor.json).
@Suite("Reductions")
struct ReductionTests {
    let fixture: FixtureCase

    init() throws {
        fixture = try ReferenceFixture.load("tensor.json", from: .module).case("reductions")
    }

    static let axes: [(String, [Int]?)] = [
        ("all", nil), ("a0", [0]), ("a1", [1]), ("a2", [-1]), ("a02", [0, 2]), ("a12", [1, 2]),
    ]

    @Test(arguments: 0..<axes.count)
    func sumMeanMaxMinVarianceMatchNumPy(_ index: Int) throws {
        let (name, axes) = Self.axes[index]
        let x: Tensor<Double> = try fixture.tensor("x")
        let expectations: [(String, Tensor<Double>)] = [
            ("sum", x.sum(alongAxes: axes)), ("mean", x.mean(alongAxes: axes)),
            ("max", x.max(alongAxes: axes)), ("min", x.min(alongAxes: axes)),
            ("var", x.variance(alongAxes: axes)),
        ]
        for (op, actual) in expectations {
            let expected: Tensor<Double> = try fixture.tensor("\(op)_\(name)")
            #expect(actual.scalars.count == expected.count, "\(op) \(name)")
            #expect(actual.shape.reduce(1, *) == expected.shape.reduce(1, *))
            #expect(maxRelativeDifference(actual.reshaped(to: expected.shape), expected) < 1e-12, "\(op) \(name)")
        }
        // Float agrees to single precision.
        let xf = Tensor<Float>(x)
        let expected: Tensor<Double> = try fixture.tensor("sum_\(name)")
        #expect(maxRelativeDifference(Tensor<Double>(xf.sum(alongAxes: axes)).reshaped(to: expected.shape), expected) < 1e-5)
    }

    @Test func keepDimsKeepsSizeOneAxes() throws {
        let x: Tensor<Double> = try fixture.tensor("x")
        #expect(x.sum(alongAxes: [0, 2], keepDims: true).shape == [1, 3, 1])
        #expect(x.mean(alongAxes: [1], keepDims: false).shape == [2, 4])
        #expect(x.sum().shape == [])
    }

    @Test func sampleVarianceAndArgExtremes() throws {
        let x: Tensor<Double> = try fixture.tensor("x")
        #expect(maxRelativeDifference(x.variance(alongAxes: [1], correction: 1), try fixture.tensor("var1_a1")) < 1e-12)
        #expect(x.argmax(alongAxis: 1) == (try fixture.tensor("argmax_a1")))
        #expect(x.argmin(alongAxis: -1) == (try fixture.tensor("argmin_a2")))
    }

    @Test func sumToShapeReducesBroadcastAxes() {
        let g = Tensor<Double>.ones([2, 3, 4])
        #expect(g.sum(toShape: [3, 1]).scalars == [8, 8, 8])
        #expect(g.sum(toShape: [4]).scalars == [6, 6, 6, 6])
        #expect(g.sum(toShape: []).scalars == [24])
        #expect(g.sum(toShape: [2, 3, 4]) == g)
    }

    @Test func nanPropagatesThroughMaxAndMin() {
        let x = Tensor<Float>([1, .nan, 3])
        #expect(x.max().scalar.isNaN)
        #expect(x.min().scalar.isNaN)
    }

    /// Float sums over the leading axes of a long tensor (a bias gradient) run the C kernel over
    /// fixed blocks of rows in parallel: against a Double sum, for rows of 19 and 128, to a shape
    /// with and without the kept axes, and through sum(toShape:).
    @Test(arguments: [[7, 43, 41, 19], [4, 23, 25, 128]])
    func floatLeadingAxesSumsMatchDouble(shape: [Int]) {
        let x = Tensor<Float>.uniform(shape, lower: -1, upper: 2, seed: 81)
        let reference = Tensor<Double>(x).sum(alongAxes: [0, 1, 2])
        let sums = x.sum(alongAxes: [0, 1, 2])
        #expect(sums.shape == [shape[3]])
        // Relative to the sum of magnitudes (tens of thousands of terms).
        let magnitude = Tensor<Double>(x).abs().sum(alongAxes: [0, 1, 2])
        #expect(maxRelativeDifference(Tensor<Double>(sums) / magnitude, reference / magnitude) < 1e-6)
        #expect(x.sum(alongAxes: [0, 1, 2], keepDims: true) == sums.reshaped(to: [1, 1, 1, shape[3]]))
        #expect(x.sum(toShape: [shape[3]]) == sums)
        // Over the first two axes: rows of W * C.
        let two = x.sum(alongAxes: [0, 1])
        #expect(maxRelativeDifference(Tensor<Double>(two), Tensor<Double>(x).sum(alongAxes: [0, 1])) < 1e-4)
    }
}
