// swift-tools-version: 6.1
// Micro-benchmarks of Strata's numeric core with ordo-one/benchmark.
//   cd Benchmarks && swift package benchmark
// The head-to-head comparisons against scikit-learn, FAISS and sentence-transformers live in
// ../scripts/bench/ (they need Python); these track Strata's own kernels over time.
import PackageDescription

let package = Package(
    name: "StrataBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Strata", path: "../"),
        // The default traits need a package that is not available here; MallocInterposer alone works.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "NumericCore",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "StrataLinalg", package: "Strata"),
            ],
            path: "Benchmarks/NumericCore",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
