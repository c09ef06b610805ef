/// Global average pooling over the spatial axes of NHWC inputs (Keras `GlobalAveragePooling2D`):
/// `[batch, height, width, channels]` becomes `[batch, channels]`, or `[batch, 1, 1, channels]`
/// with `keepDims`.
public final class GlobalAveragePooling2D<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "GlobalAveragePooling2D" }
    public private(set) var builtInputShape: [Int]?

    /// Whether the pooled height and width are kept as size-1 axes (Keras `keepdims`).
    public let keepDims: Bool

    /// Global average pooling (Keras default: `keepDims` false).
    public init(keepDims: Bool = false, name: String = "") {
        self.keepDims = keepDims
        self.name = name
    }

    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw LayerError.incompatibleShape(
                layer: "GlobalAveragePooling2D '\(name)'", expected: "[height, width, channels], all >= 1", got: inputShape)
        }
        return keepDims ? [1, 1, inputShape[2]] : [inputShape[2]]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        let pooled = input.globalAveragePool2D()
        return keepDims ? pooled.reshaped(to: [input.shape[0], 1, 1, input.shape[3]]) : pooled
    }

    /// The forward pass (the same in training and inference) into caller-owned storage, without
    /// allocating: overwrites `output` (`[N, C]`, or `[N, 1, 1, C]`) with the spatial means of `x`
    /// (`[N, H, W, C]`).
    package func trainingForward(_ x: Tensor<Scalar>, into output: inout Tensor<Scalar>) {
        x.globalAveragePool2D(into: &output)
    }

    /// The backward pass: overwrites `inputGradient` (`[N, H, W, C]`) with `gradient[n, c] / (H * W)`
    /// at every position, for `gradient` of shape `[N, C]` or `[N, 1, 1, C]`, without allocating.
    package func trainingBackward(_ gradient: Tensor<Scalar>, into inputGradient: inout Tensor<Scalar>) {
        Tensor.globalAveragePool2DBackward(gradient: gradient, into: &inputGradient)
    }
}
