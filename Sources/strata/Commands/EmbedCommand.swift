import ArgumentParser
import Foundation
import Strata
import StrataLabel
import StrataLinalg
import StrataStore

struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Only the vectors: embed SOURCE through the embedding cache and write them to a file — or, with --shared, embed one shard into the shared store (sharded nightly, step 1 of 3).")

    enum Format: String, ExpressibleByArgument { case npy, jsonl }

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Output file (not with --shared).")
    var out: String?

    @OptionGroup var sharding: ShardOptions

    @Option(help: "npy (float32, n × d, input order) or jsonl ({\"id\": …, \"embedding\": […]} per line).")
    var format: Format = .npy

    func run() async throws {
        if let shared = sharding.shared { return try await embedShard(shared) }
        try await reportingErrors {
            guard let out else { throw StrataError(.usage, "missing --out FILE (or --shared URL to embed one shard into the shared store)") }
            var options = try RunOptions(source, ownState: false)   // the state is only a vector cache here
            let reporter = log.reporter
            reporter.stage("read \(options.source)")
            let read = try await DocumentStore.read(options.source, options: options.read)
            if read.skipped > 0 { reporter.warning("skipped \(read.skipped) invalid record(s)") }
            let state = try StateDatabase(directory: options.stateDirectory)
            options.embedder = try await FittedEmbedding.resolve(options, documents: read.documents, state: state, reporter: reporter)
            reporter.stage("embed")
            let result = try await EmbeddingStage.embed(read.documents, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                        state: state, tokenCounter: nil, reporter: reporter)
            reporter.stage("write \(out)")
            switch format {
            case .npy:
                try NPY.write(result.matrix, to: URL(fileURLWithPath: out))
            case .jsonl:
                try AtomicFile.write(out) { h in
                    var buffer = Data()
                    for (i, d) in read.documents.enumerated() {
                        let line = "{\"embedding\":\(Export.compactFloats(result.matrix.row(i))),\"id\":\(Export.jsonString(d.id))}\n"
                        buffer.append(contentsOf: line.utf8)
                        if buffer.count > 1 << 20 { try h.write(contentsOf: buffer); buffer.removeAll(keepingCapacity: true) }
                    }
                    try h.write(contentsOf: buffer)
                }
            }
            reporter.info("\(result.matrix.rows) vectors of \(result.matrix.cols) dimensions (\(result.embedded) embedded, \(result.cached) cached)")
            if read.skipped > 0 { throw ExitCode(3) }
        }
    }

    /// Sharded nightly, step 1 of 3: this shard's missing vectors into the shared store.
    func embedShard(_ shared: String) async throws {
        try await reportingErrors(log: log) {
            guard out == nil else { throw StrataError(.usage, "--out and --shared exclude each other: --shared stores the vectors in PostgreSQL") }
            var options = try RunOptions(source)
            options.shared = shared
            let report = try await Sharded.embed(options, shard: try sharding.resolved(), reporter: log.reporter)
            sharding.summarize(report, step: "embed", log: log)
        }
    }
}
