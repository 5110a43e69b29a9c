import ArgumentParser
import Foundation
import Strata

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Fit topics over SOURCE and write the topic columns back.")

    @OptionGroup var source: SourceOptions
    @OptionGroup var log: LogOptions

    @Option(help: "Number of topics: auto or an integer ≥ 2.")
    var k = "auto"

    @Option(help: "Labeler: keywords (offline) or openai:MODEL.")
    var labeler = "keywords"

    @Option(help: "Base URL of the OpenAI-compatible chat server (OpenAI, Ollama, vLLM, llama.cpp).")
    var llmBaseURL = "https://api.openai.com/v1"

    @Option(help: "LLM requests in flight at once.")
    var llmConcurrency = 4

    @Option(help: "Refuse to start when the estimated cost exceeds this many USD.")
    var maxCost: Double?

    @Option(help: "Price file overriding the shipped table (USD per million tokens).")
    var prices: String?

    @Option(help: "Random seed (k-means++ sampling).")
    var seed: UInt64 = 42

    @Flag(help: "Force a full refit.")
    var full = false

    @Option(help: "PCA keeps the fewest components explaining this share of the variance…")
    var pcaVariance = 0.9

    @Option(help: "…but at most this many.")
    var pcaMaxComponents = 256

    @Option(help: "k-means restarts; the lowest inertia wins.")
    var restarts = 1

    func run() async throws {
        try await reportingErrors {
            var options = try RunOptions(source)
            options.k = try KChoice.parse(k)
            options.labeler = try LabelerSpec.parse(labeler)
            guard let url = URL(string: llmBaseURL) else { throw StrataError(.usage, "bad --llm-base-url") }
            options.llmBaseURL = url
            options.llmConcurrency = max(1, llmConcurrency)
            options.maxCost = maxCost
            options.pricesFile = prices
            options.seed = seed
            guard pcaVariance > 0 && pcaVariance < 1, pcaMaxComponents >= 1, restarts >= 1 else {
                throw StrataError(.usage, "--pca-variance must be in (0, 1); --pca-max-components and --restarts ≥ 1")
            }
            options.pcaVariance = pcaVariance
            options.pcaMaxComponents = pcaMaxComponents
            options.restarts = restarts
            let reporter = log.reporter
            if let maxCost {
                let estimate = try await Estimator.estimate(options)
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
            if result.hasWarnings { throw ExitCode(3) }
        }
    }
}

struct TopicsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topics",
        abstract: "Show the current topics: a table, --json (the topics.json document) or --tree.")

    @Option(help: "State directory holding topics.json.")
    var state = ".strata"

    @Flag(help: "Print topics.json.")
    var json = false

    @Flag(help: "Print the hierarchy as a tree.")
    var tree = false

    func run() async throws {
        let path = (state as NSString).appendingPathComponent("topics.json")
        guard FileManager.default.fileExists(atPath: path) else {
            throw fail(StrataError(.failed, "no topics.json in \(state): run `strata run SOURCE` first (or pass --state DIR)"))
        }
        if json {
            FileHandle.standardOutput.write(try Data(contentsOf: URL(fileURLWithPath: path)))
            print()
            return
        }
        let doc = try TopicsDocument.load(path)
        print(tree ? TopicTable.tree(doc) : TopicTable.render(doc))
    }
}
