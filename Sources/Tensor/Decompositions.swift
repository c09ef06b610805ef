// Matrix decompositions through LAPACKE's row-major routines: QR (?geqrf + ?orgqr), SVD (?gesdd)
// and Cholesky (?potrf). Each accepts a matrix or a batch `[..., m, n]` and loops LAPACK over the
// contiguous matrices of the batch. The Float/Double dispatch is in LinearAlgebra.swift.

extension Tensor {
    /// The reduced QR decomposition `A = Q R` of this matrix `[m, n]` or batch `[..., m, n]`,
    /// through LAPACK `?geqrf` and `?orgqr`.
    ///
    /// With `k = min(m, n)`, `q` is `[..., m, k]` with orthonormal columns and `r` is `[..., k, n]`,
    /// upper triangular. The signs follow LAPACK (the diagonal of `r` may be negative), as in NumPy.
    /// Throws ``TensorError/invalidArgument(operation:message:)`` for rank < 2 and
    /// ``TensorError/lapackFailure(routine:info:message:)`` if LAPACK rejects the input (NaN).
    public func qr() throws -> (q: Tensor, r: Tensor) {
        let (batch, m, n) = try matrixDimensions(operation: "qr")
        let k = Swift.min(m, n)
        let count = batch.reduce(1, *)
        var q = [Scalar](repeating: 0, count: count * m * k)
        var r = [Scalar](repeating: 0, count: count * k * n)
        if k > 0 && count > 0 {
            var work = scalars
            var tau = [Scalar](repeating: 0, count: k)
            try work.withUnsafeMutableBufferPointer { workBuffer in
                try tau.withUnsafeMutableBufferPointer { tauBuffer in
                    try q.withUnsafeMutableBufferPointer { qBuffer in
                        try r.withUnsafeMutableBufferPointer { rBuffer in
                            let t = tauBuffer.baseAddress!
                            for index in 0..<count {
                                let a = workBuffer.baseAddress! + index * m * n
                                var info = LAPACK.geqrf(m: m, n: n, a: a, tau: t)
                                if info != 0 { throw LAPACK.failure(LAPACK.name("geqrf", Scalar.self), info: info) }
                                // R: the upper triangle of the first k rows, before ?orgqr overwrites them.
                                let rOut = rBuffer.baseAddress! + index * k * n
                                for row in 0..<k {
                                    (rOut + row * n + row).update(from: a + row * n + row, count: n - row)
                                }
                                info = LAPACK.orgqr(m: m, k: k, a: a, lda: n, tau: t)
                                if info != 0 { throw LAPACK.failure(LAPACK.name("orgqr", Scalar.self), info: info) }
                                // Q: the first k columns of every row.
                                let qOut = qBuffer.baseAddress! + index * m * k
                                for row in 0..<m {
                                    (qOut + row * k).update(from: a + row * n, count: k)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: batch + [m, k], scalars: q), Tensor(shape: batch + [k, n], scalars: r))
    }

    /// The reduced singular value decomposition `A = U diag(s) Vᵀ` of this matrix `[m, n]` or batch
    /// `[..., m, n]`, through LAPACK `?gesdd` (divide and conquer).
    ///
    /// With `k = min(m, n)`: `u` is `[..., m, k]`, `s` is `[..., k]` (non-negative, descending) and
    /// `vt` is `[..., k, n]`. Singular vectors are unique only up to sign. Throws
    /// ``TensorError/invalidArgument(operation:message:)`` for rank < 2 and
    /// ``TensorError/lapackFailure(routine:info:message:)`` if the iteration does not converge or
    /// LAPACK rejects the input (NaN).
    public func svd() throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        let (batch, m, n) = try matrixDimensions(operation: "svd")
        let k = Swift.min(m, n)
        let count = batch.reduce(1, *)
        var u = [Scalar](repeating: 0, count: count * m * k)
        var s = [Scalar](repeating: 0, count: count * k)
        var vt = [Scalar](repeating: 0, count: count * k * n)
        if k > 0 && count > 0 {
            var work = scalars
            try work.withUnsafeMutableBufferPointer { a in
                try u.withUnsafeMutableBufferPointer { uBuffer in
                    try s.withUnsafeMutableBufferPointer { sBuffer in
                        try vt.withUnsafeMutableBufferPointer { vtBuffer in
                            for index in 0..<count {
                                let info = LAPACK.gesdd(
                                    m: m, n: n, a: a.baseAddress! + index * m * n, s: sBuffer.baseAddress! + index * k,
                                    u: uBuffer.baseAddress! + index * m * k, vt: vtBuffer.baseAddress! + index * k * n)
                                if info > 0 {
                                    throw TensorError.lapackFailure(
                                        routine: LAPACK.name("gesdd", Scalar.self), info: info,
                                        message: "the SVD did not converge" + (batch.isEmpty ? "" : " for matrix \(index) of the batch \(batch)"))
                                }
                                if info < 0 { throw LAPACK.failure(LAPACK.name("gesdd", Scalar.self), info: info) }
                            }
                        }
                    }
                }
            }
        }
        return (Tensor(shape: batch + [m, k], scalars: u), Tensor(shape: batch + [k], scalars: s),
                Tensor(shape: batch + [k, n], scalars: vt))
    }

    /// The Cholesky factor `L` (lower triangular, positive diagonal, `A = L Lᵀ`) of this symmetric
    /// positive-definite matrix or batch `[..., n, n]`, through LAPACK `?potrf`. Only the lower
    /// triangle of the input is read; the upper triangle of the result is zero.
    ///
    /// Throws ``TensorError/invalidArgument(operation:message:)`` for a non-square input and
    /// ``TensorError/lapackFailure(routine:info:message:)`` naming the first leading minor that is
    /// not positive definite.
    public func cholesky() throws -> Tensor {
        let (batch, n) = try squareMatrixDimensions(operation: "cholesky")
        var result = self
        let count = batch.reduce(1, *)
        guard n > 0, count > 0 else { return result }
        try result.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<count {
                let a = buffer.baseAddress! + index * n * n
                let info = LAPACK.potrfLower(n: n, a: a)
                if info > 0 {
                    let which = batch.isEmpty ? "matrix" : "matrix \(index) of the batch \(batch)"
                    throw TensorError.lapackFailure(
                        routine: LAPACK.name("potrf", Scalar.self), info: info,
                        message: "\(which) is not positive definite: leading minor of order \(info) is not positive")
                }
                if info < 0 { throw LAPACK.failure(LAPACK.name("potrf", Scalar.self), info: info) }
                for row in 0..<(n - 1) {
                    (a + row * n + row + 1).update(repeating: 0, count: n - row - 1)
                }
            }
        }
        return result
    }

    /// The batch shape and matrix dimensions of a tensor of rank >= 2, or a thrown
    /// ``TensorError/invalidArgument(operation:message:)`` naming the shape.
    func matrixDimensions(operation: String) throws -> (batch: [Int], m: Int, n: Int) {
        guard rank >= 2 else {
            throw TensorError.invalidArgument(
                operation: operation, message: "needs a matrix or a batch of matrices (rank >= 2), got shape \(shape)")
        }
        return (Array(shape.dropLast(2)), shape[rank - 2], shape[rank - 1])
    }
}
