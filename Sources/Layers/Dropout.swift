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
        if Scalar.self == Float.self, rate < 1, let x = input.value as? Tensor<Float> {
            // Float: the mask of `dropoutMask` generated and applied in one pass, forward and
            // backward, from the same single draw (nothing mask-sized is stored).
            let mask = streamMask(&context.generator)
            let y = x.droppingOut(mask)
            return Variable.record("dropout", value: y as! Tensor<Scalar>, inputs: [input]) { g in
                [(g as! Tensor<Float>).droppingOut(mask) as? Tensor<Scalar>]
            }
        }
        let mask: Tensor<Scalar> = dropoutMask(shape: input.shape, rate: rate, generator: &context.generator)
        return applyDropoutMask(input, mask, operation: "dropout")
    }

    /// This layer and the max pooling `pool` that follows it as one operation (what a
    /// ``Sequential`` runs for that pair): the pooling reads the input through the dropout mask,
    /// so the dropout output is never written, and the backward pass writes the input gradient in
    /// one pass for windows that do not overlap. The same values, gradients and random draws as
    /// the two layers one after the other. `nil` (nothing drawn) where that does not apply: not
    /// training, a rate of 0 or 1, not Float, or an odd channel count.
    func forward(_ input: Variable<Scalar>, followedBy pool: MaxPool2D<Scalar>, context: inout ForwardContext) -> Variable<Scalar>? {
        guard context.isTraining, rate > 0, rate < 1, Scalar.self == Float.self, input.rank == 4,
              input.shape[3] % 2 == 0, let x = input.value as? Tensor<Float> else { return nil }
        _ = requireBuilt()
        _ = pool.requireBuilt()
        let mask = streamMask(&context.generator)
        let (poolSize, strides, padding) = (pool.poolSize, pool.strides, pool.padding)
        let recording = GradientRecording.isEnabled && input.requiresGradient
        let (output, indices) = x.maxPool2DOfDropout(
            mask, poolSize: poolSize, strides: strides, padding: padding, withIndices: recording)
        guard recording, let indices else { return Variable(output as! Tensor<Scalar>) }
        let inputShape = input.shape
        return Variable.record("dropout+maxPool2D", value: output as! Tensor<Scalar>, inputs: [input]) { g in
            [Tensor<Float>.maxPool2DOfDropoutBackward(
                gradient: g as! Tensor<Float>, indices: indices, inputShape: inputShape, poolSize: poolSize,
                strides: strides, padding: padding, mask: mask) as? Tensor<Scalar>]
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
        let maskShape = [input.shape[0], 1, 1, input.shape[3]]
        let mask: Tensor<Scalar> = dropoutMask(shape: maskShape, rate: rate, generator: &context.generator)
        return applyDropoutMask(input, mask, operation: "spatialDropout2D")
    }
}

/// `input * mask` (the mask broadcast to the input's shape), with gradient `g * mask`.
func applyDropoutMask<Scalar: TensorScalar>(
    _ input: Variable<Scalar>, _ mask: Tensor<Scalar>, operation: String
) -> Variable<Scalar> {
    Variable.record(operation, value: input.value * mask, inputs: [input]) { g in [g * mask] }
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
    if rate >= 1 { return Tensor.zeros(shape) }
    let (threshold, scale) = dropoutThreshold(rate: rate)
    let key = generator.next()
    return Tensor.buildUninitialized(shape: shape) { out in
        let count = shape.reduce(1, *)
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
