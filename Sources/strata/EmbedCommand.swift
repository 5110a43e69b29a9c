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
            let options = try RunOptions(source, ownState: false)   // the state is only a vector cache here
            let reporter = log.reporter
            reporter.stage("read \(options.source)")
            let read = try await DocumentStore.read(options.source, options: options.read)
            if read.skipped > 0 { reporter.warning("skipped \(read.skipped) invalid record(s)") }
            reporter.stage("embed")
            let state = try StateDatabase(directory: options.stateDirectory)
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

struct EstimateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Tokens and dollars a run would spend (embedding + labeling), before spending anything.")

    @OptionGroup var source: SourceOptions

    @Option(parsing: .unconditional, help: "Number of topics: auto or an integer ≥ 2. (default: auto)", transform: KChoice.parse)
    var k: KChoice = .auto

    @OptionGroup var labeling: LabelerOptions

    @Flag(help: "Machine-readable output.")
    var json = false

    @Flag(help: "Approximate prompt sizes from a sample instead of replaying the fit (no embedding).")
    var quick = false

    @OptionGroup var log: LogOptions

    func run() async throws {
        try await reportingErrors {
            var options = try RunOptions(source)
            options.k = k
            try labeling.apply(to: &options)
            let e = try await Estimator.estimate(options, quick: quick, reporter: log.reporter)
            if json {
                let obj: [String: Any] = [
                    "documents": e.documents, "to_embed": e.toEmbed, "cached": e.cached, "embedding_tokens": e.embeddingTokens,
                    "embedding_cost_usd": e.embeddingCost as Any, "k_assumed": e.kAssumed, "llm_calls": e.llmCalls,
                    "llm_input_tokens": e.llmInputTokens, "llm_output_tokens": e.llmOutputTokens,
                    "llm_cost_usd": e.llmCost as Any, "total_cost_usd": e.totalCost as Any, "notes": e.notes,
                    "llm_prompts": e.llmPrompts, "llm_first_attempt_input_tokens": e.llmFirstAttemptInputTokens,
                    "exact_prompts": e.exactPrompts, "calibration": e.calibration,
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
            } else {
                print(e.render())
            }
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "One file with every document's id, topic columns and vector: Parquet (pandas, Polars, DuckDB, LanceDB read it as-is) or JSON Lines.",
        discussion: "Needs a run first. Rows in source order; documents added since the last run read topic -1 (\"no topic\"); no nulls.")

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Output file.")
    var out: String

    @Option(help: "parquet or jsonl (default: from the --out extension, else parquet).")
    var format: String?

    @Flag(help: "Include each document's text.")
    var withText = false

    func run() async throws {
        try await reportingErrors {
            let options = try RunOptions(source)
            let name = format ?? (out.hasSuffix(".jsonl") ? "jsonl" : "parquet")
            guard let f = Export.Format(rawValue: name) else { throw StrataError(.usage, "--format must be parquet or jsonl, got \(name)") }
            let table = try await Export.table(options, withText: withText, reporter: log.reporter)
            try Export.write(table, format: f, to: out)
            log.reporter.info("\(table.ids.count) rows × \(table.dimension)-dimensional vectors → \(out) (\(f.rawValue))")
        }
    }
}
