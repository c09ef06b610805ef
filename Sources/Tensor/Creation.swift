extension Tensor {
    /// A tensor of `shape` whose elements are not initialized (arbitrary bits), for storage that
    /// a kernel then overwrites completely (the destination of an `into:` entry point).
    package static func uninitialized(_ shape: [Int]) -> Tensor {
        buildUninitialized(shape: shape) { _ in }
    }

    /// A tensor of `shape` filled with zeros.
    public static func zeros(_ shape: [Int]) -> Tensor {
        build(shape: shape) { _ in }
    }

    /// A tensor of `shape` filled with ones.
    public static func ones(_ shape: [Int]) -> Tensor {
        full(shape, 1)
    }

    /// A tensor of `shape` with every element equal to `value`.
    public static func full(_ shape: [Int], _ value: Scalar) -> Tensor {
        Tensor(shape: shape, scalars: [Scalar](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros with the shape of `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// Values from `start` up to but excluding `end`, spaced by `step` (like `numpy.arange`).
    public static func arange(_ start: Scalar, _ end: Scalar, step: Scalar = 1) -> Tensor {
        precondition(step != 0, "Tensor.arange: step must not be zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor([Scalar]((0..<n).map { start + Scalar($0) * step }))
    }

    /// `count` evenly spaced values from `start` through `end` inclusive (like `numpy.linspace`).
    public static func linspace(_ start: Scalar, _ end: Scalar, count: Int) -> Tensor {
        precondition(count >= 0, "Tensor.linspace: count \(count) must not be negative")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Scalar(count - 1)
        return Tensor((0..<count).map { $0 == count - 1 ? end : start + Scalar($0) * step })
    }

    /// The `n x n` identity matrix.
    public static func identity(_ n: Int) -> Tensor {
        var t = zeros([n, n])
        for i in 0..<n { t.scalars[i * n + i] = 1 }
        return t
    }

    /// Values drawn uniformly from `[lower, upper)` with a ``SeededGenerator``.
    public static func uniform(
        _ shape: [Int], lower: Scalar = 0, upper: Scalar = 1, generator: inout SeededGenerator
    ) -> Tensor {
        let n = shape.reduce(1, *)
        let width = upper - lower
        var scalars = [Scalar]()
        scalars.reserveCapacity(n)
        if Scalar.self == Float.self {
            for _ in 0..<n { scalars.append(lower + width * Scalar(generator.nextUnitFloat())) }
        } else {
            for _ in 0..<n { scalars.append(lower + width * Scalar(generator.nextUnitDouble())) }
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Values drawn from a normal distribution with a ``SeededGenerator``.
    public static func normal(
        _ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, generator: inout SeededGenerator
    ) -> Tensor {
        let n = shape.reduce(1, *)
        var scalars = [Scalar]()
        scalars.reserveCapacity(n)
        for _ in 0..<n { scalars.append(mean + standardDeviation * Scalar(generator.nextStandardNormal())) }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Values drawn uniformly from `[lower, upper)`, seeded by `seed`.
    public static func uniform(_ shape: [Int], lower: Scalar = 0, upper: Scalar = 1, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return uniform(shape, lower: lower, upper: upper, generator: &generator)
    }

    /// Values drawn from a normal distribution, seeded by `seed`.
    public static func normal(_ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return normal(shape, mean: mean, standardDeviation: standardDeviation, generator: &generator)
    }
}
