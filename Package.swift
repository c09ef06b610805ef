// swift-tools-version:6.1
// swift-deep-learning: train and run neural networks on Linux CPUs with OpenBLAS and LAPACKE.
import Foundation
import PackageDescription

let package = Package(
    name: "swift-deep-learning",
    products: [
        .library(name: "DeepLearning", targets: ["DeepLearning"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "Autograd", targets: ["Autograd"]),
        .library(name: "Layers", targets: ["Layers"]),
        .library(name: "Metrics", targets: ["Metrics"]),
        .library(name: "Optimizers", targets: ["Optimizers"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "Datasets", targets: ["Datasets"]),
        // The seed projects' models (used by the examples and the benchmarks).
        .library(name: "PneumoniaModels", targets: ["PneumoniaModels"]),
    ],
    dependencies: [
        // Command lines of the example executables only (the library modules do not use it).
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.6.0"),
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
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // glibc's <malloc.h> (mallopt), which the Glibc module does not export.
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        // JPEG and PNG decoding from memory with libjpeg's setjmp/longjmp error handling kept in C.
        .target(name: "CImageCodecs", dependencies: ["CJPEG", "CPNG"]),
        // The hot kernels that Swift cannot vectorize well (C with restrict pointers), each
        // compiled for AVX-512, AVX2 and the baseline and chosen at load time; no compiler flags.
        .target(name: "CKernels"),

        // Library modules, each layered on the ones before.
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CLAPACKE", "CKernels"]),
        .target(name: "Autograd", dependencies: ["Tensor"]),
        .target(name: "Layers", dependencies: ["Tensor", "Autograd"]),
        .target(name: "Metrics", dependencies: ["Tensor"]),
        .target(name: "Optimizers", dependencies: ["Tensor", "Autograd", "CKernels"]),
        .target(name: "Training", dependencies: ["Tensor", "Autograd", "Layers", "Optimizers", "Metrics", "CMalloc"]),
        .target(name: "Datasets", dependencies: ["Tensor", "CImageCodecs", "CZlib"]),
        .target(name: "DeepLearning", dependencies: ["Tensor", "Autograd", "Layers", "Metrics", "Optimizers", "Training", "Datasets"]),

        // Examples.
        .executableTarget(name: "two-moons", dependencies: ["DeepLearning"], path: "Examples/TwoMoons"),
        .executableTarget(name: "dataset-bench", dependencies: ["Datasets"], path: "Examples/DatasetBench"),
        .target(name: "PneumoniaModels", dependencies: ["DeepLearning"], path: "Examples/PneumoniaModels"),
        .executableTarget(
            name: "pneumonia",
            dependencies: ["DeepLearning", "PneumoniaModels", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/Pneumonia"
        ),

        // Shared test support: gradient checker, reference-fixture comparison.
        .target(name: "TestSupport", dependencies: ["Tensor", "Autograd", "CAllocationCounter"], path: "Tests/TestSupport"),
        // Counts heap allocations in the test process (malloc and friends, forwarded to glibc).
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),

        .testTarget(
            name: "TensorTests",
            dependencies: ["Tensor", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "LayersTests",
            dependencies: ["Layers", "TestSupport", "PneumoniaModels"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "TestSupport"]),
        .testTarget(name: "AutogradTests", dependencies: ["Tensor", "Autograd", "TestSupport"]),
        .testTarget(
            name: "MetricsTests",
            dependencies: ["Metrics", "Tensor", "TestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Tensor", "Training", "TestSupport"], resources: [.copy("Fixtures")]),
        // End-to-end tests of the `pneumonia` example (train, evaluate, predict on generated and real images).
        .testTarget(name: "PneumoniaTests", dependencies: ["pneumonia", "PneumoniaModels", "Datasets", "Tensor"]),
        .testTarget(name: "OptimizersTests", dependencies: ["Optimizers", "TestSupport"], resources: [.copy("Fixtures")]),
    ]
)

// The DocC plugin only when documentation is being built, so library users never resolve it:
// SDL_DOCC=1 swift package generate-documentation --target Tensor
if ProcessInfo.processInfo.environment["SDL_DOCC"] != nil {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
