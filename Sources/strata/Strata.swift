import ArgumentParser
import Foundation
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
            (e.g. some labels fell back to keywords), 4 another run holds the state lock.
            """,
        version: strataVersion,
        subcommands: [RunCommand.self, AssignCommand.self, EvalCommand.self, ReportCommand.self, EmbedCommand.self, TopicsCommand.self, EstimateCommand.self, SearchCommand.self, MCPCommand.self]
    )
}

/// Options shared by every command that reads a source.
struct SourceOptions: ParsableArguments {
    @Argument(help: "docs.jsonl, docs.csv, a folder of .txt/.md files, sqlite:PATH?table=T or postgres://USER@HOST:PORT/DB?table=T")
    var source: String

    @Option(help: "Field holding the document id.")
    var idField = "id"

    @Option(help: "Field holding the document text.")
    var textField = "text"

    @Flag(help: "Skip and count invalid records instead of failing on the first one.")
    var skipInvalid = false

    @Option(help: "State directory (default: .strata/ next to the source).")
    var state: String?

    @Option(help: "Embedder: minilm, openai:MODEL, or field:NAME for vectors already in the source.")
    var embedder = "minilm"

    @Option(help: "Base URL of the OpenAI-compatible embeddings server (for --embedder openai:MODEL).")
    var embeddingBaseURL = "https://api.openai.com/v1"
}

struct LogOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print warnings only.")
    var quiet = false

    @Flag(help: "One JSON object per log event on standard error.")
    var jsonLog = false

    var reporter: ConsoleReporter { ConsoleReporter(mode: jsonLog ? .json : (quiet ? .quiet : .human)) }
}

/// Maps library errors to messages and exit codes.
func fail(_ error: Error) -> ExitCode {
    let message: String
    var code: Int32 = 1
    if let e = error as? StrataError { message = e.message; code = e.exitCode } else { message = "\(error)" }
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(code)
}

/// Runs a command's body, turning library errors into a message and their exit code (an `ExitCode`
/// thrown by the body passes through unchanged).
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let e as ExitCode {
        throw e
    } catch {
        throw fail(error)
    }
}

extension RunOptions {
    init(_ s: SourceOptions) throws {
        let location = try SourceLocation.parse(s.source)
        self.init(source: location, stateDirectory: s.state)
        read = ReadOptions(idField: s.idField, textField: s.textField, skipInvalid: s.skipInvalid)
        embedder = try EmbedderSpec.parse(s.embedder)
        guard let url = URL(string: s.embeddingBaseURL) else { throw StrataError(.usage, "bad --embedding-base-url") }
        embeddingBaseURL = url
    }
}
