// Matrix products through BLAS ?gemm: no hand-written loops.

extension Tensor {
    /// The matrix product. Rank-2 operands multiply as matrices (`[m, k] x [k, n]`); operands of
    /// rank 3 or more are batches of matrices, with the batch dimensions broadcast (NumPy
    /// `matmul` rules; a rank-2 operand is shared by every batch). Rank-1 operands are not accepted:
    /// reshape them to a row or column first. Products run on BLAS; a Float product of at most 96
    /// rows with a long inner dimension runs on a kernel that skips BLAS's packing (see the module
    /// overview).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
        precondition(
            rank >= 2 && other.rank >= 2,
            "matmul: needs operands of rank >= 2, got shapes \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[rank - 1] : shape[rank - 2]
        let k = transposeSelf ? shape[rank - 2] : shape[rank - 1]
        let k2 = transposeOther ? other.shape[other.rank - 1] : other.shape[other.rank - 2]
        let n = transposeOther ? other.shape[other.rank - 2] : other.shape[other.rank - 1]
        precondition(k == k2, "matmul: inner dimensions differ for shapes \(shape) and \(other.shape)")
        let batchA = Array(shape.dropLast(2)), batchB = Array(other.shape.dropLast(2))
        guard let batch = Broadcasting.shape(batchA, batchB) else {
            preconditionFailure("matmul: batch dimensions of shapes \(shape) and \(other.shape) do not broadcast")
        }
        let batchCount = batch.reduce(1, *)
        let aStrides = Broadcasting.strides(of: batchA, broadcastTo: batch)
        let bStrides = Broadcasting.strides(of: batchB, broadcastTo: batch)
        let batchIndexStrides = Tensor.contiguousStrides(for: batch)
        let lda = transposeSelf ? m : k, ldb = transposeOther ? k : n
        // Each GEMM (beta 0) writes its whole block, so the storage starts uninitialized.
        return Tensor.buildUninitialized(shape: batch + [m, n]) { c in
            guard m > 0, n > 0 else { return }
            self.withUnsafeBufferPointer { aBuffer in
                other.withUnsafeBufferPointer { bBuffer in
                    guard k > 0, let a = aBuffer.baseAddress, let b = bBuffer.baseAddress else {
                        zeroFill(c, count: batchCount * m * n)
                        return
                    }
                    if batchCount == 1 {
                        Self.matrixProduct(
                            a, b, c, m: m, n: n, k: k, transposeA: transposeSelf, transposeB: transposeOther)
                        return
                    }
                    for index in 0..<batchCount {
                        var aOffset = 0, bOffset = 0, rest = index
                        for axis in 0..<batch.count {
                            let i = rest / batchIndexStrides[axis]
                            rest %= batchIndexStrides[axis]
                            aOffset += i * aStrides[axis]
                            bOffset += i * bStrides[axis]
                        }
                        Scalar.gemm(
                            transposeA: transposeSelf, transposeB: transposeOther, m: m, n: n, k: k,
                            alpha: 1, a: a + aOffset * m * k, lda: lda, b: b + bOffset * k * n, ldb: ldb,
                            beta: 0, c: c + index * m * n, ldc: n)
                    }
                }
            }
        }
    }

    /// The matrix product of rank-2 operands written into `output` (`[m, n]`, every element
    /// overwritten), without allocating: the same kernels as ``matmul(_:transposeSelf:transposeOther:)``.
    ///
    /// - Precondition: both operands have rank 2, their inner dimensions agree, and `output` has
    ///   shape `[m, n]` (the messages name the shapes).
    public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false, into output: inout Tensor) {
        precondition(
            rank == 2 && other.rank == 2,
            "matmul(into:): needs operands of rank 2, got shapes \(shape) and \(other.shape)")
        let m = transposeSelf ? shape[1] : shape[0], k = transposeSelf ? shape[0] : shape[1]
        let k2 = transposeOther ? other.shape[1] : other.shape[0], n = transposeOther ? other.shape[0] : other.shape[1]
        precondition(k == k2, "matmul(into:): inner dimensions differ for shapes \(shape) and \(other.shape)")
        precondition(
            output.rank == 2 && output.shape[0] == m && output.shape[1] == n,
            "matmul(into:): output shape \(output.shape) differs from the product's [\(m), \(n)] of shapes \(shape) and \(other.shape)")
        guard m > 0, n > 0 else { return }
        withUnsafeBufferPointer { aBuffer in
            other.withUnsafeBufferPointer { bBuffer in
                output.withUnsafeMutableBufferPointer { cBuffer in
                    let c = cBuffer.baseAddress!
                    guard k > 0, let a = aBuffer.baseAddress, let b = bBuffer.baseAddress else {
                        zeroFill(c, count: m * n)
                        return
                    }
                    Self.matrixProduct(a, b, c, m: m, n: n, k: k, transposeA: transposeSelf, transposeB: transposeOther)
                }
            }
        }
    }

    /// `c[m, n] = op(a) · op(b)` for contiguous row-major matrices (`c` only written): the
    /// few-rows kernel where it applies (see FewRowsGEMM), else BLAS.
    static func matrixProduct(
        _ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, _ c: UnsafeMutablePointer<Scalar>,
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool
    ) {
        if Scalar.self == Float.self, !transposeA, !transposeB, FewRowsGEMM.applies(m: m, n: n, k: k) {
            // A fully connected layer at a small batch: see FewRowsGEMM.
            FewRowsGEMM.multiply(
                UnsafeRawPointer(a).assumingMemoryBound(to: Float.self),
                UnsafeRawPointer(b).assumingMemoryBound(to: Float.self),
                UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self),
                m: m, n: n, k: k, parts: FewRowsGEMM.parts(m: m, n: n, k: k))
            return
        }
        Scalar.gemm(
            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
            alpha: 1, a: a, lda: transposeA ? m : k, b: b, ldb: transposeB ? k : n,
            beta: 0, c: c, ldc: n)
    }
}
