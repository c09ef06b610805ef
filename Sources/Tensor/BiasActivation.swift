import CKernels

// Fused bias + ReLU epilogues for convolution and dense outputs, and their backward passes.
//
// A layer's `activation(x * W + b)` would otherwise take three passes over the output (add the
// bias, apply ReLU, and on the way back mask the gradient and sum it for the bias). These kernels
// do each direction in one pass over the contiguous `[rows, channels]` view of the tensor, with the
// channel loop innermost so it vectorizes.

extension Tensor {
    /// Adds `bias` (`[C]`, the size of the last axis) to every row of this tensor in place and,
    /// when `applyingReLU` is set, replaces each result by `max(result, 0)`, all in one pass.
    ///
    /// Equivalent to `self = (self + bias).relu()` (or `self + bias`), as in a layer's
    /// `activation(x * W + b)` epilogue. `bias` may be `nil` to apply ReLU alone.
    /// - Precondition: this tensor has rank >= 1 and `bias` has shape `[shape.last]`.
    public mutating func addBias(_ bias: Tensor?, applyingReLU: Bool) {
        let channels = rank > 0 ? shape[rank - 1] : 1
        if let bias {
            precondition(
                rank >= 1 && bias.rank == 1 && bias.shape[0] == channels,
                "addBias: bias of shape \(bias.shape) does not match the last axis of shape \(shape)")
        }
        guard bias != nil || applyingReLU, count > 0, channels > 0 else { return }
        let n = count, rows = n / channels
        scalars.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress!
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    if Scalar.self == Float.self {
                        BiasActivationKernels.addBias(
                            UnsafeMutablePointer<Float>(OpaquePointer(out)), UnsafePointer<Float>(OpaquePointer(b.baseAddress!)),
                            rows: rows, channels: channels, relu: applyingReLU)
                    } else if Scalar.self == Double.self {
                        BiasActivationKernels.addBias(
                            UnsafeMutablePointer<Double>(OpaquePointer(out)), UnsafePointer<Double>(OpaquePointer(b.baseAddress!)),
                            rows: rows, channels: channels, relu: applyingReLU)
                    } else {
                        BiasActivationKernels.addBias(out, b.baseAddress!, rows: rows, channels: channels, relu: applyingReLU)
                    }
                }
            } else {
                Scalar.applyUnary(.relu, UnsafePointer(out), out, n)
            }
        }
    }

    /// The gradient of ReLU given its *output* `output` (`max(x, 0)`): `gradient` where
    /// `output > 0`, else 0. Same as `gradient * x.map(.step)`, without keeping `x`.
    /// - Precondition: `gradient` and `output` have the same shape.
    public static func reluBackward(gradient: Tensor, output: Tensor) -> Tensor {
        var dx = Tensor.uninitialized(gradient.shape)
        reluBackward(gradient: gradient, output: output, into: &dx)
        return dx
    }

    /// ``reluBackward(gradient:output:)`` into the caller-owned `inputGradient` (the same shape;
    /// every element overwritten), without allocating.
    package static func reluBackward(gradient: Tensor, output: Tensor, into inputGradient: inout Tensor) {
        precondition(
            gradient.shape == output.shape && inputGradient.shape == gradient.shape,
            "reluBackward: gradient shape \(gradient.shape), output shape \(output.shape) and input gradient shape \(inputGradient.shape) differ")
        gradient.withUnsafeBufferPointer { g in
            output.withUnsafeBufferPointer { y in
                inputGradient.withUnsafeMutableBufferPointer { d in
                    guard let gp = g.baseAddress, let yp = y.baseAddress, let dx = d.baseAddress else { return }
                    let n = g.count
                    // Specialized per element type: a generic loop here would run unspecialized
                    // when called from another module.
                    if Scalar.self == Float.self {
                        BiasActivationKernels.reluMask(
                            UnsafePointer<Float>(OpaquePointer(gp)), UnsafePointer<Float>(OpaquePointer(yp)),
                            UnsafeMutablePointer<Float>(OpaquePointer(dx)), count: n)
                    } else if Scalar.self == Double.self {
                        BiasActivationKernels.reluMask(
                            UnsafePointer<Double>(OpaquePointer(gp)), UnsafePointer<Double>(OpaquePointer(yp)),
                            UnsafeMutablePointer<Double>(OpaquePointer(dx)), count: n)
                    } else {
                        BiasActivationKernels.reluMask(gp, yp, dx, count: n)
                    }
                }
            }
        }
    }

    /// The backward pass of ``addBias(_:applyingReLU:)`` in one sweep: the gradient with respect
    /// to the pre-bias input (`gradient` masked by `output > 0` when `applyingReLU`, else
    /// `gradient` itself) and the bias gradient (that masked gradient summed over every axis but
    /// the last).
    ///
    /// - Parameters:
    ///   - gradient: the upstream gradient, shaped like the epilogue's output.
    ///   - output: the epilogue's output (only read when `applyingReLU`).
    ///   - applyingReLU: whether the forward pass applied ReLU.
    /// - Returns: `input` shaped like `gradient`, `bias` of shape `[C]`.
    /// - Precondition: `gradient` has rank >= 1 and, when `applyingReLU`, `output`'s shape.
    public static func biasActivationBackward(
        gradient: Tensor, output: Tensor, applyingReLU: Bool
    ) -> (input: Tensor, bias: Tensor) {
        precondition(gradient.rank >= 1, "biasActivationBackward: gradient must have rank >= 1, got shape \(gradient.shape)")
        var biasGradient = Tensor.zeros([gradient.shape.last!])
        guard applyingReLU else {
            var unused = Tensor.zeros([0])
            biasActivationBackward(
                gradient: gradient, output: output, applyingReLU: false, maskedInto: &unused, biasGradient: &biasGradient)
            return (gradient, biasGradient)
        }
        var input = Tensor.buildUninitialized(shape: gradient.shape) { _ in }
        biasActivationBackward(
            gradient: gradient, output: output, applyingReLU: true, maskedInto: &input, biasGradient: &biasGradient)
        return (input, biasGradient)
    }

    /// ``biasActivationBackward(gradient:output:applyingReLU:)`` into caller-owned tensors, without
    /// allocating: `masked` (the input gradient, shaped like `gradient`) is written only when
    /// `applyingReLU` (otherwise the input gradient is `gradient` itself and `masked` is untouched),
    /// and `biasGradient` (`[C]`) is overwritten.
    ///
    /// - Precondition: `gradient` has rank >= 1; when `applyingReLU`, `output` and `masked` have
    ///   its shape; `biasGradient` has shape `[C]` (the messages name the shapes).
    public static func biasActivationBackward(
        gradient: Tensor, output: Tensor, applyingReLU: Bool, maskedInto masked: inout Tensor, biasGradient: inout Tensor
    ) {
        if applyingReLU {
            precondition(
                masked.shape == gradient.shape,
                "biasActivationBackward: input-gradient shape \(masked.shape) differs from gradient shape \(gradient.shape)")
        }
        gradient.withUnsafeBufferPointer { g in
            guard applyingReLU else {
                biasActivationBackward(g, shape: gradient.shape, output: output, masked: nil, biasGradient: &biasGradient)
                return
            }
            masked.withUnsafeMutableBufferPointer { d in
                biasActivationBackward(g, shape: gradient.shape, output: output, masked: d.baseAddress, biasGradient: &biasGradient)
            }
        }
    }

    /// ``biasActivationBackward(gradient:output:applyingReLU:maskedInto:biasGradient:)`` with the
    /// masked gradient written over `gradient` itself (for a gradient nothing else reads after),
    /// without allocating; `biasGradient` (`[C]`) is overwritten.
    public static func biasActivationBackward(
        inPlace gradient: inout Tensor, output: Tensor, applyingReLU: Bool, biasGradient: inout Tensor
    ) {
        let shape = gradient.shape
        gradient.withUnsafeMutableBufferPointer { g in
            biasActivationBackward(
                UnsafeBufferPointer(g), shape: shape, output: output, masked: applyingReLU ? g.baseAddress : nil,
                biasGradient: &biasGradient)
        }
    }

    /// The bias gradient of the gradient `g` (of `shape`, channels last) and, when `masked` is
    /// given, the gradient masked by `output > 0` written there (`masked` may be `g`'s storage).
    private static func biasActivationBackward(
        _ g: UnsafeBufferPointer<Scalar>, shape: [Int], output: Tensor, masked: UnsafeMutablePointer<Scalar>?,
        biasGradient: inout Tensor
    ) {
        precondition(!shape.isEmpty, "biasActivationBackward: gradient must have rank >= 1, got shape \(shape)")
        let channels = shape[shape.count - 1]
        precondition(
            biasGradient.rank == 1 && biasGradient.shape[0] == channels,
            "biasActivationBackward: bias gradient of shape \(biasGradient.shape) for a gradient of shape \(shape)")
        let rows = channels == 0 ? 0 : g.count / channels
        biasGradient.withUnsafeMutableBufferPointer { db in
            guard let dp = db.baseAddress else { return }
            zeroFill(dp, count: channels)
            guard let gp = g.baseAddress else { return }
            guard let dx = masked else {
                if Scalar.self == Float.self {
                    BiasActivationKernels.sumRows(
                        UnsafePointer<Float>(OpaquePointer(gp)), UnsafeMutablePointer<Float>(OpaquePointer(dp)),
                        rows: rows, channels: channels)
                } else if Scalar.self == Double.self {
                    BiasActivationKernels.sumRows(
                        UnsafePointer<Double>(OpaquePointer(gp)), UnsafeMutablePointer<Double>(OpaquePointer(dp)),
                        rows: rows, channels: channels)
                } else {
                    BiasActivationKernels.sumRows(gp, dp, rows: rows, channels: channels)
                }
                return
            }
            precondition(
                output.shape == shape,
                "biasActivationBackward: gradient shape \(shape) differs from output shape \(output.shape)")
            output.withUnsafeBufferPointer { y in
                let yp = y.baseAddress!
                if Scalar.self == Float.self {
                    BiasActivationKernels.reluBiasBackward(
                        UnsafePointer<Float>(OpaquePointer(gp)), UnsafePointer<Float>(OpaquePointer(yp)),
                        UnsafeMutablePointer<Float>(OpaquePointer(dx)),
                        UnsafeMutablePointer<Float>(OpaquePointer(dp)), rows: rows, channels: channels)
                } else if Scalar.self == Double.self {
                    BiasActivationKernels.reluBiasBackward(
                        UnsafePointer<Double>(OpaquePointer(gp)), UnsafePointer<Double>(OpaquePointer(yp)),
                        UnsafeMutablePointer<Double>(OpaquePointer(dx)),
                        UnsafeMutablePointer<Double>(OpaquePointer(dp)), rows: rows, channels: channels)
                } else {
                    BiasActivationKernels.reluBiasBackward(gp, yp, dx, dp, rows: rows, channels: channels)
                }
            }
        }
    }
}

/// The bias + ReLU loops, generic over the element type and called with `Float` or `Double`
/// pointers so the compiler specializes and vectorizes them. The `Float` overloads run the C
/// kernels of `CKernels` (AVX-512 / AVX2 clones chosen at load time), split across cores.
enum BiasActivationKernels {
    /// Elements per thread below which a loop runs on one thread (about 256 KiB of Float).
    static let elementsPerThread = 1 << 16

    /// `out[r, c] = out[r, c] + bias[c]`, then `max(_, 0)` when `relu`.
    @inline(__always)
    static func addBias<T: BinaryFloatingPoint>(
        _ out: UnsafeMutablePointer<T>, _ bias: UnsafePointer<T>, rows: Int, channels: Int, relu: Bool
    ) {
        var row = out
        if relu {
            for _ in 0..<rows {
                // Swift.max compiles to a vector max; `v > 0 ? v : 0` compiled to a branch per element.
                // (A NaN stays NaN, as in PyTorch's relu.)
                for c in 0..<channels { row[c] = Swift.max(row[c] + bias[c], 0) }
                row += channels
            }
        } else {
            for _ in 0..<rows {
                for c in 0..<channels { row[c] += bias[c] }
                row += channels
            }
        }
    }

    /// `out[r, c] = out[r, c] + bias[c]`, then `max(_, 0)` when `relu` (a NaN stays NaN).
    static func addBias(
        _ out: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, channels: Int, relu: Bool
    ) {
        Parallel.forEachRange(rows, minimumPerThread: rowsPerThread(channels), AddBiasLoop(
            out: UncheckedSendable(out), bias: UncheckedSendable(bias), channels: channels, relu: relu))
    }

    /// `dx[i] = y[i] > 0 ? g[i] : 0`.
    @inline(__always)
    static func reluMask<T: BinaryFloatingPoint>(
        _ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, count: Int
    ) {
        for i in 0..<count { dx[i] = y[i] > 0 ? g[i] : 0 }
    }

    /// `dx[i] = y[i] > 0 ? g[i] : 0`.
    static func reluMask(
        _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, count: Int
    ) {
        Parallel.forEachRange(count, minimumPerThread: elementsPerThread, ReLUMaskLoop(
            g: UncheckedSendable(g), y: UncheckedSendable(y), dx: UncheckedSendable(dx)))
    }

    /// `db[c] += g[r, c]` over every row.
    @inline(__always)
    static func sumRows<T: BinaryFloatingPoint>(
        _ g: UnsafePointer<T>, _ db: UnsafeMutablePointer<T>, rows: Int, channels: Int
    ) {
        var row = g
        for _ in 0..<rows {
            for c in 0..<channels { db[c] += row[c] }
            row += channels
        }
    }

    /// `db[c] += g[r, c]` over every row.
    static func sumRows(_ g: UnsafePointer<Float>, _ db: UnsafeMutablePointer<Float>, rows: Int, channels: Int) {
        withPartialSums(db, rows: rows, channels: channels, SumRowsBody(g: UncheckedSendable(g), channels: channels))
    }

    /// `dx[r, c] = y[r, c] > 0 ? g[r, c] : 0` and `db[c] += dx[r, c]` in the same pass.
    @inline(__always)
    static func reluBiasBackward<T: BinaryFloatingPoint>(
        _ g: UnsafePointer<T>, _ y: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ db: UnsafeMutablePointer<T>,
        rows: Int, channels: Int
    ) {
        var offset = 0
        for _ in 0..<rows {
            let (gr, yr, dr) = (g + offset, y + offset, dx + offset)
            for c in 0..<channels {
                let v = yr[c] > 0 ? gr[c] : 0
                dr[c] = v
                db[c] += v
            }
            offset += channels
        }
    }

    /// `dx[r, c] = y[r, c] > 0 ? g[r, c] : 0` and `db[c] += dx[r, c]` in the same pass; `dx` may
    /// be `g` (masked in place, by the C kernel's in-place variant).
    static func reluBiasBackward(
        _ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
        _ db: UnsafeMutablePointer<Float>, rows: Int, channels: Int
    ) {
        withPartialSums(db, rows: rows, channels: channels, ReLUBiasBackwardBody(
            g: UncheckedSendable(g), y: UncheckedSendable(y), dx: UncheckedSendable(dx), channels: channels))
    }

    /// Rows per thread so each thread gets at least ``elementsPerThread`` elements.
    static func rowsPerThread(_ channels: Int) -> Int {
        Swift.max(1, elementsPerThread / Swift.max(channels, 1))
    }

    /// Runs `body(rows, partial)` on ranges of rows in parallel, each with its own zeroed row of
    /// `channels` partial sums, then adds the partial rows into `db` in part order (so the result
    /// does not depend on thread timing).
    static func withPartialSums<Body: RowsPartialSumBody>(
        _ db: UnsafeMutablePointer<Float>, rows: Int, channels: Int, _ body: Body
    ) {
        let parts = Swift.min(Parallel.threads, Swift.max(1, rows / rowsPerThread(channels)))
        guard parts > 1 else {
            body(0..<rows, db)
            return
        }
        withScratchBuffer(count: parts * channels) { (partials: UnsafeMutablePointer<Float>) in
            zeroFill(partials, count: parts * channels)
            Parallel.forEachPart(parts, PartialSumParts(
                body: body, partials: UncheckedSendable(partials), parts: parts, rows: rows, channels: channels))
            for part in 0..<parts {
                let row = partials + part * channels
                for c in 0..<channels { db[c] += row[c] }
            }
        }
    }
}

/// ``BiasActivationKernels/addBias(_:_:rows:channels:relu:)``'s loop body: the C kernel on a range of rows.
private struct AddBiasLoop: ParallelLoopBody {
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>
    let bias: UncheckedSendable<UnsafePointer<Float>>
    let channels: Int
    let relu: Bool

    func callAsFunction(_ range: Range<Int>) {
        ck_add_bias_f32(out.value + range.lowerBound * channels, bias.value, range.count, channels, relu ? 1 : 0)
    }
}

/// ``BiasActivationKernels/reluMask(_:_:_:count:)``'s loop body: the C kernel on a range of elements.
private struct ReLUMaskLoop: ParallelLoopBody {
    let g, y: UncheckedSendable<UnsafePointer<Float>>
    let dx: UncheckedSendable<UnsafeMutablePointer<Float>>

    func callAsFunction(_ range: Range<Int>) {
        let i = range.lowerBound
        ck_relu_mask_f32(g.value + i, y.value + i, dx.value + i, range.count)
    }
}

/// The body of ``BiasActivationKernels/withPartialSums(_:rows:channels:_:)``: adds the column sums
/// of a range of rows into its own partial row.
protocol RowsPartialSumBody: Sendable {
    /// Adds the sums of `rows` into `partial` (one value per channel).
    func callAsFunction(_ rows: Range<Int>, _ partial: UnsafeMutablePointer<Float>)
}

/// ``BiasActivationKernels/withPartialSums(_:rows:channels:_:)``'s loop body: part `part`'s rows
/// into part `part`'s partial row.
private struct PartialSumParts<Body: RowsPartialSumBody>: ParallelPartBody {
    let body: Body
    let partials: UncheckedSendable<UnsafeMutablePointer<Float>>
    let parts, rows, channels: Int

    func callAsFunction(_ part: Int) {
        body(Parallel.range(part, of: parts, count: rows), partials.value + part * channels)
    }
}

/// ``BiasActivationKernels/sumRows(_:_:rows:channels:)``'s partial sums: the C kernel on a range of rows.
private struct SumRowsBody: RowsPartialSumBody {
    let g: UncheckedSendable<UnsafePointer<Float>>
    let channels: Int

    func callAsFunction(_ rows: Range<Int>, _ partial: UnsafeMutablePointer<Float>) {
        ck_sum_rows_f32(g.value + rows.lowerBound * channels, partial, rows.count, channels)
    }
}

/// ``BiasActivationKernels/reluBiasBackward(_:_:_:_:rows:channels:)``'s partial sums: the C kernel
/// on a range of rows.
private struct ReLUBiasBackwardBody: RowsPartialSumBody {
    let g, y: UncheckedSendable<UnsafePointer<Float>>
    let dx: UncheckedSendable<UnsafeMutablePointer<Float>>
    let channels: Int

    func callAsFunction(_ rows: Range<Int>, _ partial: UnsafeMutablePointer<Float>) {
        let offset = rows.lowerBound * channels
        if UnsafePointer(dx.value) == g.value {
            ck_relu_bias_backward_inplace_f32(dx.value + offset, y.value + offset, partial, rows.count, channels)
        } else {
            ck_relu_bias_backward_f32(g.value + offset, y.value + offset, dx.value + offset, partial, rows.count, channels)
        }
    }
}
