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

    @Option(parsing: .unconditional, help: "Number of topics: auto or an integer ≥ 2.")
    var k = "auto"

    @Option(help: "Labeler: keywords (offline) or openai:MODEL.")
    var labeler = "keywords"

    @Option(help: "Base URL of the OpenAI-compatible chat server (OpenAI, Ollama, vLLM, llama.cpp).")
    var llmBaseURL = "https://api.openai.com/v1"

    @Option(parsing: .unconditional, help: "LLM requests in flight at once.")
    var llmConcurrency = 4

    @Option(parsing: .unconditional, help: "Seconds one LLM request may take before it is abandoned and retried.")
    var llmTimeout: Double = 120

    @Option(help: "How to ask the LLM: chat (instruction-tuned models, structured output), completion (few-shot pattern on /v1/completions, for base models) or auto (completion for a model on a local server whose name does not say instruct/-it/chat).")
    var llmMode = "auto"

    @Option(parsing: .unconditional, help: "Refuse to start when the estimated cost exceeds this many USD.")
    var maxCost: Double?

    @Option(help: "Price file overriding the shipped table (USD per million tokens).")
    var prices: String?

    @Option(help: "Random seed (k-means++ sampling).")
    var seed: UInt64 = 42

    @Flag(help: "Force a full refit (otherwise a run with existing state is incremental unless a refit limit is passed).")
    var full = false

    @Flag(help: "On a refit, ask the labeler again for topics that kept their id (default: they keep their label).")
    var relabel = false

    @Flag(help: "PostgreSQL: also store each document's normalised embedding in an `embedding real[]` column (cast to pgvector's vector).")
    var writeEmbeddings = false

    @Flag(help: "On a refit, start k-means from scratch instead of from the previous topics.")
    var coldStart = false

    @OptionGroup var incremental: IncrementalOptions

    @Option(help: "PCA keeps the fewest components explaining this share of the variance…")
    var pcaVariance = 0.9

    @Option(help: "…but at most this many.")
    var pcaMaxComponents = 256

    @Option(help: "k-means restarts; the lowest inertia wins.")
    var restarts = 1

    func run() async throws {
        let start = Date()
        try await reportingErrors(log: log) {
            var options = try RunOptions(source)
            options.k = try KChoice.parse(k)
            options.labeler = try LabelerSpec.parse(labeler)
            options.llmBaseURL = try baseURL(llmBaseURL, option: "--llm-base-url")
            guard llmConcurrency >= 1 else { throw StrataError(.usage, "--llm-concurrency must be at least 1, got \(llmConcurrency)") }
            options.llmConcurrency = llmConcurrency
            options.llmMode = try parseLLMMode(llmMode)
            if let maxCost, !(maxCost.isFinite && maxCost >= 0) {
                throw StrataError(.usage, "--max-cost must be a number of USD ≥ 0, got \(maxCost)")
            }
            options.maxCost = maxCost
            guard llmTimeout.isFinite && llmTimeout > 0 else { throw StrataError(.usage, "--llm-timeout must be a number of seconds > 0, got \(llmTimeout)") }
            options.llmTimeout = llmTimeout
            options.pricesFile = prices
            options.seed = seed
            guard pcaVariance > 0 && pcaVariance < 1, pcaMaxComponents >= 1, restarts >= 1 else {
                throw StrataError(.usage, "--pca-variance must be in (0, 1); --pca-max-components and --restarts ≥ 1")
            }
            options.pcaVariance = pcaVariance
            options.pcaMaxComponents = pcaMaxComponents
            options.restarts = restarts
            options.mode = full ? .full : .auto
            options.relabel = relabel
            options.coldStart = coldStart
            options.writeEmbeddings = writeEmbeddings
            try incremental.apply(to: &options)
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
        abstract: "Show the current topics: a table, --json (the topics.json document) or --tree.")

    @Option(help: "State directory of the run.")
    var state = ".strata"

    @Flag(help: "Print the topics document (topics.json as the last run committed it).")
    var json = false

    @Flag(help: "Print the hierarchy as a tree.")
    var tree = false

    func run() async throws {
        let committed: (document: TopicsDocument, data: Data)
        do { committed = try CommittedState.topics(state) } catch { throw fail(error).code }
        if json {
            FileHandle.standardOutput.write(committed.data)
            print()
            return
        }
        print(tree ? TopicTable.tree(committed.document) : TopicTable.render(committed.document))
    }
}

/// How far from a topic a new document may be and still join it (`strata run` and `strata assign`).
struct NoveltyOptions: ParsableArguments {
    @Option(help: "A new document joins its nearest topic only within this quantile of the members' distances to the centroid (else topic -1).")
    var noveltyQuantile = 0.95

    func apply(to options: inout RunOptions) throws {
        guard noveltyQuantile > 0 && noveltyQuantile <= 1 else { throw StrataError(.usage, "--novelty-quantile must be in (0, 1]") }
        options.noveltyQuantile = noveltyQuantile
    }
}

/// Options of incremental runs and refits (`strata run` with existing state).
struct IncrementalOptions: ParsableArguments {
    @OptionGroup var novelty: NoveltyOptions

    @Option(help: "Relabel a topic when this share of its documents changed (incremental runs; on a refit, 1 − Jaccard of its old and new documents).")
    var relabelShare = 0.1

    @Option(help: "Refit when more than this share of documents has no topic (-1) after assignment.")
    var refitUnassigned = 0.05

    @Option(help: "Refit when new + changed + removed documents exceed this share of the corpus.")
    var refitChanged = 0.2

    @Option(help: "Refit when the model is older than this many days.")
    var refitAgeDays = 30.0

    func apply(to options: inout RunOptions) throws {
        try novelty.apply(to: &options)
        guard relabelShare >= 0, refitUnassigned >= 0, refitChanged >= 0, refitAgeDays >= 0 else {
            throw StrataError(.usage, "--relabel-share, --refit-unassigned, --refit-changed and --refit-age-days must be ≥ 0")
        }
        options.relabelShare = relabelShare
        options.refit.maxUnassignedShare = refitUnassigned
        options.refit.maxChangedShare = refitChanged
        options.refit.maxAgeDays = refitAgeDays
    }
}

struct AssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Assign new and changed documents of SOURCE to the fitted topics: no refit, no LLM (for hourly use).",
        discussion: "Needs a state with fitted topics (`strata run SOURCE` first). Documents beyond every topic's radius get topic_id -1.")

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions

    @OptionGroup var novelty: NoveltyOptions

    func run() async throws {
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
}

/// `--llm-mode`: nil for auto.
func parseLLMMode(_ s: String) throws -> LabelMode? {
    if s == "auto" { return nil }
    guard let m = LabelMode(rawValue: s) else { throw StrataError(.usage, "--llm-mode must be auto, chat or completion (got \"\(s)\")") }
    return m
}

/// A base URL option: http or https with a host, else a usage error naming the option.
func baseURL(_ s: String, option: String) throws -> URL {
    guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
          let host = url.host, !host.isEmpty else {
        throw StrataError(.usage, "\(option) must be an http:// or https:// URL such as http://127.0.0.1:8080/v1, got \"\(s)\"")
    }
    return url
}
