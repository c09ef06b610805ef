// swift-tools-version:6.1
// swift-deep-learning: train and run neural networks on Linux CPUs with OpenBLAS and LAPACKE.
import PackageDescription

let package = Package(
    name: "swift-deep-learning",
    products: [
        .library(name: "DeepLearning", targets: ["DeepLearning"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Autograd", targets: ["Autograd"]),
        .library(name: "Metrics", targets: ["Metrics"]),
    ],
    targets: [
        // System libraries, found through pkg-config.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CLAPACKE",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]
        ),

        // Library modules, each layered on the ones before.
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CLAPACKE"]),
        .target(name: "Autograd", dependencies: ["Tensor"]),
        .target(name: "Metrics", dependencies: ["Tensor"]),
        .target(name: "DeepLearning", dependencies: ["Tensor", "Autograd", "Metrics"]),

        // Shared test support: gradient checker, reference-fixture comparison.
        .target(name: "TestSupport", dependencies: ["Tensor", "Autograd"], path: "Tests/TestSupport"),

        .testTarget(
            name: "TensorTests",
            dependencies: ["Tensor", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "AutogradTests", dependencies: ["Tensor", "Autograd", "TestSupport"]),
        .testTarget(
            name: "MetricsTests",
            dependencies: ["Metrics", "Tensor", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
    ]
)
