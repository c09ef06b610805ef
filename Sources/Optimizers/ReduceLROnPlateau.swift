/// The logic of Keras's `ReduceLROnPlateau` callback: feed it the monitored value once per epoch and
/// it returns the learning rate to use next, multiplied by `factor` after `patience` epochs without
/// improvement.
///
/// The training loop's callback owns one of these and applies the returned rate to its optimizer:
/// ```swift
/// var plateau = ReduceLROnPlateau(factor: 0.5, patience: 3)
/// // at the end of each epoch:
/// optimizer.learningRate = plateau.update(monitorValue: validationLoss, learningRate: optimizer.learningRate)
/// ```
///
/// Per epoch, exactly as Keras 3.15 (`on_epoch_end`):
/// 1. in cooldown, the cooldown counter drops by one and the wait count resets;
/// 2. an improvement (`value < best - minDelta` in `.min` mode, `value > best + minDelta` in `.max`
///    mode; the first value always counts) becomes the new best and resets the wait count;
/// 3. otherwise, outside cooldown, the wait count grows, and when it reaches `patience` the rate
///    becomes `max(rate * factor, minLearningRate)` provided the rate exceeds `minLearningRate`
///    (compared, as Keras does, with `minLearningRate` rounded to `Float`); after a reduction the
///    cooldown starts and the wait count resets.
///
/// A NaN value never improves on the best (and a NaN first value makes every later one fail), as in
/// Keras.
public struct ReduceLROnPlateau: Sendable, Equatable {
    /// Whether smaller (`.min`, for losses) or larger (`.max`, for accuracy or AUC) values are better.
    public enum Mode: String, Sendable, Equatable {
        /// Smaller is better.
        case min
        /// Larger is better.
        case max
    }

    /// The multiplier applied to the rate at a reduction, in `[0, 1)`.
    public let factor: Double
    /// Epochs without improvement before a reduction.
    public let patience: Int
    /// Whether smaller or larger values are better.
    public let mode: Mode
    /// The least change that counts as an improvement (its absolute value is used).
    public let minDelta: Double
    /// Epochs after a reduction during which waiting is suspended.
    public let cooldown: Int
    /// The floor of the learning rate.
    public let minLearningRate: Double

    /// The best value seen so far (nil before the first).
    public private(set) var best: Double?
    /// Epochs since the last improvement (or reduction).
    public private(set) var wait = 0
    /// Epochs of cooldown left.
    public private(set) var cooldownCounter = 0

    /// Keras's `ReduceLROnPlateau(factor=0.1, patience=10, mode, min_delta=1e-4, cooldown=0, min_lr=0.0)`
    /// (Keras's `mode="auto"` picks `.min` for a loss, which is this default).
    public init(
        factor: Double = 0.1, patience: Int = 10, mode: Mode = .min, minDelta: Double = 1e-4, cooldown: Int = 0,
        minLearningRate: Double = 0
    ) {
        precondition(factor >= 0 && factor < 1, "ReduceLROnPlateau: factor must be in [0, 1), got \(factor)")
        precondition(patience >= 0, "ReduceLROnPlateau: patience must be non-negative, got \(patience)")
        precondition(cooldown >= 0, "ReduceLROnPlateau: cooldown must be non-negative, got \(cooldown)")
        precondition(minLearningRate >= 0, "ReduceLROnPlateau: minLearningRate must be non-negative, got \(minLearningRate)")
        self.factor = factor
        self.patience = patience
        self.mode = mode
        self.minDelta = Swift.abs(minDelta)
        self.cooldown = cooldown
        self.minLearningRate = minLearningRate
    }

    /// Whether a cooldown is running.
    public var isInCooldown: Bool { cooldownCounter > 0 }

    /// Forgets the best value and the counters (Keras `on_train_begin`).
    public mutating func reset() {
        best = nil
        wait = 0
        cooldownCounter = 0
    }

    /// Whether `value` improves on `best` by more than `minDelta`.
    public func isImprovement(_ value: Double) -> Bool {
        guard let best else { return true }
        switch mode {
        case .min: return value - (-minDelta) < best
        case .max: return value - minDelta > best
        }
    }

    /// Records one epoch's monitored value and returns the learning rate for the next epoch
    /// (`learningRate` itself unless this epoch triggers a reduction).
    public mutating func update(monitorValue value: Double, learningRate: Double) -> Double {
        if isInCooldown {
            cooldownCounter -= 1
            wait = 0
        }
        if isImprovement(value) {
            best = value
            wait = 0
            return learningRate
        }
        guard !isInCooldown else { return learningRate }
        wait += 1
        guard wait >= patience else { return learningRate }
        // Keras compares the current rate with np.float32(min_lr).
        guard learningRate > Double(Float(minLearningRate)) else { return learningRate }
        cooldownCounter = cooldown
        wait = 0
        return Swift.max(learningRate * factor, minLearningRate)
    }
}
