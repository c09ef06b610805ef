// Dropout layers: inverted dropout as in Keras (kept values scaled by 1 / (1 - rate)), active only in
// training mode, with masks drawn from the forward context's generator so a seeded run repeats.

/// Randomly sets a fraction `rate` of its input's elements to zero in training mode and scales the
/// rest by `1 / (1 - rate)`, so the expected value is unchanged (Keras `Dropout`, inverted dropout).
///
/// In inference mode the layer is the identity. The mask is drawn from the context's
/// ``ForwardContext/generator``: the same seed gives the same mask. An element is kept when its
/// uniform draw `u` in `[0, 1)` satisfies `u >= rate`.
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
        let mask: Tensor<Scalar> = dropoutMask(shape: input.shape, rate: rate, generator: &context.generator)
        return applyDropoutMask(input, mask, operation: "dropout")
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

/// A dropout mask of `shape`: each element is `1 / (1 - rate)` where its uniform draw `u` in
/// `[0, 1)` (53 bits of one generator step) satisfies `u >= rate`, else `0`. With `rate == 1`
/// every element is zero (Keras returns zeros).
func dropoutMask<Scalar: TensorScalar>(shape: [Int], rate: Double, generator: inout SeededGenerator) -> Tensor<Scalar> {
    if rate >= 1 { return Tensor.zeros(shape) }
    // u = k * 2^-53 >= rate  <=>  k >= ceil(rate * 2^53) (exact: scaling by a power of two).
    let threshold = UInt64((rate * 0x1.0p53).rounded(.up))
    let scale = 1 / (1 - rate)
    return Tensor.buildUninitialized(shape: shape) { out in
        let count = shape.reduce(1, *)
        if Scalar.self == Float.self {
            fillDropoutMask(UnsafeMutablePointer<Float>(OpaquePointer(out)), count, threshold, Float(scale), &generator)
        } else if Scalar.self == Double.self {
            fillDropoutMask(UnsafeMutablePointer<Double>(OpaquePointer(out)), count, threshold, scale, &generator)
        } else {
            fillDropoutMask(out, count, threshold, Scalar(scale), &generator)
        }
    }
}

@inline(__always)
private func fillDropoutMask<T: BinaryFloatingPoint>(
    _ out: UnsafeMutablePointer<T>, _ count: Int, _ threshold: UInt64, _ scale: T, _ generator: inout SeededGenerator
) {
    for i in 0..<count {
        out[i] = (generator.next() >> 11) >= threshold ? scale : 0
    }
}
