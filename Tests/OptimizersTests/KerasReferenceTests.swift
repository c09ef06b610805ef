import Foundation
import Optimizers
import Testing
import TestSupport

/// Each optimizer and option against Keras 3 over five steps with per-step gradients
/// (`Tests/ReferenceScripts/optimizers_fixtures.py`).
@Suite("Optimizers against Keras")
struct KerasReferenceTests {
    static let steps = 5

    /// Double: the variables after every step, and the slots after the last, to 1e-12.
    @Test("Double matches Keras float64 after every step", arguments: OptimizerFixtures.optimizerCases)
    func doubleMatchesKeras(_ name: String) throws {
        let c = try OptimizerFixtures.file.case("opt_\(name)")
        #expect(try c.int("steps") == Self.steps)
        let optimizer = OptimizerFixtures.makeOptimizer(name, Double.self)
        let parameters = try OptimizerFixtures.initialParameters(c, Double.self)
        for step in 0..<Self.steps {
            try OptimizerFixtures.setGradients(c, step: step, on: parameters)
            optimizer.update(parameters)
            #expect(optimizer.iterations == step + 1)
            for p in parameters {
                let expected = try c.tensor("after/\(step)/\(p.name)", as: Double.self)
                let difference = maxRelativeDifference(p.variable.value, expected)
                #expect(difference < 1e-12, "\(name) step \(step) \(p.name): \(p.variable.value) vs Keras \(expected)")
            }
        }
        let state = optimizer.stateTensors()
        var comparedSlots = 0
        for key in c.arrays.keys where key.hasPrefix("slot/") {
            let stateKey = String(key.dropFirst("slot/".count))
            let ours = try #require(state[stateKey], "\(name): no state tensor \(stateKey); have \(state.keys.sorted())")
            let expected = try c.tensor(key, as: Double.self)
            #expect(maxRelativeDifference(ours, expected) < 1e-12, "\(name) \(stateKey): \(ours) vs Keras \(expected)")
            comparedSlots += 1
        }
        // Every Keras slot was compared, and we hold no slot Keras lacks.
        let ourSlots = state.keys.filter { $0.contains("/") }
        #expect(comparedSlots == ourSlots.count, "\(name): Keras slots \(comparedSlots), ours \(ourSlots.sorted())")
    }

    /// Float runs the same updates through the Float kernels; it agrees with float64 Keras to float
    /// precision.
    @Test("Float matches Keras to float precision", arguments: OptimizerFixtures.optimizerCases)
    func floatMatchesKeras(_ name: String) throws {
        let c = try OptimizerFixtures.file.case("opt_\(name)")
        let optimizer = OptimizerFixtures.makeOptimizer(name, Float.self)
        let parameters = try OptimizerFixtures.initialParameters(c, Float.self)
        for step in 0..<Self.steps {
            try OptimizerFixtures.setGradients(c, step: step, on: parameters)
            optimizer.update(parameters)
        }
        for p in parameters {
            let expected = try c.tensor("after/\(Self.steps - 1)/\(p.name)", as: Float.self)
            #expect(maxRelativeDifference(p.variable.value, expected) < 1e-5, "\(name) \(p.name): \(p.variable.value) vs Keras \(expected)")
        }
    }

    /// Each option changes the result on the fixtures' gradients, so the comparisons above would
    /// notice an option that was ignored.
    @Test("Every option changes the trajectory", arguments: [
        "sgd_momentum", "sgd_nesterov", "sgd_clipnorm", "sgd_weight_decay", "rmsprop_momentum", "rmsprop_centered",
        "rmsprop_global_clipnorm", "rmsprop_epsilon", "adam_amsgrad", "adam_clipvalue", "adam_epsilon", "adamw",
    ])
    func optionsMatter(_ option: String) throws {
        let base: any Optimizer<Double> = switch option {
        case "sgd_momentum": SGD(learningRate: 0.1)
        case "sgd_nesterov", "sgd_clipnorm": SGD(learningRate: 0.1, momentum: 0.9)
        case "sgd_weight_decay": SGD(learningRate: 0.1, momentum: 0.5)
        case "rmsprop_momentum", "rmsprop_centered", "rmsprop_global_clipnorm": RMSprop(learningRate: 0.01)
        case "rmsprop_epsilon": RMSprop(learningRate: 0.01, rho: 0.8)
        case "adam_amsgrad": Adam(learningRate: 0.01, beta2: 0.9)
        case "adam_epsilon": Adam(learningRate: 0.01, beta1: 0.8, beta2: 0.9)
        default: Adam(learningRate: 0.01)
        }
        let c = try OptimizerFixtures.file.case("opt_\(option)")
        func run(_ optimizer: any Optimizer<Double>) throws -> Tensor<Double> {
            let parameters = try OptimizerFixtures.initialParameters(c, Double.self)
            for step in 0..<Self.steps {
                try OptimizerFixtures.setGradients(c, step: step, on: parameters)
                optimizer.update(parameters)
            }
            return parameters[0].variable.value
        }
        let difference = maxRelativeDifference(try run(OptimizerFixtures.makeOptimizer(option)), try run(base))
        #expect(difference > 1e-4, "\(option): \(difference)")
    }

    @Test("Parameters without a gradient keep their value and state")
    func skippedParameters() throws {
        let optimizer = Adam<Double>(learningRate: 0.1, weightDecay: 0.5)
        let a = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
        let b = Variable(Tensor<Double>([3, 4]), requiresGradient: true)
        a.gradient = Tensor([0.5, -0.5])
        optimizer.update([(name: "a", variable: a), (name: "b", variable: b)])
        #expect(b.value == Tensor([3, 4]))
        #expect(optimizer.stateTensors()["b/momentum"] == nil)
        #expect(optimizer.iterations == 1)
        // No gradient at all: nothing happens, not even the count.
        a.gradient = nil
        let before = a.value
        optimizer.update([(name: "a", variable: a), (name: "b", variable: b)])
        #expect(optimizer.iterations == 1)
        #expect(a.value == before)
    }

    @Test("Keras defaults and configuration")
    func defaultsAndConfiguration() {
        let sgd = SGD<Float>()
        #expect(sgd.learningRate == 0.01 && sgd.momentum == 0 && !sgd.nesterov && sgd.weightDecay == 0 && sgd.clipping == nil)
        let rms = RMSprop<Float>()
        #expect(rms.learningRate == 0.001 && rms.rho == 0.9 && rms.momentum == 0 && rms.epsilon == 1e-7 && !rms.centered)
        let adam = Adam<Float>()
        #expect(adam.learningRate == 0.001 && adam.beta1 == 0.9 && adam.beta2 == 0.999 && adam.epsilon == 1e-7 && !adam.amsgrad)
        #expect(adam.weightDecay == 0)
        let adamW = AdamW<Float>()
        #expect(adamW.weightDecay == 0.004 && adamW.learningRate == 0.001 && adamW.epsilon == 1e-7)

        #expect(adam.configuration == [
            "name": "Adam", "learning_rate": "0.001", "beta_1": "0.9", "beta_2": "0.999", "epsilon": "1e-07",
            "amsgrad": "false",
        ])
        #expect(adamW.configuration["name"] == "AdamW" && adamW.configuration["weight_decay"] == "0.004")
        let clipped = SGD<Float>(learningRate: 0.1, momentum: 0.9, nesterov: true, clipping: .globalClipNorm(2))
        #expect(clipped.configuration == [
            "name": "SGD", "learning_rate": "0.1", "momentum": "0.9", "nesterov": "true", "global_clipnorm": "2.0",
        ])
        #expect(RMSprop<Double>(centered: true, clipping: .clipValue(0.5)).configuration["clipvalue"] == "0.5")
        let scheduled = Adam<Float>(schedule: ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5))
        #expect(scheduled.configuration["learning_rate"]?.hasPrefix("ExponentialDecay(") == true)
    }
}
