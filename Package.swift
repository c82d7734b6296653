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
        .library(name: "RLWatchSQLite", targets: ["RLWatchSQLite"]),
        .library(name: "RLWatchIngest", targets: ["RLWatchIngest"]),
        .library(name: "RLWatch", targets: ["RLWatch"]),
        .library(name: "RLWatchTensorBoard", targets: ["RLWatchTensorBoard"]),
        .library(name: "RLWatchTrackers", targets: ["RLWatchTrackers"]),
        .library(name: "RLWatchServer", targets: ["RLWatchServer"]),
        .library(name: "RLWatchAlerts", targets: ["RLWatchAlerts"]),
        .library(name: "RLWatchPostgres", targets: ["RLWatchPostgres"]),
        .library(name: "RLWatchDashboard", targets: ["RLWatchDashboard"]),
        .library(name: "RLWatchEval", targets: ["RLWatchEval"]),
        .executable(name: "rlwatch", targets: ["rlwatch"]),
        // The test kit, a product only so that the benchmark package (Benchmarks/Package.swift, which depends on this
        // one by path) can build its inputs; `rlwatch` never links it.
        .library(name: "RLWatchTesting", targets: ["RLWatchTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // Already in the graph through postgres-nio; the dashboard's session cookie uses its HMAC.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .target(
            name: "RLWatchCore",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // The store protocol, its row encodings and the in-memory store; the drivers are modules of their own, so that
        // what needs only the protocol links neither SQLite nor PostgreSQL.
        .target(
            name: "RLWatchStore",
            dependencies: ["RLWatchCore"],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchSQLite",
            dependencies: ["RLWatchCore", "RLWatchStore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchPostgres",
            dependencies: [
                "RLWatchCore", "RLWatchStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchDashboard",
            dependencies: [
                "RLWatch", "RLWatchCore", "RLWatchStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("Assets/dashboard.css"), .embedInCode("Assets/dashboard.js")],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchIngest",
            dependencies: ["RLWatchCore"],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchEval",
            dependencies: ["RLWatchCore", "RLWatchIngest", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatch",
            dependencies: [
                "RLWatchCore", "RLWatchStore", "RLWatchSQLite", "RLWatchIngest", "RLWatchTensorBoard", "RLWatchTrackers",
                "RLWatchPostgres", "RLWatchAlerts",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchAlerts",
            dependencies: [
                "RLWatchCore", "RLWatchStore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchTensorBoard",
            dependencies: ["RLWatchCore", "RLWatchIngest", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchTrackers",
            dependencies: [
                "RLWatchCore", "RLWatchIngest", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict
        ),
        .target(
            name: "RLWatchServer",
            dependencies: [
                "RLWatch", "RLWatchCore", "RLWatchStore", "RLWatchIngest", "RLWatchAlerts", "RLWatchDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "rlwatch",
            dependencies: [
                "RLWatch", "RLWatchCore", "RLWatchStore", "RLWatchIngest",
                "RLWatchServer", "RLWatchTensorBoard", "RLWatchAlerts", "RLWatchPostgres", "RLWatchDashboard",
                "RLWatchEval", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Test support (golden traces, synthetic runs, a manual clock, raw HTTP connections): under Tests/, linked by
        // the test targets and the benchmark package, never by `rlwatch`.
        .target(
            name: "RLWatchTesting",
            dependencies: [
                "RLWatchCore", "RLWatchTrackers", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Tests/RLWatchTesting",
            swiftSettings: strict
        ),
        // Fuzzing (see Fuzz/README.md): the targets, and a runner that is libFuzzer's entry point when built with
        // `-sanitize=fuzzer -D FUZZING` by scripts/fuzz, and replays input files otherwise.
        .target(
            name: "RLWatchFuzzTargets",
            dependencies: [
                "RLWatch", "RLWatchCore", "RLWatchStore", "RLWatchIngest", "RLWatchServer", "RLWatchAlerts", "RLWatchTensorBoard",
                "RLWatchTrackers",
            ],
            path: "Fuzz/Targets",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "rlwatch-fuzz",
            dependencies: ["RLWatchFuzzTargets"],
            path: "Fuzz/Runner",
            swiftSettings: strict
        ),
        .testTarget(
            name: "RLWatchFuzzTests", dependencies: ["RLWatchFuzzTargets"], path: "Tests/RLWatchFuzzTests",
            swiftSettings: strict),
        .testTarget(name: "RLWatchCoreTests", dependencies: ["RLWatchCore", "RLWatchTesting"], swiftSettings: strict),
        .testTarget(
            name: "RLWatchStoreTests",
            dependencies: [
                "RLWatchStore", "RLWatchSQLite", "RLWatchCore", "RLWatchTesting", "RLWatchPostgres", "RLWatch",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RLWatchEvalTests", dependencies: ["RLWatchEval", "RLWatchIngest", "RLWatchCore"],
            swiftSettings: strict),
        .testTarget(name: "RLWatchIngestTests", dependencies: ["RLWatchIngest", "RLWatchTesting"], swiftSettings: strict),
        .testTarget(
            name: "RLWatchTests", dependencies: ["RLWatch", "RLWatchStore", "RLWatchSQLite", "RLWatchCore", "RLWatchTesting"],
            swiftSettings: strict),
        .testTarget(
            name: "RLWatchTrackersTests", dependencies: ["RLWatchTrackers", "RLWatchTesting"], swiftSettings: strict),
        .testTarget(
            name: "RLWatchTensorBoardTests",
            dependencies: ["RLWatchTensorBoard", "RLWatchCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: strict),
        .testTarget(
            name: "RLWatchServerTests",
            dependencies: [
                "RLWatchServer", "RLWatch", "RLWatchStore", "RLWatchSQLite", "RLWatchCore", "RLWatchTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RLWatchAlertsTests",
            dependencies: [
                "RLWatchAlerts", "RLWatchCore", "RLWatchStore", "RLWatchSQLite", "RLWatchServer", "RLWatchTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RLWatchDashboardTests",
            dependencies: [
                "RLWatchDashboard", "RLWatchServer", "RLWatch", "RLWatchStore", "RLWatchSQLite", "RLWatchCore", "RLWatchTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "RLWatchCLITests",
            dependencies: ["RLWatchTesting", "RLWatchCore"],
            swiftSettings: strict
        ),
    ],
    swiftLanguageModes: [.v6]
)
