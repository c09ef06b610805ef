import Foundation

/// What callbacks see and may change during ``Trainer/fit(x:y:epochs:batchSize:validationData:classWeights:shuffle:callbacks:initialEpoch:history:)``.
public final class TrainingState<Scalar: TensorScalar> {
    /// The model being trained.
    public let model: any Layer<Scalar>
    /// The optimizer (callbacks may change its learning rate).
    public let optimizer: any Optimizer<Scalar>
    /// The history so far.
    public internal(set) var history: History
    /// The epoch in progress or just finished (1-based, as printed).
    public internal(set) var epoch: Int = 0
    /// The total number of epochs requested.
    public let epochs: Int
    /// Set by a callback to end training after the current epoch.
    public var stopTraining = false
    /// Where callbacks print their messages.
    public let reporter: ProgressReporter
    /// The seed of the run's data order and dropout masks.
    public let seed: UInt64

    init(
        model: any Layer<Scalar>, optimizer: any Optimizer<Scalar>, history: History, epochs: Int,
        reporter: ProgressReporter, seed: UInt64
    ) {
        self.seed = seed
        self.model = model
        self.optimizer = optimizer
        self.history = history
        self.epochs = epochs
        self.reporter = reporter
    }
}

/// Hooks into the training loop (Keras `keras.callbacks.Callback`). Every method has a default
/// that does nothing.
public protocol Callback<Scalar>: AnyObject {
    /// The element type of the model being trained.
    associatedtype Scalar: TensorScalar
    /// Before the first epoch.
    func trainBegin(_ state: TrainingState<Scalar>) throws
    /// Before each epoch (1-based).
    func epochBegin(_ epoch: Int, state: TrainingState<Scalar>) throws
    /// After each epoch, with its logs (training and validation metrics, learning rate).
    func epochEnd(_ epoch: Int, logs: [String: Double], state: TrainingState<Scalar>) throws
    /// After the last epoch (also when stopped early).
    func trainEnd(_ state: TrainingState<Scalar>) throws
}

extension Callback {
    public func trainBegin(_ state: TrainingState<Scalar>) throws {}
    public func epochBegin(_ epoch: Int, state: TrainingState<Scalar>) throws {}
    public func epochEnd(_ epoch: Int, logs: [String: Double], state: TrainingState<Scalar>) throws {}
    public func trainEnd(_ state: TrainingState<Scalar>) throws {}
}

/// Whether a monitored quantity improves when it goes down (`loss`) or up (`accuracy`, `auc`).
public enum MonitorMode: String, Sendable, Codable {
    /// Lower is better.
    case min
    /// Higher is better.
    case max
    /// `max` for names containing `acc`, `auc`, `precision`, `recall`, `f1` or `specificity`
    /// (Keras's rule), `min` otherwise.
    case auto

    /// The concrete mode for `monitor`.
    public func resolved(for monitor: String) -> MonitorMode {
        guard self == .auto else { return self }
        let higherIsBetter = ["acc", "auc", "precision", "recall", "f1", "specificity", "sensitivity"]
        return higherIsBetter.contains { monitor.contains($0) } ? .max : .min
    }

    /// Whether `value` beats `best` by more than `minDelta`.
    func improves(_ value: Double, over best: Double, minDelta: Double) -> Bool {
        switch self {
        case .max: return value > best + minDelta
        default: return value < best - minDelta
        }
    }
}

/// Errors raised by callbacks.
public enum CallbackError: Error, CustomStringConvertible {
    /// The monitored key is not in the epoch's logs.
    case missingMonitor(String, available: [String])

    public var description: String {
        switch self {
        case let .missingMonitor(key, available):
            return "callback monitors '\(key)', which is not in the logs (available: \(available.joined(separator: ", ")))"
        }
    }
}

/// The value of `monitor` in `logs`, thrown as a clear error when absent.
func monitoredValue(_ monitor: String, in logs: [String: Double]) throws -> Double {
    guard let v = logs[monitor] else { throw CallbackError.missingMonitor(monitor, available: logs.keys.sorted()) }
    return v
}

/// Stops training when a monitored metric has stopped improving (Keras `EarlyStopping`,
/// same defaults: monitor `val_loss`, minDelta 0, patience 0, restoreBestWeights false).
public final class EarlyStopping<Scalar: TensorScalar>: Callback {
    /// The log key watched.
    public let monitor: String
    /// The smallest change that counts as an improvement.
    public let minDelta: Double
    /// Epochs without improvement before stopping.
    public let patience: Int
    /// Whether lower or higher is better.
    public let mode: MonitorMode
    /// Whether to restore the weights of the best epoch when training ends.
    public let restoreBestWeights: Bool
    /// The best value seen and its epoch.
    public private(set) var best: (value: Double, epoch: Int)?
    /// The epoch training stopped at, if it stopped early.
    public private(set) var stoppedEpoch: Int?
    private var wait = 0
    private var bestWeights: [Tensor<Scalar>]?

    /// Early stopping on `monitor`.
    public init(
        monitor: String = "val_loss", minDelta: Double = 0, patience: Int = 0, mode: MonitorMode = .auto,
        restoreBestWeights: Bool = false
    ) {
        self.monitor = monitor
        self.minDelta = abs(minDelta)
        self.patience = patience
        self.mode = mode.resolved(for: monitor)
        self.restoreBestWeights = restoreBestWeights
    }

    public func trainBegin(_ state: TrainingState<Scalar>) throws {
        best = nil
        wait = 0
        stoppedEpoch = nil
        bestWeights = nil
    }

    public func epochEnd(_ epoch: Int, logs: [String: Double], state: TrainingState<Scalar>) throws {
        let value = try monitoredValue(monitor, in: logs)
        if best == nil || mode.improves(value, over: best!.value, minDelta: minDelta) {
            best = (value, epoch)
            wait = 0
            if restoreBestWeights {
                bestWeights = state.model.namedWeights.map { $0.weight.variable.value }
            }
            return
        }
        wait += 1
        // Keras stops after `patience` epochs without improvement (its `wait >= patience`).
        if wait >= patience {
            stoppedEpoch = epoch
            state.stopTraining = true
            state.reporter.message("Epoch \(epoch): early stopping (best \(monitor) \(best!.value) at epoch \(best!.epoch))")
        }
    }

    public func trainEnd(_ state: TrainingState<Scalar>) throws {
        guard restoreBestWeights, let bestWeights, let best else { return }
        for (named, value) in zip(state.model.namedWeights, bestWeights) {
            named.weight.variable.value = value
        }
        state.reporter.message("Restoring model weights from the end of the best epoch: \(best.epoch)")
    }
}

/// Saves the model's weights after an epoch, every epoch or only when the monitored metric
/// improves (Keras `ModelCheckpoint` with `save_weights_only=True`), atomically in the
/// safetensors format, with the epoch and the monitored value in the metadata.
public final class ModelCheckpoint<Scalar: TensorScalar>: Callback {
    /// Where the weights go.
    public let url: URL
    /// The log key watched when ``saveBestOnly``.
    public let monitor: String
    /// Whether to save only when the monitored value improves.
    public let saveBestOnly: Bool
    /// Whether lower or higher is better.
    public let mode: MonitorMode
    /// Extra metadata stored with every save.
    public var metadata: [String: String]
    /// The best monitored value saved so far.
    public private(set) var best: Double?

    /// A checkpoint writer.
    public init(
        url: URL, monitor: String = "val_loss", saveBestOnly: Bool = false, mode: MonitorMode = .auto,
        metadata: [String: String] = [:]
    ) {
        self.url = url
        self.monitor = monitor
        self.saveBestOnly = saveBestOnly
        self.mode = mode.resolved(for: monitor)
        self.metadata = metadata
    }

    public func epochEnd(_ epoch: Int, logs: [String: Double], state: TrainingState<Scalar>) throws {
        var meta = metadata
        meta["epoch"] = String(epoch)
        if saveBestOnly {
            let value = try monitoredValue(monitor, in: logs)
            if let best, !mode.improves(value, over: best, minDelta: 0) { return }
            best = value
            meta[monitor] = String(value)
        }
        try state.model.saveWeights(to: url, metadata: meta)
    }
}

/// Sets the learning rate at the start of every epoch from a function of the epoch (1-based) and
/// the current rate (Keras `LearningRateScheduler`).
public final class LearningRateScheduler<Scalar: TensorScalar>: Callback {
    private let schedule: (Int, Double) -> Double

    /// A scheduler calling `schedule(epoch, currentRate)`.
    public init(_ schedule: @escaping (_ epoch: Int, _ learningRate: Double) -> Double) {
        self.schedule = schedule
    }

    public func epochBegin(_ epoch: Int, state: TrainingState<Scalar>) throws {
        state.optimizer.learningRate = schedule(epoch, state.optimizer.learningRate)
    }
}

/// Writes the history to a CSV file after every epoch (Keras `CSVLogger`), atomically, so the
/// file is complete even if training is interrupted.
public final class CSVLogger<Scalar: TensorScalar>: Callback {
    /// The file written.
    public let url: URL

    /// A logger writing to `url`.
    public init(url: URL) { self.url = url }

    public func epochEnd(_ epoch: Int, logs: [String: Double], state: TrainingState<Scalar>) throws {
        var history = state.history
        if history.epochs.last != epoch { history.record(epoch: epoch, logs: logs) }
        try history.writeCSV(to: url)
    }
}
