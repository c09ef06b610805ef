// Dropout layers: inverted dropout as in Keras (kept values scaled by 1 / (1 - rate)), active only in
// training mode, with masks drawn from the forward context's generator so a seeded run repeats.

/// Randomly sets a fraction `rate` of its input's elements to zero in training mode and scales the
/// rest by `1 / (1 - rate)`, so the expected value is unchanged (Keras `Dropout`, inverted dropout).
///
/// In inference mode the layer is the identity. The mask is drawn from the context's
/// ``ForwardContext/generator`` (one draw per call keys a counter-based stream of uniform values):
/// the same seed gives the same mask. An element is kept when its uniform value `u` in `[0, 1)`
/// satisfies `u >= rate`.
public final class Dropout<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Dropout" }
    public private(set) var builtInputShape: [Int]?

    /// The fraction of elements dropped in training mode, in `[0, 1]`.
    public let rate: Double

    /// A dropout layer dropping the fraction `rate` (in `[0, 1]`) of its input in training mode.
    public init(_ rate: Double, name: String = "") {
        precondition(rate >= 0 && rate <= 1, "Dropout: rate must be in [0, 1], got \(rate)")
        self.rate = rate
        self.name = name
    }

    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        guard context.isTraining, rate > 0 else { return input }
        var mask = makeMaskBuffer(inputShape: input.shape)
        drawMask(generator: &context.generator, into: &mask)
        return recordDropout(input, mask: mask, operation: "dropout")
    }

    /// Whether the mask is Float's counter-based stream (a key, nothing mask-sized): Float and a
    /// rate strictly between 0 and 1.
    private var usesStream: Bool { Scalar.self == Float.self && rate > 0 && rate < 1 }

    /// Mask storage for inputs of `inputShape` (with the batch axis), for
    /// ``trainingForward(_:generator:mask:into:)``: for Float (rate strictly between 0 and 1)
    /// the stream's key and nothing mask-sized, otherwise one value per input element.
    package func makeMaskBuffer(inputShape: [Int]) -> DropoutMaskBuffer<Scalar> {
        DropoutMaskBuffer(
            identity: rate == 0, spatial: false, values: usesStream || rate == 0 ? Tensor.zeros([0]) : Tensor.uninitialized(inputShape))
    }

    /// Draws this step's mask into `mask` (made by ``makeMaskBuffer(inputShape:)``), with the
    /// draws of ``forward(_:context:)`` in training: one 64-bit draw from `generator` for a rate
    /// below 1, none for a rate of 0 or 1. Allocates nothing.
    package func drawMask(generator: inout SeededGenerator, into mask: inout DropoutMaskBuffer<Scalar>) {
        if usesStream {
            mask.stream = streamMask(&generator)
        } else if rate > 0 {
            drawDropoutMask(rate: rate, generator: &generator, into: &mask.values)
        }
    }

    /// This layer and the max pooling `pool` that follows it as one operation (what a
    /// ``Sequential`` runs for that pair): the pooling reads the input through the dropout mask,
    /// so the dropout output is never written, and the backward pass writes the input gradient in
    /// one pass for windows that do not overlap. The same values, gradients and random draws as
    /// the two layers one after the other. `nil` (nothing drawn) where that does not apply: not
    /// training, a rate of 0 or 1, not Float, or an odd channel count.
    func forward(_ input: Variable<Scalar>, followedBy pool: MaxPool2D<Scalar>, context: inout ForwardContext) -> Variable<Scalar>? {
        guard context.isTraining, canFuse(inputShape: input.shape), let x = input.value as? Tensor<Float> else { return nil }
        _ = requireBuilt()
        _ = pool.requireBuilt()
        let recording = GradientRecording.isEnabled && input.requiresGradient
        guard recording else {
            let mask = streamMask(&context.generator)
            let (output, _) = x.maxPool2DOfDropout(
                mask, poolSize: pool.poolSize, strides: pool.strides, padding: pool.padding, withIndices: false)
            return Variable(output as! Tensor<Scalar>)
        }
        let geometry = Pool2DGeometry(
            inputShape: input.shape, poolSize: pool.poolSize, strides: pool.strides, padding: pool.padding,
            operation: "maxPool2D")
        // Every element and index is written by the call below.
        var output = Tensor<Scalar>.uninitialized(geometry.outputShape)
        var indices = [Int32](unsafeUninitializedCapacity: geometry.outputCount) { _, n in n = geometry.outputCount }
        var mask = makeMaskBuffer(inputShape: input.shape)
        trainingForward(
            input.value, followedBy: pool, generator: &context.generator, mask: &mask, into: &output, indices: &indices)
        return Variable.record("dropout+maxPool2D", value: output, inputs: [input]) { g in
            var dx = Tensor<Scalar>.uninitialized(input.shape)
            self.trainingBackward(g, followedBy: pool, mask: mask, indices: indices, into: &dx)
            return [dx]
        }
    }

    /// Whether this layer and a following max pooling run fused on inputs of `inputShape` (with
    /// the batch axis) in training: Float, a rate strictly between 0 and 1, NHWC with an even
    /// channel count.
    package func canFuse(inputShape: [Int]) -> Bool {
        usesStream && inputShape.count == 4 && inputShape[3] % 2 == 0
    }

    /// The fused training forward pass of this layer and the max pooling `pool` after it, into
    /// caller-owned storage without allocating (where ``canFuse(inputShape:)``): draws the mask as
    /// ``trainingForward(_:generator:mask:into:)`` does (into `mask`, from
    /// ``makeMaskBuffer(inputShape:)``), then overwrites `output` (the pooling's output shape)
    /// and `indices` (one per output element) with the pooling of the dropped-out `x`, bitwise
    /// as the two layers one after the other.
    package func trainingForward(
        _ x: Tensor<Scalar>, followedBy pool: MaxPool2D<Scalar>, generator: inout SeededGenerator,
        mask: inout DropoutMaskBuffer<Scalar>, into output: inout Tensor<Scalar>, indices: inout [Int32]
    ) {
        precondition(canFuse(inputShape: x.shape), "Dropout '\(name)': no fused max pooling for input shape \(x.shape) at rate \(rate)")
        drawMask(generator: &generator, into: &mask)
        let stream = mask.stream!
        withFloat(&output) { output in
            unsafeBitCast(x, to: Tensor<Float>.self).maxPool2DOfDropout(
                stream, poolSize: pool.poolSize, strides: pool.strides, padding: pool.padding, into: &output,
                indices: &indices)
        }
    }

    /// The backward pass of ``trainingForward(_:followedBy:generator:mask:into:indices:)``:
    /// overwrites `inputGradient` (the input's shape) with the input gradient for the output
    /// gradient `gradient`, without allocating for windows that do not overlap (a scratch buffer
    /// otherwise).
    package func trainingBackward(
        _ gradient: Tensor<Scalar>, followedBy pool: MaxPool2D<Scalar>, mask: DropoutMaskBuffer<Scalar>,
        indices: [Int32], into inputGradient: inout Tensor<Scalar>
    ) {
        precondition(canFuse(inputShape: inputGradient.shape), "Dropout '\(name)': no fused max pooling for shape \(inputGradient.shape)")
        let stream = mask.stream!
        withFloat(&inputGradient) { dx in
            Tensor<Float>.maxPool2DOfDropoutBackward(
                gradient: unsafeBitCast(gradient, to: Tensor<Float>.self), indices: indices, poolSize: pool.poolSize,
                strides: pool.strides, padding: pool.padding, mask: stream, into: &dx)
        }
    }

    /// Calls `body` with `tensor` viewed as a Float tensor (`Scalar` must be `Float`).
    private func withFloat(_ tensor: inout Tensor<Scalar>, _ body: (inout Tensor<Float>) -> Void) {
        precondition(Scalar.self == Float.self)
        withUnsafeMutablePointer(to: &tensor) { p in
            p.withMemoryRebound(to: Tensor<Float>.self, capacity: 1) { body(&$0.pointee) }
        }
    }

    /// The Float mask of this layer's rate, keyed by one draw from `generator` (the draw
    /// ``dropoutMask(shape:rate:generator:)`` makes).
    private func streamMask(_ generator: inout SeededGenerator) -> DropoutMask {
        let (threshold, scale) = dropoutThreshold(rate: rate)
        return DropoutMask(key: generator.next(), threshold: threshold, scale: Float(scale))
    }
}

/// Drops whole feature maps: in training mode each channel of each example of an NHWC batch is
/// either zeroed entirely (with probability `rate`) or scaled by `1 / (1 - rate)` (Keras
/// `SpatialDropout2D`, channels last).
///
/// The mask has shape `[N, 1, 1, C]` and is drawn from the context's generator. Use it after
/// convolutions, where neighbouring pixels are strongly correlated and ordinary dropout barely
/// regularizes. In inference mode the layer is the identity.
public final class SpatialDropout2D<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "SpatialDropout2D" }
    public private(set) var builtInputShape: [Int]?

    /// The fraction of channels dropped per example in training mode, in `[0, 1]`.
    public let rate: Double

    /// A spatial dropout layer dropping the fraction `rate` (in `[0, 1]`) of channels in training mode.
    public init(_ rate: Double, name: String = "") {
        precondition(rate >= 0 && rate <= 1, "SpatialDropout2D: rate must be in [0, 1], got \(rate)")
        self.rate = rate
        self.name = name
    }

    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw LayerError.incompatibleShape(
                layer: "SpatialDropout2D '\(name)'", expected: "[height, width, channels]", got: inputShape)
        }
        return inputShape
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        precondition(
            input.rank == 4,
            "SpatialDropout2D '\(name)': expected an NHWC input [N, H, W, C], got shape \(input.shape)")
        guard context.isTraining, rate > 0 else { return input }
        var mask = makeMaskBuffer(inputShape: input.shape)
        drawMask(generator: &context.generator, into: &mask)
        return recordDropout(input, mask: mask, operation: "spatialDropout2D")
    }

    /// Mask storage for NHWC inputs of `inputShape` `[N, H, W, C]`, for
    /// ``trainingForward(_:generator:mask:into:)``: one value per example and channel, `[N, 1, 1, C]`.
    package func makeMaskBuffer(inputShape: [Int]) -> DropoutMaskBuffer<Scalar> {
        precondition(
            inputShape.count == 4,
            "SpatialDropout2D '\(name)': expected an NHWC input [N, H, W, C], got shape \(inputShape)")
        return DropoutMaskBuffer(
            identity: rate == 0, spatial: true,
            values: rate == 0 ? Tensor.zeros([0]) : Tensor.uninitialized([inputShape[0], 1, 1, inputShape[3]]))
    }

    /// Draws this step's mask into `mask` (made by ``makeMaskBuffer(inputShape:)``), with the
    /// draws of ``forward(_:context:)`` in training (one 64-bit draw for a rate strictly between
    /// 0 and 1). Allocates nothing.
    package func drawMask(generator: inout SeededGenerator, into mask: inout DropoutMaskBuffer<Scalar>) {
        if rate > 0 { drawDropoutMask(rate: rate, generator: &generator, into: &mask.values) }
    }
}

/// A dropout layer whose training passes draw a mask into caller-owned storage and multiply by it
/// (``Dropout``, ``SpatialDropout2D``): the allocation-free passes the planned steps run.
package protocol MaskedDropout<Scalar>: Layer {
    /// Mask storage for inputs of `inputShape` (with the batch axis), reusable from step to step.
    func makeMaskBuffer(inputShape: [Int]) -> DropoutMaskBuffer<Scalar>
    /// Draws this step's mask into `mask`, with the draws of ``Layer/forward(_:context:)`` in training.
    func drawMask(generator: inout SeededGenerator, into mask: inout DropoutMaskBuffer<Scalar>)
}

extension MaskedDropout {
    /// The training-mode forward pass into caller-owned storage, without allocating: draws the
    /// mask (the same values as ``Layer/forward(_:context:)`` for the same generator state) and
    /// overwrites every element of `output` (the shape of `x`) with `x` times the mask (a copy of
    /// `x` for a rate of 0).
    package func trainingForward(
        _ x: Tensor<Scalar>, generator: inout SeededGenerator, mask: inout DropoutMaskBuffer<Scalar>,
        into output: inout Tensor<Scalar>
    ) {
        drawMask(generator: &generator, into: &mask)
        mask.apply(x, into: &output)
    }

    /// The training-mode backward pass: overwrites `inputGradient` (the input's shape) with
    /// `gradient` times the `mask` that ``trainingForward(_:generator:mask:into:)`` drew. Allocates nothing.
    package func trainingBackward(
        _ gradient: Tensor<Scalar>, mask: DropoutMaskBuffer<Scalar>, into inputGradient: inout Tensor<Scalar>
    ) {
        mask.apply(gradient, into: &inputGradient)
    }
}

extension Dropout: MaskedDropout {}
extension SpatialDropout2D: MaskedDropout {}

/// Caller-owned storage of one training step's mask of a ``Dropout`` or ``SpatialDropout2D``
/// layer (made by the layer's `makeMaskBuffer(inputShape:)`, reusable from step to step).
package struct DropoutMaskBuffer<Scalar: TensorScalar>: Sendable {
    /// Whether the mask is the identity (a rate of 0: nothing is drawn, values are copied).
    package let isIdentity: Bool
    /// Whether ``values`` has shape `[N, 1, 1, C]`, broadcast over the spatial axes of `[N, H, W, C]`.
    package let isSpatial: Bool
    /// The Float counter-based mask, when the layer uses one (then ``values`` is empty).
    package var stream: DropoutMask?
    /// The mask values when there is no ``stream``: `1 / (1 - rate)` or 0 per element.
    package var values: Tensor<Scalar>

    /// Storage of `values` (shape as described above; an empty tensor when the layer uses a stream
    /// or the mask is the identity).
    init(identity: Bool, spatial: Bool, values: Tensor<Scalar>) {
        (isIdentity, isSpatial, self.values) = (identity, spatial, values)
    }

    /// Overwrites every element of `output` (the shape of `x`) with `x` times the mask, without
    /// allocating: the forward pass with an input, the backward pass with a gradient.
    package func apply(_ x: Tensor<Scalar>, into output: inout Tensor<Scalar>) {
        precondition(
            output.shape == x.shape, "dropout: output of shape \(output.shape) for an input of shape \(x.shape)")
        x.withUnsafeBufferPointer { xb in
            output.withUnsafeMutableBufferPointer { ob in
                guard let xp = xb.baseAddress, let op = ob.baseAddress else { return }
                let count = xb.count
                if let stream {
                    stream.apply(UnsafePointer<Float>(OpaquePointer(xp)), UnsafeMutablePointer<Float>(OpaquePointer(op)), count: count)
                    return
                }
                if isIdentity {
                    op.update(from: xp, count: count)
                    return
                }
                values.withUnsafeBufferPointer { mb in
                    let mp = mb.baseAddress!
                    guard isSpatial else {
                        precondition(mb.count == count, "dropout: mask of shape \(values.shape) for an input of shape \(x.shape)")
                        Scalar.applyBinary(.multiply, xp, 1, mp, 1, op, count)
                        return
                    }
                    precondition(
                        x.rank == 4 && values.shape[0] == x.shape[0] && values.shape[3] == x.shape[3],
                        "spatialDropout2D: mask of shape \(values.shape) for an input of shape \(x.shape)")
                    let (n, spatial, c) = (x.shape[0], x.shape[1] * x.shape[2], x.shape[3])
                    for b in 0..<n {
                        for s in 0..<spatial {
                            let offset = (b * spatial + s) * c
                            Scalar.applyBinary(.multiply, xp + offset, 1, mp + b * c, 1, op + offset, c)
                        }
                    }
                }
            }
        }
    }
}

/// Records `input` times the drawn `mask` (a dropout layer's training forward pass), with the
/// backward rule `g` times the same mask.
func recordDropout<Scalar: TensorScalar>(
    _ input: Variable<Scalar>, mask: DropoutMaskBuffer<Scalar>, operation: String
) -> Variable<Scalar> {
    var y = Tensor<Scalar>.uninitialized(input.shape)
    mask.apply(input.value, into: &y)
    return Variable.record(operation, value: y, inputs: [input]) { g in
        var dx = Tensor<Scalar>.uninitialized(g.shape)
        mask.apply(g, into: &dx)
        return [dx]
    }
}

/// A dropout mask of `shape`: each element is `1 / (1 - rate)` where its uniform value `u` in
/// `[0, 1)` satisfies `u >= rate`, else `0`. With `rate == 1` every element is zero (Keras returns
/// zeros).
///
/// The mask takes one 64-bit draw from `generator` as a key. Hash `j` is the SplitMix64 finalizer
/// of `key + (j + 1) * golden gamma` (a counter-based stream, so the loop has no serial
/// dependency); elements `2j` and `2j + 1` take its high and low 32 bits as `u = bits * 2^-32`.
/// The same generator state gives the same mask.
func dropoutMask<Scalar: TensorScalar>(shape: [Int], rate: Double, generator: inout SeededGenerator) -> Tensor<Scalar> {
    var mask = Tensor<Scalar>.uninitialized(shape)
    drawDropoutMask(rate: rate, generator: &generator, into: &mask)
    return mask
}

/// ``dropoutMask(shape:rate:generator:)`` into the caller-owned `mask` (its shape; every element
/// overwritten), with the same draw, without allocating.
func drawDropoutMask<Scalar: TensorScalar>(rate: Double, generator: inout SeededGenerator, into mask: inout Tensor<Scalar>) {
    mask.withUnsafeMutableBufferPointer { m in
        let count = m.count
        if rate >= 1 {
            m.update(repeating: 0)
            return
        }
        let (threshold, scale) = dropoutThreshold(rate: rate)
        let key = generator.next()
        guard let out = m.baseAddress else { return }
        if Scalar.self == Float.self {
            fillDropoutMask(UnsafeMutablePointer<Float>(OpaquePointer(out)), count, key, threshold, Float(scale))
        } else if Scalar.self == Double.self {
            fillDropoutMask(UnsafeMutablePointer<Double>(OpaquePointer(out)), count, key, threshold, scale)
        } else {
            fillDropoutMask(out, count, key, threshold, Scalar(scale))
        }
    }
}

/// The keep threshold on the 32 random bits of an element and the scale of kept elements for
/// `rate` in `[0, 1)`: `u = k * 2^-32 >= rate` exactly when `k >= ceil(rate * 2^32)` (exact:
/// scaling by a power of two).
func dropoutThreshold(rate: Double) -> (threshold: UInt64, scale: Double) {
    (UInt64((rate * 0x1.0p32).rounded(.up)), 1 / (1 - rate))
}

@inline(__always)
private func fillDropoutMask<T: BinaryFloatingPoint>(
    _ out: UnsafeMutablePointer<T>, _ count: Int, _ key: UInt64, _ threshold: UInt64, _ scale: T
) {
    @inline(__always) func hash(_ j: Int) -> UInt64 {
        var z = key &+ UInt64(truncatingIfNeeded: j &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    // Branch-free keep flag: bits - threshold wraps around (top bit set) exactly when bits < threshold.
    @inline(__always) func keep(_ bits: UInt64) -> T {
        T(Int32(truncatingIfNeeded: 1 &- ((bits &- threshold) >> 63)))
    }
    let pairs = count / 2
    for j in 0..<pairs {
        let z = hash(j)
        out[2 * j] = scale * keep(z >> 32)
        out[2 * j + 1] = scale * keep(z & 0xFFFF_FFFF)
    }
    if count % 2 == 1 {
        out[count - 1] = scale * keep(hash(pairs) >> 32)
    }
}
