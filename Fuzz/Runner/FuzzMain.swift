import Foundation
import RLWatchFuzzTargets

// Built two ways:
// - `scripts/fuzz` builds it with `-sanitize=fuzzer,address -D FUZZING`: libFuzzer supplies `main` and calls
//   `LLVMFuzzerTestOneInput`; `RLWATCH_FUZZ_TARGET` names the target.
// - A normal build gives a runner for files: `rlwatch-fuzz TARGET FILE…` runs each input once (to reproduce a
//   crash libFuzzer saved, without the sanitizer build).

#if FUZZING
nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if selected == nil {
        let name = ProcessInfo.processInfo.environment["RLWATCH_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            fatalError("RLWATCH_FUZZ_TARGET must name a target (\(names)); it is '\(name)'")
        }
        selected = target
    }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected!.run(bytes)
    return 0
}
#else
@main
struct FuzzRunner {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " | ")
            FileHandle.standardError.write(Data("usage: rlwatch-fuzz (\(names)) FILE...\n".utf8))
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("rlwatch-fuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            target.run(Array(data))
            print("\(target.rawValue): \(path): ok")
        }
    }
}
#endif
