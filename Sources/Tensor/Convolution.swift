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
        self.init(
            batch: inputShape[0], inputHeight: inputShape[1], inputWidth: inputShape[2], inputChannels: inputShape[3],
            kernelHeight: kernelHeight, kernelWidth: kernelWidth, strides: strides, padding: padding, dilations: dilations)
    }

    /// The geometry of sliding a `kernelHeight x kernelWidth` window over an input
    /// `[batch, inputHeight, inputWidth, inputChannels]` (without building its shape array).
    ///
    /// - Precondition: kernel sizes, strides and dilations are positive.
    init(
        batch: Int, inputHeight: Int, inputWidth: Int, inputChannels: Int, kernelHeight: Int, kernelWidth: Int,
        strides: (Int, Int), padding: Padding, dilations: (Int, Int)
    ) {
        precondition(kernelHeight >= 1 && kernelWidth >= 1,
                     "Conv2DGeometry: kernel size \(kernelHeight)x\(kernelWidth) must be positive (input shape \([batch, inputHeight, inputWidth, inputChannels]))")
        precondition(strides.0 >= 1 && strides.1 >= 1, "Conv2DGeometry: strides \(strides) must be positive")
        precondition(dilations.0 >= 1 && dilations.1 >= 1, "Conv2DGeometry: dilations \(dilations) must be positive")
        self.batch = batch
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.inputChannels = inputChannels
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

    /// The input's element count, `N * H * W * C`.
    var inputCount: Int { batch * inputHeight * inputWidth * inputChannels }

    /// The output's element count with `channels` channels, `N * OH * OW * channels`.
    func outputCount(channels: Int) -> Int { batch * outputPositions * channels }

    /// Whether `shape` is the output shape `[N, OH, OW, channels]` (compared dimension by
    /// dimension, without building the expected shape).
    func isOutputShape(_ shape: [Int], channels: Int) -> Bool {
        shape.count == 4 && shape[0] == batch && shape[1] == outputHeight && shape[2] == outputWidth
            && shape[3] == channels
    }
}

extension UnsafePointer {
    /// The same address as a pointer to `U`, for the element-type dispatch of generic kernels
    /// (where `U` is `Pointee`, checked by the caller).
    @inline(__always)
    func cast<U>(to _: U.Type = U.self) -> UnsafePointer<U> { UnsafePointer<U>(OpaquePointer(self)) }
}

extension UnsafeMutablePointer {
    /// The same address as a pointer to `U`, for the element-type dispatch of generic kernels
    /// (where `U` is `Pointee`, checked by the caller).
    @inline(__always)
    func cast<U>(to _: U.Type = U.self) -> UnsafeMutablePointer<U> { UnsafeMutablePointer<U>(OpaquePointer(self)) }
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
        conv2d(filter: filter, bias: nil, applyingReLU: false, strides: strides, padding: padding, dilations: dilations)
    }

    /// ``conv2d(filter:strides:padding:dilations:)`` followed by the epilogue
    /// ``addBias(_:applyingReLU:)``: `relu(conv2d(filter) + bias)`, or without the ReLU or the bias.
    ///
    /// Where the convolution runs as Winograd (3x3 kernels at stride 1 and dilation 1 with at least
    /// 16 input and output channels), the epilogue runs inside its output transform, and where it
    /// runs as the direct kernel (Float, see `ConvKernels.directApplies`) inside its register tiles,
    /// saving a pass over the output; elsewhere it is one pass after the convolution.
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
        let g = checkedConv2dGeometry(
            operation: "conv2d", filter: filter, bias: bias, biasChannels: filter.shape[3],
            strides: strides, padding: padding, dilations: dilations)
        return .buildUninitialized(shape: g.outputShape(channels: filter.shape[3])) { out in
            Self.runConv2d(self, filter, bias: bias, applyingReLU: applyingReLU, g, into: out)
        }
    }

    /// ``conv2d(filter:bias:applyingReLU:strides:padding:dilations:)`` written into `output`
    /// instead of a new tensor: `relu(conv2d(filter) + bias)` (or without the ReLU or the bias),
    /// on the same kernel and with bitwise the same result as the returning version.
    ///
    /// Every element of `output` is overwritten (its previous values are never read). In steady
    /// state (a uniquely referenced `output`) the call makes no heap allocation: temporary
    /// memory comes from the reusable scratch buffers.
    /// - Parameters:
    ///   - filter: the kernel, `[KH, KW, Cin, Cout]`.
    ///   - bias: `[Cout]`, or `nil` for none.
    ///   - applyingReLU: whether to replace each result by `max(result, 0)`.
    ///   - strides: `(sh, sw)`, the step between windows along height and width.
    ///   - padding: `.valid` or `.same` (Keras rules, extra padding at the bottom/right).
    ///   - dilations: `(dh, dw)`, the spacing between kernel taps.
    ///   - output: the destination, of shape `[N, OH, OW, Cout]`.
    /// - Precondition: as for ``conv2d(filter:bias:applyingReLU:strides:padding:dilations:)``, and
    ///   `output` has the output shape.
    public func conv2d(
        filter: Tensor, bias: Tensor?, applyingReLU: Bool,
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1),
        into output: inout Tensor
    ) {
        let g = checkedConv2dGeometry(
            operation: "conv2d", filter: filter, bias: bias, biasChannels: filter.shape[3],
            strides: strides, padding: padding, dilations: dilations)
        Self.checkOutputShape(
            operation: "conv2d", role: "output", shape: output.shape, g, channels: filter.shape[3],
            inputShape: shape, filterShape: filter.shape)
        Self.write(into: &output) { out in
            Self.runConv2d(self, filter, bias: bias, applyingReLU: applyingReLU, g, into: out)
        }
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
        var dx = Tensor.uninitialized(inputShape)
        conv2dBackwardInput(gradient: gradient, filter: filter, strides: strides, padding: padding, dilations: dilations, into: &dx)
        return dx
    }

    /// ``conv2dBackwardInput(gradient:filter:inputShape:strides:padding:dilations:)`` written
    /// into `inputGradient`, whose shape is the forward input's shape: bitwise the same result,
    /// every element overwritten, no heap allocation in steady state (a uniquely referenced
    /// destination; temporaries from the reusable scratch buffers).
    ///
    /// - Precondition: `inputGradient` and `filter` are rank 4 with matching channels, and
    ///   `gradient` has the forward output's shape.
    public static func conv2dBackwardInput(
        gradient: Tensor, filter: Tensor,
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1),
        into inputGradient: inout Tensor
    ) {
        let g = checkedBackwardGeometry(
            operation: "conv2dBackwardInput", gradientShape: gradient.shape, inputShape: inputGradient.shape,
            filterShape: filter.shape, depthwise: false, strides: strides, padding: padding, dilations: dilations)
        Self.write(into: &inputGradient) { dx in runConv2dBackwardInput(gradient, filter, g, into: dx) }
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
        var df = Tensor.uninitialized(filterShape)
        conv2dBackwardFilter(gradient: gradient, input: input, strides: strides, padding: padding, dilations: dilations, into: &df)
        return df
    }

    /// ``conv2dBackwardFilter(gradient:input:filterShape:strides:padding:dilations:)`` written
    /// into `filterGradient`, whose shape is the filter's shape: bitwise the same result, every
    /// element overwritten (the gradient is not accumulated into it), no heap allocation in
    /// steady state (a uniquely referenced destination; temporaries from the reusable scratch buffers).
    ///
    /// - Precondition: `input` and `filterGradient` are rank 4 with matching channels, and
    ///   `gradient` has the forward output's shape.
    public static func conv2dBackwardFilter(
        gradient: Tensor, input: Tensor,
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1),
        into filterGradient: inout Tensor
    ) {
        let g = checkedBackwardGeometry(
            operation: "conv2dBackwardFilter", gradientShape: gradient.shape, inputShape: input.shape,
            filterShape: filterGradient.shape, depthwise: false, strides: strides, padding: padding, dilations: dilations)
        let outChannels = filterGradient.shape[3]
        Self.write(into: &filterGradient) { df in
            runConv2dBackwardFilter(gradient, input, g, outChannels: outChannels, into: df)
        }
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
        let g = checkedConv2dGeometry(
            operation: "depthwiseConv2d", filter: filter, bias: nil, biasChannels: 0,
            strides: strides, padding: padding, dilations: dilations)
        return .buildUninitialized(shape: g.outputShape(channels: filter.shape[2] * filter.shape[3])) { out in
            Self.runDepthwiseConv2d(self, filter, bias: nil, applyingReLU: false, g, into: out)
        }
    }

    /// ``depthwiseConv2d(filter:strides:padding:dilations:)`` written into `output` (shape
    /// `[N, OH, OW, C * M]`): bitwise the same result, every element overwritten, no heap
    /// allocation in steady state (a uniquely referenced destination; temporaries from the
    /// reusable scratch buffers).
    ///
    /// - Precondition: as for ``depthwiseConv2d(filter:strides:padding:dilations:)``, and `output`
    ///   has the output shape.
    public func depthwiseConv2d(
        filter: Tensor, strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1),
        into output: inout Tensor
    ) {
        depthwiseConv2d(
            filter: filter, bias: nil, applyingReLU: false, strides: strides, padding: padding, dilations: dilations,
            into: &output)
    }

    /// ``depthwiseConv2d(filter:strides:padding:dilations:into:)`` followed in place by the
    /// epilogue of ``addBias(_:applyingReLU:)``: `relu(depthwiseConv2d(filter) + bias)` (or without
    /// the ReLU or the bias) into `output`, bitwise the same as the two calls in sequence (the
    /// fused depthwise node of the autograd layer), without their allocations.
    ///
    /// - Parameters:
    ///   - filter: the kernel, `[KH, KW, C, M]`.
    ///   - bias: `[C * M]`, or `nil` for none.
    ///   - applyingReLU: whether to replace each result by `max(result, 0)`.
    ///   - strides: `(sh, sw)`, the step between windows along height and width.
    ///   - padding: `.valid` or `.same` (Keras rules, extra padding at the bottom/right).
    ///   - dilations: `(dh, dw)`, the spacing between kernel taps.
    ///   - output: the destination, of shape `[N, OH, OW, C * M]`; every element is overwritten.
    /// - Precondition: as for ``depthwiseConv2d(filter:strides:padding:dilations:)``, `bias` has
    ///   shape `[C * M]` and `output` the output shape.
    public func depthwiseConv2d(
        filter: Tensor, bias: Tensor?, applyingReLU: Bool,
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1),
        into output: inout Tensor
    ) {
        let channels = filter.rank == 4 ? filter.shape[2] * filter.shape[3] : 0
        let g = checkedConv2dGeometry(
            operation: "depthwiseConv2d", filter: filter, bias: bias, biasChannels: channels,
            strides: strides, padding: padding, dilations: dilations)
        Self.checkOutputShape(
            operation: "depthwiseConv2d", role: "output", shape: output.shape, g, channels: channels,
            inputShape: shape, filterShape: filter.shape)
        Self.write(into: &output) { out in
            Self.runDepthwiseConv2d(self, filter, bias: bias, applyingReLU: applyingReLU, g, into: out)
        }
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
        var dx = Tensor.uninitialized(inputShape)
        depthwiseConv2dBackwardInput(
            gradient: gradient, filter: filter, strides: strides, padding: padding, dilations: dilations, into: &dx)
        return dx
    }

    /// ``depthwiseConv2dBackwardInput(gradient:filter:inputShape:strides:padding:dilations:)``
    /// written into `inputGradient`, whose shape is the forward input's shape: bitwise the same
    /// result, every element overwritten, no heap allocation in steady state.
    ///
    /// - Precondition: `inputGradient` and `filter` are rank 4 with matching channels, and
    ///   `gradient` has the forward output's shape.
    public static func depthwiseConv2dBackwardInput(
        gradient: Tensor, filter: Tensor,
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1),
        into inputGradient: inout Tensor
    ) {
        let g = checkedBackwardGeometry(
            operation: "depthwiseConv2dBackwardInput", gradientShape: gradient.shape, inputShape: inputGradient.shape,
            filterShape: filter.shape, depthwise: true, strides: strides, padding: padding, dilations: dilations)
        Self.write(into: &inputGradient) { dx in runDepthwiseBackwardInput(gradient, filter, g, into: dx) }
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
        var df = Tensor.uninitialized(filterShape)
        depthwiseConv2dBackwardFilter(
            gradient: gradient, input: input, strides: strides, padding: padding, dilations: dilations, into: &df)
        return df
    }

    /// ``depthwiseConv2dBackwardFilter(gradient:input:filterShape:strides:padding:dilations:)``
    /// written into `filterGradient`, whose shape is the filter's shape: bitwise the same result,
    /// every element overwritten (not accumulated), no heap allocation in steady state.
    ///
    /// - Precondition: `input` and `filterGradient` are rank 4 with matching channels, and
    ///   `gradient` has the forward output's shape.
    public static func depthwiseConv2dBackwardFilter(
        gradient: Tensor, input: Tensor,
        strides: (Int, Int) = (1, 1), padding: Padding = .valid, dilations: (Int, Int) = (1, 1),
        into filterGradient: inout Tensor
    ) {
        let g = checkedBackwardGeometry(
            operation: "depthwiseConv2dBackwardFilter", gradientShape: gradient.shape, inputShape: input.shape,
            filterShape: filterGradient.shape, depthwise: true, strides: strides, padding: padding, dilations: dilations)
        let multiplier = filterGradient.shape[3]
        Self.write(into: &filterGradient) { df in
            runDepthwiseBackwardFilter(gradient, input, g, multiplier: multiplier, into: df)
        }
    }

    // MARK: Dispatch to the kernels of the element type

    /// Calls `body` with the storage of `destination` (made unique first if it is shared), unless
    /// it has no elements.
    @inline(__always)
    static func write(into destination: inout Tensor, _ body: (UnsafeMutablePointer<Scalar>) -> Void) {
        destination.withUnsafeMutableBufferPointer { buffer in
            if let base = buffer.baseAddress, buffer.count > 0 { body(base) }
        }
    }

    /// Calls `body` with the storage of `a`, `b` and, when present, `c`.
    @inline(__always)
    static func withOperands(
        _ a: Tensor, _ b: Tensor, _ c: Tensor? = nil,
        _ body: (UnsafePointer<Scalar>, UnsafePointer<Scalar>, UnsafePointer<Scalar>?) -> Void
    ) {
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                if let c {
                    c.withUnsafeBufferPointer { body(a.baseAddress!, b.baseAddress!, $0.baseAddress!) }
                } else {
                    body(a.baseAddress!, b.baseAddress!, nil)
                }
            }
        }
    }

    /// The forward convolution `g` of `input` with `filter`, `+ bias` and ReLU, into `out`
    /// (`[N, OH, OW, Cout]`), on the kernels specialized for Float or Double (see `ConvKernels.forward`).
    static func runConv2d(
        _ input: Tensor, _ filter: Tensor, bias: Tensor?, applyingReLU relu: Bool, _ g: Conv2DGeometry,
        into out: UnsafeMutablePointer<Scalar>
    ) {
        let cout = filter.shape[3]
        withOperands(input, filter, bias) { x, f, b in
            if Scalar.self == Float.self {
                ConvKernels.forward(x.cast(to: Float.self), f.cast(), g, outChannels: cout, bias: b?.cast(),
                                    applyingReLU: relu, into: out.cast())
            } else if Scalar.self == Double.self {
                ConvKernels.forward(x.cast(to: Double.self), f.cast(), g, outChannels: cout, bias: b?.cast(),
                                    applyingReLU: relu, into: out.cast())
            } else {
                ConvKernels.forward(x, f, g, outChannels: cout, bias: b, applyingReLU: relu, into: out)
            }
        }
    }

    /// The input gradient of the convolution `g` into `dx` (`[N, H, W, Cin]`), on the kernels
    /// specialized for Float or Double (see `ConvKernels.backwardInput`).
    static func runConv2dBackwardInput(
        _ gradient: Tensor, _ filter: Tensor, _ g: Conv2DGeometry, into dx: UnsafeMutablePointer<Scalar>
    ) {
        let cout = filter.shape[3]
        withOperands(gradient, filter) { dy, f, _ in
            if Scalar.self == Float.self {
                ConvKernels.backwardInput(dy.cast(to: Float.self), f.cast(), g, outChannels: cout, into: dx.cast())
            } else if Scalar.self == Double.self {
                ConvKernels.backwardInput(dy.cast(to: Double.self), f.cast(), g, outChannels: cout, into: dx.cast())
            } else {
                ConvKernels.backwardInput(dy, f, g, outChannels: cout, into: dx)
            }
        }
    }

    /// The filter gradient of the convolution `g` with `outChannels` outputs into `df`
    /// (`[KH, KW, Cin, Cout]`), on the kernels specialized for Float or Double (see `ConvKernels.backwardFilter`).
    static func runConv2dBackwardFilter(
        _ gradient: Tensor, _ input: Tensor, _ g: Conv2DGeometry, outChannels cout: Int,
        into df: UnsafeMutablePointer<Scalar>
    ) {
        withOperands(gradient, input) { dy, x, _ in
            if Scalar.self == Float.self {
                ConvKernels.backwardFilter(dy.cast(to: Float.self), x.cast(), g, outChannels: cout, into: df.cast())
            } else if Scalar.self == Double.self {
                ConvKernels.backwardFilter(dy.cast(to: Double.self), x.cast(), g, outChannels: cout, into: df.cast())
            } else {
                ConvKernels.backwardFilter(dy, x, g, outChannels: cout, into: df)
            }
        }
    }

    /// The depthwise convolution `g` of `input` with `filter`, then `+ bias` and ReLU in place,
    /// into `out` (`[N, OH, OW, C * M]`): Float on the C kernels, Double and others on the loops.
    static func runDepthwiseConv2d(
        _ input: Tensor, _ filter: Tensor, bias: Tensor?, applyingReLU relu: Bool, _ g: Conv2DGeometry,
        into out: UnsafeMutablePointer<Scalar>
    ) {
        let m = filter.shape[3], rows = g.batch * g.outputPositions, channels = g.inputChannels * m
        withOperands(input, filter, bias) { x, f, b in
            if Scalar.self == Float.self {
                ConvKernels.floatDepthwiseForward(x.cast(), f.cast(), g, multiplier: m, into: out.cast())
                ConvKernels.biasEpilogue(out.cast(to: Float.self), bias: b?.cast(), applyingReLU: relu,
                                         rows: rows, channels: channels)
            } else if Scalar.self == Double.self {
                ConvKernels.depthwiseForward(x.cast(to: Double.self), f.cast(), g, multiplier: m, into: out.cast())
                ConvKernels.biasEpilogue(out.cast(to: Double.self), bias: b?.cast(), applyingReLU: relu,
                                         rows: rows, channels: channels)
            } else {
                ConvKernels.depthwiseForward(x, f, g, multiplier: m, into: out)
                ConvKernels.biasEpilogue(out, bias: b, applyingReLU: relu, rows: rows, channels: channels)
            }
        }
    }

    /// The depthwise input gradient of `g` into `dx` (`[N, H, W, C]`).
    static func runDepthwiseBackwardInput(
        _ gradient: Tensor, _ filter: Tensor, _ g: Conv2DGeometry, into dx: UnsafeMutablePointer<Scalar>
    ) {
        let m = filter.shape[3]
        withOperands(gradient, filter) { dy, f, _ in
            if Scalar.self == Float.self {
                ConvKernels.floatDepthwiseBackwardInput(dy.cast(), f.cast(), g, multiplier: m, into: dx.cast())
            } else if Scalar.self == Double.self {
                ConvKernels.depthwiseBackwardInput(dy.cast(to: Double.self), f.cast(), g, multiplier: m, into: dx.cast())
            } else {
                ConvKernels.depthwiseBackwardInput(dy, f, g, multiplier: m, into: dx)
            }
        }
    }

    /// The depthwise filter gradient of `g` with depth multiplier `m` into `df` (`[KH, KW, C, M]`).
    static func runDepthwiseBackwardFilter(
        _ gradient: Tensor, _ input: Tensor, _ g: Conv2DGeometry, multiplier m: Int,
        into df: UnsafeMutablePointer<Scalar>
    ) {
        withOperands(gradient, input) { dy, x, _ in
            if Scalar.self == Float.self {
                ConvKernels.floatDepthwiseBackwardFilter(dy.cast(), x.cast(), g, multiplier: m, into: df.cast())
            } else if Scalar.self == Double.self {
                ConvKernels.depthwiseBackwardFilter(dy.cast(to: Double.self), x.cast(), g, multiplier: m, into: df.cast())
            } else {
                ConvKernels.depthwiseBackwardFilter(dy, x, g, multiplier: m, into: df)
            }
        }
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

    /// The geometry of a forward convolution of this input with `filter`, after the checks of
    /// ``checkedConvGeometry(operation:inputShape:filterShape:strides:padding:dilations:)`` and
    /// that `bias`, if any, has shape `[biasChannels]`.
    func checkedConv2dGeometry(
        operation: String, filter: Tensor, bias: Tensor?, biasChannels: Int,
        strides: (Int, Int), padding: Padding, dilations: (Int, Int)
    ) -> Conv2DGeometry {
        let g = Self.checkedConvGeometry(
            operation: operation, inputShape: shape, filterShape: filter.shape,
            strides: strides, padding: padding, dilations: dilations)
        if let bias {
            precondition(
                bias.rank == 1 && bias.shape[0] == biasChannels,
                "\(operation): bias of shape \(bias.shape) does not match the \(biasChannels) output channels of filter shape \(filter.shape)")
        }
        return g
    }

    /// The geometry of a backward pass, after the checks of
    /// ``checkedConvGeometry(operation:inputShape:filterShape:strides:padding:dilations:)`` and
    /// that the upstream gradient has the forward output's shape (`filterShape[3]` channels, or
    /// `filterShape[2] * filterShape[3]` when `depthwise`).
    static func checkedBackwardGeometry(
        operation: String, gradientShape: [Int], inputShape: [Int], filterShape: [Int], depthwise: Bool,
        strides: (Int, Int), padding: Padding, dilations: (Int, Int)
    ) -> Conv2DGeometry {
        let g = checkedConvGeometry(
            operation: operation, inputShape: inputShape, filterShape: filterShape,
            strides: strides, padding: padding, dilations: dilations)
        checkOutputShape(
            operation: operation, role: "gradient", shape: gradientShape, g,
            channels: depthwise ? filterShape[2] * filterShape[3] : filterShape[3],
            inputShape: inputShape, filterShape: filterShape)
        return g
    }

    /// Checks that `shape` (of the upstream gradient or the destination, named by `role`) is the
    /// output shape of `g` with `channels` channels, dimension by dimension (nothing is built
    /// unless the check fails).
    static func checkOutputShape(
        operation: String, role: String, shape: [Int], _ g: Conv2DGeometry, channels: Int,
        inputShape: [Int], filterShape: [Int]
    ) {
        precondition(
            g.isOutputShape(shape, channels: channels),
            "\(operation): \(role) shape \(shape) differs from the output shape \(g.outputShape(channels: channels)) of input shape \(inputShape) and filter shape \(filterShape)")
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

    /// The forward convolution `g` of `x` (`[N, H, W, Cin]`) with `f` (`[KH, KW, Cin, outChannels]`)
    /// into `out` (`[N, OH, OW, outChannels]`, every element written), followed by `+ bias`
    /// (`outChannels` values, optional) and ReLU (when `applyingReLU`): Winograd F(4x4, 3x3) where
    /// ``winogradApplies(_:outChannels:)`` (unless `allowWinograd` is false), the epilogue inside
    /// its output transform; the direct kernel for Float where ``directApplies(_:outChannels:)``
    /// (unless `allowDirect` is false), the epilogue inside its register tiles; else im2col + GEMM
    /// with `columnLimit` elements of columns per chunk (tests force small chunks), then the
    /// epilogue in one pass (``biasEpilogue(_:bias:applyingReLU:rows:channels:)``).
    static func forward<T: TensorScalar>(
        _ x: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: Conv2DGeometry, outChannels: Int,
        bias: UnsafePointer<T>? = nil, applyingReLU relu: Bool = false, into out: UnsafeMutablePointer<T>,
        columnLimit: Int? = nil, allowWinograd: Bool = true, allowDirect: Bool = true
    ) {
        if allowWinograd && winogradApplies(g, outChannels: outChannels) {
            if T.self == Float.self {
                winogradForwardFloat(x.cast(), f.cast(), g, outChannels: outChannels, bias: bias?.cast(),
                                     applyingReLU: relu, into: out.cast())
                return
            }
            if T.self == Double.self {
                winogradForward(x.cast(to: Double.self), f.cast(), g, outChannels: outChannels, bias: bias?.cast(),
                                applyingReLU: relu, into: out.cast())
                return
            }
        }
        if allowDirect, T.self == Float.self, directApplies(g, outChannels: outChannels) {
            directForward(x.cast(), f.cast(), g, outChannels: outChannels, bias: bias?.cast(), applyingReLU: relu,
                          into: out.cast())
            return
        }
        let k = g.kernelHeight * g.kernelWidth * g.inputChannels
        let rows = g.batch * g.outputPositions
        // The GEMMs (beta 0) write every output element.
        if rows > 0, outChannels > 0, k > 0 {
            if g.isPointwise {
                // The input [N*H*W, Cin] is the im2col matrix.
                T.gemm(transposeA: false, transposeB: false, m: rows, n: outChannels, k: k,
                       alpha: 1, a: x, lda: k, b: f, ldb: outChannels, beta: 0, c: out, ldc: outChannels)
            } else {
                forEachColumnChunk(g, columns: k, limit: columnLimit, im2colOf: x) { start, count, cols in
                    T.gemm(transposeA: false, transposeB: false, m: count, n: outChannels, k: k,
                           alpha: 1, a: cols, lda: k, b: f, ldb: outChannels,
                           beta: 0, c: out + start * outChannels, ldc: outChannels)
                }
            }
        } else {
            zeroFill(out, count: rows * outChannels)
        }
        biasEpilogue(out, bias: bias, applyingReLU: relu, rows: rows, channels: outChannels)
    }

    /// `out[r, c] += bias[c]` (when there is a bias), then `max(_, 0)` when `applyingReLU`, on
    /// `rows` rows of `channels` values: the epilogue of ``Tensor/addBias(_:applyingReLU:)`` on a
    /// buffer (the same kernels, so bitwise the same result; a NaN stays NaN).
    static func biasEpilogue<T: TensorScalar>(
        _ out: UnsafeMutablePointer<T>, bias: UnsafePointer<T>?, applyingReLU relu: Bool, rows: Int, channels: Int
    ) {
        guard bias != nil || relu, rows > 0, channels > 0 else { return }
        if let bias {
            if T.self == Float.self {
                BiasActivationKernels.addBias(out.cast(to: Float.self), bias.cast(to: Float.self),
                                              rows: rows, channels: channels, relu: relu)
            } else {
                BiasActivationKernels.addBias(out, bias, rows: rows, channels: channels, relu: relu)
            }
        } else {
            T.applyUnary(.relu, UnsafePointer(out), out, rows * channels)
        }
    }

    /// The input gradient of the convolution `g` with `outChannels` outputs: `dy`
    /// (`[N, OH, OW, outChannels]`) and the filter `f` into `dx` (`[N, H, W, Cin]`, every element
    /// written). Winograd F(4x4, 3x3) where ``winogradApplies(_:outChannels:)`` (unless
    /// `allowWinograd` is false), the direct kernel for Float where
    /// ``directBackwardInputApplies(_:outChannels:)`` (unless `allowDirect` is false), else GEMM +
    /// col2im in chunks of `columnLimit` elements.
    static func backwardInput<T: TensorScalar>(
        _ dy: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: Conv2DGeometry, outChannels: Int,
        into dx: UnsafeMutablePointer<T>, columnLimit: Int? = nil, allowWinograd: Bool = true, allowDirect: Bool = true
    ) {
        if allowWinograd && winogradApplies(g, outChannels: outChannels) {
            if T.self == Float.self {
                winogradBackwardInputFloat(dy.cast(), f.cast(), g, outChannels: outChannels, into: dx.cast())
                return
            }
            if T.self == Double.self {
                winogradBackwardInput(dy.cast(to: Double.self), f.cast(), g, outChannels: outChannels, into: dx.cast())
                return
            }
        }
        if allowDirect, T.self == Float.self, directBackwardInputApplies(g, outChannels: outChannels) {
            directPointwiseBackwardInput(dy.cast(), f.cast(), g, outChannels: outChannels, into: dx.cast())
            return
        }
        let k = g.kernelHeight * g.kernelWidth * g.inputChannels
        let rows = g.batch * g.outputPositions
        zeroFill(dx, count: g.inputCount)
        guard rows > 0, outChannels > 0, k > 0 else { return }
        if g.isPointwise {
            // dX [N*H*W, Cin] = dY [N*H*W, Cout] * F^T.
            T.gemm(transposeA: false, transposeB: true, m: rows, n: k, k: outChannels,
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

    /// The filter gradient of the convolution `g` with `outChannels` outputs: `dy`
    /// (`[N, OH, OW, outChannels]`) and the input `x` into `df` (`[KH, KW, Cin, outChannels]`,
    /// every element written, nothing accumulated). For Float, Winograd where
    /// ``winogradApplies(_:outChannels:)`` (unless `allowWinograd` is false) and the direct kernel
    /// where ``directApplies(_:outChannels:)`` (unless `allowDirect` is false), else im2col + GEMM
    /// in chunks of `columnLimit` elements, accumulated over the chunks.
    static func backwardFilter<T: TensorScalar>(
        _ dy: UnsafePointer<T>, _ x: UnsafePointer<T>, _ g: Conv2DGeometry, outChannels: Int,
        into df: UnsafeMutablePointer<T>, columnLimit: Int? = nil, allowWinograd: Bool = true, allowDirect: Bool = true
    ) {
        if allowWinograd, T.self == Float.self, winogradApplies(g, outChannels: outChannels) {
            winogradBackwardFilterFloat(dy.cast(), x.cast(), g, outChannels: outChannels, into: df.cast())
            return
        }
        if allowDirect, T.self == Float.self, directApplies(g, outChannels: outChannels) {
            directBackwardFilter(dy.cast(), x.cast(), g, outChannels: outChannels, into: df.cast())
            return
        }
        let k = g.kernelHeight * g.kernelWidth * g.inputChannels
        let rows = g.batch * g.outputPositions
        guard rows > 0, outChannels > 0, k > 0 else {
            zeroFill(df, count: k * outChannels)
            return
        }
        // A small K x Cout output over a long inner dimension: fastest on one BLAS thread. The
        // first GEMM (beta 0) writes every element.
        BLASThreading.withThreads(BLASThreading.weightGradientThreads) {
            if g.isPointwise {
                // dF [Cin, Cout] = X^T [Cin, N*H*W] * dY [N*H*W, Cout].
                T.gemm(transposeA: true, transposeB: false, m: k, n: outChannels, k: rows,
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

    /// The depthwise forward pass of `g` with depth multiplier `m` into `out`
    /// (`[N, OH, OW, C * m]`, zeroed first, then accumulated tap by tap).
    static func depthwiseForward<T: TensorScalar>(
        _ x: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: Conv2DGeometry, multiplier m: Int,
        into out: UnsafeMutablePointer<T>
    ) {
        let c = g.inputChannels, cm = c * m
        zeroFill(out, count: g.outputCount(channels: cm))
        guard cm > 0 else { return }
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

    /// The depthwise input gradient of `g` with depth multiplier `m`: `dy` (`[N, OH, OW, C * m]`)
    /// and the filter `f` into `dx` (`[N, H, W, C]`, zeroed first).
    static func depthwiseBackwardInput<T: TensorScalar>(
        _ dy: UnsafePointer<T>, _ f: UnsafePointer<T>, _ g: Conv2DGeometry, multiplier m: Int,
        into dx: UnsafeMutablePointer<T>
    ) {
        let c = g.inputChannels, cm = c * m
        zeroFill(dx, count: g.inputCount)
        guard cm > 0 else { return }
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

    /// The depthwise filter gradient of `g` with depth multiplier `m`: `dy` (`[N, OH, OW, C * m]`)
    /// and the input `x` into `df` (`[KH, KW, C, m]`, zeroed first).
    static func depthwiseBackwardFilter<T: TensorScalar>(
        _ dy: UnsafePointer<T>, _ x: UnsafePointer<T>, _ g: Conv2DGeometry, multiplier m: Int,
        into df: UnsafeMutablePointer<T>
    ) {
        let c = g.inputChannels, cm = c * m
        zeroFill(df, count: g.kernelHeight * g.kernelWidth * cm)
        guard cm > 0 else { return }
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
