import Foundation
import Optimizers
import TestSupport

/// The fixture written by `Tests/ReferenceScripts/optimizers_fixtures.py` (Keras 3.15.1 on
/// TensorFlow 2.21.0, float64).
enum OptimizerFixtures {
    static let file: ReferenceFixture = {
        do {
            return try ReferenceFixture.load("optimizers.json", from: .module)
        } catch {
            fatalError("optimizers.json: \(error)")
        }
    }()

    /// The parameter names and the order the script and the tests use.
    static let parameterNames = ["dense.kernel", "dense.bias"]

    /// The optimizer cases, each with the optimizer the Keras script built (same hyperparameters).
    static let optimizerCases = [
        "sgd", "sgd_momentum", "sgd_nesterov", "sgd_weight_decay", "sgd_clipnorm", "sgd_schedule",
        "rmsprop", "rmsprop_momentum", "rmsprop_centered", "rmsprop_centered_momentum", "rmsprop_epsilon",
        "rmsprop_global_clipnorm", "rmsprop_weight_decay",
        "adam", "adam_amsgrad", "adam_epsilon", "adam_clipvalue", "adam_schedule",
        "adamw", "adamw_decay", "adamw_skip", "sgd_momentum_skip",
    ]

    /// Our optimizer configured as the Keras one of fixture case `opt_<name>`.
    static func makeOptimizer<S: TensorScalar>(_ name: String, _: S.Type = S.self) -> any Optimizer<S> {
        switch name {
        case "sgd": return SGD<S>(learningRate: 0.1)
        case "sgd_momentum": return SGD<S>(learningRate: 0.1, momentum: 0.9)
        case "sgd_nesterov": return SGD<S>(learningRate: 0.1, momentum: 0.9, nesterov: true)
        case "sgd_weight_decay": return SGD<S>(learningRate: 0.1, momentum: 0.5, weightDecay: 0.2)
        case "sgd_clipnorm": return SGD<S>(learningRate: 0.1, momentum: 0.9, clipping: .clipNorm(1))
        case "sgd_schedule":
            return SGD<S>(momentum: 0.5, schedule: ExponentialDecay(initialLearningRate: 0.2, decaySteps: 2, decayRate: 0.5))
        case "rmsprop": return RMSprop<S>(learningRate: 0.01)
        case "rmsprop_momentum": return RMSprop<S>(learningRate: 0.01, momentum: 0.9)
        case "rmsprop_centered": return RMSprop<S>(learningRate: 0.01, centered: true)
        case "rmsprop_centered_momentum": return RMSprop<S>(learningRate: 0.01, momentum: 0.5, centered: true)
        case "rmsprop_epsilon": return RMSprop<S>(learningRate: 0.01, rho: 0.8, epsilon: 0.1)
        case "rmsprop_global_clipnorm": return RMSprop<S>(learningRate: 0.01, clipping: .globalClipNorm(1))
        case "rmsprop_weight_decay": return RMSprop<S>(learningRate: 0.01, weightDecay: 0.5)
        case "adam": return Adam<S>(learningRate: 0.01)
        case "adam_amsgrad": return Adam<S>(learningRate: 0.01, beta2: 0.9, amsgrad: true)
        case "adam_epsilon": return Adam<S>(learningRate: 0.01, beta1: 0.8, beta2: 0.9, epsilon: 0.1)
        case "adam_clipvalue": return Adam<S>(learningRate: 0.01, clipping: .clipValue(0.5))
        case "adam_schedule": return Adam<S>(schedule: CosineDecay(initialLearningRate: 0.05, decaySteps: 4, alpha: 0.1))
        case "adamw": return AdamW<S>(learningRate: 0.01)
        case "adamw_decay": return AdamW<S>(learningRate: 0.01, weightDecay: 0.3, amsgrad: true)
        case "adamw_skip": return AdamW<S>(learningRate: 0.01, weightDecay: 0.3, clipping: .globalClipNorm(1))
        case "sgd_momentum_skip": return SGD<S>(learningRate: 0.1, momentum: 0.9, weightDecay: 0.2)
        default: fatalError("no optimizer for fixture case \(name)")
        }
    }

    /// The case's parameters at their initial values, as named variables.
    static func initialParameters<S: TensorScalar>(_ c: FixtureCase, _: S.Type = S.self) throws -> [(name: String, variable: Variable<S>)] {
        try parameterNames.map { name in
            (name: name, variable: Variable(try c.tensor("initial/\(name)", as: S.self), requiresGradient: true))
        }
    }

    /// Sets each parameter's gradient to the case's gradient at `step` (nil where the case has none).
    static func setGradients<S: TensorScalar>(_ c: FixtureCase, step: Int, on parameters: [(name: String, variable: Variable<S>)]) throws {
        for p in parameters {
            let key = "gradient/\(step)/\(p.name)"
            p.variable.gradient = c.arrays[key] != nil ? try c.tensor(key, as: S.self) : nil
        }
    }
}
