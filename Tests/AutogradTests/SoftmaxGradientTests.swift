import Autograd
import Tensor
import TestSupport
import Testing

/// Finite-difference checks of the softmax, log-softmax and cross-entropy backward rules.
@Suite("Softmax and cross-entropy gradients")
struct SoftmaxGradientTests {
    @Test func softmaxAlongEveryAxis() {
        let x = Tensor<Double>.normal([2, 3, 4], standardDeviation: 2, seed: 1)
        for axis in [0, 1, 2, -1] {
            let result = checkGradients(at: [x]) { v in v[0].softmax(alongAxis: axis) }
            #expect(result.passed, "axis \(axis): \(result)")
        }
    }

    @Test func logSoftmaxAlongEveryAxis() {
        let x = Tensor<Double>.normal([2, 3, 4], standardDeviation: 2, seed: 2)
        for axis in [0, 1, 2, -1] {
            let result = checkGradients(at: [x]) { v in v[0].logSoftmax(alongAxis: axis) }
            #expect(result.passed, "axis \(axis): \(result)")
        }
    }

    @Test func sigmoidCrossEntropyWithSoftLabels() {
        let x = Tensor<Double>.normal([3, 5], standardDeviation: 3, seed: 3)
        let z = Tensor<Double>.uniform([3, 5], lower: 0, upper: 1, seed: 4)
        let result = checkGradients(at: [x]) { v in sigmoidCrossEntropy(logits: v[0], labels: z) }
        #expect(result.passed, "\(result)")
    }

    @Test func softmaxCrossEntropyWithOneHotAndProbabilityLabels() {
        let x = Tensor<Double>.normal([4, 5], standardDeviation: 2, seed: 5)
        var oneHot = Tensor<Double>.zeros([4, 5])
        for (row, cls) in [2, 0, 4, 2].enumerated() { oneHot[row, cls] = 1 }
        let raw = Tensor<Double>.uniform([4, 5], lower: 0.1, upper: 1, seed: 6)
        let probabilities = raw / raw.sum(alongAxes: [1], keepDims: true)
        // Unnormalized labels exercise the exact gradient softmax * sum(z) - z.
        let unnormalized = raw * 2
        for (name, z) in [("one-hot", oneHot), ("probabilities", probabilities), ("unnormalized", unnormalized)] {
            let result = checkGradients(at: [x]) { v in softmaxCrossEntropy(logits: v[0], labels: z) }
            #expect(result.passed, "\(name): \(result)")
        }
        // Rank 3: per-example losses over two leading axes.
        let x3 = Tensor<Double>.normal([2, 3, 4], standardDeviation: 2, seed: 7)
        let raw3 = Tensor<Double>.uniform([2, 3, 4], lower: 0.1, upper: 1, seed: 8)
        let z3 = raw3 / raw3.sum(alongAxes: [2], keepDims: true)
        let result = checkGradients(at: [x3]) { v in softmaxCrossEntropy(logits: v[0], labels: z3) }
        #expect(result.passed, "rank 3: \(result)")
    }

    @Test func crossEntropyGradientsAreSoftmaxOrSigmoidMinusLabels() throws {
        let x = Tensor<Double>.normal([3, 4], standardDeviation: 2, seed: 9)
        let z = Tensor<Double>([[0, 1, 0, 0], [1, 0, 0, 0], [0.5, 0, 0, 0.5]])
        let logits = Variable(x, requiresGradient: true)
        softmaxCrossEntropy(logits: logits, labels: z).backward(seed: Tensor.ones([3]))
        let g = try #require(logits.gradient)
        #expect(maxRelativeDifference(g, x.softmax() - z) < 1e-14)

        let s = Variable(x, requiresGradient: true)
        sigmoidCrossEntropy(logits: s, labels: z).backward(seed: Tensor.ones([3, 4]))
        let gs = try #require(s.gradient)
        #expect(maxRelativeDifference(gs, x.sigmoid() - z) < 1e-15)
    }

    @Test func gradientsStayFiniteAtHugeLogits() throws {
        let x = Tensor<Float>([[1000, -1000, 0], [-1000, 1000, 999]])
        let labels = Tensor<Float>([[0, 1, 0], [0, 0, 1]])
        let logits = Variable(x, requiresGradient: true)
        let loss = softmaxCrossEntropy(logits: logits, labels: labels)
        #expect(loss.value.isFinite)
        loss.backward(seed: Tensor.ones([2]))
        let g = try #require(logits.gradient)
        #expect(g.isFinite)
        // softmax(row 0) = [1, 0, 0]; softmax(row 1) = [0, 1/(1+e^-1), e^-1/(1+e^-1)].
        let e = Float.exp(-1)
        let expected = Tensor<Float>([[1, -1, 0], [0, 1 / (1 + e), e / (1 + e) - 1]])
        #expect(maxRelativeDifference(g, expected) < 1e-6)

        let other = Variable(x, requiresGradient: true)
        other.logSoftmax().backward(seed: Tensor.ones([2, 3]))
        #expect(try #require(other.gradient).isFinite)
    }
}
