import ArgumentParser
import Foundation
import RLWatchServer

/// Where `serve` and `dashboard` get their token: `--token`, `--token-file` or `RLWATCH_TOKEN`.
struct TokenOptions: ParsableArguments {
    @Option(
        help: """
            Token required on every request (at least 16 characters). Visible to other users in `ps`: prefer \
            --token-file or $RLWATCH_TOKEN.
            """)
    var token: String?

    @Option(
        name: .customLong("token-file"),
        help: "Read the token from this file (its first line, surrounding whitespace removed).")
    var tokenFile: String?

    func validate() throws {
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
    }

    /// The token from `--token`, `--token-file`, else `RLWATCH_TOKEN` (empty means none); nil when none is set.
    ///
    /// - Throws: `ValidationError` when the file cannot be read or the token is too short.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        let token: String?
        let source: String
        if let tokenFile {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("--token-file \(tokenFile): cannot read the file")
            }
            token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            source = "--token-file \(tokenFile)"
            if token?.isEmpty ?? true { throw ValidationError("\(source): the file holds no token") }
        } else if let flag = self.token {
            token = flag.isEmpty ? nil : flag
            source = "--token"
        } else {
            token = environment["RLWATCH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            source = "RLWATCH_TOKEN"
        }
        guard let token else { return nil }
        if let problem = ServerSettings.tokenProblem(token) { throw ValidationError("\(source): \(problem)") }
        return token
    }
}

extension TokenOptions {
    /// ``resolve(environment:)`` for a command: a problem is printed and exits with status 2.
    func resolveOrExit() throws -> String? {
        do {
            return try resolve()
        } catch let error as ValidationError {
            printError("error: \(error.message)")
            throw ExitStatus.badInput
        }
    }
}
