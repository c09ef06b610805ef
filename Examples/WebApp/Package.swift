// swift-tools-version:6.1
// pneumonia-web: a web page and HTTP API that classify chest X-rays with a `pneumonia` checkpoint
// and show a Grad-CAM heatmap. A nested package, so users of the library never resolve the web stack.
import PackageDescription

let package = Package(
    name: "pneumonia-web",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pneumonia-web", targets: ["pneumonia-web"]),
        .library(name: "PneumoniaWeb", targets: ["PneumoniaWeb"]),
    ],
    dependencies: [
        .package(name: "swift-deep-learning", path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The app (routes, page, model pool) and Grad-CAM, as a library so tests can use them.
        .target(
            name: "PneumoniaWeb",
            dependencies: [
                // swift-metrics (under Hummingbird) also has a module named Metrics: the library's is
                // renamed in this package.
                .product(name: "DeepLearning", package: "swift-deep-learning", moduleAliases: ["Metrics": "DeepLearningMetrics"]),
                .product(name: "PneumoniaModels", package: "swift-deep-learning", moduleAliases: ["Metrics": "DeepLearningMetrics"]),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            resources: [.copy("Page")]
        ),
        .executableTarget(
            name: "pneumonia-web",
            dependencies: ["PneumoniaWeb", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "PneumoniaWebTests",
            dependencies: [
                "PneumoniaWeb",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)
