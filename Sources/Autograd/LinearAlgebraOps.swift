// Differentiable linear algebra: matrix product, linear solve, inverse, determinant.
// Each forward pass sits next to its backward rule. Gradients of broadcast batch dimensions are
// summed back to each operand's shape; transposes are folded into the GEMM flags, never
// materialized.

extension Variable {
    /// The differentiable matrix product (`Tensor.matmul(_:transposeSelf:transposeOther:)`):
    /// `op(self) · op(other)`, where `op` transposes the last two axes when its flag is set.
    ///
    /// Rank-2 operands multiply as matrices; higher ranks are batches whose batch dimensions
    /// broadcast (a rank-2 operand is shared by every batch). Each gradient is reduced back to its
    /// operand's shape.
    public func matmul(_ other: Variable, transposeSelf: Bool = false, transposeOther: Bool = false) -> Variable {
        let a = value, b = other.value
        let needA = requiresGradient, needB = other.requiresGradient
        let result = a.matmul(b, transposeSelf: transposeSelf, transposeOther: transposeOther)
        return Variable.record("matmul", value: result, inputs: [self, other]) { g in
            // With C = op(A) op(B): d op(A) = g op(B)ᵀ and d op(B) = op(A)ᵀ g, transposed back when
            // the operand was used transposed.
            var gradA: Tensor<Scalar>?
            if needA {
                let full: Tensor<Scalar>
                switch (transposeSelf, transposeOther) {
                case (false, false): full = g.matmul(b, transposeOther: true)                       // g Bᵀ
                case (true, false): full = b.matmul(g, transposeOther: true)                        // B gᵀ
                case (false, true): full = g.matmul(b)                                              // g B
                case (true, true): full = b.matmul(g, transposeSelf: true, transposeOther: true)    // Bᵀ gᵀ
                }
                gradA = full.sum(toShape: a.shape)
            }
            var gradB: Tensor<Scalar>?
            if needB {
                if b.rank == 2, a.rank > 2, !transposeSelf {
                    // A shared rank-2 right operand (a dense layer over a batch): fold the batch into
                    // the rows of A and g, so one GEMM sums over the batch.
                    let k = a.shape[a.rank - 1], n = g.shape[g.rank - 1]
                    let rows = a.shape.dropLast().reduce(1, *)
                    let aRows = a.reshaped(to: [rows, k]), gRows = g.reshaped(to: [rows, n])
                    gradB = transposeOther
                        ? gRows.matmul(aRows, transposeSelf: true)                                  // gᵀ A
                        : aRows.matmul(gRows, transposeSelf: true)                                  // Aᵀ g
                } else {
                    let full: Tensor<Scalar>
                    switch (transposeSelf, transposeOther) {
                    case (false, false): full = a.matmul(g, transposeSelf: true)                    // Aᵀ g
                    case (true, false): full = a.matmul(g)                                          // A g
                    case (false, true): full = g.matmul(a, transposeSelf: true)                     // gᵀ A
                    case (true, true): full = g.matmul(a, transposeSelf: true, transposeOther: true) // gᵀ Aᵀ
                    }
                    gradB = full.sum(toShape: b.shape)
                }
            }
            return [gradA, gradB]
        }
    }

    /// The differentiable solution `X` of `A X = B`, with `A` this square matrix `[n, n]` (or batch
    /// `[..., n, n]`) and `b` of shape `[n, k]` (or `[..., n, k]`; batch dimensions broadcast).
    ///
    /// Throws where `Tensor.solve(_:)` throws: non-square or singular `A`, or shapes that do not
    /// fit (the error names both). The LU factorization of the forward pass is reused backward:
    /// `gB = A⁻ᵀ g` and `gA = -gB Xᵀ`.
    public func solve(_ b: Variable) throws -> Variable {
        let a = value, bValue = b.value
        let lu = try a.luFactorization()
        let x = try lu.solve(bValue)
        let needA = requiresGradient, needB = b.requiresGradient
        return Variable.record("solve", value: x, inputs: [self, b]) { g in
            // Cannot throw: the factorization is nonsingular and g has the shape of the forward
            // result, which broadcasts with A's batch by construction.
            let gradBFull = try! lu.solve(g, transposed: true)
            let gradA = needA ? (-gradBFull.matmul(x, transposeOther: true)).sum(toShape: a.shape) : nil
            return [gradA, needB ? gradBFull.sum(toShape: bValue.shape) : nil]
        }
    }

    /// The differentiable inverse of this square matrix or batch `[..., n, n]`.
    ///
    /// Throws where `Tensor.inverse()` throws (non-square or singular). Backward:
    /// `gA = -A⁻ᵀ g A⁻ᵀ`.
    public func inverse() throws -> Variable {
        let inverse = try value.inverse()
        return Variable.record("inverse", value: inverse, inputs: [self]) { g in
            [-inverse.matmul(g, transposeSelf: true).matmul(inverse, transposeOther: true)]
        }
    }

    /// The differentiable determinant of this square matrix or batch `[..., n, n]`: a result of the
    /// batch shape (rank 0 for a single matrix).
    ///
    /// Throws where `Tensor.determinant()` throws (non-square input). Backward:
    /// `gA = g det(A) A⁻ᵀ`, the cofactor matrix scaled by `g`; for an exactly singular matrix the
    /// cofactor matrix is computed from the SVD instead, so the gradient stays finite and correct.
    public func determinant() throws -> Variable {
        let a = value
        let det = try a.determinant()
        return Variable.record("determinant", value: det, inputs: [self]) { g in
            let scale = g.reshaped(to: g.shape + [1, 1])
            return [scale * cofactorMatrix(of: a, determinant: det)]
        }
    }
}

/// The cofactor matrix `det(A) A⁻ᵀ` (the transposed adjugate) of each square matrix in `a`, the
/// derivative of the determinant. Uses the inverse when every matrix is invertible; an exactly
/// singular matrix takes the SVD route `det(U) det(Vᵀ) U diag(∏_{j≠i} s_j) Vᵀ`, which is valid for
/// any matrix.
private func cofactorMatrix<Scalar: TensorScalar>(of a: Tensor<Scalar>, determinant: Tensor<Scalar>) -> Tensor<Scalar> {
    let n = a.shape[a.rank - 1]
    let detScale = determinant.reshaped(to: determinant.shape + [1, 1])
    if !determinant.scalars.contains(0), let inverse = try? a.inverse() {
        return inverse.transposed() * detScale
    }
    // Some matrix is singular: treat the batch one matrix at a time.
    let batchCount = determinant.count
    let matrices = a.reshaped(to: [batchCount, n, n])
    var result = Tensor<Scalar>.zeros([batchCount, n, n])
    for index in 0..<batchCount {
        let m = matrices.selecting(index, alongAxis: 0)
        let cofactors: Tensor<Scalar>
        if determinant.scalars[index] != 0, let inverse = try? m.inverse() {
            cofactors = inverse.transposed() * determinant.scalars[index]
        } else {
            cofactors = singularCofactorMatrix(of: m)
        }
        result.assign(cofactors.expandingShape(at: 0), alongAxis: 0, index..<(index + 1))
    }
    return result.reshaped(to: a.shape)
}

/// The cofactor matrix of one square matrix from its SVD `A = U S Vᵀ`:
/// `det(U) det(Vᵀ) U adj(S) Vᵀ`, with `adj(S) = diag(∏_{j≠i} s_j)`.
private func singularCofactorMatrix<Scalar: TensorScalar>(of m: Tensor<Scalar>) -> Tensor<Scalar> {
    // A square matrix without NaN always has an SVD, and U and Vᵀ are square: these cannot throw.
    guard let (u, s, vt) = try? m.svd(),
          let detU = try? u.determinant().scalar, let detVt = try? vt.determinant().scalar
    else {
        return Tensor<Scalar>.full(m.shape, .nan)
    }
    let n = s.count
    var adjugateS = [Scalar](repeating: 1, count: n)
    for i in 0..<n {
        for j in 0..<n where j != i { adjugateS[i] *= s.scalars[j] }
    }
    return (u * Tensor<Scalar>(adjugateS)).matmul(vt) * (detU * detVt)
}
