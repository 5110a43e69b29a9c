import ArgumentParser
import Foundation
import Synchronization
import Strata
import StrataLinalg
import StrataStore

@main
struct StrataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "strata",
        abstract: "Turn a pile of documents into topics that retrieval tools can filter on.",
        discussion: """
            Strata embeds documents (MiniLM on OpenBLAS by default), reduces them with PCA, clusters \
            them with k-means, names each cluster, and writes topic columns back where the documents live.

            Exit codes: 0 done, 1 failed (nothing written), 2 usage error, 3 done with warnings \
            (e.g. some labels fell back to keywords), 4 another run holds the state lock, 5 not ready (sharded steps: an embed shard unfinished, no fit published).
            """,
        version: "\(strataVersion)\nBLAS: \(BLASLibrary.active)",
        subcommands: [RunCommand.self, AssignCommand.self, FitCommand.self, EvalCommand.self, ReportCommand.self, EmbedCommand.self, DistillCommand.self, ExportCommand.self, TopicsCommand.self, EstimateCommand.self, SearchCommand.self, MCPCommand.self]
    )

    /// ArgumentParser exits 64 (EX_USAGE) on parse and validation errors; Strata documents 2 for every
    /// usage error, so the mapping happens here, once.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if let asyncCommand = command as? AsyncParsableCommand {
                // The parsed command moves into the task and is used only there.
                nonisolated(unsafe) var moved = asyncCommand
                let task = Task { try await moved.run() }
                // `strata mcp` serves until its client goes away: a signal ends it at once, as before.
                let watch = command is MCPCommand ? [] : Interrupt.watch { task.cancel() }
                defer { watch.forEach { $0.cancel() } }
                do { try await task.value } catch let code as ExitCode where Interrupt.signal != 0 && [0, 3].contains(code.rawValue) {
                    Interrupt.completedAnyway()
                }
                if Interrupt.signal != 0 { Interrupt.completedAnyway() }
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
