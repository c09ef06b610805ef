import Optimizers
import Tensor
import Testing
import TestSupport

/// The Float updates (C kernels, split across threads above 65,536 elements) on a parameter large
/// enough to be split: bit-identical to the same update applied chunk by chunk (each chunk its
/// own parameter, so no split), and within Float rounding of the Double update.
@Suite("Optimizers on large Float parameters")
struct LargeParameterTests {
    static let cases = ["adam", "adam_amsgrad", "adam_epsilon", "adamw", "adamw_decay", "rmsprop", "rmsprop_momentum",
                        "rmsprop_centered", "rmsprop_centered_momentum"]
    static let count = 300_007
    static let chunk = 1_000

    @Test("A split update equals the chunked update bit for bit and the Double update to Float precision", arguments: cases)
    func splitMatchesChunked(_ name: String) throws {
        let initial = Tensor<Float>.uniform([Self.count], lower: -1, upper: 1, seed: 21)
        let gradients = (0..<3).map { Tensor<Float>.uniform([Self.count], lower: -2, upper: 2, seed: 30 + UInt64($0)) }

        let whole = Variable(initial, requiresGradient: true)
        let wholeOptimizer = OptimizerFixtures.makeOptimizer(name, Float.self)
        let chunks = stride(from: 0, to: Self.count, by: Self.chunk).map { start in
            Variable(initial.slice(alongAxis: 0, start..<min(start + Self.chunk, Self.count)), requiresGradient: true)
        }
        let chunkedOptimizer = OptimizerFixtures.makeOptimizer(name, Float.self)
        let double = Variable(Tensor<Double>(initial), requiresGradient: true)
        let doubleOptimizer = OptimizerFixtures.makeOptimizer(name, Double.self)

        for gradient in gradients {
            whole.gradient = gradient
            wholeOptimizer.update([(name: "w", variable: whole)])
            for (k, variable) in chunks.enumerated() {
                let start = k * Self.chunk
                variable.gradient = gradient.slice(alongAxis: 0, start..<min(start + Self.chunk, Self.count))
            }
            chunkedOptimizer.update(chunks.enumerated().map { (name: "w\($0.offset)", variable: $0.element) })
            double.gradient = Tensor<Double>(gradient)
            doubleOptimizer.update([(name: "w", variable: double)])
        }
        let chunked = Tensor<Float>.concatenate(chunks.map(\.value), alongAxis: 0)
        #expect(whole.value == chunked, "\(name): the split update differs from the chunked one")
        #expect(whole.value != initial)
        let difference = maxRelativeDifference(Tensor<Double>(whole.value), double.value)
        #expect(difference < 1e-4, "\(name): Float against Double \(difference)")
    }
}
