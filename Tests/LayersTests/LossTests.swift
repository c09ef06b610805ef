import Foundation
import Layers
import TestSupport
import Testing

/// The loss a fixture case describes (see Tests/ReferenceScripts/losses_fixtures.py).
private func loss(for fixture: FixtureCase) throws -> Loss {
    let fromLogits = try fixture.int("from_logits") == 1
    let smoothing = fixture.params["label_smoothing"] ?? 0
    var classWeights: [Int: Double]?
    if let array = fixture.arrays["class_weights"] {
        classWeights = Dictionary(uniqueKeysWithValues: array.data.enumerated().map { ($0.offset, $0.element) })
    }
    switch try fixture.int("kind") {
    case 0: return .binaryCrossEntropy(fromLogits: fromLogits, labelSmoothing: smoothing, classWeights: classWeights)
    case 1: return .categoricalCrossEntropy(fromLogits: fromLogits, labelSmoothing: smoothing, classWeights: classWeights)
    case 2: return .sparseCategoricalCrossEntropy(fromLogits: fromLogits, classWeights: classWeights)
    default: return .meanSquaredError
    }
}

private let fixtureCases = [
    "binary_probs_clipping", "binary_probs_clipping_wrong_side", "binary_probs_multilabel",
    "binary_probs_targets_rank1", "binary_probs_rank1", "binary_probs_sample_weights", "binary_probs_smoothing",
    "binary_probs_class_weights", "binary_probs_class_and_sample_weights", "binary_logits",
    "binary_logits_smoothing_weights", "binary_logits_class_weights", "categorical_logits",
    "categorical_logits_smoothing", "categorical_logits_weights", "categorical_logits_class_weights",
    "categorical_logits_soft_targets", "categorical_probs", "categorical_probs_smoothing", "sparse_logits",
    "sparse_logits_column_labels", "sparse_logits_class_weights", "sparse_probs", "mse", "mse_weights",
    "mse_targets_rank1",
]

@Suite("Losses: values and gradients against Keras 3.15.1 (losses_fixtures.py)")
struct LossFixtureTests {
    static let fixture = Result { try ReferenceFixture.load("losses.json", from: Bundle.module) }

    @Test func everyFixtureCaseIsTested() throws {
        #expect(try Self.fixture.get().cases.keys.sorted() == fixtureCases.sorted())
    }

    @Test(arguments: fixtureCases)
    func matchesKerasInDouble(_ name: String) throws {
        let c = try Self.fixture.get().case(name)
        let lossFunction = try loss(for: c)
        let predictions = Variable(try c.tensor("predictions", as: Double.self), requiresGradient: true)
        let targets = try c.tensor("targets", as: Double.self)
        let weights: Tensor<Double>? = c.arrays["sample_weights"].map { $0.tensor(Double.self) }
        try lossFunction.validate(predictions: predictions.value, targets: targets, sampleWeights: weights)

        let value = lossFunction(predictions: predictions, targets: targets, sampleWeights: weights)
        #expect(value.shape == [])
        let expected = try c.tensor("loss", as: Double.self).scalar
        #expect(abs(value.value.scalar - expected) <= 1e-12 * max(1, abs(expected)), "\(name): \(value.value.scalar) vs \(expected)")

        value.backward()
        let gradient = try #require(predictions.gradient)
        let expectedGradient = try c.tensor("gradient", as: Double.self)
        #expect(maxRelativeDifference(gradient, expectedGradient) <= 1e-12, "\(name): \(gradient) vs \(expectedGradient)")
    }

    @Test(arguments: fixtureCases)
    func matchesKerasInFloat(_ name: String) throws {
        let c = try Self.fixture.get().case(name)
        let lossFunction = try loss(for: c)
        let predictions = Variable(try c.tensor("predictions", as: Float.self), requiresGradient: true)
        let targets = try c.tensor("targets", as: Float.self)
        let weights: Tensor<Float>? = c.arrays["sample_weights"].map { $0.tensor(Float.self) }
        let value = lossFunction(predictions: predictions, targets: targets, sampleWeights: weights)
        value.backward()
        let gradient = try #require(predictions.gradient)
        #expect(value.value.isFinite && gradient.isFinite, "\(name): \(value.value), \(gradient)")
        // Float32 clips at Float(1 - 1e-7) = 1 - 2^-23 rather than 1 - 1e-7: a clipped probability
        // of 1 costs -log(2^-23) = 15.94 instead of 16.12, so cases with clipped probabilities of 1
        // differ by design.
        let expected = try c.tensor("loss", as: Double.self).scalar
        let fromProbabilities = try c.int("from_logits") == 0 && c.int("kind") != 3
        let clipsOne = fromProbabilities && predictions.value.scalars.contains { $0 >= 1 }
        let tolerance = clipsOne ? 2e-2 : 1e-5
        #expect(abs(Double(value.value.scalar) - expected) <= tolerance * max(1, abs(expected)), "\(name)")
        #expect(maxRelativeDifference(Tensor<Double>(gradient), try c.tensor("gradient", as: Double.self)) <= 1e-3, "\(name)")
    }
}

@Suite("Losses: finite-difference gradients, extremes, weighting and shape checks")
struct LossBehaviourTests {
    /// Probabilities away from the clipping bounds, so finite differences are smooth.
    static let probabilities = Tensor<Double>(shape: [5, 1], scalars: [0.2, 0.7, 0.45, 0.9, 0.05])
    static let binaryTargets = Tensor<Double>(shape: [5, 1], scalars: [0, 1, 1, 0, 1])
    static let logits = Tensor<Double>(shape: [4, 3], scalars: [1.5, -0.3, 0.2, 0.1, 2.2, -1.1, -0.4, 0.3, 0.9, 2.0, 2.1, -3.0])
    static let oneHot = Tensor<Double>(shape: [4, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0])
    static let labels = Tensor<Double>([0, 1, 2, 1])
    static let sampleWeights = Tensor<Double>([0.5, 2, 1.5, 1])

    @Test func binaryGradientsMatchFiniteDifferences() {
        let weights = Tensor<Double>([1, 0.5, 2, 0.25, 1])
        for loss in [
            Loss.binaryCrossEntropy(), .binaryCrossEntropy(labelSmoothing: 0.2, classWeights: [0: 0.4, 1: 1.7]),
            .binaryCrossEntropy(fromLogits: true), .binaryCrossEntropy(fromLogits: true, labelSmoothing: 0.1),
        ] {
            let result = checkGradients(at: [Self.probabilities]) { v in
                loss(predictions: v[0], targets: Self.binaryTargets, sampleWeights: weights)
            }
            #expect(result.passed, "\(loss): \(result)")
        }
    }

    @Test func categoricalGradientsMatchFiniteDifferences() {
        let probabilities = Self.logits.softmax(alongAxis: -1) * 1.3   // unnormalised rows
        let cases: [(Loss, Tensor<Double>, Tensor<Double>)] = [
            (.categoricalCrossEntropy(fromLogits: true), Self.logits, Self.oneHot),
            (.categoricalCrossEntropy(fromLogits: true, labelSmoothing: 0.1, classWeights: [2: 3]), Self.logits, Self.oneHot),
            (.categoricalCrossEntropy(), probabilities, Self.oneHot),
            (.categoricalCrossEntropy(labelSmoothing: 0.2), probabilities, Self.oneHot),
            (.sparseCategoricalCrossEntropy(fromLogits: true), Self.logits, Self.labels),
            (.sparseCategoricalCrossEntropy(fromLogits: true, classWeights: [0: 2, 1: 0.5]), Self.logits, Self.labels),
            (.sparseCategoricalCrossEntropy(), Self.logits.softmax(alongAxis: -1), Self.labels),
            (.meanSquaredError, Self.logits, Self.oneHot),
        ]
        for (loss, point, targets) in cases {
            let result = checkGradients(at: [point]) { v in
                loss(predictions: v[0], targets: targets, sampleWeights: Self.sampleWeights)
            }
            #expect(result.passed, "\(loss): \(result)")
        }
    }

    @Test("A cross-entropy from probabilities behind a sigmoid or softmax uses the logits, as Keras does")
    func logitsBehindActivations() throws {
        let n = 3.0
        // Binary: the same value where the sigmoid is not clipped, and a gradient that does not vanish
        // where it saturates (sigmoid(40) rounds to 1 - 4e-18, far beyond 1 - 1e-7).
        let y = Tensor<Double>(shape: [3, 1], scalars: [0, 1, 0])
        for values in [[0.3, -1.2, 2.0], [40, -40, 38]] {
            let z = Variable(Tensor<Double>(shape: [3, 1], scalars: values), requiresGradient: true)
            let loss = Loss.binaryCrossEntropy()(predictions: z.sigmoid(), targets: y)
            loss.backward()
            let gradient = try #require(z.gradient).scalars
            for i in 0..<3 {
                let p = 1 / (1 + exp(-values[i]))
                #expect(abs(gradient[i] - (p - y.scalars[i]) / n) < 1e-12, "z \(values[i])")
            }
            let reference = Loss.binaryCrossEntropy()(predictions: Variable(z.value.sigmoid()), targets: y).value.scalar
            // -(y log p + (1 - y) log(1 - p)) with p = sigmoid(z), written stably.
            let exact = (0..<3).map { i in
                let z = values[i]
                return max(z, 0) - z * y.scalars[i] + log(1 + exp(-abs(z)))
            }.reduce(0, +) / n
            #expect(abs(loss.value.scalar - exact) < 1e-9)
            if values[0] < 10 { #expect(abs(loss.value.scalar - reference) < 1e-12, "unclipped: same value as from probabilities") }
        }
        // Categorical and sparse: softmax over the last axis of huge logits.
        let logits = Tensor<Double>(shape: [2, 3], scalars: [50, 0, 0, 0, -60, 0])
        let labels = Tensor<Double>([1, 1]), oneHot = Tensor<Double>(shape: [2, 3], scalars: [0, 1, 0, 0, 1, 0])
        let softmax = logits.softmax(alongAxis: -1)
        for (loss, targets) in [(Loss.categoricalCrossEntropy(), oneHot), (.sparseCategoricalCrossEntropy(), labels)] {
            let z = Variable(logits, requiresGradient: true)
            loss(predictions: z.softmax(), targets: targets).backward()
            let expected = (softmax - oneHot) / 2
            #expect(maxRelativeDifference(try #require(z.gradient), expected) < 1e-12, "\(loss)")
        }
        // A softmax over another axis is not a row of class probabilities: no logits taken.
        let column = Variable(logits, requiresGradient: true).softmax(alongAxis: 0)
        #expect(column.input(ifProducedBy: "softmax") == nil)
        #expect(Variable(logits, requiresGradient: true).softmax().input(ifProducedBy: "softmax") != nil)
    }

    @Test func floatStaysFiniteAtExtremes() {
        let p = Tensor<Float>(shape: [4, 1], scalars: [0, 1, 0, 1])
        let y = Tensor<Float>(shape: [4, 1], scalars: [0, 0, 1, 1])
        let huge = Tensor<Float>(shape: [4, 1], scalars: [100, -100, 1e30, -1e30])
        let hugeRows = Tensor<Float>(shape: [3, 3], scalars: [100, -100, 0, -1e30, 1e30, 3, 0, 0, 0])
        let oneHot = Tensor<Float>(shape: [3, 3], scalars: [0, 1, 0, 1, 0, 0, 0, 0, 1])
        let zeroRows = Tensor<Float>(shape: [3, 3], scalars: [1, 0, 0, 0, 0, 1, 0.5, 0.5, 0])
        let cases: [(Loss, Tensor<Float>, Tensor<Float>)] = [
            (.binaryCrossEntropy(), p, y),
            (.binaryCrossEntropy(labelSmoothing: 0.1), p, y),
            (.binaryCrossEntropy(fromLogits: true), huge, y),
            (.categoricalCrossEntropy(fromLogits: true), hugeRows, oneHot),
            (.categoricalCrossEntropy(), zeroRows, oneHot),
            (.sparseCategoricalCrossEntropy(fromLogits: true), hugeRows, Tensor([1, 0, 2])),
            (.sparseCategoricalCrossEntropy(), zeroRows, Tensor([1, 0, 2])),
        ]
        for (loss, predictions, targets) in cases {
            let v = Variable(predictions, requiresGradient: true)
            let value = loss(predictions: v, targets: targets)
            value.backward()
            #expect(value.value.isFinite && v.gradient?.isFinite == true, "\(loss): \(value.value) \(String(describing: v.gradient))")
        }
        // Keras float32: the bounds are Float(1e-7) and Float(1 - 1e-7) = 1 - 2^-23, so a confident
        // wrong prediction costs -log(1e-7) (p = 0) or -log(2^-23) (p = 1); clipped elements get no gradient.
        let v = Variable(p, requiresGradient: true)
        let value = Loss.binaryCrossEntropy()(predictions: v, targets: y)
        value.backward()
        let lower = Double(Float(1e-7)), upper = Double(Float(1 - 1e-7))
        let expected = (-Foundation.log(1 - lower) - Foundation.log(1 - upper) - Foundation.log(lower) - Foundation.log(upper)) / 4
        #expect(abs(Double(value.value.scalar) - expected) < 1e-5, "\(value.value.scalar) vs \(expected)")
        #expect(v.gradient == Tensor<Float>.zeros([4, 1]))
    }

    @Test func weightedMeanDividesByTheSampleCountNotTheWeightSum() {
        let p = Tensor<Double>(shape: [3, 1], scalars: [1, 2, 4])
        let y = Tensor<Double>.zeros([3, 1])
        let loss = Loss.meanSquaredError
        let plain: Double = loss(predictions: p, targets: y)
        #expect(plain == 21.0 / 3)
        let zeroWeights: Double = loss(predictions: p, targets: y, sampleWeights: Tensor([0, 0, 2]))
        #expect(zeroWeights == 32.0 / 3)
        let columnWeights: Double = loss(predictions: p, targets: y, sampleWeights: Tensor(shape: [3, 1], scalars: [1, 0, 0.5]))
        #expect(columnWeights == 9.0 / 3)
        // Per-sample losses average the last axis.
        let wide = Tensor<Double>(shape: [2, 2], scalars: [1, 3, 0, 2])
        #expect(loss.perSample(predictions: Variable(wide), targets: Tensor.zeros([2, 2])).value == Tensor([5, 2]))
        // An empty batch costs 0.
        let empty: Double = loss(predictions: Tensor<Double>.zeros([0, 1]), targets: Tensor.zeros([0, 1]))
        #expect(empty == 0)
    }

    @Test func classWeightsFollowTheLabelAndDefaultToOne() {
        // Logit 0 costs log 2 for either label; the classes weigh 3 (class 1) and 1 (class 0 absent).
        let loss = Loss.binaryCrossEntropy(fromLogits: true, classWeights: [1: 3])
        let value = loss(predictions: Tensor<Double>.zeros([4, 1]), targets: Tensor(shape: [4, 1], scalars: [1, 0, 1, 1]))
        #expect(abs(value - Foundation.log(2.0) * (3 + 1 + 3 + 3) / 4) < 1e-15)
        // One-hot rows pick the class by arg-max; sparse labels by value.
        let uniform = Tensor<Double>.zeros([2, 3])
        let categorical = Loss.categoricalCrossEntropy(fromLogits: true, classWeights: [0: 2, 2: 5])
        #expect(abs(categorical(predictions: uniform, targets: Tensor([[0, 0, 1], [1, 0, 0]])) - Foundation.log(3.0) * 3.5) < 1e-14)
        let sparse = Loss.sparseCategoricalCrossEntropy(fromLogits: true, classWeights: [0: 2, 2: 5])
        #expect(abs(sparse(predictions: uniform, targets: Tensor([2, 1])) - Foundation.log(3.0) * 3) < 1e-14)
    }

    @Test func validateNamesBothShapes() {
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        let p = Tensor<Float>.zeros([4, 1])
        let bce = message { try Loss.binaryCrossEntropy().validate(predictions: p, targets: Tensor.zeros([4, 2])) }
        #expect(bce.contains("[4, 1]") && bce.contains("[4, 2]") && bce.contains("binary_crossentropy"), "\(bce)")
        let weights = message {
            try Loss.meanSquaredError.validate(predictions: p, targets: Tensor.zeros([4]), sampleWeights: Tensor.zeros([3]))
        }
        #expect(weights.contains("sample weights") && weights.contains("[4]") && weights.contains("[3]"), "\(weights)")
        let cce = message {
            try Loss.categoricalCrossEntropy().validate(predictions: Tensor<Float>.zeros([4, 3]), targets: Tensor.zeros([4]))
        }
        #expect(cce.contains("[4, 3]") && cce.contains("[4]"), "\(cce)")
        let sparse = message {
            try Loss.sparseCategoricalCrossEntropy().validate(predictions: Tensor<Float>.zeros([2, 3]), targets: Tensor([1, 3]))
        }
        #expect(sparse.contains("label 3.0") && sparse.contains("0..<3"), "\(sparse)")
        let fractional = message {
            try Loss.sparseCategoricalCrossEntropy().validate(predictions: Tensor<Float>.zeros([2, 3]), targets: Tensor([1, 0.5]))
        }
        #expect(fractional.contains("label 0.5"), "\(fractional)")
        let smoothing = message {
            try Loss.binaryCrossEntropy(labelSmoothing: 1.5).validate(predictions: p, targets: Tensor.zeros([4, 1]))
        }
        #expect(smoothing.contains("label smoothing 1.5"), "\(smoothing)")
        // Accepted layouts.
        #expect(message { try Loss.binaryCrossEntropy().validate(predictions: p, targets: Tensor.zeros([4])) } == "no error")
        #expect(message {
            try Loss.sparseCategoricalCrossEntropy().validate(
                predictions: Tensor<Float>.zeros([2, 3]), targets: Tensor(shape: [2, 1], scalars: [2, 0]),
                sampleWeights: Tensor(shape: [2, 1], scalars: [1, 1]))
        } == "no error")
    }

    @Test func mismatchedShapesStopTheProgram() async {
        await #expect(processExitsWith: .failure) {
            let p = Variable(Tensor<Float>.zeros([4, 1]))
            _ = Loss.binaryCrossEntropy()(predictions: p, targets: Tensor<Float>.zeros([3, 1]))
        }
    }
}
