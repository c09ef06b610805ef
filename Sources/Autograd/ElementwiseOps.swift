// Differentiable elementwise operations. Each op's forward computation and backward rule sit
// together; gradients of broadcast operands are summed back to the operand's shape.

extension Variable {
    /// A constant (no gradient) holding `value`.
    public static func constant(_ value: Tensor<Scalar>) -> Variable { Variable(value) }

    /// Applies a unary map whose derivative is `derivative(x, y)` (input and output), elementwise.
    func unary(
        _ name: String, _ op: UnaryOp<Scalar>,
        derivative: @escaping (_ x: Tensor<Scalar>, _ y: Tensor<Scalar>) -> Tensor<Scalar>
    ) -> Variable {
        let x = value
        let y = x.map(op)
        return Variable.record(name, value: y, inputs: [self]) { g in [g * derivative(x, y)] }
    }

    /// `e^x` elementwise.
    public func exp() -> Variable { unary("exp", .exp) { _, y in y } }
    /// Natural logarithm elementwise.
    public func log() -> Variable { unary("log", .log) { x, _ in x.map(.reciprocal) } }
    /// Square root elementwise.
    public func sqrt() -> Variable { unary("sqrt", .sqrt) { _, y in (y * 2).map(.reciprocal) } }
    /// `x * x` elementwise.
    public func squared() -> Variable { unary("square", .square) { x, _ in x * 2 } }
    /// `x^p` for a fixed exponent.
    public func pow(_ p: Scalar) -> Variable {
        unary("pow", .power(p)) { x, _ in x.pow(p - 1) * p }
    }
    /// Hyperbolic tangent elementwise.
    public func tanh() -> Variable { unary("tanh", .tanh) { _, y in 1 - y.squared() } }
    /// Logistic sigmoid elementwise.
    public func sigmoid() -> Variable { unary("sigmoid", .sigmoid) { _, y in y * (1 - y) } }
    /// `max(x, 0)` elementwise (gradient 0 at 0, as in PyTorch and TensorFlow).
    /// Backward masks the gradient with the output in one pass (`Tensor.reluBackward(gradient:output:)`).
    public func relu() -> Variable {
        let y = value.relu()
        return Variable.record("relu", value: y, inputs: [self]) { g in [Tensor.reluBackward(gradient: g, output: y)] }
    }
    /// `x` where positive, else `alpha * x`.
    public func leakyRelu(alpha: Scalar = 0.3) -> Variable {
        unary("leakyRelu", .leakyRelu(alpha: alpha)) { x, _ in x.map(.step).map(.affine(scale: 1 - alpha, shift: alpha)) }
    }
    /// `log(1 + e^x)` elementwise (its derivative is the sigmoid).
    public func softplus() -> Variable { unary("softplus", .softplus) { x, _ in x.sigmoid() } }
    /// Absolute value (gradient 0 at 0).
    public func abs() -> Variable { unary("abs", .abs) { x, _ in x.map(.sign) } }
    /// Every element limited to `range` (gradient 1 strictly inside, 0 where clamped).
    public func clamped(to range: ClosedRange<Scalar>) -> Variable {
        unary("clamp", .clamp(lower: range.lowerBound, upper: range.upperBound)) { x, _ in
            x.isGreater(than: Tensor(range.lowerBound)) * x.isLess(than: Tensor(range.upperBound))
        }
    }

    /// Elementwise maximum with broadcasting; on ties the gradient goes to `self`.
    public func maximum(_ other: Variable) -> Variable {
        let a = value, b = other.value
        return Variable.record("maximum", value: a.maximum(b), inputs: [self, other]) { g in
            let mask = a.isGreaterOrEqual(to: b)
            return [(g * mask).sum(toShape: a.shape), (g * (1 - mask)).sum(toShape: b.shape)]
        }
    }

    /// Elementwise minimum with broadcasting; on ties the gradient goes to `self`.
    public func minimum(_ other: Variable) -> Variable {
        let a = value, b = other.value
        return Variable.record("minimum", value: a.minimum(b), inputs: [self, other]) { g in
            let mask = a.isLessOrEqual(to: b)
            return [(g * mask).sum(toShape: a.shape), (g * (1 - mask)).sum(toShape: b.shape)]
        }
    }

    // MARK: Operators

    /// Elementwise sum with broadcasting.
    public static func + (lhs: Variable, rhs: Variable) -> Variable {
        let (sa, sb) = (lhs.shape, rhs.shape)
        return record("add", value: lhs.value + rhs.value, inputs: [lhs, rhs]) { g in
            [g.sum(toShape: sa), g.sum(toShape: sb)]
        }
    }

    /// Elementwise difference with broadcasting.
    public static func - (lhs: Variable, rhs: Variable) -> Variable {
        let (sa, sb) = (lhs.shape, rhs.shape)
        return record("subtract", value: lhs.value - rhs.value, inputs: [lhs, rhs]) { g in
            [g.sum(toShape: sa), (-g).sum(toShape: sb)]
        }
    }

    /// Elementwise product with broadcasting.
    public static func * (lhs: Variable, rhs: Variable) -> Variable {
        let (a, b) = (lhs.value, rhs.value)
        return record("multiply", value: a * b, inputs: [lhs, rhs]) { g in
            [(g * b).sum(toShape: a.shape), (g * a).sum(toShape: b.shape)]
        }
    }

    /// Elementwise quotient with broadcasting.
    public static func / (lhs: Variable, rhs: Variable) -> Variable {
        let (a, b) = (lhs.value, rhs.value)
        let y = a / b
        return record("divide", value: y, inputs: [lhs, rhs]) { g in
            let ga = g / b
            return [ga.sum(toShape: a.shape), (-(ga * y)).sum(toShape: b.shape)]
        }
    }

    /// Elementwise negation.
    public static prefix func - (x: Variable) -> Variable {
        record("negate", value: -x.value, inputs: [x]) { g in [-g] }
    }

    /// Adds a constant scalar.
    public static func + (lhs: Variable, rhs: Scalar) -> Variable {
        record("addScalar", value: lhs.value + rhs, inputs: [lhs]) { g in [g] }
    }
    /// Adds a constant scalar.
    public static func + (lhs: Scalar, rhs: Variable) -> Variable { rhs + lhs }
    /// Subtracts a constant scalar.
    public static func - (lhs: Variable, rhs: Scalar) -> Variable { lhs + (-rhs) }
    /// `lhs - x` for a constant scalar `lhs`.
    public static func - (lhs: Scalar, rhs: Variable) -> Variable {
        record("scalarSubtract", value: lhs - rhs.value, inputs: [rhs]) { g in [-g] }
    }
    /// Multiplies by a constant scalar.
    public static func * (lhs: Variable, rhs: Scalar) -> Variable {
        record("multiplyScalar", value: lhs.value * rhs, inputs: [lhs]) { g in [g * rhs] }
    }
    /// Multiplies by a constant scalar.
    public static func * (lhs: Scalar, rhs: Variable) -> Variable { rhs * lhs }
    /// Divides by a constant scalar.
    public static func / (lhs: Variable, rhs: Scalar) -> Variable { lhs * (1 / rhs) }

    /// Adds a constant tensor (broadcasting).
    public static func + (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs + Variable(rhs) }
    /// Subtracts a constant tensor (broadcasting).
    public static func - (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs - Variable(rhs) }
    /// Multiplies by a constant tensor (broadcasting).
    public static func * (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs * Variable(rhs) }
    /// Divides by a constant tensor (broadcasting).
    public static func / (lhs: Variable, rhs: Tensor<Scalar>) -> Variable { lhs / Variable(rhs) }
}
