// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v15)],  // Synchronization (Mutex, Atomic)
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .library(name: "StrataLinalg", targets: ["StrataLinalg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev", "pkg-config"])]
        ),

        // MARK: - Libraries
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        /// Numeric core: Matrix, BLAS/LAPACK wrappers, PCA, k-means, metrics, Hungarian.
        .target(name: "StrataLinalg", dependencies: ["CBLAS"]),
        /// JSON-over-HTTP client for OpenAI-compatible servers (retries, backoff, timeouts), on libcurl.
        .target(name: "StrataHTTP", dependencies: ["CCurl"]),
        /// Readers and writers of document sources, SQLite wrapper, state database.
        .target(name: "StrataStore", dependencies: ["CSQLite", "CCrypto"]),
        /// safetensors reader, WordPiece tokenizer, native MiniLM encoder, OpenAI-compatible embeddings.
        .target(name: "StrataEmbed", dependencies: ["StrataLinalg", "StrataHTTP"]),
        /// c-TF-IDF keywords, representatives, LLM and keyword labelers, reply repair, prices.
        .target(name: "StrataLabel", dependencies: ["StrataHTTP"], resources: [.copy("prices.json")]),

        /// PostgreSQL tables as sources and topic-column sinks, and the sharded run's shared store (libpq).
        .target(name: "StrataPostgres", dependencies: ["StrataStore", "CPostgres"]),

        /// The pipeline: fit, describe, label, hierarchy, write; estimates; reports.
        .target(
            name: "Strata",
            dependencies: ["StrataLinalg", "StrataEmbed", "StrataLabel", "StrataStore", "StrataHTTP", "StrataPostgres"]
        ),

        /// `strata mcp`: the retrieval tools over the Model Context Protocol (stdio).
        .target(name: "StrataMCP", dependencies: ["Strata", "StrataLinalg", .product(name: "MCP", package: "swift-sdk")]),

        // MARK: - Executables (thin)
        .executableTarget(
            name: "strata",
            dependencies: [
                "Strata", "StrataLinalg", "StrataStore", "StrataLabel", "StrataMCP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        /// Runs the numeric core on .npy inputs for scripts/bench (compared against scikit-learn/FAISS).
        .executableTarget(name: "strata-bench", dependencies: ["Strata", "StrataLinalg", "StrataEmbed"]),

        // MARK: - Tests
        /// Test-only helpers (a scripted HTTP server for client error-handling tests).
        .target(name: "StrataTestSupport", path: "Tests/StrataTestSupport"),
        .testTarget(name: "StrataHTTPTests", dependencies: ["StrataHTTP", "StrataTestSupport"]),
        .testTarget(name: "StrataLabelTests", dependencies: ["StrataLabel", "StrataHTTP", "StrataTestSupport"]),
        .testTarget(name: "StrataStoreTests", dependencies: ["StrataStore"], exclude: ["Malformed"]),
        .testTarget(name: "StrataEmbedTests", dependencies: ["StrataEmbed", "StrataHTTP", "StrataTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "StrataTests", dependencies: ["Strata", "StrataStore", "StrataLinalg", "StrataEmbed", "StrataLabel", "StrataTestSupport"]),
        .testTarget(
            name: "StrataLinalgTests",
            dependencies: ["StrataLinalg"],
            resources: [.copy("Fixtures")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
