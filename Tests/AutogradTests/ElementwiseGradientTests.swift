import Autograd
import Tensor
import TestSupport
import Testing

/// Every differentiable elementwise operation, run through the finite-difference checker.
@Suite("Elementwise gradients")
struct ElementwiseGradientTests {
    static let x = Tensor<Double>.uniform([3, 4], lower: -2, upper: 2, seed: 11)
    static let positive = Tensor<Double>.uniform([3, 4], lower: 0.5, upper: 3, seed: 12)
    static let row = Tensor<Double>.uniform([4], lower: 0.5, upper: 2, seed: 13)
    static let column = Tensor<Double>.uniform([3, 1], lower: -1, upper: 1, seed: 14)

    static let unaryCases: [(String, Tensor<Double>, @Sendable (Variable<Double>) -> Variable<Double>)] = [
        ("exp", x, { $0.exp() }),
        ("log", positive, { $0.log() }),
        ("sqrt", positive, { $0.sqrt() }),
        ("squared", x, { $0.squared() }),
        ("pow 3", x, { $0.pow(3) }),
        ("pow -1.5", positive, { $0.pow(-1.5) }),
        ("tanh", x, { $0.tanh() }),
        ("sigmoid", x, { $0.sigmoid() }),
        ("relu", x, { $0.relu() }),
        ("leakyRelu", x, { $0.leakyRelu(alpha: 0.2) }),
        ("softplus", x, { $0.softplus() }),
        ("abs", x, { $0.abs() }),
        ("clamp", x, { $0.clamped(to: -1...1) }),
        ("negate", x, { -$0 }),
        ("add scalar", x, { $0 + 3 }),
        ("scalar minus", x, { 3 - $0 }),
        ("times scalar", x, { $0 * 2.5 }),
        ("divide by scalar", x, { $0 / 4 }),
    ]

    @Test(arguments: 0..<unaryCases.count)
    func unaryOperation(_ index: Int) {
        let (name, input, f) = Self.unaryCases[index]
        let result = checkGradients(at: [input]) { f($0[0]) }
        #expect(result.passed, "\(name): \(result)")
    }

    static let binaryCases: [(String, Tensor<Double>, Tensor<Double>, @Sendable (Variable<Double>, Variable<Double>) -> Variable<Double>)] = [
        ("add same shape", x, positive, { $0 + $1 }),
        ("add broadcast row", x, row, { $0 + $1 }),
        ("subtract broadcast column", x, column, { $0 - $1 }),
        ("subtract column minus matrix", column, x, { $0 - $1 }),
        ("multiply broadcast row", x, row, { $0 * $1 }),
        ("multiply column by row", column, row, { $0 * $1 }),
        ("divide broadcast row", x, row, { $0 / $1 }),
        ("divide row by matrix", row, positive, { $0 / $1 }),
        ("maximum", x, positive - 1.5, { $0.maximum($1) }),
        ("minimum broadcast", x, column, { $0.minimum($1) }),
    ]

    @Test(arguments: 0..<binaryCases.count)
    func binaryOperation(_ index: Int) {
        let (name, a, b, f) = Self.binaryCases[index]
        let result = checkGradients(at: [a, b]) { f($0[0], $0[1]) }
        #expect(result.passed, "\(name): \(result)")
    }

    @Test func reusedVariableAccumulatesGradients() {
        // f(x) = x * x + x, used three times: df/dx = 2x + 1.
        let x = Variable(Tensor<Double>([1, -2, 3]), requiresGradient: true)
        let y = (x * x + x).sum()
        y.backward()
        #expect(x.gradient?.scalars == [3, -3, 7])
        // A second backward adds to the gradient, as in PyTorch.
        (x * 2).sum().backward()
        #expect(x.gradient?.scalars == [5, -1, 9])
        x.zeroGradient()
        #expect(x.gradient == nil)
    }

    @Test func withoutGradientsRecordsNothing() {
        let x = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
        let y = withoutGradients { (x * x).sum() }
        #expect(y.isLeaf)
        #expect(!y.requiresGradient)
        #expect(y.value.scalars == [5])
        let z = (x * x).sum()
        #expect(!z.isLeaf)
        #expect(z.operationName == "sum")
    }

    @Test func detachedStopsGradients() {
        let x = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
        let y = (x * x.detached()).sum()
        y.backward()
        #expect(x.gradient?.scalars == [1, 2])
    }

    @Test func constantsGetNoGradient() {
        let w = Variable(Tensor<Double>([2]), requiresGradient: true)
        let c = Variable(Tensor<Double>([5]))
        (w * c).sum().backward()
        #expect(w.gradient?.scalars == [5])
        #expect(c.gradient == nil)
    }
}
