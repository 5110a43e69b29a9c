import ArgumentParser
import Foundation
import Strata
import StrataLabel

/// The options of a fit (`strata run`, `strata fit`).
struct RunArguments: ParsableArguments {
    @OptionGroup var topics: TopicCountOption

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
        options.k = topics.k
        try labeling.apply(to: &options)
        if let maxCost, !(maxCost.isFinite && maxCost >= 0) {
            throw StrataError(.usage, "--max-cost must be a number of USD ≥ 0, got \(maxCost)")
        }
        options.maxCost = maxCost
        try fit.apply(to: &options)
        options.writeEmbeddings = writeEmbeddings
        try incremental.apply(to: &options)
        options.timeField = timeField
        if let seedTopics { options.seedTopics = try SeedTopics.read(seedTopics, k: topics.k) }
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
        try ClusteringPolicy.checkSeeds(seeds.count, k: k, file: path)
        return seeds
    }
}
