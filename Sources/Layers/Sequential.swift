/// A linear stack of layers, each fed the previous one's output (Keras `Sequential`).
///
/// Give an input shape (without the batch dimension) and a seed to build it at once, with
/// reproducible initial weights; a `Sequential` is itself a ``Layer`` and can be nested.
public final class Sequential<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Sequential" }
    public private(set) var builtInputShape: [Int]?
    /// The layers in order.
    public let layers: [any Layer<Scalar>]

    /// A stack of `layers`, built later (by an enclosing model, or ``buildModel(inputShape:seed:)``).
    public init(name: String = "", layers: [any Layer<Scalar>]) {
        self.layers = layers
        self.name = name
    }

    /// A stack of the layers the closure lists, built later; usable inside another container's
    /// closure (a residual branch of an ``Add``).
    public convenience init(name: String = "", @LayerBuilder<Scalar> _ layers: () -> [any Layer<Scalar>]) {
        self.init(name: name, layers: layers())
    }

    /// A stack of `layers` built at once for `inputShape` (without the batch dimension): names
    /// assigned and weights drawn from `seed`. Throws ``LayerError`` when a layer does not fit.
    public convenience init(inputShape: [Int], seed: UInt64 = 0, name: String = "", layers: [any Layer<Scalar>]) throws {
        self.init(name: name, layers: layers)
        try buildModel(inputShape: inputShape, seed: seed)
    }

    /// A stack of the layers the closure lists, built at once for `inputShape`.
    public convenience init(
        inputShape: [Int], seed: UInt64 = 0, name: String = "", @LayerBuilder<Scalar> _ layers: () -> [any Layer<Scalar>]
    ) throws {
        try self.init(inputShape: inputShape, seed: seed, name: name, layers: layers())
    }

    public var sublayers: [any Layer<Scalar>] { layers }
    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        try layers.reduce(inputShape) { try $1.outputShape(for: $0) }
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        if let built = builtInputShape {
            guard built == inputShape else {
                throw LayerError.shapeMismatch(operation: "Sequential '\(name)'", expected: built, got: inputShape)
            }
            return
        }
        var shape = inputShape
        for layer in layers {
            try layer.build(inputShape: shape, generator: &generator)
            shape = try layer.outputShape(for: shape)
        }
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        var x = input
        var i = 0
        while i < layers.count {
            // In inference without a graph, a convolution followed by a batch normalization (and a
            // plain ReLU) runs as one convolution with the normalization folded into its kernel.
            if !context.isTraining, !GradientRecording.isEnabled, i + 1 < layers.count,
               let linear = layers[i] as? any BatchNormFoldable<Scalar>, let norm = layers[i + 1] as? BatchNorm<Scalar>,
               let map = norm.inferenceAffine(rank: x.rank) {
                let relu = i + 2 < layers.count && isPlainReLU(layers[i + 2])
                if let y = linear.forward(x, foldingFactor: map.factor, offset: map.offset, applyingReLU: relu) {
                    x = y
                    i += relu ? 3 : 2
                    continue
                }
            }
            // A batch normalization directly followed by a plain ReLU runs as one fused pass (the
            // same values and gradients as the two layers, without the intermediate tensor).
            if i + 1 < layers.count, let norm = layers[i] as? BatchNorm<Scalar>, isPlainReLU(layers[i + 1]) {
                _ = layers[i + 1].requireBuilt()
                x = norm.forward(x, context: &context, applyingReLU: true)
                i += 2
                continue
            }
            // A dropout directly followed by a max pooling: the pooling reads through the mask.
            if i + 1 < layers.count, let dropout = layers[i] as? Dropout<Scalar>,
               let pool = layers[i + 1] as? MaxPool2D<Scalar>,
               let y = dropout.forward(x, followedBy: pool, context: &context) {
                x = y
                i += 2
                continue
            }
            x = layers[i].forward(x, context: &context)
            i += 1
        }
        return x
    }
}

/// Whether `layer` is `max(x, 0)` and nothing else: a ``ReLU`` with its defaults or an
/// ``ActivationLayer`` of ``Activation/relu`` (the layers fused into the one before them).
func isPlainReLU<Scalar: TensorScalar>(_ layer: any Layer<Scalar>) -> Bool {
    if let relu = layer as? ReLU<Scalar> {
        return relu.maxValue == nil && relu.negativeSlope == 0 && relu.threshold == 0
    }
    if let activation = layer as? ActivationLayer<Scalar> { return activation.activation == .relu }
    return false
}

/// The sum of several branches applied to the same input (the merge of a residual connection,
/// Keras `Add` over parallel paths). Every branch must produce the same output shape.
///
/// ```swift
/// Add {
///     Conv2D(64, kernelSize: 1, strides: 2)            // shortcut
///     Sequential { SeparableConv2D(64, kernelSize: 3) ... MaxPool2D(3, strides: 2, padding: .same) }
/// }
/// ```
public final class Add<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Add" }
    public private(set) var builtInputShape: [Int]?
    /// The parallel branches whose outputs are summed.
    public let branches: [any Layer<Scalar>]

    /// The sum of `branches` (at least two).
    public init(name: String = "", branches: [any Layer<Scalar>]) {
        precondition(branches.count >= 2, "Add: needs at least two branches, got \(branches.count)")
        self.branches = branches
        self.name = name
    }

    /// The sum of the branches the closure lists.
    public convenience init(name: String = "", @LayerBuilder<Scalar> _ branches: () -> [any Layer<Scalar>]) {
        self.init(name: name, branches: branches())
    }

    public var sublayers: [any Layer<Scalar>] { branches }
    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let shapes = try branches.map { try $0.outputShape(for: inputShape) }
        for shape in shapes.dropFirst() where shape != shapes[0] {
            throw LayerError.shapeMismatch(operation: "Add '\(name)': branch outputs", expected: shapes[0], got: shape)
        }
        return shapes[0]
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        for branch in branches {
            try branch.build(inputShape: inputShape, generator: &generator)
        }
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        var sum = branches[0].forward(input, context: &context)
        for branch in branches.dropFirst() {
            sum = sum + branch.forward(input, context: &context)
        }
        return sum
    }
}

/// Passes its input through unchanged (the identity shortcut of a residual block).
public final class Identity<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Identity" }
    public private(set) var builtInputShape: [Int]?

    /// An identity layer.
    public init(name: String = "") { self.name = name }

    public var weights: [LayerWeight<Scalar>] { [] }
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    public func build(inputShape: [Int], generator: inout SeededGenerator) throws { builtInputShape = inputShape }
    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> { input }
}
