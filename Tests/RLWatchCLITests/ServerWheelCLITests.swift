import Foundation
import Testing

/// The server wheel (`scripts/build-wheel`, `packaging/wheel/pack_wheel.py`) and its check (`scripts/check-wheel`),
/// driven with the debug binary this suite was built with: the same scripts CI runs on the release build.
///
/// The debug binary links the Swift runtime from the toolchain, so `build-wheel`'s `ldd` gate must refuse it (that is
/// the first test); the packing and the install are exercised by packing it directly. That the release build passes
/// the gate is what CI's `scripts/build-wheel` checks.
@Suite struct ServerWheelCLITests {
    @Test(.timeLimit(.minutes(3)))
    func buildWheelRefusesABinaryThatLinksTheSwiftRuntime() async throws {
        let sandbox = try CLISandbox()
        let binary = try CLIBinary.url()
        let out = sandbox.url("dist")
        let result = try await runTool(
            "scripts/build-wheel", ["--binary", binary.path, "--out", out.path], in: sandbox, timeout: .seconds(120))
        #expect(result.status != 0, "\(result)")
        let refused = result.stderr.split(separator: "\n")
            .first { $0.contains("links libraries a user's machine may not have:") }.map(String.init) ?? ""
        #expect(refused.contains("libswiftCore.so"), "\(result)")
        // What the allow-list lets through is not refused...
        for allowed in ["libsqlite3.so.0", "libc.so.6", "libstdc++.so.6", "libz.so.1"] {
            #expect(!refused.contains(allowed), "\(allowed) is allowed: \(refused)")
        }
        // ...and the product links no test code: no FoundationNetworking, so no libcurl (the test kit's HTTP client
        // needs them; a static-stdlib build would not link with them).
        #expect(!refused.contains("FoundationNetworking") && !refused.contains("libcurl"), "\(refused)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
        #expect(written.isEmpty, "a refused binary left \(written) in \(out.path)")
    }

    /// The wheel installs with pip from a local wheel directory (no index) beside the client's wheel, and
    /// `scripts/check-wheel` passes on it: one version everywhere, `rlwatch demo` runs, `attach()` starts the wheel's
    /// server with the environment off PATH and gets `loss_nan` back. Its layout and RECORD are checked on their own.
    @Test(.timeLimit(.minutes(8)))
    func theWheelInstallsAndItsBinaryServesTheClient() async throws {
        let sandbox = try CLISandbox()
        let binary = try CLIBinary.url()
        // A stripped copy: the same program, a smaller wheel to compress and unpack.
        let copy = sandbox.url("rlwatch")
        try FileManager.default.copyItem(at: binary, to: copy)
        _ = try? await runTool("/usr/bin/env", ["strip", copy.path], in: sandbox, timeout: .seconds(120))
        let wheels = sandbox.url("wheels")
        let pack = try await runTool(
            "/usr/bin/env", ["python3", "packaging/wheel/pack_wheel.py", "--binary", copy.path, "--out", wheels.path],
            in: sandbox, timeout: .seconds(180))
        #expect(pack.status == 0, "\(pack)")
        let wheel = pack.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let version = try await sandbox.run(["--version"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "rlwatch, version ", with: "")
        let name = URL(fileURLWithPath: wheel).lastPathComponent
        #expect(
            name.wholeMatch(of: /rlwatch_server-(.+)-py3-none-manylinux_(\d+)_(\d+)_x86_64\.whl/)?.output.1 == Substring(version),
            "wheel \(name), binary \(version)")

        // The archive as the wheel spec wants it, read by Python's zipfile, independently of the packer.
        let inspect = try await runTool(
            "/usr/bin/env", ["python3", "-c", Self.inspectWheel, wheel], in: sandbox, timeout: .seconds(120))
        #expect(inspect.status == 0, "\(inspect)")
        #expect(inspect.stdout.contains("scripts/rlwatch 755"), "\(inspect)")
        #expect(inspect.stdout.contains("Root-Is-Purelib: false"), "\(inspect)")

        let check = try await runTool("scripts/check-wheel", [wheels.path], in: sandbox, timeout: .seconds(420))
        #expect(check.status == 0, "\(check)")
        #expect(check.stderr.contains("rlwatch --version: 'rlwatch, version \(version)'"), "\(check)")
        #expect(check.stderr.contains("detectors") && check.stderr.contains("loss_nan"), "\(check)")
        #expect(check.stderr.contains("OK: \(name)"), "\(check)")
    }

    /// Checks every RECORD line's sha256 and size against the archive, that RECORD lists every file, that WHEEL's tag
    /// is the file name's, and prints each entry with its unix mode and the WHEEL file.
    static let inspectWheel = #"""
        import base64, hashlib, sys, zipfile
        path = sys.argv[1]
        with zipfile.ZipFile(path) as wheel:
            names = wheel.namelist()
            record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
            listed = {}
            for line in wheel.read(record_name).decode().splitlines():
                name, digest, size = line.rsplit(",", 2)
                listed[name] = (digest, size)
            assert set(listed) == set(names), (set(listed) ^ set(names))
            for name in names:
                if name == record_name:
                    assert listed[name] == ("", ""), listed[name]
                    continue
                data = wheel.read(name)
                expected = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
                assert listed[name] == (expected, str(len(data))), (name, listed[name])
                print(name.split(".data/")[-1], oct((wheel.getinfo(name).external_attr >> 16) & 0o777)[2:])
            wheel_file = wheel.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
            tag = path.rsplit("/", 1)[-1][:-4].split("-", 2)[2]
            assert f"Tag: {tag}\n" in wheel_file, (tag, wheel_file)
            print(wheel_file)
        """#

    /// Runs a repository script (or any program) from the package root; output goes to files in the sandbox.
    func runTool(_ tool: String, _ arguments: [String], in sandbox: CLISandbox, timeout: Duration) async throws
        -> CLIResult
    {
        let process = Process()
        process.executableURL =
            tool.hasPrefix("/") ? URL(fileURLWithPath: tool) : CLIBinary.packageRoot.appendingPathComponent(tool)
        process.arguments = arguments
        process.currentDirectoryURL = CLIBinary.packageRoot
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        for variable in ["RLWATCH_URL", "RLWATCH_TOKEN", "RLWATCH_RUN_ID", "RLWATCH_LOG_DIR"] {
            environment.removeValue(forKey: variable)
        }
        process.environment = environment
        let tag = UUID().uuidString
        let stdoutURL = sandbox.io.appendingPathComponent("\(tag).out")
        let stderrURL = sandbox.io.appendingPathComponent("\(tag).err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
        let stderrHandle = try FileHandle(forWritingTo: stderrURL)
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? stdoutHandle.close()
        try? stderrHandle.close()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate()
                process.waitUntilExit()
                throw CLIHarnessError(description: "\(tool) \(arguments.joined(separator: " ")) ran past \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return CLIResult(
            arguments: [tool] + arguments, status: process.terminationStatus,
            exited: process.terminationReason == .exit,
            stdout: String(decoding: try Data(contentsOf: stdoutURL), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self))
    }
}
