// Kernel throughput: BLAS-backed matmul, broadcasting elementwise operations and reductions, the
// fused bias + ReLU epilogue (forward and backward), max pooling, batch normalization, dropout,
// 3x3 convolution (Winograd at the seed models' shapes), the seed models' first-layer and strided
// convolutions and Xception's depthwise convolutions.
// Run from Benchmarks/: swift package benchmark --target Kernels
import Benchmark
import DeepLearning

/// Floating-point operations of an `m x k` by `k x n` matrix product.
func matmulFlops(_ m: Int, _ n: Int, _ k: Int) -> Int { 2 * m * n * k }

nonisolated(unsafe) let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 2,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 200
    )

    // Matrix products at the shapes of the seed models' dense layers (batch 32: dense, cnn150, cnn;
    // few rows, so on the few-rows kernel where the CPU has AVX-512) and a square one (BLAS).
    for (m, k, n) in [(32, 22_500, 128), (32, 6_272, 512), (32, 82_944, 128), (256, 256, 256)] {
        let a = Tensor<Float>.uniform([m, k], lower: -1, upper: 1, seed: 1)
        let b = Tensor<Float>.uniform([k, n], lower: -1, upper: 1, seed: 2)
        Benchmark("matmul \(m)x\(k) * \(k)x\(n) (MFLOP per iteration: \(matmulFlops(m, n, k) / 1_000_000))") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(a.matmul(b))
            }
        }
    }

    // Broadcasting elementwise and reductions on a cnn150 activation: [32, 148, 148, 32].
    let activation = Tensor<Float>.uniform([32, 148, 148, 32], lower: -1, upper: 1, seed: 3)
    let bias = Tensor<Float>.uniform([32], lower: -1, upper: 1, seed: 4)
    Benchmark("add bias [32,148,148,32] + [32]") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(activation + bias)
        }
    }
    Benchmark("relu [32,148,148,32]") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(activation.relu())
        }
    }
    Benchmark("sum over N,H,W of [32,148,148,32]") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(activation.sum(alongAxes: [0, 1, 2]))
        }
    }

    // The fused epilogue against the two passes it replaces (add bias, then relu), and its
    // backward pass (ReLU mask and bias gradient in one sweep) against mask, multiply and sum.
    Benchmark("fused add bias + relu [32,148,148,32] (in place)") { benchmark in
        var output = activation
        for _ in benchmark.scaledIterations {
            output.addBias(bias, applyingReLU: true)
            blackHole(output)
        }
    }
    let upstream = Tensor<Float>.uniform([32, 148, 148, 32], lower: -1, upper: 1, seed: 5)
    let reluOutput = (activation + bias).relu()
    Benchmark("fused bias + relu backward [32,148,148,32]") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Tensor.biasActivationBackward(gradient: upstream, output: reluOutput, applyingReLU: true))
        }
    }
    Benchmark("unfused bias + relu backward [32,148,148,32] (step mask, multiply, sum)") { benchmark in
        for _ in benchmark.scaledIterations {
            let masked = upstream * reluOutput.map(.step)
            blackHole((masked, masked.sum(alongAxes: [0, 1, 2])))
        }
    }

    // Max pooling 2x2 stride 2 (the seed models' case, SIMD fast path), forward with indices and
    // backward, at cnn150's first pooling layer; and a 3x3 stride-2 same-padded window (generic path).
    Benchmark("maxPool2D 2x2 [32,148,148,32] forward") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(activation.maxPool2DWithIndices(poolSize: (2, 2)))
        }
    }
    let (pooled, poolIndices) = activation.maxPool2DWithIndices(poolSize: (2, 2))
    Benchmark("maxPool2D 2x2 [32,148,148,32] backward") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Tensor.maxPool2DBackward(gradient: pooled, indices: poolIndices, inputShape: activation.shape))
        }
    }
    Benchmark("maxPool2D 2x2 [32,148,148,32] forward without indices (inference)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(activation.maxPool2D(poolSize: (2, 2)))
        }
    }
    Benchmark("maxPool2D 2x2 [32,148,148,32] backward with the geometry (disjoint windows, no zero fill)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Tensor.maxPool2DBackward(
                gradient: pooled, indices: poolIndices, inputShape: activation.shape, poolSize: (2, 2)))
        }
    }
    // xception-mini's pooling: 3x3 windows at stride 2, same padding.
    Benchmark("maxPool2D 3x3 stride 2 same [32,148,148,32] forward without indices (inference)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(activation.maxPool2D(poolSize: (3, 3), strides: (2, 2), padding: .same))
        }
    }
    Benchmark("maxPool2D 3x3 stride 2 same [32,148,148,32] forward with indices") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(activation.maxPool2DWithIndices(poolSize: (3, 3), strides: (2, 2), padding: .same))
        }
    }
    let (pooled3, poolIndices3) = activation.maxPool2DWithIndices(poolSize: (3, 3), strides: (2, 2), padding: .same)
    Benchmark("maxPool2D 3x3 stride 2 same [32,148,148,32] backward (overlapping windows)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Tensor.maxPool2DBackward(gradient: pooled3, indices: poolIndices3, inputShape: activation.shape))
        }
    }

    // Batch normalization at vgg3's first block ([32, 150, 150, 32]): training forward (batch
    // statistics, normalize) and forward + backward, and inference with the ReLU that follows it.
    let normInput = Tensor<Float>.uniform([32, 150, 150, 32], lower: -1, upper: 3, seed: 10)
    let normUpstream = Tensor<Float>.uniform([32, 150, 150, 32], lower: -1, upper: 1, seed: 11)
    let normModel = try! Sequential<Float>(inputShape: [150, 150, 32], seed: 1) {
        BatchNorm<Float>()
        ReLU<Float>()
    }
    let norm = normModel.layers[0]
    Benchmark("batchNorm training forward [32,150,150,32]") { benchmark in
        for _ in benchmark.scaledIterations {
            var context = ForwardContext(mode: .training)
            blackHole(norm(Variable(normInput, requiresGradient: true), context: &context))
        }
    }
    Benchmark("batchNorm training forward + backward [32,150,150,32]") { benchmark in
        for _ in benchmark.scaledIterations {
            var context = ForwardContext(mode: .training)
            let input = Variable(normInput, requiresGradient: true)
            norm(input, context: &context).backward(seed: normUpstream)
            blackHole(input.gradient)
        }
    }
    Benchmark("batchNorm + relu training forward + backward [32,150,150,32]") { benchmark in
        for _ in benchmark.scaledIterations {
            var context = ForwardContext(mode: .training)
            let input = Variable(normInput, requiresGradient: true)
            normModel(input, context: &context).backward(seed: normUpstream)
            blackHole(input.gradient)
        }
    }
    Benchmark("batchNorm + relu inference [32,150,150,32]") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(normModel(normInput))
        }
    }

    // Dropout(0.2) after cnn128's first convolution ([32, 128, 128, 128]), forward and backward.
    let dropoutInput = Tensor<Float>.uniform([32, 128, 128, 128], lower: 0, upper: 1, seed: 12)
    let dropout = Dropout<Float>(0.2)
    var dropoutGenerator = SeededGenerator(seed: 1)
    try! dropout.build(inputShape: [128, 128, 128], generator: &dropoutGenerator)
    Benchmark("dropout 0.2 training forward + backward [32,128,128,128]") { benchmark in
        for _ in benchmark.scaledIterations {
            var context = ForwardContext(mode: .training, seed: 3)
            let input = Variable(dropoutInput, requiresGradient: true)
            dropout(input, context: &context).backward(seed: dropoutInput)
            blackHole(input.gradient)
        }
    }

    // xception-mini's residual sum at its second block ([32, 38, 38, 128]).
    let residualA = Tensor<Float>.uniform([32, 38, 38, 128], lower: -1, upper: 1, seed: 13)
    let residualB = Tensor<Float>.uniform([32, 38, 38, 128], lower: -1, upper: 1, seed: 14)
    Benchmark("add [32,38,38,128] + [32,38,38,128]") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(residualA + residualB)
        }
    }

    // A 3x3 same-padded stride-1 convolution at vgg3's second block ([32, 75, 75, 32] -> 64
    // channels): Winograd F(4x4, 3x3) for the forward pass (with and without the fused bias +
    // ReLU) and the input gradient.
    let convInput = Tensor<Float>.uniform([32, 75, 75, 32], lower: -1, upper: 1, seed: 6)
    let convFilter = Tensor<Float>.uniform([3, 3, 32, 64], lower: -0.1, upper: 0.1, seed: 7)
    let convBias = Tensor<Float>.uniform([64], lower: -0.1, upper: 0.1, seed: 8)
    let convGradient = Tensor<Float>.uniform([32, 75, 75, 64], lower: -1, upper: 1, seed: 9)
    let convFlops = matmulFlops(32 * 75 * 75, 64, 9 * 32) / 1_000_000
    Benchmark("conv2d 3x3 same [32,75,75,32] -> 64 forward (direct-equivalent MFLOP: \(convFlops))") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(convInput.conv2d(filter: convFilter, padding: .same))
        }
    }
    Benchmark("conv2d 3x3 same [32,75,75,32] -> 64 forward + fused bias + relu") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(convInput.conv2d(filter: convFilter, bias: convBias, applyingReLU: true, padding: .same))
        }
    }
    Benchmark("conv2d 3x3 same [32,75,75,32] -> 64 backward input") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(Tensor.conv2dBackwardInput(
                gradient: convGradient, filter: convFilter, inputShape: convInput.shape, padding: .same))
        }
    }

    // The seed models' first layers (1 or 3 input channels, the direct kernel): the forward pass
    // with the fused bias + ReLU, and the filter gradient (the input gradient of a first layer is
    // never needed). Batch 32.
    let firstLayers: [(String, [Int], Int, Int, Padding)] = [
        ("cnn", [32, 150, 150, 1], 32, 1, .valid),
        ("cnn150", [32, 150, 150, 3], 32, 1, .valid),
        ("cnn128", [32, 128, 128, 3], 128, 1, .same),
        ("xception-mini entry", [32, 150, 150, 1], 32, 2, .same),
        // Not first layers: strided 3x3 convolutions with more input channels (no Winograd).
        ("strided 16-channel", [32, 75, 75, 16], 64, 2, .same),
        ("strided 64-channel", [32, 38, 38, 64], 128, 2, .same),
        ("strided 128-channel", [32, 38, 38, 128], 256, 2, .same),
    ]
    for (index, (name, shape, outChannels, stride, padding)) in firstLayers.enumerated() {
        let seed = UInt64(20 + 4 * index)
        let x = Tensor<Float>.uniform(shape, lower: -1, upper: 1, seed: seed)
        let f = Tensor<Float>.uniform([3, 3, shape[3], outChannels], lower: -0.3, upper: 0.3, seed: seed + 1)
        let b = Tensor<Float>.uniform([outChannels], lower: -0.1, upper: 0.1, seed: seed + 2)
        let y = x.conv2d(filter: f, strides: (stride, stride), padding: padding)
        let dy = Tensor<Float>.uniform(y.shape, lower: -1, upper: 1, seed: seed + 3)
        let label = "conv2d 3x3 \(padding) stride \(stride) \(shape) -> \(outChannels) (\(name))"
        Benchmark("\(label) forward + bias + relu") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(x.conv2d(filter: f, bias: b, applyingReLU: true, strides: (stride, stride), padding: padding))
            }
        }
        Benchmark("\(label) filter gradient") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(Tensor.conv2dBackwardFilter(
                    gradient: dy, input: x, filterShape: f.shape, strides: (stride, stride), padding: padding))
            }
        }
    }

    // Xception's depthwise 3x3 same convolutions (multiplier 1), forward and both gradients.
    for (index, shape) in [[32, 75, 75, 32], [32, 75, 75, 64], [32, 38, 38, 128], [32, 19, 19, 256]].enumerated() {
        let seed = UInt64(60 + 4 * index)
        let x = Tensor<Float>.uniform(shape, lower: -1, upper: 1, seed: seed)
        let f = Tensor<Float>.uniform([3, 3, shape[3], 1], lower: -0.3, upper: 0.3, seed: seed + 1)
        let dy = Tensor<Float>.uniform(shape, lower: -1, upper: 1, seed: seed + 2)
        Benchmark("depthwiseConv2d 3x3 same \(shape) forward") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(x.depthwiseConv2d(filter: f, padding: .same))
            }
        }
        Benchmark("depthwiseConv2d 3x3 same \(shape) input gradient") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(Tensor.depthwiseConv2dBackwardInput(gradient: dy, filter: f, inputShape: shape, padding: .same))
            }
        }
        Benchmark("depthwiseConv2d 3x3 same \(shape) filter gradient") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(Tensor.depthwiseConv2dBackwardFilter(gradient: dy, input: x, filterShape: f.shape, padding: .same))
            }
        }
    }

    // Winograd F(4x4, 3x3) (3x3 stride-1 convolutions with at least 16 channels) at the seed models'
    // shapes: forward with the fused bias + ReLU, input gradient and filter gradient. The name gives
    // the direct-equivalent GFLOP per iteration (2 * N * OH * OW * 9 * Cin * Cout), so GFLOP/s is
    // that times the throughput.
    let winogradShapes: [(label: String, input: [Int], outChannels: Int, padding: Padding)] = [
        ("vgg3", [32, 150, 150, 32], 32, .same), ("vgg3", [32, 75, 75, 64], 64, .same),
        ("vgg3", [32, 37, 37, 128], 128, .same), ("vgg5", [32, 18, 18, 256], 256, .same),
        ("vgg5", [32, 9, 9, 256], 256, .same), ("cnn150", [32, 74, 74, 32], 64, .valid),
    ]
    for (index, shape) in winogradShapes.enumerated() {
        let (n, h, w, cin) = (shape.input[0], shape.input[1], shape.input[2], shape.input[3])
        let cout = shape.outChannels, padding = shape.padding
        let seed = UInt64(100 + 10 * index)
        let x = Tensor<Float>.uniform(shape.input, lower: -1, upper: 1, seed: seed)
        let f = Tensor<Float>.uniform([3, 3, cin, cout], lower: -0.1, upper: 0.1, seed: seed + 1)
        let b = Tensor<Float>.uniform([cout], lower: -0.1, upper: 0.1, seed: seed + 2)
        let (oh, ow) = padding == .same ? (h, w) : (h - 2, w - 2)
        let dy = Tensor<Float>.uniform([n, oh, ow, cout], lower: -1, upper: 1, seed: seed + 3)
        let tenths = (matmulFlops(n * oh * ow, cout, 9 * cin) + 50_000_000) / 100_000_000
        let gflop = "\(tenths / 10).\(tenths % 10)"
        let name = "winograd \(shape.label) \(shape.input) -> \(cout) \(padding)"
        Benchmark("\(name) forward + bias + relu (GFLOP: \(gflop))") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(x.conv2d(filter: f, bias: b, applyingReLU: true, padding: padding))
            }
        }
        Benchmark("\(name) input gradient (GFLOP: \(gflop))") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(Tensor.conv2dBackwardInput(gradient: dy, filter: f, inputShape: x.shape, padding: padding))
            }
        }
        Benchmark("\(name) filter gradient (GFLOP: \(gflop))") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(Tensor.conv2dBackwardFilter(gradient: dy, input: x, filterShape: f.shape, padding: padding))
            }
        }
    }
}
