import Foundation
import Tensor
import TestSupport
import Testing

/// Broadcasting and shape operations compared with NumPy 2.4.6
/// (Tests/ReferenceScripts/tensor_fixtures.py, tensor.json).
@Suite("Shapes and broadcasting")
struct ShapeTests {
    let fixture: ReferenceFixture

    init() throws {
        fixture = try ReferenceFixture.load("tensor.json", from: .module)
    }

    @Test func binaryOperationsBroadcastLikeNumPy() throws {
        let c = try fixture.case("broadcasting")
        let a: Tensor<Double> = try c.tensor("a"), b: Tensor<Double> = try c.tensor("b"), v: Tensor<Double> = try c.tensor("c")
        let pairs: [(String, Tensor<Double>)] = [
            ("a_plus_b", a + b), ("a_minus_b", a - b), ("a_times_b", a * b), ("a_div_b", a / b),
            ("b_pow_c", b.pow(v)), ("max_a_c", a.maximum(v)), ("min_b_c", b.minimum(v)),
        ]
        for (name, actual) in pairs {
            let expected: Tensor<Double> = try c.tensor(name)
            #expect(actual.shape == expected.shape, "\(name)")
            #expect(maxRelativeDifference(actual, expected) < 1e-14, "\(name)")
        }
    }

    @Test func permuteSliceConcatenateStackMatchNumPy() throws {
        let c = try fixture.case("shape")
        let y: Tensor<Double> = try c.tensor("y")
        #expect(y.permuted([2, 0, 3, 1]) == (try c.tensor("permute_2031")))
        #expect(y.transposed() == (try c.tensor("transpose_last")))
        #expect(y.slice(alongAxis: 2, 1..<3) == (try c.tensor("slice_a2_1_3")))
        #expect(Tensor.concatenate([y, y.slice(alongAxis: 1, 0..<2) * 2], alongAxis: 1) == (try c.tensor("concat_a1")))
        #expect(Tensor.stack([y[0], y[1]], alongAxis: 2) == (try c.tensor("stack_a2")))
        let yf = Tensor<Float>(y)
        #expect(Tensor<Double>(yf.permuted([2, 0, 3, 1])) == Tensor<Double>(Tensor<Float>(try c.tensor("permute_2031", as: Double.self))))
    }

    @Test func reshapeSqueezeExpandSplitAssign() {
        let t = Tensor<Float>.arange(0, 24).reshaped(to: [2, -1, 4])
        #expect(t.shape == [2, 3, 4])
        #expect(t.expandingShape(at: 1).shape == [2, 1, 3, 4])
        #expect(t.expandingShape(at: -1).shape == [2, 3, 4, 1])
        #expect(t.expandingShape(at: 1).squeezed().shape == [2, 3, 4])
        #expect(Tensor<Float>.zeros([1, 3, 1]).squeezed(axes: [0]).shape == [3, 1])
        let parts = t.split(sizes: [1, 2], alongAxis: 1)
        #expect(parts.map(\.shape) == [[2, 1, 4], [2, 2, 4]])
        #expect(Tensor.concatenate(parts, alongAxis: 1) == t)
        var z = Tensor<Float>.zeros([2, 3])
        z.assign(Tensor<Float>([[1], [2]]), alongAxis: 1, 2..<3)
        #expect(z.scalars == [0, 0, 1, 0, 0, 2])
        #expect(t[1].shape == [3, 4])
        #expect(t[1, 2, 3] == 23)
        #expect(t.selecting(2, alongAxis: 2).scalars == [2, 6, 10, 14, 18, 22])
        #expect(Tensor<Float>([1, 2]).broadcast(to: [3, 2]).scalars == [1, 2, 1, 2, 1, 2])
        let rows = t.gathering([1, 0, 1])
        #expect(rows.shape == [3, 3, 4])
        #expect(rows[0] == t[1] && rows[1] == t[0] && rows[2] == t[1])
        #expect(t.gathering([]).shape == [0, 3, 4])
    }

    @Test func invalidShapesAreThrownWhenTheyComeFromData() {
        #expect(throws: TensorError.self) { try Tensor<Float>(validatingShape: [2, 3], scalars: [1, 2, 3]) }
        do {
            _ = try Tensor<Float>(validatingShape: [2, 3], scalars: [1, 2, 3])
        } catch {
            #expect("\(error)".contains("[2, 3]"))
        }
    }
}
