#!/usr/bin/env bash
# Measures RLWatchTensorBoard's read throughput in release mode (not part of the tests: no timing asserts).
#
#   scripts/tensorboard/bench.sh [EVENTS] [--tensors]
#
# Builds scripts/tensorboard/bench/main.swift as a throwaway package that depends on this repository by
# path (in $TMPDIR/rlwatch-tb-bench, with its own build folder), then runs it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="${TMPDIR:-/tmp}/rlwatch-tb-bench"
mkdir -p "$work/Sources/rlwatch-tb-bench"
cp "$repo/scripts/tensorboard/bench/main.swift" "$work/Sources/rlwatch-tb-bench/main.swift"
cat > "$work/Package.swift" <<SWIFT
// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "rlwatch-tb-bench",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "rlwatch", path: "$repo")],
    targets: [
        .executableTarget(
            name: "rlwatch-tb-bench",
            dependencies: [.product(name: "RLWatchTensorBoard", package: "rlwatch")]
        )
    ]
)
SWIFT
cd "$work"
swift build -c release >&2
"$work/.build/release/rlwatch-tb-bench" "$@"
