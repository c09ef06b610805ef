// Planned steps: every layer's buffers allocated once for a batch shape, rewritten by each step.
//
// The graph-recording path (`Variable`) allocates every activation, gradient, graph node and
// closure on every step. A plan is built once per batch shape from the model's layers: one node
// per layer (or per fused group of layers), each owning its output buffer, the buffer of the
// gradient with respect to its input, its saved state (masks, statistics) and its weight
// gradients. A step then runs the nodes forward and backward on those buffers, through the same
// kernels as the graph path, without a heap allocation.

/// A tensor owned by one plan node and shared by reference with the nodes that read it, so a
/// reader holds the box rather than a copy of the tensor (a copy would make the owner's next
/// in-place write copy the whole buffer).
public final class PlanBuffer<Scalar: TensorScalar> {
    /// The buffer's current value. Write it in place (`tensor.withUnsafeMutableBufferPointer` or an
    /// `into:` kernel); never keep a copy across steps.
    public var tensor: Tensor<Scalar>

    /// A buffer of `shape` whose elements start uninitialized: every node writes its buffers
    /// completely before reading them, and untouched pages cost no resident memory (so a buffer
    /// that a ``Sequential``'s node replaces by a shared one never adds to the peak).
    public init(shape: [Int]) {
        tensor = Tensor.uninitialized(shape)
    }

    /// Overwrites the buffer with `source`'s elements (the same count, any shape), in place.
    func copy(from source: Tensor<Scalar>) {
        precondition(
            source.count == tensor.count, "PlanBuffer: \(source.shape) does not fit \(tensor.shape)")
        source.withUnsafeBufferPointer { s in
            tensor.withUnsafeMutableBufferPointer { d in
                guard let from = s.baseAddress, let to = d.baseAddress else { return }
                to.update(from: from, count: s.count)
            }
        }
    }
}

/// A trainable weight of a plan node with the buffer its gradient is written to (overwritten by
/// every backward pass).
public final class PlannedGradient<Scalar: TensorScalar> {
    /// The weight.
    public let variable: Variable<Scalar>
    /// The gradient of the last backward pass, the weight's shape.
    public var buffer: Tensor<Scalar>

    /// A zeroed gradient buffer for `variable`.
    public init(_ variable: Variable<Scalar>) {
        self.variable = variable
        buffer = Tensor.zeros(variable.shape)
    }
}

/// One layer's (or fused group of layers') part of a planned step: buffers allocated when the
/// node is made, for one batch shape, and rewritten by every ``forward(_:context:)`` and
/// ``backward(_:outputGradient:)``. Subclasses override both methods.
open class PlanNode<Scalar: TensorScalar> {
    /// The output, `[batch] + output shape`, written by ``forward(_:context:)``.
    public let output: PlanBuffer<Scalar>
    /// The gradient with respect to the input, written by ``backward(_:outputGradient:)``; `nil`
    /// when the node was made without `needsInputGradient` (the first layer of a model). A
    /// ``Sequential``'s node may give two of its nodes the same buffer when their gradients are
    /// never live at once, so a node reads it at each backward pass, never keeps it.
    public internal(set) var inputGradient: PlanBuffer<Scalar>?
    /// Whether ``inputGradient`` is this node's own buffer (false for a container reporting its
    /// first child's), so a chain may replace it by a shared one.
    var ownsInputGradient: Bool { true }
    /// The trainable weights this node writes gradients for.
    public let gradients: [PlannedGradient<Scalar>]

    /// A node whose output has `outputShape` and, when `needsInputGradient`, whose input gradient
    /// has `inputShape` (both with the batch dimension).
    public init(inputShape: [Int], outputShape: [Int], needsInputGradient: Bool, gradients: [PlannedGradient<Scalar>] = []) {
        output = PlanBuffer(shape: outputShape)
        inputGradient = needsInputGradient ? PlanBuffer(shape: inputShape) : nil
        self.gradients = gradients
    }

    /// A node that reports another node's buffers as its own (a container whose output is its last
    /// child's and whose input gradient is its first child's).
    public init(output: PlanBuffer<Scalar>, inputGradient: PlanBuffer<Scalar>?, gradients: [PlannedGradient<Scalar>]) {
        self.output = output
        self.inputGradient = inputGradient
        self.gradients = gradients
    }

    /// Computes ``output`` from `input` (the previous node's output, or the batch).
    open func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        preconditionFailure("\(type(of: self)) does not override forward(_:context:)")
    }

    /// From the gradient of the loss with respect to ``output`` (and the same `input` as the last
    /// forward pass), writes ``inputGradient`` (when present) and every weight gradient.
    open func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        preconditionFailure("\(type(of: self)) does not override backward(_:outputGradient:)")
    }

    /// Called by a chain when the output gradient this node receives is its own to overwrite
    /// (the next node's input gradient, read by nobody else): a node may then reuse it as scratch
    /// instead of a buffer of its own. Does nothing by default.
    open func outputGradientIsExclusive() {}

    /// The logits `z` of a node whose output is `sigmoid(z)` (so a binary cross-entropy can be
    /// computed from them, as Keras does); `nil` by default.
    open var sigmoidLogits: PlanBuffer<Scalar>? { nil }

    /// ``backward(_:outputGradient:)`` given the gradient with respect to ``sigmoidLogits``
    /// instead of the output. Only called on nodes that have sigmoid logits.
    open func backward(_ input: PlanBuffer<Scalar>, logitsGradient: PlanBuffer<Scalar>) {
        preconditionFailure("\(type(of: self)) has no sigmoid logits")
    }
}

/// The backward pass of a fused bias + ReLU epilogue (Dense, Conv2D, SeparableConv2D nodes) on
/// plan buffers: the bias gradient and, with ReLU, the masked gradient.
final class EpilogueGradient<Scalar: TensorScalar> {
    /// The bias's gradient, when the layer has a bias.
    let bias: PlannedGradient<Scalar>?
    /// Whether the forward pass applied ReLU.
    let applyingReLU: Bool
    /// The gradient masked by `output > 0` (ReLU only, unless it overwrites the output gradient).
    private var masked: PlanBuffer<Scalar>?
    /// Whether the masked gradient overwrites the output gradient (nothing else reads it).
    private var masksInPlace = false
    /// Receives the bias gradient of a layer without a bias (the sweep computes it anyway).
    private let unusedBias: PlanBuffer<Scalar>?

    /// The epilogue of an output of `outputShape` (channels last) with `bias` (or none).
    init(bias: Variable<Scalar>?, outputShape: [Int], applyingReLU: Bool) {
        var gradient: PlannedGradient<Scalar>?
        if let bias { gradient = PlannedGradient(bias) }
        self.bias = gradient
        self.applyingReLU = applyingReLU
        masked = applyingReLU ? PlanBuffer(shape: outputShape) : nil
        unusedBias = bias == nil ? PlanBuffer(shape: [outputShape[outputShape.count - 1]]) : nil
    }

    /// `kernels`' gradients followed by the bias's, the order of the layer's weights.
    func gradients(after kernels: [PlannedGradient<Scalar>]) -> [PlannedGradient<Scalar>] {
        guard let bias else { return kernels }
        return kernels + [bias]
    }

    /// Masks the output gradient in place from now on, dropping the masked buffer (for a node
    /// whose output gradient nothing else reads, see ``PlanNode/outputGradientIsExclusive()``).
    func maskInPlace() {
        masksInPlace = true
        masked = nil
    }

    /// Writes the bias gradient for `outputGradient` (of the epilogue's `output`) and returns the
    /// gradient with respect to the epilogue's input: the masked buffer, or `outputGradient` itself
    /// (masked in place after ``maskInPlace()``).
    func backward(_ outputGradient: PlanBuffer<Scalar>, output: PlanBuffer<Scalar>) -> PlanBuffer<Scalar> {
        if applyingReLU && masksInPlace {
            withBiasGradient { db in
                Tensor.biasActivationBackward(
                    inPlace: &outputGradient.tensor, output: output.tensor, applyingReLU: true, biasGradient: &db)
            }
            return outputGradient
        }
        let result = masked ?? outputGradient
        withBiasGradient { db in
            Tensor.biasActivationBackward(
                gradient: outputGradient.tensor, output: output.tensor, applyingReLU: applyingReLU,
                maskedInto: &result.tensor, biasGradient: &db)
        }
        return result
    }

    /// Calls `body` with the tensor the bias gradient goes to: the bias's gradient buffer, or the
    /// unused one of a layer without a bias.
    private func withBiasGradient(_ body: (inout Tensor<Scalar>) -> Void) {
        if let bias {
            body(&bias.buffer)
        } else if let unusedBias {
            body(&unusedBias.tensor)
        }
    }
}

/// A layer that can take part in a planned step.
public protocol PlannableLayer<Scalar>: Layer {
    /// The node computing this layer on batches of `inputShape` (with the batch dimension), and
    /// how many of the `following` layers it absorbed (fused into the node, 0 for none); `nil` when
    /// this configuration of the layer cannot be planned (the graph path then runs the model).
    /// `needsInputGradient` is false for the model's first layer.
    func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)?
}

/// The nodes of a chain of layers for batches of `inputShape` (with the batch dimension), or `nil`
/// when one of them cannot be planned.
func makePlanNodes<Scalar>(
    _ layers: [any Layer<Scalar>], inputShape: [Int], needsInputGradient: Bool
) throws -> [PlanNode<Scalar>]? {
    var nodes: [PlanNode<Scalar>] = []
    var shape = inputShape
    var i = 0
    while i < layers.count {
        guard let layer = layers[i] as? any PlannableLayer<Scalar>,
              let (node, absorbed) = try layer.makePlanNode(
                inputShape: shape, needsInputGradient: needsInputGradient || !nodes.isEmpty,
                following: layers[(i + 1)...])
        else { return nil }
        nodes.append(node)
        shape = node.output.tensor.shape
        i += 1 + absorbed
    }
    return nodes
}

/// A chain of nodes run one after the other (a ``Sequential``).
final class SequentialPlanNode<Scalar: TensorScalar>: PlanNode<Scalar> {
    /// The nodes in order (at least one).
    let nodes: [PlanNode<Scalar>]

    init(nodes: [PlanNode<Scalar>]) {
        precondition(!nodes.isEmpty, "SequentialPlanNode: needs at least one node")
        self.nodes = nodes
        super.init(output: nodes[nodes.count - 1].output, inputGradient: nodes[0].inputGradient,
                   gradients: nodes.flatMap(\.gradients))
        shareGradientBuffers()
        // Every node but the last receives the next node's input gradient, which only it reads.
        var i = 0
        while i + 1 < nodes.count {
            nodes[i].outputGradientIsExclusive()
            i += 1
        }
    }

    override var ownsInputGradient: Bool { false }

    /// The chain's output gradient goes to its last node alone.
    override func outputGradientIsExclusive() { nodes[nodes.count - 1].outputGradientIsExclusive() }

    /// Gives node `i` the input-gradient buffer of node `i - 2` when both own one of the same
    /// shape: node `i`'s gradient is dead once node `i - 1` has read it, before node `i - 2`
    /// writes its own. A run of equal shapes (a VGG block) then alternates between two buffers
    /// instead of holding one per layer.
    private func shareGradientBuffers() {
        var i = 2
        while i < nodes.count {
            if nodes[i].ownsInputGradient, nodes[i - 2].ownsInputGradient,
               let shared = nodes[i - 2].inputGradient, let own = nodes[i].inputGradient,
               own !== shared, own.tensor.shape == shared.tensor.shape {
                nodes[i].inputGradient = shared
            }
            i += 1
        }
    }

    override func forward(_ input: PlanBuffer<Scalar>, context: inout ForwardContext) {
        var x = input
        var i = 0
        while i < nodes.count {
            nodes[i].forward(x, context: &context)
            x = nodes[i].output
            i += 1
        }
    }

    override func backward(_ input: PlanBuffer<Scalar>, outputGradient: PlanBuffer<Scalar>) {
        backward(input, from: nodes.count - 1, outputGradient: outputGradient)
    }

    override var sigmoidLogits: PlanBuffer<Scalar>? { nodes[nodes.count - 1].sigmoidLogits }

    override func backward(_ input: PlanBuffer<Scalar>, logitsGradient: PlanBuffer<Scalar>) {
        let last = nodes.count - 1
        nodes[last].backward(last == 0 ? input : nodes[last - 1].output, logitsGradient: logitsGradient)
        if last > 0, let g = nodes[last].inputGradient { backward(input, from: last - 1, outputGradient: g) }
    }

    /// Runs the nodes `0...last` backward, the last of them from `outputGradient`.
    private func backward(_ input: PlanBuffer<Scalar>, from last: Int, outputGradient: PlanBuffer<Scalar>) {
        var g = outputGradient
        var i = last
        while i >= 0 {
            nodes[i].backward(i == 0 ? input : nodes[i - 1].output, outputGradient: g)
            guard i > 0, let next = nodes[i].inputGradient else { break }
            g = next
            i -= 1
        }
    }
}

extension Sequential: PlannableLayer {
    /// The chain of its layers' nodes (fusing the same pairs as ``forward(_:context:)`` where the
    /// layers plan them), or `nil` when one of its layers cannot be planned.
    public func makePlanNode(
        inputShape: [Int], needsInputGradient: Bool, following: ArraySlice<any Layer<Scalar>>
    ) throws -> (node: PlanNode<Scalar>, absorbed: Int)? {
        guard let nodes = try makePlanNodes(layers, inputShape: inputShape, needsInputGradient: needsInputGradient),
              !nodes.isEmpty
        else { return nil }
        return (nodes.count == 1 ? nodes[0] : SequentialPlanNode(nodes: nodes), 0)
    }
}
