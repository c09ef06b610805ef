// Activation layers: Keras's `Activation`, `ReLU`, `LeakyReLU` and `Softmax` layers. They have no
// weights and keep the input's shape.

/// Applies an ``Activation`` elementwise (Keras `layers.Activation("sigmoid")`, ...).
public final class ActivationLayer<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Activation" }
    public private(set) var builtInputShape: [Int]?

    /// The activation applied.
    public let activation: Activation

    /// A layer applying `activation`.
    public init(_ activation: Activation, name: String = "") {
        self.activation = activation
        self.name = name
    }

    public var weights: [LayerWeight<Scalar>] { [] }
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    public func build(inputShape: [Int], generator: inout SeededGenerator) throws { builtInputShape = inputShape }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        return activation.apply(input)
    }
}

/// The rectified linear unit with Keras's options (Keras `ReLU` layer):
///
///     f(x) = min(x, maxValue)              for x > threshold
///     f(x) = negativeSlope * (x - threshold) for x <= threshold
///
/// With the defaults (no maximum, slope 0, threshold 0) it is `max(x, 0)`. As in Keras, when a
/// maximum is given the positive part is clipped to `[0, maxValue]`.
public final class ReLU<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "ReLU" }
    public private(set) var builtInputShape: [Int]?

    /// The largest output value, or `nil` for none.
    public let maxValue: Double?
    /// The slope below the threshold (Keras default 0).
    public let negativeSlope: Double
    /// The input value below which the output is damped (Keras default 0).
    public let threshold: Double

    /// A ReLU layer; `maxValue` and `negativeSlope` must not be negative.
    public init(maxValue: Double? = nil, negativeSlope: Double = 0, threshold: Double = 0, name: String = "") {
        if let maxValue { precondition(maxValue >= 0, "ReLU: maxValue must not be negative, got \(maxValue)") }
        precondition(negativeSlope >= 0, "ReLU: negativeSlope must not be negative, got \(negativeSlope)")
        self.maxValue = maxValue
        self.negativeSlope = negativeSlope
        self.threshold = threshold
        self.name = name
    }

    public var weights: [LayerWeight<Scalar>] { [] }
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    public func build(inputShape: [Int], generator: inout SeededGenerator) throws { builtInputShape = inputShape }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        if maxValue == nil && threshold == 0 {
            return negativeSlope == 0 ? input.relu() : input.leakyRelu(alpha: Scalar(negativeSlope))
        }
        let parameters = ReLUParameters(
            maxValue: maxValue.map { Scalar($0) }, negativeSlope: Scalar(negativeSlope), threshold: Scalar(threshold))
        let x = input.value
        let y = parameters.apply(x, gradient: nil)
        return Variable.record("relu", value: y, inputs: [input]) { g in [parameters.apply(x, gradient: g)] }
    }
}

/// `x` where positive, else `negativeSlope * x` (Keras `LeakyReLU`, default slope 0.3).
public final class LeakyReLU<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "LeakyReLU" }
    public private(set) var builtInputShape: [Int]?

    /// The slope for negative inputs (Keras default 0.3).
    public let negativeSlope: Double

    /// A leaky ReLU layer; `negativeSlope` must not be negative.
    public init(negativeSlope: Double = 0.3, name: String = "") {
        precondition(negativeSlope >= 0, "LeakyReLU: negativeSlope must not be negative, got \(negativeSlope)")
        self.negativeSlope = negativeSlope
        self.name = name
    }

    public var weights: [LayerWeight<Scalar>] { [] }
    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    public func build(inputShape: [Int], generator: inout SeededGenerator) throws { builtInputShape = inputShape }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        return input.leakyRelu(alpha: Scalar(negativeSlope))
    }
}

/// Softmax along an axis (Keras `Softmax` layer): every slice along `axis` becomes a probability
/// distribution. `axis` counts the batch axis as 0; `-1` (the default) is the last axis.
public final class Softmax<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "Softmax" }
    public private(set) var builtInputShape: [Int]?

    /// The axis of the batched input along which the softmax is taken.
    public let axis: Int

    /// A softmax layer along `axis`.
    public init(axis: Int = -1, name: String = "") {
        self.axis = axis
        self.name = name
    }

    public var weights: [LayerWeight<Scalar>] { [] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let rank = inputShape.count + 1
        guard axis >= -rank && axis < rank else {
            throw LayerError.incompatibleShape(
                layer: "Softmax '\(name)'", expected: "an input with axis \(axis) (rank \(rank) with the batch)", got: inputShape)
        }
        return inputShape
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        builtInputShape = inputShape
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        _ = requireBuilt()
        return input.softmax(alongAxis: axis)
    }
}

/// The general ReLU of Keras (`max_value`, `negative_slope`, `threshold`) and its derivative,
/// computed by one elementwise pass specialized for Float and Double.
struct ReLUParameters<Scalar: TensorScalar>: Sendable {
    let maxValue: Scalar?
    let negativeSlope: Scalar
    let threshold: Scalar

    /// `f(x)`, or `g * f'(x)` when a gradient `g` is given (`f'` is 1 or 0 on the positive part and
    /// `negativeSlope` below the threshold; at the threshold itself 0).
    func apply(_ x: Tensor<Scalar>, gradient: Tensor<Scalar>?) -> Tensor<Scalar> {
        if let gradient {
            precondition(gradient.shape == x.shape, "ReLU backward: gradient shape \(gradient.shape) differs from input shape \(x.shape)")
        }
        return x.withUnsafeBufferPointer { xb in
            (gradient ?? x).withUnsafeBufferPointer { gb in
                Tensor<Scalar>.buildUninitialized(shape: x.shape) { out in
                    guard let xp = xb.baseAddress, let gp = gb.baseAddress else { return }
                    let g = gradient == nil ? nil : gp
                    if Scalar.self == Float.self {
                        reluKernel(
                            UnsafePointer<Float>(OpaquePointer(xp)), g.map { UnsafePointer<Float>(OpaquePointer($0)) },
                            UnsafeMutablePointer<Float>(OpaquePointer(out)), xb.count,
                            maxValue.map { Float($0) }, Float(negativeSlope), Float(threshold))
                    } else if Scalar.self == Double.self {
                        reluKernel(
                            UnsafePointer<Double>(OpaquePointer(xp)), g.map { UnsafePointer<Double>(OpaquePointer($0)) },
                            UnsafeMutablePointer<Double>(OpaquePointer(out)), xb.count,
                            maxValue.map { Double($0) }, Double(negativeSlope), Double(threshold))
                    } else {
                        reluKernel(xp, g, out, xb.count, maxValue, negativeSlope, threshold)
                    }
                }
            }
        }
    }
}

/// Keras's `relu(x, negative_slope, max_value, threshold)`:
/// `pos = x > threshold ? x : 0`, clipped to `[0, maxValue]` when there is a maximum, minus
/// `slope * max(threshold - x, 0)`; or, given `g`, `g` times its derivative.
@inline(__always)
private func reluKernel<T: BinaryFloatingPoint>(
    _ x: UnsafePointer<T>, _ g: UnsafePointer<T>?, _ out: UnsafeMutablePointer<T>, _ count: Int,
    _ maxValue: T?, _ slope: T, _ threshold: T
) {
    let upper = maxValue ?? T.infinity
    let lower: T = maxValue == nil ? -T.infinity : 0
    if let g {
        for i in 0..<count {
            let v = x[i]
            let positive: T = v > threshold && v >= lower && v <= upper ? 1 : 0
            out[i] = g[i] * (v < threshold ? slope : positive)
        }
    } else {
        for i in 0..<count {
            let v = x[i]
            let positive = Swift.min(Swift.max(v > threshold ? v : 0, lower), upper)
            let below = threshold - v
            out[i] = positive - slope * (below > 0 ? below : 0)
        }
    }
}
