import Layers
import Testing

/// The allocation-free `into:` entry points of the training step (pooling, dropout, batch
/// normalization): written into destinations prefilled with NaN, they must give bitwise the
/// values and gradients of the recorded graph path, at sizes split across threads, with channel
/// counts that are not multiples of 16 and odd spatial sizes, in Float and Double.
@Suite("Planned (into) kernels of the training step")
struct PlannedKernelTests {
    /// A tensor of `shape` filled with NaN (garbage the into calls must overwrite).
    static func garbage<S: TensorScalar>(_ shape: [Int]) -> Tensor<S> { Tensor.full(shape, S.nan) }

    /// Bitwise equality (NaN-aware, sign of zero included).
    static func same<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Bool {
        a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy {
            $0.sign == $1.sign && $0.exponentBitPattern == $1.exponentBitPattern
                && $0.significandBitPattern == $1.significandBitPattern
        }
    }

    /// The graph path: `layers` as a built `Sequential` on `x` in training with `seed`, then
    /// backward from the upstream gradient `w(outputShape)`: output, input gradient, and the
    /// layers' weight gradients and values.
    static func graph<S: TensorScalar>(
        _ layers: [any Layer<S>], _ x: Tensor<S>, seed: UInt64, upstream: ([Int]) -> Tensor<S>
    ) -> (y: Tensor<S>, dx: Tensor<S>, gradients: [Tensor<S>]) {
        let model = Sequential<S>(layers: layers)
        var generator = SeededGenerator(seed: 5)
        try! model.build(inputShape: Array(x.shape.dropFirst()), generator: &generator)
        for layer in layers { for w in layer.weights { w.variable.zeroGradient() } }
        let input = Variable(x, requiresGradient: true)
        var context = ForwardContext(mode: .training, seed: seed)
        let y = model(input, context: &context)
        y.backward(seed: upstream(y.shape))
        var gradients: [Tensor<S>] = []
        for layer in layers { for w in layer.weights { if let g = w.variable.gradient { gradients.append(g) } } }
        return (y.value, input.gradient!, gradients)
    }

    static func built<L: Layer>(_ layer: L, _ x: Tensor<L.Scalar>) -> L {
        var generator = SeededGenerator(seed: 5)
        try! layer.build(inputShape: Array(x.shape.dropFirst()), generator: &generator)
        return layer
    }

    // MARK: - Max pooling

    func maxPool<S: TensorScalar>(_: S.Type, poolSize: Int, strides: Int, padding: Padding) {
        // 3 x 33 x 35 x 21: > 2^15 elements (split across threads), odd sizes, 21 channels.
        let x = Tensor<S>.normal([3, 33, 35, 21], seed: 1)
        let pool = Self.built(MaxPool2D<S>(poolSize, strides: strides, padding: padding), x)
        let reference = Self.graph(
            [MaxPool2D<S>(poolSize, strides: strides, padding: padding)], x, seed: 1,
            upstream: { Tensor.normal($0, seed: 2) })
        var y: Tensor<S> = Self.garbage(reference.y.shape)
        var indices = [Int32](repeating: -7, count: y.count)
        pool.trainingForward(x, into: &y, indices: &indices)
        #expect(Self.same(y, reference.y), "\(S.self) pool \(poolSize) stride \(strides) \(padding): output")
        var dx: Tensor<S> = Self.garbage(x.shape)
        pool.trainingBackward(Tensor.normal(y.shape, seed: 2), indices: indices, into: &dx)
        #expect(Self.same(dx, reference.dx), "\(S.self) pool \(poolSize) stride \(strides) \(padding): input gradient")
        // The allocating kernel gives the same indices.
        #expect(x.maxPool2DWithIndices(poolSize: (poolSize, poolSize), strides: (strides, strides), padding: padding).indices == indices)
    }

    @Test func maxPoolingMatchesTheGraphPath() {
        for (size, stride, padding) in [(2, 2, Padding.valid), (3, 2, .same), (2, 3, .same)] {
            maxPool(Float.self, poolSize: size, strides: stride, padding: padding)
            maxPool(Double.self, poolSize: size, strides: stride, padding: padding)
        }
    }

    // MARK: - Global average pooling

    func globalAveragePooling<S: TensorScalar>(_: S.Type, keepDims: Bool) {
        let x = Tensor<S>.normal([5, 13, 11, 37], seed: 3)
        let layer = Self.built(GlobalAveragePooling2D<S>(keepDims: keepDims), x)
        let reference = Self.graph(
            [GlobalAveragePooling2D<S>(keepDims: keepDims)], x, seed: 1, upstream: { Tensor.normal($0, seed: 4) })
        var y: Tensor<S> = Self.garbage(reference.y.shape)
        layer.trainingForward(x, into: &y)
        #expect(Self.same(y, reference.y), "\(S.self) keepDims \(keepDims): output")
        var dx: Tensor<S> = Self.garbage(x.shape)
        layer.trainingBackward(Tensor.normal(y.shape, seed: 4), into: &dx)
        #expect(Self.same(dx, reference.dx), "\(S.self) keepDims \(keepDims): input gradient")
    }

    @Test func globalAveragePoolingMatchesTheGraphPath() {
        for keepDims in [false, true] {
            globalAveragePooling(Float.self, keepDims: keepDims)
            globalAveragePooling(Double.self, keepDims: keepDims)
        }
    }

    // MARK: - Dropout

    func dropout<S: TensorScalar>(_ layer: () -> any Layer<S>, _ x: Tensor<S>, label: String) {
        let reference = Self.graph([layer()], x, seed: 11, upstream: { Tensor.normal($0, seed: 6) })
        let g = Tensor<S>.normal(x.shape, seed: 6)
        var y: Tensor<S> = Self.garbage(x.shape), dx: Tensor<S> = Self.garbage(x.shape)
        // The generator a training ForwardContext of that seed hands the layer.
        var generator = ForwardContext(mode: .training, seed: 11).generator
        let instance = layer()
        _ = Self.built(instance, x)
        if let dropout = instance as? Dropout<S> {
            var mask = dropout.makeMaskBuffer(inputShape: x.shape)
            // Twice through the same mask storage: the second step must not depend on the first.
            var other = generator
            dropout.trainingForward(x, generator: &other, mask: &mask, into: &y)
            dropout.trainingForward(x, generator: &generator, mask: &mask, into: &y)
            dropout.trainingBackward(g, mask: mask, into: &dx)
        } else if let spatial = instance as? SpatialDropout2D<S> {
            var mask = spatial.makeMaskBuffer(inputShape: x.shape)
            spatial.trainingForward(x, generator: &generator, mask: &mask, into: &y)
            spatial.trainingBackward(g, mask: mask, into: &dx)
        }
        #expect(Self.same(y, reference.y), "\(label) \(S.self): output")
        #expect(Self.same(dx, reference.dx), "\(label) \(S.self): input gradient")
    }

    func dropoutCases<S: TensorScalar>(_: S.Type) {
        // 4 x 17 x 19 x 22 (odd spatial sizes, 2^15+ elements) and an odd element count.
        let x = Tensor<S>.normal([4, 17, 19, 22], seed: 7)
        let odd = Tensor<S>.normal([3, 7, 9, 5], seed: 8)
        for rate in [0.0, 0.3, 1.0] {
            dropout({ Dropout<S>(rate) }, x, label: "Dropout(\(rate))")
            dropout({ SpatialDropout2D<S>(rate) }, x, label: "SpatialDropout2D(\(rate))")
        }
        dropout({ Dropout<S>(0.45) }, odd, label: "Dropout odd count")
        dropout({ SpatialDropout2D<S>(0.45) }, odd, label: "SpatialDropout2D odd count")
    }

    @Test func dropoutMatchesTheGraphPath() {
        dropoutCases(Float.self)
        dropoutCases(Double.self)
    }

    @Test func fusedDropoutMaxPoolingMatchesTheGraphPath() {
        let x = Tensor<Float>.normal([3, 33, 35, 22], seed: 9)
        for (size, stride, padding) in [(2, 2, Padding.valid), (3, 2, .same)] {
            let reference = Self.graph(
                [Dropout<Float>(0.3), MaxPool2D<Float>(size, strides: stride, padding: padding)], x, seed: 13,
                upstream: { Tensor.normal($0, seed: 10) })
            // The fused graph path equals the two layers one after the other.
            let separate = Self.graph(
                [Dropout<Float>(0.3), Identity<Float>(), MaxPool2D<Float>(size, strides: stride, padding: padding)], x,
                seed: 13, upstream: { Tensor.normal($0, seed: 10) })
            #expect(Self.same(reference.y, separate.y) && Self.same(reference.dx, separate.dx))
            let dropout = Self.built(Dropout<Float>(0.3), x)
            let pool = Self.built(MaxPool2D<Float>(size, strides: stride, padding: padding), x)
            #expect(dropout.canFuse(inputShape: x.shape))
            var generator = ForwardContext(mode: .training, seed: 13).generator
            var mask = dropout.makeMaskBuffer(inputShape: x.shape)
            var y: Tensor<Float> = Self.garbage(reference.y.shape)
            var indices = [Int32](repeating: -7, count: y.count)
            dropout.trainingForward(x, followedBy: pool, generator: &generator, mask: &mask, into: &y, indices: &indices)
            #expect(Self.same(y, reference.y), "pool \(size) stride \(stride): output")
            var dx: Tensor<Float> = Self.garbage(x.shape)
            dropout.trainingBackward(
                Tensor.normal(y.shape, seed: 10), followedBy: pool, mask: mask, indices: indices, into: &dx)
            #expect(Self.same(dx, reference.dx), "pool \(size) stride \(stride): input gradient")
        }
    }

    // MARK: - Batch normalization

    func batchNorm<S: TensorScalar>(_: S.Type, axis: Int, center: Bool, scale: Bool, relu: Bool) {
        // 4 x 37 x 39 x 21: 2^15+ rows of channels, 21 channels (not a multiple of 16), odd sizes.
        let x = Tensor<S>.normal([4, 37, 39, 21], mean: 0.5, standardDeviation: 2, seed: 11)
        let make = { BatchNorm<S>(axis: axis, momentum: 0.9, center: center, scale: scale) }
        let referenceLayer = make(), layer = make()
        var layers: [any Layer<S>] = [referenceLayer]
        if relu { layers.append(ReLU<S>()) }
        _ = Self.built(referenceLayer, x)
        _ = Self.built(layer, x)
        let channels = x.shape[axis < 0 ? axis + 4 : axis]
        for l in [referenceLayer, layer] {
            l.gamma?.value = Tensor.normal([channels], seed: 12)
            l.beta?.value = Tensor.normal([channels], seed: 13)
            l.movingMean!.value = Tensor.normal([channels], seed: 14)
        }
        var workspace = BatchNormWorkspace<S>(channels: channels)
        var y: Tensor<S> = Self.garbage(x.shape), dx: Tensor<S> = Self.garbage(x.shape)
        var dGamma: Tensor<S>? = scale ? Self.garbage([channels]) : nil
        var dBeta: Tensor<S>? = center ? Self.garbage([channels]) : nil
        let label = "\(S.self) axis \(axis) center \(center) scale \(scale) relu \(relu)"
        // Two steps: the second normalizes with new statistics and updates the updated moving ones.
        for step in 0..<2 {
            let xs = step == 0 ? x : x * 0.5 + 0.25
            let reference = Self.graph(layers, xs, seed: 1, upstream: { Tensor.normal($0, seed: UInt64(20 + step)) })
            layer.trainingForward(xs, applyingReLU: relu, workspace: &workspace, into: &y)
            #expect(Self.same(y, reference.y), "\(label) step \(step): output")
            #expect(Self.same(layer.movingMean!.value, referenceLayer.movingMean!.value), "\(label) step \(step): moving mean")
            #expect(Self.same(layer.movingVariance!.value, referenceLayer.movingVariance!.value), "\(label) step \(step): moving variance")
            layer.trainingBackward(
                Tensor.normal(xs.shape, seed: UInt64(20 + step)), input: xs, output: y, applyingReLU: relu,
                workspace: &workspace, inputGradient: &dx, gammaGradient: &dGamma, betaGradient: &dBeta)
            #expect(Self.same(dx, reference.dx), "\(label) step \(step): input gradient")
            let gradients = [dGamma, dBeta].compactMap { $0 }
            #expect(gradients.count == reference.gradients.count)
            for (a, b) in zip(gradients, reference.gradients) {
                #expect(Self.same(a, b), "\(label) step \(step): gamma / beta gradient")
            }
        }
        #expect(workspace.mean.count == channels && workspace.variance.allSatisfy { $0 > 0 })
    }

    @Test(arguments: [false, true])
    func batchNormMatchesTheGraphPath(relu: Bool) {
        batchNorm(Float.self, axis: -1, center: true, scale: true, relu: relu)
        batchNorm(Double.self, axis: -1, center: true, scale: true, relu: relu)
        batchNorm(Float.self, axis: -1, center: false, scale: false, relu: relu)
        // Channels not last: the Swift loops.
        batchNorm(Float.self, axis: 2, center: true, scale: true, relu: relu)
        batchNorm(Double.self, axis: 1, center: true, scale: false, relu: relu)
    }
}
