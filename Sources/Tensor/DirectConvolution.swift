import CKernels

// Direct convolution, Float: the forward pass with the fused bias + ReLU epilogue and the filter
// gradient, as the C kernels of CKernels/directconv.c, for every kernel larger than 1x1 (forward:
// where Winograd does not apply) and for 1x1 kernels with few input channels.
//
// It was written for the seed models' 1- and 3-channel first layers: with K = KH * KW * Cin = 9 or
// 27, im2col + sgemm is a GEMM with a tiny inner dimension (OpenBLAS reaches a fraction of its peak,
// and zeroes its output in a separate pass first) and the filter gradient a GEMM with a tiny output
// over a huge inner dimension (one BLAS thread). It turned out faster than im2col + sgemm at every
// channel count measured (up to 128), so it also takes the strided convolutions and the filter
// gradients of the Winograd layers. The input is copied once to a planar zero-padded layout
// `[N, Cin, Hp, Wp]`, the forward kernel keeps a tile of output pixels x output-channel vectors in
// registers and writes every output element once, after the bias and ReLU, and the filter gradient
// accumulates per-thread partial sums over disjoint output rows, added up in part order
// (deterministic). Both split across cores with ``Parallel``.

extension ConvKernels {
    /// The most input channels for which a Float convolution with a 1x1 kernel runs as the direct
    /// kernel. With more, the input (stride 1) or a strided gather of it is already a GEMM operand
    /// of useful depth, and the direct kernel's planar copy of the whole input costs more than it
    /// saves (xception-mini's 1x1 convolutions: slower, measured).
    static let directMaximumPointwiseChannels = 4
    /// The most taps (`KH * KW * Cin`) the direct kernel takes (its tap tables are on the stack).
    static let directMaximumTaps = 4096
    /// Multiply-adds per thread below which a direct convolution runs on one thread.
    static let directWorkPerThread = 1 << 20

    /// Whether a Float convolution with this geometry runs as the direct kernel (the forward pass
    /// where it is not Winograd, and the filter gradient): a non-empty output and at most
    /// ``directMaximumTaps`` taps, with a kernel larger than 1x1 or at most
    /// ``directMaximumPointwiseChannels`` input channels.
    ///
    /// Measured against im2col + sgemm (Kernels benchmarks, batch 32, 2 cores): the 1- and
    /// 3-channel first layers 10-18x (forward) and 7-8x (filter gradient) faster; 3x3 stride-2
    /// convolutions with 16, 64 and 128 input channels 5.3x, 3.2x and 2.6x (forward) and 7x, 6x, 6x
    /// (filter gradient). Winograd stays faster for the forward pass where it applies.
    static func directApplies(_ g: Conv2DGeometry, outChannels: Int) -> Bool {
        let taps = g.kernelHeight * g.kernelWidth * g.inputChannels
        return g.inputChannels >= 1 && g.batch > 0 && g.outputPositions > 0 && outChannels > 0
            && taps <= directMaximumTaps
            && (g.kernelHeight * g.kernelWidth > 1 || g.inputChannels <= directMaximumPointwiseChannels)
    }

    /// The C kernels' description of `g` over its planar padded input: the plane holds exactly
    /// the rows and columns the windows read (`(OH - 1) * sh + (KH - 1) * dh + 1` rows).
    static func directShape(_ g: Conv2DGeometry, outChannels: Int) -> ck_conv_direct_shape {
        ck_conv_direct_shape(
            channels: g.inputChannels,
            plane_height: (g.outputHeight - 1) * g.strideHeight + (g.kernelHeight - 1) * g.dilationHeight + 1,
            plane_width: (g.outputWidth - 1) * g.strideWidth + (g.kernelWidth - 1) * g.dilationWidth + 1,
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

    /// Calls `body` with the planar zero-padded copy of the NHWC `input` (`[N, Cin, Hp, Wp]`, see
    /// ``directShape(_:outChannels:)``), filled in parallel over images.
    static func withPlanarInput<R>(
        _ g: Conv2DGeometry, _ shape: ck_conv_direct_shape, input: UnsafePointer<Float>,
        _ body: (UnsafePointer<Float>) -> R
    ) -> R {
        let plane = shape.plane_height * shape.plane_width
        return withScratchBuffer(count: g.batch * g.inputChannels * plane) { (planar: UnsafeMutablePointer<Float>) in
            let (x, q) = (UncheckedSendable(input), UncheckedSendable(planar))
            let imagesPerThread = Swift.max(1, BiasActivationKernels.elementsPerThread / Swift.max(plane * g.inputChannels, 1))
            Parallel.forEachRange(g.batch, minimumPerThread: imagesPerThread) { images in
                ck_conv_planar_pad_f32(
                    x.value, q.value, g.inputHeight, g.inputWidth, g.inputChannels,
                    shape.plane_height, shape.plane_width, g.padTop, g.padLeft, images.lowerBound, images.upperBound)
            }
            return body(UnsafePointer(planar))
        }
    }

    /// The forward convolution by the direct kernel, followed by `+ bias` (`[Cout]`, optional) and
    /// ReLU (when `applyingReLU`); `portable` runs the C kernel's portable loop instead of its
    /// AVX-512 one (tests).
    /// - Precondition: ``directApplies(_:outChannels:)``.
    static func directForward(
        _ input: Tensor<Float>, _ filter: Tensor<Float>, _ g: Conv2DGeometry, bias: Tensor<Float>? = nil,
        applyingReLU: Bool = false, portable: Bool = false
    ) -> Tensor<Float> {
        let outChannels = filter.shape[3]
        precondition(directApplies(g, outChannels: outChannels), "directForward: geometry \(g) does not take the direct kernel")
        let taps = g.kernelHeight * g.kernelWidth * g.inputChannels
        let padded = ck_conv_direct_padded_channels(outChannels)
        let shape = directShape(g, outChannels: outChannels)
        let rows = g.batch * g.outputHeight
        // The kernel writes every output element once.
        return Tensor<Float>.buildUninitialized(shape: g.outputShape(channels: outChannels)) { out in
            withScratchBuffer(count: taps * padded + padded) { (packed: UnsafeMutablePointer<Float>) in
                let paddedBias = packed + taps * padded
                filter.withUnsafeBufferPointer { ck_conv_direct_pack_f32($0.baseAddress!, packed, taps, outChannels) }
                if let bias {
                    zeroFill(paddedBias, count: padded)
                    bias.withUnsafeBufferPointer { paddedBias.update(from: $0.baseAddress!, count: outChannels) }
                }
                input.withUnsafeBufferPointer { xBuffer in
                    withPlanarInput(g, shape, input: xBuffer.baseAddress!) { planar in
                        let (q, w, b, y) = (UncheckedSendable(planar), UncheckedSendable(UnsafePointer(packed)),
                                            UncheckedSendable(bias == nil ? nil : UnsafePointer(paddedBias)),
                                            UncheckedSendable(out))
                        let relu: Int32 = applyingReLU ? 1 : 0
                        withUnsafePointer(to: shape) { s in
                            let sp = UncheckedSendable(s)
                            Parallel.forEachRange(rows, minimumPerThread: directRowsPerThread(g, outChannels: outChannels)) { range in
                                if portable {
                                    ck_conv_direct_forward_portable_f32(
                                        sp.value, q.value, w.value, b.value, y.value, range.lowerBound, range.upperBound, relu)
                                } else {
                                    ck_conv_direct_forward_f32(
                                        sp.value, q.value, w.value, b.value, y.value, range.lowerBound, range.upperBound, relu)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The filter gradient by the direct kernel: per-thread partial sums over disjoint ranges of
    /// output rows, added in part order; `portable` as in ``directForward(_:_:_:bias:applyingReLU:portable:)``.
    /// - Precondition: ``directApplies(_:outChannels:)``.
    static func directBackwardFilter(
        _ gradient: Tensor<Float>, _ input: Tensor<Float>, _ filterShape: [Int], _ g: Conv2DGeometry,
        portable: Bool = false
    ) -> Tensor<Float> {
        let outChannels = filterShape[3]
        precondition(directApplies(g, outChannels: outChannels), "directBackwardFilter: geometry \(g) does not take the direct kernel")
        let taps = g.kernelHeight * g.kernelWidth * g.inputChannels
        let padded = ck_conv_direct_padded_channels(outChannels)
        let shape = directShape(g, outChannels: outChannels)
        let rows = g.batch * g.outputHeight
        let parts = Swift.min(Parallel.threads, Swift.max(1, rows / directRowsPerThread(g, outChannels: outChannels)))
        return Tensor<Float>.buildUninitialized(shape: filterShape) { df in
            withScratchBuffer(count: parts * taps * padded) { (partials: UnsafeMutablePointer<Float>) in
                zeroFill(partials, count: parts * taps * padded)
                gradient.withUnsafeBufferPointer { gBuffer in
                    input.withUnsafeBufferPointer { xBuffer in
                        withPlanarInput(g, shape, input: xBuffer.baseAddress!) { planar in
                            let (q, dy, p) = (UncheckedSendable(planar), UncheckedSendable(gBuffer.baseAddress!),
                                              UncheckedSendable(partials))
                            withUnsafePointer(to: shape) { s in
                                let sp = UncheckedSendable(s)
                                Parallel.forEachPart(parts) { part in
                                    let range = Parallel.range(part, of: parts, count: rows)
                                    let dw = p.value + part * taps * padded
                                    if portable {
                                        ck_conv_direct_backward_filter_portable_f32(
                                            sp.value, q.value, dy.value, dw, range.lowerBound, range.upperBound)
                                    } else {
                                        ck_conv_direct_backward_filter_f32(
                                            sp.value, q.value, dy.value, dw, range.lowerBound, range.upperBound)
                                    }
                                }
                            }
                        }
                    }
                }
                // df[t, o] = the partial sums of (t, o), added in part order.
                for t in 0..<taps {
                    let row = df + t * outChannels
                    row.initialize(from: partials + t * padded, count: outChannels)
                    for part in 1..<Swift.max(parts, 1) {
                        let src = partials + (part * taps + t) * padded
                        for o in 0..<outChannels { row[o] += src[o] }
                    }
                }
            }
        }
    }
}
