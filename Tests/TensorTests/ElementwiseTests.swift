import Foundation
import Testing
import Tensor

@Suite("Elementwise and broadcasting")
struct ElementwiseTests {
    @Test func broadcastingAddMatchesHandComputedValues() {
        let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let row = Tensor<Float>([10, 20, 30])
        let column = Tensor<Float>(shape: [2, 1], scalars: [100, 200])
        #expect((a + row).scalars == [11, 22, 33, 14, 25, 36])
        #expect((a + column).scalars == [101, 102, 103, 204, 205, 206])
        #expect((row + column).shape == [2, 3])
        #expect((row + column).scalars == [110, 120, 130, 210, 220, 230])
        #expect((a * 2).scalars == [2, 4, 6, 8, 10, 12])
        #expect((1 - a).scalars == [0, -1, -2, -3, -4, -5])
    }

    @Test func broadcastingInnerAndOuterAxes() {
        // [2, 1, 3] with [4, 1]: result [2, 4, 3], out[i, j, k] = a[i, 0, k] * b[j, 0].
        let a = Tensor<Double>(shape: [2, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor<Double>(shape: [4, 1], scalars: [1, 10, 100, 1000])
        let c = a * b
        #expect(c.shape == [2, 4, 3])
        for i in 0..<2 { for j in 0..<4 { for k in 0..<3 {
            #expect(c[i, j, k] == a[i, 0, k] * b[j, 0])
        } } }
    }

    @Test func broadcastShapeRejectsIncompatibleShapesNamingBoth() {
        #expect(Broadcasting.shape([2, 3], [3, 2]) == nil)
        #expect(throws: TensorError.shapeMismatch(operation: "add", lhs: [2, 3], rhs: [3, 2])) {
            try Broadcasting.checkedShape([2, 3], [3, 2], operation: "add")
        }
        let message = TensorError.shapeMismatch(operation: "add", lhs: [2, 3], rhs: [3, 2]).description
        #expect(message.contains("[2, 3]") && message.contains("[3, 2]"))
    }

    @Test func unaryFunctionsMatchClosedForms() {
        let x = Tensor<Double>([-3, -0.5, 0, 0.5, 3])
        for (i, v) in x.scalars.enumerated() {
            #expect(abs(x.sigmoid().scalars[i] - 1 / (1 + Double.exp(-v))) < 1e-15)
            #expect(x.relu().scalars[i] == max(v, 0))
            #expect(abs(x.tanh().scalars[i] - Double.tanh(v)) < 1e-15)
            #expect(x.abs().scalars[i] == Swift.abs(v))
        }
        #expect(x.clamped(to: -1...1).scalars == [-1, -0.5, 0, 0.5, 1])
        // Sigmoid stays finite and exact at the extremes.
        let extreme = Tensor<Float>([-1000, 1000]).sigmoid()
        #expect(extreme.scalars == [0, 1])
        #expect(Tensor<Double>([4, 9]).sqrt().scalars == [2, 3])
        #expect(Tensor<Double>([2, 3]).pow(3).scalars == [8, 27])
        #expect(Tensor<Double>([1]).exp().log().scalars == [1])
    }

    @Test func comparisonsAndMinMax() {
        let a = Tensor<Float>([1, 5, 3])
        let b = Tensor<Float>([2, 5, 1])
        #expect(a.isLess(than: b).scalars == [1, 0, 0])
        #expect(a.isEqual(to: b).scalars == [0, 1, 0])
        #expect(a.isGreaterOrEqual(to: b).scalars == [0, 1, 1])
        #expect(a.maximum(b).scalars == [2, 5, 3])
        #expect(a.minimum(b).scalars == [1, 5, 1])
        let nan = Tensor<Float>([.nan]).maximum(Tensor<Float>([1]))
        #expect(nan.scalars[0].isNaN)
    }

    @Test func inPlaceOperatorsBroadcastIntoTheLeftShape() {
        var a = Tensor<Float>.ones([2, 2])
        a += Tensor<Float>([1, 2])
        #expect(a.scalars == [2, 3, 2, 3])
        a *= 0.5
        #expect(a.scalars == [1, 1.5, 1, 1.5])
    }

    @Test func valueSemanticsCopyOnWrite() {
        let a = Tensor<Float>([1, 2, 3])
        var b = a
        b[0] = 100
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [100, 2, 3])
    }

    /// The Float maps run C kernels (split across threads for long buffers): every operation
    /// against the scalar Swift expression of its definition, bit for bit, on values with NaN,
    /// infinities and signed zeros, at a length that splits across threads and a short odd one,
    /// with every stride pattern.
    @Test(arguments: [140_001, 37])
    func floatKernelsEqualTheScalarDefinitions(count: Int) {
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1, -1, 2.5]
        let random = Tensor<Float>.uniform([count], lower: -4, upper: 4, seed: 51).scalars
        let xs = random.enumerated().map { i, v in i % 13 == 0 ? specials[(i / 13) % specials.count] : v }
        let ys = Tensor<Float>.uniform([count], lower: -4, upper: 4, seed: 52).scalars.enumerated().map { i, v in
            i % 17 == 0 ? specials[(i / 17) % specials.count] : v
        }
        let x = Tensor<Float>(shape: [count], scalars: xs), y = Tensor<Float>(shape: [count], scalars: ys)
        func same(_ a: [Float], _ b: [Float]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
        }
        let binary: [(BinaryOp, (Float, Float) -> Float)] = [
            (.add, { $0 + $1 }), (.subtract, { $0 - $1 }), (.multiply, { $0 * $1 }), (.divide, { $0 / $1 }),
            (.maximum, { $0 >= $1 || $0.isNaN ? $0 : $1 }), (.minimum, { $0 <= $1 || $0.isNaN ? $0 : $1 }),
        ]
        let s = ys[3]
        for (op, f) in binary {
            #expect(same(x.zip(y, op).scalars, zip(xs, ys).map(f)), "\(op) elementwise")
            #expect(same(x.zip(Tensor(s), op).scalars, xs.map { f($0, s) }), "\(op) with a scalar")
            #expect(same(Tensor(s).zip(x, op).scalars, xs.map { f(s, $0) }), "\(op) of a scalar")
            var inPlace = x
            inPlace.zipInPlace(y, op)
            #expect(same(inPlace.scalars, zip(xs, ys).map(f)), "\(op) in place")
        }
        let unary: [(UnaryOp<Float>, (Float) -> Float)] = [
            (.negate, { -$0 }), (.abs, { Swift.abs($0) }), (.square, { $0 * $0 }), (.sqrt, { $0.squareRoot() }),
            (.reciprocal, { 1 / $0 }), (.relu, { $0 > 0 ? $0 : 0 }), (.step, { $0 > 0 ? 1 : 0 }),
            (.affine(scale: 1.5, shift: -0.25), { $0 * 1.5 + -0.25 }),
            (.clamp(lower: -1, upper: 2), { Swift.min(Swift.max($0, -1), 2) }),
            (.leakyRelu(alpha: 0.3), { $0 > 0 ? $0 : 0.3 * $0 }), (.power(2), { $0 * $0 }),
            (.exp, { Foundation.exp($0) }), (.sign, { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }),
        ]
        for (op, f) in unary {
            #expect(same(x.map(op).scalars, xs.map(f)), "\(op)")
            var inPlace = x
            inPlace.apply(op)
            #expect(same(inPlace.scalars, xs.map(f)), "\(op) in place")
        }
    }

    /// A Float operand repeated along the leading axes (a bias) runs one C kernel over all rows
    /// (split across threads): both sides, rows of 19 and 64, against the scalar definitions.
    @Test(arguments: [[5, 41, 37, 19], [3, 31, 29, 64]])
    func floatRowBroadcastEqualsTheScalarDefinitions(shape: [Int]) {
        let x = Tensor<Float>.uniform(shape, lower: -2, upper: 2, seed: 53)
        let width = shape.last!
        let row = Tensor<Float>.uniform([width], lower: 0.5, upper: 2, seed: 54)
        let rows4 = row.reshaped(to: [1, 1, 1, width])
        let ops: [(BinaryOp, (Float, Float) -> Float)] = [
            (.add, { $0 + $1 }), (.subtract, { $0 - $1 }), (.divide, { $0 / $1 }),
            (.maximum, { $0 >= $1 || $0.isNaN ? $0 : $1 }),
        ]
        for (op, f) in ops {
            let right = x.scalars.enumerated().map { i, v in f(v, row.scalars[i % width]) }
            let left = x.scalars.enumerated().map { i, v in f(row.scalars[i % width], v) }
            #expect(x.zip(row, op).scalars == right, "\(op) row on the right")
            #expect(x.zip(rows4, op).scalars == right, "\(op) [1, 1, 1, C] row on the right")
            #expect(row.zip(x, op).scalars == left, "\(op) row on the left")
            var inPlace = x
            inPlace.zipInPlace(row, op)
            #expect(inPlace.scalars == right, "\(op) in place")
        }
        // A broadcast that is not a repeated row still takes the general path.
        let column = Tensor<Float>.uniform([shape[0], 1, 1, 1], lower: -1, upper: 1, seed: 55)
        let perImage = shape[1] * shape[2] * width
        #expect((x + column).scalars == x.scalars.enumerated().map { i, v in v + column.scalars[i / perImage] })
    }
}
