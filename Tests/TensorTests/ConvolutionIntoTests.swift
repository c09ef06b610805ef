@testable import Tensor
import Testing

/// The kernel a convolution case is chosen to take (forward pass and filter gradient; the input
/// gradient of the direct cases is the direct kernel only for 1x1 kernels, else col2im).
enum ConvPath: Sendable {
    case winograd, direct, im2col
}

/// One configuration for the into-variants: a ``KernelCase`` (input `[n, h, w, c]`, a `kh x kw`
/// kernel to `k` output channels, or depth multiplier `k` for depthwise) in Float or Double, and
/// the path it is meant to take.
@dynamicMemberLookup
struct IntoCase: Sendable, CustomTestStringConvertible {
    let kernel: KernelCase
    let double: Bool
    let path: ConvPath

    init(_ n: Int, _ h: Int, _ w: Int, _ c: Int, _ k: Int, kernel: (Int, Int) = (3, 3),
         strides: (Int, Int) = (1, 1), _ padding: Padding, dilations: (Int, Int) = (1, 1),
         double: Bool = false, _ path: ConvPath) {
        self.kernel = KernelCase(n, h, w, c, k, kernel: kernel, strides: strides, padding, dilations: dilations)
        self.double = double
        self.path = path
    }

    subscript<V>(dynamicMember member: KeyPath<KernelCase, V>) -> V { kernel[keyPath: member] }

    var testDescription: String { "\(double ? "Double" : "Float") \(kernel.testDescription), \(path)" }
}

/// Whether `a` and `b` have the same shape and bitwise the same elements.
func bitwiseEqual<T: TensorScalar>(_ a: Tensor<T>, _ b: Tensor<T>) -> Bool {
    a.shape == b.shape && a.scalars.withUnsafeBytes { x in b.scalars.withUnsafeBytes { y in x.elementsEqual(y) } }
}

/// Every dispatch path of the regular convolution: Winograd (3x3 stride 1, >= 16 channels in and
/// out; same and valid padding), the direct kernel for few input channels, strided and dilated,
/// 1x1 kernels at stride 1 (read in place; the direct input gradient straight into the
/// destination) and stride 2 (the scattered input gradient), im2col + GEMM (more than
/// `directMaximumTaps` taps, and a 1x1 one: the plain GEMM), and Double (Swift Winograd, im2col,
/// the pointwise GEMM).
private let regularCases: [IntoCase] = [
    IntoCase(2, 9, 10, 16, 17, .same, .winograd),
    IntoCase(1, 11, 9, 18, 16, .valid, .winograd),
    IntoCase(2, 11, 12, 3, 8, .same, .direct),
    IntoCase(2, 13, 12, 16, 20, strides: (2, 2), .valid, .direct),
    IntoCase(1, 12, 13, 2, 5, strides: (1, 2), .same, dilations: (2, 2), .direct),
    IntoCase(2, 7, 8, 24, 32, kernel: (1, 1), .same, .direct),
    IntoCase(2, 9, 9, 12, 20, kernel: (1, 1), strides: (2, 2), .same, .direct),
    IntoCase(1, 5, 5, 456, 4, strides: (2, 2), .same, .im2col),
    IntoCase(1, 2, 3, 4100, 3, kernel: (1, 1), .valid, .im2col),
    IntoCase(2, 9, 10, 16, 17, .same, double: true, .winograd),
    IntoCase(1, 8, 9, 3, 5, strides: (2, 1), .same, double: true, .im2col),
    IntoCase(2, 5, 6, 7, 9, kernel: (1, 1), .valid, double: true, .im2col),
    // No window fits: an empty output (and a zero input gradient).
    IntoCase(1, 2, 2, 3, 4, .valid, .im2col),
]

/// Depthwise cases: multipliers 1 and 3, same and valid padding, strides and dilation, Float
/// (C kernels, one large enough to split across threads) and Double (the loops).
private let depthwiseCases: [IntoCase] = [
    IntoCase(2, 9, 10, 5, 1, .same, .direct),
    IntoCase(2, 11, 10, 6, 3, strides: (2, 2), .valid, dilations: (1, 2), .direct),
    IntoCase(4, 40, 40, 32, 1, .same, .direct),
    IntoCase(2, 9, 10, 5, 2, .same, double: true, .direct),
    IntoCase(1, 10, 11, 4, 1, kernel: (5, 5), strides: (2, 2), .same, double: true, .direct),
]

/// Calls `body` twice with a destination of `shape` filled with garbage (NaN, then huge values),
/// checking each time that the result is bitwise `expected` (every element overwritten, and the
/// second call with reused scratch memory gives the same).
private func expectInto<T: TensorScalar>(
    _ expected: Tensor<T>, _ what: String, _ c: IntoCase, _ body: (inout Tensor<T>) -> Void
) {
    for garbage in [T.nan, T.greatestFiniteMagnitude] {
        var destination = Tensor<T>.full(expected.shape, garbage)
        body(&destination)
        #expect(bitwiseEqual(destination, expected), "\(c.testDescription): \(what)")
    }
}

private func checkRegular<T: TensorScalar>(_ c: IntoCase, _: T.Type) {
    let g = c.geometry
    let x = Tensor<T>.uniform([c.n, c.h, c.w, c.c], lower: -1, upper: 1, seed: c.seed)
    let f = Tensor<T>.uniform([c.kh, c.kw, c.c, c.k], lower: -0.5, upper: 0.5, seed: c.seed + 1)
    let bias = Tensor<T>.uniform([c.k], lower: -0.5, upper: 0.5, seed: c.seed + 2)
    let dy = Tensor<T>.uniform(g.outputShape(channels: c.k), lower: -1, upper: 1, seed: c.seed + 3)
    let (s, p, d) = (c.strides, c.padding, c.dilations)

    let plain = x.conv2d(filter: f, strides: s, padding: p, dilations: d)
    expectInto(plain, "forward", c) { x.conv2d(filter: f, bias: nil, applyingReLU: false, strides: s, padding: p, dilations: d, into: &$0) }
    for (b, relu) in [(bias, true), (bias, false), (nil, true)] as [(Tensor<T>?, Bool)] {
        let expected = x.conv2d(filter: f, bias: b, applyingReLU: relu, strides: s, padding: p, dilations: d)
        expectInto(expected, "forward, bias \(b != nil), relu \(relu)", c) {
            x.conv2d(filter: f, bias: b, applyingReLU: relu, strides: s, padding: p, dilations: d, into: &$0)
        }
    }
    let dx = Tensor.conv2dBackwardInput(gradient: dy, filter: f, inputShape: x.shape, strides: s, padding: p, dilations: d)
    expectInto(dx, "input gradient", c) {
        Tensor.conv2dBackwardInput(gradient: dy, filter: f, strides: s, padding: p, dilations: d, into: &$0)
    }
    let df = Tensor.conv2dBackwardFilter(gradient: dy, input: x, filterShape: f.shape, strides: s, padding: p, dilations: d)
    expectInto(df, "filter gradient", c) {
        Tensor.conv2dBackwardFilter(gradient: dy, input: x, strides: s, padding: p, dilations: d, into: &$0)
    }
}

private func checkDepthwise<T: TensorScalar>(_ c: IntoCase, _: T.Type) {
    let g = c.geometry
    let x = Tensor<T>.uniform([c.n, c.h, c.w, c.c], lower: -1, upper: 1, seed: c.seed)
    let f = Tensor<T>.uniform([c.kh, c.kw, c.c, c.k], lower: -0.5, upper: 0.5, seed: c.seed + 1)
    let bias = Tensor<T>.uniform([c.c * c.k], lower: -0.5, upper: 0.5, seed: c.seed + 2)
    let dy = Tensor<T>.uniform(g.outputShape(channels: c.c * c.k), lower: -1, upper: 1, seed: c.seed + 3)
    let (s, p, d) = (c.strides, c.padding, c.dilations)

    let y = x.depthwiseConv2d(filter: f, strides: s, padding: p, dilations: d)
    expectInto(y, "forward", c) { x.depthwiseConv2d(filter: f, strides: s, padding: p, dilations: d, into: &$0) }
    for (b, relu) in [(bias, true), (bias, false), (nil, true), (nil, false)] as [(Tensor<T>?, Bool)] {
        var expected = y
        expected.addBias(b, applyingReLU: relu)
        expectInto(expected, "forward, bias \(b != nil), relu \(relu)", c) {
            x.depthwiseConv2d(filter: f, bias: b, applyingReLU: relu, strides: s, padding: p, dilations: d, into: &$0)
        }
    }
    let dx = Tensor.depthwiseConv2dBackwardInput(
        gradient: dy, filter: f, inputShape: x.shape, strides: s, padding: p, dilations: d)
    expectInto(dx, "input gradient", c) {
        Tensor.depthwiseConv2dBackwardInput(gradient: dy, filter: f, strides: s, padding: p, dilations: d, into: &$0)
    }
    let df = Tensor.depthwiseConv2dBackwardFilter(
        gradient: dy, input: x, filterShape: f.shape, strides: s, padding: p, dilations: d)
    expectInto(df, "filter gradient", c) {
        Tensor.depthwiseConv2dBackwardFilter(gradient: dy, input: x, strides: s, padding: p, dilations: d, into: &$0)
    }
}

@Suite("Convolution into a destination")
struct ConvolutionIntoTests {
    /// Each case takes the path it is meant to test.
    @Test(arguments: regularCases)
    func casesTakeTheirPath(_ c: IntoCase) {
        let g = c.geometry
        let winograd = ConvKernels.winogradApplies(g, outChannels: c.k)
        let direct = !c.double && ConvKernels.directApplies(g, outChannels: c.k)
        switch c.path {
        case .winograd: #expect(winograd)
        case .direct: #expect(!winograd && direct)
        case .im2col: #expect(!winograd && !direct)
        }
        if c.kh == 1 && c.kw == 1 && !c.double && c.path == .direct {
            #expect(ConvKernels.directBackwardInputApplies(g, outChannels: c.k))
        }
    }

    /// The into-variants of the forward pass (every bias / ReLU combination), the input gradient
    /// and the filter gradient give bitwise the returning functions' results, overwriting garbage.
    @Test(arguments: regularCases)
    func regularMatchesReturning(_ c: IntoCase) {
        if c.double { checkRegular(c, Double.self) } else { checkRegular(c, Float.self) }
    }

    /// The depthwise into-variants (plain, with the bias / ReLU epilogue, and both gradients)
    /// against the returning functions (and `addBias` after them).
    @Test(arguments: depthwiseCases)
    func depthwiseMatchesReturning(_ c: IntoCase) {
        if c.double { checkDepthwise(c, Double.self) } else { checkDepthwise(c, Float.self) }
    }

    /// The large Float depthwise case is big enough for the C kernels to split it across threads.
    @Test func depthwiseSplitsAcrossThreads() {
        let c = depthwiseCases[2]
        let g = c.geometry
        #expect(g.batch * g.outputHeight >= 2 * ConvKernels.depthwiseRowsPerThread(rowElements: g.outputWidth * c.c * c.k))
    }
}
