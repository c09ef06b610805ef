import CKernels

// Depthwise convolution in Float on the C kernels of CKernels/depthwise.c, split across cores:
// the forward pass and the input gradient over rows of their outputs (every element written once),
// the filter gradient as per-thread partial sums over disjoint output rows, added in part order.
// Double keeps the generic loops of Convolution.swift (the gradient checks run in Double).

extension ConvKernels {
    /// The C kernels' description of a depthwise convolution with geometry `g` and depth
    /// multiplier `multiplier`.
    static func depthwiseShape(_ g: Conv2DGeometry, multiplier: Int) -> ck_depthwise_shape {
        ck_depthwise_shape(
            height: g.inputHeight, width: g.inputWidth, channels: g.inputChannels, multiplier: multiplier,
            kernel_height: g.kernelHeight, kernel_width: g.kernelWidth,
            stride_h: g.strideHeight, stride_w: g.strideWidth, dilation_h: g.dilationHeight, dilation_w: g.dilationWidth,
            pad_top: g.padTop, pad_left: g.padLeft, out_height: g.outputHeight, out_width: g.outputWidth)
    }

    /// Rows of `rowElements` elements per thread so each thread writes at least
    /// ``BiasActivationKernels/elementsPerThread`` elements.
    static func depthwiseRowsPerThread(rowElements: Int) -> Int {
        Swift.max(1, BiasActivationKernels.elementsPerThread / Swift.max(rowElements, 1))
    }

    /// A C kernel that writes rows `begin ..< end` of its output from two inputs.
    typealias DepthwiseRowKernel = @convention(c) (
        UnsafePointer<ck_depthwise_shape>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
        Int, Int
    ) -> Void

    /// Runs `kernel` on `a` and `b` into `out` over `rows` rows of `rowElements` elements, split
    /// across threads.
    static func forEachDepthwiseRows(
        _ kernel: DepthwiseRowKernel, _ shape: ck_depthwise_shape, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, rows: Int, rowElements: Int
    ) {
        withUnsafePointer(to: shape) { s in
            Parallel.forEachRange(rows, minimumPerThread: depthwiseRowsPerThread(rowElements: rowElements), DepthwiseRowsLoop(
                kernel: kernel, shape: UncheckedSendable(s), a: UncheckedSendable(a), b: UncheckedSendable(b),
                out: UncheckedSendable(out)))
        }
    }

    /// The depthwise forward pass in Float with depth multiplier `m` into `out`
    /// (`[N, OH, OW, C * m]`, every element written; C kernel, parallel over output rows).
    static func floatDepthwiseForward(
        _ x: UnsafePointer<Float>, _ f: UnsafePointer<Float>, _ g: Conv2DGeometry, multiplier m: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        let cm = g.inputChannels * m
        let rows = g.batch * g.outputHeight
        guard rows > 0, g.outputWidth > 0, cm > 0 else {
            zeroFill(out, count: g.outputCount(channels: cm))
            return
        }
        forEachDepthwiseRows(
            ck_depthwise_forward_f32, depthwiseShape(g, multiplier: m), x, f,
            out: out, rows: rows, rowElements: g.outputWidth * cm)
    }

    /// The depthwise input gradient in Float with depth multiplier `m`: `dy` (`[N, OH, OW, C * m]`)
    /// and the filter `f` into `dx` (`[N, H, W, C]`, every element written; C kernel, a gather
    /// parallel over input rows).
    static func floatDepthwiseBackwardInput(
        _ dy: UnsafePointer<Float>, _ f: UnsafePointer<Float>, _ g: Conv2DGeometry, multiplier m: Int,
        into dx: UnsafeMutablePointer<Float>
    ) {
        let c = g.inputChannels
        let rows = g.batch * g.inputHeight
        guard rows > 0, g.inputWidth > 0, c > 0 else { return }
        guard m > 0, g.outputPositions > 0 else {
            zeroFill(dx, count: g.inputCount)
            return
        }
        forEachDepthwiseRows(
            ck_depthwise_backward_input_f32, depthwiseShape(g, multiplier: m), dy, f,
            out: dx, rows: rows, rowElements: g.inputWidth * c * m)
    }

    /// The depthwise filter gradient in Float with depth multiplier `m`: `dy` (`[N, OH, OW, C * m]`)
    /// and the input `x` into `df` (`[KH, KW, C, m]`, every element written; C kernel):
    /// per-thread partial sums over disjoint ranges of output rows, added in part order.
    static func floatDepthwiseBackwardFilter(
        _ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ g: Conv2DGeometry, multiplier m: Int,
        into df: UnsafeMutablePointer<Float>
    ) {
        let cm = g.inputChannels * m
        let size = g.kernelHeight * g.kernelWidth * cm
        let rows = g.batch * g.outputHeight
        zeroFill(df, count: size)
        guard rows > 0, g.outputWidth > 0, size > 0 else { return }
        let parts = Swift.min(
            Parallel.threads, Swift.max(1, rows / depthwiseRowsPerThread(rowElements: g.outputWidth * cm)))
        // Per part: its partial sums, then the kernel's scratch row.
        withScratchBuffer(count: parts * 2 * size) { (buffers: UnsafeMutablePointer<Float>) in
            zeroFill(buffers, count: parts * 2 * size)
            withUnsafePointer(to: depthwiseShape(g, multiplier: m)) { s in
                Parallel.forEachPart(parts, DepthwiseBackwardFilterParts(
                    shape: UncheckedSendable(s), x: UncheckedSendable(x), dy: UncheckedSendable(dy),
                    buffers: UncheckedSendable(buffers), rows: rows, parts: parts, size: size))
            }
            for part in 0..<parts {
                let partial = buffers + part * 2 * size
                for e in 0..<size { df[e] += partial[e] }
            }
        }
    }
}

/// The loop body of ``ConvKernels/forEachDepthwiseRows(_:_:_:_:out:rows:rowElements:)``: `kernel`
/// on a range of rows.
private struct DepthwiseRowsLoop: ParallelLoopBody {
    let kernel: ConvKernels.DepthwiseRowKernel
    let shape: UncheckedSendable<UnsafePointer<ck_depthwise_shape>>
    let a, b: UncheckedSendable<UnsafePointer<Float>>
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>

    func callAsFunction(_ range: Range<Int>) {
        kernel(shape.value, a.value, b.value, out.value, range.lowerBound, range.upperBound)
    }
}

/// The loop body of ``ConvKernels/floatDepthwiseBackwardFilter(_:_:_:multiplier:into:)``: part
/// `part`'s range of output rows into its own partial sums (`size` Floats, then `size` of scratch).
private struct DepthwiseBackwardFilterParts: ParallelPartBody {
    let shape: UncheckedSendable<UnsafePointer<ck_depthwise_shape>>
    let x, dy: UncheckedSendable<UnsafePointer<Float>>
    let buffers: UncheckedSendable<UnsafeMutablePointer<Float>>
    let rows, parts, size: Int

    func callAsFunction(_ part: Int) {
        let range = Parallel.range(part, of: parts, count: rows)
        let partial = buffers.value + part * 2 * size
        ck_depthwise_backward_filter_f32(shape.value, x.value, dy.value, partial, partial + size, range.lowerBound, range.upperBound)
    }
}
