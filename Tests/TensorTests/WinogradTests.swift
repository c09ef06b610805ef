@testable import Tensor
import TestSupport
import Testing

/// Winograd F(2x2, 3x3) against the im2col + GEMM path on random data, in Float (the precision
/// the models train in) and Double, for the forward pass and the input gradient.
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

    private func compare<S: WinogradScalar>(_ type: S.Type, tolerance: (WinogradTile) -> Double) {
        // The dispatched tile size against im2col, then both tile sizes against the dispatched one.
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
            #expect(maxRelativeDifference(forward, im2col) <= tolerance(ConvKernels.winogradDefaultTile), "\(label): forward")
            let col2im = ConvKernels.backwardInput(dy, f, g, allowWinograd: false)
            let backward = ConvKernels.backwardInput(dy, f, g)
            #expect(maxRelativeDifference(backward, col2im) <= tolerance(ConvKernels.winogradDefaultTile), "\(label): backward input")
            // The fused epilogue (bias and/or ReLU in the output transform) against addBias.
            let bias = Tensor<S>.uniform([cout], lower: -1, upper: 1, seed: seed + 4)
            for (b, relu) in [(bias, true), (bias, false), (nil, true)] as [(Tensor<S>?, Bool)] {
                var expected = im2col
                expected.addBias(b, applyingReLU: relu)
                let fused = x.conv2d(filter: f, bias: b, applyingReLU: relu, padding: padding)
                #expect(maxRelativeDifference(fused, expected) <= tolerance(ConvKernels.winogradDefaultTile),
                        "\(label): bias \(b != nil), relu \(relu)")
                let f2 = ConvKernels.winogradForward(x, f, g, bias: b, applyingReLU: relu, tile: .f2x2, chunkTiles: 5)
                #expect(maxRelativeDifference(f2, expected) <= tolerance(.f2x2), "\(label): f2x2, bias \(b != nil), relu \(relu)")
            }
            // Both tile sizes, in one chunk and in chunks of 1 and 7 tiles (starting inside rows
            // and images), agree with im2col.
            for tile in WinogradTile.allCases {
                for chunk in [nil, 1, 7] as [Int?] {
                    let y = ConvKernels.winogradForward(x, f, g, tile: tile, chunkTiles: chunk)
                    #expect(maxRelativeDifference(y, im2col) <= tolerance(tile), "\(label): forward, \(tile), chunks of \(chunk ?? 0)")
                    let dx = ConvKernels.winogradBackwardInput(dy, f, g, tile: tile, chunkTiles: chunk)
                    #expect(maxRelativeDifference(dx, col2im) <= tolerance(tile),
                            "\(label): backward input, \(tile), chunks of \(chunk ?? 0)")
                }
            }
        }
    }

    @Test func floatMatchesIm2col() {
        // F(4x4, 3x3)'s larger transform coefficients (up to 8) cost about one more digit in Float.
        compare(Float.self) { $0 == .f2x2 ? 1e-5 : 1e-4 }
    }

    @Test func doubleMatchesIm2col() {
        compare(Double.self) { _ in 1e-12 }
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
