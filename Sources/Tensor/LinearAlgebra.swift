import CLAPACKE

// Linear systems, inverse and determinant through LAPACKE's row-major entry points.
// Every routine works on a rank-2 matrix or a batch `[..., n, n]`: the batch is a loop of LAPACK
// calls on contiguous matrices, with no copies beyond the one LAPACK overwrites.
// Decompositions (QR, SVD, Cholesky) are in Decompositions.swift; the LAPACK dispatch is at the end
// of this file.

// MARK: - LU factorization

/// The LU factorization with partial pivoting `P A = L U` of a square matrix or of each matrix in
/// a batch `[..., n, n]` (LAPACK `?getrf`), kept so that several right-hand sides, the inverse or
/// the determinant can be computed without factoring again.
///
/// Created by ``Tensor/luFactorization()``, which throws if a matrix is singular, so every
/// factorization held by a value of this type is invertible.
public struct LUFactorization<Scalar: TensorScalar>: Sendable {
    /// The packed factors, shape `[..., n, n]`: `L` strictly below the diagonal (its unit diagonal
    /// is implied) and `U` on and above it.
    public let factors: Tensor<Scalar>
    /// LAPACK's 1-based pivot indices, `n` per matrix in batch order: row `i` was interchanged
    /// with row `pivots[i] - 1`.
    public let pivots: [Int32]

    /// The matrix order `n`.
    public var order: Int { factors.shape[factors.rank - 1] }
    /// The batch dimensions (`[]` for a single matrix).
    public var batchShape: [Int] { Array(factors.shape.dropLast(2)) }

    /// The determinants, shape ``batchShape`` (rank 0 for a single matrix): the product of `U`'s
    /// diagonal times the sign of the row permutation.
    public func determinant() -> Tensor<Scalar> {
        LUFactorization.determinants(factors: factors, pivots: pivots)
    }

    /// The solution `X` of `A X = B` (or `Aᵀ X = B` when `transposed`) through LAPACK `?getrs`.
    ///
    /// `b` has shape `[..., n, k]`; its batch dimensions broadcast with ``batchShape`` (a single
    /// factorization is reused for every right-hand side that shares it). Throws
    /// ``TensorError/shapeMismatch(operation:lhs:rhs:)`` naming both shapes if they disagree.
    public func solve(_ b: Tensor<Scalar>, transposed: Bool = false) throws -> Tensor<Scalar> {
        let n = order
        let batchA = batchShape
        guard b.rank >= 2, b.shape[b.rank - 2] == n,
              let batch = Broadcasting.shape(batchA, Array(b.shape.dropLast(2)))
        else {
            throw TensorError.shapeMismatch(operation: "solve", lhs: factors.shape, rhs: b.shape)
        }
        let k = b.shape[b.rank - 1]
        let resultShape = batch + [n, k]
        var x = b.shape == resultShape ? b : b.broadcast(to: resultShape)
        let count = batch.reduce(1, *)
        guard n > 0, k > 0, count > 0 else { return x }
        let aStrides = Broadcasting.strides(of: batchA, broadcastTo: batch)
        let indexStrides = Tensor<Scalar>.contiguousStrides(for: batch)
        try factors.withUnsafeBufferPointer { aBuffer in
            try pivots.withUnsafeBufferPointer { ipiv in
                try x.withUnsafeMutableBufferPointer { xBuffer in
                    let a = aBuffer.baseAddress!, p = ipiv.baseAddress!, out = xBuffer.baseAddress!
                    for index in 0..<count {
                        var aOffset = 0, rest = index
                        for axis in 0..<batch.count {
                            aOffset += rest / indexStrides[axis] * aStrides[axis]
                            rest %= indexStrides[axis]
                        }
                        let info = LAPACK.getrs(
                            transposed: transposed, n: n, nrhs: k, a: a + aOffset * n * n,
                            ipiv: p + aOffset * n, b: out + index * n * k)
                        if info != 0 {
                            throw LAPACK.failure(LAPACK.name("getrs", Scalar.self), info: info)
                        }
                    }
                }
            }
        }
        return x
    }

    /// The inverse of each matrix through LAPACK `?getri`, shape `[..., n, n]`. The factors are
    /// nonsingular, so this throws only if LAPACK rejects its arguments.
    public func inverse() throws -> Tensor<Scalar> {
        var result = factors
        let n = order
        let count = batchShape.reduce(1, *)
        guard n > 0, count > 0 else { return result }
        try pivots.withUnsafeBufferPointer { ipiv in
            try result.withUnsafeMutableBufferPointer { buffer in
                let a = buffer.baseAddress!, p = ipiv.baseAddress!
                for index in 0..<count {
                    let info = LAPACK.getri(n: n, a: a + index * n * n, ipiv: p + index * n)
                    if info != 0 {
                        throw LAPACK.singularOrIllegal(
                            LAPACK.name("getri", Scalar.self), info: info, index: index, batch: batchShape)
                    }
                }
            }
        }
        return result
    }

    /// Determinants from packed factors, without requiring them to be nonsingular.
    static func determinants(factors: Tensor<Scalar>, pivots: [Int32]) -> Tensor<Scalar> {
        let n = factors.shape[factors.rank - 1]
        let batch = Array(factors.shape.dropLast(2))
        return Tensor<Scalar>.build(shape: batch) { out in
            let count = batch.reduce(1, *)
            factors.withUnsafeBufferPointer { buffer in
                for index in 0..<count {
                    var det: Scalar = 1
                    for i in 0..<n {
                        det *= buffer[index * n * n + i * n + i]
                        if Int(pivots[index * n + i]) != i + 1 { det = -det }
                    }
                    out[index] = det
                }
            }
        }
    }
}

// MARK: - Tensor API

extension Tensor {
    /// The LU factorization with partial pivoting of this square matrix or batch `[..., n, n]`
    /// (LAPACK `?getrf`).
    ///
    /// Throws ``TensorError/invalidArgument(operation:message:)`` for a non-square input and
    /// ``TensorError/lapackFailure(routine:info:message:)`` if a matrix is exactly singular (the
    /// message names the zero pivot `U[i,i]`, 0-based, and the batch element).
    public func luFactorization() throws -> LUFactorization<Scalar> {
        let (factors, pivots, singular) = try factorLU(operation: "luFactorization")
        if let (index, info) = singular.first {
            throw LAPACK.singularOrIllegal(
                LAPACK.name("getrf", Scalar.self), info: info, index: index, batch: Array(shape.dropLast(2)))
        }
        return LUFactorization(factors: factors, pivots: pivots)
    }

    /// The solution `X` of `A X = B`, where `A` is this square matrix `[n, n]` (or batch
    /// `[..., n, n]`) and `b` is `[n, k]` (or `[..., n, k]`; a vector is a `[n, 1]` column).
    ///
    /// Equal batch dimensions are solved in place by LAPACK `?gesv`; batch dimensions that
    /// broadcast (one matrix, many right-hand sides) factor each matrix once and reuse it.
    /// Throws ``TensorError/invalidArgument(operation:message:)`` for non-square `A`,
    /// ``TensorError/shapeMismatch(operation:lhs:rhs:)`` naming both shapes if `b` does not fit,
    /// and ``TensorError/lapackFailure(routine:info:message:)`` if `A` is exactly singular.
    public func solve(_ b: Tensor) throws -> Tensor {
        let (batchA, n) = try squareMatrixDimensions(operation: "solve")
        let batchB = Array(b.shape.dropLast(2))
        guard b.rank >= 2, b.shape[b.rank - 2] == n, Broadcasting.shape(batchA, batchB) != nil else {
            throw TensorError.shapeMismatch(operation: "solve", lhs: shape, rhs: b.shape)
        }
        if batchA != batchB {
            return try luFactorization().solve(b)
        }
        let k = b.shape[b.rank - 1]
        var a = scalars
        var x = b
        guard n > 0, k > 0 else { return x }
        let count = batchA.reduce(1, *)
        var ipiv = [Int32](repeating: 0, count: n)
        try a.withUnsafeMutableBufferPointer { aBuffer in
            try ipiv.withUnsafeMutableBufferPointer { pivots in
                try x.withUnsafeMutableBufferPointer { xBuffer in
                    for index in 0..<count {
                        let info = LAPACK.gesv(
                            n: n, nrhs: k, a: aBuffer.baseAddress! + index * n * n,
                            ipiv: pivots.baseAddress!, b: xBuffer.baseAddress! + index * n * k)
                        if info != 0 {
                            throw LAPACK.singularOrIllegal(
                                LAPACK.name("gesv", Scalar.self), info: info, index: index, batch: batchA)
                        }
                    }
                }
            }
        }
        return x
    }

    /// The inverse of this square matrix, or of each matrix in a batch `[..., n, n]`, through
    /// LAPACK `?getrf` and `?getri`.
    ///
    /// Throws ``TensorError/invalidArgument(operation:message:)`` for a non-square input and
    /// ``TensorError/lapackFailure(routine:info:message:)`` if a matrix is exactly singular.
    public func inverse() throws -> Tensor {
        _ = try squareMatrixDimensions(operation: "inverse")
        return try luFactorization().inverse()
    }

    /// The determinant of this square matrix, or of each matrix in a batch `[..., n, n]`, from its
    /// LU factorization (LAPACK `?getrf`): the product of `U`'s diagonal times the pivot sign.
    ///
    /// Returns a tensor of the batch shape: rank 0 for a single matrix (read it with
    /// ``scalar``). A singular matrix has determinant 0 (not an error). Throws
    /// ``TensorError/invalidArgument(operation:message:)`` for a non-square input.
    public func determinant() throws -> Tensor {
        let (factors, pivots, _) = try factorLU(operation: "determinant")
        return LUFactorization.determinants(factors: factors, pivots: pivots)
    }

    /// The sign and the natural logarithm of the absolute value of the determinant (NumPy
    /// `slogdet`), which do not overflow or underflow for large matrices.
    ///
    /// Both tensors have the batch shape (rank 0 for a single matrix). A singular matrix gives sign
    /// 0 and `logAbs` minus infinity. Throws ``TensorError/invalidArgument(operation:message:)``
    /// for a non-square input.
    public func logAbsDeterminant() throws -> (sign: Tensor, logAbs: Tensor) {
        let (factors, pivots, _) = try factorLU(operation: "logAbsDeterminant")
        let n = shape[rank - 1]
        let batch = Array(shape.dropLast(2))
        let count = batch.reduce(1, *)
        var signs = [Scalar](repeating: 1, count: count)
        var logs = [Scalar](repeating: 0, count: count)
        factors.withUnsafeBufferPointer { u in
            for index in 0..<count {
                var sign: Scalar = 1, logAbs: Scalar = 0
                for i in 0..<n {
                    let d = u[index * n * n + i * n + i]
                    if d < 0 { sign = -sign }
                    if Int(pivots[index * n + i]) != i + 1 { sign = -sign }
                    logAbs += Scalar.log(Swift.abs(d))
                }
                if logAbs == -.infinity { sign = 0 }
                signs[index] = sign
                logs[index] = logAbs
            }
        }
        return (Tensor(shape: batch, scalars: signs), Tensor(shape: batch, scalars: logs))
    }

    /// The batch shape and order of a square matrix or batch `[..., n, n]`, or a thrown
    /// ``TensorError/invalidArgument(operation:message:)`` naming the shape.
    func squareMatrixDimensions(operation: String) throws -> (batch: [Int], n: Int) {
        guard rank >= 2 else {
            throw TensorError.invalidArgument(
                operation: operation, message: "needs a matrix or a batch of matrices (rank >= 2), got shape \(shape)")
        }
        guard shape[rank - 1] == shape[rank - 2] else {
            throw TensorError.invalidArgument(
                operation: operation, message: "needs square matrices, got shape \(shape)")
        }
        return (Array(shape.dropLast(2)), shape[rank - 1])
    }

    /// Runs `?getrf` on a copy of every matrix. Returns the factors, the pivots and, for each
    /// exactly singular matrix, its batch index and LAPACK's `info` (the 1-based zero pivot).
    func factorLU(operation: String) throws -> (factors: Tensor, pivots: [Int32], singular: [(Int, Int)]) {
        let (batch, n) = try squareMatrixDimensions(operation: operation)
        var factors = self
        let count = batch.reduce(1, *)
        var pivots = [Int32](repeating: 0, count: count * n)
        var singular: [(Int, Int)] = []
        guard n > 0 else { return (factors, pivots, singular) }
        try factors.withUnsafeMutableBufferPointer { aBuffer in
            try pivots.withUnsafeMutableBufferPointer { ipiv in
                for index in 0..<count {
                    let info = LAPACK.getrf(
                        n: n, a: aBuffer.baseAddress! + index * n * n, ipiv: ipiv.baseAddress! + index * n)
                    if info < 0 { throw LAPACK.failure(LAPACK.name("getrf", Scalar.self), info: info) }
                    if info > 0 { singular.append((index, info)) }
                }
            }
        }
        return (factors, pivots, singular)
    }
}

// MARK: - LAPACK dispatch

/// Float/Double dispatch to LAPACKE's row-major routines, and the errors they report.
///
/// Each function checks `Scalar.self` once per call and reinterprets the buffer (whose memory is
/// bound to `Float` or `Double` already, since `Scalar` is one of them).
enum LAPACK {
    /// `s` or `d` followed by `routine`: the LAPACK name for `Scalar`.
    static func name<S: TensorScalar>(_ routine: String, _: S.Type) -> String {
        (S.self == Float.self ? "s" : "d") + routine
    }

    /// The error for a negative `info`: an illegal argument, which from this library means NaN or
    /// infinity in the input (LAPACKE checks for them) or an internal bug.
    static func failure(_ routine: String, info: Int) -> TensorError {
        if info < 0 {
            return .lapackFailure(
                routine: routine, info: info,
                message: "argument \(-info) had an illegal value (does the input contain NaN or infinity?)")
        }
        return .lapackFailure(routine: routine, info: info, message: "failed")
    }

    /// The error for an LU-based routine: singular (naming the zero pivot) or illegal argument.
    static func singularOrIllegal(_ routine: String, info: Int, index: Int, batch: [Int]) -> TensorError {
        guard info > 0 else { return failure(routine, info: info) }
        let which = batch.isEmpty ? "matrix" : "matrix \(index) of the batch \(batch)"
        return .lapackFailure(
            routine: routine, info: info,
            message: "\(which) is singular: U[\(info - 1),\(info - 1)] is exactly zero")
    }

    @inline(__always)
    static func f<S>(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    @inline(__always)
    static func d<S>(_ p: UnsafeMutablePointer<S>) -> UnsafeMutablePointer<Double> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Double.self)
    }

    @inline(__always)
    static func f<S>(_ p: UnsafePointer<S>) -> UnsafePointer<Float> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    @inline(__always)
    static func d<S>(_ p: UnsafePointer<S>) -> UnsafePointer<Double> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Double.self)
    }

    static func unsupported<S>(_: S.Type) -> Never {
        fatalError("LAPACK: element type \(S.self) is not supported (Float or Double only)")
    }

    static let rowMajor = Int32(LAPACK_ROW_MAJOR)

    static func char(_ c: Unicode.Scalar) -> CChar { CChar(UInt8(ascii: c)) }

    static func i(_ x: Int) -> Int32 { Int32(x) }

    /// `?getrf` on a row-major `n x n` matrix.
    static func getrf<S: TensorScalar>(n: Int, a: UnsafeMutablePointer<S>, ipiv: UnsafeMutablePointer<Int32>) -> Int {
        BLASInfo.prepare()
        let n = i(n)
        if S.self == Float.self { return Int(LAPACKE_sgetrf(rowMajor, n, n, f(a), n, ipiv)) }
        if S.self == Double.self { return Int(LAPACKE_dgetrf(rowMajor, n, n, d(a), n, ipiv)) }
        unsupported(S.self)
    }

    /// `?getri` on row-major LU factors.
    static func getri<S: TensorScalar>(n: Int, a: UnsafeMutablePointer<S>, ipiv: UnsafePointer<Int32>) -> Int {
        BLASInfo.prepare()
        let n = i(n)
        if S.self == Float.self { return Int(LAPACKE_sgetri(rowMajor, n, f(a), n, ipiv)) }
        if S.self == Double.self { return Int(LAPACKE_dgetri(rowMajor, n, d(a), n, ipiv)) }
        unsupported(S.self)
    }

    /// `?getrs` with row-major factors `n x n` and right-hand sides `n x nrhs`.
    static func getrs<S: TensorScalar>(
        transposed: Bool, n: Int, nrhs: Int, a: UnsafePointer<S>, ipiv: UnsafePointer<Int32>,
        b: UnsafeMutablePointer<S>
    ) -> Int {
        BLASInfo.prepare()
        let trans = char(transposed ? "T" : "N")
        if S.self == Float.self {
            return Int(LAPACKE_sgetrs(rowMajor, trans, i(n), i(nrhs), f(a), i(n), ipiv, f(b), i(nrhs)))
        }
        if S.self == Double.self {
            return Int(LAPACKE_dgetrs(rowMajor, trans, i(n), i(nrhs), d(a), i(n), ipiv, d(b), i(nrhs)))
        }
        unsupported(S.self)
    }

    /// `?gesv`: factors `a` (`n x n`) in place and overwrites `b` (`n x nrhs`) with the solution.
    static func gesv<S: TensorScalar>(
        n: Int, nrhs: Int, a: UnsafeMutablePointer<S>, ipiv: UnsafeMutablePointer<Int32>, b: UnsafeMutablePointer<S>
    ) -> Int {
        BLASInfo.prepare()
        if S.self == Float.self {
            return Int(LAPACKE_sgesv(rowMajor, i(n), i(nrhs), f(a), i(n), ipiv, f(b), i(nrhs)))
        }
        if S.self == Double.self {
            return Int(LAPACKE_dgesv(rowMajor, i(n), i(nrhs), d(a), i(n), ipiv, d(b), i(nrhs)))
        }
        unsupported(S.self)
    }

    /// `?potrf` (lower) on a row-major `n x n` matrix.
    static func potrfLower<S: TensorScalar>(n: Int, a: UnsafeMutablePointer<S>) -> Int {
        BLASInfo.prepare()
        let lower = char("L")
        if S.self == Float.self { return Int(LAPACKE_spotrf(rowMajor, lower, i(n), f(a), i(n))) }
        if S.self == Double.self { return Int(LAPACKE_dpotrf(rowMajor, lower, i(n), d(a), i(n))) }
        unsupported(S.self)
    }

    /// `?geqrf` on a row-major `m x n` matrix; `tau` holds `min(m, n)` reflector scales.
    static func geqrf<S: TensorScalar>(m: Int, n: Int, a: UnsafeMutablePointer<S>, tau: UnsafeMutablePointer<S>) -> Int {
        BLASInfo.prepare()
        if S.self == Float.self { return Int(LAPACKE_sgeqrf(rowMajor, i(m), i(n), f(a), i(n), f(tau))) }
        if S.self == Double.self { return Int(LAPACKE_dgeqrf(rowMajor, i(m), i(n), d(a), i(n), d(tau))) }
        unsupported(S.self)
    }

    /// `?orgqr`: forms the first `k` columns of `Q` in `a` (`m` rows, leading dimension `lda`).
    static func orgqr<S: TensorScalar>(
        m: Int, k: Int, a: UnsafeMutablePointer<S>, lda: Int, tau: UnsafePointer<S>
    ) -> Int {
        BLASInfo.prepare()
        if S.self == Float.self { return Int(LAPACKE_sorgqr(rowMajor, i(m), i(k), i(k), f(a), i(lda), f(tau))) }
        if S.self == Double.self { return Int(LAPACKE_dorgqr(rowMajor, i(m), i(k), i(k), d(a), i(lda), d(tau))) }
        unsupported(S.self)
    }

    /// `?gesdd` with `jobz = 'S'` (reduced) on a row-major `m x n` matrix, which it destroys:
    /// `s` has `min(m, n)` values, `u` is `m x min(m, n)`, `vt` is `min(m, n) x n`.
    static func gesdd<S: TensorScalar>(
        m: Int, n: Int, a: UnsafeMutablePointer<S>, s: UnsafeMutablePointer<S>,
        u: UnsafeMutablePointer<S>, vt: UnsafeMutablePointer<S>
    ) -> Int {
        BLASInfo.prepare()
        let k = Swift.min(m, n), job = char("S")
        if S.self == Float.self {
            return Int(LAPACKE_sgesdd(rowMajor, job, i(m), i(n), f(a), i(n), f(s), f(u), i(k), f(vt), i(n)))
        }
        if S.self == Double.self {
            return Int(LAPACKE_dgesdd(rowMajor, job, i(m), i(n), d(a), i(n), d(s), d(u), i(k), d(vt), i(n)))
        }
        unsupported(S.self)
    }
}
