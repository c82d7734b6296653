// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "rlwatch",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "RLWatchCore", targets: ["RLWatchCore"]),
        .library(name: "RLWatchStore", targets: ["RLWatchStore"]),
        .library(name: "RLWatchIngest", targets: ["RLWatchIngest"]),
        .library(name: "RLWatch", targets: ["RLWatch"]),
        .executable(name: "rlwatch", targets: ["rlwatch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(
            name: "RLWatchCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchStore",
            dependencies: ["RLWatchCore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchIngest",
            dependencies: ["RLWatchCore"],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatch",
            dependencies: [
                "RLWatchCore", "RLWatchStore", "RLWatchIngest",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "rlwatch",
            dependencies: [
                "RLWatch", "RLWatchCore", "RLWatchStore", "RLWatchIngest", "RLWatchTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchTesting",
            dependencies: ["RLWatchCore"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "rlwatch-dip-table",
            dependencies: ["RLWatchCore"],
            path: "Sources/DipTableGenerator",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "rlwatch-bench",
            dependencies: ["RLWatch", "RLWatchTesting"],
            path: "Benchmarks/RLWatchBench",
            swiftSettings: strict
        ),
        .testTarget(name: "RLWatchCoreTests", dependencies: ["RLWatchCore", "RLWatchTesting"], swiftSettings: strict),
        .testTarget(
            name: "RLWatchStoreTests",
            dependencies: ["RLWatchStore", "RLWatchCore", "RLWatchTesting", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .testTarget(name: "RLWatchIngestTests", dependencies: ["RLWatchIngest", "RLWatchTesting"], swiftSettings: strict),
        .testTarget(
            name: "RLWatchTests", dependencies: ["RLWatch", "RLWatchStore", "RLWatchCore", "RLWatchTesting"],
            swiftSettings: strict),
        .testTarget(
            name: "RLWatchCLITests",
            dependencies: ["RLWatchTesting", "RLWatchCore"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
