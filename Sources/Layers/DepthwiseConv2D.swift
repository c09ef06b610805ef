/// A depthwise 2-D convolution layer (Keras `DepthwiseConv2D`): every input channel is convolved
/// with its own `depthMultiplier` kernels, then the bias and activation are applied.
///
/// Inputs are NHWC `[batch, height, width, channels]`; the kernel is
/// `[kernelHeight, kernelWidth, channels, depthMultiplier]` and output channel `c * depthMultiplier + m`
/// comes from input channel `c` and kernel `m`; the bias is `[channels * depthMultiplier]`.
/// The kernel's local name is `kernel`, as in Keras 3 (Keras 2 called it `depthwise_kernel`).
public final class DepthwiseConv2D<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "DepthwiseConv2D" }
    public private(set) var builtInputShape: [Int]?

    /// The kernel's `(height, width)`.
    public let kernelSize: (Int, Int)
    /// The step `(vertical, horizontal)` between windows.
    public let strides: (Int, Int)
    /// `.valid` (no padding) or `.same` (output `ceil(input / stride)`).
    public let padding: Padding
    /// The number of kernels (output channels) per input channel.
    public let depthMultiplier: Int
    /// The spacing `(vertical, horizontal)` between kernel taps (Keras `dilation_rate`).
    public let dilationRate: (Int, Int)
    /// The activation applied after the bias.
    public let activation: Activation
    /// Whether a bias is added.
    public let useBias: Bool
    /// How the kernel starts (Keras `depthwise_initializer`, default glorot uniform).
    public let depthwiseInitializer: Initializer
    /// How the bias starts (Keras default: zeros).
    public let biasInitializer: Initializer

    /// `[kernelHeight, kernelWidth, channels, depthMultiplier]`, once built.
    public private(set) var kernel: Variable<Scalar>?
    /// `[channels * depthMultiplier]`, once built (when `useBias`).
    public private(set) var bias: Variable<Scalar>?

    /// A depthwise convolution with a `kernelSize` `(height, width)` kernel.
    public init(
        kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid, depthMultiplier: Int = 1,
        dilationRate: (Int, Int) = (1, 1), activation: Activation = .linear, useBias: Bool = true,
        depthwiseInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        precondition(depthMultiplier > 0, "DepthwiseConv2D: depth multiplier must be positive, got \(depthMultiplier)")
        checkConvolutionArguments("DepthwiseConv2D", kernelSize: kernelSize, strides: strides, dilationRate: dilationRate)
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.depthMultiplier = depthMultiplier
        self.dilationRate = dilationRate
        self.activation = activation
        self.useBias = useBias
        self.depthwiseInitializer = depthwiseInitializer
        self.biasInitializer = biasInitializer
        self.name = name
    }

    /// A depthwise convolution with a square `kernelSize` kernel and the same stride and dilation
    /// on both axes.
    public convenience init(
        kernelSize: Int, strides: Int = 1, padding: Padding = .valid, depthMultiplier: Int = 1,
        dilationRate: Int = 1, activation: Activation = .linear, useBias: Bool = true,
        depthwiseInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        self.init(
            kernelSize: (kernelSize, kernelSize), strides: (strides, strides), padding: padding,
            depthMultiplier: depthMultiplier, dilationRate: (dilationRate, dilationRate), activation: activation,
            useBias: useBias, depthwiseInitializer: depthwiseInitializer, biasInitializer: biasInitializer, name: name)
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let (height, width) = try windowedOutputSize(
            layer: "DepthwiseConv2D '\(name)'", inputShape: inputShape, window: kernelSize, strides: strides,
            padding: padding, dilation: dilationRate)
        if let built = builtInputShape, built.last != inputShape.last {
            throw LayerError.shapeMismatch(
                operation: "DepthwiseConv2D '\(name)' input channels", expected: built, got: inputShape)
        }
        return [height, width, inputShape[2] * depthMultiplier]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        if builtInputShape != nil { return }
        let channels = inputShape[2]
        let shape = [kernelSize.0, kernelSize.1, channels, depthMultiplier]
        kernel = Variable(depthwiseInitializer.make(shape, generator: &generator), requiresGradient: true)
        if useBias {
            bias = Variable(
                biasInitializer.make([channels * depthMultiplier], generator: &generator), requiresGradient: true)
        }
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        let inputShape = requireBuilt()
        guard let kernel else { preconditionFailure("DepthwiseConv2D '\(name)': no kernel") }
        precondition(
            input.rank == 4 && input.shape.last == inputShape.last,
            "DepthwiseConv2D '\(name)': input shape \(input.shape) is not [batch, height, width, \(inputShape[2])] (built for \(inputShape))")
        if activation == .relu || activation == .linear {
            // One fused node: the bias and ReLU in one sweep over the convolution's output.
            return depthwiseConv2d(
                input, kernel, bias: bias, applyingReLU: activation == .relu,
                strides: strides, padding: padding, dilations: dilationRate)
        }
        var y = depthwiseConv2d(input, kernel, strides: strides, padding: padding, dilations: dilationRate)
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
