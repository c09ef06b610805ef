import Foundation

/// How a layer's weights start, with Keras's names and formulas. Every initializer draws from a
/// `SeededGenerator` (Tensor module), so a model built with the same seed starts from the same weights.
///
/// Fans follow Keras: for a kernel `[..., in, out]` (Dense `[in, out]`, Conv2D HWIO
/// `[kh, kw, in, out]`), `fanIn = in * receptive field` and `fanOut = out * receptive field`,
/// where the receptive field is the product of the leading dimensions. The values differ from
/// Keras's (another random generator) but follow the same distributions.
public enum Initializer: Sendable, Equatable {
    /// Uniform on `[-limit, limit]`, `limit = sqrt(6 / (fanIn + fanOut))` (the Keras default for
    /// Dense and Conv kernels).
    case glorotUniform
    /// Truncated normal (cut at two standard deviations), `stddev = sqrt(2 / (fanIn + fanOut))`.
    case glorotNormal
    /// Truncated normal, `stddev = sqrt(2 / fanIn)`.
    case heNormal
    /// Uniform on `[-limit, limit]`, `limit = sqrt(6 / fanIn)`.
    case heUniform
    /// All zeros (the Keras default for biases).
    case zeros
    /// All ones.
    case ones
    /// Every element equal to a value.
    case constant(Double)
    /// Uniform on `[lower, upper)`.
    case uniform(lower: Double, upper: Double)
    /// Normal with the given mean and standard deviation.
    case normal(mean: Double, standardDeviation: Double)
    /// A (semi-)orthogonal matrix scaled by `gain`, from the QR decomposition of a normal matrix
    /// (LAPACKE `?geqrf`/`?orgqr`), with the sign correction Keras applies; the kernel is
    /// viewed as `[prod(leading dims), last dim]`.
    case orthogonal(gain: Double)

    /// Keras's `fan_in` and `fan_out` for a weight of `shape`.
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        default:
            let receptive = shape.dropLast(2).reduce(1, *)
            return (shape[shape.count - 2] * receptive, shape[shape.count - 1] * receptive)
        }
    }

    /// A tensor of `shape` drawn from this initializer.
    public func make<Scalar: TensorScalar>(_ shape: [Int], generator: inout SeededGenerator) -> Tensor<Scalar> {
        let (fanIn, fanOut) = Self.fans(shape)
        switch self {
        case .glorotUniform:
            let limit = (6 / Double(fanIn + fanOut)).squareRoot()
            return Tensor.uniform(shape, lower: Scalar(-limit), upper: Scalar(limit), generator: &generator)
        case .glorotNormal:
            return Self.truncatedNormal(shape, standardDeviation: (2 / Double(fanIn + fanOut)).squareRoot(), generator: &generator)
        case .heNormal:
            return Self.truncatedNormal(shape, standardDeviation: (2 / Double(fanIn)).squareRoot(), generator: &generator)
        case .heUniform:
            let limit = (6 / Double(fanIn)).squareRoot()
            return Tensor.uniform(shape, lower: Scalar(-limit), upper: Scalar(limit), generator: &generator)
        case .zeros:
            return Tensor.zeros(shape)
        case .ones:
            return Tensor.ones(shape)
        case .constant(let value):
            return Tensor.full(shape, Scalar(value))
        case let .uniform(lower, upper):
            return Tensor.uniform(shape, lower: Scalar(lower), upper: Scalar(upper), generator: &generator)
        case let .normal(mean, standardDeviation):
            return Tensor.normal(shape, mean: Scalar(mean), standardDeviation: Scalar(standardDeviation), generator: &generator)
        case .orthogonal(let gain):
            return Self.orthogonal(shape, gain: gain, generator: &generator)
        }
    }

    /// Normal values redrawn until within two standard deviations, with the standard deviation
    /// divided by 0.87962566103423978 (the truncated distribution's spread) as Keras does.
    static func truncatedNormal<Scalar: TensorScalar>(
        _ shape: [Int], standardDeviation: Double, generator: inout SeededGenerator
    ) -> Tensor<Scalar> {
        let sigma = standardDeviation / 0.87962566103423978
        let n = shape.reduce(1, *)
        var values = [Scalar]()
        values.reserveCapacity(n)
        while values.count < n {
            let z = generator.nextStandardNormal()
            if Swift.abs(z) <= 2 { values.append(Scalar(z * sigma)) }
        }
        return Tensor(shape: shape, scalars: values)
    }

    static func orthogonal<Scalar: TensorScalar>(
        _ shape: [Int], gain: Double, generator: inout SeededGenerator
    ) -> Tensor<Scalar> {
        let columns = shape.last ?? 1
        let rows = shape.count <= 1 ? 1 : shape.dropLast().reduce(1, *)
        // QR of the taller orientation gives orthonormal columns; transpose back when wide.
        let tall = rows >= columns
        let (m, n) = tall ? (rows, columns) : (columns, rows)
        let a = Tensor<Double>.normal([m, n], generator: &generator)
        guard let (q, r) = try? a.qr() else {
            preconditionFailure("orthogonal initializer: QR of a random \(m)x\(n) matrix failed")
        }
        // Multiply column j of Q by sign(R[j, j]) so the result is uniformly distributed.
        var signs = [Double](repeating: 1, count: n)
        for j in 0..<n { signs[j] = r[j, j] < 0 ? -1 : 1 }
        var result = q * Tensor(signs) * gain
        if !tall { result = result.transposed() }
        return Tensor<Scalar>(result).reshaped(to: shape)
    }
}
