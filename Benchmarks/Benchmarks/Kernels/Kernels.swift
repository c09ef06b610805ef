// Kernel throughput: BLAS-backed matmul, broadcasting elementwise operations and reductions, the
// fused bias + ReLU epilogue (forward and backward), 2x2 max pooling and 3x3 convolution (Winograd
// at the seed models' shapes).
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

    // Matrix products at the shapes of the seed models' dense layers (batch 32).
    for (m, k, n) in [(32, 22_500, 128), (32, 6_272, 512), (256, 256, 256)] {
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
    Benchmark("maxPool2D 3x3 stride 2 same [32,148,148,32] forward (generic kernel)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(activation.maxPool2D(poolSize: (3, 3), strides: (2, 2), padding: .same))
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
