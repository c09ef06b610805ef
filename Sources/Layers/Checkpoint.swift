import Foundation

// Saving and loading a model's weights as a safetensors file, one tensor per entry of
// `namedWeights` ("dense.kernel", "batch_normalization.moving_mean").

/// Why a checkpoint cannot be saved or loaded into a model.
public enum CheckpointError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The model has weights the file lacks, or the file has tensors the model lacks.
    case nameMismatch(file: String, missing: [String], unexpected: [String])
    /// A tensor's shape in the checkpoint (`stored`) differs from the model's weight of the same
    /// name (`expected`).
    case shapeMismatch(file: String, tensor: String, expected: [Int], stored: [Int])
    /// Two weights of the model share a name (layers not yet named: call `assignNames()`).
    case duplicateWeightName(String)

    /// The file, the tensors concerned and the problem, in one line.
    public var description: String {
        switch self {
        case let .nameMismatch(file, missing, unexpected):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing weights \(missing)") }
            if !unexpected.isEmpty { parts.append("unexpected tensors \(unexpected)") }
            return "\(file): the checkpoint does not match the model: " + parts.joined(separator: "; ")
        case let .shapeMismatch(file, tensor, expected, stored):
            return "\(file): tensor '\(tensor)' has shape \(stored) in the checkpoint but \(expected) in the model"
        case let .duplicateWeightName(name):
            return "the model has more than one weight named '\(name)': name the layers (assignNames()) before saving or loading"
        }
    }
}

extension Layer {
    /// Saves every weight (trainable and not) to a safetensors file at `url`, under its
    /// ``namedWeights`` name, as `F32` for a `Float` model and `F64` for a `Double` one, with
    /// `metadata` in the header. The write is atomic: a failure leaves any previous file intact.
    public func saveWeights(to url: URL, metadata: [String: String] = [:]) throws {
        var file = SafeTensorsFile(metadata: metadata)
        for (name, tensor) in try weightTensors() {
            file[name] = tensor
        }
        try file.write(to: url)
    }

    /// Every weight as a safetensors entry under its ``namedWeights`` name (for files that hold
    /// more than the model, such as training checkpoints).
    public func weightTensors() throws -> [String: SafeTensor] {
        var tensors: [String: SafeTensor] = [:]
        for (name, weight) in try uniqueNamedWeights() {
            tensors[name] = SafeTensor(weight.variable.value)
        }
        return tensors
    }

    /// Loads the weights saved by ``saveWeights(to:metadata:)`` (or any safetensors file with the
    /// same tensor names and shapes; `F32`, `F64`, `F16` and `BF16` values are converted to the
    /// model's precision) and returns the file's metadata.
    ///
    /// All or nothing: the set of names and every shape are checked before any weight changes, and
    /// a mismatch throws ``CheckpointError`` naming the tensors (and both shapes); a damaged file
    /// throws `SafeTensorsError` (Tensor module).
    @discardableResult
    public func loadWeights(from url: URL) throws -> [String: String] {
        let file = try SafeTensorsFile(contentsOf: url)
        try loadWeights(from: file, source: url.path)
        return file.metadata
    }

    /// Loads the model's weights from an already read file, all or nothing, as
    /// ``loadWeights(from:)-(URL)`` does. Tensors whose names start with one of `ignoredPrefixes`
    /// (say `optimizer/` in a training checkpoint) are not counted as unexpected.
    public func loadWeights(from file: SafeTensorsFile, source: String, ignoredPrefixes: [String] = []) throws {
        let weights = try uniqueNamedWeights()
        let modelNames = Set(weights.map(\.name))
        let fileNames = Set(file.tensors.keys.filter { name in !ignoredPrefixes.contains { name.hasPrefix($0) } })
        if modelNames != fileNames {
            throw CheckpointError.nameMismatch(
                file: source,
                missing: weights.map(\.name).filter { !fileNames.contains($0) },
                unexpected: fileNames.subtracting(modelNames).sorted())
        }
        var values: [Tensor<Scalar>] = []
        values.reserveCapacity(weights.count)
        for (name, weight) in weights {
            let stored = file.tensors[name]!
            guard stored.shape == weight.variable.shape else {
                throw CheckpointError.shapeMismatch(
                    file: source, tensor: name, expected: weight.variable.shape, stored: stored.shape)
            }
            values.append(stored.tensor(as: Scalar.self))
        }
        for ((_, weight), value) in zip(weights, values) {
            weight.variable.value = value
        }
    }

    /// ``namedWeights``, or a thrown error when two share a name.
    private func uniqueNamedWeights() throws -> [(name: String, weight: LayerWeight<Scalar>)] {
        let weights = namedWeights
        var seen = Set<String>()
        for (name, _) in weights where !seen.insert(name).inserted {
            throw CheckpointError.duplicateWeightName(name)
        }
        return weights
    }
}
