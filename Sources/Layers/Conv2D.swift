/// A 2-D convolution layer: `activation(conv2d(input, kernel) + bias)` (Keras `Conv2D`).
///
/// Inputs are NHWC `[batch, height, width, channels]`; the kernel is HWIO
/// `[kernelHeight, kernelWidth, inputChannels, filters]`, the bias `[filters]`.
///
/// ```swift
/// Conv2D(32, kernelSize: 3, activation: .relu)
/// Conv2D(64, kernelSize: 1, strides: 2)
/// Conv2D(16, kernelSize: (3, 5), strides: (2, 1), padding: .same)
/// ```
public final class Conv2D<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Conv2D" }
    public private(set) var builtInputShape: [Int]?

    /// The number of output channels.
    public let filters: Int
    /// The kernel's `(height, width)`.
    public let kernelSize: (Int, Int)
    /// The step `(vertical, horizontal)` between windows.
    public let strides: (Int, Int)
    /// `.valid` (no padding) or `.same` (output `ceil(input / stride)`).
    public let padding: Padding
    /// The spacing `(vertical, horizontal)` between kernel taps (Keras `dilation_rate`).
    public let dilationRate: (Int, Int)
    /// The activation applied after the bias.
    public let activation: Activation
    /// Whether a bias is added.
    public let useBias: Bool
    /// How the kernel starts (Keras default: glorot uniform).
    public let kernelInitializer: Initializer
    /// How the bias starts (Keras default: zeros).
    public let biasInitializer: Initializer

    /// `[kernelHeight, kernelWidth, inputChannels, filters]`, once built.
    public private(set) var kernel: Variable<Scalar>?
    /// `[filters]`, once built (when `useBias`).
    public private(set) var bias: Variable<Scalar>?

    /// A convolution with `filters` output channels and a `kernelSize` `(height, width)` kernel.
    public init(
        _ filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
        dilationRate: (Int, Int) = (1, 1), activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        precondition(filters > 0, "Conv2D: filters must be positive, got \(filters)")
        checkConvolutionArguments("Conv2D", kernelSize: kernelSize, strides: strides, dilationRate: dilationRate)
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.dilationRate = dilationRate
        self.activation = activation
        self.useBias = useBias
        self.kernelInitializer = kernelInitializer
        self.biasInitializer = biasInitializer
        self.name = name
    }

    /// A convolution with a square `kernelSize` kernel and the same stride and dilation on both axes.
    public convenience init(
        _ filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid, dilationRate: Int = 1,
        activation: Activation = .linear, useBias: Bool = true,
        kernelInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        self.init(
            filters, kernelSize: (kernelSize, kernelSize), strides: (strides, strides), padding: padding,
            dilationRate: (dilationRate, dilationRate), activation: activation, useBias: useBias,
            kernelInitializer: kernelInitializer, biasInitializer: biasInitializer, name: name)
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let (height, width) = try windowedOutputSize(
            layer: "Conv2D '\(name)'", inputShape: inputShape, window: kernelSize, strides: strides,
            padding: padding, dilation: dilationRate)
        if let built = builtInputShape, built.last != inputShape.last {
            throw LayerError.shapeMismatch(operation: "Conv2D '\(name)' input channels", expected: built, got: inputShape)
        }
        return [height, width, filters]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        if builtInputShape != nil { return }
        let shape = [kernelSize.0, kernelSize.1, inputShape[2], filters]
        kernel = Variable(kernelInitializer.make(shape, generator: &generator), requiresGradient: true)
        if useBias {
            bias = Variable(biasInitializer.make([filters], generator: &generator), requiresGradient: true)
        }
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        let inputShape = requireBuilt()
        guard let kernel else { preconditionFailure("Conv2D '\(name)': no kernel") }
        precondition(
            input.rank == 4 && input.shape.last == inputShape.last,
            "Conv2D '\(name)': input shape \(input.shape) is not [batch, height, width, \(inputShape[2])] (built for \(inputShape))")
        if activation == .relu || activation == .linear {
            // One fused node: the bias and ReLU in one sweep over the convolution's output.
            return conv2d(
                input, kernel, bias: bias, applyingReLU: activation == .relu,
                strides: strides, padding: padding, dilations: dilationRate)
        }
        var y = conv2d(input, kernel, strides: strides, padding: padding, dilations: dilationRate)
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
