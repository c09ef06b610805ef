import Layers
import TestSupport
import Testing

@Suite("Models: naming, building, summary")
struct ModelTests {
    @Test func denseBaselineHasTheSeedParameterCount() throws {
        // seed-models.md "dense": 22,500*128+128 + 128*64+64 + 64+1 = 2,888,449.
        let model = try Sequential<Float>(inputShape: [22_500], seed: 1) {
            Dense(128, activation: .relu)
            Dense(64, activation: .relu)
            Dense(1, activation: .sigmoid)
        }
        #expect(model.totalParameterCount == 2_888_449)
        #expect(model.namedWeights.map(\.name) == [
            "dense.kernel", "dense.bias", "dense_1.kernel", "dense_1.bias", "dense_2.kernel", "dense_2.bias",
        ])
        let summary = model.summary()
        #expect(summary.contains("dense (Dense)"))
        #expect(summary.contains("(None, 128)"))
        #expect(summary.contains("2,880,128"))
        #expect(summary.contains("Total params: 2,888,449 (11.02 MB)"))
        #expect(summary.contains("Non-trainable params: 0 (0.00 B)"))
    }

    @Test func sameSeedSameWeightsDifferentSeedDifferentWeights() throws {
        func make(_ seed: UInt64) throws -> Sequential<Float> {
            try Sequential<Float>(inputShape: [4], seed: seed) { Dense(3); Dense(2) }
        }
        let a = try make(7), b = try make(7), c = try make(8)
        #expect(a.namedWeights.map(\.weight.variable.value) == b.namedWeights.map(\.weight.variable.value))
        #expect(a.namedWeights[0].weight.variable.value != c.namedWeights[0].weight.variable.value)
    }

    @Test func wrongInputShapeIsThrownNamingBothShapes() throws {
        let model = try Sequential<Float>(inputShape: [4], seed: 1) { Dense(2) }
        #expect(throws: LayerError.self) { try model.predict(Tensor<Float>.zeros([3, 5])) }
        do {
            _ = try model.predict(Tensor<Float>.zeros([3, 5]))
        } catch {
            #expect("\(error)".contains("[-1, 4]") && "\(error)".contains("[3, 5]"))
        }
        #expect(try model.predict(Tensor<Float>.zeros([3, 4])).shape == [3, 2])
    }

    @Test func kerasSnakeCaseMatchesKerasNames() {
        #expect(kerasSnakeCase("Conv2D") == "conv2d")
        #expect(kerasSnakeCase("MaxPooling2D") == "max_pooling2d")
        #expect(kerasSnakeCase("BatchNormalization") == "batch_normalization")
        #expect(kerasSnakeCase("SpatialDropout2D") == "spatial_dropout2d")
        #expect(kerasSnakeCase("GlobalAveragePooling2D") == "global_average_pooling2d")
        #expect(kerasSnakeCase("LeakyReLU") == "leaky_re_lu")
        #expect(kerasSnakeCase("SeparableConv2D") == "separable_conv2d")
    }

    @Test func addSumsBranchesAndGradientsFlowThroughBoth() throws {
        let model = try Sequential<Double>(inputShape: [3], seed: 2) {
            Add {
                Identity()
                Dense(3, activation: .tanh)
            }
            Dense(1)
        }
        #expect(model.allLayers.map(\.name) == ["", "add", "identity", "dense", "dense_1"].map { $0 == "" ? model.name : $0 })
        let x = Tensor<Double>.uniform([5, 3], lower: -1, upper: 1, seed: 3)
        // The model's forward pass equals the hand-written residual computation x + tanh(x W1 + b1), then W2, b2.
        let w = model.trainableVariables.map(\.value)
        let manual = (x + (x.matmul(w[0]) + w[1]).tanh()).matmul(w[2]) + w[3]
        #expect(maxRelativeDifference(model(x), manual) < 1e-14)
        // Gradients reach the input and every weight through both branches.
        let input = Variable(x, requiresGradient: true)
        let result = checkGradients(of: [input] + model.trainableVariables) {
            var context = ForwardContext.inference
            return model(input, context: &context)
        }
        #expect(result.passed, "\(result)")
        #expect(result.checkedCount == 15 + 9 + 3 + 3 + 1)
    }

    @Test func orthogonalInitializerIsOrthogonal() {
        var g = SeededGenerator(seed: 4)
        let tall: Tensor<Double> = Initializer.orthogonal(gain: 1).make([6, 3], generator: &g)
        let wide: Tensor<Double> = Initializer.orthogonal(gain: 2).make([3, 6], generator: &g)
        #expect(maxRelativeDifference(tall.matmul(tall, transposeSelf: true), Tensor.identity(3)) < 1e-12)
        #expect(maxRelativeDifference(wide.matmul(wide, transposeOther: true), Tensor.identity(3) * 4) < 1e-12)
    }

    @Test func initializerFansAndRangesFollowKeras() {
        #expect(Initializer.fans([3, 3, 16, 32]) == (144, 288))
        #expect(Initializer.fans([100, 10]) == (100, 10))
        var g = SeededGenerator(seed: 5)
        let glorot: Tensor<Double> = Initializer.glorotUniform.make([100, 50], generator: &g)
        let limit = (6.0 / 150).squareRoot()
        #expect(glorot.scalars.allSatisfy { abs($0) <= limit })
        #expect(glorot.max().scalar > 0.95 * limit)
        let he: Tensor<Double> = Initializer.heNormal.make([400, 100], generator: &g)
        // Truncated at 2 sigma of the pre-truncation spread; the sample spread is sqrt(2 / fanIn).
        let sigma = (2.0 / 400).squareRoot()
        #expect(he.scalars.allSatisfy { abs($0) <= 2 * sigma / 0.87962566103423978 + 1e-12 })
        #expect(abs(he.variance().scalar.squareRoot() - sigma) < 0.03 * sigma)
    }
}
