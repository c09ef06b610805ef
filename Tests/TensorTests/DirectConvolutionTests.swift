@testable import Tensor
import TestSupport
import Testing

/// One convolution configuration for the Float kernels: input `[n, h, w, c]`, a `kh x kw` kernel
/// to `k` output channels (regular) or with depth multiplier `k` (depthwise), and whether it is
/// large enough that the kernels split it across threads.
struct KernelCase: Sendable, CustomTestStringConvertible {
    let n, h, w, c, k, kh, kw: Int
    let strides: (Int, Int)
    let padding: Padding
    let dilations: (Int, Int)
    let splits: Bool

    init(_ n: Int, _ h: Int, _ w: Int, _ c: Int, _ k: Int, kernel: (Int, Int) = (3, 3),
         strides: (Int, Int) = (1, 1), _ padding: Padding, dilations: (Int, Int) = (1, 1), splits: Bool = false) {
        (self.n, self.h, self.w, self.c, self.k) = (n, h, w, c, k)
        (kh, kw) = kernel
        self.strides = strides
        self.padding = padding
        self.dilations = dilations
        self.splits = splits
    }

    var geometry: Conv2DGeometry {
        Conv2DGeometry(inputShape: [n, h, w, c], kernelHeight: kh, kernelWidth: kw,
                       strides: strides, padding: padding, dilations: dilations)
    }

    /// A seed for this case's random tensors.
    var seed: UInt64 { UInt64(n * 100_000 + h * 1000 + w * 10 + c + k) }

    var testDescription: String {
        "[\(n), \(h), \(w), \(c)], k \(k), \(kh)x\(kw) strides \(strides) \(padding) dilations \(dilations)"
    }
}

/// Channel counts 1 to 4 (the first layers) and larger ones (strided 3x3 convolutions, 16 and 37
/// channels with more taps than the tile loops take at once, a 3x3 stride-1 16-channel one, the
/// filter gradient of a Winograd layer, and 1x1 kernels at strides 1 to 3), output channels that are not multiples of 16 (the vector
/// width), odd sizes, valid and same padding (odd total padding: the extra row and column at the
/// end), strides 1 and 2 (and 3), dilation, non-square kernels, a single output pixel, and sizes that
/// the kernels split across threads.
private let directCases: [KernelCase] = [
    KernelCase(2, 40, 37, 3, 33, .same, splits: true),
    KernelCase(4, 48, 50, 3, 32, .same, splits: true),
    KernelCase(4, 160, 41, 1, 20, .valid, splits: true),
    KernelCase(3, 21, 19, 2, 20, strides: (2, 2), .same),
    KernelCase(2, 30, 31, 1, 32, strides: (2, 2), .same),
    KernelCase(1, 17, 23, 3, 128, strides: (2, 2), .valid),
    KernelCase(2, 9, 8, 4, 70, kernel: (5, 5), .same),
    KernelCase(1, 12, 13, 1, 17, strides: (1, 2), .same, dilations: (2, 2)),
    KernelCase(1, 9, 31, 1, 5, kernel: (3, 7), strides: (1, 3), .same),
    KernelCase(2, 7, 12, 3, 31, kernel: (2, 4), .valid, dilations: (1, 3)),
    KernelCase(1, 6, 7, 2, 64, kernel: (1, 1), strides: (2, 2), .same),
    KernelCase(1, 1, 1, 3, 16, .same),
    KernelCase(2, 11, 10, 4, 1, kernel: (2, 2), .valid),
    KernelCase(4, 19, 17, 16, 40, strides: (2, 2), .same, splits: true),
    KernelCase(1, 9, 10, 37, 24, strides: (2, 2), .valid),
    KernelCase(2, 12, 11, 16, 18, .same),
    // 1x1 kernels, read in place (NHWC), and their input gradients.
    KernelCase(4, 30, 30, 32, 64, kernel: (1, 1), .same, splits: true),
    KernelCase(2, 15, 14, 33, 70, kernel: (1, 1), .valid),
    KernelCase(2, 15, 14, 32, 20, kernel: (1, 1), strides: (2, 2), .same),
    KernelCase(1, 9, 10, 64, 16, kernel: (1, 1), strides: (3, 2), .valid),
]

@Suite("Direct convolution")
struct DirectConvolutionTests {
    /// The forward pass (plain and with every bias / ReLU epilogue, AVX-512 and portable loops)
    /// and the filter gradient against the Double im2col + GEMM path (and the Float one).
    @Test(arguments: directCases)
    func matchesIm2colInDouble(_ c: KernelCase) {
        let g = c.geometry
        #expect(ConvKernels.directApplies(g, outChannels: c.k))
        if c.splits {
            #expect(g.batch * g.outputHeight >= 2 * ConvKernels.directRowsPerThread(g, outChannels: c.k),
                    "\(c.testDescription): too small to split across threads")
        }
        let seed = c.seed
        let x = Tensor<Float>.uniform([c.n, c.h, c.w, c.c], lower: -1, upper: 1, seed: seed)
        let f = Tensor<Float>.uniform([c.kh, c.kw, c.c, c.k], lower: -0.5, upper: 0.5, seed: seed + 1)
        let bias = Tensor<Float>.uniform([c.k], lower: -0.5, upper: 0.5, seed: seed + 2)
        let dy = Tensor<Float>.uniform(g.outputShape(channels: c.k), lower: -1, upper: 1, seed: seed + 3)
        let (xd, fd) = (Tensor<Double>(x), Tensor<Double>(f))
        let reference = ConvKernels.forward(xd, fd, g)

        // (Where Winograd applies, `forward` without it takes the direct kernel.)
        let forward = ConvKernels.forward(x, f, g, allowWinograd: false)
        #expect(forward.shape == reference.shape)
        #expect(maxRelativeDifference(Tensor<Double>(forward), reference) <= 1e-5, "\(c.testDescription): forward")
        let portable = ConvKernels.directForward(x, f, g, portable: true)
        #expect(maxRelativeDifference(Tensor<Double>(portable), reference) <= 1e-5, "\(c.testDescription): portable forward")

        for (b, relu) in [(bias, true), (bias, false), (nil, true)] as [(Tensor<Float>?, Bool)] {
            var expected = reference
            expected.addBias(b.map { Tensor<Double>($0) }, applyingReLU: relu)
            let fused = ConvKernels.winogradApplies(g, outChannels: c.k)
                ? ConvKernels.directForward(x, f, g, bias: b, applyingReLU: relu)
                : x.conv2d(filter: f, bias: b, applyingReLU: relu,
                           strides: c.strides, padding: c.padding, dilations: c.dilations)
            #expect(maxRelativeDifference(Tensor<Double>(fused), expected) <= 1e-5,
                    "\(c.testDescription): bias \(b != nil), relu \(relu)")
            let fusedPortable = ConvKernels.directForward(x, f, g, bias: b, applyingReLU: relu, portable: true)
            #expect(maxRelativeDifference(Tensor<Double>(fusedPortable), expected) <= 1e-5,
                    "\(c.testDescription): portable, bias \(b != nil), relu \(relu)")
        }

        let filterReference = ConvKernels.backwardFilter(Tensor<Double>(dy), xd, f.shape, g)
        let filterGradient = ConvKernels.backwardFilter(dy, x, f.shape, g)
        #expect(maxRelativeDifference(Tensor<Double>(filterGradient), filterReference) <= 1e-4,
                "\(c.testDescription): filter gradient")
        let portableGradient = ConvKernels.directBackwardFilter(dy, x, f.shape, g, portable: true)
        #expect(maxRelativeDifference(Tensor<Double>(portableGradient), filterReference) <= 1e-4,
                "\(c.testDescription): portable filter gradient")
        // The Float im2col path these replace still agrees.
        let im2col = ConvKernels.forward(x, f, g, allowWinograd: false, allowDirect: false)
        #expect(maxRelativeDifference(Tensor<Double>(im2col), reference) <= 1e-5, "\(c.testDescription): im2col forward")
        let im2colGradient = ConvKernels.backwardFilter(dy, x, f.shape, g, allowDirect: false)
        #expect(maxRelativeDifference(Tensor<Double>(im2colGradient), filterReference) <= 1e-4,
                "\(c.testDescription): im2col filter gradient")
        if c.kh == 1 && c.kw == 1 {
            let inputReference = ConvKernels.backwardInput(Tensor<Double>(dy), fd, g)
            let inputGradient = Tensor.conv2dBackwardInput(
                gradient: dy, filter: f, inputShape: x.shape, strides: c.strides, padding: c.padding, dilations: c.dilations)
            #expect(maxRelativeDifference(Tensor<Double>(inputGradient), inputReference) <= 1e-5,
                    "\(c.testDescription): input gradient")
            let gemm = ConvKernels.backwardInput(dy, f, g, allowDirect: false)
            #expect(maxRelativeDifference(Tensor<Double>(gemm), inputReference) <= 1e-5,
                    "\(c.testDescription): GEMM input gradient")
        }
        // The public entry point takes the direct path too.
        let public_ = Tensor.conv2dBackwardFilter(
            gradient: dy, input: x, filterShape: f.shape, strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(public_ == filterGradient)
    }

    @Test func dispatch() {
        func geometry(_ channels: Int, _ kernel: Int, _ strides: Int = 2) -> Conv2DGeometry {
            Conv2DGeometry(inputShape: [1, 8, 8, channels], kernelHeight: kernel, kernelWidth: kernel,
                           strides: (strides, strides), padding: .same, dilations: (1, 1))
        }
        #expect(ConvKernels.directApplies(geometry(32, 1, 1), outChannels: 8))
        #expect(ConvKernels.directReadsInPlace(geometry(32, 1)))
        #expect(!ConvKernels.directReadsInPlace(geometry(1, 3)))
        #expect(ConvKernels.directApplies(geometry(32, 3), outChannels: 8))
        #expect(ConvKernels.directBackwardInputApplies(geometry(32, 1), outChannels: 8))
        #expect(!ConvKernels.directBackwardInputApplies(geometry(32, 3), outChannels: 8))
        #expect(!ConvKernels.directApplies(geometry(ConvKernels.directMaximumTaps / 9 + 1, 3), outChannels: 8))
        let empty = Conv2DGeometry(inputShape: [1, 2, 2, 1], kernelHeight: 3, kernelWidth: 3,
                                   strides: (1, 1), padding: .valid, dilations: (1, 1))
        #expect(!ConvKernels.directApplies(empty, outChannels: 8))
    }

    @Test func reluKeepsNaN() {
        // A NaN input poisons the outputs whose windows contain it, through the fused ReLU, as
        // addBias's ReLU does; the others stay finite.
        var x = Tensor<Float>.uniform([1, 5, 5, 1], lower: -1, upper: 1, seed: 7)
        x[0, 0, 0, 0] = .nan
        let f = Tensor<Float>.uniform([3, 3, 1, 18], lower: -1, upper: 1, seed: 8)
        let y = x.conv2d(filter: f, bias: nil, applyingReLU: true, padding: .same)
        for i in 0..<5 { for j in 0..<5 { for o in 0..<18 {
            #expect(y[0, i, j, o].isNaN == (i <= 1 && j <= 1), "(\(i), \(j), \(o))")
        } } }
    }
}
