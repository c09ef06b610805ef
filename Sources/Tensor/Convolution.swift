// 2-D convolution (regular and depthwise), forward and backward, in Keras channels_last layouts.
//
// Regular convolution runs as im2col + one BLAS ?gemm per ~2 MiB chunk of rows (see Im2col.swift),
// except 3x3 stride-1 convolutions with at least 16 input and output channels, whose forward pass,
// input gradient and (Float) filter gradient run as Winograd F(4x4, 3x3) (see Winograd.swift); in
// Float, the forward pass and the filter gradient where they are not Winograd, and the input
// gradient of 1x1 kernels, run as a direct kernel (see DirectConvolution.swift);
// depthwise convolution runs as direct loops whose innermost loop walks the contiguous channel
// dimension (in Float the C kernels of DepthwiseConvolution.swift, split across cores). Generic
// entry points dispatch once per call to code specialized for Float or Double.

/// The sizes and border padding of a 2-D convolution over an NHWC input.
///
/// Built from an input shape `[N, H, W, C]`, a kernel size, strides, padding and dilations; the
/// output spatial size and the zero padding before the first row and column follow
/// ``Padding/outputSize(input:window:stride:dilation:)`` (Keras/TensorFlow rules: with `.same`
/// and an odd total padding, the extra row or column goes at the end).
public struct Conv2DGeometry: Sendable, Equatable {
    /// Number of images `N`.
    public let batch: Int
    /// Input height `H`.
    public let inputHeight: Int
    /// Input width `W`.
    public let inputWidth: Int
    /// Input channels `C`.
    public let inputChannels: Int
    /// Kernel height `KH`.
    public let kernelHeight: Int
    /// Kernel width `KW`.
    public let kernelWidth: Int
    /// Vertical stride.
    public let strideHeight: Int
    /// Horizontal stride.
    public let strideWidth: Int
    /// Vertical spacing between kernel taps (1 for none).
    public let dilationHeight: Int
    /// Horizontal spacing between kernel taps (1 for none).
    public let dilationWidth: Int
    /// Output height `OH` (0 when no window fits with `.valid` padding).
    public let outputHeight: Int
    /// Output width `OW` (0 when no window fits with `.valid` padding).
    public let outputWidth: Int
    /// Zero rows added above the input.
    public let padTop: Int
    /// Zero columns added left of the input.
    public let padLeft: Int

    /// The geometry of sliding a `kernelHeight x kernelWidth` window over `inputShape` (`[N, H, W, C]`).
    ///
    /// - Precondition: `inputShape` has rank 4; kernel sizes, strides and dilations are positive.
    public init(
        inputShape: [Int], kernelHeight: Int, kernelWidth: Int,
        strides: (Int, Int), padding: Padding, dilations: (Int, Int)
    ) {
        precondition(inputShape.count == 4, "Conv2DGeometry: input shape \(inputShape) is not rank 4 [N, H, W, C]")
        precondition(kernelHeight >= 1 && kernelWidth >= 1,
                     "Conv2DGeometry: kernel size \(kernelHeight)x\(kernelWidth) must be positive (input shape \(inputShape))")
        precondition(strides.0 >= 1 && strides.1 >= 1, "Conv2DGeometry: strides \(strides) must be positive")
        precondition(dilations.0 >= 1 && dilations.1 >= 1, "Conv2DGeometry: dilations \(dilations) must be positive")
        batch = inputShape[0]
        inputHeight = inputShape[1]
        inputWidth = inputShape[2]
        inputChannels = inputShape[3]
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        (strideHeight, strideWidth) = strides
        (dilationHeight, dilationWidth) = dilations
        let rows = padding.outputSize(input: inputHeight, window: kernelHeight, stride: strides.0, dilation: dilations.0)
        let columns = padding.outputSize(input: inputWidth, window: kernelWidth, stride: strides.1, dilation: dilations.1)
        (outputHeight, padTop) = (rows.output, rows.before)
        (outputWidth, padLeft) = (columns.output, columns.before)
    }

    /// Output positions per image, `OH * OW`.
    public var outputPositions: Int { outputHeight * outputWidth }

    /// The output shape `[N, OH, OW, channels]`.
    public func outputShape(channels: Int) -> [Int] {
        [batch, outputHeight, outputWidth, channels]
    }

    /// Whether the convolution is a plain matrix product: a 1x1 kernel at stride 1 (no padding
    /// either way), so the input `[N*H*W, C]` is already the im2col matrix.
    var isPointwise: Bool {
        kernelHeight == 1 && kernelWidth == 1 && strideHeight == 1 && strideWidth == 1
    }
}

extension Tensor {
    // MARK: Regular convolution

    /// 2-D convolution (cross-correlation, as in Keras `Conv2D` and `tf.nn.conv2d`) of this NHWC
    /// input `[N, H, W, Cin]` with an HWIO `filter` `[KH, KW, Cin, Cout]`.
    ///
    /// `output[n, i, j, o] = sum over (a, b, c) of input[n, i*sh + a*dh - top, j*sw + b*dw - left, c]
    /// * filter[a, b, c, o]`, with out-of-range input positions reading zero.
    ///
    /// - Parameters:
    ///   - filter: the kernel, `[KH, KW, Cin, Cout]`.
    ///   - strides: `(sh, sw)`, the step between windows along height and width.
    ///   - padding: `.valid` (no padding) or `.same` (output `ceil(H / sh) x ceil(W / sw)`, extra
    ///     padding at the bottom/right).
    ///   - dilations: `(dh, dw)`, the spacing between kernel taps.
    /// - Returns: `[N, OH, OW, Cout]`. With `.valid` padding and a (dilated) kernel larger than the
    ///   input, `OH` or `OW` is 0 and the result is empty.
    /// - Precondition: both operands have rank 4 and the input's channels equal `filter`'s `Cin`.
    public func conv2d(
        filter: Tensor, strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
    ) -> Tensor {
        let geometry = Self.checkedConvGeometry(
            operation: "conv2d", inputShape: shape, filterShape: filter.shape,
            strides: strides, padding: padding, dilations: dilations)
        if let x = self as? Tensor<Float>, let f = filter as? Tensor<Float> {
            return ConvKernels.forward(x, f, geometry) as! Tensor
        }
        if let x = self as? Tensor<Double>, let f = filter as? Tensor<Double> {
            return ConvKernels.forward(x, f, geometry) as! Tensor
        }
        return ConvKernels.forward(self, filter, geometry)
    }

    /// ``conv2d(filter:strides:padding:dilations:)`` followed by the epilogue
    /// ``addBias(_:applyingReLU:)``: `relu(conv2d(filter) + bias)`, or without the ReLU or the bias.
    ///
    /// Where the convolution runs as Winograd (3x3 kernels at stride 1 and dilation 1 with at least
    /// 16 input and output channels), the epilogue runs inside its output transform, and where it
    /// runs as the direct kernel (Float, see `ConvKernels.directApplies`) inside its register tiles,
    /// saving a pass over the output; elsewhere it is the two calls in sequence.
    /// - Parameters:
    ///   - filter: the kernel, `[KH, KW, Cin, Cout]`.
    ///   - bias: `[Cout]`, or `nil` for none.
    ///   - applyingReLU: whether to replace each result by `max(result, 0)`.
    ///   - strides: `(sh, sw)`, the step between windows along height and width.
    ///   - padding: `.valid` or `.same` (Keras rules, extra padding at the bottom/right).
    ///   - dilations: `(dh, dw)`, the spacing between kernel taps.
    /// - Precondition: as for ``conv2d(filter:strides:padding:dilations:)``, and `bias` has shape `[Cout]`.
    public func conv2d(
        filter: Tensor, bias: Tensor?, applyingReLU: Bool,
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
    ) -> Tensor {
        let geometry = Self.checkedConvGeometry(
            operation: "conv2d", inputShape: shape, filterShape: filter.shape,
            strides: strides, padding: padding, dilations: dilations)
        if let bias {
            precondition(
                bias.shape == [filter.shape[3]],
                "conv2d: bias of shape \(bias.shape) does not match the \(filter.shape[3]) output channels of filter shape \(filter.shape)")
        }
        if ConvKernels.winogradApplies(geometry, outChannels: filter.shape[3]) {
            if let x = self as? Tensor<Float>, let f = filter as? Tensor<Float> {
                return ConvKernels.winogradForward(
                    x, f, geometry, bias: bias as! Tensor<Float>?, applyingReLU: applyingReLU) as! Tensor
            }
            if let x = self as? Tensor<Double>, let f = filter as? Tensor<Double> {
                return ConvKernels.winogradForward(
                    x, f, geometry, bias: bias as! Tensor<Double>?, applyingReLU: applyingReLU) as! Tensor
            }
        }
        if let x = self as? Tensor<Float>, let f = filter as? Tensor<Float>,
           ConvKernels.directApplies(geometry, outChannels: filter.shape[3]) {
            return ConvKernels.directForward(
                x, f, geometry, bias: bias as! Tensor<Float>?, applyingReLU: applyingReLU) as! Tensor
        }
        var y = conv2d(filter: filter, strides: strides, padding: padding, dilations: dilations)
        y.addBias(bias, applyingReLU: applyingReLU)
        return y
    }

    /// The gradient of ``conv2d(filter:strides:padding:dilations:)`` with respect to its input:
    /// `gradient` (`[N, OH, OW, Cout]`) times the filter, scattered back to `inputShape` (the
    /// transposed convolution), computed as one GEMM per chunk of output positions and col2im, or
    /// for 3x3 stride-1 kernels with at least 16 input and output channels as a Winograd convolution
    /// of `gradient` with the rotated kernel.
    ///
    /// - Precondition: `inputShape` and `filter` are rank 4 with matching channels, and
    ///   `gradient` has the forward output's shape.
    public static func conv2dBackwardInput(
        gradient: Tensor, filter: Tensor, inputShape: [Int],
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
    ) -> Tensor {
        let geometry = checkedConvGeometry(
            operation: "conv2dBackwardInput", inputShape: inputShape, filterShape: filter.shape,
            strides: strides, padding: padding, dilations: dilations)
        checkGradientShape(
            operation: "conv2dBackwardInput", gradient: gradient.shape,
            expected: geometry.outputShape(channels: filter.shape[3]), inputShape: inputShape, filterShape: filter.shape)
        if let g = gradient as? Tensor<Float>, let f = filter as? Tensor<Float> {
            return ConvKernels.backwardInput(g, f, geometry) as! Tensor
        }
        if let g = gradient as? Tensor<Double>, let f = filter as? Tensor<Double> {
            return ConvKernels.backwardInput(g, f, geometry) as! Tensor
        }
        return ConvKernels.backwardInput(gradient, filter, geometry)
    }

    /// The gradient of ``conv2d(filter:strides:padding:dilations:)`` with respect to its filter:
    /// `im2col(input)^T * gradient`, accumulated over chunks of output positions, reshaped to `filterShape`
    /// (`[KH, KW, Cin, Cout]`); for Float 3x3 stride-1 kernels with at least 16 input and output
    /// channels, by Winograd (summed over the tiles in the transform domain).
    ///
    /// - Precondition: `input` and `filterShape` are rank 4 with matching channels, and
    ///   `gradient` has the forward output's shape.
    public static func conv2dBackwardFilter(
        gradient: Tensor, input: Tensor, filterShape: [Int],
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
    ) -> Tensor {
        let geometry = checkedConvGeometry(
            operation: "conv2dBackwardFilter", inputShape: input.shape, filterShape: filterShape,
            strides: strides, padding: padding, dilations: dilations)
        checkGradientShape(
            operation: "conv2dBackwardFilter", gradient: gradient.shape,
            expected: geometry.outputShape(channels: filterShape[3]), inputShape: input.shape, filterShape: filterShape)
        if let g = gradient as? Tensor<Float>, let x = input as? Tensor<Float> {
            return ConvKernels.backwardFilter(g, x, filterShape, geometry) as! Tensor
        }
        if let g = gradient as? Tensor<Double>, let x = input as? Tensor<Double> {
            return ConvKernels.backwardFilter(g, x, filterShape, geometry) as! Tensor
        }
        return ConvKernels.backwardFilter(gradient, input, filterShape, geometry)
    }

    // MARK: Depthwise convolution

    /// Depthwise 2-D convolution (Keras `DepthwiseConv2D`, `tf.nn.depthwise_conv2d`) of this NHWC
    /// input `[N, H, W, C]` with a filter `[KH, KW, C, M]` (`M` = depth multiplier): each input
    /// channel is convolved with its own `M` kernels, giving `C * M` output channels ordered
    /// `c * M + m`.
    ///
    /// Strides, padding and dilations mean the same as in ``conv2d(filter:strides:padding:dilations:)``.
    /// - Returns: `[N, OH, OW, C * M]` (empty when no window fits with `.valid` padding).
    /// - Precondition: both operands have rank 4 and the input's channels equal `filter`'s `C`.
    public func depthwiseConv2d(
        filter: Tensor, strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
    ) -> Tensor {
        let geometry = Self.checkedConvGeometry(
            operation: "depthwiseConv2d", inputShape: shape, filterShape: filter.shape,
            strides: strides, padding: padding, dilations: dilations)
        if let x = self as? Tensor<Float>, let f = filter as? Tensor<Float> {
            return ConvKernels.floatDepthwiseForward(x, f, geometry) as! Tensor
        }
        if let x = self as? Tensor<Double>, let f = filter as? Tensor<Double> {
            return ConvKernels.depthwiseForward(x, f, geometry) as! Tensor
        }
        return ConvKernels.depthwiseForward(self, filter, geometry)
    }

    /// The gradient of ``depthwiseConv2d(filter:strides:padding:dilations:)`` with respect to its
    /// input: `gradient` is `[N, OH, OW, C * M]`, the result has `inputShape` `[N, H, W, C]`.
    ///
    /// - Precondition: `inputShape` and `filter` are rank 4 with matching channels, and
    ///   `gradient` has the forward output's shape.
    public static func depthwiseConv2dBackwardInput(
        gradient: Tensor, filter: Tensor, inputShape: [Int],
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
    ) -> Tensor {
        let geometry = checkedConvGeometry(
            operation: "depthwiseConv2dBackwardInput", inputShape: inputShape, filterShape: filter.shape,
            strides: strides, padding: padding, dilations: dilations)
        checkGradientShape(
            operation: "depthwiseConv2dBackwardInput", gradient: gradient.shape,
            expected: geometry.outputShape(channels: filter.shape[2] * filter.shape[3]),
            inputShape: inputShape, filterShape: filter.shape)
        if let g = gradient as? Tensor<Float>, let f = filter as? Tensor<Float> {
            return ConvKernels.floatDepthwiseBackwardInput(g, f, geometry) as! Tensor
        }
        if let g = gradient as? Tensor<Double>, let f = filter as? Tensor<Double> {
            return ConvKernels.depthwiseBackwardInput(g, f, geometry) as! Tensor
        }
        return ConvKernels.depthwiseBackwardInput(gradient, filter, geometry)
    }

    /// The gradient of ``depthwiseConv2d(filter:strides:padding:dilations:)`` with respect to its
    /// filter: `gradient` is `[N, OH, OW, C * M]`, the result has `filterShape` `[KH, KW, C, M]`.
    ///
    /// - Precondition: `input` and `filterShape` are rank 4 with matching channels, and
    ///   `gradient` has the forward output's shape.
    public static func depthwiseConv2dBackwardFilter(
        gradient: Tensor, input: Tensor, filterShape: [Int],
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1)
    ) -> Tensor {
        let geometry = checkedConvGeometry(
            operation: "depthwiseConv2dBackwardFilter", inputShape: input.shape, filterShape: filterShape,
            strides: strides, padding: padding, dilations: dilations)
        checkGradientShape(
            operation: "depthwiseConv2dBackwardFilter", gradient: gradient.shape,
            expected: geometry.outputShape(channels: filterShape[2] * filterShape[3]),
            inputShape: input.shape, filterShape: filterShape)
        if let g = gradient as? Tensor<Float>, let x = input as? Tensor<Float> {
            return ConvKernels.floatDepthwiseBackwardFilter(g, x, filterShape, geometry) as! Tensor
        }
        if let g = gradient as? Tensor<Double>, let x = input as? Tensor<Double> {
            return ConvKernels.depthwiseBackwardFilter(g, x, filterShape, geometry) as! Tensor
        }
        return ConvKernels.depthwiseBackwardFilter(gradient, input, filterShape, geometry)
    }

    // MARK: Shape checks

    /// Validates ranks and channel agreement and builds the geometry; the messages name both shapes.
    static func checkedConvGeometry(
        operation: String, inputShape: [Int], filterShape: [Int],
        strides: (Int, Int), padding: Padding, dilations: (Int, Int)
    ) -> Conv2DGeometry {
        precondition(
            inputShape.count == 4 && filterShape.count == 4,
            "\(operation): input shape \(inputShape) must be rank 4 [N, H, W, C] and filter shape \(filterShape) rank 4 [KH, KW, C, _]")
        precondition(
            inputShape[3] == filterShape[2],
            "\(operation): input shape \(inputShape) has \(inputShape[3]) channels but filter shape \(filterShape) expects \(filterShape[2])")
        precondition(
            filterShape[0] >= 1 && filterShape[1] >= 1,
            "\(operation): filter shape \(filterShape) has an empty window (input shape \(inputShape))")
        precondition(
            strides.0 >= 1 && strides.1 >= 1 && dilations.0 >= 1 && dilations.1 >= 1,
            "\(operation): strides \(strides) and dilations \(dilations) must be positive (input shape \(inputShape), filter shape \(filterShape))")
        return Conv2DGeometry(
            inputShape: inputShape, kernelHeight: filterShape[0], kernelWidth: filterShape[1],
            strides: strides, padding: padding, dilations: dilations)
    }

    /// Checks that an upstream gradient has the forward output's shape.
    static func checkGradientShape(
        operation: String, gradient: [Int], expected: [Int], inputShape: [Int], filterShape: [Int]
    ) {
        precondition(
            gradient == expected,
            "\(operation): gradient shape \(gradient) differs from the output shape \(expected) of input shape \(inputShape) and filter shape \(filterShape)")
    }
}

/// The convolution kernels, generic over the scalar type; called with concrete `Float` or
/// `Double` tensors so the compiler specializes and vectorizes the loops.
enum ConvKernels {
    /// Target size of one im2col chunk in bytes: 2 MiB of columns stay in cache between im2col
    /// writing them and the GEMM reading them, instead of a whole batch's matrix going to memory.
    static let columnChunkBytes = 2 << 20
    /// The fewest rows a chunk has (unless the whole convolution has fewer), so each GEMM still
    /// has enough rows to run at full speed when `K` is large.
    static let minimumChunkRows = 128

    /// The default column-buffer limit, in elements, for `columns`-wide rows of `T`.
    static func columnLimit<T>(_ type: T.Type, columns: Int) -> Int {
        Swift.max(columnChunkBytes / MemoryLayout<T>.stride, minimumChunkRows * columns)
    }

    /// Output positions (column-matrix rows, flat over the batch) per im2col chunk: at least 1 and
    /// at most all of them, such that a chunk of `columns`-wide rows stays within `limit` elements.
    static func rowsPerChunk(_ g: Conv2DGeometry, columns: Int, limit: Int) -> Int {
        let rows = g.batch * g.outputPositions
        return Swift.max(1, Swift.min(rows, limit / Swift.max(columns, 1)))
    }

    /// Walks the output positions in chunks of ``rowsPerChunk(_:columns:limit:)`` rows (the
    /// limit in elements, by default ``columnLimit(_:columns:)``) with one scratch column buffer
    /// of `columns`-wide rows, calling `body(firstRow, rowCount, buffer)` for each chunk. With
    /// `input`, each chunk's rows are filled by im2col first; otherwise `body` must write the
    /// rows it reads (the buffer starts uninitialized).
    @inline(__always)
    static func forEachColumnChunk<T: TensorScalar>(
        _ g: Conv2DGeometry, columns: Int, limit: Int?, im2colOf input: UnsafePointer<T>?,
        _ body: (_ firstRow: Int, _ rowCount: Int, _ buffer: UnsafeMutablePointer<T>) -> Void
    ) {
        let total = g.batch * g.outputPositions
        let chunk = rowsPerChunk(g, columns: columns, limit: limit ?? columnLimit(T.self, columns: columns))
        withScratchBuffer(count: chunk * columns) { (buffer: UnsafeMutablePointer<T>) in
            var start = 0
            while start < total {
                let count = Swift.min(chunk, total - start)
                if let input { im2col(g, input: input, firstRow: start, rowCount: count, columns: buffer) }
                body(start, count, buffer)
                start += count
            }
        }
    }

    // MARK: Regular

    /// The forward convolution: Winograd F(4x4, 3x3) where ``winogradApplies(_:outChannels:)``
    /// (unless `allowWinograd` is false), the direct kernel for Float where
    /// ``directApplies(_:outChannels:)`` (unless `allowDirect` is false), else im2col + GEMM with
    /// `columnLimit` elements of columns per chunk (tests force small chunks).
    static func forward<T: TensorScalar>(
        _ input: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry, columnLimit: Int? = nil,
        allowWinograd: Bool = true, allowDirect: Bool = true
    ) -> Tensor<T> {
        let outChannels = filter.shape[3]
        if allowWinograd && winogradApplies(g, outChannels: outChannels) {
            if let x = input as? Tensor<Float>, let f = filter as? Tensor<Float> {
                return winogradForward(x, f, g) as! Tensor<T>
            }
            if let x = input as? Tensor<Double>, let f = filter as? Tensor<Double> {
                return winogradForward(x, f, g) as! Tensor<T>
            }
        }
        if allowDirect, directApplies(g, outChannels: outChannels),
           let x = input as? Tensor<Float>, let f = filter as? Tensor<Float> {
            return directForward(x, f, g) as! Tensor<T>
        }
        let k = g.kernelHeight * g.kernelWidth * g.inputChannels
        let outputShape = g.outputShape(channels: outChannels)
        // The GEMMs (beta 0) write every output element, so the storage starts uninitialized.
        return Tensor<T>.buildUninitialized(shape: outputShape) { out in
            let positions = g.outputPositions
            guard g.batch > 0, positions > 0, outChannels > 0, k > 0 else {
                zeroFill(out, count: outputShape.reduce(1, *))
                return
            }
            input.withUnsafeBufferPointer { xBuffer in
                filter.withUnsafeBufferPointer { fBuffer in
                    let x = xBuffer.baseAddress!, f = fBuffer.baseAddress!
                    if g.isPointwise {
                        // The input [N*H*W, Cin] is the im2col matrix.
                        T.gemm(transposeA: false, transposeB: false, m: g.batch * positions, n: outChannels, k: k,
                               alpha: 1, a: x, lda: k, b: f, ldb: outChannels, beta: 0, c: out, ldc: outChannels)
                        return
                    }
                    forEachColumnChunk(g, columns: k, limit: columnLimit, im2colOf: x) { start, count, cols in
                        T.gemm(transposeA: false, transposeB: false, m: count, n: outChannels, k: k,
                               alpha: 1, a: cols, lda: k, b: f, ldb: outChannels,
                               beta: 0, c: out + start * outChannels, ldc: outChannels)
                    }
                }
            }
        }
    }

    /// The input gradient: Winograd F(4x4, 3x3) where ``winogradApplies(_:outChannels:)`` (unless
    /// `allowWinograd` is false), the direct kernel for Float where
    /// ``directBackwardInputApplies(_:outChannels:)`` (unless `allowDirect` is false), else GEMM +
    /// col2im in chunks of `columnLimit` elements.
    static func backwardInput<T: TensorScalar>(
        _ gradient: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry, columnLimit: Int? = nil,
        allowWinograd: Bool = true, allowDirect: Bool = true
    ) -> Tensor<T> {
        let outChannels = filter.shape[3]
        if allowWinograd && winogradApplies(g, outChannels: outChannels) {
            if let dy = gradient as? Tensor<Float>, let f = filter as? Tensor<Float> {
                return winogradBackwardInput(dy, f, g) as! Tensor<T>
            }
            if let dy = gradient as? Tensor<Double>, let f = filter as? Tensor<Double> {
                return winogradBackwardInput(dy, f, g) as! Tensor<T>
            }
        }
        if allowDirect, directBackwardInputApplies(g, outChannels: outChannels),
           let dy = gradient as? Tensor<Float>, let f = filter as? Tensor<Float> {
            return directPointwiseBackwardInput(dy, f, g) as! Tensor<T>
        }
        let k = g.kernelHeight * g.kernelWidth * g.inputChannels
        let inputShape = [g.batch, g.inputHeight, g.inputWidth, g.inputChannels]
        return Tensor<T>.build(shape: inputShape) { dx in
            let positions = g.outputPositions
            guard g.batch > 0, positions > 0, outChannels > 0, k > 0 else { return }
            gradient.withUnsafeBufferPointer { gBuffer in
                filter.withUnsafeBufferPointer { fBuffer in
                    let dy = gBuffer.baseAddress!, f = fBuffer.baseAddress!
                    if g.isPointwise {
                        // dX [N*H*W, Cin] = dY [N*H*W, Cout] * F^T.
                        T.gemm(transposeA: false, transposeB: true, m: g.batch * positions, n: k, k: outChannels,
                               alpha: 1, a: dy, lda: outChannels, b: f, ldb: outChannels, beta: 0, c: dx, ldc: k)
                        return
                    }
                    forEachColumnChunk(g, columns: k, limit: columnLimit, im2colOf: nil) { start, count, cols in
                        // dCols [rows, K] = dY [rows, Cout] * F^T, F viewed as [K, Cout].
                        T.gemm(transposeA: false, transposeB: true, m: count, n: k, k: outChannels,
                               alpha: 1, a: dy + start * outChannels, lda: outChannels,
                               b: f, ldb: outChannels, beta: 0, c: cols, ldc: k)
                        col2im(g, columns: cols, firstRow: start, rowCount: count, gradient: dx)
                    }
                }
            }
        }
    }

    /// The filter gradient: for Float, Winograd where ``winogradApplies(_:outChannels:)`` (unless
    /// `allowWinograd` is false) and the direct kernel where ``directApplies(_:outChannels:)``
    /// (unless `allowDirect` is false), else im2col + GEMM in chunks of `columnLimit` elements,
    /// accumulated over the chunks.
    static func backwardFilter<T: TensorScalar>(
        _ gradient: Tensor<T>, _ input: Tensor<T>, _ filterShape: [Int], _ g: Conv2DGeometry,
        columnLimit: Int? = nil, allowWinograd: Bool = true, allowDirect: Bool = true
    ) -> Tensor<T> {
        let outChannels = filterShape[3]
        if allowWinograd && winogradApplies(g, outChannels: outChannels),
           let dy = gradient as? Tensor<Float>, let x = input as? Tensor<Float> {
            return winogradBackwardFilterFloat(dy, x, g, outChannels: outChannels) as! Tensor<T>
        }
        if allowDirect, directApplies(g, outChannels: outChannels),
           let dy = gradient as? Tensor<Float>, let x = input as? Tensor<Float> {
            return directBackwardFilter(dy, x, filterShape, g) as! Tensor<T>
        }
        let k = g.kernelHeight * g.kernelWidth * g.inputChannels
        // The first GEMM (beta 0) writes every element, so the storage starts uninitialized.
        return Tensor<T>.buildUninitialized(shape: filterShape) { df in
            let positions = g.outputPositions
            guard g.batch > 0, positions > 0, outChannels > 0, k > 0 else {
                zeroFill(df, count: filterShape.reduce(1, *))
                return
            }
            // A small K x Cout output over a long inner dimension: fastest on one BLAS thread.
            BLASThreading.withThreads(BLASThreading.weightGradientThreads) {
                gradient.withUnsafeBufferPointer { gBuffer in
                    input.withUnsafeBufferPointer { xBuffer in
                        let dy = gBuffer.baseAddress!, x = xBuffer.baseAddress!
                        if g.isPointwise {
                            // dF [Cin, Cout] = X^T [Cin, N*H*W] * dY [N*H*W, Cout].
                            T.gemm(transposeA: true, transposeB: false, m: k, n: outChannels, k: g.batch * positions,
                                   alpha: 1, a: x, lda: k, b: dy, ldb: outChannels, beta: 0, c: df, ldc: outChannels)
                            return
                        }
                        forEachColumnChunk(g, columns: k, limit: columnLimit, im2colOf: x) { start, count, cols in
                            // dF [K, Cout] += cols^T [K, rows] * dY [rows, Cout].
                            T.gemm(transposeA: true, transposeB: false, m: k, n: outChannels, k: count,
                                   alpha: 1, a: cols, lda: k, b: dy + start * outChannels, ldb: outChannels,
                                   beta: start == 0 ? 0 : 1, c: df, ldc: outChannels)
                        }
                    }
                }
            }
        }
    }

    // MARK: Depthwise

    /// Calls `body(outputRow, inputRow, kernelTap)` for every output position and every kernel tap
    /// that lands inside the input: `outputRow` is the flat output position `(n * OH + i) * OW + j`,
    /// `inputRow` the flat input position `(n * H + y) * W + x`, `kernelTap` is `a * KW + b`.
    @inline(__always)
    static func forEachTap(_ g: Conv2DGeometry, _ body: (_ outputRow: Int, _ inputRow: Int, _ kernelTap: Int) -> Void) {
        for n in 0..<g.batch {
            for i in 0..<g.outputHeight {
                let y0 = i * g.strideHeight - g.padTop
                for j in 0..<g.outputWidth {
                    let x0 = j * g.strideWidth - g.padLeft
                    let outputRow = (n * g.outputHeight + i) * g.outputWidth + j
                    for a in 0..<g.kernelHeight {
                        let y = y0 + a * g.dilationHeight
                        if y < 0 || y >= g.inputHeight { continue }
                        let rowBase = (n * g.inputHeight + y) * g.inputWidth
                        for b in 0..<g.kernelWidth {
                            let x = x0 + b * g.dilationWidth
                            if x < 0 || x >= g.inputWidth { continue }
                            body(outputRow, rowBase + x, a * g.kernelWidth + b)
                        }
                    }
                }
            }
        }
    }

    static func depthwiseForward<T: TensorScalar>(_ input: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry) -> Tensor<T> {
        let c = g.inputChannels, m = filter.shape[3], cm = c * m
        return Tensor<T>.build(shape: g.outputShape(channels: cm)) { out in
            guard cm > 0 else { return }
            input.withUnsafeBufferPointer { xBuffer in
                filter.withUnsafeBufferPointer { fBuffer in
                    guard let x = xBuffer.baseAddress, let f = fBuffer.baseAddress else { return }
                    forEachTap(g) { outputRow, inputRow, tap in
                        let o = out + outputRow * cm, src = x + inputRow * c, w = f + tap * cm
                        if m == 1 {
                            for ch in 0..<c { o[ch] += src[ch] * w[ch] }
                        } else {
                            for ch in 0..<c {
                                let v = src[ch], oc = o + ch * m, wc = w + ch * m
                                for q in 0..<m { oc[q] += v * wc[q] }
                            }
                        }
                    }
                }
            }
        }
    }

    static func depthwiseBackwardInput<T: TensorScalar>(_ gradient: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry) -> Tensor<T> {
        let c = g.inputChannels, m = filter.shape[3], cm = c * m
        return Tensor<T>.build(shape: [g.batch, g.inputHeight, g.inputWidth, c]) { dx in
            guard cm > 0 else { return }
            gradient.withUnsafeBufferPointer { gBuffer in
                filter.withUnsafeBufferPointer { fBuffer in
                    guard let dy = gBuffer.baseAddress, let f = fBuffer.baseAddress else { return }
                    forEachTap(g) { outputRow, inputRow, tap in
                        let d = dx + inputRow * c, up = dy + outputRow * cm, w = f + tap * cm
                        if m == 1 {
                            for ch in 0..<c { d[ch] += up[ch] * w[ch] }
                        } else {
                            for ch in 0..<c {
                                let uc = up + ch * m, wc = w + ch * m
                                var s: T = 0
                                for q in 0..<m { s += uc[q] * wc[q] }
                                d[ch] += s
                            }
                        }
                    }
                }
            }
        }
    }

    static func depthwiseBackwardFilter<T: TensorScalar>(
        _ gradient: Tensor<T>, _ input: Tensor<T>, _ filterShape: [Int], _ g: Conv2DGeometry
    ) -> Tensor<T> {
        let c = g.inputChannels, m = filterShape[3], cm = c * m
        return Tensor<T>.build(shape: filterShape) { df in
            guard cm > 0 else { return }
            gradient.withUnsafeBufferPointer { gBuffer in
                input.withUnsafeBufferPointer { xBuffer in
                    guard let dy = gBuffer.baseAddress, let x = xBuffer.baseAddress else { return }
                    forEachTap(g) { outputRow, inputRow, tap in
                        let d = df + tap * cm, up = dy + outputRow * cm, src = x + inputRow * c
                        if m == 1 {
                            for ch in 0..<c { d[ch] += src[ch] * up[ch] }
                        } else {
                            for ch in 0..<c {
                                let v = src[ch], dc = d + ch * m, uc = up + ch * m
                                for q in 0..<m { dc[q] += v * uc[q] }
                            }
                        }
                    }
                }
            }
        }
    }
}
