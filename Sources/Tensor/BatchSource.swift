/// A data set that hands out mini-batches by sample index: what a training loop reads from.
///
/// In-memory tensors (``TensorDataset``) and image folders (the Datasets module) both conform, so
/// one training loop serves both.
public protocol BatchSource<Scalar> {
    /// The element type of the batches.
    associatedtype Scalar: TensorScalar
    /// The number of samples.
    var count: Int { get }
    /// The inputs `[indices.count, ...]` and targets `[indices.count, ...]` of the samples at
    /// `indices`, in that order. Throws when a sample cannot be read (a corrupt file, say).
    func batch(_ indices: [Int]) throws -> (x: Tensor<Scalar>, y: Tensor<Scalar>)

    /// The samples at `indices` as served in training epoch `epoch` (1-based). Sources with random
    /// augmentation draw it from the epoch, so every epoch differs and a resumed run sees the same
    /// images as an uninterrupted one. The default ignores the epoch and calls ``batch(_:)``.
    func batch(_ indices: [Int], epoch: Int) throws -> (x: Tensor<Scalar>, y: Tensor<Scalar>)
}

extension BatchSource {
    /// Ignores the epoch: the samples at `indices` via ``batch(_:)``.
    public func batch(_ indices: [Int], epoch: Int) throws -> (x: Tensor<Scalar>, y: Tensor<Scalar>) {
        try batch(indices)
    }
}

/// Inputs and targets held in memory as two tensors whose first axis is the sample.
public struct TensorDataset<Scalar: TensorScalar>: BatchSource, Sendable {
    /// All inputs, `[count, ...]`.
    public let x: Tensor<Scalar>
    /// All targets, `[count, ...]`.
    public let y: Tensor<Scalar>

    /// A data set of `x` and `y`; throws naming both shapes when their sample counts differ.
    public init(x: Tensor<Scalar>, y: Tensor<Scalar>) throws {
        guard x.rank >= 1, y.rank >= 1, x.shape[0] == y.shape[0] else {
            throw TensorError.shapeMismatch(operation: "TensorDataset: inputs and targets must have the same first dimension", lhs: x.shape, rhs: y.shape)
        }
        self.x = x
        self.y = y
    }

    public var count: Int { x.shape[0] }

    public func batch(_ indices: [Int]) throws -> (x: Tensor<Scalar>, y: Tensor<Scalar>) {
        (x.gathering(indices), y.gathering(indices))
    }
}
