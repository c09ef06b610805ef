import Foundation
import Optimizers
import Testing
import TestSupport

/// Saving and restoring optimizer state.
@Suite("Optimizer state")
struct StateTests {
    /// Optimizers with every kind of slot and counter.
    static func make<S: TensorScalar>(_ kind: String, _: S.Type) -> any Optimizer<S> {
        switch kind {
        case "sgd": return SGD<S>(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        case "rmsprop": return RMSprop<S>(learningRate: 0.01, momentum: 0.5, centered: true, clipping: .clipNorm(1))
        case "adam": return Adam<S>(learningRate: 0.01, amsgrad: true, clipping: .globalClipNorm(1))
        case "adamw": return AdamW<S>(schedule: CosineDecay(initialLearningRate: 0.02, decaySteps: 5, warmupTarget: 0.05, warmupSteps: 2))
        default: fatalError(kind)
        }
    }

    static let kinds = ["sgd", "rmsprop", "adam", "adamw"]

    /// Fresh parameters with the same starting values in every call.
    static func parameters<S: TensorScalar>(_: S.Type) -> [(name: String, variable: Variable<S>)] {
        [
            (name: "conv2d.kernel", variable: Variable(Tensor<S>.normal([3, 3, 2, 4], seed: 1), requiresGradient: true)),
            (name: "conv2d.bias", variable: Variable(Tensor<S>.normal([4], seed: 2), requiresGradient: true)),
            (name: "dense.kernel", variable: Variable(Tensor<S>.normal([8, 3], seed: 3), requiresGradient: true)),
        ]
    }

    /// Sets step-dependent gradients (the dense kernel gets none on odd steps).
    static func setGradients<S: TensorScalar>(_ parameters: [(name: String, variable: Variable<S>)], step: Int) {
        for (i, p) in parameters.enumerated() {
            let skip = p.name == "dense.kernel" && step % 2 == 1
            p.variable.gradient = skip ? nil : Tensor<S>.normal(p.variable.shape, seed: UInt64(100 * step + i)) * S(step + 1)
        }
    }

    func checkResume<S: TensorScalar>(_ kind: String, _ type: S.Type) throws {
        // Uninterrupted run: 6 steps.
        let original = Self.make(kind, S.self)
        let reference = Self.parameters(S.self)
        for step in 0..<6 {
            Self.setGradients(reference, step: step)
            original.update(reference)
        }

        // Interrupted run: 3 steps, save, restore into a new optimizer, 3 more steps.
        let first = Self.make(kind, S.self)
        let resumed = Self.parameters(S.self)
        for step in 0..<3 {
            Self.setGradients(resumed, step: step)
            first.update(resumed)
        }
        let saved = first.stateTensors()
        #expect(saved["iterations"] == Tensor(S(3)))
        let second = Self.make(kind, S.self)
        try second.loadStateTensors(saved)
        #expect(second.iterations == 3)
        #expect(second.learningRate == first.learningRate)
        for step in 3..<6 {
            Self.setGradients(resumed, step: step)
            second.update(resumed)
        }

        for (a, b) in zip(reference, resumed) {
            #expect(a.variable.value == b.variable.value, "\(kind) \(S.self) \(a.name): resumed run differs")
        }
        #expect(original.stateTensors() == second.stateTensors())
    }

    @Test("Save, restore, continue: bit-identical to an uninterrupted run", arguments: kinds)
    func resumeIsBitIdentical(_ kind: String) throws {
        try checkResume(kind, Float.self)
        try checkResume(kind, Double.self)
    }

    @Test("State tensor names: counters and Keras slot names per parameter")
    func names() {
        let adam = Adam<Float>(amsgrad: true)
        let params = Self.parameters(Float.self)
        Self.setGradients(params, step: 0)
        adam.update(params)
        let names = Set(adam.stateTensors().keys)
        var expected: Set<String> = ["iterations", "learning_rate"]
        for p in ["conv2d.kernel", "conv2d.bias", "dense.kernel"] {
            for slot in ["momentum", "velocity", "velocity_hat"] { expected.insert("\(p)/\(slot)") }
        }
        #expect(names == expected)
        #expect(adam.stateTensors()["conv2d.kernel/velocity"]?.shape == [3, 3, 2, 4])
        #expect(Set(SGD<Float>().stateTensors().keys) == ["iterations", "learning_rate"])
        // With a schedule the rate is not state.
        let scheduled = SGD<Float>(schedule: StepDecay(initialLearningRate: 0.1, stepSize: 2, factor: 0.5))
        #expect(Set(scheduled.stateTensors().keys) == ["iterations"])
    }

    /// The state of an Adam after two updates, and an Adam built on the same parameters.
    func savedAndBuilt() -> ([String: Tensor<Double>], Adam<Double>) {
        let params = Self.parameters(Double.self)
        let adam = Adam<Double>()
        for step in 0..<2 {
            Self.setGradients(params, step: step)
            adam.update(params)
        }
        let target = Adam<Double>()
        target.build(params)
        return (adam.stateTensors(), target)
    }

    @Test("A wrong shape throws, naming the tensor and both shapes, and changes nothing")
    func wrongShape() throws {
        var (state, target) = savedAndBuilt()
        let before = target.stateTensors()
        state["conv2d.bias/velocity"] = Tensor<Double>.zeros([5])
        let error = #expect(throws: OptimizerError.self) { try target.loadStateTensors(state) }
        let message = "\(error!)"
        #expect(message.contains("conv2d.bias/velocity") && message.contains("[5]") && message.contains("[4]"), "\(message)")
        #expect(target.stateTensors() == before)
        #expect(target.iterations == 0)
    }

    @Test("Slots of one parameter must agree in shape even before build")
    func inconsistentSlots() throws {
        var (state, _) = savedAndBuilt()
        state["dense.kernel/momentum"] = Tensor<Double>.zeros([3, 8])
        let error = #expect(throws: OptimizerError.self) { try Adam<Double>().loadStateTensors(state) }
        let message = "\(error!)"
        #expect(message.contains("dense.kernel/") && message.contains("[3, 8]") && message.contains("[8, 3]"), "\(message)")
    }

    @Test("Unknown, missing and invalid tensors throw")
    func badNames() throws {
        let (state, target) = savedAndBuilt()

        var extra = state
        extra["dense.kernel/velocity_hat"] = Tensor<Double>.zeros([8, 3])  // amsgrad slot for a plain Adam
        #expect(throws: OptimizerError.unexpectedTensor(name: "dense.kernel/velocity_hat", optimizer: "Adam", expectedSlots: ["momentum", "velocity"])) {
            try target.loadStateTensors(extra)
        }

        var missingSlot = state
        missingSlot["conv2d.kernel/momentum"] = nil
        #expect(throws: OptimizerError.missingTensor(name: "conv2d.kernel/momentum", optimizer: "Adam")) {
            try target.loadStateTensors(missingSlot)
        }

        var noCounter = state
        noCounter["iterations"] = nil
        #expect(throws: OptimizerError.missingTensor(name: "iterations", optimizer: "Adam")) { try target.loadStateTensors(noCounter) }

        var fractional = state
        fractional["iterations"] = Tensor(2.5)
        #expect(throws: OptimizerError.self) { try target.loadStateTensors(fractional) }

        var vectorCounter = state
        vectorCounter["iterations"] = Tensor([2.0])
        #expect(throws: OptimizerError.shapeMismatch(name: "iterations", expected: [], found: [1])) { try target.loadStateTensors(vectorCounter) }

        // A fixed-rate checkpoint into an optimizer driven by a schedule.
        let scheduled = Adam<Double>(schedule: ExponentialDecay(initialLearningRate: 0.1, decaySteps: 5, decayRate: 0.5))
        #expect(throws: OptimizerError.self) { try scheduled.loadStateTensors(state) }

        // A different optimizer's state.
        #expect(throws: OptimizerError.self) { try SGD<Double>(momentum: 0.9).loadStateTensors(state) }

        // The untouched target still loads the original state.
        try target.loadStateTensors(state)
        #expect(target.iterations == 2)
    }

    @Test("A restored learning rate is the saved one")
    func learningRateRestored() throws {
        let a = RMSprop<Double>(learningRate: 0.01)
        a.learningRate = 0.003
        let b = RMSprop<Double>()
        try b.loadStateTensors(a.stateTensors())
        #expect(b.learningRate == 0.003)
        // In Float the saved rate carries Float's digits, unless it rounds like the configured one.
        let c = RMSprop<Float>()
        c.learningRate = 0.003
        let d = RMSprop<Float>()
        try d.loadStateTensors(c.stateTensors())
        #expect(d.learningRate == Double(Float(0.003)))
        let e = RMSprop<Float>(learningRate: 0.003)
        try e.loadStateTensors(c.stateTensors())
        #expect(e.learningRate == 0.003)
    }
}
