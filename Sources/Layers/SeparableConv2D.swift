/// A depthwise separable 2-D convolution layer (Keras `SeparableConv2D`): a depthwise convolution
/// (each input channel convolved with its own `depthMultiplier` kernels), then a 1x1 pointwise
/// convolution mixing the `channels * depthMultiplier` results into `filters` channels, then the
/// bias and activation.
///
/// Weights, with Keras's names: `depthwise_kernel` `[kernelHeight, kernelWidth, channels, depthMultiplier]`,
/// `pointwise_kernel` `[1, 1, channels * depthMultiplier, filters]` and `bias` `[filters]`.
/// Strides, padding and dilation apply to the depthwise step; the pointwise step is a plain 1x1.
public final class SeparableConv2D<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "SeparableConv2D" }
    public private(set) var builtInputShape: [Int]?

    /// The number of output channels.
    public let filters: Int
    /// The depthwise kernel's `(height, width)`.
    public let kernelSize: (Int, Int)
    /// The step `(vertical, horizontal)` between windows.
    public let strides: (Int, Int)
    /// `.valid` (no padding) or `.same` (output `ceil(input / stride)`).
    public let padding: Padding
    /// The number of depthwise kernels per input channel.
    public let depthMultiplier: Int
    /// The spacing `(vertical, horizontal)` between depthwise kernel taps (Keras `dilation_rate`).
    public let dilationRate: (Int, Int)
    /// The activation applied after the bias.
    public let activation: Activation
    /// Whether a bias is added.
    public let useBias: Bool
    /// How the depthwise kernel starts (Keras default: glorot uniform).
    public let depthwiseInitializer: Initializer
    /// How the pointwise kernel starts (Keras default: glorot uniform).
    public let pointwiseInitializer: Initializer
    /// How the bias starts (Keras default: zeros).
    public let biasInitializer: Initializer

    /// `[kernelHeight, kernelWidth, channels, depthMultiplier]`, once built.
    public private(set) var depthwiseKernel: Variable<Scalar>?
    /// `[1, 1, channels * depthMultiplier, filters]`, once built.
    public private(set) var pointwiseKernel: Variable<Scalar>?
    /// `[filters]`, once built (when `useBias`).
    public private(set) var bias: Variable<Scalar>?

    /// A separable convolution with `filters` output channels and a `kernelSize` `(height, width)`
    /// depthwise kernel.
    public init(
        _ filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1), padding: Padding = .valid,
        depthMultiplier: Int = 1, dilationRate: (Int, Int) = (1, 1), activation: Activation = .linear,
        useBias: Bool = true, depthwiseInitializer: Initializer = .glorotUniform,
        pointwiseInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        precondition(filters > 0, "SeparableConv2D: filters must be positive, got \(filters)")
        precondition(depthMultiplier > 0, "SeparableConv2D: depth multiplier must be positive, got \(depthMultiplier)")
        checkConvolutionArguments("SeparableConv2D", kernelSize: kernelSize, strides: strides, dilationRate: dilationRate)
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.depthMultiplier = depthMultiplier
        self.dilationRate = dilationRate
        self.activation = activation
        self.useBias = useBias
        self.depthwiseInitializer = depthwiseInitializer
        self.pointwiseInitializer = pointwiseInitializer
        self.biasInitializer = biasInitializer
        self.name = name
    }

    /// A separable convolution with a square `kernelSize` kernel and the same stride and dilation
    /// on both axes.
    public convenience init(
        _ filters: Int, kernelSize: Int, strides: Int = 1, padding: Padding = .valid, depthMultiplier: Int = 1,
        dilationRate: Int = 1, activation: Activation = .linear, useBias: Bool = true,
        depthwiseInitializer: Initializer = .glorotUniform, pointwiseInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, name: String = ""
    ) {
        self.init(
            filters, kernelSize: (kernelSize, kernelSize), strides: (strides, strides), padding: padding,
            depthMultiplier: depthMultiplier, dilationRate: (dilationRate, dilationRate), activation: activation,
            useBias: useBias, depthwiseInitializer: depthwiseInitializer, pointwiseInitializer: pointwiseInitializer,
            biasInitializer: biasInitializer, name: name)
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let (height, width) = try windowedOutputSize(
            layer: "SeparableConv2D '\(name)'", inputShape: inputShape, window: kernelSize, strides: strides,
            padding: padding, dilation: dilationRate)
        if let built = builtInputShape, built.last != inputShape.last {
            throw LayerError.shapeMismatch(
                operation: "SeparableConv2D '\(name)' input channels", expected: built, got: inputShape)
        }
        return [height, width, filters]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        if builtInputShape != nil { return }
        let channels = inputShape[2]
        depthwiseKernel = Variable(
            depthwiseInitializer.make([kernelSize.0, kernelSize.1, channels, depthMultiplier], generator: &generator),
            requiresGradient: true)
        pointwiseKernel = Variable(
            pointwiseInitializer.make([1, 1, channels * depthMultiplier, filters], generator: &generator),
            requiresGradient: true)
        if useBias {
            bias = Variable(biasInitializer.make([filters], generator: &generator), requiresGradient: true)
        }
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        let inputShape = requireBuilt()
        guard let depthwiseKernel, let pointwiseKernel else {
            preconditionFailure("SeparableConv2D '\(name)': no kernels")
        }
        precondition(
            input.rank == 4 && input.shape.last == inputShape.last,
            "SeparableConv2D '\(name)': input shape \(input.shape) is not [batch, height, width, \(inputShape[2])] (built for \(inputShape))")
        let depthwise = depthwiseConv2d(
            input, depthwiseKernel, strides: strides, padding: padding, dilations: dilationRate)
        if activation == .relu || activation == .linear {
            // One fused node: the bias and ReLU in one sweep over the pointwise output.
            return conv2d(depthwise, pointwiseKernel, bias: bias, applyingReLU: activation == .relu)
        }
        var y = conv2d(depthwise, pointwiseKernel)
        if let bias { y = y + bias }
        return activation.apply(y)
    }

    public var weights: [LayerWeight<Scalar>] {
        var result: [LayerWeight<Scalar>] = []
        if let depthwiseKernel {
            result.append(LayerWeight(name: "depthwise_kernel", variable: depthwiseKernel, isTrainable: true))
        }
        if let pointwiseKernel {
            result.append(LayerWeight(name: "pointwise_kernel", variable: pointwiseKernel, isTrainable: true))
        }
        if let bias { result.append(LayerWeight(name: "bias", variable: bias, isTrainable: true)) }
        return result
    }
}
