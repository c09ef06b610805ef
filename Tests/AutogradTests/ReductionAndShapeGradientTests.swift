import Autograd
import Tensor
import TestSupport
import Testing

/// Reductions and shape operations, run through the finite-difference checker.
@Suite("Reduction and shape gradients")
struct ReductionAndShapeGradientTests {
    static let x = Tensor<Double>.uniform([2, 3, 4], lower: -2, upper: 2, seed: 21)

    static let cases: [(String, @Sendable (Variable<Double>) -> Variable<Double>)] = [
        ("sum all", { $0.sum() }),
        ("sum axis 1", { $0.sum(alongAxes: [1]) }),
        ("sum axes 0,2 keepDims", { $0.sum(alongAxes: [0, 2], keepDims: true) }),
        ("mean all", { $0.mean() }),
        ("mean axis -1", { $0.mean(alongAxes: [-1]) }),
        ("max axis 2", { $0.max(alongAxes: [2]) }),
        ("min axes 0,1", { $0.min(alongAxes: [0, 1]) }),
        ("variance axis 1", { $0.variance(alongAxes: [1]) }),
        ("sample variance all", { $0.variance(correction: 1) }),
        ("reshape", { $0.reshaped(to: [6, -1]) }),
        ("flatten batch", { $0.flattenedBatch() }),
        ("permute", { $0.permuted([2, 0, 1]) }),
        ("transpose", { $0.transposed() }),
        ("slice axis 1", { $0.slice(alongAxis: 1, 1..<3) }),
        ("select axis 2", { $0.selecting(3, alongAxis: 2) }),
        ("concatenate with itself", { Variable.concatenate([$0, $0.slice(alongAxis: 2, 0..<1)], alongAxis: 2) }),
        ("stack axis 1", { Variable.stack([$0, $0 * 2], alongAxis: 1) }),
        ("squeeze and expand", { $0.expandingShape(at: 1).squeezed() }),
        ("broadcast", { $0.slice(alongAxis: 0, 0..<1).broadcast(to: [5, 3, 4]) }),
    ]

    @Test(arguments: 0..<cases.count)
    func operation(_ index: Int) {
        let (name, f) = Self.cases[index]
        let result = checkGradients(at: [Self.x]) { f($0[0]) }
        #expect(result.passed, "\(name): \(result)")
    }

    @Test func maxSharesTheGradientAmongTies() {
        let x = Variable(Tensor<Double>([1, 3, 3]), requiresGradient: true)
        x.max().backward()
        #expect(x.gradient?.scalars == [0, 0.5, 0.5])
    }

    @Test func composedExpressionMatchesClosedForm() {
        // L = mean((W x - y)^2) for W [2, 3]: dL/dW = 2/2 * (W x - y) x^T.
        let w = Tensor<Double>([[1, 2, 3], [-1, 0, 1]])
        let xs = Tensor<Double>(shape: [3, 1], scalars: [1, -1, 2])
        let y = Tensor<Double>(shape: [2, 1], scalars: [4, 0])
        let wv = Variable(w, requiresGradient: true)
        let residual = (wv * xs.transposed()).sum(alongAxes: [1], keepDims: true) - Variable(y)
        residual.squared().mean().backward()
        // W x = [5, 1]; residual [1, 1]; gradient = residual x^T.
        #expect(wv.gradient?.scalars == [1, -1, 2, 1, -1, 2])
    }
}
