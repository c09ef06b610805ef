/// 2-D max pooling over NHWC inputs (Keras `MaxPooling2D`, also available as ``MaxPooling2D``):
/// the largest element of each `poolSize` window, channel by channel.
///
/// ```swift
/// MaxPool2D(2)                                   // 2x2 windows, stride 2, valid
/// MaxPool2D(3, strides: 2, padding: .same)
/// ```
public final class MaxPool2D<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "MaxPooling2D" }
    public private(set) var builtInputShape: [Int]?

    /// The window's `(height, width)`.
    public let poolSize: (Int, Int)
    /// The step `(vertical, horizontal)` between windows (Keras default: the pool size).
    public let strides: (Int, Int)
    /// `.valid` (whole windows only) or `.same` (output `ceil(input / stride)`; padded positions never win).
    public let padding: Padding

    /// Max pooling with `poolSize` `(height, width)` windows stepping by `strides` (the pool size
    /// when `nil`).
    public init(_ poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String = "") {
        let strides = strides ?? poolSize
        precondition(poolSize.0 > 0 && poolSize.1 > 0, "MaxPooling2D: pool size must be positive, got \(poolSize)")
        precondition(strides.0 > 0 && strides.1 > 0, "MaxPooling2D: strides must be positive, got \(strides)")
        self.poolSize = poolSize
        self.strides = strides
        self.padding = padding
        self.name = name
    }

    /// Max pooling with square `poolSize` windows (Keras default 2) and the same stride on both
    /// axes (the pool size when `nil`).
    public convenience init(_ poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String = "") {
        let s = strides ?? poolSize
        self.init((poolSize, poolSize), strides: (s, s), padding: padding, name: name)
    }

    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let (height, width) = try windowedOutputSize(
            layer: "MaxPooling2D '\(name)'", inputShape: inputShape, window: poolSize, strides: strides, padding: padding)
        return [height, width, inputShape[2]]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        return input.maxPool2D(poolSize: poolSize, strides: strides, padding: padding)
    }

    /// The training-mode forward pass into caller-owned storage, without allocating: overwrites
    /// `output` (`[N, outH, outW, C]`) with the pooling of `x` (`[N, H, W, C]`) and `indices` (one
    /// per output element) with the flat index in `x` of each winner, what the recorded
    /// ``forward(_:context:)`` keeps for its backward pass.
    package func trainingForward(_ x: Tensor<Scalar>, into output: inout Tensor<Scalar>, indices: inout [Int32]) {
        x.maxPool2DWithIndices(poolSize: poolSize, strides: strides, padding: padding, into: &output, indices: &indices)
    }

    /// The backward pass of ``trainingForward(_:into:indices:)``: overwrites `inputGradient`
    /// (`[N, H, W, C]`) with the input gradient for the output gradient `gradient`, without allocating.
    package func trainingBackward(_ gradient: Tensor<Scalar>, indices: [Int32], into inputGradient: inout Tensor<Scalar>) {
        Tensor.maxPool2DBackward(
            gradient: gradient, indices: indices, poolSize: poolSize, strides: strides, padding: padding,
            into: &inputGradient)
    }
}

/// Keras's other name for ``MaxPool2D``.
public typealias MaxPooling2D<Scalar: TensorScalar> = MaxPool2D<Scalar>
