// Numerically stable softmax and log-softmax along any axis, forward and backward.
//
// A tensor is viewed as `[outer, n, inner]` around the axis. When the axis is the last one
// (`inner == 1`) each row is contiguous and processed in place; otherwise the loops run over the
// contiguous `inner` elements for each step along the axis, so they stay unit-stride.
// The generic entry points dispatch once per call to kernels specialized for Float and Double.

/// The `[outer, n, inner]` view of a shape around one axis.
struct SoftmaxAxisLayout {
    let outer: Int
    let n: Int
    let inner: Int

    init(shape: [Int], axis: Int, operation: String) {
        precondition(!shape.isEmpty, "\(operation): needs at least one axis, got a scalar")
        let a = Tensor<Double>.normalizeAxis(axis, rank: shape.count, operation: operation)
        outer = shape[..<a].reduce(1, *)
        n = shape[a]
        inner = shape[(a + 1)...].reduce(1, *)
    }
}

extension Tensor {
    /// `exp(x - max) / sum(exp(x - max))` along `axis` (the last by default): every slice along
    /// the axis becomes a probability distribution. Stable for logits of any finite magnitude.
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        softmaxFamily(axis: axis, log: false)
    }

    /// `x - max - log(sum(exp(x - max)))` along `axis` (the last by default): the logarithm of
    /// ``softmax(alongAxis:)``, computed without overflow or `log(0)` for logits of any finite
    /// magnitude.
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        softmaxFamily(axis: axis, log: true)
    }

    /// The gradient of softmax with respect to its input, from the forward `output` `y` and the
    /// `gradient` `g` of the result: `y * (g - sum(g * y))`, the sum along `axis`.
    public static func softmaxBackward(output: Tensor, gradient: Tensor, alongAxis axis: Int = -1) -> Tensor {
        softmaxFamilyBackward(output: output, gradient: gradient, axis: axis, log: false)
    }

    /// The gradient of log-softmax with respect to its input, from the forward `output` `l` and
    /// the `gradient` `g` of the result: `g - exp(l) * sum(g)`, the sum along `axis`.
    public static func logSoftmaxBackward(output: Tensor, gradient: Tensor, alongAxis axis: Int = -1) -> Tensor {
        softmaxFamilyBackward(output: output, gradient: gradient, axis: axis, log: true)
    }

    private func softmaxFamily(axis: Int, log: Bool) -> Tensor {
        let layout = SoftmaxAxisLayout(shape: shape, axis: axis, operation: log ? "logSoftmax" : "softmax")
        return withUnsafeBufferPointer { input in
            Tensor.build(shape: shape) { out in
                guard let x = input.baseAddress, layout.n > 0 else { return }
                if Scalar.self == Float.self {
                    softmaxForward(layout, UnsafePointer<Float>(OpaquePointer(x)),
                                   UnsafeMutablePointer<Float>(OpaquePointer(out)), log: log)
                } else if Scalar.self == Double.self {
                    softmaxForward(layout, UnsafePointer<Double>(OpaquePointer(x)),
                                   UnsafeMutablePointer<Double>(OpaquePointer(out)), log: log)
                } else {
                    softmaxForward(layout, x, out, log: log)
                }
            }
        }
    }

    private static func softmaxFamilyBackward(output: Tensor, gradient: Tensor, axis: Int, log: Bool) -> Tensor {
        let operation = log ? "logSoftmaxBackward" : "softmaxBackward"
        precondition(
            output.shape == gradient.shape,
            "\(operation): output shape \(output.shape) and gradient shape \(gradient.shape) differ")
        let layout = SoftmaxAxisLayout(shape: output.shape, axis: axis, operation: operation)
        return output.withUnsafeBufferPointer { y in
            gradient.withUnsafeBufferPointer { g in
                Tensor.build(shape: output.shape) { dx in
                    guard let y = y.baseAddress, let g = g.baseAddress, layout.n > 0 else { return }
                    if Scalar.self == Float.self {
                        softmaxBackwardKernel(
                            layout, UnsafePointer<Float>(OpaquePointer(y)), UnsafePointer<Float>(OpaquePointer(g)),
                            UnsafeMutablePointer<Float>(OpaquePointer(dx)), log: log)
                    } else if Scalar.self == Double.self {
                        softmaxBackwardKernel(
                            layout, UnsafePointer<Double>(OpaquePointer(y)), UnsafePointer<Double>(OpaquePointer(g)),
                            UnsafeMutablePointer<Double>(OpaquePointer(dx)), log: log)
                    } else {
                        softmaxBackwardKernel(layout, y, g, dx, log: log)
                    }
                }
            }
        }
    }
}

// MARK: - Kernels

private func softmaxForward<T: TensorScalar>(
    _ layout: SoftmaxAxisLayout, _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, log: Bool
) {
    let (n, inner) = (layout.n, layout.inner)
    if inner == 1 {
        for r in 0..<layout.outer {
            let xr = x + r * n, o = out + r * n
            var m = xr[0]
            for i in 1..<n where xr[i] > m { m = xr[i] }
            var sum: T = 0
            if log {
                for i in 0..<n {
                    let shifted = xr[i] - m
                    o[i] = shifted
                    sum += T.exp(shifted)
                }
                let logSum = T.log(sum)
                for i in 0..<n { o[i] -= logSum }
            } else {
                for i in 0..<n {
                    let e = T.exp(xr[i] - m)
                    o[i] = e
                    sum += e
                }
                let scale = 1 / sum
                for i in 0..<n { o[i] *= scale }
            }
        }
        return
    }
    // Axis not last: per-position maxima and sums over `inner` contiguous lanes.
    withScratchBuffer(count: 2 * inner) { (scratch: UnsafeMutablePointer<T>) in
        let m = scratch, sum = scratch + inner
        for r in 0..<layout.outer {
            let xb = x + r * n * inner, ob = out + r * n * inner
            for i in 0..<inner { m[i] = xb[i]; sum[i] = 0 }
            for k in 1..<n {
                let xk = xb + k * inner
                for i in 0..<inner where xk[i] > m[i] { m[i] = xk[i] }
            }
            for k in 0..<n {
                let xk = xb + k * inner, ok = ob + k * inner
                if log {
                    for i in 0..<inner {
                        let shifted = xk[i] - m[i]
                        ok[i] = shifted
                        sum[i] += T.exp(shifted)
                    }
                } else {
                    for i in 0..<inner {
                        let e = T.exp(xk[i] - m[i])
                        ok[i] = e
                        sum[i] += e
                    }
                }
            }
            if log {
                for i in 0..<inner { sum[i] = T.log(sum[i]) }
                for k in 0..<n {
                    let ok = ob + k * inner
                    for i in 0..<inner { ok[i] -= sum[i] }
                }
            } else {
                for i in 0..<inner { sum[i] = 1 / sum[i] }
                for k in 0..<n {
                    let ok = ob + k * inner
                    for i in 0..<inner { ok[i] *= sum[i] }
                }
            }
        }
    }
}

/// Softmax: `dx = y * (g - sum(g * y))`. Log-softmax: `dx = g - exp(y) * sum(g)`.
private func softmaxBackwardKernel<T: TensorScalar>(
    _ layout: SoftmaxAxisLayout, _ y: UnsafePointer<T>, _ g: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, log: Bool
) {
    let (n, inner) = (layout.n, layout.inner)
    if inner == 1 {
        for r in 0..<layout.outer {
            let yr = y + r * n, gr = g + r * n, d = dx + r * n
            var s: T = 0
            if log {
                for i in 0..<n { s += gr[i] }
                for i in 0..<n { d[i] = gr[i] - T.exp(yr[i]) * s }
            } else {
                for i in 0..<n { s += gr[i] * yr[i] }
                for i in 0..<n { d[i] = yr[i] * (gr[i] - s) }
            }
        }
        return
    }
    withScratchBuffer(count: inner) { (s: UnsafeMutablePointer<T>) in
        for r in 0..<layout.outer {
            let base = r * n * inner
            for i in 0..<inner { s[i] = 0 }
            for k in 0..<n {
                let yk = y + base + k * inner, gk = g + base + k * inner
                if log {
                    for i in 0..<inner { s[i] += gk[i] }
                } else {
                    for i in 0..<inner { s[i] += gk[i] * yk[i] }
                }
            }
            for k in 0..<n {
                let yk = y + base + k * inner, gk = g + base + k * inner, dk = dx + base + k * inner
                if log {
                    for i in 0..<inner { dk[i] = gk[i] - T.exp(yk[i]) * s[i] }
                } else {
                    for i in 0..<inner { dk[i] = yk[i] * (gk[i] - s[i]) }
                }
            }
        }
    }
}
