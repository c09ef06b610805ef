// 2-D max, average and global average pooling over NHWC tensors, forward and backward.
//
// Every kernel walks output positions and, inside each window position, a contiguous row of
// `channels` elements (the innermost NHWC axis), so the inner loops are unit-stride and vectorize.
// The generic entry points dispatch once per call to kernels specialized for Float and Double.

/// The geometry of a 2-D pooling window sliding over an NHWC input `[N, H, W, C]`, with
/// Keras/TensorFlow padding rules.
///
/// Padded positions are never part of a result: for max pooling they never win, and average
/// pooling divides each window sum by the number of real (unpadded) elements in the window.
public struct Pool2DGeometry: Sendable, Equatable {
    /// Batch size `N`.
    public let batch: Int
    /// Input height `H`.
    public let height: Int
    /// Input width `W`.
    public let width: Int
    /// Channels `C`.
    public let channels: Int
    /// Window height.
    public let poolHeight: Int
    /// Window width.
    public let poolWidth: Int
    /// Vertical step between windows.
    public let strideHeight: Int
    /// Horizontal step between windows.
    public let strideWidth: Int
    /// The padding rule.
    public let padding: Padding
    /// Output height.
    public let outputHeight: Int
    /// Output width.
    public let outputWidth: Int
    /// Rows of padding above the input.
    public let padTop: Int
    /// Columns of padding left of the input.
    public let padLeft: Int

    /// The geometry of `poolSize` windows stepping by `strides` (the pool size when `nil`, as in
    /// Keras) over an input of `inputShape` `[N, H, W, C]`.
    public init(
        inputShape: [Int], poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding,
        operation: String = "pool2D"
    ) {
        precondition(inputShape.count == 4, "\(operation): input must be NHWC [N, H, W, C], got shape \(inputShape)")
        let strides = strides ?? poolSize
        precondition(
            poolSize.0 >= 1 && poolSize.1 >= 1 && strides.0 >= 1 && strides.1 >= 1,
            "\(operation): pool size \(poolSize) and strides \(strides) must be positive")
        batch = inputShape[0]
        height = inputShape[1]
        width = inputShape[2]
        channels = inputShape[3]
        (poolHeight, poolWidth) = poolSize
        (strideHeight, strideWidth) = strides
        self.padding = padding
        (outputHeight, padTop) = padding.outputSize(input: height, window: poolHeight, stride: strideHeight)
        (outputWidth, padLeft) = padding.outputSize(input: width, window: poolWidth, stride: strideWidth)
    }

    /// `[N, H, W, C]`.
    public var inputShape: [Int] { [batch, height, width, channels] }
    /// `[N, outputHeight, outputWidth, C]`.
    public var outputShape: [Int] { [batch, outputHeight, outputWidth, channels] }

    /// Whether this is the common 2x2 window at stride 2 with `.valid` padding (every window
    /// lies inside the input), which has a SIMD fast path.
    var isValid2x2Stride2: Bool {
        poolHeight == 2 && poolWidth == 2 && strideHeight == 2 && strideWidth == 2 && padding == .valid
    }

    /// The real input rows `h0 ..< h1` covered by the window of output row `oh`.
    @inline(__always)
    func rows(_ oh: Int) -> (Int, Int) {
        let start = oh * strideHeight - padTop
        return (Swift.max(start, 0), Swift.min(start + poolHeight, height))
    }

    /// The real input columns `w0 ..< w1` covered by the window of output column `ow`.
    @inline(__always)
    func columns(_ ow: Int) -> (Int, Int) {
        let start = ow * strideWidth - padLeft
        return (Swift.max(start, 0), Swift.min(start + poolWidth, width))
    }
}

extension Tensor {
    /// Max pooling over an NHWC tensor `[N, H, W, C]` (Keras `MaxPooling2D`).
    ///
    /// - Parameters:
    ///   - poolSize: window `(height, width)`.
    ///   - strides: step `(vertical, horizontal)`; the pool size when `nil`.
    ///   - padding: `.valid` or `.same`; padded positions never win.
    /// - Returns: `[N, outH, outW, C]`.
    public func maxPool2D(poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Tensor {
        maxPool2DWithIndices(poolSize: poolSize, strides: strides, padding: padding).output
    }

    /// Max pooling that also returns, for every output element, the flat index in this tensor of
    /// the input element it took (the first maximum in window order on ties; a NaN wins and
    /// propagates). ``maxPool2DBackward(gradient:indices:inputShape:)`` uses the indices.
    public func maxPool2DWithIndices(
        poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid
    ) -> (output: Tensor, indices: [Int32]) {
        let geometry = Pool2DGeometry(
            inputShape: shape, poolSize: poolSize, strides: strides, padding: padding, operation: "maxPool2D")
        precondition(count <= Int(Int32.max), "maxPool2D: input of shape \(shape) is too large for 32-bit indices")
        let outCount = geometry.outputShape.reduce(1, *)
        var indices = [Int32](repeating: 0, count: outCount)
        let output = withUnsafeBufferPointer { input in
            indices.withUnsafeMutableBufferPointer { idx in
                // Every output element is written (each window holds at least one real element).
                Tensor.buildUninitialized(shape: geometry.outputShape) { out in
                    guard let x = input.baseAddress, let ix = idx.baseAddress else { return }
                    if Scalar.self == Float.self {
                        let xf = UnsafePointer<Float>(OpaquePointer(x)), of = UnsafeMutablePointer<Float>(OpaquePointer(out))
                        if geometry.isValid2x2Stride2 {
                            maxPool2x2Stride2Forward(geometry, xf, of, ix)
                        } else {
                            maxPoolForward(geometry, xf, of, ix)
                        }
                    } else if Scalar.self == Double.self {
                        maxPoolForward(geometry, UnsafePointer<Double>(OpaquePointer(x)),
                                       UnsafeMutablePointer<Double>(OpaquePointer(out)), ix)
                    } else {
                        maxPoolForward(geometry, x, out, ix)
                    }
                }
            }
        }
        return (output, indices)
    }

    /// The gradient of max pooling with respect to its input: each element of `gradient`
    /// (shape `[N, outH, outW, C]`) is added at the input position `indices` recorded by
    /// ``maxPool2DWithIndices(poolSize:strides:padding:)``; every other position gets zero.
    public static func maxPool2DBackward(gradient: Tensor, indices: [Int32], inputShape: [Int]) -> Tensor {
        precondition(
            gradient.count == indices.count,
            "maxPool2DBackward: gradient of shape \(gradient.shape) has \(gradient.count) elements but there are \(indices.count) indices")
        return gradient.withUnsafeBufferPointer { g in
            indices.withUnsafeBufferPointer { idx in
                Tensor.build(shape: inputShape) { dx in
                    guard let g = g.baseAddress, let ix = idx.baseAddress else { return }
                    if Scalar.self == Float.self {
                        maxPoolBackward(UnsafePointer<Float>(OpaquePointer(g)), ix,
                                        UnsafeMutablePointer<Float>(OpaquePointer(dx)), indices.count)
                    } else if Scalar.self == Double.self {
                        maxPoolBackward(UnsafePointer<Double>(OpaquePointer(g)), ix,
                                        UnsafeMutablePointer<Double>(OpaquePointer(dx)), indices.count)
                    } else {
                        maxPoolBackward(g, ix, dx, indices.count)
                    }
                }
            }
        }
    }

    /// Average pooling over an NHWC tensor `[N, H, W, C]` (Keras `AveragePooling2D`).
    ///
    /// With `.same` padding each window's sum is divided by the number of real input elements
    /// it covers, not the window size, as in Keras and TensorFlow.
    /// - Returns: `[N, outH, outW, C]`.
    public func avgPool2D(poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Tensor {
        let geometry = Pool2DGeometry(
            inputShape: shape, poolSize: poolSize, strides: strides, padding: padding, operation: "avgPool2D")
        return withUnsafeBufferPointer { input in
            Tensor.build(shape: geometry.outputShape) { out in
                guard let x = input.baseAddress else { return }
                if Scalar.self == Float.self {
                    avgPoolForward(geometry, UnsafePointer<Float>(OpaquePointer(x)),
                                   UnsafeMutablePointer<Float>(OpaquePointer(out)))
                } else if Scalar.self == Double.self {
                    avgPoolForward(geometry, UnsafePointer<Double>(OpaquePointer(x)),
                                   UnsafeMutablePointer<Double>(OpaquePointer(out)))
                } else {
                    avgPoolForward(geometry, x, out)
                }
            }
        }
    }

    /// The gradient of ``avgPool2D(poolSize:strides:padding:)`` with respect to its input of
    /// `inputShape`: each output gradient is spread evenly over the real elements of its window.
    public static func avgPool2DBackward(
        gradient: Tensor, inputShape: [Int], poolSize: (Int, Int), strides: (Int, Int)? = nil,
        padding: Padding = .valid
    ) -> Tensor {
        let geometry = Pool2DGeometry(
            inputShape: inputShape, poolSize: poolSize, strides: strides, padding: padding,
            operation: "avgPool2DBackward")
        precondition(
            gradient.shape == geometry.outputShape,
            "avgPool2DBackward: gradient shape \(gradient.shape) differs from the output shape \(geometry.outputShape)")
        return gradient.withUnsafeBufferPointer { g in
            Tensor.build(shape: inputShape) { dx in
                guard let g = g.baseAddress else { return }
                if Scalar.self == Float.self {
                    avgPoolBackward(geometry, UnsafePointer<Float>(OpaquePointer(g)),
                                    UnsafeMutablePointer<Float>(OpaquePointer(dx)))
                } else if Scalar.self == Double.self {
                    avgPoolBackward(geometry, UnsafePointer<Double>(OpaquePointer(g)),
                                    UnsafeMutablePointer<Double>(OpaquePointer(dx)))
                } else {
                    avgPoolBackward(geometry, g, dx)
                }
            }
        }
    }

    /// Global average pooling `[N, H, W, C] -> [N, C]`: the mean over the spatial axes
    /// (Keras `GlobalAveragePooling2D`).
    public func globalAveragePool2D() -> Tensor {
        precondition(rank == 4, "globalAveragePool2D: input must be NHWC [N, H, W, C], got shape \(shape)")
        let (n, spatial, c) = (shape[0], shape[1] * shape[2], shape[3])
        precondition(spatial > 0, "globalAveragePool2D: empty spatial extent in shape \(shape)")
        let scale = 1 / Scalar(spatial)
        return withUnsafeBufferPointer { input in
            Tensor.build(shape: [n, c]) { out in
                guard let x = input.baseAddress else { return }
                for b in 0..<n {
                    let o = out + b * c
                    for s in 0..<spatial {
                        Scalar.accumulate(.sum, o, x + (b * spatial + s) * c, c)
                    }
                    Scalar.applyUnary(.affine(scale: scale, shift: 0), o, o, c)
                }
            }
        }
    }

    /// The gradient of ``globalAveragePool2D()`` with respect to its input of `inputShape`
    /// `[N, H, W, C]`: `gradient[n, c] / (H * W)` at every spatial position.
    public static func globalAveragePool2DBackward(gradient: Tensor, inputShape: [Int]) -> Tensor {
        precondition(
            inputShape.count == 4 && gradient.shape == [inputShape[0], inputShape[3]],
            "globalAveragePool2DBackward: gradient shape \(gradient.shape) does not match input shape \(inputShape)")
        let (n, spatial, c) = (inputShape[0], inputShape[1] * inputShape[2], inputShape[3])
        let scale = 1 / Scalar(Swift.max(spatial, 1))
        return gradient.withUnsafeBufferPointer { g in
            Tensor.build(shape: inputShape) { dx in
                guard let g = g.baseAddress, spatial > 0 else { return }
                for b in 0..<n {
                    let first = dx + b * spatial * c
                    Scalar.applyUnary(.affine(scale: scale, shift: 0), g + b * c, first, c)
                    for s in 1..<spatial {
                        Scalar.copy(count: c, first, 1, first + s * c, 1)
                    }
                }
            }
        }
    }
}

// MARK: - Kernels (specialized for Float and Double through the dispatch above)

private func maxPoolForward<T: BinaryFloatingPoint>(
    _ g: Pool2DGeometry, _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ idx: UnsafeMutablePointer<Int32>
) {
    let c = g.channels
    guard c > 0 else { return }
    for n in 0..<g.batch {
        for oh in 0..<g.outputHeight {
            let (h0, h1) = g.rows(oh)
            for ow in 0..<g.outputWidth {
                let (w0, w1) = g.columns(ow)
                let offset = ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                let o = out + offset, ix = idx + offset
                // Every window (valid or same) holds at least one real element: start from it.
                let first = ((n * g.height + h0) * g.width + w0) * c
                for k in 0..<c {
                    o[k] = x[first + k]
                    ix[k] = Int32(first + k)
                }
                for h in h0..<h1 {
                    for w in w0..<w1 where h != h0 || w != w0 {
                        let base = ((n * g.height + h) * g.width + w) * c
                        let p = x + base
                        for k in 0..<c {
                            let v = p[k]
                            if v > o[k] || v.isNaN {
                                o[k] = v
                                ix[k] = Int32(base + k)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Max pooling with a 2x2 window at stride 2 and `.valid` padding, 8 channels at a time: the
/// four window elements are compared as SIMD vectors in window order with the rule of
/// `maxPoolForward` (a strictly larger value or a NaN takes over, so ties keep the first maximum
/// and a NaN propagates), then a scalar loop finishes the last `C % 8` channels.
private func maxPool2x2Stride2Forward(
    _ g: Pool2DGeometry, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ idx: UnsafeMutablePointer<Int32>
) {
    let c = g.channels
    guard c > 0 else { return }
    let rowStride = g.width * c
    let vectorChannels = c & ~7
    let lane = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    var o = out, ix = idx
    for n in 0..<g.batch {
        for oh in 0..<g.outputHeight {
            let rowBase = ((n * g.height + 2 * oh) * g.width) * c
            for ow in 0..<g.outputWidth {
                // Flat input offsets of the window's four elements, in window order.
                let b0 = rowBase + 2 * ow * c, b1 = b0 + c, b2 = b0 + rowStride, b3 = b2 + c
                var k = 0
                while k < vectorChannels {
                    var best = UnsafeRawPointer(x + b0 + k).loadUnaligned(as: SIMD8<Float>.self)
                    var at = SIMD8<Int32>(repeating: Int32(b0 + k)) &+ lane
                    @inline(__always) func consider(_ base: Int) {
                        let v = UnsafeRawPointer(x + base + k).loadUnaligned(as: SIMD8<Float>.self)
                        let takes = (v .> best) .| (v .!= v)
                        best.replace(with: v, where: takes)
                        at.replace(with: SIMD8<Int32>(repeating: Int32(base + k)) &+ lane, where: takes)
                    }
                    consider(b1)
                    consider(b2)
                    consider(b3)
                    UnsafeMutableRawPointer(o + k).storeBytes(of: best, as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(ix + k).storeBytes(of: at, as: SIMD8<Int32>.self)
                    k += 8
                }
                while k < c {
                    var best = x[b0 + k], at = b0 + k
                    @inline(__always) func consider(_ base: Int) {
                        let v = x[base + k]
                        if v > best || v.isNaN {
                            best = v
                            at = base + k
                        }
                    }
                    consider(b1)
                    consider(b2)
                    consider(b3)
                    o[k] = best
                    ix[k] = Int32(at)
                    k += 1
                }
                o += c
                ix += c
            }
        }
    }
}

private func maxPoolBackward<T: BinaryFloatingPoint>(
    _ g: UnsafePointer<T>, _ idx: UnsafePointer<Int32>, _ dx: UnsafeMutablePointer<T>, _ count: Int
) {
    for i in 0..<count {
        dx[Int(idx[i])] += g[i]
    }
}

private func avgPoolForward<T: BinaryFloatingPoint>(
    _ g: Pool2DGeometry, _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>
) {
    let c = g.channels
    for n in 0..<g.batch {
        for oh in 0..<g.outputHeight {
            let (h0, h1) = g.rows(oh)
            for ow in 0..<g.outputWidth {
                let (w0, w1) = g.columns(ow)
                let o = out + ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                for h in h0..<h1 {
                    for w in w0..<w1 {
                        let p = x + ((n * g.height + h) * g.width + w) * c
                        for k in 0..<c { o[k] += p[k] }
                    }
                }
                let scale = 1 / T((h1 - h0) * (w1 - w0))
                for k in 0..<c { o[k] *= scale }
            }
        }
    }
}

private func avgPoolBackward<T: BinaryFloatingPoint>(
    _ g: Pool2DGeometry, _ grad: UnsafePointer<T>, _ dx: UnsafeMutablePointer<T>
) {
    let c = g.channels
    for n in 0..<g.batch {
        for oh in 0..<g.outputHeight {
            let (h0, h1) = g.rows(oh)
            for ow in 0..<g.outputWidth {
                let (w0, w1) = g.columns(ow)
                let gr = grad + ((n * g.outputHeight + oh) * g.outputWidth + ow) * c
                let scale = 1 / T((h1 - h0) * (w1 - w0))
                for h in h0..<h1 {
                    for w in w0..<w1 {
                        let d = dx + ((n * g.height + h) * g.width + w) * c
                        for k in 0..<c { d[k] += gr[k] * scale }
                    }
                }
            }
        }
    }
}
