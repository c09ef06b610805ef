import Foundation

/// A complete training checkpoint in one safetensors file: the model's weights under their names,
/// the optimizer's state under `optimizer/<key>`, and in the metadata the epoch reached, the seed,
/// the history so far (JSON) and the optimizer's configuration. Loading it and continuing with the
/// same seed reproduces the uninterrupted run exactly.
public enum TrainingCheckpoint {
    /// The metadata value of `format` that identifies a training checkpoint.
    public static let format = "swift-deep-learning/training-checkpoint-v1"

    /// What a checkpoint restores besides the weights.
    public struct Progress: Equatable, Sendable {
        /// The last completed epoch (continue with `initialEpoch: epoch`).
        public let epoch: Int
        /// The seed the run used.
        public let seed: UInt64
        /// The history up to `epoch`.
        public let history: History
        /// The file's metadata (including user entries).
        public let metadata: [String: String]
    }

    /// Saves model weights, optimizer state and progress to `url` atomically.
    public static func save<Scalar: TensorScalar>(
        model: any Layer<Scalar>, optimizer: any Optimizer<Scalar>, epoch: Int, seed: UInt64, history: History,
        metadata: [String: String] = [:], to url: URL
    ) throws {
        var file = SafeTensorsFile(tensors: try model.weightTensors(), metadata: metadata)
        for (key, tensor) in optimizer.stateTensors() {
            file["optimizer/" + key] = SafeTensor(tensor)
        }
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        file.metadata["format"] = format
        file.metadata["epoch"] = String(epoch)
        file.metadata["seed"] = String(seed)
        file.metadata["history"] = String(decoding: try encoder.encode(history), as: UTF8.self)
        file.metadata["optimizer"] = optimizer.configuration.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        try file.write(to: url)
    }

    /// Restores model weights and optimizer state from `url` (all or nothing for the model) and
    /// returns the progress. Throws ``TrainingError/invalidCheckpoint(_:)`` for a file that is not a
    /// training checkpoint, `CheckpointError` when it belongs to another model, and
    /// `SafeTensorsError` for a damaged file.
    /// When `expectedSeed` is given, a checkpoint written with another seed is refused before
    /// anything changes.
    public static func load<Scalar: TensorScalar>(
        model: any Layer<Scalar>, optimizer: any Optimizer<Scalar>, from url: URL, expectedSeed: UInt64? = nil
    ) throws -> Progress {
        let file = try SafeTensorsFile(contentsOf: url)
        guard file.metadata["format"] == format else {
            throw TrainingError.invalidCheckpoint("\(url.path) is not a training checkpoint (no format \"\(format)\" in its metadata)")
        }
        guard let epoch = file.metadata["epoch"].flatMap(Int.init), let seed = file.metadata["seed"].flatMap(UInt64.init),
              let historyText = file.metadata["history"]
        else {
            throw TrainingError.invalidCheckpoint("\(url.path): the metadata lacks epoch, seed or history")
        }
        if let expectedSeed, expectedSeed != seed {
            throw TrainingError.invalidCheckpoint(
                "\(url.path) was written by a run with seed \(seed), this trainer has seed \(expectedSeed)")
        }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let history: History
        do {
            history = try decoder.decode(History.self, from: Data(historyText.utf8))
        } catch {
            throw TrainingError.invalidCheckpoint("\(url.path): the history in the metadata does not parse: \(error)")
        }
        var state: [String: Tensor<Scalar>] = [:]
        for (name, tensor) in file.tensors where name.hasPrefix("optimizer/") {
            state[String(name.dropFirst("optimizer/".count))] = tensor.tensor(as: Scalar.self)
        }
        // Check the model part before touching the optimizer, so a wrong model changes nothing.
        let before = model.namedWeights.map { $0.weight.variable.value }
        try model.loadWeights(from: file, source: url.path, ignoredPrefixes: ["optimizer/"])
        do {
            try optimizer.loadStateTensors(state)
        } catch {
            for (named, value) in zip(model.namedWeights, before) { named.weight.variable.value = value }
            throw error
        }
        return Progress(epoch: epoch, seed: seed, history: history, metadata: file.metadata)
    }
}

/// Saves a complete training checkpoint (weights, optimizer state, epoch, history) after every
/// epoch, so an interrupted run can continue with ``Trainer/resume(from:)`` (Keras
/// `BackupAndRestore`).
public final class BackupAndRestore<Scalar: TensorScalar>: Callback {
    /// The checkpoint file.
    public let url: URL
    /// Extra metadata stored with every save.
    public var metadata: [String: String]

    /// A callback writing the checkpoint to `url` after every epoch.
    public init(url: URL, metadata: [String: String] = [:]) {
        self.url = url
        self.metadata = metadata
    }

    public func epochEnd(_ epoch: Int, logs: [String: Double], state: TrainingState<Scalar>) throws {
        try TrainingCheckpoint.save(
            model: state.model, optimizer: state.optimizer, epoch: epoch, seed: state.seed, history: state.history,
            metadata: metadata, to: url)
    }
}

/// Lowers the learning rate when a monitored metric stops improving (Keras `ReduceLROnPlateau`;
/// the logic, with Keras's defaults and edge cases, is `Optimizers.ReduceLROnPlateau`).
public final class ReduceLROnPlateauCallback<Scalar: TensorScalar>: Callback {
    /// The log key watched.
    public let monitor: String
    /// The plateau logic.
    public private(set) var plateau: ReduceLROnPlateau

    /// Watches `monitor` (`val_loss` by default) with Keras's defaults (factor 0.1, patience 10).
    public init(
        monitor: String = "val_loss", factor: Double = 0.1, patience: Int = 10, mode: MonitorMode = .auto,
        minDelta: Double = 1e-4, cooldown: Int = 0, minLearningRate: Double = 0
    ) {
        self.monitor = monitor
        plateau = ReduceLROnPlateau(
            factor: factor, patience: patience, mode: mode.resolved(for: monitor) == .max ? .max : .min,
            minDelta: minDelta, cooldown: cooldown, minLearningRate: minLearningRate)
    }

    public func epochEnd(_ epoch: Int, logs: [String: Double], state: TrainingState<Scalar>) throws {
        let value = try monitoredValue(monitor, in: logs)
        let old = state.optimizer.learningRate
        let new = plateau.update(monitorValue: value, learningRate: old)
        if new != old {
            state.optimizer.learningRate = new
            state.reporter.message("Epoch \(epoch): ReduceLROnPlateau reducing learning rate to \(new)")
        }
    }
}
