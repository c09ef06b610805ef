// Differentiable layers with a fused bias + ReLU epilogue: `relu(input * W + b)` recorded as one
// graph node instead of three (product, bias add, activation), so the forward pass makes one
// sweep over the output after the GEMM and the backward pass one sweep before it.

/// Differentiable fully connected map with a fused bias and optional ReLU epilogue:
/// `relu(input · kernel + bias)` on the last axis (or without the ReLU), recorded as one node.
///
/// The input may have any rank >= 2; its leading axes are folded into the rows of one GEMM.
/// Backward masks the upstream gradient and sums the bias gradient in one sweep
/// (`Tensor.biasActivationBackward(gradient:output:applyingReLU:)`), then computes
/// `dInput = g · kernelᵀ` and `dKernel = inputᵀ · g`, each only if needed.
///
/// - Parameters:
///   - input: `[..., features]`.
///   - kernel: `[features, units]`.
///   - bias: `[units]`, or `nil` for none.
///   - applyingReLU: whether to apply `max(_, 0)` after the bias.
/// - Returns: `[..., units]`.
public func dense<Scalar: TensorScalar>(
    _ input: Variable<Scalar>, _ kernel: Variable<Scalar>, bias: Variable<Scalar>?, applyingReLU: Bool
) -> Variable<Scalar> {
    let x = input.value, w = kernel.value
    precondition(
        x.rank >= 2 && w.rank == 2 && x.shape.last == w.shape[0],
        "dense: input shape \(x.shape) does not end with the kernel's \(w.shape.first ?? 0) features (kernel shape \(w.shape))")
    let features = w.shape[0], units = w.shape[1]
    let rows = x.count / Swift.max(features, 1)
    let outputShape = Array(x.shape.dropLast()) + [units]
    let x2 = x.rank == 2 ? x : x.reshaped(to: [rows, features])
    var value = x2.matmul(w)
    if x.rank != 2 { value = value.reshaped(to: outputShape) }
    value.addBias(bias?.value, applyingReLU: applyingReLU)
    let needsInput = input.requiresGradient, needsKernel = kernel.requiresGradient
    return recordBiasActivation(
        "dense", value: value, input: input, weight: kernel, bias: bias, applyingReLU: applyingReLU
    ) { g in
        let g2 = g.rank == 2 ? g : g.reshaped(to: [rows, units])
        let dx = needsInput ? g2.matmul(w, transposeOther: true).reshaped(to: x.shape) : nil
        let dw = needsKernel ? x2.matmul(g2, transposeSelf: true) : nil
        return (dx, dw)
    }
}

/// Records `epilogue(linear(input, weight))`, where the epilogue adds `bias` and optionally
/// applies ReLU: the recorded backward rule runs the fused epilogue backward on the upstream
/// gradient, then `linearBackward` (which returns the input and weight gradients, `nil` where
/// not needed) on the result.
func recordBiasActivation<Scalar: TensorScalar>(
    _ operation: String, value: Tensor<Scalar>, input: Variable<Scalar>, weight: Variable<Scalar>,
    bias: Variable<Scalar>?, applyingReLU: Bool,
    linearBackward: @escaping (Tensor<Scalar>) -> (Tensor<Scalar>?, Tensor<Scalar>?)
) -> Variable<Scalar> {
    let hasBias = bias != nil, needsBias = bias?.requiresGradient ?? false
    let inputs = bias.map { [input, weight, $0] } ?? [input, weight]
    let name = operation + (hasBias ? "+bias" : "") + (applyingReLU ? "+relu" : "")
    return Variable.record(name, value: value, inputs: inputs) { g in
        var upstream = g
        var biasGradient: Tensor<Scalar>?
        if applyingReLU || needsBias {
            let fused = Tensor.biasActivationBackward(gradient: g, output: value, applyingReLU: applyingReLU)
            upstream = fused.input
            biasGradient = needsBias ? fused.bias : nil
        }
        let (dInput, dWeight) = linearBackward(upstream)
        return hasBias ? [dInput, dWeight, biasGradient] : [dInput, dWeight]
    }
}
