/// Gives every example a new shape with the same number of elements (Keras `Reshape`): the
/// target shape excludes the batch axis and may contain one `-1`, inferred from the input.
///
/// ```swift
/// Reshape([-1, 16])       // [batch, 4, 4, 8] -> [batch, 8, 16]
/// ```
public final class Reshape<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Reshape" }
    public private(set) var builtInputShape: [Int]?

    /// The shape of each example (without the batch axis), possibly with one `-1`.
    public let targetShape: [Int]

    /// A reshape to `targetShape` (without the batch axis; at most one `-1`, other entries positive).
    public init(_ targetShape: [Int], name: String = "") {
        precondition(
            targetShape.filter({ $0 == -1 }).count <= 1 && targetShape.allSatisfy({ $0 == -1 || $0 > 0 }),
            "Reshape: the target shape may hold one -1 and otherwise positive sizes, got \(targetShape)")
        self.targetShape = targetShape
        self.name = name
    }

    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let count = inputShape.reduce(1, *)
        let known = targetShape.filter { $0 != -1 }.reduce(1, *)
        guard inputShape.allSatisfy({ $0 >= 0 }) else {
            throw LayerError.incompatibleShape(layer: "Reshape '\(name)'", expected: "non-negative dimensions", got: inputShape)
        }
        if let unknown = targetShape.firstIndex(of: -1) {
            guard count % known == 0 else {
                throw LayerError.incompatibleShape(
                    layer: "Reshape '\(name)'", expected: "a shape whose size is a multiple of \(known) (target \(targetShape))",
                    got: inputShape)
            }
            var shape = targetShape
            shape[unknown] = count / known
            return shape
        }
        guard count == known else {
            throw LayerError.incompatibleShape(
                layer: "Reshape '\(name)'", expected: "a shape of \(known) elements (target \(targetShape))", got: inputShape)
        }
        return targetShape
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        precondition(input.rank >= 1, "Reshape '\(name)': input needs a batch axis, got shape \(input.shape)")
        let example = Array(input.shape.dropFirst())
        guard let shape = try? outputShape(for: example) else {
            preconditionFailure("Reshape '\(name)': cannot reshape examples of shape \(example) to \(targetShape)")
        }
        return input.reshaped(to: [input.shape[0]] + shape)
    }
}
