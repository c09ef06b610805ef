// Numerically stable cross-entropy losses on logits, forward and backward.
//
// The generic entry points dispatch once per call to kernels specialized for Float and Double.

/// Elementwise binary cross-entropy of `labels` `z` against the sigmoid of `logits` `x`,
/// `max(x, 0) - x * z + log(1 + exp(-|x|))` (TensorFlow's `sigmoid_cross_entropy_with_logits`),
/// which equals `-(z log(sigmoid(x)) + (1 - z) log(1 - sigmoid(x)))` and stays finite for logits of
/// any finite magnitude. `labels` (usually in `[0, 1]`) must have the shape of `logits`; the
/// result has that shape too.
public func sigmoidCrossEntropy<Scalar: TensorScalar>(logits: Tensor<Scalar>, labels: Tensor<Scalar>) -> Tensor<Scalar> {
    var out = Tensor<Scalar>.buildUninitialized(shape: logits.shape) { _ in }
    sigmoidCrossEntropy(logits: logits, labels: labels, into: &out)
    return out
}

/// ``sigmoidCrossEntropy(logits:labels:)`` written into `output` (every element overwritten),
/// without allocating. All three tensors have the same shape.
public func sigmoidCrossEntropy<Scalar: TensorScalar>(
    logits: Tensor<Scalar>, labels: Tensor<Scalar>, into output: inout Tensor<Scalar>
) {
    precondition(
        logits.shape == labels.shape && logits.shape == output.shape,
        "sigmoidCrossEntropy: logits shape \(logits.shape), labels shape \(labels.shape) and output shape \(output.shape) must agree")
    let n = logits.count
    logits.withUnsafeBufferPointer { x in
        labels.withUnsafeBufferPointer { z in
            output.withUnsafeMutableBufferPointer { o in
                guard let x = x.baseAddress, let z = z.baseAddress, let out = o.baseAddress else { return }
                if Scalar.self == Float.self {
                    sigmoidCEForward(UnsafePointer<Float>(OpaquePointer(x)), UnsafePointer<Float>(OpaquePointer(z)),
                                     UnsafeMutablePointer<Float>(OpaquePointer(out)), n)
                } else if Scalar.self == Double.self {
                    sigmoidCEForward(UnsafePointer<Double>(OpaquePointer(x)), UnsafePointer<Double>(OpaquePointer(z)),
                                     UnsafeMutablePointer<Double>(OpaquePointer(out)), n)
                } else {
                    sigmoidCEForward(x, z, out, n)
                }
            }
        }
    }
}

/// The gradient of ``sigmoidCrossEntropy(logits:labels:)`` with respect to the logits:
/// `gradient * (sigmoid(logits) - labels)`; all three tensors have the same shape.
public func sigmoidCrossEntropyBackward<Scalar: TensorScalar>(
    logits: Tensor<Scalar>, labels: Tensor<Scalar>, gradient: Tensor<Scalar>
) -> Tensor<Scalar> {
    var dx = Tensor<Scalar>.buildUninitialized(shape: logits.shape) { _ in }
    sigmoidCrossEntropyBackward(logits: logits, labels: labels, gradient: gradient, into: &dx)
    return dx
}

/// ``sigmoidCrossEntropyBackward(logits:labels:gradient:)`` written into `logitsGradient`
/// (every element overwritten), without allocating. All four tensors have the same shape.
public func sigmoidCrossEntropyBackward<Scalar: TensorScalar>(
    logits: Tensor<Scalar>, labels: Tensor<Scalar>, gradient: Tensor<Scalar>, into logitsGradient: inout Tensor<Scalar>
) {
    precondition(
        logits.shape == labels.shape && logits.shape == gradient.shape && logits.shape == logitsGradient.shape,
        "sigmoidCrossEntropyBackward: logits shape \(logits.shape), labels shape \(labels.shape), gradient shape \(gradient.shape) and result shape \(logitsGradient.shape) must agree")
    let n = logits.count
    logits.withUnsafeBufferPointer { x in
        labels.withUnsafeBufferPointer { z in
            gradient.withUnsafeBufferPointer { g in
                logitsGradient.withUnsafeMutableBufferPointer { d in
                    guard let x = x.baseAddress, let z = z.baseAddress, let g = g.baseAddress, let dx = d.baseAddress else { return }
                    if Scalar.self == Float.self {
                        sigmoidCEBackward(
                            UnsafePointer<Float>(OpaquePointer(x)), UnsafePointer<Float>(OpaquePointer(z)),
                            UnsafePointer<Float>(OpaquePointer(g)), UnsafeMutablePointer<Float>(OpaquePointer(dx)), n)
                    } else if Scalar.self == Double.self {
                        sigmoidCEBackward(
                            UnsafePointer<Double>(OpaquePointer(x)), UnsafePointer<Double>(OpaquePointer(z)),
                            UnsafePointer<Double>(OpaquePointer(g)), UnsafeMutablePointer<Double>(OpaquePointer(dx)), n)
                    } else {
                        sigmoidCEBackward(x, z, g, dx, n)
                    }
                }
            }
        }
    }
}

/// Per-example categorical cross-entropy of `labels` against the softmax of `logits` along the
/// last (class) axis: `-sum(labels * logSoftmax(logits))`, computed stably for logits of any
/// finite magnitude. `labels` has the shape of `logits` and holds one-hot rows or probability
/// distributions. The result has the shape of `logits` without its last axis (`[N, C] -> [N]`).
public func softmaxCrossEntropy<Scalar: TensorScalar>(logits: Tensor<Scalar>, labels: Tensor<Scalar>) -> Tensor<Scalar> {
    precondition(
        logits.shape == labels.shape,
        "softmaxCrossEntropy: logits shape \(logits.shape) and labels shape \(labels.shape) differ")
    precondition(logits.rank >= 1, "softmaxCrossEntropy: logits need a class axis, got a scalar")
    let classes = logits.shape[logits.rank - 1]
    let rows = classes == 0 ? 0 : logits.count / classes
    return logits.withUnsafeBufferPointer { x in
        labels.withUnsafeBufferPointer { z in
            Tensor.build(shape: Array(logits.shape.dropLast())) { out in
                guard let x = x.baseAddress, let z = z.baseAddress, classes > 0 else { return }
                if Scalar.self == Float.self {
                    softmaxCEForward(UnsafePointer<Float>(OpaquePointer(x)), UnsafePointer<Float>(OpaquePointer(z)),
                                     UnsafeMutablePointer<Float>(OpaquePointer(out)), rows, classes)
                } else if Scalar.self == Double.self {
                    softmaxCEForward(UnsafePointer<Double>(OpaquePointer(x)), UnsafePointer<Double>(OpaquePointer(z)),
                                     UnsafeMutablePointer<Double>(OpaquePointer(out)), rows, classes)
                } else {
                    softmaxCEForward(x, z, out, rows, classes)
                }
            }
        }
    }
}

/// The gradient of ``softmaxCrossEntropy(logits:labels:)`` with respect to the logits, given the
/// `gradient` of the per-example losses (the shape of `logits` without its last axis):
/// `gradient * (softmax(logits) * sum(labels) - labels)`, which is `softmax - labels` scaled by
/// the gradient when every label row sums to 1.
public func softmaxCrossEntropyBackward<Scalar: TensorScalar>(
    logits: Tensor<Scalar>, labels: Tensor<Scalar>, gradient: Tensor<Scalar>
) -> Tensor<Scalar> {
    precondition(
        logits.shape == labels.shape && logits.rank >= 1 && gradient.shape == Array(logits.shape.dropLast()),
        "softmaxCrossEntropyBackward: logits shape \(logits.shape), labels shape \(labels.shape) and gradient shape \(gradient.shape) do not agree")
    let classes = logits.shape[logits.rank - 1]
    let rows = classes == 0 ? 0 : logits.count / classes
    return logits.withUnsafeBufferPointer { x in
        labels.withUnsafeBufferPointer { z in
            gradient.withUnsafeBufferPointer { g in
                Tensor.build(shape: logits.shape) { dx in
                    guard let x = x.baseAddress, let z = z.baseAddress, let g = g.baseAddress, classes > 0 else {
                        return
                    }
                    if Scalar.self == Float.self {
                        softmaxCEBackward(
                            UnsafePointer<Float>(OpaquePointer(x)), UnsafePointer<Float>(OpaquePointer(z)),
                            UnsafePointer<Float>(OpaquePointer(g)), UnsafeMutablePointer<Float>(OpaquePointer(dx)),
                            rows, classes)
                    } else if Scalar.self == Double.self {
                        softmaxCEBackward(
                            UnsafePointer<Double>(OpaquePointer(x)), UnsafePointer<Double>(OpaquePointer(z)),
                            UnsafePointer<Double>(OpaquePointer(g)), UnsafeMutablePointer<Double>(OpaquePointer(dx)),
                            rows, classes)
                    } else {
                        softmaxCEBackward(x, z, g, dx, rows, classes)
                    }
                }
            }
        }
    }
}

// MARK: - Kernels

private func sigmoidCEForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ z: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ count: Int
) {
    for i in 0..<count {
        let v = x[i]
        out[i] = Swift.max(v, 0) - v * z[i] + T.log1p(T.exp(-Swift.abs(v)))
    }
}

private func sigmoidCEBackward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ z: UnsafePointer<T>, _ g: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>, _ count: Int
) {
    for i in 0..<count {
        // sigmoid(v) without overflow: 1 / (1 + e^-v) for v >= 0, e^v / (1 + e^v) otherwise.
        let v = x[i]
        let e = T.exp(-Swift.abs(v))
        let s = v >= 0 ? 1 / (1 + e) : e / (1 + e)
        dx[i] = g[i] * (s - z[i])
    }
}

/// The row's maximum and `log(sum(exp(x - max)))`.
@inline(__always)
private func rowLogSumExp<T: TensorScalar>(_ x: UnsafePointer<T>, _ n: Int) -> (max: T, logSum: T) {
    var m = x[0]
    for i in 1..<n where x[i] > m { m = x[i] }
    var sum: T = 0
    for i in 0..<n { sum += T.exp(x[i] - m) }
    return (m, T.log(sum))
}

private func softmaxCEForward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ z: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ rows: Int, _ classes: Int
) {
    for r in 0..<rows {
        let xr = x + r * classes, zr = z + r * classes
        let (m, logSum) = rowLogSumExp(xr, classes)
        // -log softmax_i = (m - x_i) + logSum, summed against the labels.
        var loss: T = 0
        for i in 0..<classes { loss += zr[i] * ((m - xr[i]) + logSum) }
        out[r] = loss
    }
}

private func softmaxCEBackward<T: TensorScalar>(
    _ x: UnsafePointer<T>, _ z: UnsafePointer<T>, _ g: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>,
    _ rows: Int, _ classes: Int
) {
    for r in 0..<rows {
        let xr = x + r * classes, zr = z + r * classes, d = dx + r * classes
        let (m, logSum) = rowLogSumExp(xr, classes)
        var labelSum: T = 0
        for i in 0..<classes { labelSum += zr[i] }
        let gr = g[r]
        for i in 0..<classes { d[i] = gr * (T.exp((xr[i] - m) - logSum) * labelSum - zr[i]) }
    }
}
