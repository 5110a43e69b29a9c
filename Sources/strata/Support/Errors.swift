import ArgumentParser
import Foundation
import Synchronization
import Strata
import StrataLinalg
import StrataStore

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
