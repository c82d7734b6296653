import ArgumentParser
import Foundation
import RLWatchCore

extension RLWatchCommand {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write ./rlwatch.yaml with every setting at its default, one comment per key.")

        @Flag(help: "Overwrite an existing rlwatch.yaml.")
        var force = false

        @Option(help: "Where to write the file.")
        var path = "rlwatch.yaml"

        func run() async throws {
            if FileManager.default.fileExists(atPath: path) && !force {
                printError("\(path) already exists; use --force to overwrite it.")
                throw ExitStatus.failure
            }
            do {
                try ConfigTemplate.defaultYAML.write(toFile: path, atomically: true, encoding: .utf8)
            } catch {
                printError("error: cannot write \(path): \(error.localizedDescription)")
                throw ExitStatus.failure
            }
            print("Created \(path)")
        }
    }

    struct ConfigCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "config", abstract: "Inspect the configuration.", subcommands: [Show.self])

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print the resolved configuration (secrets redacted) and where each value came from.")

            @OptionGroup var options: StoreOptions

            func run() async throws {
                let context = try CommandContext(options)
                print(ConfigTemplate.show(context.resolved))
            }
        }
    }
}
