import Foundation
import Optimizers
import Testing
import TestSupport

/// Each optimizer minimizes a small ill-conditioned quadratic through Autograd.
@Suite("Convergence")
struct ConvergenceTests {
    /// `f(w) = 0.5 * sum(d * (w - c)²)`, minimum 0 at `w = c`; `f(w0) = 23.25`.
    static let d = Tensor<Double>([1, 4, 0.5, 2])
    static let c = Tensor<Double>([1, 1, -1, 2])
    static let w0 = Tensor<Double>([3, -2, 1, 0.5])

    static func loss(_ w: Variable<Double>) -> Variable<Double> {
        let r = w - Variable(c)
        return (r * r * Variable(d)).sum() * Variable(Tensor(0.5))
    }

    /// Runs `steps` updates and returns the final loss.
    static func minimize(_ optimizer: any Optimizer<Double>, steps: Int) -> Double {
        let w = Variable(w0, requiresGradient: true)
        for _ in 0..<steps {
            w.zeroGradient()
            loss(w).backward()
            optimizer.update([(name: "w", variable: w)])
        }
        return loss(w).value.scalar
    }

    /// (optimizer, steps, bound on the final loss, from 23.25 at the start). AdamW settles slightly
    /// off the minimum because its weight decay pulls toward zero.
    static let cases: [(String, Int, Double)] = [
        ("sgd", 300, 1e-20),
        ("sgd_nesterov", 300, 1e-12),
        ("rmsprop", 1000, 1e-8),
        ("rmsprop_centered_momentum", 1000, 1e-4),
        ("adam", 1000, 1e-8),
        ("adam_amsgrad", 1000, 1e-8),
        ("adamw", 1000, 1e-4),
    ]

    static func make(_ name: String) -> any Optimizer<Double> {
        switch name {
        case "sgd": return SGD(learningRate: 0.2)
        case "sgd_nesterov": return SGD(learningRate: 0.05, momentum: 0.9, nesterov: true)
        case "rmsprop": return RMSprop(learningRate: 0.01)
        case "rmsprop_centered_momentum": return RMSprop(learningRate: 0.005, momentum: 0.5, centered: true)
        case "adam": return Adam(learningRate: 0.05)
        case "adam_amsgrad": return Adam(learningRate: 0.05, amsgrad: true)
        case "adamw": return AdamW(learningRate: 0.05)
        default: fatalError(name)
        }
    }

    @Test("Minimizes a quadratic below the bound", arguments: 0..<cases.count)
    func converges(_ index: Int) {
        let (name, steps, bound) = Self.cases[index]
        let final = Self.minimize(Self.make(name), steps: steps)
        #expect(final < bound, "\(name): loss \(final) after \(steps) steps, bound \(bound)")
    }
}
