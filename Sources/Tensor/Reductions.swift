import CKernels

// Reductions along any set of axes, with or without keeping the reduced dimensions.

extension Tensor {
    /// Normalized, sorted, de-duplicated axes; `nil` means every axis.
    func reductionAxes(_ axes: [Int]?, operation: String) -> [Int] {
        guard let axes else { return Array(0..<rank) }
        return Array(Set(axes.map { Tensor.normalizeAxis($0, rank: rank, operation: operation) })).sorted()
    }

    /// The shape after reducing `axes`.
    func reducedShape(_ axes: [Int], keepDims: Bool) -> [Int] {
        var result: [Int] = []
        for axis in 0..<rank {
            if axes.contains(axis) {
                if keepDims { result.append(1) }
            } else {
                result.append(shape[axis])
            }
        }
        return result
    }

    /// The shape a reduction along `axes` (every axis when `nil`) produces.
    public func shapeAfterReducing(_ axes: [Int]?, keepDims: Bool) -> [Int] {
        reducedShape(reductionAxes(axes, operation: "reduce"), keepDims: keepDims)
    }

    /// Folds `axes` with `op`.
    public func reduce(_ op: ReduceOp, alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let axes = reductionAxes(axes, operation: "\(op)")
        let keptShape = reducedShape(axes, keepDims: true)
        if op != .sum {
            precondition(axes.allSatisfy { shape[$0] > 0 }, "\(op): cannot reduce an empty axis of shape \(shape)")
        }
        // Float sums over leading axes (a bias gradient: [N, H, W, C] -> [C]) of a long tensor: the
        // C kernel over fixed blocks of rows in parallel.
        if op == .sum, Scalar.self == Float.self, let k = axes.last, axes == Array(0...k), k + 1 < rank,
           count >= 2 * ReductionKernels.elementsPerBlock {
            let width = shape[(k + 1)...].reduce(1, *)
            let sums = withUnsafeBufferPointer { input in
                ReductionKernels.sumRows(UnsafePointer<Float>(OpaquePointer(input.baseAddress!)), rows: count / width, width: width)
            }
            return Tensor(shape: reducedShape(axes, keepDims: keepDims), scalars: sums.map { Scalar($0) })
        }
        let initial: Scalar = op == .sum ? 0 : (op == .max ? -Scalar.infinity : Scalar.infinity)
        var out = [Scalar](repeating: initial, count: keptShape.reduce(1, *))
        let outStrides = Broadcasting.strides(of: keptShape, broadcastTo: shape)
        let loop = StridedLoop(shape: shape, strides: [strides, outStrides])
        let row = loop.rowLength
        let inRowStride = loop.rowStride(0), outRowStride = loop.rowStride(1)
        withUnsafeBufferPointer { input in
            guard let x = input.baseAddress else { return }
            out.withUnsafeMutableBufferPointer { output in
                guard let o = output.baseAddress else { return }
                loop.forEachRow { oIn, oOut, _ in
                    if outRowStride == 0 {
                        // The row is reduced into one element (input rows are contiguous here
                        // whenever the reduced axes are the innermost ones).
                        if inRowStride == 1 {
                            o[oOut] = combine(op, o[oOut], Scalar.reduce(op, x + oIn, row))
                        } else {
                            for i in 0..<row { o[oOut] = combine(op, o[oOut], x[oIn + i * inRowStride]) }
                        }
                    } else {
                        Scalar.accumulate(op, o + oOut, x + oIn, row)
                    }
                }
            }
        }
        return Tensor(shape: reducedShape(axes, keepDims: keepDims), scalars: out)
    }

    private func combine(_ op: ReduceOp, _ a: Scalar, _ b: Scalar) -> Scalar {
        switch op {
        case .sum: return a + b
        case .max: return b > a || b.isNaN ? b : a
        case .min: return b < a || b.isNaN ? b : a
        }
    }

    /// Sum along `axes` (every axis when `nil`).
    public func sum(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(.sum, alongAxes: axes, keepDims: keepDims)
    }

    /// Arithmetic mean along `axes` (every axis when `nil`).
    public func mean(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        let normalized = reductionAxes(axes, operation: "mean")
        let n = normalized.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: normalized, keepDims: keepDims) * (1 / Scalar(n))
    }

    /// Largest element along `axes` (every axis when `nil`); NaN propagates.
    public func max(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(.max, alongAxes: axes, keepDims: keepDims)
    }

    /// Smallest element along `axes` (every axis when `nil`); NaN propagates.
    public func min(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        reduce(.min, alongAxes: axes, keepDims: keepDims)
    }

    /// Variance along `axes` with `correction` degrees of freedom subtracted from the count
    /// (0, the default, is the population variance as in NumPy's `var`; 1 is the sample variance).
    public func variance(alongAxes axes: [Int]? = nil, keepDims: Bool = false, correction: Int = 0) -> Tensor {
        let normalized = reductionAxes(axes, operation: "variance")
        let n = normalized.reduce(1) { $0 * shape[$1] }
        let centered = self - mean(alongAxes: normalized, keepDims: true)
        return centered.squared().sum(alongAxes: normalized, keepDims: keepDims) * (1 / Scalar(n - correction))
    }

    /// The sum of all elements as a scalar value.
    public func sumAll() -> Scalar { withUnsafeBufferPointer { Scalar.reduce(.sum, $0.baseAddress!, count) } }

    /// Index of the largest element along `axis` (first one on ties), as a tensor of the remaining
    /// shape (`keepDims` keeps the axis with size 1). Indices are stored as whole-number values.
    public func argmax(alongAxis axis: Int, keepDims: Bool = false) -> Tensor {
        argExtreme(alongAxis: axis, keepDims: keepDims, isBetter: { $0 > $1 })
    }

    /// Index of the smallest element along `axis` (first one on ties).
    public func argmin(alongAxis axis: Int, keepDims: Bool = false) -> Tensor {
        argExtreme(alongAxis: axis, keepDims: keepDims, isBetter: { $0 < $1 })
    }

    private func argExtreme(alongAxis axis: Int, keepDims: Bool, isBetter: (Scalar, Scalar) -> Bool) -> Tensor {
        let a = Tensor.normalizeAxis(axis, rank: rank, operation: "argmax")
        let n = shape[a]
        precondition(n > 0, "argmax: axis \(axis) of shape \(shape) is empty")
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        var out = [Scalar](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = scalars[o * n * inner + i]
                var bestIndex = 0
                for k in 1..<n {
                    let v = scalars[(o * n + k) * inner + i]
                    if isBetter(v, best) || (v.isNaN && !best.isNaN) { best = v; bestIndex = k }
                }
                out[o * inner + i] = Scalar(bestIndex)
            }
        }
        return Tensor(shape: reducedShape([a], keepDims: keepDims), scalars: out)
    }

    /// Sums a broadcast result back down to `targetShape` (the gradient of broadcasting).
    /// `targetShape` must broadcast to this tensor's shape.
    public func sum(toShape targetShape: [Int]) -> Tensor {
        if targetShape == shape { return self }
        guard Broadcasting.shape(targetShape, shape) == shape else {
            preconditionFailure("sum(toShape:): shape \(targetShape) does not broadcast to \(shape)")
        }
        let offset = rank - targetShape.count
        var axes = Array(0..<offset)
        for (i, d) in targetShape.enumerated() where d == 1 && shape[i + offset] != 1 {
            axes.append(i + offset)
        }
        let reduced = sum(alongAxes: axes, keepDims: true)
        return reduced.reshaped(to: targetShape)
    }
}

/// Float reductions on the C kernels of `CKernels`.
enum ReductionKernels {
    /// Elements per block of rows (and per thread).
    static let elementsPerBlock = 1 << 16

    /// The column sums of `rows` rows of `width`: each fixed block of rows summed on its own (in
    /// parallel), then the blocks added in order, so the result does not depend on the threads.
    static func sumRows(_ x: UnsafePointer<Float>, rows: Int, width: Int) -> [Float] {
        let blockRows = Swift.max(1, elementsPerBlock / width)
        let blocks = (rows + blockRows - 1) / blockRows
        var partials = [Float](repeating: 0, count: blocks * width)
        partials.withUnsafeMutableBufferPointer { p in
            Parallel.forEachRange(blocks, SumRowBlocksLoop(
                x: UncheckedSendable(x), partials: UncheckedSendable(p.baseAddress!),
                rows: rows, width: width, blockRows: blockRows))
        }
        var sums = [Float](repeating: 0, count: width)
        for b in 0..<blocks {
            for j in 0..<width { sums[j] += partials[b * width + j] }
        }
        return sums
    }
}

/// ``ReductionKernels/sumRows(_:rows:width:)``'s loop body: the column sums of a range of blocks
/// of rows, each into its own partial row.
private struct SumRowBlocksLoop: ParallelLoopBody {
    let x: UncheckedSendable<UnsafePointer<Float>>
    let partials: UncheckedSendable<UnsafeMutablePointer<Float>>
    let rows, width, blockRows: Int

    func callAsFunction(_ range: Range<Int>) {
        for b in range {
            let first = b * blockRows
            ck_sum_rows_f32(x.value + first * width, partials.value + b * width, Swift.min(blockRows, rows - first), width)
        }
    }
}
