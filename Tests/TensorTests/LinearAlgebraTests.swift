import Foundation
import Tensor
import TestSupport
import Testing

/// The largest absolute element of a tensor.
private func maxAbs<S: TensorScalar>(_ t: Tensor<S>) -> Double {
    t.scalars.reduce(0) { Swift.max($0, Swift.abs(Double($1))) }
}

/// A well-conditioned random square matrix (or batch): uniform entries plus `n` on the diagonal.
private func wellConditioned<S: TensorScalar>(_ shape: [Int], seed: UInt64) -> Tensor<S> {
    let n = shape[shape.count - 1]
    return Tensor<S>.uniform(shape, lower: -1, upper: 1, seed: seed) + Tensor<S>.identity(n) * S(n)
}

/// A random symmetric positive-definite matrix (or batch) `M Mᵀ + n I`.
private func positiveDefinite<S: TensorScalar>(_ shape: [Int], seed: UInt64) -> Tensor<S> {
    let n = shape[shape.count - 1]
    let m = Tensor<S>.uniform(shape, lower: -1, upper: 1, seed: seed)
    return m.matmul(m, transposeOther: true) + Tensor<S>.identity(n) * S(n)
}

@Suite("Linear algebra: known results")
struct LinearAlgebraKnownResultTests {
    @Test func solveLeavesASmallResidual() throws {
        let a: Tensor<Double> = wellConditioned([6, 6], seed: 1)
        let b = Tensor<Double>.uniform([6, 3], lower: -1, upper: 1, seed: 2)
        let x = try a.solve(b)
        #expect(x.shape == [6, 3])
        #expect(maxAbs(a.matmul(x) - b) < 1e-13)

        let af = Tensor<Float>(a), bf = Tensor<Float>(b)
        #expect(maxAbs(af.matmul(try af.solve(bf)) - bf) < 1e-5)

        // Batched, and broadcast: one matrix against a batch of right-hand sides.
        let batchA: Tensor<Double> = wellConditioned([3, 4, 4], seed: 3)
        let batchB = Tensor<Double>.uniform([3, 4, 2], lower: -1, upper: 1, seed: 4)
        #expect(maxAbs(batchA.matmul(try batchA.solve(batchB)) - batchB) < 1e-13)
        let shared: Tensor<Double> = wellConditioned([4, 4], seed: 5)
        let xs = try shared.solve(batchB)
        #expect(xs.shape == [3, 4, 2])
        #expect(maxAbs(shared.matmul(xs) - batchB) < 1e-13)
    }

    @Test func luFactorizationSolvesTransposedSystemsAndReproducesDeterminant() throws {
        let a: Tensor<Double> = wellConditioned([5, 5], seed: 6)
        let b = Tensor<Double>.uniform([5, 2], lower: -1, upper: 1, seed: 7)
        let lu = try a.luFactorization()
        #expect(lu.order == 5 && lu.batchShape == [])
        let x = try lu.solve(b, transposed: true)
        #expect(maxAbs(a.matmul(x, transposeSelf: true) - b) < 1e-13)
        #expect(Swift.abs(lu.determinant().scalar - (try a.determinant().scalar)) < 1e-12)
        #expect(maxAbs(a.matmul(try lu.inverse()) - Tensor<Double>.identity(5)) < 1e-13)
    }

    @Test func inverseTimesMatrixIsIdentity() throws {
        let a: Tensor<Double> = wellConditioned([5, 5], seed: 8)
        let inv = try a.inverse()
        #expect(maxAbs(a.matmul(inv) - Tensor<Double>.identity(5)) < 1e-13)
        #expect(maxAbs(inv.matmul(a) - Tensor<Double>.identity(5)) < 1e-13)
        let batch: Tensor<Float> = wellConditioned([2, 3, 3], seed: 9)
        #expect(maxAbs(batch.matmul(try batch.inverse()) - Tensor<Float>.identity(3)) < 1e-5)
        // Closed form: the inverse of [[a, b], [c, d]] is [[d, -b], [-c, a]] / (ad - bc).
        let m = Tensor<Double>([[4, 7], [2, 6]])
        let expected = Tensor<Double>([[6, -7], [-2, 4]]) / 10
        #expect(maxAbs(try m.inverse() - expected) < 1e-15)
    }

    @Test func determinantMatchesClosedForms() throws {
        // Triangular: the product of the diagonal.
        let upper = Tensor<Double>([[2, 5, -1], [0, -3, 4], [0, 0, 0.5]])
        #expect(Swift.abs(try upper.determinant().scalar - (-3)) < 1e-15)
        #expect(try upper.determinant().shape == [])
        let lower = Tensor<Float>([[1.5, 0, 0, 0], [2, 2, 0, 0], [3, -1, -2, 0], [7, 8, 9, 4]])
        #expect(Swift.abs(try lower.determinant().scalar - (-24)) < 1e-5)
        // Permutations: a transposition is -1, a 3-cycle is +1.
        let swap = Tensor<Double>([[0, 1], [1, 0]])
        let cycle = Tensor<Double>([[0, 1, 0], [0, 0, 1], [1, 0, 0]])
        #expect(try swap.determinant().scalar == -1)
        #expect(try cycle.determinant().scalar == 1)
        // A singular matrix has determinant exactly 0, not an error.
        #expect(try Tensor<Double>([[1, 2], [2, 4]]).determinant().scalar == 0)
        // Batched: one determinant per matrix.
        let batch = Tensor<Double>.stack([upper, cycle, Tensor<Double>.identity(3) * 2])
        #expect(try batch.determinant() == Tensor<Double>(shape: [3], scalars: [-3, 1, 8]))
        // log|det| and sign.
        let (sign, logAbs) = try Tensor<Double>([[2, 0], [0, -3]]).logAbsDeterminant()
        #expect(sign.scalar == -1)
        #expect(Swift.abs(logAbs.scalar - Foundation.log(6.0)) < 1e-15)
        let (singularSign, singularLog) = try Tensor<Double>([[1, 2], [2, 4]]).logAbsDeterminant()
        #expect(singularSign.scalar == 0 && singularLog.scalar == -.infinity)
    }

    @Test(arguments: [[5, 3], [3, 5], [4, 4], [2, 4, 3]])
    func qrReconstructsWithOrthonormalQAndTriangularR(shape: [Int]) throws {
        let a = Tensor<Double>.uniform(shape, lower: -2, upper: 2, seed: 10)
        let (q, r) = try a.qr()
        let m = shape[shape.count - 2], n = shape[shape.count - 1], k = Swift.min(m, n)
        let batch = Array(shape.dropLast(2))
        #expect(q.shape == batch + [m, k] && r.shape == batch + [k, n])
        #expect(maxAbs(q.matmul(r) - a) < 1e-13)
        #expect(maxAbs(q.matmul(q, transposeSelf: true) - Tensor<Double>.identity(k)) < 1e-13)
        let rows = r.reshaped(to: [r.count / (k * n), k, n])
        for b in 0..<rows.shape[0] {
            for i in 0..<k { for j in 0..<Swift.min(i, n) { #expect(rows[b, i, j] == 0) } }
        }
    }

    @Test(arguments: [[5, 3], [3, 5], [4, 4], [2, 4, 3]])
    func svdReconstructsWithDescendingNonNegativeValues(shape: [Int]) throws {
        let a = Tensor<Double>.uniform(shape, lower: -2, upper: 2, seed: 11)
        let (u, s, vt) = try a.svd()
        let m = shape[shape.count - 2], n = shape[shape.count - 1], k = Swift.min(m, n)
        let batch = Array(shape.dropLast(2))
        #expect(u.shape == batch + [m, k] && s.shape == batch + [k] && vt.shape == batch + [k, n])
        let reconstructed = (u * s.expandingShape(at: s.rank - 1)).matmul(vt)
        #expect(maxAbs(reconstructed - a) < 1e-13)
        #expect(maxAbs(u.matmul(u, transposeSelf: true) - Tensor<Double>.identity(k)) < 1e-13)
        #expect(maxAbs(vt.matmul(vt, transposeOther: true) - Tensor<Double>.identity(k)) < 1e-13)
        let values = s.reshaped(to: [s.count / k, k])
        for b in 0..<values.shape[0] {
            for i in 0..<k {
                #expect(values[b, i] >= 0)
                if i > 0 { #expect(values[b, i - 1] >= values[b, i]) }
            }
        }
        // Float: the same singular values to single precision.
        let sf = try Tensor<Float>(a).svd().s
        #expect(maxRelativeDifference(Tensor<Double>(sf), s) < 1e-5)
    }

    @Test func svdOfAKnownMatrix() throws {
        // diag(3, -5) padded to 3 x 2: singular values 5 and 3.
        let a = Tensor<Double>([[3, 0], [0, -5], [0, 0]])
        #expect(maxAbs(try a.svd().s - Tensor<Double>([5, 3])) < 1e-14)
    }

    @Test func choleskyFactorReconstructsTheMatrix() throws {
        for shape in [[5, 5], [3, 4, 4]] {
            let a: Tensor<Double> = positiveDefinite(shape, seed: 12)
            let l = try a.cholesky()
            #expect(maxAbs(l.matmul(l, transposeOther: true) - a) < 1e-13)
            let n = shape[shape.count - 1]
            let matrices = l.reshaped(to: [l.count / (n * n), n, n])
            for b in 0..<matrices.shape[0] {
                for i in 0..<n {
                    #expect(matrices[b, i, i] > 0)
                    for j in (i + 1)..<n { #expect(matrices[b, i, j] == 0) }
                }
            }
        }
        // Closed form: [[4, 2], [2, 5]] = L Lᵀ with L = [[2, 0], [1, 2]].
        #expect(try Tensor<Float>([[4, 2], [2, 5]]).cholesky() == Tensor<Float>([[2, 0], [1, 2]]))
    }
}

@Suite("Linear algebra: thrown errors")
struct LinearAlgebraErrorTests {
    @Test func singularSolveThrowsNamingTheZeroPivot() throws {
        let singular = Tensor<Double>([[1, 2], [2, 4]])
        let error = #expect(throws: TensorError.self) {
            try singular.solve(Tensor<Double>([[1], [1]]))
        }
        guard case let .lapackFailure(routine, info, message)? = error else {
            Issue.record("expected lapackFailure, got \(String(describing: error))")
            return
        }
        #expect(routine == "dgesv" && info == 2)
        #expect(message == "matrix is singular: U[1,1] is exactly zero")
        #expect(error!.description.contains("dgesv"))

        let floatError = #expect(throws: TensorError.self) {
            try Tensor<Float>(singular).solve(Tensor<Float>([[1], [1]]))
        }
        #expect(floatError?.description.contains("sgesv") == true)
        #expect(floatError?.description.contains("singular") == true)
    }

    @Test func singularInverseAndFactorizationThrow() throws {
        let singular = Tensor<Double>([[1, 1, 0], [1, 1, 0], [0, 0, 1]])
        let error = #expect(throws: TensorError.self) { try singular.inverse() }
        #expect(error?.description.contains("singular") == true)
        #expect(error?.description.contains("dgetrf") == true)
        #expect(throws: TensorError.self) { try singular.luFactorization() }
        // In a batch, the message names the singular matrix.
        let batch = Tensor<Double>.stack([Tensor<Double>.identity(3), singular])
        let batchError = #expect(throws: TensorError.self) { try batch.inverse() }
        #expect(batchError?.description.contains("matrix 1 of the batch [2]") == true)
    }

    @Test func notPositiveDefiniteThrowsNamingTheLeadingMinor() throws {
        let indefinite = Tensor<Double>([[4, 0, 0], [0, -1, 0], [0, 0, 1]])
        let error = #expect(throws: TensorError.self) { try indefinite.cholesky() }
        guard case let .lapackFailure(routine, info, message)? = error else {
            Issue.record("expected lapackFailure, got \(String(describing: error))")
            return
        }
        #expect(routine == "dpotrf" && info == 2)
        #expect(message == "matrix is not positive definite: leading minor of order 2 is not positive")
        let floatError = #expect(throws: TensorError.self) {
            try Tensor<Float>([[1, 2], [2, 1]]).cholesky()
        }
        #expect(floatError?.description.contains("spotrf") == true)
        #expect(floatError?.description.contains("leading minor of order 2") == true)
    }

    @Test func nonSquareAndMismatchedShapesThrow() throws {
        let wide = Tensor<Double>.zeros([2, 3])
        for operation in ["solve", "inverse", "determinant", "cholesky"] {
            let error = #expect(throws: TensorError.self) {
                switch operation {
                case "solve": _ = try wide.solve(Tensor<Double>.zeros([2, 1]))
                case "inverse": _ = try wide.inverse()
                case "determinant": _ = try wide.determinant()
                default: _ = try wide.cholesky()
                }
            }
            #expect(error == .invalidArgument(operation: operation, message: "needs square matrices, got shape [2, 3]"))
        }
        let a = Tensor<Double>.identity(3)
        #expect(throws: TensorError.shapeMismatch(operation: "solve", lhs: [3, 3], rhs: [4, 1])) {
            try a.solve(Tensor<Double>.zeros([4, 1]))
        }
        #expect(throws: TensorError.shapeMismatch(operation: "solve", lhs: [2, 3, 3], rhs: [4, 3, 1])) {
            try Tensor<Double>.zeros([2, 3, 3]).solve(Tensor<Double>.zeros([4, 3, 1]))
        }
        #expect(throws: TensorError.self) { try Tensor<Double>([1, 2]).svd() }
    }

    @Test func nanInputIsReportedAsAnIllegalArgument() throws {
        let bad = Tensor<Double>([[1, .nan], [.nan, 1]])
        let error = #expect(throws: TensorError.self) { try bad.cholesky() }
        guard case let .lapackFailure(routine, info, message)? = error else {
            Issue.record("expected lapackFailure, got \(String(describing: error))")
            return
        }
        #expect(routine == "dpotrf" && info < 0)
        #expect(message.contains("NaN"))
    }
}

@Suite("Linear algebra: numpy.linalg reference fixtures")
struct LinearAlgebraFixtureTests {
    // Fixtures: Tests/ReferenceScripts/linalg_fixtures.py -> Fixtures/linalg.json (numpy.linalg).
    let fixture: ReferenceFixture

    init() throws {
        fixture = try ReferenceFixture.load("linalg.json", from: Bundle.module)
    }

    func checkMatmul<S: TensorScalar>(_: S.Type, tolerance: Double) throws {
        let cases: [(String, Bool, Bool)] = [
            ("matmul_plain", false, false), ("matmul_transpose_self", true, false),
            ("matmul_transpose_other", false, true), ("matmul_transpose_both", true, true),
            ("matmul_batched", false, false), ("matmul_broadcast", false, false),
            ("matmul_shared_rhs", false, false), ("matmul_shared_lhs", false, false),
        ]
        for (name, transposeSelf, transposeOther) in cases {
            let c = try fixture.case(name)
            let a: Tensor<S> = try c.tensor("a"), b: Tensor<S> = try c.tensor("b")
            let product = a.matmul(b, transposeSelf: transposeSelf, transposeOther: transposeOther)
            let expected: Tensor<S> = try c.tensor("c")
            #expect(product.shape == expected.shape, "\(name)")
            #expect(maxRelativeDifference(product, expected) < tolerance, "\(name) \(S.self)")
        }
    }

    func checkDecompositions<S: TensorScalar>(_: S.Type, tolerance: Double) throws {
        for name in ["solve", "solve_batched", "solve_broadcast"] {
            let c = try fixture.case(name)
            let x = try (c.tensor("a", as: S.self)).solve(c.tensor("b"))
            #expect(maxRelativeDifference(x, try c.tensor("x")) < tolerance, "\(name) \(S.self)")
        }
        for name in ["inverse", "inverse_batched"] {
            let c = try fixture.case(name)
            let inverse = try c.tensor("a", as: S.self).inverse()
            #expect(maxRelativeDifference(inverse, try c.tensor("inverse")) < tolerance, "\(name) \(S.self)")
        }
        for name in ["det", "det_batched"] {
            let c = try fixture.case(name)
            let a = try c.tensor("a", as: S.self)
            #expect(maxRelativeDifference(try a.determinant(), try c.tensor("det")) < tolerance, "\(name) \(S.self)")
            let (sign, logAbs) = try a.logAbsDeterminant()
            #expect(sign == (try c.tensor("sign")), "\(name) \(S.self)")
            #expect(maxRelativeDifference(logAbs, try c.tensor("logabs")) < tolerance, "\(name) \(S.self)")
        }
        for name in ["svd_tall", "svd_wide", "svd_batched"] {
            let c = try fixture.case(name)
            let s = try c.tensor("a", as: S.self).svd().s
            #expect(maxRelativeDifference(s, try c.tensor("s")) < tolerance, "\(name) \(S.self)")
        }
        for name in ["qr_tall", "qr_wide"] {
            let c = try fixture.case(name)
            let r = try c.tensor("a", as: S.self).qr().r
            #expect(maxRelativeDifference(r.abs(), try c.tensor("abs_r")) < tolerance, "\(name) \(S.self)")
        }
        for name in ["cholesky", "cholesky_batched"] {
            let c = try fixture.case(name)
            let l = try c.tensor("a", as: S.self).cholesky()
            #expect(maxRelativeDifference(l, try c.tensor("l")) < tolerance, "\(name) \(S.self)")
        }
    }

    @Test func matmulMatchesNumPyInDouble() throws { try checkMatmul(Double.self, tolerance: 1e-14) }
    @Test func matmulMatchesNumPyInFloat() throws { try checkMatmul(Float.self, tolerance: 1e-5) }
    @Test func decompositionsMatchNumPyInDouble() throws { try checkDecompositions(Double.self, tolerance: 1e-12) }
    @Test func decompositionsMatchNumPyInFloat() throws { try checkDecompositions(Float.self, tolerance: 2e-5) }
}
