import Autograd
import Tensor
import TestSupport
import Testing

@Suite("Gradient checker")
struct GradientCheckerTests {
    @Test func acceptsACorrectBackwardRule() {
        let x = Tensor<Double>.uniform([3, 4], lower: -2, upper: 2, seed: 1)
        let result = checkGradients(at: [x]) { v in
            let x = v[0]
            return Variable.record("cube", value: x.value.pow(3), inputs: [x]) { g in
                [g * x.value.squared() * 3]
            }
        }
        #expect(result.passed, "\(result)")
        #expect(result.checkedCount == 12)
    }

    @Test func rejectsADeliberatelyWrongBackwardRule() {
        let x = Tensor<Double>.uniform([3, 4], lower: 0.5, upper: 2, seed: 2)
        // d(x^3)/dx is 3x^2; this rule forgets the factor 3.
        let result = checkGradients(at: [x]) { v in
            let x = v[0]
            return Variable.record("cube (wrong)", value: x.value.pow(3), inputs: [x]) { g in
                [g * x.value.squared()]
            }
        }
        #expect(!result.passed)
        #expect(result.maxError > 0.5)
    }

    @Test func rejectsAMissingGradientContribution() {
        let x = Tensor<Double>.uniform([2, 2], lower: -1, upper: 1, seed: 3)
        let y = Tensor<Double>.uniform([2, 2], lower: -1, upper: 1, seed: 4)
        // x * y with the gradient to y dropped.
        let result = checkGradients(at: [x, y]) { v in
            Variable.record("mul (wrong)", value: v[0].value * v[1].value, inputs: [v[0], v[1]]) { g in
                [g * v[1].value, nil]
            }
        }
        #expect(!result.passed)
        #expect(result.worstInput == 1)
    }
}
