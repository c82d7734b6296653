import Foundation
import RLWatchFuzzTargets

// Built two ways:
// - `scripts/fuzz` builds it with AddressSanitizer, libFuzzer's coverage instrumentation and `-D FUZZING`, linked
//   with libFuzzer without its `main` (`libclang_rt.fuzzer_no_main`: SwiftPM renames an executable's `main`, which
//   clashes with libFuzzer's). Our `main` hands over to libFuzzer's driver (`LLVMFuzzerRunDriver`), which calls the
//   target that `RLWATCH_FUZZ_TARGET` names with each input.
// - A normal build gives a runner for files: `rlwatch-fuzz TARGET FILE…` runs each input once (to reproduce a
//   crash libFuzzer saved, without the sanitizer build).

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

nonisolated(unsafe) private var selected: FuzzTarget = .metricsLine

@main
struct FuzzDriver {
    static func main() {
        let name = ProcessInfo.processInfo.environment["RLWATCH_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("RLWATCH_FUZZ_TARGET must name a target (\(names)); it is '\(name)'\n".utf8))
            exit(2)
        }
        selected = target
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { data, size in
            selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
            return 0
        })
    }
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
