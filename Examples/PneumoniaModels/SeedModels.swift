import DeepLearning

/// The models of the five seed projects (docs: `../shared/docs/seed-models.md`), built with this
/// library exactly as the Keras originals: same layers, shapes and parameter counts.
public enum SeedModel: String, CaseIterable, Sendable {
    /// Seeds 000 and 001: Flatten -> Dense 128 ReLU -> Dense 64 ReLU -> Dense 1 sigmoid, 150x150x1.
    case dense
    /// Seed 000: `dense` with Dropout(0.5) after each hidden Dense.
    case denseDropout = "dense-dropout"
    /// Seeds 002 and 003: two Conv/MaxPool blocks, Dense 128, 150x150x1.
    case cnn
    /// Seed 001's final model: four Conv/MaxPool blocks with SpatialDropout2D, Dense 512, 150x150x3.
    case cnn150
    /// Seed 004's final model: Conv 128-64-32 with Dropout and MaxPool, Dense 32, 128x128x3.
    case cnn128
    /// Seed 000: four blocks of two same-padded convolutions and a max pool, Dense 256, Dropout 0.5.
    case deepCNN = "deep-cnn"
    /// Seed 000: three VGG blocks ([Conv, BatchNorm, ReLU] x2, MaxPool) of 32, 64, 128 filters.
    case vgg3
    /// Seed 000: five VGG blocks of 32, 64, 128, 256, 256 filters.
    case vgg5
    /// Seed 000's Xception, reproduced from its building blocks: separable-convolution residual
    /// blocks with 1x1 stride-2 shortcuts.
    case xceptionMini = "xception-mini"

    /// The input shape (height, width, channels) the seed used.
    public var inputShape: [Int] {
        switch self {
        case .cnn150: return [150, 150, 3]
        case .cnn128: return [128, 128, 3]
        default: return [150, 150, 1]
        }
    }

    /// The model, built for `inputShape` with initial weights drawn from `seed`.
    public func build<Scalar: TensorScalar>(_ type: Scalar.Type = Float.self, seed: UInt64 = 1) throws -> Sequential<Scalar> {
        try Sequential<Scalar>(inputShape: inputShape, seed: seed, name: rawValue, layers: layers())
    }

    /// The model's layers, unbuilt. With `classCount` 2 (the seeds' binary task) the model ends in
    /// `Dense(1, sigmoid)`, the probability of the second class; with more classes (the 3-class
    /// NORMAL / BACTERIA / VIRUS task) it ends in `Dense(classCount, softmax)`, as Keras models for
    /// `sparse_categorical_crossentropy` do. Everything before the output layer is the same.
    public func layers<Scalar: TensorScalar>(classCount: Int = 2) -> [any Layer<Scalar>] {
        let output: any Layer<Scalar> = classCount > 2
            ? Dense<Scalar>(classCount, activation: .softmax) : Dense<Scalar>(1, activation: .sigmoid)
        let hidden: [any Layer<Scalar>] = hiddenLayers()
        return hidden + [output]
    }

    /// The layers before the output layer, unbuilt.
    func hiddenLayers<Scalar: TensorScalar>() -> [any Layer<Scalar>] {
        switch self {
        case .dense, .denseDropout:
            let dropout = self == .denseDropout
            return LayerBuilder<Scalar>.buildArray([
                [Flatten(), Dense(128, activation: .relu)],
                dropout ? [Dropout(0.5)] : [],
                [Dense(64, activation: .relu)],
                dropout ? [Dropout(0.5)] : [],
            ])
        case .cnn:
            return [
                Conv2D<Scalar>(32, kernelSize: 3, activation: .relu), MaxPool2D<Scalar>(2),
                Conv2D<Scalar>(64, kernelSize: 3, activation: .relu), MaxPool2D<Scalar>(2),
                Flatten<Scalar>(), Dense<Scalar>(128, activation: .relu),
            ]
        case .cnn150:
            return [
                Conv2D<Scalar>(32, kernelSize: 3, activation: .relu), MaxPool2D<Scalar>(2),
                Conv2D<Scalar>(64, kernelSize: 3, activation: .relu), MaxPool2D<Scalar>(2),
                Conv2D<Scalar>(128, kernelSize: 3, activation: .relu), MaxPool2D<Scalar>(2), SpatialDropout2D<Scalar>(0.2),
                Conv2D<Scalar>(128, kernelSize: 3, activation: .relu), MaxPool2D<Scalar>(2), SpatialDropout2D<Scalar>(0.2),
                Flatten<Scalar>(), Dense<Scalar>(512, activation: .relu),
            ]
        case .cnn128:
            return [
                Conv2D<Scalar>(128, kernelSize: 3, padding: .same, activation: .relu), Dropout<Scalar>(0.2), MaxPool2D<Scalar>(2),
                Conv2D<Scalar>(64, kernelSize: 3, activation: .relu), Dropout<Scalar>(0.2), MaxPool2D<Scalar>(2),
                Conv2D<Scalar>(32, kernelSize: 3, activation: .relu), Dropout<Scalar>(0.2), MaxPool2D<Scalar>(2),
                Flatten<Scalar>(), Dense<Scalar>(32, activation: .relu),
            ]
        case .deepCNN:
            let blocks: [any Layer<Scalar>] = [32, 64, 128, 256].flatMap { filters -> [any Layer<Scalar>] in
                [Conv2D<Scalar>(filters, kernelSize: 3, padding: .same, activation: .relu),
                 Conv2D<Scalar>(filters, kernelSize: 3, padding: .same, activation: .relu),
                 MaxPool2D<Scalar>(2)]
            }
            return blocks + [
                Flatten<Scalar>(), Dense<Scalar>(256, activation: .relu), Dropout<Scalar>(0.5),
            ]
        case .vgg3, .vgg5:
            let filters = self == .vgg3 ? [32, 64, 128] : [32, 64, 128, 256, 256]
            let blocks: [any Layer<Scalar>] = filters.flatMap { f -> [any Layer<Scalar>] in
                [Conv2D<Scalar>(f, kernelSize: 3, padding: .same), BatchNorm<Scalar>(), ReLU<Scalar>(),
                 Conv2D<Scalar>(f, kernelSize: 3, padding: .same), BatchNorm<Scalar>(), ReLU<Scalar>(),
                 MaxPool2D<Scalar>(2)]
            }
            return blocks + [
                GlobalAveragePooling2D<Scalar>(), Dense<Scalar>(128, activation: .relu), Dropout<Scalar>(0.5),
            ]
        case .xceptionMini:
            let entry: [any Layer<Scalar>] = [
                Conv2D<Scalar>(32, kernelSize: 3, strides: 2, padding: .same, useBias: false), BatchNorm<Scalar>(), ReLU<Scalar>(),
            ]
            let blocks: [any Layer<Scalar>] = [64, 128, 256].map { f in
                Add<Scalar> {
                    Sequential<Scalar> {
                        SeparableConv2D<Scalar>(f, kernelSize: 3, padding: .same)
                        BatchNorm<Scalar>()
                        ReLU<Scalar>()
                        SeparableConv2D<Scalar>(f, kernelSize: 3, padding: .same)
                        BatchNorm<Scalar>()
                        MaxPool2D<Scalar>(3, strides: 2, padding: .same)
                    }
                    Conv2D<Scalar>(f, kernelSize: 1, strides: 2, padding: .same)
                }
            }
            return entry + blocks + [GlobalAveragePooling2D<Scalar>(), Dropout<Scalar>(0.5)]
        }
    }
}
