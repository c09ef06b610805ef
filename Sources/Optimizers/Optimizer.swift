@_exported import Autograd
@_exported import Tensor

/// An algorithm that updates parameters from their gradients: ``SGD``, ``RMSprop``, ``Adam``,
/// ``AdamW``.
///
/// The training loop calls ``update(_:)`` once per batch, after `backward()`, with the model's
/// trainable parameters and their names. The optimizer keeps its per-parameter state (momentum,
/// moving averages: Keras's "slots") keyed by those names, so ``stateTensors()`` can be written to a
/// checkpoint and ``loadStateTensors(_:)`` can restore it into a new optimizer of the same kind.
///
/// ```swift
/// let optimizer = Adam<Float>(learningRate: 1e-3)
/// loss.backward()
/// optimizer.update(model.namedWeights.filter { $0.weight.isTrainable }
///     .map { (name: $0.name, variable: $0.weight.variable) })
/// ```
public protocol Optimizer<Scalar>: AnyObject {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar
    /// The learning rate the next update uses (schedules and callbacks set it).
    var learningRate: Double { get set }
    /// Updates applied so far (Keras `iterations`).
    var iterations: Int { get }
    /// One update of every parameter from its accumulated `gradient` (parameters whose gradient is nil are skipped; their state is untouched). Slots are keyed by the parameter names, so the same optimizer can be saved and restored.
    func update(_ parameters: [(name: String, variable: Variable<Scalar>)])
    /// Slots and counters as named tensors for a checkpoint, e.g. "conv2d.kernel/momentum", "iterations".
    func stateTensors() -> [String: Tensor<Scalar>]
    /// Restores what stateTensors() returned; throws (naming the tensor and both shapes) when a name or shape does not fit.
    func loadStateTensors(_ tensors: [String: Tensor<Scalar>]) throws
    /// Name and hyperparameters for metadata and logs, e.g. ["name": "Adam", "beta_1": "0.9", ...].
    var configuration: [String: String] { get }
}

/// Gradient clipping applied before every update, as Keras's `clipnorm`, `global_clipnorm` and
/// `clipvalue` optimizer arguments (Keras allows only one of them at a time, and so does this enum).
public enum GradientClipping: Sendable, Equatable {
    /// Rescales each parameter's gradient `g` to `g * c / max(‖g‖, c)`, so its L2 norm is at most `c`
    /// (Keras `clipnorm`, TensorFlow `clip_by_norm`).
    case clipNorm(Double)
    /// Rescales all gradients of the update by one factor `c * min(1 / N, 1 / c)`, where `N` is the
    /// L2 norm of all of them together, so their joint norm is at most `c` (Keras `global_clipnorm`,
    /// TensorFlow `clip_by_global_norm`). A non-finite `N` makes every gradient NaN, as in Keras.
    case globalClipNorm(Double)
    /// Clamps every gradient element to `[-c, c]` (Keras `clipvalue`).
    case clipValue(Double)

    /// The threshold `c`.
    public var threshold: Double {
        switch self {
        case .clipNorm(let c), .globalClipNorm(let c), .clipValue(let c): return c
        }
    }

    /// The Keras argument name: `clipnorm`, `global_clipnorm` or `clipvalue`.
    public var kerasName: String {
        switch self {
        case .clipNorm: return "clipnorm"
        case .globalClipNorm: return "global_clipnorm"
        case .clipValue: return "clipvalue"
        }
    }
}

/// Errors restoring optimizer state from a checkpoint.
public enum OptimizerError: Error, CustomStringConvertible, Equatable {
    /// A tensor name this optimizer does not write (an unknown slot, a slot of a disabled option,
    /// or `learning_rate` for an optimizer driven by a schedule).
    case unexpectedTensor(name: String, optimizer: String, expectedSlots: [String])
    /// A tensor this optimizer needs is not in the checkpoint.
    case missingTensor(name: String, optimizer: String)
    /// A tensor's shape does not fit: `expected` is the parameter's (or the counter's) shape.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A counter or learning rate holds an impossible value (negative, fractional, not finite).
    case invalidValue(name: String, value: Double, reason: String)

    /// A message naming the tensor (and both shapes for a shape mismatch).
    public var description: String {
        switch self {
        case let .unexpectedTensor(name, optimizer, slots):
            return "\(optimizer) state: unexpected tensor \"\(name)\" (this optimizer writes \"iterations\", "
                + "\"learning_rate\" unless it has a schedule, and per-parameter slots \(slots))"
        case let .missingTensor(name, optimizer):
            return "\(optimizer) state: tensor \"\(name)\" is missing"
        case let .shapeMismatch(name, expected, found):
            return "optimizer state tensor \"\(name)\" has shape \(found), expected shape \(expected)"
        case let .invalidValue(name, value, reason):
            return "optimizer state tensor \"\(name)\" holds \(value): \(reason)"
        }
    }
}
