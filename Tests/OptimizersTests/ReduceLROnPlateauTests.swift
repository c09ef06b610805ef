import Foundation
import Optimizers
import Testing
import TestSupport

/// ReduceLROnPlateau against a hand-traced sequence and against Keras's callback.
@Suite("ReduceLROnPlateau")
struct ReduceLROnPlateauTests {
    @Test("Hand-traced: patience, min delta, cooldown and the floor")
    func handTraced() {
        var p = ReduceLROnPlateau(factor: 0.5, patience: 2, mode: .min, minDelta: 0.1, cooldown: 2, minLearningRate: 0.2)
        var lr = 1.0
        // (value, rate after the epoch, wait after, cooldown after), traced by hand from the rules:
        let trace: [(Double, Double, Int, Int)] = [
            (10.0, 1.0, 0, 0),   // first value: best = 10
            (9.95, 1.0, 1, 0),   // 9.95 + 0.1 < 10 fails: not an improvement
            (9.95, 0.5, 0, 2),   // wait reaches patience 2: halve, start a cooldown of 2
            (9.95, 0.5, 0, 1),   // cooldown 2 -> 1 resets wait; no waiting while in cooldown
            (9.80, 0.5, 0, 0),   // cooldown 1 -> 0; 9.8 + 0.1 < 10: improvement, best = 9.8
            (9.75, 0.5, 1, 0),
            (9.75, 0.25, 0, 2),  // halve
            (9.0, 0.25, 0, 1),   // an improvement during cooldown still sets best = 9
            (9.0, 0.25, 1, 0),   // cooldown ends this epoch, so waiting resumes at once
            (9.0, 0.2, 0, 2),    // max(0.125, 0.2) = 0.2
            (9.0, 0.2, 0, 1),
            (9.0, 0.2, 1, 0),
            // At the floor: 0.2 > Double(Float(0.2)) = 0.2000000030 is false, so no reduction, no
            // cooldown, and the wait keeps growing (Keras compares with np.float32(min_lr)).
            (9.0, 0.2, 2, 0),
            (9.0, 0.2, 3, 0),
        ]
        for (epoch, (value, rate, wait, cooldown)) in trace.enumerated() {
            lr = p.update(monitorValue: value, learningRate: lr)
            #expect(lr == rate, "epoch \(epoch)")
            #expect(p.wait == wait, "epoch \(epoch)")
            #expect(p.cooldownCounter == cooldown, "epoch \(epoch)")
        }
        #expect(p.best == 9.0)
        p.reset()
        #expect(p.best == nil && p.wait == 0 && p.cooldownCounter == 0)
    }

    @Test("Max mode: an increase beyond min delta is an improvement")
    func maxMode() {
        var p = ReduceLROnPlateau(factor: 0.1, patience: 1, mode: .max, minDelta: 0.01)
        #expect(p.update(monitorValue: 0.5, learningRate: 1) == 1)
        #expect(p.update(monitorValue: 0.52, learningRate: 1) == 1)
        #expect(p.best == 0.52)
        #expect(abs(p.update(monitorValue: 0.525, learningRate: 1) - 0.1) < 1e-16)
    }

    @Test("Keras defaults")
    func defaults() {
        let p = ReduceLROnPlateau()
        #expect(p.factor == 0.1 && p.patience == 10 && p.minDelta == 1e-4 && p.cooldown == 0 && p.minLearningRate == 0 && p.mode == .min)
    }

    @Test("Matches Keras's callback", arguments: ["defaults_patience3", "min_cooldown_minlr", "max_mode"])
    func matchesKeras(_ name: String) throws {
        let c = try OptimizerFixtures.file.case("plateau_\(name)")
        let params = c.params
        var p = ReduceLROnPlateau(
            factor: params["factor"] ?? 0.1, patience: Int(params["patience"]!),
            mode: params["max_mode"] == 1 ? .max : .min, minDelta: params["min_delta"] ?? 1e-4,
            cooldown: Int(params["cooldown"] ?? 0), minLearningRate: params["min_lr"] ?? 0)
        let values = try c.tensor("values", as: Double.self).scalars
        let expected = try c.tensor("learning_rates", as: Double.self).scalars
        var lr = params["initial_learning_rate"]!
        var reductions = 0
        for (epoch, (value, keras)) in zip(values, expected).enumerated() {
            let next = p.update(monitorValue: value, learningRate: lr)
            if next != lr { reductions += 1 }
            lr = next
            #expect(lr == keras, "\(name) epoch \(epoch): \(lr) vs Keras \(keras)")
        }
        #expect(reductions >= 2)
    }
}
