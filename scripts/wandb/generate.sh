#!/usr/bin/env bash
# Regenerates Sources/RLWatchTrackers/Generated/wandb_internal.pb.swift from wandb_internal.proto (the subset of
# W&B's record messages that rlwatch reads).
#
# CI never runs this: the generated file is committed. Run it only after editing the .proto.
# What it needs (the versions the committed file was generated with):
#   protoc 3.21.12:            apt-get install -y protobuf-compiler
#   protoc-gen-swift 1.39.0:   `swift build --product protoc-gen-swift` in this package (SwiftProtobuf's plugin, at
#                              the version Package.resolved pins), or see scripts/tensorboard/generate.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

plugin="${PROTOC_GEN_SWIFT:-.build/debug/protoc-gen-swift}"
if [[ ! -x "$plugin" ]]; then
    echo "error: protoc-gen-swift not found at $plugin (set PROTOC_GEN_SWIFT; see the comment above)" >&2
    exit 1
fi
command -v protoc >/dev/null || { echo "error: protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }

out=Sources/RLWatchTrackers/Generated
mkdir -p "$out"
# Visibility=Package: the generated types are an implementation detail of RLWatchTrackers, visible to this package's
# test kit (Tests/RLWatchTesting's W&B log writer) and to nothing outside it.
protoc \
    --plugin=protoc-gen-swift="$plugin" \
    --proto_path=scripts/wandb \
    --swift_out="$out" \
    --swift_opt=Visibility=Package \
    scripts/wandb/wandb_internal.proto
echo "generated $out/wandb_internal.pb.swift"
