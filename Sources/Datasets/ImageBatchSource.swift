import Dispatch
import Foundation
import Tensor

/// How 8-bit pixels become network inputs.
public enum PixelScaling: Sendable, Equatable {
    /// `x / 255`, in `[0, 1]` (Keras `Rescaling(1/255)`).
    case unitInterval
    /// `(x / 255 - mean[c]) / std[c]` per channel (e.g. from ``ImageDataset/channelStatistics()`` of
    /// the training split).
    case standardized(mean: [Double], std: [Double])
    /// The raw values `0...255` as floats.
    case raw
}

/// How labels become targets.
public enum LabelEncoding: Sendable, Equatable {
    /// `[N, 1]` with the class index (0 or 1 for a binary task, for sigmoid outputs).
    case binary
    /// `[N, classes]` one-hot rows (for softmax outputs).
    case oneHot
}

/// Training or evaluation batches cut from an ``ImageDataset``: NHWC inputs `[N, H, W, C]` and
/// targets, with optional seeded augmentation. Conforms to `BatchSource`, so `Trainer.fit` reads it
/// directly; wrap it in ``PrefetchingLoader`` to assemble batches in the background.
///
/// A sample's augmentation is drawn from a seed fixed by ``seed``, the sample's position and the
/// epoch, so the same seed gives the same images in every run. `Trainer.fit` passes the epoch
/// (``batch(_:epoch:)``); the plain ``batch(_:)`` serves epoch 0.
public struct ImageBatchSource<Scalar: TensorScalar>: BatchSource, Sendable {
    /// The images.
    public let dataset: ImageDataset
    /// The dataset image of each sample (indices may repeat: oversampling).
    public let entries: [Int]
    /// Which samples are extra copies made by oversampling.
    public let isCopy: [Bool]
    /// Pixel scaling.
    public var scaling: PixelScaling
    /// Target encoding.
    public var labels: LabelEncoding
    /// Augmentation of every sample (training only), or nil.
    public var augmentation: Augmentation?
    /// Augmentation of the oversampled copies instead of ``augmentation`` (seed 003's zoomed copies).
    public var copyAugmentation: Augmentation?
    /// The augmentation seed.
    public var seed: UInt64

    /// A source over all of `dataset` (or the images at `indices`).
    public init(_ dataset: ImageDataset, indices: [Int]? = nil, scaling: PixelScaling = .unitInterval, labels: LabelEncoding = .binary,
                augmentation: Augmentation? = nil, seed: UInt64 = 0) {
        let entries = indices ?? Array(0..<dataset.count)
        self.init(dataset: dataset, entries: entries, isCopy: [Bool](repeating: false, count: entries.count), scaling: scaling,
                  labels: labels, augmentation: augmentation, copyAugmentation: nil, seed: seed)
    }

    private init(dataset: ImageDataset, entries: [Int], isCopy: [Bool], scaling: PixelScaling, labels: LabelEncoding,
                 augmentation: Augmentation?, copyAugmentation: Augmentation?, seed: UInt64) {
        if case let .standardized(mean, std) = scaling {
            precondition(mean.count == dataset.preprocessing.channels && std.count == dataset.preprocessing.channels,
                         "ImageBatchSource: standardization needs one mean and std per channel (\(dataset.preprocessing.channels))")
        }
        self.dataset = dataset
        self.entries = entries
        self.isCopy = isCopy
        self.scaling = scaling
        self.labels = labels
        self.augmentation = augmentation
        self.copyAugmentation = copyAugmentation
        self.seed = seed
    }

    /// The number of samples.
    public var count: Int { entries.count }

    /// The class index of every sample.
    public var sampleLabels: [Int] { entries.map { dataset.records[$0].label } }

    /// The number of classes.
    public var classCount: Int { dataset.classNames.count }

    /// The shape of one input, `[H, W, C]`.
    public var inputShape: [Int] { [dataset.preprocessing.height, dataset.preprocessing.width, dataset.preprocessing.channels] }

    /// This source with the minority classes oversampled up to the largest class: whole repeats of
    /// each class, then a seeded random choice for the remainder. With `augmentedCopies`, the
    /// copies (not the originals) are augmented with it.
    public func oversampled(seed: UInt64, augmentedCopies: Augmentation? = nil) -> ImageBatchSource {
        let labelsOfSamples = sampleLabels
        var byClass: [Int: [Int]] = [:]
        for (i, l) in labelsOfSamples.enumerated() { byClass[l, default: []].append(i) }
        let largest = byClass.values.map(\.count).max() ?? 0
        var generator = SeededGenerator(seed: seed)
        var newEntries = entries, newCopy = isCopy
        for label in byClass.keys.sorted() {
            let members = byClass[label]!
            var extra: [Int] = []
            while extra.count + members.count <= largest - members.count { extra += members }
            var pool = members
            generator.shuffle(&pool)
            extra += pool.prefix(largest - members.count - extra.count)
            for i in extra {
                newEntries.append(entries[i])
                newCopy.append(true)
            }
        }
        return ImageBatchSource(dataset: dataset, entries: newEntries, isCopy: newCopy, scaling: scaling, labels: labels,
                                augmentation: augmentation, copyAugmentation: augmentedCopies, seed: self.seed)
    }

    /// Inputs and targets of the samples at `indices`, with the augmentation of epoch 0.
    public func batch(_ indices: [Int]) throws -> (x: Tensor<Scalar>, y: Tensor<Scalar>) {
        batch(indices, epoch: 0)
    }

    /// Inputs and targets of the samples at `indices` with the augmentation of `epoch` (a pure
    /// function of its arguments).
    public func batch(_ indices: [Int], epoch: Int) -> (x: Tensor<Scalar>, y: Tensor<Scalar>) {
        assemble(indices, epoch: epoch)
    }

    private func assemble(_ indices: [Int], epoch: Int) -> (x: Tensor<Scalar>, y: Tensor<Scalar>) {
        let p = dataset.preprocessing
        let (h, w, c) = (p.height, p.width, p.channels)
        let size = h * w * c
        for i in indices { precondition(i >= 0 && i < count, "ImageBatchSource.batch: index \(i) out of 0..<\(count)") }
        var scaleValues = [Float](repeating: 1, count: c), shiftValues = [Float](repeating: 0, count: c)
        switch scaling {
        case .unitInterval: scaleValues = [Float](repeating: 1 / 255, count: c)
        case .raw: break
        case let .standardized(mean, std):
            for ch in 0..<c {
                scaleValues[ch] = Float(1 / (255 * max(std[ch], 1e-12)))
                shiftValues[ch] = Float(-mean[ch] / max(std[ch], 1e-12))
            }
        }
        let (scale, shift) = (scaleValues, shiftValues)
        let x = Tensor<Scalar>.buildUninitialized(shape: [indices.count, h, w, c]) { out in
            let out = UnsafeSendable(out)
            let workers = min(indices.count, ProcessInfo.processInfo.activeProcessorCount)
            dataset.pixels.withUnsafeBufferPointer { pixels in
                let pixels = UnsafeSendable(pixels)
                DispatchQueue.concurrentPerform(iterations: max(workers, 1)) { worker in
                    var input = [Float](repeating: 0, count: size), augmented = [Float](repeating: 0, count: size)
                    for k in stride(from: worker, to: indices.count, by: max(workers, 1)) {
                        let sample = indices[k]
                        let source = pixels.value.baseAddress! + entries[sample] * size
                        let dst = out.value + k * size
                        let aug = isCopy[sample] ? (copyAugmentation ?? augmentation) : augmentation
                        if let aug {
                            var generator = SeededGenerator(seed: mixSeed(seed, UInt64(sample), UInt64(epoch)))
                            let params = aug.randomParameters(height: h, width: w, using: &generator)
                            for i in 0..<size { input[i] = Float(source[i]) }
                            input.withUnsafeBufferPointer { src in
                                augmented.withUnsafeMutableBufferPointer { a in
                                    Augmentation.apply(params, fill: aug.fillMode, pixels: src.baseAddress!, height: h, width: w,
                                                       channels: c, output: a.baseAddress!)
                                }
                            }
                            for i in 0..<size { dst[i] = Scalar(augmented[i] * scale[i % c] + shift[i % c]) }
                        } else if c == 1 {
                            let s = scale[0], b = shift[0]
                            for i in 0..<size { dst[i] = Scalar(Float(source[i]) * s + b) }
                        } else {
                            for i in 0..<size { dst[i] = Scalar(Float(source[i]) * scale[i % c] + shift[i % c]) }
                        }
                    }
                }
            }
        }
        let classes = classCount
        let y: Tensor<Scalar>
        switch labels {
        case .binary:
            y = Tensor(shape: [indices.count, 1], scalars: indices.map { Scalar(dataset.records[entries[$0]].label) })
        case .oneHot:
            var scalars = [Scalar](repeating: 0, count: indices.count * classes)
            for (k, i) in indices.enumerated() { scalars[k * classes + dataset.records[entries[i]].label] = 1 }
            y = Tensor(shape: [indices.count, classes], scalars: scalars)
        }
        return (x, y)
    }
}

/// A seed mixed from three values (SplitMix64 finalizer over a combination).
func mixSeed(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
    var generator = SeededGenerator(seed: a ^ (b &* 0x9E37_79B9_7F4A_7C15) ^ (c &* 0xC2B2_AE3D_27D4_EB4F))
    return generator.next()
}
