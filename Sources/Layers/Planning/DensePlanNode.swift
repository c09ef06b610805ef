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
    let epilogue: EpilogueGradient<Scalar>
    /// The logits before the sigmoid (sigmoid activation only).
    let logits: PlanBuffer<Scalar>?
    /// The gradient with respect to the logits when it comes through the sigmoid's output.
    let logitsGradient: PlanBuffer<Scalar>?

    init(
        kernel: Variable<Scalar>, bias: Variable<Scalar>?, activation: Activation,
        inputShape: [Int], outputShape: [Int], needsInputGradient: Bool
    ) {
        // Locals first (closures in a generic class initializer crashed the 6.3 optimizer).
        let kernelGradient = PlannedGradient(kernel)
        let epilogue = EpilogueGradient(bias: bias, outputShape: outputShape, applyingReLU: activation == .relu)
        self.kernel = kernel
        self.bias = bias
        self.activation = activation
        self.kernelGradient = kernelGradient
        self.epilogue = epilogue
        logits = activation == .sigmoid ? PlanBuffer(shape: outputShape) : nil
        logitsGradient = activation == .sigmoid ? PlanBuffer(shape: outputShape) : nil
        super.init(
            inputShape: inputShape, outputShape: outputShape, needsInputGradient: needsInputGradient,
            gradients: epilogue.gradients(after: [kernelGradient]))
    }

    override func outputGradientIsExclusive() { epilogue.maskInPlace() }

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

    override func backward(_ input: PlanBuffer<Scalar>, logitsGradient gradient: PlanBuffer<Scalar>) {
        precondition(logits != nil, "Dense plan node: no sigmoid logits")
        backwardAffine(input, epilogue.backward(gradient, output: output))
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        guard let logitsGradient else {
            backwardAffine(input, epilogue.backward(outputGradient, output: output))
            return
        }
        // Through the sigmoid: d/dz sigmoid(z) = y (1 - y), from the output.
        outputGradient.tensor.withUnsafeBufferPointer { g in
            output.tensor.withUnsafeBufferPointer { y in
                logitsGradient.tensor.withUnsafeMutableBufferPointer { d in
                    for i in 0..<d.count { d[i] = g[i] * y[i] * (1 - y[i]) }
                }
            }
        }
        backward(input, logitsGradient: logitsGradient)
    }

    /// The kernel and input gradients from `gradient`, the gradient of `x · kernel + bias`.
    private func backwardAffine(_ input: PlanBuffer<Scalar>, _ gradient: PlanBuffer<Scalar>) {
        input.tensor.matmul(gradient.tensor, transposeSelf: true, into: &kernelGradient.buffer)
        if let inputGradient {
            gradient.tensor.matmul(kernel.value, transposeOther: true, into: &inputGradient.tensor)
        }
    }
}
