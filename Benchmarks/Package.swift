// swift-tools-version:6.1
// Benchmark suites for swift-deep-learning, kept in their own package so library users never
// resolve the benchmark harness. Run from this folder: swift package benchmark
import PackageDescription

let package = Package(
    name: "swift-deep-learning-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "swift-deep-learning", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Kernels",
            dependencies: [
                .product(name: "DeepLearning", package: "swift-deep-learning"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Kernels",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Models",
            dependencies: [
                .product(name: "DeepLearning", package: "swift-deep-learning"),
                .product(name: "PneumoniaModels", package: "swift-deep-learning"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/Models",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "DataLoading",
            dependencies: [
                .product(name: "DeepLearning", package: "swift-deep-learning"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/DataLoading",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
