#!/usr/bin/env bash
# Regenerates Sources/RLWatchTensorBoard/Generated/*.pb.swift from tensorboard_event.proto.
#
# CI never runs this: the generated files are committed. Run it only after editing the .proto.
# What it needs (the versions the committed files were generated with):
#   protoc 3.21.12:            apt-get install -y protobuf-compiler
#   protoc-gen-swift 1.39.0:   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#                              (on the build machines: git clone /opt/swift-packages/apple/swift-protobuf.git)
#                              cd /tmp/swift-protobuf && git checkout 1.39.0 \
#                                && swift build -c release --product protoc-gen-swift
# The plugin must match the SwiftProtobuf version in Package.swift (1.39.0).
set -euo pipefail
cd "$(dirname "$0")/../.."

plugin="${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}"
if [[ ! -x "$plugin" ]]; then
    echo "error: protoc-gen-swift not found at $plugin (set PROTOC_GEN_SWIFT; see the comment above)" >&2
    exit 1
fi
command -v protoc >/dev/null || { echo "error: protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }

out=Sources/RLWatchTensorBoard/Generated
mkdir -p "$out"
# Visibility=Internal: the generated types are an implementation detail of RLWatchTensorBoard.
protoc \
    --plugin=protoc-gen-swift="$plugin" \
    --proto_path=scripts/tensorboard \
    --swift_out="$out" \
    --swift_opt=Visibility=Internal \
    scripts/tensorboard/tensorboard_event.proto
echo "generated $out/tensorboard_event.pb.swift"
