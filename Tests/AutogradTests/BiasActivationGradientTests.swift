import Autograd
import Tensor
import TestSupport
import Testing

@Suite("Fused bias + ReLU gradients")
struct BiasActivationGradientTests {
    @Test(arguments: [true, false])
    func fusedConv2dGradients(relu: Bool) {
        let x = Tensor<Double>.uniform([2, 5, 4, 2], lower: -1, upper: 1, seed: 501)
        let f = Tensor<Double>.uniform([3, 3, 2, 3], lower: -1, upper: 1, seed: 502)
        let b = Tensor<Double>.uniform([3], lower: -0.5, upper: 0.5, seed: 503)
        let result = checkGradients(at: [x, f, b]) { v in
            conv2d(v[0], v[1], bias: v[2], applyingReLU: relu, strides: (1, 1), padding: .same)
        }
        #expect(result.passed, "\(result)")
        #expect(result.checkedCount == x.count + f.count + b.count)
    }

    @Test func fusedConv2dWithoutBiasStridedGradients() {
        let x = Tensor<Double>.uniform([1, 6, 5, 2], lower: -1, upper: 1, seed: 511)
        let f = Tensor<Double>.uniform([2, 3, 2, 2], lower: -1, upper: 1, seed: 512)
        let result = checkGradients(at: [x, f]) { v in
            conv2d(v[0], v[1], bias: nil, applyingReLU: true, strides: (2, 1), padding: .valid)
        }
        #expect(result.passed, "\(result)")
    }

    @Test(arguments: [true, false])
    func fusedDenseGradients(relu: Bool) {
        let x = Tensor<Double>.uniform([4, 5], lower: -1, upper: 1, seed: 521)
        let w = Tensor<Double>.uniform([5, 3], lower: -1, upper: 1, seed: 522)
        let b = Tensor<Double>.uniform([3], lower: -0.5, upper: 0.5, seed: 523)
        let result = checkGradients(at: [x, w, b]) { v in dense(v[0], v[1], bias: v[2], applyingReLU: relu) }
        #expect(result.passed, "\(result)")
        #expect(result.checkedCount == x.count + w.count + b.count)
    }

    @Test func fusedDenseOverRank3InputGradients() {
        let x = Tensor<Double>.uniform([2, 3, 4], lower: -1, upper: 1, seed: 531)
        let w = Tensor<Double>.uniform([4, 2], lower: -1, upper: 1, seed: 532)
        let b = Tensor<Double>.uniform([2], lower: -0.5, upper: 0.5, seed: 533)
        let result = checkGradients(at: [x, w, b]) { v in dense(v[0], v[1], bias: v[2], applyingReLU: true) }
        #expect(result.passed, "\(result)")
    }

    @Test func fusedOpsMatchTheUnfusedGraph() throws {
        // Same values and gradients as conv2d -> + bias -> relu, recorded as one node.
        let x = Variable(Tensor<Double>.uniform([2, 6, 6, 3], lower: -1, upper: 1, seed: 541), requiresGradient: true)
        let f = Variable(Tensor<Double>.uniform([3, 3, 3, 4], lower: -1, upper: 1, seed: 542), requiresGradient: true)
        let b = Variable(Tensor<Double>.uniform([4], lower: -0.5, upper: 0.5, seed: 543), requiresGradient: true)
        let fused = conv2d(x, f, bias: b, applyingReLU: true, strides: (1, 1), padding: .valid)
        #expect(fused.operationName == "conv2d+bias+relu")
        let seed = Tensor<Double>.uniform(fused.shape, lower: -1, upper: 1, seed: 544)
        fused.backward(seed: seed)
        let fusedGradients = try [x, f, b].map { try #require($0.gradient) }
        [x, f, b].forEach { $0.zeroGradient() }
        let plain = (conv2d(x, f) + b).relu()
        plain.backward(seed: seed)
        #expect(maxRelativeDifference(fused.value, plain.value) <= 1e-14)
        for (v, g) in zip([x, f, b], fusedGradients) {
            #expect(maxRelativeDifference(try #require(v.gradient), g) <= 1e-12)
        }
    }

    @Test func reluGradientUsesItsOutput() {
        let x = Tensor<Double>.uniform([3, 7], lower: -1, upper: 1, seed: 551)
        let result = checkGradients(at: [x]) { v in v[0].relu() }
        #expect(result.passed, "\(result)")
    }
}
