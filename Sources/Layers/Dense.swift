/// A fully connected layer: `activation(input * kernel + bias)` on the last axis (Keras `Dense`).
///
/// The kernel is `[inputFeatures, units]`; the input may have any rank, the product applies to its
/// last axis (`[batch, features]` in the usual case).
public final class Dense<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Dense" }
    public private(set) var builtInputShape: [Int]?

    /// The number of output features.
    public let units: Int
    /// The activation applied after the affine map.
    public let activation: Activation
    /// Whether a bias is added.
    public let useBias: Bool
    /// How the kernel starts (Keras default: glorot uniform).
    public let kernelInitializer: Initializer
    /// How the bias starts (Keras default: zeros).
    public let biasInitializer: Initializer

    /// `[inputFeatures, units]`, once built.
    public private(set) var kernel: Variable<Scalar>?
    /// `[units]`, once built (when `useBias`).
    public private(set) var bias: Variable<Scalar>?

    /// A dense layer with `units` outputs.
    public init(
        _ units: Int, activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        precondition(units > 0, "Dense: units must be positive, got \(units)")
        self.units = units
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.name = name
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard let last = inputShape.last, last > 0 else {
            throw LayerError.incompatibleShape(layer: "Dense '\(name)'", expected: "[..., features]", got: inputShape)
        }
        if let built = builtInputShape, built.last != last {
            throw LayerError.shapeMismatch(operation: "Dense '\(name)'", expected: built, got: inputShape)
        }
        return inputShape.dropLast() + [units]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        if builtInputShape != nil { return }
        let features = inputShape.last!
        kernel = Variable(kernelInitializer.make([features, units], generator: &generator), requiresGradient: true)
        if useBias {
            bias = Variable(biasInitializer.make([units], generator: &generator), requiresGradient: true)
        }
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        let inputShape = requireBuilt()
        guard let kernel else { preconditionFailure("Dense '\(name)': no kernel") }
        precondition(
            input.shape.last == inputShape.last,
            "Dense '\(name)': input shape \(input.shape) does not end with the built feature count of \(inputShape)")
        if activation == .relu || activation == .linear {
            // One fused node: the product, then the bias and ReLU in one sweep over its output.
            return dense(input, kernel, bias: bias, applyingReLU: activation == .relu)
        }
        var y: Variable<Scalar>
        if input.rank == 2 {
            y = input.matmul(kernel)
        } else {
            let flat = input.reshaped(to: [-1, inputShape.last!])
            y = flat.matmul(kernel).reshaped(to: input.shape.dropLast() + [units])
        }
        if let bias { y = y + bias }
        return activation.apply(y)
    }

    public var weights: [LayerWeight<Scalar>] {
        var result: [LayerWeight<Scalar>] = []
        if let kernel { result.append(LayerWeight(name: "kernel", variable: kernel, isTrainable: true)) }
        if let bias { result.append(LayerWeight(name: "bias", variable: bias, isTrainable: true)) }
        return result
    }
}
