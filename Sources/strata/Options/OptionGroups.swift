import ArgumentParser
import Foundation
import Strata
import StrataLabel
import StrataStore

// The commands' option groups. Defaults come from `RunOptions.Defaults`; values are parsed into the
// library's types by `transform`s that throw `StrataError`s, so a bad value is a usage error (exit 2)
// that names the option and says what is accepted.

/// Options shared by every command that reads a source.
struct SourceOptions: ParsableArguments {
    @Argument(help: "docs.jsonl, docs.csv, a folder of .txt/.md files, sqlite:PATH?table=T or postgres://USER@HOST:PORT/DB?table=T (default with --state: the source of that state's runs)")
    var source: String?

    @Option(help: "Field holding the document id.")
    var idField = "id"

    @Option(help: "Field holding the document text.")
    var textField = "text"

    @Flag(help: "Skip and count invalid records instead of failing on the first one.")
    var skipInvalid = false

    @Option(help: "State directory (default: .strata/ next to the source).")
    var state: String?

    @Option(help: "Embedder: minilm, static (the table `strata distill` makes from MiniLM; static:DIM for another size), fitted (the static table fitted to this corpus on a MiniLM sample, see --fitted-share), openai:MODEL, or field:NAME for vectors already in the source. (default: minilm)", transform: EmbedderSpec.parse)
    var embedder: EmbedderSpec = .minilm

    @Option(help: "With --embedder fitted: share of the distinct texts (at least 2,000) embedded with MiniLM to fit the static table; the state's fit is reused while the share is the same. (default: \(RunOptions.Defaults.fittedShare))")
    var fittedShare = RunOptions.Defaults.fittedShare

    @Option(help: "Base URL of the OpenAI-compatible embeddings server (for --embedder openai:MODEL). (default: \(RunOptions.Defaults.openAIBaseURLString))", transform: baseURL)
    var embeddingBaseURL = RunOptions.Defaults.openAIBaseURL
}

/// `--k`, declared once for every command that fits or predicts a fit (run, fit, estimate); the
/// library's ``ClusteringPolicy`` decides what auto means.
struct TopicCountOption: ParsableArguments {
    @Option(parsing: .unconditional, help: "Number of topics: auto or an integer ≥ 2. (default: auto)", transform: KChoice.parse)
    var k: KChoice = .auto
}

/// How a command reports: human lines, warnings only, or JSON events on standard error.
struct LogOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print warnings only.")
    var quiet = false

    @Flag(help: "One JSON object per log event on standard error.")
    var jsonLog = false

    var reporter: ConsoleReporter { ConsoleReporter(mode: jsonLog ? (quiet ? .quietJSON : .json) : (quiet ? .quiet : .human)) }
}

/// `--state` of the commands that read a committed state without a source.
struct StateOption: ParsableArguments {
    @Option(help: "State directory of the run.")
    var state = ".strata"
}

/// Options of the commands that read a committed state without a source and embed queries (search, MCP).
struct ServedStateOptions: ParsableArguments {
    @OptionGroup var stateOption: StateOption
    var state: String { stateOption.state }

    @Option(help: "Base URL of the embeddings server when the run used openai:MODEL. (default: \(RunOptions.Defaults.openAIBaseURLString))", transform: baseURL)
    var embeddingBaseURL = RunOptions.Defaults.openAIBaseURL
}

/// How topics are named (`strata run` and `strata estimate`).
struct LabelerOptions: ParsableArguments {
    @Option(help: "Labeler: keywords (offline) or openai:MODEL. (default: keywords)", transform: LabelerSpec.parse)
    var labeler: LabelerSpec = .keywords

    @Option(help: "Base URL of the OpenAI-compatible chat server (OpenAI, Ollama, vLLM, llama.cpp). (default: \(RunOptions.Defaults.openAIBaseURLString))", transform: baseURL)
    var llmBaseURL = RunOptions.Defaults.openAIBaseURL

    @Option(parsing: .unconditional, help: "LLM requests in flight at once.")
    var llmConcurrency = RunOptions.Defaults.llmConcurrency

    @Option(parsing: .unconditional, help: "Seconds one LLM request may take, its retries of rate limits (429, honouring Retry-After) and 5xx answers included; then the topic falls back to keywords.")
    var llmTimeout = RunOptions.Defaults.llmTimeout

    @Option(help: "How to ask the LLM: chat (instruction-tuned models, structured output), completion (few-shot pattern on /v1/completions, for base models) or auto (completion for a model on a local server whose name does not say instruct/-it/chat). (default: auto)",
            transform: parseLLMMode)
    var llmMode: LabelMode? = nil

    @Option(help: "Price file overriding the shipped table (USD per million tokens).")
    var prices: String?

    func apply(to options: inout RunOptions) throws {
        guard llmConcurrency >= 1 else { throw StrataError(.usage, "--llm-concurrency must be at least 1, got \(llmConcurrency)") }
        guard llmTimeout.isFinite && llmTimeout > 0 else {
            throw StrataError(.usage, "--llm-timeout must be a number of seconds > 0, got \(llmTimeout)")
        }
        options.labeler = labeler
        options.llmBaseURL = llmBaseURL
        options.llmConcurrency = llmConcurrency
        options.llmTimeout = llmTimeout
        options.llmMode = llmMode
        options.pricesFile = prices
    }
}

/// How the topics are fitted (`strata run`).
struct FitOptions: ParsableArguments {
    @Option(help: "Random seed (k-means++ sampling).")
    var seed = RunOptions.Defaults.seed

    @Flag(help: "Force a full refit (otherwise a run with existing state is incremental unless a refit limit is passed).")
    var full = false

    @Flag(help: "On a refit, ask the labeler again for topics that kept their id (default: they keep their label).")
    var relabel = false

    @Flag(help: "On a refit, start k-means from scratch instead of from the previous topics.")
    var coldStart = false

    @Option(help: "PCA keeps the fewest components explaining this share of the variance…")
    var pcaVariance = RunOptions.Defaults.pcaVariance

    @Option(help: "…but at most this many.")
    var pcaMaxComponents = RunOptions.Defaults.pcaMaxComponents

    @Option(help: "k-means restarts; the lowest inertia wins.")
    var restarts = RunOptions.Defaults.restarts

    @Option(help: "Fit k-means on a seeded sample of this many documents, then assign every document (a smaller corpus is fitted whole).")
    var fitSample = RunOptions.Defaults.fitSample

    func apply(to options: inout RunOptions) throws {
        guard pcaVariance > 0 && pcaVariance < 1, pcaMaxComponents >= 1, restarts >= 1 else {
            throw StrataError(.usage, "--pca-variance must be in (0, 1); --pca-max-components and --restarts ≥ 1")
        }
        guard fitSample >= 100 else { throw StrataError(.usage, "--fit-sample \(fitSample): use at least 100 documents (default \(RunOptions.Defaults.fitSample))") }
        options.fitSample = fitSample
        options.seed = seed
        options.pcaVariance = pcaVariance
        options.pcaMaxComponents = pcaMaxComponents
        options.restarts = restarts
        options.mode = full ? .full : .auto
        options.relabel = relabel
        options.coldStart = coldStart
    }
}

/// How far from a topic a new document may be and still join it (`strata run` and `strata assign`).
struct NoveltyOptions: ParsableArguments {
    @Option(help: "A new document joins its nearest topic only within this quantile of the members' distances to the centroid (else topic -1).")
    var noveltyQuantile = RunOptions.Defaults.noveltyQuantile

    func apply(to options: inout RunOptions) throws {
        guard noveltyQuantile > 0 && noveltyQuantile <= 1 else { throw StrataError(.usage, "--novelty-quantile must be in (0, 1]") }
        options.noveltyQuantile = noveltyQuantile
    }
}

/// Options of incremental runs and refits (`strata run` with existing state).
struct IncrementalOptions: ParsableArguments {
    @OptionGroup var novelty: NoveltyOptions

    @Option(help: "Relabel a topic when this share of its documents changed (incremental runs; on a refit, 1 − Jaccard of its old and new documents).")
    var relabelShare = RunOptions.Defaults.relabelShare

    @Option(help: "Refit when more than this share of documents has no topic (-1) after assignment.")
    var refitUnassigned = RunOptions.Defaults.maxUnassignedShare

    @Option(help: "Refit when new + changed + removed documents exceed this share of the corpus.")
    var refitChanged = RunOptions.Defaults.maxChangedShare

    @Option(help: "Refit when the model is older than this many days.")
    var refitAgeDays = RunOptions.Defaults.maxAgeDays

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

extension RunOptions {
    /// `ownState: false` for `strata embed`, which reads the state only as a vector cache and may embed
    /// any source through it; every other command must name the state's own source.
    init(_ s: SourceOptions, ownState: Bool = true) throws {
        let location = try RunOptions.resolveSource(s.source, state: s.state, checkOwner: ownState)
        self.init(source: location, stateDirectory: s.state)
        read = ReadOptions(idField: s.idField, textField: s.textField, skipInvalid: s.skipInvalid)
        embedder = s.embedder
        embeddingBaseURL = s.embeddingBaseURL
        guard s.fittedShare > 0 && s.fittedShare <= 1 else {
            throw StrataError(.usage, "--fitted-share \(s.fittedShare): use a share in (0, 1], e.g. 0.05 for 5% of the documents")
        }
        fittedShare = s.fittedShare
    }
}

/// `--llm-mode`: nil for auto.
func parseLLMMode(_ s: String) throws -> LabelMode? {
    if s == "auto" { return nil }
    guard let m = LabelMode(rawValue: s) else { throw StrataError(.usage, "--llm-mode must be auto, chat or completion (got \"\(s)\")") }
    return m
}

/// A base URL option: http or https with a host, else a usage error saying what is accepted.
func baseURL(_ s: String) throws -> URL {
    guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
          let host = url.host, !host.isEmpty else {
        throw StrataError(.usage, "must be an http:// or https:// URL such as http://127.0.0.1:8080/v1, got \"\(s)\"")
    }
    return url
}

/// Prints `value` as pretty JSON with sorted keys on standard output.
func printJSON<T: Encodable>(_ value: T, escapingSlashes: Bool = true) throws {
    let e = JSONEncoder()
    e.outputFormatting = escapingSlashes ? [.prettyPrinted, .sortedKeys] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try e.encode(value), as: UTF8.self))
}

/// `--shared` and `--shard` of the sharded steps (`strata embed`, `strata assign`).
struct ShardOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL of the store the sharded steps share (schema strata): postgres://USER@HOST:PORT/DB. Makes this command one shard of the sharded nightly.")
    var shared: String?

    @Option(help: "This worker's shard: i/N (0 ≤ i < N). Default: SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX of STRATA_SHARD_COUNT (Kubernetes), else 0/1.")
    var shard: String?

    /// The shard from `--shard` or the scheduler's variables; the whole corpus (0/1) without either.
    func resolved() throws -> Shard {
        try Shard.resolve(option: shard) ?? Shard(index: 0, count: 1)
    }

    /// Prints the shard's accounting (and a JSON summary event with --json-log).
    func summarize(_ r: Sharded.Report, step: String, log: LogOptions) {
        let rate = r.seconds > 0 ? Double(r.processed) / r.seconds : 0
        if !log.quiet {
            print("\(step) shard \(r.shard): \(r.documents) documents, \(r.processed) \(step == "embed" ? "embedded" : "written")"
                  + (r.fresh > 0 ? " (\(r.fresh) not seen by the fit)" : "") + String(format: " in %.1f s (%.0f/s)", r.seconds, rate))
        }
        log.reporter.summary(exitCode: 0, seconds: r.seconds, ["step": step, "shard": r.shard.description, "documents": r.documents,
                                                               "processed": r.processed, "fresh": r.fresh])
    }
}
