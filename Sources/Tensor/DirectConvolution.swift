import CKernels

// Direct convolution, Float: the forward pass with the fused bias + ReLU epilogue and the filter
// gradient (where Winograd does not apply), and the input gradient of 1x1 kernels, as the C kernels
// of CKernels/directconv.c.
//
// It was written for the seed models' 1- and 3-channel first layers: with K = KH * KW * Cin = 9 or
// 27, im2col + sgemm is a GEMM with a tiny inner dimension (OpenBLAS reaches a fraction of its peak,
// and zeroes its output in a separate pass first) and the filter gradient a GEMM with a tiny output
// over a huge inner dimension (one BLAS thread). It turned out faster than im2col + sgemm at every
// channel count measured (up to 256), so it also takes the strided and 1x1 convolutions (Xception's
// pointwise and shortcut layers). For the Winograd layers' filter gradients the Winograd kernel is
// faster still (training images/s, the direct kernel against Winograd there, best of 3: vgg3 50 ->
// 65, vgg5 33 -> 45, deep-cnn 41 -> 57, cnn150 161 -> 194), so they stay on it. The input is
// copied once to a planar zero-padded layout `[N, Cin, Hp, Wp]` (1x1 kernels read it in place), the
// forward kernel keeps a tile of output pixels x output-channel vectors in registers and writes
// every output element once, after the bias and ReLU, and the filter gradient accumulates
// per-thread partial sums over disjoint output rows, added up in part order (deterministic). Both
// split across cores with ``Parallel``.

extension ConvKernels {
    /// The most taps (`KH * KW * Cin`) the direct kernel takes (its tap tables are on the stack).
    static let directMaximumTaps = 4096
    /// Multiply-adds per thread below which a direct convolution runs on one thread.
    static let directWorkPerThread = 1 << 20

    /// Whether a Float convolution with this geometry runs as the direct kernel (the forward pass
    /// and the filter gradient where they are not Winograd): a non-empty output and at most
    /// ``directMaximumTaps`` taps.
    ///
    /// Measured against im2col + sgemm (batch 32, 2 cores): the 1- and 3-channel first layers
    /// 10-18x (forward) and 7-8x (filter gradient) faster; 3x3 stride-2 convolutions with 16, 64
    /// and 128 input channels 5.3x, 3.2x and 2.6x (forward) and 7x, 6x, 6x (filter gradient);
    /// Xception's 1x1 convolutions 2-4x (forward) and 5-6x (filter gradient, against sgemm on one
    /// thread). Winograd stays faster for the forward pass where it applies.
    static func directApplies(_ g: Conv2DGeometry, outChannels: Int) -> Bool {
        let taps = g.kernelHeight * g.kernelWidth * g.inputChannels
        return g.inputChannels >= 1 && g.batch > 0 && g.outputPositions > 0 && outChannels > 0
            && taps <= directMaximumTaps
    }

    /// Whether the input gradient of a Float convolution runs as the direct kernel: 1x1 kernels
    /// (``directPointwiseBackwardInput(_:_:_:)``) with at most ``directMaximumTaps`` output channels.
    static func directBackwardInputApplies(_ g: Conv2DGeometry, outChannels: Int) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && directApplies(g, outChannels: outChannels)
            && outChannels <= directMaximumTaps
    }

    /// Whether the direct kernels read the NHWC input in place: for 1x1 kernels, whose windows
    /// never reach into the padding (so no planar padded copy is needed).
    static func directReadsInPlace(_ g: Conv2DGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.padTop == 0 && g.padLeft == 0
    }

    /// The planar padded plane `(Hp, Wp)`: exactly the rows and columns the windows read
    /// (`(OH - 1) * sh + (KH - 1) * dh + 1` rows).
    static func directPlane(_ g: Conv2DGeometry) -> (height: Int, width: Int) {
        ((g.outputHeight - 1) * g.strideHeight + (g.kernelHeight - 1) * g.dilationHeight + 1,
         (g.outputWidth - 1) * g.strideWidth + (g.kernelWidth - 1) * g.dilationWidth + 1)
    }

    /// The C kernels' description of `g` over its input: the NHWC input itself where
    /// ``directReadsInPlace(_:)``, else its planar padded copy (``directPlane(_:)``).
    static func directShape(_ g: Conv2DGeometry, outChannels: Int) -> ck_conv_direct_shape {
        let c = g.inputChannels
        let strides: (channel: Int, column: Int, row: Int, image: Int)
        if directReadsInPlace(g) {
            strides = (1, c, g.inputWidth * c, g.inputHeight * g.inputWidth * c)
        } else {
            let plane = directPlane(g)
            strides = (plane.height * plane.width, 1, plane.width, c * plane.height * plane.width)
        }
        return ck_conv_direct_shape(
            channels: c, channel_stride: strides.channel, column_stride: strides.column,
            row_stride: strides.row, image_stride: strides.image,
            kernel_height: g.kernelHeight, kernel_width: g.kernelWidth,
            stride_h: g.strideHeight, stride_w: g.strideWidth,
            dilation_h: g.dilationHeight, dilation_w: g.dilationWidth,
            out_height: g.outputHeight, out_width: g.outputWidth, out_channels: outChannels)
    }

    /// Output rows (`n * OH + i`) per thread so that each thread gets at least
    /// ``directWorkPerThread`` multiply-adds.
    static func directRowsPerThread(_ g: Conv2DGeometry, outChannels: Int) -> Int {
        let perRow = g.outputWidth * outChannels * g.kernelHeight * g.kernelWidth * g.inputChannels
        return Swift.max(1, directWorkPerThread / Swift.max(perRow, 1))
    }

    /// Calls `body` with the input the direct kernels read for `g`: the NHWC `input` itself where
    /// ``directReadsInPlace(_:)``, else its planar zero-padded copy (`[N, Cin, Hp, Wp]`, see
    /// ``directPlane(_:)``), filled in parallel over images.
    static func withDirectInput<R>(
        _ g: Conv2DGeometry, input: UnsafePointer<Float>, _ body: (UnsafePointer<Float>) -> R
    ) -> R {
        if directReadsInPlace(g) { return body(input) }
        let (height, width) = directPlane(g)
        let image = g.inputChannels * height * width
        return withScratchBuffer(count: g.batch * image) { (planar: UnsafeMutablePointer<Float>) in
            let imagesPerThread = Swift.max(1, BiasActivationKernels.elementsPerThread / Swift.max(image, 1))
            Parallel.forEachRange(g.batch, minimumPerThread: imagesPerThread, PlanarPadLoop(
                input: UncheckedSendable(input), planar: UncheckedSendable(planar), g: g, height: height, width: width))
            return body(UnsafePointer(planar))
        }
    }

    /// The forward convolution `g` of `x` with `f` (`[KH, KW, Cin, outChannels]`) by the direct
    /// kernel into `out` (every element written once), followed by `+ bias` (`outChannels` values,
    /// optional) and ReLU (when `applyingReLU`); `portable` runs the C kernel's portable loop
    /// instead of its AVX-512 one (tests).
    /// - Precondition: ``directApplies(_:outChannels:)``.
    static func directForward(
        _ x: UnsafePointer<Float>, _ f: UnsafePointer<Float>, _ g: Conv2DGeometry, outChannels: Int,
        bias: UnsafePointer<Float>? = nil, applyingReLU: Bool = false, into out: UnsafeMutablePointer<Float>,
        portable: Bool = false
    ) {
        precondition(directApplies(g, outChannels: outChannels), "directForward: geometry \(g) does not take the direct kernel")
        let taps = g.kernelHeight * g.kernelWidth * g.inputChannels
        let padded = ck_conv_direct_padded_channels(outChannels)
        let shape = directShape(g, outChannels: outChannels)
        let rows = g.batch * g.outputHeight
        withScratchBuffer(count: taps * padded + padded) { (packed: UnsafeMutablePointer<Float>) in
            let paddedBias = packed + taps * padded
            ck_conv_direct_pack_f32(f, packed, taps, outChannels)
            if let bias {
                zeroFill(paddedBias, count: padded)
                paddedBias.update(from: bias, count: outChannels)
            }
            withDirectInput(g, input: x) { source in
                withUnsafePointer(to: shape) { s in
                    Parallel.forEachRange(rows, minimumPerThread: directRowsPerThread(g, outChannels: outChannels), DirectForwardLoop(
                        shape: UncheckedSendable(s), input: UncheckedSendable(source),
                        packed: UncheckedSendable(UnsafePointer(packed)),
                        bias: UncheckedSendable(bias == nil ? nil : UnsafePointer(paddedBias)), output: UncheckedSendable(out),
                        relu: applyingReLU ? 1 : 0, portable: portable))
                }
            }
        }
    }

    /// The filter gradient by the direct kernel: `dy` (`[N, OH, OW, outChannels]`) and the input
    /// `x` into `df` (`[KH, KW, Cin, outChannels]`, every element written), per-thread partial sums
    /// over disjoint ranges of output rows, added in part order; `portable` as in
    /// ``directForward(_:_:_:outChannels:bias:applyingReLU:into:portable:)``.
    /// - Precondition: ``directApplies(_:outChannels:)``.
    static func directBackwardFilter(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ g: Conv2DGeometry, outChannels: Int,
        into df: UnsafeMutablePointer<Float>, portable: Bool = false
    ) {
        precondition(directApplies(g, outChannels: outChannels), "directBackwardFilter: geometry \(g) does not take the direct kernel")
        let taps = g.kernelHeight * g.kernelWidth * g.inputChannels
        let padded = ck_conv_direct_padded_channels(outChannels)
        let shape = directShape(g, outChannels: outChannels)
        let rows = g.batch * g.outputHeight
        let parts = Swift.min(Parallel.threads, Swift.max(1, rows / directRowsPerThread(g, outChannels: outChannels)))
        withScratchBuffer(count: parts * taps * padded) { (partials: UnsafeMutablePointer<Float>) in
            zeroFill(partials, count: parts * taps * padded)
            withDirectInput(g, input: x) { source in
                withUnsafePointer(to: shape) { s in
                    Parallel.forEachPart(parts, DirectBackwardFilterParts(
                        shape: UncheckedSendable(s), input: UncheckedSendable(source), gradient: UncheckedSendable(dy),
                        partials: UncheckedSendable(partials), rows: rows, parts: parts, size: taps * padded,
                        portable: portable))
                }
            }
            // df[t, o] = the partial sums of (t, o), added in part order.
            for t in 0..<taps {
                let row = df + t * outChannels
                row.update(from: partials + t * padded, count: outChannels)
                for part in 1..<Swift.max(parts, 1) {
                    let src = partials + (part * taps + t) * padded
                    for o in 0..<outChannels { row[o] += src[o] }
                }
            }
        }
    }

    /// The input gradient of a 1x1 convolution by the direct kernel: `dY * F^T` is itself a 1x1
    /// convolution of the upstream gradient `dy` (`[N, OH, OW, outChannels]`, read in place) with
    /// the transposed filter `[1, 1, outChannels, Cin]` (a scratch copy); at stride 1 it is the
    /// input gradient, written straight into `dx`, otherwise it goes to scratch and is scattered to
    /// the strided positions of `dx`, zeroed first (every element of `dx` is written).
    /// - Precondition: `g` has a 1x1 kernel.
    static func directPointwiseBackwardInput(
        _ dy: UnsafePointer<Float>, _ f: UnsafePointer<Float>, _ g: Conv2DGeometry, outChannels cout: Int,
        into dx: UnsafeMutablePointer<Float>
    ) {
        precondition(g.kernelHeight == 1 && g.kernelWidth == 1, "directPointwiseBackwardInput: kernel of \(g) is not 1x1")
        let cin = g.inputChannels
        let upstream = Conv2DGeometry(
            batch: g.batch, inputHeight: g.outputHeight, inputWidth: g.outputWidth, inputChannels: cout,
            kernelHeight: 1, kernelWidth: 1, strides: (1, 1), padding: .valid, dilations: (1, 1))
        let strided = g.strideHeight != 1 || g.strideWidth != 1
        let rows = g.batch * g.outputHeight
        withScratchBuffer(count: cin * cout + (strided ? rows * g.outputWidth * cin : 0)) { (scratch: UnsafeMutablePointer<Float>) in
            // The transposed filter [Cout, Cin].
            for i in 0..<cin {
                for o in 0..<cout { scratch[o * cin + i] = f[i * cout + o] }
            }
            guard strided else {
                directForward(dy, scratch, upstream, outChannels: cin, into: dx)
                return
            }
            let compact = scratch + cin * cout
            directForward(dy, scratch, upstream, outChannels: cin, into: compact)
            zeroFill(dx, count: g.inputCount)
            Parallel.forEachRange(rows, minimumPerThread: depthwiseRowsPerThread(rowElements: g.outputWidth * cin), StridedScatterLoop(
                source: UncheckedSendable(UnsafePointer(compact)), dx: UncheckedSendable(dx), g: g))
        }
    }
}

/// The loop body of ``ConvKernels/withDirectInput(_:input:_:)``: the planar zero-padded copy of a
/// range of images.
private struct PlanarPadLoop: ParallelLoopBody {
    let input: UncheckedSendable<UnsafePointer<Float>>
    let planar: UncheckedSendable<UnsafeMutablePointer<Float>>
    let g: Conv2DGeometry
    let height, width: Int

    func callAsFunction(_ images: Range<Int>) {
        ck_conv_planar_pad_f32(
            input.value, planar.value, g.inputHeight, g.inputWidth, g.inputChannels,
            height, width, g.padTop, g.padLeft, images.lowerBound, images.upperBound)
    }
}

/// The loop body of ``ConvKernels/directForward(_:_:_:outChannels:bias:applyingReLU:into:portable:)``:
/// the direct kernel on a range of output rows.
private struct DirectForwardLoop: ParallelLoopBody {
    let shape: UncheckedSendable<UnsafePointer<ck_conv_direct_shape>>
    let input, packed: UncheckedSendable<UnsafePointer<Float>>
    let bias: UncheckedSendable<UnsafePointer<Float>?>
    let output: UncheckedSendable<UnsafeMutablePointer<Float>>
    let relu: Int32
    let portable: Bool

    func callAsFunction(_ range: Range<Int>) {
        if portable {
            ck_conv_direct_forward_portable_f32(
                shape.value, input.value, packed.value, bias.value, output.value, range.lowerBound, range.upperBound, relu)
        } else {
            ck_conv_direct_forward_f32(
                shape.value, input.value, packed.value, bias.value, output.value, range.lowerBound, range.upperBound, relu)
        }
    }
}

/// The loop body of ``ConvKernels/directBackwardFilter(_:_:_:outChannels:into:portable:)``: part
/// `part`'s range of output rows into its own partial sums (`size` Floats).
private struct DirectBackwardFilterParts: ParallelPartBody {
    let shape: UncheckedSendable<UnsafePointer<ck_conv_direct_shape>>
    let input, gradient: UncheckedSendable<UnsafePointer<Float>>
    let partials: UncheckedSendable<UnsafeMutablePointer<Float>>
    let rows, parts, size: Int
    let portable: Bool

    func callAsFunction(_ part: Int) {
        let range = Parallel.range(part, of: parts, count: rows)
        let dw = partials.value + part * size
        if portable {
            ck_conv_direct_backward_filter_portable_f32(
                shape.value, input.value, gradient.value, dw, range.lowerBound, range.upperBound)
        } else {
            ck_conv_direct_backward_filter_f32(shape.value, input.value, gradient.value, dw, range.lowerBound, range.upperBound)
        }
    }
}

/// The loop body of ``ConvKernels/directPointwiseBackwardInput(_:_:_:outChannels:into:)`` at a
/// stride: copies a range of rows of the compact gradient to their strided positions in `dx`.
private struct StridedScatterLoop: ParallelLoopBody {
    let source: UncheckedSendable<UnsafePointer<Float>>
    let dx: UncheckedSendable<UnsafeMutablePointer<Float>>
    let g: Conv2DGeometry

    func callAsFunction(_ range: Range<Int>) {
        let cin = g.inputChannels
        for r in range {
            let (n, i) = r.quotientAndRemainder(dividingBy: g.outputHeight)
            let row = dx.value + ((n * g.inputHeight + i * g.strideHeight) * g.inputWidth) * cin
            for j in 0..<g.outputWidth {
                (row + j * g.strideWidth * cin).update(from: source.value + (r * g.outputWidth + j) * cin, count: cin)
            }
        }
    }
}
