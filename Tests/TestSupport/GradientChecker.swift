import Autograd
import Tensor

/// The outcome of comparing a backward rule with central finite differences.
public struct GradientCheckResult: CustomStringConvertible, Sendable {
    /// Largest `|analytic - numeric| / max(1, |numeric|)` over every checked element.
    public let maxError: Double
    /// Where the largest error occurred: input number and flat element index.
    public let worstInput: Int
    /// Flat element index of the worst error in its input.
    public let worstIndex: Int
    /// The analytic derivative at the worst element.
    public let analytic: Double
    /// The finite-difference derivative at the worst element.
    public let numeric: Double
    /// The tolerance the check used.
    public let tolerance: Double
    /// Number of derivatives compared.
    public let checkedCount: Int

    /// Whether every derivative agreed within the tolerance.
    public var passed: Bool { maxError <= tolerance && checkedCount > 0 }

    public var description: String {
        "gradient check \(passed ? "passed" : "FAILED"): max error \(maxError) (tolerance \(tolerance)) at input \(worstInput) "
            + "element \(worstIndex): analytic \(analytic), numeric \(numeric); \(checkedCount) derivatives compared"
    }
}

/// Checks the backward rules of `function` at `inputs` against central finite differences in
/// double precision.
///
/// The function may return a tensor of any shape: it is reduced to a scalar as
/// `sum(output * weights)` with fixed pseudo-random weights, so every output element's gradient is
/// exercised with a different weight. Each input element `x` is perturbed by `±epsilon` and the
/// derivative estimated as `(f(x + e) - f(x - e)) / 2e`; the analytic derivative is the gradient
/// that `backward()` accumulates. The relative error uses `max(1, |numeric|)` as the scale.
///
/// - Parameters:
///   - inputs: the points at which to differentiate; every one is differentiated.
///   - epsilon: the finite-difference step.
///   - tolerance: the largest relative error accepted.
///   - function: the computation under test, built from `Variable` operations.
public func checkGradients(
    at inputs: [Tensor<Double>],
    epsilon: Double = 1e-6,
    tolerance: Double = 1e-6,
    seed: UInt64 = 0x5EED,
    _ function: ([Variable<Double>]) -> Variable<Double>
) -> GradientCheckResult {
    let variables = inputs.map { Variable($0, requiresGradient: true) }
    return checkGradients(of: variables, epsilon: epsilon, tolerance: tolerance, seed: seed) { function(variables) }
}

/// Checks the gradients of `function` with respect to variables it reads (for example a layer's
/// own weights and an input), perturbing their values in place and restoring them afterwards.
///
/// The function is re-run for every perturbation and must read the variables' current values.
/// Each variable must require a gradient. The reduction to a scalar and the error measure are
/// those of ``checkGradients(at:epsilon:tolerance:seed:_:)``.
public func checkGradients(
    of variables: [Variable<Double>],
    epsilon: Double = 1e-6,
    tolerance: Double = 1e-6,
    seed: UInt64 = 0x5EED,
    _ function: () -> Variable<Double>
) -> GradientCheckResult {
    for v in variables {
        precondition(v.requiresGradient, "checkGradients: variable \(v.name ?? "") does not require a gradient")
        v.zeroGradient()
    }
    // Analytic gradients.
    let output = function()
    let weights = Tensor<Double>.uniform(output.shape, lower: 0.5, upper: 1.5, seed: seed)
    output.backward(seed: weights)
    let analytic = variables.map { $0.gradient ?? Tensor<Double>.zeros($0.shape) }
    for v in variables { v.zeroGradient() }

    func evaluate() -> Double {
        withoutGradients {
            let out = function().value
            precondition(out.shape == weights.shape, "checkGradients: output shape changed from \(weights.shape) to \(out.shape)")
            return (out * weights).sumAll()
        }
    }

    var maxError = 0.0, worstInput = 0, worstIndex = 0, worstAnalytic = 0.0, worstNumeric = 0.0
    var checked = 0
    for (inputIndex, variable) in variables.enumerated() {
        for element in 0..<variable.value.count {
            let original = variable.value.scalars[element]
            variable.value.scalars[element] = original + epsilon
            let plus = evaluate()
            variable.value.scalars[element] = original - epsilon
            let minus = evaluate()
            variable.value.scalars[element] = original
            let numeric = (plus - minus) / (2 * epsilon)
            let a = analytic[inputIndex].scalars[element]
            let error = abs(a - numeric) / max(1, abs(numeric))
            checked += 1
            if error > maxError || error.isNaN {
                maxError = error.isNaN ? .infinity : error
                worstInput = inputIndex; worstIndex = element
                worstAnalytic = a; worstNumeric = numeric
            }
        }
    }
    return GradientCheckResult(
        maxError: maxError, worstInput: worstInput, worstIndex: worstIndex,
        analytic: worstAnalytic, numeric: worstNumeric, tolerance: tolerance, checkedCount: checked)
}
