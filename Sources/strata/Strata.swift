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

/// SIGTERM and SIGINT: the first one cancels the running command, which stops at its next safe point
/// (between stages or embedding slices; never inside the write), releases the state lock, removes its
/// temporary files and exits 128 + the signal number with a message. A second signal kills at once.
enum Interrupt {
    private static let received = Mutex<Int32>(0)

    /// The signal that stopped the run (0 when none arrived).
    static var signal: Int32 { received.withLock { $0 } }

    /// Starts watching; `cancel` runs once, on the first signal.
    static func watch(_ cancel: @escaping @Sendable () -> Void) -> [DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { sig in
            Foundation.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let first = received.withLock { r -> Bool in defer { if r == 0 { r = sig } }; return r == 0 }
                if first {
                    FileHandle.standardError.write(Data("strata: \(sig == SIGTERM ? "SIGTERM" : "SIGINT") received; stopping at the next safe point (again to kill now)\n".utf8))
                    cancel()
                } else {
                    Foundation.signal(sig, SIG_DFL)
                    kill(getpid(), sig)
                }
            }
            source.resume()
            return source
        }
    }
}

extension Interrupt {
    /// A signal that arrived after the last safe point (during the write, which is never interrupted):
    /// the command finished and committed; it still exits 128 + the signal, saying so.
    static func completedAnyway() -> Never {
        let name = signal == SIGTERM ? "SIGTERM" : "SIGINT"
        FileHandle.standardError.write(Data("strata: \(name) arrived after the last safe point; the command had finished its work (a run: outputs and state are this run's, committed) and exits now\n".utf8))
        Foundation.exit(128 + signal)
    }
}

/// Maps library errors to messages and exit codes — the one place an error becomes an exit code.
func fail(_ error: Error) -> (code: ExitCode, message: String) {
    let message: String
    var code: Int32 = 1
    if let e = error as? StrataError { message = e.message; code = e.exitCode }
    else if error is CancellationError, Interrupt.signal != 0 {
        let name = Interrupt.signal == SIGTERM ? "SIGTERM" : "SIGINT"
        message = "stopped by \(name) at a safe point: the source, the state and topics.json are as the last completed run left them"
        code = 128 + Interrupt.signal
    } else { message = "\(error)" }
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return (ExitCode(code), message)
}

/// Runs a command's body, turning library errors into a message and their exit code (an `ExitCode`
/// thrown by the body passes through unchanged). With `log`, a failure ends a JSON log with a
/// `summary` event (a body that succeeds writes its own).
func reportingErrors(log: LogOptions? = nil, _ body: () async throws -> Void) async throws {
    let start = Date()
    do {
        try await body()
    } catch let e as ExitCode {
        throw e
    } catch {
        let (code, message) = fail(error)
        log?.reporter.summary(exitCode: code.rawValue, seconds: Date().timeIntervalSince(start), ["error": message])
        throw code
    }
}

extension LogOptions {
    /// The summary of a finished run: exit code 0, or 3 with warnings (returned for the caller to throw).
    func summarize(_ result: RunResult, since start: Date) -> Int32 {
        let run = result.document.run
        let code: Int32 = result.hasWarnings ? 3 : 0
        reporter.summary(exitCode: code, seconds: Date().timeIntervalSince(start), [
            "run": run.id, "mode": run.mode ?? "", "documents": run.counts.documents, "embedded": run.counts.embedded,
            "topics": result.document.topics.count, "llm_calls": run.labeler.calls, "warnings": run.warnings,
        ])
        return code
    }
}
