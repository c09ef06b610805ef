/// Flattens every axis after the batch into one (Keras `Flatten`): `[batch, 7, 7, 128]` becomes
/// `[batch, 6272]`, in row-major (channels-last) order. A `[batch]` input becomes `[batch, 1]`.
public final class Flatten<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Flatten" }
    public private(set) var builtInputShape: [Int]?

    /// A flattening layer.
    public init(name: String = "") { self.name = name }

    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.allSatisfy({ $0 >= 0 }) else {
            throw LayerError.incompatibleShape(
                layer: "Flatten '\(name)'", expected: "non-negative dimensions", got: inputShape)
        }
        return [inputShape.reduce(1, *)]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        precondition(input.rank >= 1, "Flatten '\(name)': input needs a batch axis, got shape \(input.shape)")
        return input.reshaped(to: [input.shape[0], input.shape.dropFirst().reduce(1, *)])
    }
}
