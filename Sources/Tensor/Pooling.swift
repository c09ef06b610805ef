import CKernels

// 2-D max, average and global average pooling over NHWC tensors, forward and backward.
//
// Every kernel walks output positions and, inside each window position, a contiguous row of
// `channels` elements (the innermost NHWC axis), so the inner loops are unit-stride and vectorize.
// The generic entry points dispatch once per call to kernels specialized for Float and Double;
// Float max pooling runs the C kernels of `CKernels` (AVX-512 / AVX2 clones), split across cores.

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

    /// The number of output elements.
    public var outputCount: Int { batch * outputHeight * outputWidth * channels }

    /// Whether `shape` is ``outputShape`` (compared element by element, without building an array).
    func isOutputShape(_ shape: [Int]) -> Bool {
        shape.count == 4 && shape[0] == batch && shape[1] == outputHeight && shape[2] == outputWidth
            && shape[3] == channels
    }

    /// Whether no input element lies in two windows (strides at least the pool size).
    var windowsAreDisjoint: Bool { strideHeight >= poolHeight && strideWidth >= poolWidth }

    /// The geometry in the layout of the C kernels.
    var kernelGeometry: ck_pool2d_geometry {
        ck_pool2d_geometry(
            batch: batch, height: height, width: width, channels: channels, pool_h: poolHeight, pool_w: poolWidth,
            stride_h: strideHeight, stride_w: strideWidth, pad_top: padTop, pad_left: padLeft,
            out_h: outputHeight, out_w: outputWidth)
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
        guard Scalar.self == Float.self else {
            return maxPool2DWithIndices(poolSize: poolSize, strides: strides, padding: padding).output
        }
        // Float: the C kernel without the index bookkeeping (inference needs no indices).
        let geometry = Pool2DGeometry(
            inputShape: shape, poolSize: poolSize, strides: strides, padding: padding, operation: "maxPool2D")
        return withUnsafeBufferPointer { input in
            Tensor.buildUninitialized(shape: geometry.outputShape) { out in
                guard let x = input.baseAddress else { return }
                PoolingKernels.maxPool(
                    geometry, UnsafePointer<Float>(OpaquePointer(x)), UnsafeMutablePointer<Float>(OpaquePointer(out)), nil)
            }
        }
    }

    /// Max pooling that also returns, for every output element, the flat index in this tensor of
    /// the input element it took (the first maximum in window order on ties; a NaN wins and
    /// propagates). ``maxPool2DBackward(gradient:indices:inputShape:)`` uses the indices.
    public func maxPool2DWithIndices(
        poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid
    ) -> (output: Tensor, indices: [Int32]) {
        let geometry = Pool2DGeometry(
            inputShape: shape, poolSize: poolSize, strides: strides, padding: padding, operation: "maxPool2D")
        // Every element and index is written by the call below.
        var output = Tensor.uninitialized(geometry.outputShape)
        var indices = [Int32](unsafeUninitializedCapacity: geometry.outputCount) { _, n in n = geometry.outputCount }
        maxPool2DWithIndices(poolSize: poolSize, strides: strides, padding: padding, into: &output, indices: &indices)
        return (output, indices)
    }

    /// ``maxPool2DWithIndices(poolSize:strides:padding:)`` into caller-owned storage, without
    /// allocating: `output` must have the output shape `[N, outH, outW, C]` and `indices` one
    /// element per output element. Every element of both is overwritten (the previous contents
    /// are never read); the values and indices are bitwise those of the allocating version.
    package func maxPool2DWithIndices(
        poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid,
        into output: inout Tensor, indices: inout [Int32]
    ) {
        let geometry = Pool2DGeometry(
            inputShape: shape, poolSize: poolSize, strides: strides, padding: padding, operation: "maxPool2D")
        precondition(count <= Int(Int32.max), "maxPool2D: input of shape \(shape) is too large for 32-bit indices")
        precondition(
            geometry.isOutputShape(output.shape) && indices.count == output.count,
            "maxPool2D: output of shape \(output.shape) with \(indices.count) indices, expected shape \(geometry.outputShape)")
        withUnsafeBufferPointer { input in
            indices.withUnsafeMutableBufferPointer { idx in
                // Every output element is written (each window holds at least one real element).
                output.withUnsafeMutableBufferPointer { o in
                    guard let x = input.baseAddress, let ix = idx.baseAddress, let out = o.baseAddress else { return }
                    if Scalar.self == Float.self {
                        PoolingKernels.maxPool(
                            geometry, UnsafePointer<Float>(OpaquePointer(x)), UnsafeMutablePointer<Float>(OpaquePointer(out)), ix)
                    } else if Scalar.self == Double.self {
                        maxPoolForward(geometry, UnsafePointer<Double>(OpaquePointer(x)),
                                       UnsafeMutablePointer<Double>(OpaquePointer(out)), ix)
                    } else {
                        maxPoolForward(geometry, x, out, ix)
                    }
                }
            }
        }
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
                if Scalar.self == Float.self, inputShape.count == 4, gradient.rank == 4, gradient.shape[0] == inputShape[0] {
                    // Float: image by image in parallel (the indices of an image's outputs point
                    // into the same image), each image zeroed by the thread that scatters into it.
                    return Tensor.buildUninitialized(shape: inputShape) { dx in
                        PoolingKernels.scatterAdd(
                            g.baseAddress.map { UnsafePointer<Float>(OpaquePointer($0)) }, idx.baseAddress,
                            UnsafeMutablePointer<Float>(OpaquePointer(dx)), images: inputShape[0],
                            inputPerImage: inputShape[1...].reduce(1, *), outputPerImage: gradient.shape[1...].reduce(1, *))
                    }
                }
                return Tensor.build(shape: inputShape) { dx in
                    guard let g = g.baseAddress, let ix = idx.baseAddress else { return }
                    if Scalar.self == Double.self {
                        maxPoolBackwardScatter(UnsafePointer<Double>(OpaquePointer(g)), ix,
                                               UnsafeMutablePointer<Double>(OpaquePointer(dx)), indices.count)
                    } else {
                        maxPoolBackwardScatter(g, ix, dx, indices.count)
                    }
                }
            }
        }
    }

    /// The gradient of max pooling with the window geometry known: the same result as
    /// ``maxPool2DBackward(gradient:indices:inputShape:)``. For Float and windows that do not
    /// overlap (strides at least the pool size, the usual 2x2 pooling) it writes every input
    /// element once (the gradient where the index names it, else 0) instead of zero-filling and
    /// scattering.
    public static func maxPool2DBackward(
        gradient: Tensor, indices: [Int32], inputShape: [Int], poolSize: (Int, Int), strides: (Int, Int)? = nil,
        padding: Padding = .valid
    ) -> Tensor {
        let geometry = Pool2DGeometry(
            inputShape: inputShape, poolSize: poolSize, strides: strides, padding: padding,
            operation: "maxPool2DBackward")
        precondition(
            gradient.shape == geometry.outputShape && indices.count == gradient.count,
            "maxPool2DBackward: gradient shape \(gradient.shape) (with \(indices.count) indices) differs from the output shape \(geometry.outputShape)")
        var dx = Tensor.uninitialized(inputShape)
        maxPool2DBackward(
            gradient: gradient, indices: indices, poolSize: poolSize, strides: strides, padding: padding, into: &dx)
        return dx
    }

    /// ``maxPool2DBackward(gradient:indices:inputShape:poolSize:strides:padding:)`` into the
    /// caller-owned `inputGradient`, whose shape is the input shape `[N, H, W, C]`, without
    /// allocating. `gradient` has the output shape and `indices` are those of
    /// ``maxPool2DWithIndices(poolSize:strides:padding:into:indices:)``. Every element of
    /// `inputGradient` is overwritten (not accumulated into).
    package static func maxPool2DBackward(
        gradient: Tensor, indices: [Int32], poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid,
        into inputGradient: inout Tensor
    ) {
        let geometry = Pool2DGeometry(
            inputShape: inputGradient.shape, poolSize: poolSize, strides: strides, padding: padding,
            operation: "maxPool2DBackward")
        precondition(
            geometry.isOutputShape(gradient.shape) && indices.count == gradient.count,
            "maxPool2DBackward: gradient shape \(gradient.shape) (with \(indices.count) indices) differs from the output shape \(geometry.outputShape)")
        gradient.withUnsafeBufferPointer { g in
            indices.withUnsafeBufferPointer { idx in
                inputGradient.withUnsafeMutableBufferPointer { d in
                    guard let dx = d.baseAddress else { return }
                    maxPoolBackward(geometry, g.baseAddress, idx.baseAddress, dx)
                }
            }
        }
    }

    /// Writes the max-pooling input gradient of `geometry` at `dx` (all of its elements) from the
    /// output gradient `grad` and winner `indices` (`nil` when there are no output elements).
    static func maxPoolBackward(
        _ geometry: Pool2DGeometry, _ grad: UnsafePointer<Scalar>?, _ indices: UnsafePointer<Int32>?,
        _ dx: UnsafeMutablePointer<Scalar>
    ) {
        let inputCount = geometry.batch * geometry.height * geometry.width * geometry.channels
        if Scalar.self == Float.self {
            let d = UnsafeMutablePointer<Float>(OpaquePointer(dx))
            if geometry.windowsAreDisjoint, let grad, let indices {
                // Every input element written once: the gradient where the index names it, else 0.
                PoolingKernels.maxPoolBackwardDisjoint(geometry, UnsafePointer<Float>(OpaquePointer(grad)), indices, d)
            } else {
                // Image by image in parallel (the indices of an image's outputs point into the same
                // image), each image zeroed by the thread that scatters into it.
                PoolingKernels.scatterAdd(
                    grad.map { UnsafePointer<Float>(OpaquePointer($0)) }, indices, d, images: geometry.batch,
                    inputPerImage: geometry.height * geometry.width * geometry.channels,
                    outputPerImage: geometry.outputHeight * geometry.outputWidth * geometry.channels)
            }
            return
        }
        zeroFill(dx, count: inputCount)
        guard let grad, let indices else { return }
        if Scalar.self == Double.self {
            maxPoolBackwardScatter(UnsafePointer<Double>(OpaquePointer(grad)), indices,
                                   UnsafeMutablePointer<Double>(OpaquePointer(dx)), geometry.outputCount)
        } else {
            maxPoolBackwardScatter(grad, indices, dx, geometry.outputCount)
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
        var output = Tensor.uninitialized([shape[0], shape[3]])
        globalAveragePool2D(into: &output)
        return output
    }

    /// ``globalAveragePool2D()`` into the caller-owned `output`, of shape `[N, C]` or
    /// `[N, 1, 1, C]`, without allocating; every element is overwritten.
    package func globalAveragePool2D(into output: inout Tensor) {
        precondition(rank == 4, "globalAveragePool2D: input must be NHWC [N, H, W, C], got shape \(shape)")
        let (n, spatial, c) = (shape[0], shape[1] * shape[2], shape[3])
        precondition(spatial > 0, "globalAveragePool2D: empty spatial extent in shape \(shape)")
        precondition(
            Self.isPooledShape(output.shape, batch: n, channels: c),
            "globalAveragePool2D: output shape \(output.shape) is neither [N, C] nor [N, 1, 1, C] for input shape \(shape)")
        let scale = 1 / Scalar(spatial)
        withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { o in
                guard let out = o.baseAddress else { return }
                zeroFill(out, count: n * c)
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

    /// Whether `shape` is `[batch, channels]` or `[batch, 1, 1, channels]` (without building an array).
    private static func isPooledShape(_ shape: [Int], batch: Int, channels: Int) -> Bool {
        (shape.count == 2 || (shape.count == 4 && shape[1] == 1 && shape[2] == 1))
            && shape[0] == batch && shape[shape.count - 1] == channels
    }

    /// The gradient of ``globalAveragePool2D()`` with respect to its input of `inputShape`
    /// `[N, H, W, C]`: `gradient[n, c] / (H * W)` at every spatial position.
    public static func globalAveragePool2DBackward(gradient: Tensor, inputShape: [Int]) -> Tensor {
        precondition(
            inputShape.count == 4 && gradient.shape == [inputShape[0], inputShape[3]],
            "globalAveragePool2DBackward: gradient shape \(gradient.shape) does not match input shape \(inputShape)")
        var dx = Tensor.uninitialized(inputShape)
        globalAveragePool2DBackward(gradient: gradient, into: &dx)
        return dx
    }

    /// ``globalAveragePool2DBackward(gradient:inputShape:)`` into the caller-owned
    /// `inputGradient` of the input shape `[N, H, W, C]`, without allocating; `gradient` is
    /// `[N, C]` or `[N, 1, 1, C]`. Every element of `inputGradient` is overwritten.
    package static func globalAveragePool2DBackward(gradient: Tensor, into inputGradient: inout Tensor) {
        let inputShape = inputGradient.shape
        precondition(
            inputShape.count == 4 && isPooledShape(gradient.shape, batch: inputShape[0], channels: inputShape[3]),
            "globalAveragePool2DBackward: gradient shape \(gradient.shape) does not match input shape \(inputShape)")
        let (n, spatial, c) = (inputShape[0], inputShape[1] * inputShape[2], inputShape[3])
        let scale = 1 / Scalar(Swift.max(spatial, 1))
        gradient.withUnsafeBufferPointer { g in
            inputGradient.withUnsafeMutableBufferPointer { d in
                guard let g = g.baseAddress, let dx = d.baseAddress, spatial > 0 else { return }
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

extension Tensor where Scalar == Float {
    /// Max pooling of `droppingOut(mask)` without materializing the dropout output: the same
    /// values (and, `withIndices`, the same indices) as ``maxPool2DWithIndices(poolSize:strides:padding:)``
    /// of it. The last axis (channels) must have an even size (pairs of elements share a hash).
    package func maxPool2DOfDropout(
        _ mask: DropoutMask, poolSize: (Int, Int), strides: (Int, Int)?, padding: Padding, withIndices: Bool
    ) -> (output: Tensor, indices: [Int32]?) {
        let geometry = Pool2DGeometry(
            inputShape: shape, poolSize: poolSize, strides: strides, padding: padding, operation: "maxPool2D")
        // Every element (and index) is written by the calls below.
        var output = Tensor.uninitialized(geometry.outputShape)
        guard withIndices else {
            precondition(geometry.channels % 2 == 0, "maxPool2DOfDropout: the channel count of shape \(shape) is odd")
            withUnsafeBufferPointer { input in
                output.withUnsafeMutableBufferPointer { o in
                    guard let x = input.baseAddress, let out = o.baseAddress else { return }
                    PoolingKernels.maxPool(geometry, x, out, nil, dropout: mask)
                }
            }
            return (output, nil)
        }
        var indices = [Int32](unsafeUninitializedCapacity: geometry.outputCount) { _, n in n = geometry.outputCount }
        maxPool2DOfDropout(mask, poolSize: poolSize, strides: strides, padding: padding, into: &output, indices: &indices)
        return (output, indices)
    }

    /// ``maxPool2DOfDropout(_:poolSize:strides:padding:withIndices:)`` with indices, into
    /// caller-owned storage without allocating: `output` has the output shape `[N, outH, outW, C]`
    /// and `indices` one element per output element; both are overwritten entirely. The channel
    /// count must be even.
    package func maxPool2DOfDropout(
        _ mask: DropoutMask, poolSize: (Int, Int), strides: (Int, Int)?, padding: Padding,
        into output: inout Tensor, indices: inout [Int32]
    ) {
        let geometry = Pool2DGeometry(
            inputShape: shape, poolSize: poolSize, strides: strides, padding: padding, operation: "maxPool2D")
        precondition(geometry.channels % 2 == 0, "maxPool2DOfDropout: the channel count of shape \(shape) is odd")
        precondition(count <= Int(Int32.max), "maxPool2D: input of shape \(shape) is too large for 32-bit indices")
        precondition(
            geometry.isOutputShape(output.shape) && indices.count == output.count,
            "maxPool2DOfDropout: output of shape \(output.shape) with \(indices.count) indices, expected shape \(geometry.outputShape)")
        withUnsafeBufferPointer { input in
            indices.withUnsafeMutableBufferPointer { idx in
                output.withUnsafeMutableBufferPointer { o in
                    guard let x = input.baseAddress, let out = o.baseAddress else { return }
                    PoolingKernels.maxPool(geometry, x, out, idx.baseAddress, dropout: mask)
                }
            }
        }
    }

    /// The gradient with respect to the input of ``maxPool2DOfDropout(_:poolSize:strides:padding:withIndices:)``:
    /// the max-pooling gradient times the dropout mask, in one pass for windows that do not overlap.
    package static func maxPool2DOfDropoutBackward(
        gradient: Tensor, indices: [Int32], inputShape: [Int], poolSize: (Int, Int), strides: (Int, Int)?,
        padding: Padding, mask: DropoutMask
    ) -> Tensor {
        var dx = Tensor.uninitialized(inputShape)
        maxPool2DOfDropoutBackward(
            gradient: gradient, indices: indices, poolSize: poolSize, strides: strides, padding: padding, mask: mask,
            into: &dx)
        return dx
    }

    /// ``maxPool2DOfDropoutBackward(gradient:indices:inputShape:poolSize:strides:padding:mask:)``
    /// into the caller-owned `inputGradient` of the input shape `[N, H, W, C]` (even `C`), without
    /// allocating (overlapping windows take a scratch buffer of the input size). Every element of
    /// `inputGradient` is overwritten.
    package static func maxPool2DOfDropoutBackward(
        gradient: Tensor, indices: [Int32], poolSize: (Int, Int), strides: (Int, Int)?, padding: Padding,
        mask: DropoutMask, into inputGradient: inout Tensor
    ) {
        let geometry = Pool2DGeometry(
            inputShape: inputGradient.shape, poolSize: poolSize, strides: strides, padding: padding,
            operation: "maxPool2DBackward")
        precondition(
            geometry.isOutputShape(gradient.shape) && indices.count == gradient.count && geometry.channels % 2 == 0,
            "maxPool2DOfDropoutBackward: gradient shape \(gradient.shape) (with \(indices.count) indices) differs from the output shape \(geometry.outputShape) or the channel count is odd")
        gradient.withUnsafeBufferPointer { g in
            indices.withUnsafeBufferPointer { idx in
                inputGradient.withUnsafeMutableBufferPointer { d in
                    guard let dx = d.baseAddress else { return }
                    if geometry.windowsAreDisjoint, let gp = g.baseAddress, let ip = idx.baseAddress {
                        PoolingKernels.maxPoolBackwardDisjoint(geometry, gp, ip, dx, dropout: mask)
                        return
                    }
                    // Overlapping windows: the max-pooling gradient, then the mask.
                    withScratchBuffer(count: d.count) { (pooled: UnsafeMutablePointer<Float>) in
                        maxPoolBackward(geometry, g.baseAddress, idx.baseAddress, pooled)
                        mask.apply(UnsafePointer(pooled), dx, count: d.count)
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

private func maxPoolBackwardScatter<T: BinaryFloatingPoint>(
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

/// The Float max-pooling kernels of `CKernels`, split across cores.
enum PoolingKernels {
    /// Output (or input) elements per thread below which a loop runs on one thread.
    static let elementsPerThread = 1 << 15

    /// Max pooling of every output row, with indices when `indices` is not `nil`.
    static func maxPool(
        _ geometry: Pool2DGeometry, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        _ indices: UnsafeMutablePointer<Int32>?, dropout: DropoutMask? = nil
    ) {
        withOptionalPointer(to: dropout?.kernelMask) { mask in
            forEachRowRange(geometry, rows: geometry.batch * geometry.outputHeight,
                            rowElements: geometry.outputWidth * geometry.channels) { g in
                MaxPoolLoop(x: UncheckedSendable(x), out: UncheckedSendable(out), indices: UncheckedSendable(indices),
                            geometry: UncheckedSendable(g), mask: UncheckedSendable(mask))
            }
        }
    }

    /// The disjoint-window backward pass over every input row (writes all of `dx`).
    static func maxPoolBackwardDisjoint(
        _ geometry: Pool2DGeometry, _ grad: UnsafePointer<Float>, _ indices: UnsafePointer<Int32>,
        _ dx: UnsafeMutablePointer<Float>, dropout: DropoutMask? = nil
    ) {
        withOptionalPointer(to: dropout?.kernelMask) { mask in
            forEachRowRange(geometry, rows: geometry.batch * geometry.height, rowElements: geometry.width * geometry.channels) { g in
                MaxPoolBackwardDisjointLoop(
                    grad: UncheckedSendable(grad), indices: UncheckedSendable(indices), dx: UncheckedSendable(dx),
                    geometry: UncheckedSendable(g), mask: UncheckedSendable(mask))
            }
        }
    }

    /// Calls `body` with a pointer to `value`, or `nil`.
    private static func withOptionalPointer<T, R>(to value: T?, _ body: (UnsafePointer<T>?) -> R) -> R {
        guard let value else { return body(nil) }
        return withUnsafePointer(to: value) { body($0) }
    }

    /// Runs the loop body `makeBody` makes from a pointer to the kernel geometry on ranges of
    /// `rows` rows of `rowElements` elements, in parallel.
    private static func forEachRowRange<Body: ParallelLoopBody>(
        _ geometry: Pool2DGeometry, rows: Int, rowElements: Int,
        _ makeBody: (UnsafePointer<ck_pool2d_geometry>) -> Body
    ) {
        withUnsafePointer(to: geometry.kernelGeometry) { g in
            Parallel.forEachRange(
                rows, minimumPerThread: Swift.max(1, elementsPerThread / Swift.max(1, rowElements)), makeBody(g))
        }
    }

    /// Zero-fills `dx` and adds every gradient at its index, image by image in parallel.
    static func scatterAdd(
        _ grad: UnsafePointer<Float>?, _ indices: UnsafePointer<Int32>?, _ dx: UnsafeMutablePointer<Float>,
        images: Int, inputPerImage: Int, outputPerImage: Int
    ) {
        let perThread = Swift.max(1, elementsPerThread / Swift.max(1, inputPerImage))
        Parallel.forEachRange(images, minimumPerThread: perThread, ScatterAddLoop(
            grad: UncheckedSendable(grad), indices: UncheckedSendable(indices), dx: UncheckedSendable(dx),
            inputPerImage: inputPerImage, outputPerImage: outputPerImage))
    }
}

/// ``PoolingKernels/maxPool(_:_:_:_:dropout:)``'s loop body: the C kernel on a range of output rows.
private struct MaxPoolLoop: ParallelLoopBody {
    let x: UncheckedSendable<UnsafePointer<Float>>
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>
    let indices: UncheckedSendable<UnsafeMutablePointer<Int32>?>
    let geometry: UncheckedSendable<UnsafePointer<ck_pool2d_geometry>>
    let mask: UncheckedSendable<UnsafePointer<ck_dropout_mask>?>

    func callAsFunction(_ range: Range<Int>) {
        ck_max_pool2d_f32(x.value, out.value, indices.value, geometry.value, mask.value, range.lowerBound, range.count)
    }
}

/// ``PoolingKernels/maxPoolBackwardDisjoint(_:_:_:_:dropout:)``'s loop body: the C kernel on a
/// range of input rows.
private struct MaxPoolBackwardDisjointLoop: ParallelLoopBody {
    let grad: UncheckedSendable<UnsafePointer<Float>>
    let indices: UncheckedSendable<UnsafePointer<Int32>>
    let dx: UncheckedSendable<UnsafeMutablePointer<Float>>
    let geometry: UncheckedSendable<UnsafePointer<ck_pool2d_geometry>>
    let mask: UncheckedSendable<UnsafePointer<ck_dropout_mask>?>

    func callAsFunction(_ range: Range<Int>) {
        ck_max_pool2d_backward_disjoint_f32(
            grad.value, indices.value, dx.value, geometry.value, mask.value, range.lowerBound, range.count)
    }
}

/// ``PoolingKernels/scatterAdd(_:_:_:images:inputPerImage:outputPerImage:)``'s loop body: zero-fills
/// a range of images of `dx` and adds their gradients.
private struct ScatterAddLoop: ParallelLoopBody {
    let grad: UncheckedSendable<UnsafePointer<Float>?>
    let indices: UncheckedSendable<UnsafePointer<Int32>?>
    let dx: UncheckedSendable<UnsafeMutablePointer<Float>>
    let inputPerImage, outputPerImage: Int

    func callAsFunction(_ range: Range<Int>) {
        zeroFill(dx.value + range.lowerBound * inputPerImage, count: range.count * inputPerImage)
        guard let g = grad.value, let ix = indices.value else { return }
        let first = range.lowerBound * outputPerImage
        ck_scatter_add_f32(g + first, ix + first, dx.value, range.count * outputPerImage)
    }
}
