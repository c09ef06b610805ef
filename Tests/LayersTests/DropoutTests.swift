import Layers
import TestSupport
import Testing

@Suite("Dropout and SpatialDropout2D layers")
struct DropoutTests {
    static func built<L: Layer>(_ layer: L, _ inputShape: [Int]) throws -> L {
        var generator = SeededGenerator(seed: 0)
        try layer.build(inputShape: inputShape, generator: &generator)
        return layer
    }

    static func run<L: Layer>(_ layer: L, _ x: Tensor<L.Scalar>, mode: LayerMode = .training, seed: UInt64) -> Tensor<L.Scalar> {
        var context = ForwardContext(mode: mode, seed: seed)
        return layer(Variable(x), context: &context).value
    }

    @Test func shapesNamesAndNoWeights() throws {
        let dropout = Dropout<Float>(0.5)
        #expect(dropout.typeName == "Dropout" && dropout.weights.isEmpty)
        #expect(try dropout.outputShape(for: [7, 3]) == [7, 3])
        let spatial = SpatialDropout2D<Float>(0.2)
        #expect(spatial.typeName == "SpatialDropout2D" && spatial.weights.isEmpty)
        #expect(try spatial.outputShape(for: [5, 6, 3]) == [5, 6, 3])
        #expect(throws: LayerError.self) { try spatial.outputShape(for: [5, 3]) }
        var generator = SeededGenerator(seed: 0)
        #expect(throws: LayerError.self) { try spatial.build(inputShape: [4, 4, 4, 4], generator: &generator) }
        let model = try Sequential<Float>(inputShape: [4, 4, 2], seed: 1) {
            SpatialDropout2D(0.1)
            Dropout(0.5)
            Dropout(0.5)
        }
        #expect(model.allLayers.dropFirst().map(\.name) == ["spatial_dropout2d", "dropout", "dropout_1"])
        #expect(model.totalParameterCount == 0)
    }

    @Test func identityInInferenceMode() throws {
        let x = Tensor<Float>.normal([4, 3, 3, 2], seed: 1)
        for layer in [Dropout<Float>(0.5), SpatialDropout2D<Float>(0.5)] as [any Layer<Float>] {
            _ = try Self.built(layer, [3, 3, 2])
            let input = Variable(x)
            var context = ForwardContext.inference
            #expect(layer(input, context: &context) === input)
            #expect(layer(x) == x)
        }
        // Rate 0 is the identity in training too; rate 1 drops everything, as in Keras.
        #expect(Self.run(try Self.built(Dropout<Float>(0), [3, 3, 2]), x, seed: 3) == x)
        #expect(Self.run(try Self.built(Dropout<Float>(1), [3, 3, 2]), x, seed: 3) == Tensor.zeros(x.shape))
    }

    @Test func trainingDropsTheRateAndScalesTheRest() throws {
        let rate = 0.3
        let x = Tensor<Float>.uniform([250, 400], lower: 0.5, upper: 1.5, seed: 2)
        let layer = try Self.built(Dropout<Float>(rate), [400])
        let y = Self.run(layer, x, seed: 11)
        let scale = Float(1 / (1 - rate))
        var dropped = 0
        for (xi, yi) in zip(x.scalars, y.scalars) {
            if yi == 0 {
                dropped += 1
            } else {
                #expect(yi == xi * scale)
            }
        }
        // 100,000 Bernoulli(0.3) draws: standard deviation of the fraction 0.00145.
        let fraction = Double(dropped) / Double(x.count)
        #expect(abs(fraction - rate) < 0.01, "dropped fraction \(fraction)")
        // Inverted dropout keeps the expected value.
        #expect(abs(Double(y.sumAll() / x.sumAll()) - 1) < 0.02)

        // Rate 0.5 scales by exactly 2: the kept values are exactly x / (1 - rate).
        let half = Self.run(try Self.built(Dropout<Double>(0.5), [400]), Tensor<Double>(x), seed: 12)
        for (xi, yi) in zip(Tensor<Double>(x).scalars, half.scalars) where yi != 0 {
            #expect(yi == xi / (1 - 0.5))
        }
    }

    @Test func sameSeedSameMaskDifferentSeedDifferentMask() throws {
        let x = Tensor<Float>.ones([16, 32])
        let layer = try Self.built(Dropout<Float>(0.5), [32])
        #expect(Self.run(layer, x, seed: 5) == Self.run(layer, x, seed: 5))
        #expect(Self.run(layer, x, seed: 5) != Self.run(layer, x, seed: 6))
        // The context's generator advances: two calls in one context draw different masks.
        var context = ForwardContext(mode: .training, seed: 5)
        let first = layer(Variable(x), context: &context).value
        let second = layer(Variable(x), context: &context).value
        #expect(first == Self.run(layer, x, seed: 5) && first != second)

        // An odd element count: the last element is drawn too (sometimes kept, sometimes dropped).
        let odd = try Self.built(Dropout<Float>(0.5), [13])
        let lastValues = Set((0..<40).map { Self.run(odd, Tensor<Float>.ones([7, 13]), seed: UInt64($0)).scalars[90] })
        #expect(lastValues == [0, 2])
    }

    @Test func spatialDropoutDropsWholeChannelsPerExample() throws {
        let rate = 0.4
        let (n, h, w, c) = (64, 3, 2, 48)
        let x = Tensor<Double>.uniform([n, h, w, c], lower: 0.5, upper: 1.5, seed: 3)
        let layer = try Self.built(SpatialDropout2D<Double>(rate), [h, w, c])
        let y = Self.run(layer, x, seed: 21)
        let scale = 1 / (1 - rate)
        var droppedChannels = 0
        var masksDifferAcrossExamples = false
        for b in 0..<n {
            for ch in 0..<c {
                let values = (0..<(h * w)).map { p in y.scalars[((b * h * w) + p) * c + ch] }
                let inputs = (0..<(h * w)).map { p in x.scalars[((b * h * w) + p) * c + ch] }
                if values.allSatisfy({ $0 == 0 }) {
                    droppedChannels += 1
                } else {
                    #expect(zip(values, inputs).allSatisfy { $0 == $1 * scale }, "example \(b) channel \(ch) partly dropped")
                }
                if b > 0, (y.scalars[b * h * w * c + ch] == 0) != (y.scalars[ch] == 0) { masksDifferAcrossExamples = true }
            }
        }
        // 3072 channel draws: standard deviation of the fraction 0.009.
        let fraction = Double(droppedChannels) / Double(n * c)
        #expect(abs(fraction - rate) < 0.05, "dropped channel fraction \(fraction)")
        #expect(masksDifferAcrossExamples)
        #expect(Self.run(layer, x, seed: 21) == y && Self.run(layer, x, seed: 22) != y)
    }

    @Test func gradientsForAFixedMask() throws {
        let cases: [(any Layer<Double>, rate: Double, shape: [Int])] = [
            (Dropout<Double>(0.4), 0.4, [3, 4, 5]), (SpatialDropout2D<Double>(0.5), 0.5, [3, 2, 2, 6]),
        ]
        for (layer, rate, shape) in cases {
            _ = try Self.built(layer, Array(shape.dropFirst()))
            let input = Variable(Tensor<Double>.normal(shape, seed: 4), requiresGradient: true)
            // Re-seeding inside the closure gives the same mask at every re-evaluation.
            let result = checkGradients(of: [input]) {
                var context = ForwardContext(mode: .training, seed: 99)
                return layer(input, context: &context)
            }
            #expect(result.passed, "\(layer.typeName): \(result)")
            // The gradient of sum(y) is the mask itself: 0 where dropped, 1 / (1 - rate) where kept.
            input.zeroGradient()
            var context = ForwardContext(mode: .training, seed: 99)
            let y = layer(input, context: &context)
            y.backward(seed: Tensor.ones(shape))
            let gradient = try #require(input.gradient)
            #expect(gradient.scalars.contains(0) && gradient.scalars.contains(1 / (1 - rate)))
            for (g, yi) in zip(gradient.scalars, y.value.scalars) {
                #expect(yi == 0 ? g == 0 : g == 1 / (1 - rate))
            }
        }
    }

    /// Float dropout generates and applies its mask in one pass (forward and backward, split
    /// across threads): it drops exactly the elements the mask of the Double path drops for the
    /// same seed, scales the rest by the same Float factor, and its gradient is that mask.
    @Test func floatFusedDropoutDropsTheMaskOfTheDoublePath() throws {
        let shape = [3, 37, 41, 29]  // 131,979 elements: odd, several parts
        let rate = 0.3
        let x = Tensor<Double>(Tensor<Float>(Tensor<Double>.uniform(shape, lower: 0.5, upper: 1.5, seed: 8)))
        let g = Tensor<Double>(Tensor<Float>(Tensor<Double>.uniform(shape, lower: -1, upper: 1, seed: 9)))
        func run<S: TensorScalar>(_ type: S.Type) throws -> (y: [S], dx: [S]) {
            let layer = try Self.built(Dropout<S>(rate), Array(shape.dropFirst()))
            let input = Variable(Tensor<S>(x), requiresGradient: true)
            var context = ForwardContext(mode: .training, seed: 31)
            let y = layer(input, context: &context)
            y.backward(seed: Tensor<S>(g))
            return (y.value.scalars, input.gradient!.scalars)
        }
        let float = try run(Float.self), double = try run(Double.self)
        let scale = Float(1 / (1 - rate))
        let xs = Tensor<Float>(x).scalars, gs = Tensor<Float>(g).scalars
        var mismatches = 0, dropped = 0
        for i in 0..<xs.count {
            let kept = double.y[i] != 0
            if !kept { dropped += 1 }
            if float.y[i] != (kept ? xs[i] * scale : 0) || float.dx[i] != (kept ? gs[i] * scale : 0) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(abs(Double(dropped) / Double(xs.count) - rate) < 0.01)
        // The last (odd) element is drawn like the others: over seeds it is kept and dropped.
        let last = try Self.built(Dropout<Float>(0.5), [3])
        let lastValues = Set((0..<40).map { Self.run(last, Tensor<Float>.ones([5, 3]), seed: UInt64($0)).scalars[14] })
        #expect(lastValues == [0, 2])
    }

    /// A Dropout directly followed by a MaxPool2D runs fused inside a Sequential (the pooling reads
    /// through the mask): the output, the input gradient and the generator's state equal those of
    /// the two layers called one after the other, for disjoint windows (2x2, also with padding and
    /// an odd size) and overlapping ones (3x3 stride 2 same), at sizes split across threads, with
    /// ties (ReLU-like zeros) and a NaN; odd channel counts are not fused and still agree.
    @Test func fusedDropoutAndMaxPoolEqualTheTwoLayers() throws {
        let cases: [(shape: [Int], pool: MaxPool2D<Float>)] = [
            ([6, 40, 38, 32], MaxPool2D<Float>(2)),
            ([5, 33, 35, 18], MaxPool2D<Float>(2, padding: .same)),
            ([4, 37, 36, 34], MaxPool2D<Float>(3, strides: 2, padding: .same)),
            ([3, 20, 22, 7], MaxPool2D<Float>(2)),
        ]
        for (shape, pool) in cases {
            // Half the inputs are exactly 0 (as after a ReLU): many ties, and dropped elements tie with them.
            var values = Tensor<Float>.uniform(shape, lower: -1, upper: 1, seed: 61).scalars.map { Swift.max($0, 0) }
            values[values.count / 3] = .nan
            let x = Tensor<Float>(shape: shape, scalars: values)
            let dropout = Dropout<Float>(0.25)
            let model = try Sequential<Float>(inputShape: Array(shape.dropFirst()), seed: 1, layers: [dropout, pool])
            var results: [[Float]] = [], draws: [UInt64] = []
            for fused in [true, false] {
                let input = Variable(x, requiresGradient: true)
                var context = ForwardContext(mode: .training, seed: 77)
                let y = fused ? model(input, context: &context) : pool(dropout(input, context: &context), context: &context)
                if fused { #expect((y.operationName == "dropout+maxPool2D") == (shape[3] % 2 == 0), "\(shape)") }
                let g = Tensor<Float>.uniform(y.shape, lower: -1, upper: 1, seed: 62)
                y.backward(seed: g)
                results.append(y.value.scalars.map { $0.isNaN ? -7 : $0 })
                results.append(input.gradient!.scalars.map { $0.isNaN ? -7 : $0 })
                draws.append(context.generator.next())
                // Without gradients (withoutGradients in training mode): the same output, no indices kept.
                var plain = ForwardContext(mode: .training, seed: 77)
                let unrecorded = withoutGradients { model(Variable(x), context: &plain) }
                #expect(unrecorded.value.scalars.map { $0.isNaN ? -7 : $0 } == results[results.count - 2], "\(shape)")
            }
            #expect(results[0] == results[2], "\(shape) output")
            #expect(results[1] == results[3], "\(shape) input gradient")
            #expect(draws[0] == draws[1], "\(shape) generator state")
            #expect(results[1].contains(0) && results[1].contains { $0 != 0 && $0 != -7 })
        }
    }
}
