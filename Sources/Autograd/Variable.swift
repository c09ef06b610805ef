@_exported import Tensor

/// Controls whether operations on ``Variable``s record a graph for differentiation.
///
/// Recording is on by default. ``withoutGradients(_:)`` turns it off for the duration of a closure
/// (inference, metric evaluation, optimizer updates): operations then compute values only and the
/// results have no history. The setting is task-local, so concurrent tasks do not affect each other.
public enum GradientRecording {
    /// Whether operations currently record their backward rules.
    @TaskLocal public static var isEnabled = true
}

/// Runs `body` without recording a graph (PyTorch's `torch.no_grad()`).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientRecording.$isEnabled.withValue(false, operation: body)
}

/// A differentiable value: a `Tensor` together with the operation that produced it.
///
/// Operations on variables build a dynamic graph (a tape) as they run. Calling ``backward(seed:)``
/// on a result walks the graph in reverse and accumulates gradients into every leaf variable that
/// was created with `requiresGradient: true`.
///
/// ```swift
/// let w = Variable(Tensor<Double>([[1, 2], [3, 4]]), requiresGradient: true)
/// let loss = (w * w).sum()
/// loss.backward()
/// w.gradient   // 2 * w
/// ```
public final class Variable<Scalar: TensorScalar> {
    /// The current value. Optimizers update it in place.
    public var value: Tensor<Scalar>
    /// The accumulated gradient of the last ``backward(seed:)`` calls, or `nil` if none reached it.
    public var gradient: Tensor<Scalar>?
    /// Whether gradients flow to (or through) this variable.
    public let requiresGradient: Bool
    /// An optional name, for parameters and error messages.
    public var name: String?

    /// How this variable was computed, or `nil` for a leaf.
    let node: Node?

    /// The recorded operation behind a non-leaf variable: its inputs and its backward rule.
    final class Node {
        let inputs: [Variable]
        let backward: (Tensor<Scalar>) -> [Tensor<Scalar>?]
        let operation: String

        init(operation: String, inputs: [Variable], backward: @escaping (Tensor<Scalar>) -> [Tensor<Scalar>?]) {
            self.operation = operation
            self.inputs = inputs
            self.backward = backward
        }
    }

    /// A leaf variable holding `value`.
    public init(_ value: Tensor<Scalar>, requiresGradient: Bool = false, name: String? = nil) {
        self.value = value
        self.requiresGradient = requiresGradient
        self.name = name
        self.node = nil
    }

    private init(value: Tensor<Scalar>, node: Node) {
        self.value = value
        self.requiresGradient = true
        self.node = node
        self.name = nil
    }

    /// The shape of the value.
    public var shape: [Int] { value.shape }
    /// The rank of the value.
    public var rank: Int { value.rank }
    /// Whether this variable is a leaf (not produced by a recorded operation).
    public var isLeaf: Bool { node == nil }

    /// The single input of the operation that produced this value when that operation is named
    /// `operation` (for example the logits behind a `"sigmoid"`, or behind a `"softmax"` over the
    /// last axis), nil otherwise or when the value was computed without recording. The losses use
    /// it as Keras does, to compute a cross-entropy "from probabilities" from the logits.
    public func input(ifProducedBy operation: String) -> Variable? {
        guard let node, node.operation == operation, node.inputs.count == 1 else { return nil }
        return node.inputs[0]
    }
    /// The name of the operation that produced this variable, or `nil` for a leaf.
    public var operationName: String? { node?.operation }

    /// A new leaf with the same value and no history (PyTorch's `detach()`).
    public func detached() -> Variable {
        Variable(value)
    }

    /// Clears the accumulated gradient.
    public func zeroGradient() {
        gradient = nil
    }

    /// Records an operation: `value` was computed from `inputs`, and `backward` maps the gradient
    /// of the result to the gradients of each input (in order; `nil` where an input gets none).
    ///
    /// This is the extension point for new differentiable operations (used by every op in this
    /// module and by the Layers module). When recording is off, or no input requires a gradient,
    /// the result is a plain leaf and `backward` is dropped. Each returned gradient must have its
    /// input's shape.
    public static func record(
        _ operation: String, value: Tensor<Scalar>, inputs: [Variable],
        backward: @escaping (_ gradient: Tensor<Scalar>) -> [Tensor<Scalar>?]
    ) -> Variable {
        guard GradientRecording.isEnabled, inputs.contains(where: { $0.requiresGradient }) else {
            return Variable(value)
        }
        return Variable(value: value, node: Node(operation: operation, inputs: inputs, backward: backward))
    }

    /// Back-propagates from this variable: accumulates `d self / d leaf`, weighted by `seed`, into
    /// the ``gradient`` of every leaf that requires one. `seed` defaults to 1 and may be omitted only
    /// for a single-element result (a loss).
    public func backward(seed: Tensor<Scalar>? = nil) {
        let seed = seed ?? {
            precondition(
                value.count == 1,
                "backward: a result of shape \(value.shape) needs an explicit seed gradient of its shape")
            return Tensor<Scalar>.ones(value.shape)
        }()
        precondition(seed.shape == value.shape, "backward: seed shape \(seed.shape) differs from value shape \(value.shape)")
        guard requiresGradient else { return }

        // Topological order by iterative depth-first search over the recorded nodes.
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (variable, expanded) = stack.popLast() {
            if expanded {
                order.append(variable)
                continue
            }
            let id = ObjectIdentifier(variable)
            if visited.contains(id) { continue }
            visited.insert(id)
            stack.append((variable, true))
            for input in variable.node?.inputs ?? [] where input.requiresGradient
                && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }

        var pending: [ObjectIdentifier: Tensor<Scalar>] = [ObjectIdentifier(self): seed]
        for variable in order.reversed() {
            guard let incoming = pending.removeValue(forKey: ObjectIdentifier(variable)) else { continue }
            guard let node = variable.node else {
                if variable.requiresGradient {
                    if variable.gradient == nil {
                        variable.gradient = incoming
                    } else {
                        variable.gradient! += incoming
                    }
                }
                continue
            }
            let inputGradients = node.backward(incoming)
            precondition(
                inputGradients.count == node.inputs.count,
                "\(node.operation): backward returned \(inputGradients.count) gradients for \(node.inputs.count) inputs")
            for (input, gradient) in zip(node.inputs, inputGradients) {
                guard input.requiresGradient, let gradient else { continue }
                precondition(
                    gradient.shape == input.shape,
                    "\(node.operation): gradient of shape \(gradient.shape) for an input of shape \(input.shape)")
                let id = ObjectIdentifier(input)
                if pending[id] == nil {
                    pending[id] = gradient
                } else {
                    pending[id]! += gradient
                }
            }
        }
    }
}

extension Variable: CustomStringConvertible {
    /// The value, with the producing operation or leaf status.
    public var description: String {
        "Variable(\(operationName ?? (requiresGradient ? "leaf, requires gradient" : "constant"))) \(value)"
    }
}
