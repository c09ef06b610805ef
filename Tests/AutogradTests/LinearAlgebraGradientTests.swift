import Autograd
import Tensor
import TestSupport
import Testing

/// A well-conditioned random square matrix (or batch): uniform entries plus `n` on the diagonal.
private func wellConditioned(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
    let n = shape[shape.count - 1]
    return Tensor<Double>.uniform(shape, lower: -1, upper: 1, seed: seed) + Tensor<Double>.identity(n) * Double(n)
}

@Suite("Linear algebra gradients")
struct LinearAlgebraGradientTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulWithEveryTransposeFlag(transposeSelf: Bool, transposeOther: Bool) {
        let a = Tensor<Double>.uniform(transposeSelf ? [4, 3] : [3, 4], lower: -1, upper: 1, seed: 1)
        let b = Tensor<Double>.uniform(transposeOther ? [5, 4] : [4, 5], lower: -1, upper: 1, seed: 2)
        let result = checkGradients(at: [a, b]) { v in
            v[0].matmul(v[1], transposeSelf: transposeSelf, transposeOther: transposeOther)
        }
        #expect(result.passed, "\(result)")
    }

    @Test func matmulBatched() {
        let a = Tensor<Double>.uniform([2, 3, 4], lower: -1, upper: 1, seed: 3)
        let b = Tensor<Double>.uniform([2, 4, 2], lower: -1, upper: 1, seed: 4)
        let result = checkGradients(at: [a, b]) { v in v[0].matmul(v[1]) }
        #expect(result.passed, "\(result)")
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulWithBroadcastBatchDimensions(transposeSelf: Bool, transposeOther: Bool) {
        // [2, 1, 3, 4] x [3, 4, 2] -> [2, 3, 3, 2]: both operands are broadcast.
        let a = Tensor<Double>.uniform(transposeSelf ? [2, 1, 4, 3] : [2, 1, 3, 4], lower: -1, upper: 1, seed: 5)
        let b = Tensor<Double>.uniform(transposeOther ? [3, 2, 4] : [3, 4, 2], lower: -1, upper: 1, seed: 6)
        let result = checkGradients(at: [a, b]) { v in
            v[0].matmul(v[1], transposeSelf: transposeSelf, transposeOther: transposeOther)
        }
        #expect(result.passed, "\(result)")
    }

    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func matmulWithASharedRankTwoOperand(transposeSelf: Bool, transposeOther: Bool) {
        // A batch times a shared matrix (the folded-batch gradient path when not transposeSelf),
        // and a shared matrix times a batch.
        let batch = Tensor<Double>.uniform(transposeSelf ? [2, 3, 4, 3] : [2, 3, 3, 4], lower: -1, upper: 1, seed: 7)
        let weight = Tensor<Double>.uniform(transposeOther ? [5, 4] : [4, 5], lower: -1, upper: 1, seed: 8)
        let right = checkGradients(at: [batch, weight]) { v in
            v[0].matmul(v[1], transposeSelf: transposeSelf, transposeOther: transposeOther)
        }
        #expect(right.passed, "\(right)")

        let shared = Tensor<Double>.uniform(transposeSelf ? [4, 3] : [3, 4], lower: -1, upper: 1, seed: 9)
        let batchRight = Tensor<Double>.uniform(transposeOther ? [2, 5, 4] : [2, 4, 5], lower: -1, upper: 1, seed: 10)
        let left = checkGradients(at: [shared, batchRight]) { v in
            v[0].matmul(v[1], transposeSelf: transposeSelf, transposeOther: transposeOther)
        }
        #expect(left.passed, "\(left)")
    }

    @Test func matmulGradientOfOneOperandOnly() {
        // Only the left operand requires a gradient: the right one gets none.
        let a = Variable(Tensor<Double>.uniform([2, 3], lower: -1, upper: 1, seed: 11), requiresGradient: true)
        let b = Variable(Tensor<Double>.uniform([3, 2], lower: -1, upper: 1, seed: 12))
        a.matmul(b).backward(seed: Tensor<Double>.ones([2, 2]))
        #expect(b.gradient == nil)
        // d sum(A B) / dA = 1 Bᵀ: every row is the row sums of B.
        let rowSums = b.value.sum(alongAxes: [1])
        #expect(maxRelativeDifference(a.gradient!, Tensor<Double>.stack([rowSums, rowSums])) < 1e-15)
    }

    @Test func solve() throws {
        let a = wellConditioned([4, 4], seed: 13)
        let b = Tensor<Double>.uniform([4, 2], lower: -1, upper: 1, seed: 14)
        _ = try a.solve(b)
        let result = checkGradients(at: [a, b]) { v in try! v[0].solve(v[1]) }
        #expect(result.passed, "\(result)")
    }

    @Test func solveBatchedAndBroadcast() throws {
        // Equal batches; one matrix against a batch of right-hand sides; a batch of matrices against
        // one shared right-hand side.
        let pairs: [(Tensor<Double>, Tensor<Double>)] = [
            (wellConditioned([2, 3, 3], seed: 15), Tensor<Double>.uniform([2, 3, 2], lower: -1, upper: 1, seed: 16)),
            (wellConditioned([3, 3], seed: 17), Tensor<Double>.uniform([2, 3, 2], lower: -1, upper: 1, seed: 18)),
            (wellConditioned([2, 3, 3], seed: 19), Tensor<Double>.uniform([3, 1], lower: -1, upper: 1, seed: 20)),
        ]
        for (a, b) in pairs {
            _ = try a.solve(b)
            let result = checkGradients(at: [a, b]) { v in try! v[0].solve(v[1]) }
            #expect(result.passed, "\(a.shape) \(b.shape): \(result)")
        }
    }

    @Test func inverse() throws {
        for shape in [[4, 4], [2, 3, 3]] {
            let a = wellConditioned(shape, seed: 21)
            _ = try a.inverse()
            let result = checkGradients(at: [a]) { v in try! v[0].inverse() }
            #expect(result.passed, "\(shape): \(result)")
        }
    }

    @Test func determinant() throws {
        for shape in [[4, 4], [3, 3, 3], [1, 1]] {
            let a = Tensor<Double>.uniform(shape, lower: -2, upper: 2, seed: 22)
            let result = checkGradients(at: [a]) { v in try! v[0].determinant() }
            #expect(result.passed, "\(shape): \(result)")
        }
    }

    @Test func determinantOfASingularMatrixHasTheCofactorGradient() throws {
        // det is a polynomial, so its gradient at a singular matrix is the cofactor matrix:
        // for [[1, 2], [2, 4]] that is [[4, -2], [-2, 1]].
        let a = Variable(Tensor<Double>([[1, 2], [2, 4]]), requiresGradient: true)
        let det = try a.determinant()
        #expect(det.value.scalar == 0)
        det.backward()
        #expect(maxRelativeDifference(a.gradient!, Tensor<Double>([[4, -2], [-2, 1]])) < 1e-14)

        // A batch mixing regular and exactly singular (in floating point LU too) matrices: rank 2
        // and rank 1 (whose cofactors are all zero).
        let rankOne = Tensor<Double>([1, 2, 4]).expandingShape(at: 1) * Tensor<Double>([1, -1, 2])
        let rankTwo = Tensor<Double>([[2, 1, 0], [4, 2, 0], [1, 1, 1]])
        #expect(try rankOne.determinant().scalar == 0 && rankTwo.determinant().scalar == 0)
        let mixed = Tensor<Double>.stack([rankTwo, wellConditioned([3, 3], seed: 23), rankOne])
        let result = checkGradients(at: [mixed]) { v in try! v[0].determinant() }
        #expect(result.passed, "\(result)")
    }

    @Test func composedOperations() throws {
        // det(A⁻¹ · solve(A, B)): gradients flow through inverse, solve, matmul and determinant
        // together, with A reaching the result along two paths.
        let a = wellConditioned([3, 3], seed: 24)
        let b = wellConditioned([3, 3], seed: 25)
        let result = checkGradients(at: [a, b]) { v in
            let inverse = try! v[0].inverse()
            let x = try! v[0].solve(v[1])
            return try! inverse.matmul(x).determinant()
        }
        #expect(result.passed, "\(result)")
    }

    @Test func variableOperationsThrowWhereTensorOperationsThrow() {
        let singular = Variable(Tensor<Double>([[1, 2], [2, 4]]), requiresGradient: true)
        let rhs = Variable(Tensor<Double>([[1], [1]]), requiresGradient: true)
        let solveError = #expect(throws: TensorError.self) { try singular.solve(rhs) }
        #expect(solveError?.description.contains("singular") == true)
        let inverseError = #expect(throws: TensorError.self) { try singular.inverse() }
        #expect(inverseError?.description.contains("singular") == true)
        let wide = Variable(Tensor<Double>.zeros([2, 3]), requiresGradient: true)
        #expect(throws: TensorError.invalidArgument(operation: "determinant", message: "needs square matrices, got shape [2, 3]")) {
            try wide.determinant()
        }
        #expect(throws: TensorError.shapeMismatch(operation: "solve", lhs: [2, 2], rhs: [3, 1])) {
            try Variable(Tensor<Double>.identity(2)).solve(Variable(Tensor<Double>.zeros([3, 1])))
        }
    }
}
