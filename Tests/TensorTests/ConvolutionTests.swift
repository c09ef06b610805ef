import Foundation
@testable import Tensor
import TestSupport
import Testing

/// Fixture cases written by Tests/ReferenceScripts/conv_fixtures.py (JAX `conv_general_dilated`
/// and `jax.vjp`, float64):
/// `/work/refenv/bin/python Tests/ReferenceScripts/conv_fixtures.py`.
private let regularCases = [
    "conv_valid_s1", "conv_same_s1", "conv_valid_s2", "conv_same_s2", "conv_same_even_kernel",
    "conv_valid_dilation2_cin1", "conv_same_dilation2", "conv_same_s2x1_d1x2", "conv_1x1_s1", "conv_1x1_s2_same",
]
private let depthwiseCases = [
    "depthwise_valid_s1_m1", "depthwise_same_s1_m2", "depthwise_same_s2_m2", "depthwise_valid_s2_m1",
    "depthwise_same_dilation2_m3", "depthwise_valid_dilation2_c1",
]

/// The arrays and parameters of one fixture case, in element type `S`.
private struct ConvCase<S: TensorScalar> {
    let input, filter, output, gradOutput, gradInput, gradFilter: Tensor<S>
    let strides: (Int, Int), dilations: (Int, Int), padding: Padding

    init(_ name: String) throws {
        let c = try ReferenceFixture.load("conv.json", from: .module).case(name)
        input = try c.tensor("input")
        filter = try c.tensor("filter")
        output = try c.tensor("output")
        gradOutput = try c.tensor("grad_output")
        gradInput = try c.tensor("grad_input")
        gradFilter = try c.tensor("grad_filter")
        strides = (try c.int("stride_h"), try c.int("stride_w"))
        dilations = (try c.int("dilation_h"), try c.int("dilation_w"))
        padding = try c.int("same") == 1 ? .same : .valid
    }
}

@Suite("Convolution")
struct ConvolutionTests {
    // MARK: Against JAX

    private func checkRegular<S: TensorScalar>(_ name: String, _ type: S.Type, tolerance: Double) throws {
        let c = try ConvCase<S>(name)
        let y = c.input.conv2d(filter: c.filter, strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(y.shape == c.output.shape, "\(name) \(S.self): forward shape")
        #expect(maxRelativeDifference(y, c.output) <= tolerance, "\(name) \(S.self): forward")
        let dx = Tensor.conv2dBackwardInput(
            gradient: c.gradOutput, filter: c.filter, inputShape: c.input.shape,
            strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(maxRelativeDifference(dx, c.gradInput) <= tolerance, "\(name) \(S.self): backward input")
        let df = Tensor.conv2dBackwardFilter(
            gradient: c.gradOutput, input: c.input, filterShape: c.filter.shape,
            strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(maxRelativeDifference(df, c.gradFilter) <= tolerance, "\(name) \(S.self): backward filter")
    }

    private func checkDepthwise<S: TensorScalar>(_ name: String, _ type: S.Type, tolerance: Double) throws {
        let c = try ConvCase<S>(name)
        let y = c.input.depthwiseConv2d(filter: c.filter, strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(y.shape == c.output.shape, "\(name) \(S.self): forward shape")
        #expect(maxRelativeDifference(y, c.output) <= tolerance, "\(name) \(S.self): forward")
        let dx = Tensor.depthwiseConv2dBackwardInput(
            gradient: c.gradOutput, filter: c.filter, inputShape: c.input.shape,
            strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(maxRelativeDifference(dx, c.gradInput) <= tolerance, "\(name) \(S.self): backward input")
        let df = Tensor.depthwiseConv2dBackwardFilter(
            gradient: c.gradOutput, input: c.input, filterShape: c.filter.shape,
            strides: c.strides, padding: c.padding, dilations: c.dilations)
        #expect(maxRelativeDifference(df, c.gradFilter) <= tolerance, "\(name) \(S.self): backward filter")
    }

    @Test(arguments: regularCases)
    func conv2dMatchesJAXInDouble(_ name: String) throws {
        try checkRegular(name, Double.self, tolerance: 1e-10)
    }

    @Test(arguments: regularCases)
    func conv2dMatchesJAXInFloat(_ name: String) throws {
        try checkRegular(name, Float.self, tolerance: 1e-4)
    }

    @Test(arguments: depthwiseCases)
    func depthwiseMatchesJAXInDouble(_ name: String) throws {
        try checkDepthwise(name, Double.self, tolerance: 1e-10)
    }

    @Test(arguments: depthwiseCases)
    func depthwiseMatchesJAXInFloat(_ name: String) throws {
        try checkDepthwise(name, Float.self, tolerance: 1e-4)
    }

    @Test(arguments: ["conv_valid_s1", "conv_same_s1"])
    func winogradMatchesJAX(_ name: String) throws {
        // The fixtures' 3 input and 2 output channels are below the dispatch threshold, so the
        // Winograd kernels are called directly.
        for chunkTiles in [nil, 1, 5] as [Int?] {
            let label = "\(name) chunk \(chunkTiles ?? 0)"
            let c = try ConvCase<Double>(name)
            let g = Conv2DGeometry(inputShape: c.input.shape, kernelHeight: 3, kernelWidth: 3,
                                   strides: c.strides, padding: c.padding, dilations: c.dilations)
            let y = ConvKernels.winogradForward(c.input, c.filter, g, chunkTiles: chunkTiles)
            #expect(maxRelativeDifference(y, c.output) <= 1e-12, "\(label): forward")
            let dx = ConvKernels.winogradBackwardInput(c.gradOutput, c.filter, g, chunkTiles: chunkTiles)
            #expect(maxRelativeDifference(dx, c.gradInput) <= 1e-12, "\(label): backward input")
            let f = try ConvCase<Float>(name)
            #expect(maxRelativeDifference(ConvKernels.winogradForward(f.input, f.filter, g, chunkTiles: chunkTiles),
                                          f.output) <= 1e-4, "\(label): forward in Float")
            #expect(maxRelativeDifference(
                ConvKernels.winogradBackwardInput(f.gradOutput, f.filter, g, chunkTiles: chunkTiles), f.gradInput) <= 1e-4,
                "\(label): backward input in Float")
        }
    }

    // MARK: Shapes

    @Test func outputShapesFollowKerasRules() {
        func shape(_ input: [Int], _ filter: [Int], _ strides: (Int, Int) = (1, 1), _ padding: Padding = .valid,
                   _ dilations: (Int, Int) = (1, 1)) -> [Int] {
            Tensor<Float>.zeros(input).conv2d(
                filter: .zeros(filter), strides: strides, padding: padding, dilations: dilations).shape
        }
        #expect(shape([2, 7, 6, 3], [3, 3, 3, 5]) == [2, 5, 4, 5])
        #expect(shape([2, 7, 6, 3], [3, 3, 3, 5], (1, 1), .same) == [2, 7, 6, 5])
        #expect(shape([2, 7, 6, 3], [3, 3, 3, 5], (2, 2), .valid) == [2, 3, 2, 5])
        #expect(shape([2, 7, 6, 3], [3, 3, 3, 5], (2, 2), .same) == [2, 4, 3, 5])
        #expect(shape([1, 7, 6, 1], [3, 3, 1, 1], (1, 1), .valid, (2, 2)) == [1, 3, 2, 1])
        #expect(shape([1, 7, 6, 1], [3, 3, 1, 1], (1, 1), .same, (2, 2)) == [1, 7, 6, 1])
        #expect(shape([1, 8, 8, 2], [3, 2, 2, 4], (3, 2), .same, (1, 3)) == [1, 3, 4, 4])
        // A window larger than the input with valid padding: an empty output, and empty gradients.
        #expect(shape([2, 2, 5, 1], [3, 3, 1, 4]) == [2, 0, 3, 4])
        let dx = Tensor<Float>.conv2dBackwardInput(
            gradient: .zeros([2, 0, 3, 4]), filter: .ones([3, 3, 1, 4]), inputShape: [2, 2, 5, 1])
        #expect(dx == .zeros([2, 2, 5, 1]))
        let depthwise = Tensor<Double>.zeros([2, 7, 6, 3]).depthwiseConv2d(
            filter: .zeros([3, 3, 3, 2]), strides: (2, 2), padding: .same)
        #expect(depthwise.shape == [2, 4, 3, 6])

        let geometry = Conv2DGeometry(
            inputShape: [1, 7, 6, 1], kernelHeight: 3, kernelWidth: 3, strides: (2, 2), padding: .same, dilations: (1, 1))
        // Rows: total padding 2 -> 1 above; columns: total padding 1 -> 0 left, 1 right (TF/Keras).
        #expect(geometry.padTop == 1 && geometry.padLeft == 0)
        #expect(geometry.outputShape(channels: 3) == [1, 4, 3, 3])
    }

    // MARK: Closed forms

    @Test func allOnesFilterIsABoxSum() {
        // input[n, i, j, 0] = 10 i + j + 100 n; a 3x3 box sum of a linear function is 9 x its centre.
        let (n, h, w) = (2, 6, 5)
        var scalars: [Double] = []
        for b in 0..<n { for i in 0..<h { for j in 0..<w { scalars.append(Double(10 * i + j + 100 * b)) } } }
        let input = Tensor<Double>(shape: [n, h, w, 1], scalars: scalars)
        let y = input.conv2d(filter: .ones([3, 3, 1, 1]))
        #expect(y.shape == [n, h - 2, w - 2, 1])
        for b in 0..<n { for i in 0..<(h - 2) { for j in 0..<(w - 2) {
            #expect(y[b, i, j, 0] == 9 * Double(10 * (i + 1) + (j + 1) + 100 * b))
        } } }
        // With same padding, an all-ones input counts the in-range neighbours: 4, 6 or 9.
        let counts = Tensor<Float>.ones([1, 4, 5, 1]).conv2d(filter: .ones([3, 3, 1, 1]), padding: .same)
        for i in 0..<4 { for j in 0..<5 {
            let rows: Float = (i == 0 || i == 3) ? 2 : 3, columns: Float = (j == 0 || j == 4) ? 2 : 3
            #expect(counts[0, i, j, 0] == rows * columns)
        } }
        // Depthwise with multiplier 2 and filters 1 and -1: channels (c, +box), (c, -box).
        let two = Tensor<Float>(shape: [1, 3, 3, 2], scalars: (0..<18).map { Float($0) })
        var filter = Tensor<Float>.ones([3, 3, 2, 2])
        for a in 0..<3 { for b in 0..<3 { for c in 0..<2 { filter[a, b, c, 1] = -1 } } }
        let d = two.depthwiseConv2d(filter: filter)
        let even = (0..<9).map { Float(2 * $0) }.reduce(0, +), odd = (0..<9).map { Float(2 * $0 + 1) }.reduce(0, +)
        #expect(d.scalars == [even, -even, odd, -odd])
    }

    @Test func pointwiseConvolutionIsAMatrixProduct() {
        let x = Tensor<Double>.uniform([2, 3, 4, 5], lower: -1, upper: 1, seed: 11)
        let f = Tensor<Double>.uniform([1, 1, 5, 3], lower: -1, upper: 1, seed: 12)
        let y = x.conv2d(filter: f)
        let expected = x.reshaped(to: [24, 5]).matmul(f.reshaped(to: [5, 3])).reshaped(to: [2, 3, 4, 3])
        #expect(maxRelativeDifference(y, expected) <= 1e-12)
        // A 1x1 kernel with dilation is still pointwise; same padding adds nothing.
        let dilated = x.conv2d(filter: f, padding: .same, dilations: (3, 2))
        #expect(maxRelativeDifference(dilated, expected) <= 1e-12)
    }

    @Test func chunkedIm2colMatchesOneChunk() {
        // A column-buffer limit of 7 rows forces chunks that start and end inside images; the
        // results must agree with the single-chunk path (including the filter gradient
        // accumulated across chunks).
        let x = Tensor<Double>.uniform([3, 6, 5, 2], lower: -1, upper: 1, seed: 21)
        let f = Tensor<Double>.uniform([3, 2, 2, 4], lower: -1, upper: 1, seed: 22)
        let g = Conv2DGeometry(inputShape: x.shape, kernelHeight: 3, kernelWidth: 2,
                               strides: (2, 1), padding: .same, dilations: (1, 2))
        let dy = Tensor<Double>.uniform(g.outputShape(channels: 4), lower: -1, upper: 1, seed: 23)
        let sevenRows = 7 * 3 * 2 * 2
        #expect(ConvKernels.rowsPerChunk(g, columns: 12, limit: ConvKernels.columnLimit(Double.self, columns: 12)) == 45)
        #expect(ConvKernels.rowsPerChunk(g, columns: 12, limit: sevenRows) == 7)
        #expect(ConvKernels.rowsPerChunk(g, columns: 12, limit: 5) == 1)
        let whole = ConvKernels.forward(x, f, g)
        for limit in [sevenRows, 5] {
            #expect(maxRelativeDifference(ConvKernels.forward(x, f, g, columnLimit: limit), whole) <= 1e-12)
            #expect(maxRelativeDifference(
                ConvKernels.backwardInput(dy, f, g, columnLimit: limit), ConvKernels.backwardInput(dy, f, g)) <= 1e-12)
            #expect(maxRelativeDifference(
                ConvKernels.backwardFilter(dy, x, f.shape, g, columnLimit: limit),
                ConvKernels.backwardFilter(dy, x, f.shape, g)) <= 1e-12)
        }
    }

    @Test func backwardPassesAreAdjointsOfTheForwardPass() {
        // <conv(x, f), dy> == <x, conv_backward_input(dy, f)> == <f, conv_backward_filter(dy, x)>.
        let x = Tensor<Double>.uniform([2, 9, 8, 3], lower: -1, upper: 1, seed: 31)
        let f = Tensor<Double>.uniform([4, 3, 3, 2], lower: -1, upper: 1, seed: 32)
        let y = x.conv2d(filter: f, strides: (2, 3), padding: .same, dilations: (1, 2))
        let dy = Tensor<Double>.uniform(y.shape, lower: -1, upper: 1, seed: 33)
        let dx = Tensor.conv2dBackwardInput(gradient: dy, filter: f, inputShape: x.shape,
                                            strides: (2, 3), padding: .same, dilations: (1, 2))
        let df = Tensor.conv2dBackwardFilter(gradient: dy, input: x, filterShape: f.shape,
                                             strides: (2, 3), padding: .same, dilations: (1, 2))
        let forward = (y * dy).sumAll()
        #expect(abs(forward - (x * dx).sumAll()) <= 1e-10 * max(1, abs(forward)))
        #expect(abs(forward - (f * df).sumAll()) <= 1e-10 * max(1, abs(forward)))
    }

    // MARK: Bad shapes

    @Test func channelMismatchStopsNamingBothShapes() async {
        let mismatch = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([1, 5, 5, 3]).conv2d(filter: .zeros([3, 3, 2, 4]))
        }
        let message = String(decoding: mismatch?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("conv2d") && message.contains("[1, 5, 5, 3]") && message.contains("[3, 3, 2, 4]"),
                "message: \(message)")

        let rank = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.zeros([5, 5, 3]).depthwiseConv2d(filter: .zeros([3, 3, 3, 1]))
        }
        let rankMessage = String(decoding: rank?.standardErrorContent ?? [], as: UTF8.self)
        #expect(rankMessage.contains("[5, 5, 3]") && rankMessage.contains("[3, 3, 3, 1]"), "message: \(rankMessage)")

        let gradient = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Float>.conv2dBackwardFilter(
                gradient: .zeros([1, 4, 4, 2]), input: .zeros([1, 5, 5, 1]), filterShape: [3, 3, 1, 2])
        }
        let gradientMessage = String(decoding: gradient?.standardErrorContent ?? [], as: UTF8.self)
        #expect(gradientMessage.contains("[1, 4, 4, 2]") && gradientMessage.contains("[1, 3, 3, 2]"),
                "message: \(gradientMessage)")
    }
}
