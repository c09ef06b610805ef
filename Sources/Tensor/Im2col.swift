// im2col / col2im for NHWC convolution: the bridge between a convolution and one GEMM.
//
// The column matrix has one row per output position (n, i, j) and K = KH * KW * Cin columns
// ordered (a, b, c), matching an HWIO filter viewed as a [K, Cout] matrix. Each run of Cin
// channels is contiguous in both the input and the matrix, so the copies are contiguous loops.

extension ConvKernels {
    /// Fills `columns` (`imageCount * OH * OW` rows of `K` elements) with the receptive fields of
    /// images `firstImage ..< firstImage + imageCount` of the NHWC `input`; positions in the
    /// padding are written as zero (the buffer is reused, so every element is written).
    static func im2col<T: TensorScalar>(
        _ g: Conv2DGeometry, input: UnsafePointer<T>, firstImage: Int, imageCount: Int,
        columns: UnsafeMutablePointer<T>
    ) {
        let c = g.inputChannels, kw = g.kernelWidth
        let rowLength = g.kernelHeight * kw * c
        // With no horizontal dilation a kernel row is one contiguous run of KW * C input elements.
        let contiguousKernelRows = g.dilationWidth == 1
        var row = columns
        for n in firstImage..<(firstImage + imageCount) {
            for i in 0..<g.outputHeight {
                let y0 = i * g.strideHeight - g.padTop
                for j in 0..<g.outputWidth {
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
                            let src = rowBase + x0 * c
                            dst.update(from: src, count: kw * c)
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
        }
    }

    /// The adjoint of ``im2col(_:input:firstImage:imageCount:columns:)``: adds every element of
    /// `columns` back into the NHWC `gradient` position it was copied from (padding positions
    /// are dropped).
    static func col2im<T: TensorScalar>(
        _ g: Conv2DGeometry, columns: UnsafePointer<T>, firstImage: Int, imageCount: Int,
        gradient: UnsafeMutablePointer<T>
    ) {
        let c = g.inputChannels, kw = g.kernelWidth
        let rowLength = g.kernelHeight * kw * c
        let contiguousKernelRows = g.dilationWidth == 1
        var row = columns
        for n in firstImage..<(firstImage + imageCount) {
            for i in 0..<g.outputHeight {
                let y0 = i * g.strideHeight - g.padTop
                for j in 0..<g.outputWidth {
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
        }
    }
}
