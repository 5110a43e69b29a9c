import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct AssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Assign new and changed documents of SOURCE to the fitted topics (no refit, no LLM), or say which topic a text belongs to (--text, --stdin).",
        discussion: """
            Needs a state with fitted topics (`strata run SOURCE` first). Documents beyond every topic's radius get topic_id -1. \
            With --text or --stdin (one text per line) nothing is written: each text's topic, score and runner-up are printed.
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions

    @OptionGroup var novelty: NoveltyOptions

    @Option(help: "A text to assign instead of a source (repeatable).")
    var text: [String] = []

    @Flag(help: "Assign each line of standard input.")
    var stdin = false

    @Flag(help: "With --text/--stdin: JSON output.")
    var json = false

    @OptionGroup var sharding: ShardOptions

    @Option(help: "With --shared: rows per transaction when writing topic columns.")
    var batchRows = 5_000

    func run() async throws {
        if !text.isEmpty || stdin { return try await assignTexts() }
        if let shared = sharding.shared { return try await assignShard(shared) }
        let start = Date()
        try await reportingErrors(log: log) {
            var options = try RunOptions(source)
            options.mode = .assign
            try novelty.apply(to: &options)
            let reporter = log.reporter
            let result = try await Pipeline.run(options, reporter: reporter)
            if let d = result.document.drift, !log.quiet {
                print("\(d.documentsNew) new, \(d.documentsChanged) changed, \(d.documentsRemoved) removed; \(d.documentsUnassigned) without a topic")
                reporter.info("topic columns → \(result.output)")
            }
            let code = log.summarize(result, since: start)
            if code != 0 { throw ExitCode(code) }
        }
    }

    /// Sharded nightly, step 3 of 3: this shard's topic columns from the published fit.
    func assignShard(_ shared: String) async throws {
        try await reportingErrors(log: log) {
            guard batchRows >= 1 else { throw StrataError(.usage, "--batch-rows must be at least 1, got \(batchRows)") }
            var options = try RunOptions(source)
            options.shared = shared
            options.assignBatch = batchRows
            try novelty.apply(to: &options)
            let shard = try sharding.resolved()
            let report = try await Sharded.assign(options, shard: shard, reporter: log.reporter)
            sharding.summarize(report, step: "assign", log: log)
        }
    }

    func assignTexts() async throws {
        try await reportingErrors {
            guard source.source == nil else { throw StrataError(.usage, "--text/--stdin take no SOURCE: pass --state DIR of the fitted topics") }
            var texts = text
            if stdin { while let line = readLine() { if !line.trimmingCharacters(in: .whitespaces).isEmpty { texts.append(line) } } }
            var options = RunOptions(source: .jsonl("-"), stateDirectory: source.state ?? ".strata")
            try novelty.apply(to: &options)
            let index = try SearchIndex(stateDirectory: options.stateDirectory, embeddingBaseURL: source.embeddingBaseURL)
            let assigned = try await index.assign(texts: texts, noveltyQuantile: options.noveltyQuantile)
            if json { return try printJSON(assigned) }
            for a in assigned {
                let runnerUp = a.runnerUpID.map { "  (runner-up \($0) \(a.runnerUpLabel ?? "") " + String(format: "%.4f", a.runnerUpScore ?? 0) + ")" } ?? ""
                print("\(a.topicID)\t" + String(format: "%.4f", a.score) + "\t\(a.topicLabel)\(runnerUp)")
            }
        }
    }
}
