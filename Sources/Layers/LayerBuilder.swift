/// Builds a list of layers from a closure, so containers read like Keras model definitions:
///
/// ```swift
/// let model = try Sequential<Float>(inputShape: [150, 150, 1], seed: 1) {
///     Conv2D(32, kernelSize: 3, activation: .relu)
///     MaxPool2D(2)
///     Flatten()
///     Dense(1, activation: .sigmoid)
/// }
/// ```
@resultBuilder
public enum LayerBuilder<Scalar: TensorScalar> {
    /// One layer.
    public static func buildExpression(_ layer: some Layer<Scalar>) -> [any Layer<Scalar>] { [layer] }
    /// An existential layer.
    public static func buildExpression(_ layer: any Layer<Scalar>) -> [any Layer<Scalar>] { [layer] }
    /// A list of layers.
    public static func buildExpression(_ layers: [any Layer<Scalar>]) -> [any Layer<Scalar>] { layers }
    /// Consecutive statements.
    public static func buildBlock(_ parts: [any Layer<Scalar>]...) -> [any Layer<Scalar>] { parts.flatMap { $0 } }
    /// An `if` without `else`.
    public static func buildOptional(_ part: [any Layer<Scalar>]?) -> [any Layer<Scalar>] { part ?? [] }
    /// The first branch of an `if`/`else`.
    public static func buildEither(first part: [any Layer<Scalar>]) -> [any Layer<Scalar>] { part }
    /// The second branch of an `if`/`else`.
    public static func buildEither(second part: [any Layer<Scalar>]) -> [any Layer<Scalar>] { part }
    /// A `for` loop.
    public static func buildArray(_ parts: [[any Layer<Scalar>]]) -> [any Layer<Scalar>] { parts.flatMap { $0 } }
}
