// The planned step of a Dense layer on `[batch, features]` inputs.

extension Dense: PlannableLayer {
    /// A node for rank-2 inputs with a linear, ReLU or sigmoid activation; `nil` otherwise.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard inputShape.count == 2, let kernel, activation == .linear || activation == .relu || activation == .sigmoid
        else { return nil }
        let outputShape = try [inputShape[0]] + self.outputShape(for: Array(inputShape.dropFirst()))
        return (DensePlanNode(
            kernel: kernel, bias: bias, activation: activation, inputShape: inputShape, outputShape: outputShape,
            needsInputGradient: needsInputGradient), 0)
    }
}

/// `activation(x · kernel + bias)` on preallocated buffers: the same kernels as the graph path
/// (`matmul`, the fused bias + ReLU epilogue and its backward sweep).
final class DensePlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    let kernel: Variable<Scalar>
    let bias: Variable<Scalar>?
    let activation: Activation
    let kernelGradient: PlannedGradient<Scalar>
    let biasGradient: PlannedGradient<Scalar>?
    /// The logits before the sigmoid (sigmoid activation only).
    let logits: PlanBuffer<Scalar>?
    /// The gradient with respect to the pre-activation values (ReLU and sigmoid).
    let preActivationGradient: PlanBuffer<Scalar>?
    /// Receives the bias gradient when the layer has no bias (the backward sweep computes it anyway).
    let unusedBiasGradient: PlanBuffer<Scalar>?

    init(
        kernel: Variable<Scalar>, bias: Variable<Scalar>?, activation: Activation,
        inputShape: [Int], outputShape: [Int], needsInputGradient: Bool
    ) {
        // Locals first, then the stored properties (closures over `self`'s parameters in a generic
        // class initializer crash the 6.3 optimizer).
        let kernelGradient = PlannedGradient(kernel)
        var gradients = [kernelGradient]
        var biasGradient: PlannedGradient<Scalar>?
        if let bias {
            let gradient = PlannedGradient(bias)
            gradients.append(gradient)
            biasGradient = gradient
        }
        self.kernel = kernel
        self.bias = bias
        self.activation = activation
        self.kernelGradient = kernelGradient
        self.biasGradient = biasGradient
        logits = activation == .sigmoid ? PlanBuffer(shape: outputShape) : nil
        preActivationGradient = activation == .linear ? nil : PlanBuffer(shape: outputShape)
        unusedBiasGradient = bias == nil ? PlanBuffer(shape: [outputShape[1]]) : nil
        super.init(
            inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient,
            gradients: gradients)
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        if let logits {
            input.tensor.matmul(kernel.value, into: &logits.tensor)
            logits.tensor.addBias(bias?.value, applyingReLU: false)
            logits.tensor.map(.sigmoid, into: &output.tensor)
        } else {
            input.tensor.matmul(kernel.value, into: &output.tensor)
            output.tensor.addBias(bias?.value, applyingReLU: activation == .relu)
        }
    }

    override var sigmoidLogits: PlanBuffer<Scalar>? { logits }

    override func backward(_ input: PlanBuffer<Scalar>, logitsGradient: PlanBuffer<Scalar>) {
        precondition(logits != nil, "Dense plan node: no sigmoid logits")
        backwardAffine(input, preActivationGradient: logitsGradient, applyingReLU: false)
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        switch activation {
        case .sigmoid:
            // d/dz sigmoid(z) = y (1 - y), from the output.
            let dz = preActivationGradient!
            outputGradient.tensor.withUnsafeBufferPointer { g in
                output.tensor.withUnsafeBufferPointer { y in
                    dz.tensor.withUnsafeMutableBufferPointer { d in
                        for i in 0..<d.count { d[i] = g[i] * y[i] * (1 - y[i]) }
                    }
                }
            }
            backwardAffine(input, preActivationGradient: dz, applyingReLU: false)
        case .relu:
            backwardAffine(input, preActivationGradient: outputGradient, applyingReLU: true)
        default:
            backwardAffine(input, preActivationGradient: outputGradient, applyingReLU: false)
        }
    }

    /// The bias, kernel and input gradients from `gradient` (with respect to the activation's
    /// input, or to the ReLU's output when `applyingReLU`, which masks it first).
    private func backwardAffine(_ input: PlanBuffer<Scalar>, preActivationGradient gradient: PlanBuffer<Scalar>, applyingReLU: Bool) {
        let masked = applyingReLU ? preActivationGradient! : gradient
        if let biasGradient {
            Tensor.biasActivationBackward(
                gradient: gradient.tensor, output: output.tensor, applyingReLU: applyingReLU,
                maskedInto: &masked.tensor, biasGradient: &biasGradient.buffer)
        } else if let unusedBiasGradient {
            Tensor.biasActivationBackward(
                gradient: gradient.tensor, output: output.tensor, applyingReLU: applyingReLU,
                maskedInto: &masked.tensor, biasGradient: &unusedBiasGradient.tensor)
        }
        input.tensor.matmul(masked.tensor, transposeSelf: true, into: &kernelGradient.buffer)
        if let inputGradient {
            masked.tensor.matmul(kernel.value, transposeOther: true, into: &inputGradient.tensor)
        }
    }
}
