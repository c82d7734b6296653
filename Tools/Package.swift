// swift-tools-version: 6.1
import PackageDescription

// Developer tools that generate committed code; not part of the product build, the tests or CI.
//
//   swift run --package-path Tools -c release rlwatch-dip-table Sources/RLWatchCore/Statistics/DipTable.swift
//
// A package of its own, depending on rlwatch by path (like Benchmarks/), so that `swift build` of rlwatch never
// compiles it.
let package = Package(
    name: "rlwatch-tools",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "rlwatch", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "rlwatch-dip-table",
            dependencies: [.product(name: "RLWatchCore", package: "rlwatch")],
            path: "DipTable",
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")]
        )
    ],
    swiftLanguageModes: [.v6]
)
