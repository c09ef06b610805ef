import Foundation
import Tensor
import TestSupport
import Testing

/// Softmax, log-softmax and the cross-entropy losses against JAX float64 references written by
/// `Tests/ReferenceScripts/pool_softmax_fixtures.py`, plus closed forms and stability at large logits.
@Suite("Softmax and cross-entropy")
struct SoftmaxTests {
    static let softmaxCases = ["softmax_last_random", "softmax_last_large", "softmax_axis1_rank3", "softmax_axis0_large"]

    static func fixture() throws -> ReferenceFixture {
        try ReferenceFixture.load("pool_softmax.json", from: Bundle.module)
    }

    func checkAgainstFixture<S: TensorScalar>(_ type: S.Type, tolerance: Double) throws {
        let fixture = try Self.fixture()
        for name in Self.softmaxCases {
            let c = try fixture.case(name)
            let axis = try c.int("axis")
            let x = try c.tensor("logits", as: S.self)
            let g = try c.tensor("upstream", as: S.self)
            let y = x.softmax(alongAxis: axis)
            let l = x.logSoftmax(alongAxis: axis)
            #expect(maxRelativeDifference(y, try c.tensor("softmax", as: S.self)) <= tolerance, "\(name) softmax")
            #expect(maxRelativeDifference(l, try c.tensor("log_softmax", as: S.self)) <= tolerance, "\(name) logSoftmax")
            let dy = Tensor<S>.softmaxBackward(output: y, gradient: g, alongAxis: axis)
            let dl = Tensor<S>.logSoftmaxBackward(output: l, gradient: g, alongAxis: axis)
            #expect(maxRelativeDifference(dy, try c.tensor("softmax_grad", as: S.self)) <= tolerance, "\(name) softmax grad")
            #expect(maxRelativeDifference(dl, try c.tensor("log_softmax_grad", as: S.self)) <= tolerance,
                    "\(name) logSoftmax grad")
        }

        let s = try fixture.case("sigmoid_cross_entropy")
        let sx = try s.tensor("logits", as: S.self), sz = try s.tensor("labels", as: S.self)
        #expect(maxRelativeDifference(sigmoidCrossEntropy(logits: sx, labels: sz), try s.tensor("loss", as: S.self))
                <= tolerance)
        let sGrad = sigmoidCrossEntropyBackward(logits: sx, labels: sz, gradient: try s.tensor("upstream", as: S.self))
        #expect(maxRelativeDifference(sGrad, try s.tensor("logits_grad", as: S.self)) <= tolerance)

        for name in ["softmax_ce_one_hot", "softmax_ce_probabilities"] {
            let c = try fixture.case(name)
            let x = try c.tensor("logits", as: S.self), z = try c.tensor("labels", as: S.self)
            let loss = softmaxCrossEntropy(logits: x, labels: z)
            #expect(loss.shape == Array(x.shape.dropLast()), "\(name)")
            #expect(maxRelativeDifference(loss, try c.tensor("loss", as: S.self)) <= tolerance, "\(name) loss")
            let grad = softmaxCrossEntropyBackward(logits: x, labels: z, gradient: try c.tensor("upstream", as: S.self))
            #expect(maxRelativeDifference(grad, try c.tensor("logits_grad", as: S.self)) <= tolerance, "\(name) grad")
        }
    }

    @Test func matchesJAXInDouble() throws {
        try checkAgainstFixture(Double.self, tolerance: 1e-12)
    }

    @Test func matchesJAXInFloat() throws {
        try checkAgainstFixture(Float.self, tolerance: 2e-6)
    }

    @Test func softmaxRowsSumToOneAlongAnyAxis() {
        let x = Tensor<Double>.normal([3, 4, 5], standardDeviation: 5, seed: 3)
        for axis in [0, 1, 2, -1] {
            let sums = x.softmax(alongAxis: axis).sum(alongAxes: [axis])
            #expect(sums.scalars.allSatisfy { abs($0 - 1) < 1e-14 }, "axis \(axis)")
            // exp(logSoftmax) is softmax.
            #expect(maxRelativeDifference(x.logSoftmax(alongAxis: axis).exp(), x.softmax(alongAxis: axis)) < 1e-14)
        }
        #expect(x.softmax().shape == x.shape)
    }

    @Test func logSoftmaxOfEqualLogitsIsMinusLogC() {
        for value in [0.0, -1000, 1000, 7.5] {
            let l = Tensor<Double>.full([2, 6], value).logSoftmax()
            #expect(l.scalars.allSatisfy { abs($0 + Foundation.log(6)) < 1e-15 }, "logits \(value)")
            let f = Tensor<Float>.full([3, 4], Float(value)).logSoftmax()
            #expect(f.scalars.allSatisfy { abs($0 + Foundation.log(Float(4))) < 1e-6 }, "logits \(value)")
        }
    }

    @Test func staysFiniteAndExactAtHugeLogits() {
        let x = Tensor<Float>([[1000, -1000, 0], [-1000, -1000, -1000]])
        let y = x.softmax(), l = x.logSoftmax()
        #expect(y.isFinite && l.isFinite)
        #expect(Array(y.scalars[0..<3]) == [1, 0, 0])
        #expect(y.scalars[3...].allSatisfy { abs($0 - 1.0 / 3) < 1e-7 })
        #expect(l.scalars[0] == 0 && l.scalars[1] == -2000 && l.scalars[2] == -1000)
        // One-hot cross-entropy on the losing class: exactly the logit gap.
        let loss = softmaxCrossEntropy(logits: Tensor<Float>([[1000, -1000]]), labels: Tensor<Float>([[0, 1]]))
        #expect(loss.scalars == [2000])
        let sce = sigmoidCrossEntropy(logits: Tensor<Float>([1000, -1000, 1000, -1000]),
                                      labels: Tensor<Float>([1, 0, 0, 1]))
        #expect(sce.scalars == [0, 0, 1000, 1000])
        let sGrad = sigmoidCrossEntropyBackward(logits: Tensor<Float>([1000, -1000]), labels: Tensor<Float>([0, 1]),
                                                gradient: Tensor<Float>([1, 1]))
        #expect(sGrad.scalars == [1, -1])
    }

    @Test func sigmoidCrossEntropyAtZeroLogitIsLog2() {
        let loss = sigmoidCrossEntropy(logits: Tensor<Double>.zeros([5]), labels: Tensor<Double>([0, 0.25, 0.5, 0.75, 1]))
        #expect(loss.scalars.allSatisfy { abs($0 - Foundation.log(2)) < 1e-15 })
        let grad = sigmoidCrossEntropyBackward(logits: Tensor<Double>.zeros([2]), labels: Tensor<Double>([0, 1]),
                                               gradient: Tensor<Double>([1, 2]))
        #expect(grad.scalars == [0.5, -1])
    }

    @Test func softmaxCrossEntropyClosedForms() {
        // Uniform logits over C classes: the loss is log C for any label distribution.
        let z = Tensor<Double>([[1, 0, 0, 0], [0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4]])
        let loss = softmaxCrossEntropy(logits: Tensor<Double>.zeros([3, 4]), labels: z)
        #expect(loss.shape == [3])
        #expect(loss.scalars.allSatisfy { abs($0 - Foundation.log(4)) < 1e-15 })
        // Gradient softmax - z with unit upstream gradient.
        let grad = softmaxCrossEntropyBackward(logits: Tensor<Double>.zeros([3, 4]), labels: z,
                                               gradient: Tensor<Double>.ones([3]))
        #expect(maxRelativeDifference(grad, 0.25 - z) < 1e-15)
        // Equals -sum(z * logSoftmax).
        let x = Tensor<Double>.normal([3, 4], standardDeviation: 3, seed: 9)
        let direct = -(z * x.logSoftmax()).sum(alongAxes: [1])
        #expect(maxRelativeDifference(softmaxCrossEntropy(logits: x, labels: z), direct) < 1e-14)
    }
}
