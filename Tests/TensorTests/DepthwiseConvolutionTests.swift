@testable import Tensor
import TestSupport
import Testing

/// Xception's shapes (3x3 same, multiplier 1, 64 to 256 channels) at sizes the kernels split across
/// threads, channel counts that are not multiples of 16 (the vector width; 33 and 70 have 64-, 32-
/// and 16-channel blocks and a tail), depth multipliers 2 and 3, strides 1 to 3, dilation, valid
/// and same padding, a single pixel, 1x1 kernels, and a window larger than the input.
private let depthwiseCases: [KernelCase] = [
    KernelCase(2, 38, 37, 64, 1, .same, splits: true),
    KernelCase(2, 19, 20, 256, 1, .same, splits: true),
    KernelCase(2, 20, 19, 33, 1, strides: (2, 2), .same),
    KernelCase(2, 12, 7, 70, 1, kernel: (5, 3), strides: (2, 1), .valid, dilations: (1, 2)),
    KernelCase(1, 9, 8, 17, 2, .valid),
    KernelCase(1, 10, 11, 3, 3, kernel: (3, 2), strides: (2, 1), .same, dilations: (2, 2)),
    KernelCase(1, 7, 7, 16, 2, strides: (3, 3), .same),
    KernelCase(1, 6, 9, 8, 1, kernel: (1, 1), strides: (2, 2), .same),
    KernelCase(1, 1, 1, 4, 1, .same),
    KernelCase(1, 2, 5, 5, 1, .valid),
]

@Suite("Depthwise convolution (Float kernels)")
struct DepthwiseConvolutionTests {
    /// The Float C kernels (forward, input and filter gradients) against the generic Double loops.
    @Test(arguments: depthwiseCases)
    func matchesTheDoubleLoops(_ c: KernelCase) {
        let g = c.geometry
        let cm = c.c * c.k
        if c.splits {
            #expect(g.batch * g.outputHeight >= 2 * ConvKernels.depthwiseRowsPerThread(rowElements: g.outputWidth * cm),
                    "\(c.testDescription): too small to split across threads")
        }
        let seed = c.seed
        let x = Tensor<Float>.uniform([c.n, c.h, c.w, c.c], lower: -1, upper: 1, seed: seed)
        let f = Tensor<Float>.uniform([c.kh, c.kw, c.c, c.k], lower: -1, upper: 1, seed: seed + 1)
        let dy = Tensor<Float>.uniform(g.outputShape(channels: cm), lower: -1, upper: 1, seed: seed + 2)
        let (xd, fd, dyd) = (Tensor<Double>(x), Tensor<Double>(f), Tensor<Double>(dy))

        let y = x.depthwiseConv2d(filter: f, strides: c.strides, padding: c.padding, dilations: c.dilations)
        let yReference = ConvKernels.depthwiseForward(xd, fd, g)
        #expect(y.shape == yReference.shape)
        #expect(maxRelativeDifference(Tensor<Double>(y), yReference) <= 1e-5, "\(c.testDescription): forward")

        let dx = Tensor.depthwiseConv2dBackwardInput(
            gradient: dy, filter: f, inputShape: x.shape, strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(maxRelativeDifference(Tensor<Double>(dx), ConvKernels.depthwiseBackwardInput(dyd, fd, g)) <= 1e-5,
                "\(c.testDescription): input gradient")

        let df = Tensor.depthwiseConv2dBackwardFilter(
            gradient: dy, input: x, filterShape: f.shape, strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(maxRelativeDifference(Tensor<Double>(df), ConvKernels.depthwiseBackwardFilter(dyd, xd, f.shape, g)) <= 1e-4,
                "\(c.testDescription): filter gradient")
    }
}
