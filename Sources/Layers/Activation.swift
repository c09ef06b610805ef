/// An activation applied elementwise after a layer's affine map (Keras's `activation=` argument).
public enum Activation: Sendable, Equatable {
    /// The identity (Keras `None` / `"linear"`).
    case linear
    /// `max(x, 0)`.
    case relu
    /// The logistic sigmoid.
    case sigmoid
    /// Hyperbolic tangent.
    case tanh
    /// Softmax over the last axis.
    case softmax
    /// `x` where positive, else `alpha * x` (Keras's default `alpha` is 0.3).
    case leakyRelu(alpha: Double)

    /// The activation applied to `x`.
    public func apply<Scalar: TensorScalar>(_ x: Variable<Scalar>) -> Variable<Scalar> {
        switch self {
        case .linear: return x
        case .relu: return x.relu()
        case .sigmoid: return x.sigmoid()
        case .tanh: return x.tanh()
        case .softmax: return x.softmax(alongAxis: -1)
        case .leakyRelu(let alpha): return x.leakyRelu(alpha: Scalar(alpha))
        }
    }

    /// The name Keras prints for this activation.
    public var kerasName: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .softmax: return "softmax"
        case .leakyRelu: return "leaky_relu"
        }
    }
}
