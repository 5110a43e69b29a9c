import Foundation
import Synchronization
import StrataLabel
import StrataStore

/// Which embedder a run uses (`--embedder`).
public enum EmbedderSpec: Sendable, Equatable, CustomStringConvertible {
    /// The native MiniLM encoder (default).
    case minilm
    /// The static embedder distilled from MiniLM (`strata distill`), a table of this many columns.
    case staticMiniLM(dimension: Int)
    /// An OpenAI-compatible `/v1/embeddings` model.
    case openai(model: String)
    /// Vectors already stored in this metadata field of every document.
    case field(String)
    /// The static table fitted to this corpus (``CorpusFit``): nil asks a run to reuse the state's fit or
    /// make one; a digest names a fit the state holds (what topics.json records).
    case fitted(String?)

    /// The static table's columns when `static` names none.
    public static let defaultStaticDimension = 256

    /// Parses `minilm`, `static` (`static:DIM` for another table), `fitted` (`fitted:DIGEST`, a fit the
    /// state holds), `openai:MODEL` or `field:NAME`.
    public static func parse(_ s: String) throws -> EmbedderSpec {
        if s == "minilm" { return .minilm }
        if s == "fitted" { return .fitted(nil) }
        if s.hasPrefix("fitted:") {
            let digest = s.dropFirst(7)
            guard digest.count == 16, digest.allSatisfy(\.isHexDigit) else {
                throw StrataError(.usage, "embedder \"\(s)\": write `fitted` (the state's corpus fit, made when missing) or fitted:DIGEST as topics.json records it")
            }
            return .fitted(String(digest))
        }
        if s == "static" { return .staticMiniLM(dimension: defaultStaticDimension) }
        if s.hasPrefix("static:") {
            guard let d = Int(s.dropFirst(7)), (1...384).contains(d) else {
                throw StrataError(.usage, "embedder \"\(s)\": the static table's dimension must be a number in 1…384 (e.g. static:128)")
            }
            return .staticMiniLM(dimension: d)
        }
        if s.hasPrefix("openai:"), s.count > 7 { return .openai(model: String(s.dropFirst(7))) }
        if s.hasPrefix("field:"), s.count > 6 { return .field(String(s.dropFirst(6))) }
        throw StrataError(.usage, "unknown embedder \"\(s)\": use minilm, static[:DIM], fitted, openai:MODEL or field:NAME")
    }

    public var description: String {
        switch self {
        case .minilm: return "minilm"
        case .staticMiniLM(let d): return d == Self.defaultStaticDimension ? "static" : "static:\(d)"
        case .openai(let m): return "openai:\(m)"
        case .field(let f): return "field:\(f)"
        case .fitted(let d): return d.map { "fitted:\($0)" } ?? "fitted"
        }
    }
}

/// Which labeler a run uses (`--labeler`).
public enum LabelerSpec: Sendable, Equatable, CustomStringConvertible {
    case keywords
    case openai(model: String)

    public static func parse(_ s: String) throws -> LabelerSpec {
        if s == "keywords" { return .keywords }
        if s.hasPrefix("openai:"), s.count > 7 { return .openai(model: String(s.dropFirst(7))) }
        throw StrataError(.usage, "unknown labeler \"\(s)\": use keywords or openai:MODEL")
    }

    public var description: String {
        switch self {
        case .keywords: return "keywords"
        case .openai(let m): return "openai:\(m)"
        }
    }
}

/// Number of topics (`--k`).
public enum KChoice: Sendable, Equatable {
    case auto
    case fixed(Int)

    public static func parse(_ s: String) throws -> KChoice {
        if s == "auto" { return .auto }
        guard let k = Int(s), k >= 2 else { throw StrataError(.usage, "--k must be auto or an integer ≥ 2, got \(s)") }
        return .fixed(k)
    }
}

/// Everything a run needs to know.
public struct RunOptions: Sendable {
    /// The one source of defaults: the CLI options, the library's `RunOptions` and the MCP server read
    /// these (`strata COMMAND --help` prints them; docs/ explains them).
    public enum Defaults {
        /// Base URL of OpenAI's API, the default chat and embeddings server.
        public static let openAIBaseURLString = "https://api.openai.com/v1"
        public static let openAIBaseURL = URL(string: openAIBaseURLString)!
        public static let seed: UInt64 = 42
        public static let llmConcurrency = 4
        /// Seconds.
        public static let llmTimeout = 120.0
        public static let restarts = 1
        public static let pcaVariance = 0.9
        public static let pcaMaxComponents = 256
        /// Documents k-means is fitted on (BENCHMARKS.md, "Sampled fit").
        public static let fitSample = 100_000
        /// Share of the corpus `--embedder fitted` sends through MiniLM (BENCHMARKS.md, "Corpus-fitted static table").
        public static let fittedShare = 0.05
        public static let noveltyQuantile = 0.95
        public static let relabelShare = 0.1
        public static let maxUnassignedShare = 0.05
        public static let maxChangedShare = 0.2
        /// Days.
        public static let maxAgeDays = 30.0
    }

    public var source: SourceLocation
    public var read = ReadOptions()
    /// State directory (default: `.strata/` next to the source).
    public var stateDirectory: String
    public var embedder: EmbedderSpec = .minilm
    public var k: KChoice = .auto
    public var seed = Defaults.seed
    public var labeler: LabelerSpec = .keywords
    /// Base URL of the chat server (`--llm-base-url`); default OpenAI's.
    public var llmBaseURL = Defaults.openAIBaseURL
    /// Base URL of the embeddings server for `openai:MODEL` embedders.
    public var embeddingBaseURL = Defaults.openAIBaseURL
    public var llmConcurrency = Defaults.llmConcurrency
    /// Seconds one LLM request may take (`--llm-timeout`).
    public var llmTimeout = Defaults.llmTimeout
    /// `--llm-mode`: chat or completion; nil chooses per model and server (``LabelMode/automatic``).
    public var llmMode: LabelMode?
    /// Refuse to start when the estimate exceeds this many USD.
    public var maxCost: Double?
    /// User price file overriding the shipped table.
    public var pricesFile: String?
    /// k-means restarts (the lowest inertia wins). 1, as scikit-learn's default for k-means++: on the
    /// full WordNet nouns more restarts lowered inertia *and* NMI against the true classes
    /// (4 restarts: 0.4147 mean NMI over 3 seeds; 1 restart: 0.4256), so they are opt-in.
    public var restarts = Defaults.restarts
    /// PCA keeps the fewest components explaining this share of variance, capped at `pcaMaxComponents`.
    public var pcaVariance = Defaults.pcaVariance
    /// Capped at 256, not 64: MiniLM needs ~200 components for 90% of the variance, and cutting to 64
    /// or 128 lowered NMI against the true classes on both corpora (BENCHMARKS.md, quality).
    public var pcaMaxComponents = Defaults.pcaMaxComponents
    /// k-means (and the choice of k) runs on a seeded sample of this many documents; every document is
    /// then assigned to the nearest centroid. A corpus no larger is fitted whole.
    public var fitSample = Defaults.fitSample
    /// `--embedder fitted`: this share of the distinct texts (at least ``FittedEmbedding/minimumSample``)
    /// goes through MiniLM to fit the static table to the corpus.
    public var fittedShare = Defaults.fittedShare
    /// Full refit, incremental update, or assignment only; `.auto` refits only when the policy says so.
    public var mode: RunMode = .auto
    /// `strata fit --shared URL`: the PostgreSQL store the sharded steps share (vectors come from
    /// there; the fit is published there instead of written to the rows).
    public var shared: String?
    /// Rows per transaction when an assign shard writes topic columns.
    public var assignBatch = 5_000
    public var refit = RefitPolicy()
    /// A new document joins its nearest topic only within that topic's radius: this quantile of the
    /// members' cosine distances to the centroid at fit time. Farther documents get topic −1.
    public var noveltyQuantile = Defaults.noveltyQuantile
    /// An incremental run re-describes and relabels a topic when its membership changed by more than
    /// this share of its size.
    public var relabelShare = Defaults.relabelShare
    /// On a refit, ask the labeler again for topics that kept their id (default: keep their label).
    public var relabel = false
    /// On a refit, ignore the previous topics and start k-means from k-means++ (ids then survive only
    /// as far as the new clusters resemble the old ones).
    public var coldStart = false
    /// Set by `strata estimate`: labelers record the prompts they would send here instead of calling.
    public var dryRun: PromptSink?
    /// Also store each document's (normalised) embedding in an `embedding real[]` column (PostgreSQL).
    public var writeEmbeddings = false
    /// Document field holding a date (`--time-field`): topic counts per day go into topics.json's
    /// `over_time`. Nil: the previous run's field, if any.
    public var timeField: String?
    /// `--seed-topics`: topics the user expects. A full fit starts k-means from their embeddings, and the
    /// topic each one grows into takes its label (`label_source: user`, kept like a rename).
    public var seedTopics: [Curation.Rename] = []

    public init(source: SourceLocation, stateDirectory: String? = nil) {
        self.source = source
        self.stateDirectory = stateDirectory ?? RunOptions.defaultStateDirectory(for: source)
    }
}

/// How `strata run` treats an existing state.
public enum RunMode: Sendable, Equatable {
    /// Incremental when a fitted model exists and no refit limit is passed, else a full refit.
    case auto
    /// Always refit (`--full`).
    case full
    /// Only assign new and changed documents to the fitted topics: no refit, no labeler (`strata assign`).
    case assign
}

/// When an incremental run turns into a full refit. Defaults are documented in docs/nightly.md.
public struct RefitPolicy: Sendable, Equatable {
    /// Refit when more than this share of documents has topic −1 after assignment.
    public var maxUnassignedShare = RunOptions.Defaults.maxUnassignedShare
    /// Refit when new + changed + removed documents exceed this share of the previous corpus.
    public var maxChangedShare = RunOptions.Defaults.maxChangedShare
    /// Refit when the model is older than this many days.
    public var maxAgeDays = RunOptions.Defaults.maxAgeDays
    public init() {}
}

/// Collects the prompts a dry run would send to the LLM (cache misses only). Thread-safe.
public final class PromptSink: Sendable {
    private let recorded = Mutex<[[ChatMessage]]>([])
    /// Whether embeddings computed during the dry run go into the cache (a run follows at once, as
    /// with `--max-cost`) or are discarded (`strata estimate` changes nothing).
    public let storeEmbeddings: Bool
    public init(storeEmbeddings: Bool) { self.storeEmbeddings = storeEmbeddings }
    /// Each prompt as (role, content) pairs.
    public var prompts: [[ChatMessage]] { recorded.withLock { $0 } }
    func add(_ p: [[ChatMessage]]) { recorded.withLock { $0 += p } }
}
