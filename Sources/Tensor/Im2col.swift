// im2col / col2im for NHWC convolution: the bridge between a convolution and one GEMM.
//
// The column matrix has one row per output position (n, i, j) and K = KH * KW * Cin columns
// ordered (a, b, c), matching an HWIO filter viewed as a [K, Cout] matrix. Each run of Cin
// channels is contiguous in both the input and the matrix, so the copies are contiguous runs.
// Rows are addressed by their flat index `(n * OH + i) * OW + j`, so a chunk of rows may start
// and end anywhere in the batch (the convolutions work in chunks of about 2 MiB of columns).

extension ConvKernels {
    /// Fills `columns` (`rowCount` rows of `K` elements) with the receptive fields of output
    /// positions `firstRow ..< firstRow + rowCount` (flat over the batch) of the NHWC `input`;
    /// positions in the padding are written as zero (the buffer is reused, so every element is written).
    static func im2col<T: TensorScalar>(
        _ g: Conv2DGeometry, input: UnsafePointer<T>, firstRow: Int, rowCount: Int,
        columns: UnsafeMutablePointer<T>
    ) {
        let c = g.inputChannels, kw = g.kernelWidth
        let rowLength = g.kernelHeight * kw * c
        // With no horizontal dilation a kernel row is one contiguous run of KW * C input elements.
        let contiguousKernelRows = g.dilationWidth == 1
        var row = columns
        forEachPosition(g, firstRow: firstRow, rowCount: rowCount) { n, i, j in
            let y0 = i * g.strideHeight - g.padTop
            let x0 = j * g.strideWidth - g.padLeft
            let fitsHorizontally = x0 >= 0 && x0 + (kw - 1) * g.dilationWidth < g.inputWidth
            for a in 0..<g.kernelHeight {
                let y = y0 + a * g.dilationHeight
                let dst = row + a * kw * c
                if y < 0 || y >= g.inputHeight {
                    dst.update(repeating: 0, count: kw * c)
                    continue
                }
                let rowBase = input + ((n * g.inputHeight + y) * g.inputWidth) * c
                if contiguousKernelRows && fitsHorizontally {
                    dst.update(from: rowBase + x0 * c, count: kw * c)
                    continue
                }
                for b in 0..<kw {
                    let x = x0 + b * g.dilationWidth
                    let d = dst + b * c
                    if x < 0 || x >= g.inputWidth {
                        d.update(repeating: 0, count: c)
                    } else {
                        d.update(from: rowBase + x * c, count: c)
                    }
                }
            }
            row += rowLength
        }
    }

    /// The adjoint of ``im2col(_:input:firstRow:rowCount:columns:)``: adds every element of
    /// `columns` back into the NHWC `gradient` position it was copied from (padding positions
    /// are dropped).
    static func col2im<T: TensorScalar>(
        _ g: Conv2DGeometry, columns: UnsafePointer<T>, firstRow: Int, rowCount: Int,
        gradient: UnsafeMutablePointer<T>
    ) {
        let c = g.inputChannels, kw = g.kernelWidth
        let rowLength = g.kernelHeight * kw * c
        let contiguousKernelRows = g.dilationWidth == 1
        var row = columns
        forEachPosition(g, firstRow: firstRow, rowCount: rowCount) { n, i, j in
            let y0 = i * g.strideHeight - g.padTop
            let x0 = j * g.strideWidth - g.padLeft
            let fitsHorizontally = x0 >= 0 && x0 + (kw - 1) * g.dilationWidth < g.inputWidth
            for a in 0..<g.kernelHeight {
                let y = y0 + a * g.dilationHeight
                if y < 0 || y >= g.inputHeight { continue }
                let src = row + a * kw * c
                let rowBase = gradient + ((n * g.inputHeight + y) * g.inputWidth) * c
                if contiguousKernelRows && fitsHorizontally {
                    let dst = rowBase + x0 * c
                    for e in 0..<(kw * c) { dst[e] += src[e] }
                    continue
                }
                for b in 0..<kw {
                    let x = x0 + b * g.dilationWidth
                    if x < 0 || x >= g.inputWidth { continue }
                    let d = rowBase + x * c, s = src + b * c
                    for e in 0..<c { d[e] += s[e] }
                }
            }
            row += rowLength
        }
    }

    /// Calls `body(n, i, j)` for the output positions `firstRow ..< firstRow + rowCount`, in
    /// flat order `(n * OH + i) * OW + j`.
    @inline(__always)
    static func forEachPosition(
        _ g: Conv2DGeometry, firstRow: Int, rowCount: Int, _ body: (_ n: Int, _ i: Int, _ j: Int) -> Void
    ) {
        let positions = g.outputPositions
        guard rowCount > 0, positions > 0 else { return }
        var n = firstRow / positions
        var i = (firstRow % positions) / g.outputWidth
        var j = firstRow % g.outputWidth
        for _ in 0..<rowCount {
            body(n, i, j)
            j += 1
            if j == g.outputWidth {
                j = 0
                i += 1
                if i == g.outputHeight {
                    i = 0
                    n += 1
                }
            }
        }
    }
}
