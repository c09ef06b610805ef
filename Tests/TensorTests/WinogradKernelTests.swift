import Foundation
@testable import Tensor
import TestSupport
import Testing

/// The fused, parallel C kernels of the Float F(4x4, 3x3) path (forward with bias and ReLU, input
/// gradient, filter gradient) against im2col + GEMM in Float and in Double, split into various
/// numbers of tile ranges and block sizes.
@Suite("Winograd C kernels")
struct WinogradKernelTests {
    /// (batch, height, width, input channels, output channels, padding): channel counts that are not
    /// multiples of 16 (the vector width) or 32 (the micro-kernel panel), several panels with a
    /// partial last one (80), odd sizes, a single tile and a 1x1 output, and enough tiles to be
    /// split across threads by default (the last two).
    static let shapes: [(Int, Int, Int, Int, Int, Padding)] = [
        (2, 9, 7, 17, 24, .valid), (3, 10, 11, 24, 17, .same), (2, 13, 13, 40, 40, .same),
        (1, 6, 6, 16, 16, .valid), (1, 1, 1, 16, 16, .same), (2, 3, 3, 16, 33, .valid),
        (2, 7, 9, 70, 80, .same), (4, 15, 9, 33, 48, .same), (2, 30, 29, 24, 40, .same),
    ]

    /// A Double tensor as Float.
    private func float(_ t: Tensor<Double>) -> Tensor<Float> { Tensor<Float>(t) }
    /// A Float tensor as Double.
    private func double(_ t: Tensor<Float>) -> Tensor<Double> { Tensor<Double>(t) }

    /// The largest difference as a fraction of the largest magnitude in `b` (or absolute below 1):
    /// Winograd's rounding error scales with the size of the outputs, not with each one.
    private func scaledDifference<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Double {
        guard a.shape == b.shape else { return .infinity }
        let scale = b.scalars.reduce(1.0) { Swift.max($0, abs(Double($1))) }
        let worst = zip(a.scalars, b.scalars).reduce(0.0) { Swift.max($0, abs(Double($1.0) - Double($1.1))) }
        return worst.isNaN ? .infinity : worst / scale
    }

    /// The Float error allowed, as a fraction of the largest output: about 6x the largest measured
    /// for these shapes (8e-6, against Double; F(4x4)'s transform coefficients of up to 8 cost
    /// about a digit against im2col).
    static let tolerance = 5e-5

    @Test(arguments: 0..<shapes.count)
    func matchesIm2colAndDoesNotDependOnTheSplit(_ index: Int) {
        let (n, h, w, cin, cout, padding) = Self.shapes[index]
        let g = Conv2DGeometry(inputShape: [n, h, w, cin], kernelHeight: 3, kernelWidth: 3,
                               strides: (1, 1), padding: padding, dilations: (1, 1))
        #expect(ConvKernels.winogradApplies(g, outChannels: cout))
        let label = "[\(n), \(h), \(w), \(cin)] -> \(cout) \(padding)"
        let seed = UInt64(100 + 10 * index)
        // Data drawn in Double and rounded to Float, so both precisions see the same numbers.
        let xd = Tensor<Double>(float(.uniform([n, h, w, cin], lower: -1, upper: 1, seed: seed)))
        let fd = Tensor<Double>(float(.uniform([3, 3, cin, cout], lower: -0.5, upper: 0.5, seed: seed + 1)))
        let dyd = Tensor<Double>(float(.uniform(g.outputShape(channels: cout), lower: -1, upper: 1, seed: seed + 2)))
        let bd = Tensor<Double>(float(.uniform([cout], lower: -1, upper: 1, seed: seed + 3)))
        let (x, f, dy, b) = (float(xd), float(fd), float(dyd), float(bd))

        // References: im2col + GEMM in Double and in Float.
        let yd = ConvKernels.forward(xd, fd, g, allowWinograd: false)
        let dxd = ConvKernels.backwardInput(dyd, fd, g, allowWinograd: false)
        let dfd = ConvKernels.backwardFilter(dyd, xd, fd.shape, g, allowWinograd: false)
        let y32 = ConvKernels.forward(x, f, g, allowWinograd: false)
        let dx32 = ConvKernels.backwardInput(dy, f, g, allowWinograd: false)
        let df32 = ConvKernels.backwardFilter(dy, x, f.shape, g, allowWinograd: false)

        // The dispatched Float paths (the C kernels with their default blocks and threads).
        let y = ConvKernels.forward(x, f, g)
        let dx = ConvKernels.backwardInput(dy, f, g)
        let df = ConvKernels.backwardFilter(dy, x, f.shape, g)
        #expect(scaledDifference(double(y), yd) <= Self.tolerance, "\(label): forward against Double")
        #expect(scaledDifference(y, y32) <= Self.tolerance, "\(label): forward against Float im2col")
        #expect(scaledDifference(double(dx), dxd) <= Self.tolerance, "\(label): input gradient against Double")
        #expect(scaledDifference(dx, dx32) <= Self.tolerance, "\(label): input gradient against Float im2col")
        #expect(scaledDifference(double(df), dfd) <= Self.tolerance, "\(label): filter gradient against Double")
        #expect(scaledDifference(df, df32) <= Self.tolerance, "\(label): filter gradient against Float im2col")
        // The public entry points take the same path.
        #expect(Tensor.conv2dBackwardFilter(gradient: dy, input: x, filterShape: f.shape, padding: padding).scalars
                == df.scalars, "\(label): public filter gradient")

        // Bias and ReLU in the output transform.
        for (bias, relu) in [(b, true), (b, false), (nil, true)] as [(Tensor<Float>?, Bool)] {
            var expected = yd
            expected.addBias(bias.map { double($0) }, applyingReLU: relu)
            let fused = x.conv2d(filter: f, bias: bias, applyingReLU: relu, padding: padding)
            #expect(scaledDifference(double(fused), expected) <= Self.tolerance, "\(label): bias \(bias != nil), relu \(relu)")
        }

        // Any split into tile ranges and blocks gives the same bits for the forward pass and the
        // input gradient; the filter gradient's partial sums depend on the split only by rounding.
        let reference = ConvKernels.winogradForwardFloat(x, f, g, bias: b, applyingReLU: true, parts: 1)
        let referenceDx = ConvKernels.winogradBackwardInputFloat(dy, f, g, parts: 1)
        for (parts, block) in [(2, nil), (3, 1), (5, 7), (1, 5), (7, nil)] as [(Int, Int?)] {
            let split = "\(label): \(parts) parts, blocks of \(block ?? 0)"
            let yp = ConvKernels.winogradForwardFloat(x, f, g, bias: b, applyingReLU: true, blockTiles: block, parts: parts)
            #expect(yp.scalars == reference.scalars, "\(split): forward")
            let dxp = ConvKernels.winogradBackwardInputFloat(dy, f, g, blockTiles: block, parts: parts)
            #expect(dxp.scalars == referenceDx.scalars, "\(split): input gradient")
            let dfp = ConvKernels.winogradBackwardFilterFloat(dy, x, g, outChannels: cout, blockTiles: block, parts: parts)
            #expect(scaledDifference(double(dfp), dfd) <= Self.tolerance, "\(split): filter gradient")
        }
    }

    @Test(arguments: ["conv_valid_s1", "conv_same_s1"])
    func filterGradientMatchesJAX(_ name: String) throws {
        // 3 input and 2 output channels: below the dispatch threshold, so the kernel is called directly.
        let c = try ReferenceFixture.load("conv.json", from: .module).case(name)
        let x: Tensor<Float> = try c.tensor("input"), f: Tensor<Float> = try c.tensor("filter")
        let dy: Tensor<Float> = try c.tensor("grad_output"), expected: Tensor<Float> = try c.tensor("grad_filter")
        let g = Conv2DGeometry(inputShape: x.shape, kernelHeight: 3, kernelWidth: 3, strides: (1, 1),
                               padding: try c.int("same") == 1 ? .same : .valid, dilations: (1, 1))
        for (parts, block) in [(1, nil), (2, 1), (3, 2)] as [(Int, Int?)] {
            let df = ConvKernels.winogradBackwardFilterFloat(dy, x, g, outChannels: f.shape[3], blockTiles: block, parts: parts)
            #expect(scaledDifference(df, expected) <= 1e-4, "\(name): \(parts) parts, blocks of \(block ?? 0)")
        }
    }

    @Test func reluKeepsNaNAndBiasAppliesWithoutReLU() {
        // A NaN input poisons the outputs that read it and stays NaN through the fused ReLU.
        var x = Tensor<Float>.uniform([1, 8, 8, 16], lower: -1, upper: 1, seed: 7)
        x.scalars[(3 * 8 + 3) * 16] = .nan
        let f = Tensor<Float>.uniform([3, 3, 16, 16], lower: -0.5, upper: 0.5, seed: 8)
        let g = Conv2DGeometry(inputShape: x.shape, kernelHeight: 3, kernelWidth: 3, strides: (1, 1),
                               padding: .same, dilations: (1, 1))
        let y = ConvKernels.winogradForwardFloat(x, f, g, bias: nil, applyingReLU: true)
        #expect(y.scalars[(3 * 8 + 3) * 16].isNaN)
        #expect(y.scalars.allSatisfy { $0.isNaN || $0 >= 0 })
    }
}
