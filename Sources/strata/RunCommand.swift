import ArgumentParser
import Foundation
import Strata
import StrataLabel

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Fit topics over SOURCE and write the topic columns back.")

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var arguments: RunArguments

    func run() async throws {
        try await arguments.run(log: log) { try arguments.options(source) }
    }
}

/// `strata fit`: the one-node step of the sharded nightly (embed array → fit → assign array).
struct FitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Sharded nightly, step 2 of 3: fit topics over the vectors the embed shards stored, and publish them for the assign shards.",
        discussion: """
            `strata run` on one node, except that every vector comes from the shared store (`strata embed --shared` \
            shards stored them) and the rows are left to `strata assign --shared` shards: the fit publishes the model, \
            topics and every document's assignment to the store and rewrites strata_topics. Refuses (exit 5) while an \
            embed shard of the last shard count is unfinished or a document has no vector, naming the shards to rerun. \
            --state must persist between nights (it holds the previous topics that keep ids stable).
            """)

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions
    @OptionGroup var arguments: RunArguments

    @Option(help: "PostgreSQL URL of the store the sharded steps share (schema strata): postgres://USER@HOST:PORT/DB.")
    var shared: String

    func run() async throws {
        if arguments.maxCost != nil {
            throw ValidationError("--max-cost does not apply to `strata fit` (the embed shards spent the embedding): run `strata estimate SOURCE` for the labeling cost")
        }
        try await arguments.run(log: log) {
            var options = try arguments.options(source)
            options.shared = shared
            return options
        }
    }
}

/// The options of a fit (`strata run`, `strata fit`).
struct RunArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "Number of topics: auto or an integer ≥ 2. (default: auto)", transform: KChoice.parse)
    var k: KChoice = .auto

    @OptionGroup var labeling: LabelerOptions

    @Option(parsing: .unconditional, help: "Refuse to start when the estimated cost exceeds this many USD.")
    var maxCost: Double?

    @OptionGroup var fit: FitOptions

    @Flag(help: "PostgreSQL: also store each document's normalised embedding in an `embedding real[]` column (cast to pgvector's vector).")
    var writeEmbeddings = false

    @OptionGroup var incremental: IncrementalOptions

    @Option(help: "Field holding each document's date (ISO 8601, YYYY-MM-DD HH:MM:SS or Unix seconds): topic counts per day go into topics.json (over_time), `strata topics --over-time` and the report. Remembered by later runs.")
    var timeField: String?

    @Option(help: "File of topics you expect, one per line (`Label` or `Label: description`): a full fit starts from them and the topics they grow into keep these labels.")
    var seedTopics: String?

    /// The run's options from every group, validated.
    func options(_ source: SourceOptions) throws -> RunOptions {
        var options = try RunOptions(source)
        options.k = k
        try labeling.apply(to: &options)
        if let maxCost, !(maxCost.isFinite && maxCost >= 0) {
            throw StrataError(.usage, "--max-cost must be a number of USD ≥ 0, got \(maxCost)")
        }
        options.maxCost = maxCost
        try fit.apply(to: &options)
        options.writeEmbeddings = writeEmbeddings
        try incremental.apply(to: &options)
        options.timeField = timeField
        if let seedTopics { options.seedTopics = try SeedTopics.read(seedTopics, k: k) }
        return options
    }

    /// Runs the fit and prints its topics; exit 3 with warnings. `makeOptions` runs inside the error
    /// reporting, so its usage errors exit 2 with a summary event.
    func run(log: LogOptions, _ makeOptions: () throws -> RunOptions) async throws {
        let start = Date()
        try await reportingErrors(log: log) {
            let options = try makeOptions()
            let reporter = log.reporter
            if let maxCost {
                let estimate = try await Estimator.estimate(options, storeEmbeddings: true)
                if let cost = estimate.totalCost, cost > maxCost {
                    throw StrataError(.failed, String(format: "estimated cost $%.4f exceeds --max-cost $%.4f; nothing was spent", cost, maxCost))
                }
            }
            let result = try await Pipeline.run(options, reporter: reporter)
            if !log.quiet {
                print(TopicTable.render(result.document))
                reporter.info("topic columns → \(result.output)")
                reporter.info("topics.json → \(result.topicsPath)")
            }
            let code = log.summarize(result, since: start)
            if code != 0 { throw ExitCode(code) }
        }
    }
}

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Show the current topics (a table, --json or --tree), or curate them: rename, pin, unpin, merge.",
        discussion: "Edits are kept in the state and applied by every later run, incremental or refit (label_source: user).",
        subcommands: [TopicsShow.self, TopicsRename.self, TopicsPin.self, TopicsUnpin.self, TopicsMerge.self],
        defaultSubcommand: TopicsShow.self)
}

struct TopicsShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show the current topics.")

    @OptionGroup var stateOption: StateOption

    @Flag(help: "Print the topics document (topics.json as the last run committed it).")
    var json = false

    @Flag(help: "Print the hierarchy as a tree.")
    var tree = false

    @Flag(help: "Topic shares per period of the run's --time-field, and what grew most in the last one.")
    var overTime = false

    @Option(help: "Periods for --over-time: day, week or month (default: the one giving at most ~60 periods).")
    var by: String?

    func run() async throws {
        let committed: (document: TopicsDocument, data: Data)
        do { committed = try CommittedState.topics(stateOption.state) } catch { throw fail(error).code }
        if overTime {
            return try await reportingErrors {
                guard let timeline = committed.document.overTime else {
                    throw StrataError(.usage, "no dates in this state: run `strata run SOURCE --time-field FIELD` first")
                }
                let g = try by.map { b in
                    guard let g = Timeline.Granularity(rawValue: b) else { throw StrataError(.usage, "--by must be day, week or month, got \(b)") }
                    return g
                } ?? timeline.naturalGranularity
                print(TopicTable.overTime(committed.document, timeline, g))
            }
        }
        if json {
            FileHandle.standardOutput.write(committed.data)
            print()
            return
        }
        print(tree ? TopicTable.tree(committed.document) : TopicTable.render(committed.document))
    }
}

/// Records one curation edit and prints what was recorded.
func recordEdit(_ edit: CurationEdit, state: StateOption) async throws {
    try await reportingErrors { print(try edit.record(stateDirectory: state.state)) }
}

struct TopicsRename: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Give a topic your own label (kept through reruns and refits).")
    @Argument(help: "Topic id.") var id: Int
    @Argument(help: "The new label.") var label: String
    @Option(help: "A description to show with it (default: keep the current one).") var description: String?
    @OptionGroup var stateOption: StateOption
    func run() async throws { try await recordEdit(.rename(topic: id, label: label, description: description), state: stateOption) }
}

struct TopicsPin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pin", abstract: "Keep a topic's current label through relabels and refits.")
    @Argument(help: "Topic id.") var id: Int
    @OptionGroup var stateOption: StateOption
    func run() async throws { try await recordEdit(.pin(topic: id), state: stateOption) }
}

struct TopicsUnpin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpin", abstract: "Drop a rename or pin: the labeler names the topic again.")
    @Argument(help: "Topic id.") var id: Int
    @OptionGroup var stateOption: StateOption
    func run() async throws { try await recordEdit(.unpin(topic: id), state: stateOption) }
}

struct TopicsMerge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Merge topic MERGED into topic INTO (its documents join INTO).")
    @Argument(help: "Topic id that stays.") var into: Int
    @Argument(help: "Topic id whose documents move.") var merged: Int
    @OptionGroup var stateOption: StateOption
    func run() async throws { try await recordEdit(.merge(into: into, merged: merged), state: stateOption) }
}

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

/// `--seed-topics FILE`: one topic per line, `Label` or `Label: description`; blank lines and `#` comments skipped.
enum SeedTopics {
    static func read(_ path: String, k: KChoice) throws -> [Curation.Rename] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw StrataError(.usage, "--seed-topics \(path): cannot read the file")
        }
        var seeds: [Curation.Rename] = [], seen = Set<String>()
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let label = parts.first, !label.isEmpty, label.count <= 200, seen.insert(label.lowercased()).inserted else {
                throw StrataError(.usage, "\(path):\(n + 1): a seed is `Label` or `Label: description`, each label once")
            }
            seeds.append(.init(label: label, description: parts.count > 1 && !parts[1].isEmpty ? parts[1] : nil))
        }
        guard !seeds.isEmpty else { throw StrataError(.usage, "--seed-topics \(path): no topics in the file") }
        if case .fixed(let n) = k, n < seeds.count { throw StrataError(.usage, "--k \(n) is below the \(seeds.count) seed topics in \(path)") }
        return seeds
    }
}
