/// 2-D average pooling over NHWC inputs (Keras `AveragePooling2D`, also available as
/// ``AveragePooling2D``): the mean of each `poolSize` window, channel by channel. With `.same`
/// padding a border window averages only its real elements, as in Keras.
///
/// ```swift
/// AveragePool2D(2)
/// AveragePool2D(3, strides: 2, padding: .same)
/// ```
public final class AveragePool2D<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "AveragePooling2D" }
    public private(set) var builtInputShape: [Int]?

    /// The window's `(height, width)`.
    public let poolSize: (Int, Int)
    /// The step `(vertical, horizontal)` between windows (Keras default: the pool size).
    public let strides: (Int, Int)
    /// `.valid` (whole windows only) or `.same` (output `ceil(input / stride)`).
    public let padding: Padding

    /// Average pooling with `poolSize` `(height, width)` windows stepping by `strides` (the pool
    /// size when `nil`).
    public init(_ poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid, name: String = "") {
        let strides = strides ?? poolSize
        precondition(poolSize.0 > 0 && poolSize.1 > 0, "AveragePooling2D: pool size must be positive, got \(poolSize)")
        precondition(strides.0 > 0 && strides.1 > 0, "AveragePooling2D: strides must be positive, got \(strides)")
        self.poolSize = poolSize
        self.strides = strides
        self.padding = padding
        self.name = name
    }

    /// Average pooling with square `poolSize` windows (Keras default 2) and the same stride on
    /// both axes (the pool size when `nil`).
    public convenience init(_ poolSize: Int = 2, strides: Int? = nil, padding: Padding = .valid, name: String = "") {
        let s = strides ?? poolSize
        self.init((poolSize, poolSize), strides: (s, s), padding: padding, name: name)
    }

    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let (height, width) = try windowedOutputSize(
            layer: "AveragePooling2D '\(name)'", inputShape: inputShape, window: poolSize, strides: strides,
            padding: padding)
        return [height, width, inputShape[2]]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        return input.avgPool2D(poolSize: poolSize, strides: strides, padding: padding)
    }
}

/// Keras's other name for ``AveragePool2D``.
public typealias AveragePooling2D<Scalar: TensorScalar> = AveragePool2D<Scalar>
