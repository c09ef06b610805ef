@testable import Tensor
import TestSupport
import Testing

/// Winograd F(4x4, 3x3) against the im2col + GEMM path on random data, in Float (the precision
/// the models train in, the C kernels) and Double (the Swift code), for the forward pass and the
/// input gradient.
@Suite("Winograd convolution")
struct WinogradTests {
    /// (batch, height, width, input channels, output channels, padding): odd and even sizes, a
    /// single tile row or column, batches, and channel counts that are not multiples of 8.
    static let shapes: [(Int, Int, Int, Int, Int, Padding)] = [
        (1, 4, 4, 16, 16, .valid), (2, 9, 7, 16, 24, .valid), (2, 9, 7, 16, 24, .same),
        (3, 8, 10, 33, 17, .same), (1, 3, 5, 20, 16, .valid), (1, 1, 1, 16, 16, .same),
        (2, 6, 3, 19, 32, .same), (1, 15, 12, 64, 32, .valid),
        // Many tiles per chunk.
        (2, 26, 23, 40, 48, .same),
    ]

    private func compare<S: WinogradScalar>(_ type: S.Type, tolerance: Double) {
        for (index, (n, h, w, cin, cout, padding)) in Self.shapes.enumerated() {
            let g = Conv2DGeometry(inputShape: [n, h, w, cin], kernelHeight: 3, kernelWidth: 3,
                                   strides: (1, 1), padding: padding, dilations: (1, 1))
            #expect(ConvKernels.winogradApplies(g, outChannels: cout))
            let seed = UInt64(10 * index)
            let x = Tensor<S>.uniform([n, h, w, cin], lower: -1, upper: 1, seed: seed + 1)
            let f = Tensor<S>.uniform([3, 3, cin, cout], lower: -0.5, upper: 0.5, seed: seed + 2)
            let dy = Tensor<S>.uniform(g.outputShape(channels: cout), lower: -1, upper: 1, seed: seed + 3)
            let label = "\(S.self) [\(n), \(h), \(w), \(cin)] -> \(cout) \(padding)"
            let im2col = ConvKernels.forward(x, f, g, allowWinograd: false)
            let forward = ConvKernels.forward(x, f, g)
            #expect(forward.shape == im2col.shape, "\(label): forward shape")
            #expect(maxRelativeDifference(forward, im2col) <= tolerance, "\(label): forward")
            let col2im = ConvKernels.backwardInput(dy, f, g, allowWinograd: false)
            let backward = ConvKernels.backwardInput(dy, f, g)
            #expect(maxRelativeDifference(backward, col2im) <= tolerance, "\(label): backward input")
            // The fused epilogue (bias and/or ReLU in the output transform) against addBias.
            let bias = Tensor<S>.uniform([cout], lower: -1, upper: 1, seed: seed + 4)
            for (b, relu) in [(bias, true), (bias, false), (nil, true)] as [(Tensor<S>?, Bool)] {
                var expected = im2col
                expected.addBias(b, applyingReLU: relu)
                let fused = x.conv2d(filter: f, bias: b, applyingReLU: relu, padding: padding)
                #expect(maxRelativeDifference(fused, expected) <= tolerance, "\(label): bias \(b != nil), relu \(relu)")
                let chunked = ConvKernels.winogradForward(x, f, g, bias: b, applyingReLU: relu, chunkTiles: 5)
                #expect(maxRelativeDifference(chunked, expected) <= tolerance,
                        "\(label): chunks of 5, bias \(b != nil), relu \(relu)")
            }
            // In chunks (Double) or blocks (Float) of 1 and 7 tiles, starting inside rows and images.
            for chunk in [1, 7] {
                let y = ConvKernels.winogradForward(x, f, g, chunkTiles: chunk)
                #expect(maxRelativeDifference(y, im2col) <= tolerance, "\(label): forward, chunks of \(chunk)")
                let dx = ConvKernels.winogradBackwardInput(dy, f, g, chunkTiles: chunk)
                #expect(maxRelativeDifference(dx, col2im) <= tolerance, "\(label): backward input, chunks of \(chunk)")
            }
        }
    }

    @Test func floatMatchesIm2col() {
        // F(4x4, 3x3)'s transform coefficients (up to 8) cost about one digit against im2col in Float.
        compare(Float.self, tolerance: 1e-4)
    }

    @Test func doubleMatchesIm2col() {
        compare(Double.self, tolerance: 1e-12)
    }

    @Test func fusedEpilogueOutsideWinogradIsConvolutionThenAddBias() {
        // Stride 2 and 3 input channels both stay on im2col + GEMM; the epilogue follows.
        let x = Tensor<Double>.uniform([2, 7, 6, 3], lower: -1, upper: 1, seed: 41)
        let f = Tensor<Double>.uniform([3, 3, 3, 20], lower: -1, upper: 1, seed: 42)
        let bias = Tensor<Double>.uniform([20], lower: -1, upper: 1, seed: 43)
        for strides in [(1, 1), (2, 2)] {
            var expected = x.conv2d(filter: f, strides: strides, padding: .same)
            expected.addBias(bias, applyingReLU: true)
            let fused = x.conv2d(filter: f, bias: bias, applyingReLU: true, strides: strides, padding: .same)
            #expect(maxRelativeDifference(fused, expected) == 0)
        }
    }

    @Test func dispatchOnlyCoversStrideOne3x3WithEnoughChannels() {
        func applies(_ input: [Int], _ kernel: Int, cout: Int, strides: (Int, Int) = (1, 1),
                     dilations: (Int, Int) = (1, 1), padding: Padding = .same) -> Bool {
            let g = Conv2DGeometry(inputShape: input, kernelHeight: kernel, kernelWidth: kernel,
                                   strides: strides, padding: padding, dilations: dilations)
            return ConvKernels.winogradApplies(g, outChannels: cout)
        }
        #expect(applies([32, 75, 75, 32], 3, cout: 64))
        #expect(!applies([32, 150, 150, 1], 3, cout: 32))
        #expect(!applies([32, 150, 150, 3], 3, cout: 32))
        #expect(!applies([32, 75, 75, 32], 3, cout: 8))
        #expect(!applies([32, 75, 75, 32], 3, cout: 64, strides: (2, 2)))
        #expect(!applies([32, 75, 75, 32], 3, cout: 64, dilations: (2, 2)))
        #expect(!applies([32, 75, 75, 32], 5, cout: 64))
        #expect(!applies([1, 2, 2, 32], 3, cout: 32, padding: .valid))
    }
}
