import Autograd
import Tensor
import TestSupport
import Testing

/// One convolution configuration for a gradient check (small, so debug builds stay fast).
struct ConvGradientCase: Sendable, CustomTestStringConvertible {
    let inputShape: [Int]
    let filterShape: [Int]
    let strides: (Int, Int)
    let padding: Padding
    let dilations: (Int, Int)

    var testDescription: String {
        "input \(inputShape) filter \(filterShape) strides \(strides) \(padding) dilations \(dilations)"
    }
}

private let regularConfigurations: [ConvGradientCase] = [
    ConvGradientCase(inputShape: [2, 5, 4, 2], filterShape: [3, 3, 2, 3], strides: (1, 1), padding: .valid, dilations: (1, 1)),
    ConvGradientCase(inputShape: [2, 5, 4, 2], filterShape: [3, 3, 2, 2], strides: (1, 1), padding: .same, dilations: (1, 1)),
    ConvGradientCase(inputShape: [1, 5, 6, 2], filterShape: [3, 2, 2, 2], strides: (2, 2), padding: .same, dilations: (1, 1)),
    ConvGradientCase(inputShape: [2, 6, 5, 1], filterShape: [2, 3, 1, 2], strides: (2, 1), padding: .valid, dilations: (1, 1)),
    ConvGradientCase(inputShape: [1, 6, 5, 2], filterShape: [3, 2, 2, 2], strides: (1, 1), padding: .same, dilations: (2, 2)),
    ConvGradientCase(inputShape: [1, 7, 5, 1], filterShape: [2, 2, 1, 3], strides: (2, 1), padding: .valid, dilations: (2, 3)),
    ConvGradientCase(inputShape: [2, 3, 3, 3], filterShape: [1, 1, 3, 2], strides: (1, 1), padding: .same, dilations: (1, 1)),
]

private let depthwiseConfigurations: [ConvGradientCase] = [
    ConvGradientCase(inputShape: [2, 5, 4, 2], filterShape: [3, 3, 2, 1], strides: (1, 1), padding: .valid, dilations: (1, 1)),
    ConvGradientCase(inputShape: [2, 5, 4, 2], filterShape: [3, 3, 2, 2], strides: (1, 1), padding: .same, dilations: (1, 1)),
    ConvGradientCase(inputShape: [1, 6, 5, 3], filterShape: [3, 2, 3, 2], strides: (2, 2), padding: .same, dilations: (1, 1)),
    ConvGradientCase(inputShape: [1, 6, 7, 2], filterShape: [2, 3, 2, 3], strides: (2, 1), padding: .valid, dilations: (2, 2)),
    ConvGradientCase(inputShape: [1, 5, 6, 1], filterShape: [3, 3, 1, 2], strides: (1, 1), padding: .same, dilations: (2, 1)),
]

@Suite("Convolution gradients")
struct ConvolutionGradientTests {
    @Test(arguments: regularConfigurations)
    func conv2dGradients(_ c: ConvGradientCase) {
        let x = Tensor<Double>.uniform(c.inputShape, lower: -1, upper: 1, seed: 101)
        let f = Tensor<Double>.uniform(c.filterShape, lower: -1, upper: 1, seed: 102)
        let result = checkGradients(at: [x, f]) { v in
            conv2d(v[0], v[1], strides: c.strides, padding: c.padding, dilations: c.dilations)
        }
        #expect(result.passed, "\(c.testDescription): \(result)")
        #expect(result.checkedCount == x.count + f.count)
    }

    @Test(arguments: depthwiseConfigurations)
    func depthwiseConv2dGradients(_ c: ConvGradientCase) {
        let x = Tensor<Double>.uniform(c.inputShape, lower: -1, upper: 1, seed: 201)
        let f = Tensor<Double>.uniform(c.filterShape, lower: -1, upper: 1, seed: 202)
        let result = checkGradients(at: [x, f]) { v in
            depthwiseConv2d(v[0], v[1], strides: c.strides, padding: c.padding, dilations: c.dilations)
        }
        #expect(result.passed, "\(c.testDescription): \(result)")
        #expect(result.checkedCount == x.count + f.count)
    }

    @Test(arguments: [true, false])
    func fusedDepthwiseConv2dGradients(relu: Bool) throws {
        let x = Tensor<Double>.uniform([2, 5, 4, 2], lower: -1, upper: 1, seed: 211)
        let f = Tensor<Double>.uniform([3, 3, 2, 2], lower: -1, upper: 1, seed: 212)
        let b = Tensor<Double>.uniform([4], lower: -0.5, upper: 0.5, seed: 213)
        let result = checkGradients(at: [x, f, b]) { v in
            depthwiseConv2d(v[0], v[1], bias: v[2], applyingReLU: relu, strides: (2, 1), padding: .same)
        }
        #expect(result.passed, "\(result)")
        #expect(result.checkedCount == x.count + f.count + b.count)
        // The same value as the unfused graph, recorded as one node.
        let (xv, fv, bv) = (Variable(x), Variable(f, requiresGradient: true), Variable(b, requiresGradient: true))
        let fused = depthwiseConv2d(xv, fv, bias: bv, applyingReLU: relu, strides: (2, 1), padding: .same)
        #expect(fused.operationName == (relu ? "depthwiseConv2d+bias+relu" : "depthwiseConv2d+bias"))
        let plain = depthwiseConv2d(xv, fv, strides: (2, 1), padding: .same) + bv
        #expect(maxRelativeDifference(fused.value, relu ? plain.value.relu() : plain.value) <= 1e-14)
    }

    @Test func chainedDepthwiseAndPointwiseGradients() {
        // A depthwise-separable block: the input gradient of the pointwise convolution feeds the
        // depthwise backward pass, and both filters get gradients.
        let x = Tensor<Double>.uniform([1, 5, 5, 2], lower: -1, upper: 1, seed: 301)
        let depthwise = Tensor<Double>.uniform([3, 3, 2, 2], lower: -1, upper: 1, seed: 302)
        let pointwise = Tensor<Double>.uniform([1, 1, 4, 3], lower: -1, upper: 1, seed: 303)
        let result = checkGradients(at: [x, depthwise, pointwise]) { v in
            conv2d(depthwiseConv2d(v[0], v[1], strides: (2, 2), padding: .same), v[2])
        }
        #expect(result.passed, "\(result)")
    }

    @Test func constantOperandsGetNoGradient() throws {
        let x = Variable(Tensor<Double>.uniform([1, 4, 4, 1], lower: -1, upper: 1, seed: 401))
        let f = Variable(Tensor<Double>.ones([2, 2, 1, 1]), requiresGradient: true)
        let y = conv2d(x, f)
        #expect(y.operationName == "conv2d")
        y.backward(seed: .ones(y.shape))
        #expect(x.gradient == nil)
        // d(sum of 2x2 box sums)/d f[a, b] = sum of the input over the 3x3 block shifted by (a, b).
        let expected = (0..<2).flatMap { a in
            (0..<2).map { b in
                (0..<3).flatMap { i in (0..<3).map { j in x.value[0, i + a, j + b, 0] } }.reduce(0, +)
            }
        }
        let gradient = try #require(f.gradient)
        #expect(maxRelativeDifference(gradient, Tensor(shape: [2, 2, 1, 1], scalars: expected)) <= 1e-12)
    }
}
