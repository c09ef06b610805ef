// two-moons: trains a small multilayer perceptron on the classic two-moons problem with nothing but
// Tensor and Autograd (the Layers and Optimizers modules will make this shorter), and prints the loss
// and accuracy as it goes. Run: swift run -c release two-moons
import DeepLearning
import Foundation

/// `count` points on two interleaving half circles with Gaussian noise, labels 0 and 1
/// (scikit-learn's `make_moons`), drawn from a seeded generator.
func makeMoons(count: Int, noise: Double, seed: UInt64) -> (x: Tensor<Float>, y: Tensor<Float>) {
    var generator = SeededGenerator(seed: seed)
    var points: [Float] = []
    var labels: [Float] = []
    for i in 0..<count {
        let upper = i % 2 == 0
        let t = Double.pi * generator.nextUnitDouble()
        var px = upper ? cos(t) : 1 - cos(t)
        var py = upper ? sin(t) : 0.5 - sin(t)
        px += noise * generator.nextStandardNormal()
        py += noise * generator.nextStandardNormal()
        points += [Float(px), Float(py)]
        labels.append(upper ? 0 : 1)
    }
    return (Tensor(shape: [count, 2], scalars: points), Tensor(shape: [count, 1], scalars: labels))
}

/// A parameter initialized like Keras's glorot_uniform.
func glorotUniform(_ fanIn: Int, _ fanOut: Int, seed: UInt64) -> Variable<Float> {
    let limit = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
    return Variable(Tensor.uniform([fanIn, fanOut], lower: -limit, upper: limit, seed: seed), requiresGradient: true)
}

/// A multilayer perceptron 2-32-32-1 with tanh hidden layers.
struct MLP {
    let w1 = glorotUniform(2, 32, seed: 10), b1 = Variable(Tensor<Float>.zeros([32]), requiresGradient: true)
    let w2 = glorotUniform(32, 32, seed: 11), b2 = Variable(Tensor<Float>.zeros([32]), requiresGradient: true)
    let w3 = glorotUniform(32, 1, seed: 12), b3 = Variable(Tensor<Float>.zeros([1]), requiresGradient: true)

    /// Every trainable parameter.
    var parameters: [Variable<Float>] { [w1, b1, w2, b2, w3, b3] }

    /// The logits for a batch `[n, 2]`.
    func logits(_ x: Variable<Float>) -> Variable<Float> {
        let h1 = (x.matmul(w1) + b1).tanh()
        let h2 = (h1.matmul(w2) + b2).tanh()
        return h2.matmul(w3) + b3
    }

    /// Share of points whose predicted class (logit > 0) matches the label.
    func accuracy(_ x: Tensor<Float>, _ y: Tensor<Float>) -> Double {
        let z = withoutGradients { logits(Variable(x)).value }
        return Double(z.isGreater(than: Tensor(0)).isEqual(to: y).sumAll()) / Double(y.count)
    }
}

let train = makeMoons(count: 512, noise: 0.15, seed: 1)
let test = makeMoons(count: 512, noise: 0.15, seed: 2)
let model = MLP()
let parameters = model.parameters

print("two-moons: 512 training points, MLP 2-32-32-1 (tanh), full-batch gradient descent with momentum 0.9")
let learningRate: Float = 0.1
var velocity = parameters.map { Tensor<Float>.zeros($0.shape) }
let start = Date()
for step in 0...1500 {
    let loss = sigmoidCrossEntropy(logits: model.logits(Variable(train.x)), labels: train.y).mean()
    loss.backward()
    for (i, p) in parameters.enumerated() {
        velocity[i] = velocity[i] * 0.9 - p.gradient! * learningRate
        p.value += velocity[i]
        p.zeroGradient()
    }
    if step % 250 == 0 {
        let line = String(
            format: "step %4d  loss %.4f  train accuracy %.3f  test accuracy %.3f",
            step, Double(loss.value.scalar), model.accuracy(train.x, train.y), model.accuracy(test.x, test.y))
        print(line)
    }
}
print(String(format: "done in %.2f s", Date().timeIntervalSince(start)))
