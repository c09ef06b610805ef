import Foundation
import Optimizers
import Testing
import TestSupport

/// Learning-rate schedules against Keras's schedule values, and how optimizers use them.
@Suite("Learning-rate schedules")
struct ScheduleTests {
    static let cases: [(String, any LearningRateSchedule)] = [
        ("exponential", ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5)),
        ("exponential_staircase", ExponentialDecay(initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, staircase: true)),
        ("exponential_staircase_3", ExponentialDecay(initialLearningRate: 0.3, decaySteps: 7, decayRate: 0.8, staircase: true)),
        // StepDecay has the values of Keras's staircase ExponentialDecay.
        ("exponential_staircase_3", StepDecay(initialLearningRate: 0.3, stepSize: 7, factor: 0.8)),
        ("exponential_staircase", StepDecay(initialLearningRate: 0.1, stepSize: 10, factor: 0.5)),
        ("piecewise", PiecewiseConstantDecay(boundaries: [10, 50], values: [0.1, 0.05, 0.01])),
        ("cosine", CosineDecay(initialLearningRate: 0.1, decaySteps: 100)),
        ("cosine_alpha", CosineDecay(initialLearningRate: 0.1, decaySteps: 100, alpha: 0.1)),
        ("cosine_warmup", CosineDecay(initialLearningRate: 0, decaySteps: 100, alpha: 0.05, warmupTarget: 0.1, warmupSteps: 20)),
    ]

    @Test("Schedules match Keras at steps 0 to 1000", arguments: 0..<cases.count)
    func matchesKeras(_ index: Int) throws {
        let (name, schedule) = Self.cases[index]
        let c = try OptimizerFixtures.file.case("schedule_\(name)")
        let steps = try c.tensor("steps", as: Double.self).scalars.map { Int($0) }
        let expected = try c.tensor("values", as: Double.self).scalars
        #expect(steps.count == expected.count && steps.count > 10)
        for (step, value) in zip(steps, expected) {
            let ours = schedule.learningRate(step: step)
            #expect(abs(ours - value) <= 1e-12 * max(1, abs(value)), "\(name)(\(type(of: schedule))) at step \(step): \(ours) vs Keras \(value)")
        }
    }

    @Test("Piecewise boundaries belong to the interval they close")
    func piecewiseBoundaries() {
        let s = PiecewiseConstantDecay(boundaries: [3, 6], values: [1, 2, 3])
        #expect((0...8).map { s.learningRate(step: $0) } == [1, 1, 1, 1, 2, 2, 2, 3, 3])
    }

    @Test("Cosine warmup rises linearly, then decays to alpha times the target")
    func cosineClosedForm() {
        let s = CosineDecay(initialLearningRate: 0.0, decaySteps: 10, alpha: 0.2, warmupTarget: 1.0, warmupSteps: 4)
        #expect(s.learningRate(step: 2) == 0.5)
        #expect(s.learningRate(step: 4) == 1.0)
        #expect(abs(s.learningRate(step: 9) - (0.8 * 0.5 * (1 + cos(Double.pi / 2)) + 0.2)) < 1e-15)
        #expect(abs(s.learningRate(step: 14) - 0.2) < 1e-15)
        #expect(abs(s.learningRate(step: 400) - 0.2) < 1e-15)
    }

    @Test("An optimizer evaluates its schedule at iterations")
    func optimizerUsesSchedule() {
        let schedule = ExponentialDecay(initialLearningRate: 1.0, decaySteps: 1, decayRate: 0.5)
        let sgd = SGD<Double>(schedule: schedule)
        let w = Variable(Tensor<Double>([0]), requiresGradient: true)
        var expected = 0.0
        for step in 0..<4 {
            #expect(sgd.learningRate == pow(0.5, Double(step)))
            w.gradient = Tensor([1])
            sgd.update([(name: "w", variable: w)])
            expected -= pow(0.5, Double(step))
            #expect(w.value.scalars[0] == expected)
        }
        // Setting a rate replaces the schedule.
        sgd.learningRate = 0.25
        #expect(sgd.schedule == nil)
        w.gradient = Tensor([1])
        sgd.update([(name: "w", variable: w)])
        #expect(w.value.scalars[0] == expected - 0.25)
        #expect(sgd.learningRate == 0.25)
    }
}
