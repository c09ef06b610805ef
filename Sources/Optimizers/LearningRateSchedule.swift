import Foundation

/// A learning rate that depends on the update step, as Keras's
/// `keras.optimizers.schedules.LearningRateSchedule`.
///
/// An optimizer given a schedule evaluates it at its ``Optimizer/iterations`` before each update
/// (step 0 for the first update), so the step counts batches, not epochs. To change the rate per
/// epoch instead, set ``Optimizer/learningRate`` from the training loop.
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for update number `step` (0-based).
    func learningRate(step: Int) -> Double
}

/// A piecewise constant rate (Keras `PiecewiseConstantDecay`): `values[0]` while
/// `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <= boundaries[i]`, and
/// `values.last` once `step > boundaries.last`.
public struct PiecewiseConstantDecay: LearningRateSchedule, Equatable {
    /// Strictly increasing step boundaries.
    public let boundaries: [Int]
    /// One more value than boundaries.
    public let values: [Double]

    /// A schedule stepping through `values` at `boundaries`.
    public init(boundaries: [Int], values: [Double]) {
        precondition(
            values.count == boundaries.count + 1,
            "PiecewiseConstantDecay: \(values.count) values for \(boundaries.count) boundaries (needs one more value than boundaries)")
        precondition(zip(boundaries, boundaries.dropFirst()).allSatisfy { $0 < $1 }, "PiecewiseConstantDecay: boundaries \(boundaries) must be strictly increasing")
        self.boundaries = boundaries
        self.values = values
    }

    /// The rate for update number `step`.
    public func learningRate(step: Int) -> Double {
        // The first boundary the step does not exceed selects the value.
        for (i, b) in boundaries.enumerated() where step <= b {
            return values[i]
        }
        return values[values.count - 1]
    }
}

/// A rate multiplied by `factor` every `stepSize` steps:
/// `initialLearningRate * factor^floor(step / stepSize)` (the "step decay" of many tutorials; the
/// same values as Keras `ExponentialDecay(..., staircase=True)`).
public struct StepDecay: LearningRateSchedule, Equatable {
    /// The rate for the first `stepSize` steps.
    public let initialLearningRate: Double
    /// Steps between drops.
    public let stepSize: Int
    /// The multiplier applied at each drop (for example 0.5).
    public let factor: Double

    /// A schedule dropping by `factor` every `stepSize` steps.
    public init(initialLearningRate: Double, stepSize: Int, factor: Double) {
        precondition(stepSize > 0, "StepDecay: stepSize must be positive, got \(stepSize)")
        self.initialLearningRate = initialLearningRate
        self.stepSize = stepSize
        self.factor = factor
    }

    /// The rate for update number `step`.
    public func learningRate(step: Int) -> Double {
        initialLearningRate * pow(factor, Double((step / stepSize)))
    }
}

/// Exponential decay (Keras `ExponentialDecay`):
/// `initialLearningRate * decayRate^(step / decaySteps)`, with the exponent floored when
/// `staircase` is true.
public struct ExponentialDecay: LearningRateSchedule, Equatable {
    /// The rate at step 0.
    public let initialLearningRate: Double
    /// The steps over which the rate is multiplied by `decayRate` once.
    public let decaySteps: Int
    /// The multiplier per `decaySteps` steps.
    public let decayRate: Double
    /// Whether the rate changes in steps (integer exponent) rather than continuously.
    public let staircase: Bool

    /// Keras's `ExponentialDecay(initial_learning_rate, decay_steps, decay_rate, staircase=False)`.
    public init(initialLearningRate: Double, decaySteps: Int, decayRate: Double, staircase: Bool = false) {
        precondition(decaySteps > 0, "ExponentialDecay: decaySteps must be positive, got \(decaySteps)")
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.decayRate = decayRate
        self.staircase = staircase
    }

    /// The rate for update number `step`.
    public func learningRate(step: Int) -> Double {
        var p = Double(step) / Double(decaySteps)
        if staircase { p = p.rounded(.down) }
        return initialLearningRate * pow(decayRate, p)
    }
}

/// Cosine decay with optional linear warmup (Keras `CosineDecay`).
///
/// Without warmup (`warmupTarget == nil`): with `s = min(step, decaySteps)`,
/// `initialLearningRate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decaySteps)) + alpha)`, so the rate
/// falls from `initialLearningRate` to `alpha * initialLearningRate` and stays there.
///
/// With warmup: for `step < warmupSteps` the rate rises linearly from `initialLearningRate` to
/// `warmupTarget`; then the cosine decay above runs from `warmupTarget` over the next `decaySteps`
/// steps, ending at `alpha * warmupTarget`.
public struct CosineDecay: LearningRateSchedule, Equatable {
    /// The rate at step 0 (the start of the warmup when there is one).
    public let initialLearningRate: Double
    /// The length of the cosine decay in steps.
    public let decaySteps: Int
    /// The final rate as a fraction of the rate the decay starts from.
    public let alpha: Double
    /// The rate the warmup reaches and the decay starts from; nil for no warmup.
    public let warmupTarget: Double?
    /// The length of the warmup in steps (used only with a `warmupTarget`).
    public let warmupSteps: Int

    /// Keras's `CosineDecay(initial_learning_rate, decay_steps, alpha=0.0, warmup_target=None, warmup_steps=0)`.
    public init(initialLearningRate: Double, decaySteps: Int, alpha: Double = 0, warmupTarget: Double? = nil, warmupSteps: Int = 0) {
        precondition(decaySteps > 0, "CosineDecay: decaySteps must be positive, got \(decaySteps)")
        precondition(warmupSteps >= 0, "CosineDecay: warmupSteps must be non-negative, got \(warmupSteps)")
        self.initialLearningRate = initialLearningRate
        self.decaySteps = decaySteps
        self.alpha = alpha
        self.warmupTarget = warmupTarget
        self.warmupSteps = warmupSteps
    }

    /// The rate for update number `step`.
    public func learningRate(step: Int) -> Double {
        let decay = Double(decaySteps)
        guard let target = warmupTarget else {
            return decayed(Swift.min(Double(step), decay), from: initialLearningRate)
        }
        let warmup = Double(warmupSteps)
        let s = Swift.min(Double(step), decay + warmup)
        if s < warmup {
            return (target - initialLearningRate) * (s / warmup) + initialLearningRate
        }
        return decayed(s - warmup, from: target)
    }

    /// Keras `_decay_function`.
    private func decayed(_ step: Double, from rate: Double) -> Double {
        let fraction = step / Double(decaySteps)
        let cosine = 0.5 * (1.0 + cos(Double.pi * fraction))
        return rate * ((1 - alpha) * cosine + alpha)
    }
}
