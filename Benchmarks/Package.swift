// swift-tools-version: 6.1
import PackageDescription

// rlwatch's release-mode benchmarks, on ordo-one/benchmark (see README § Benchmarks):
//
//   swift package --package-path Benchmarks benchmark                        # all, about ten minutes
//   swift package --package-path Benchmarks benchmark --filter 'analyzer.*'
//   swift package --package-path Benchmarks --allow-writing-to-package-directory benchmark \
//       thresholds check --path "$PWD/Benchmarks/Thresholds"                # the budgets (an absolute path)
//
// A package of its own, depending on rlwatch by path, so that building and testing rlwatch (and CI) never
// fetches or compiles the benchmark library and its malloc interposer.
let package = Package(
    name: "rlwatch-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "rlwatch", path: ".."),
        // Only this trait: the default one also pulls a runtime interposer package this build does not need.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "RLWatchBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RLWatch", package: "rlwatch"),
                .product(name: "RLWatchCore", package: "rlwatch"),
                .product(name: "RLWatchIngest", package: "rlwatch"),
                .product(name: "RLWatchStore", package: "rlwatch"),
                .product(name: "RLWatchSQLite", package: "rlwatch"),
                .product(name: "RLWatchTensorBoard", package: "rlwatch"),
                .product(name: "RLWatchTrackers", package: "rlwatch"),
                .product(name: "RLWatchTesting", package: "rlwatch"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "RLWatchBenchmarks",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
