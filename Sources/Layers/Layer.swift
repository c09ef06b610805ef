@_exported import Autograd
@_exported import Tensor

/// Whether a forward pass is training (dropout active, batch statistics used and running
/// statistics updated) or inference (dropout is the identity, running statistics used).
public enum LayerMode: Sendable, Equatable {
    /// Training behaviour.
    case training
    /// Inference behaviour.
    case inference
}

/// What a forward pass needs besides its input: the mode, passed explicitly (never a global), and
/// the random generator that layers such as dropout draw from, so a seeded run is reproducible.
public struct ForwardContext: Sendable {
    /// Training or inference.
    public var mode: LayerMode
    /// The generator random layers draw from (advanced by every draw).
    public var generator: SeededGenerator

    /// A context for `mode` whose random draws are determined by `seed`.
    public init(mode: LayerMode, seed: UInt64 = 0) {
        self.mode = mode
        self.generator = SeededGenerator(seed: seed)
    }

    /// A context for `mode` drawing from `generator`.
    public init(mode: LayerMode, generator: SeededGenerator) {
        self.mode = mode
        self.generator = generator
    }

    /// Inference mode (no randomness is drawn).
    public static var inference: ForwardContext { ForwardContext(mode: .inference) }

    /// Whether the mode is training.
    public var isTraining: Bool { mode == .training }
}

/// A tensor a layer owns, with its local name (`kernel`, `bias`, `moving_mean`) and whether the
/// optimizer updates it.
public struct LayerWeight<Scalar: TensorScalar> {
    /// The local name within the layer, as in Keras (`kernel`, `bias`, `gamma`, `moving_mean`).
    public let name: String
    /// The variable holding the value (and, when trainable, the gradient).
    public let variable: Variable<Scalar>
    /// Whether an optimizer updates this weight (false for running statistics).
    public let isTrainable: Bool

    /// A weight named `name`.
    public init(name: String, variable: Variable<Scalar>, isTrainable: Bool) {
        self.name = name
        self.variable = variable
        self.isTrainable = isTrainable
    }
}

/// A building block of a model: it creates its weights once it knows its input shape
/// (``build(inputShape:generator:)``) and maps a batch to a batch (``forward(_:context:)``).
///
/// Shapes passed to and returned by layers exclude the batch dimension, as in Keras:
/// a `Conv2D` built for `[150, 150, 3]` is called on `[batch, 150, 150, 3]`.
///
/// Layers are reference types (they own mutable weights). Containers (``Sequential``, ``Add``)
/// report their children through ``sublayers`` so that naming, weight enumeration, summaries and
/// checkpoints work on any model.
public protocol Layer<Scalar>: AnyObject {
    /// The element type of the layer's weights and activations.
    associatedtype Scalar: TensorScalar

    /// The layer's name, unique within a model (`conv2d`, `conv2d_1`, ...); empty until the layer
    /// is named by the user or by the model that contains it.
    var name: String { get set }

    /// The Keras class name shown in summaries (`Dense`, `Conv2D`, `MaxPooling2D`).
    var typeName: String { get }

    /// The input shape (without the batch dimension) the layer was built for, or `nil`.
    var builtInputShape: [Int]? { get }

    /// Creates the layer's weights for `inputShape` (without the batch dimension), drawing random
    /// initial values from `generator`. Building again with the same shape keeps the weights.
    /// Throws ``LayerError`` when the shape does not suit the layer.
    func build(inputShape: [Int], generator: inout SeededGenerator) throws

    /// The output shape (without the batch dimension) for `inputShape`, throwing ``LayerError``
    /// when the shape does not suit the layer.
    func outputShape(for inputShape: [Int]) throws -> [Int]

    /// The layer applied to a batch. The layer must be built for the input's shape.
    func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar>

    /// The layer's own weights in a stable order (not those of its sublayers).
    var weights: [LayerWeight<Scalar>] { get }

    /// The layers this one contains, in order (empty for a plain layer).
    var sublayers: [any Layer<Scalar>] { get }
}

extension Layer {
    /// A plain layer has no sublayers.
    public var sublayers: [any Layer<Scalar>] { [] }

    /// The layer applied to a batch in the given context.
    public func callAsFunction(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        forward(input, context: &context)
    }

    /// The layer applied to a batch in inference mode, without recording gradients.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var context = ForwardContext.inference
        return withoutGradients { forward(Variable(input), context: &context).value }
    }

    /// The number of scalars in this layer's own weights (trainable and not).
    public var parameterCount: Int { weights.reduce(0) { $0 + $1.variable.value.count } }

    /// Stops with a clear message when the layer is used before being built.
    public func requireBuilt(file: StaticString = #file, line: UInt = #line) -> [Int] {
        guard let shape = builtInputShape else {
            preconditionFailure(
                "\(typeName) '\(name)' is used before it is built: build the model with an input shape first",
                file: file, line: line)
        }
        return shape
    }
}

/// Errors in building or using layers and models.
public enum LayerError: Error, Equatable, CustomStringConvertible, Sendable {
    /// An input shape does not suit a layer: the layer, what it expected, what it got.
    case incompatibleShape(layer: String, expected: String, got: [Int])
    /// Two shapes that must agree do not.
    case shapeMismatch(operation: String, expected: [Int], got: [Int])
    /// An argument is out of range.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .incompatibleShape(layer, expected, got):
            return "\(layer): expected an input shape \(expected), got \(got)"
        case let .shapeMismatch(operation, expected, got):
            return "\(operation): expected shape \(expected), got \(got)"
        case let .invalidArgument(message):
            return message
        }
    }
}

/// Keras's conversion of a class name to a layer name (`MaxPooling2D` -> `max_pooling2d`).
public func kerasSnakeCase(_ name: String) -> String {
    // Equivalent to re.sub("(.)([A-Z][a-z]+)", r"\1_\2") then re.sub("([a-z])([A-Z])", r"\1_\2").
    var chars = Array(name)
    var out: [Character] = []
    for (i, c) in chars.enumerated() {
        if i > 0, c.isUppercase {
            let next = i + 1 < chars.count ? chars[i + 1] : nil
            let previous = chars[i - 1]
            if let next, next.isLowercase {
                out.append("_")
            } else if previous.isLowercase {
                out.append("_")
            }
        }
        out.append(c)
    }
    chars = out
    return String(chars).lowercased()
}
