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

    /// The static table's columns when `static` names none.
    public static let defaultStaticDimension = 256

    /// Parses `minilm`, `static` (`static:DIM` for another table), `openai:MODEL` or `field:NAME`.
    public static func parse(_ s: String) throws -> EmbedderSpec {
        if s == "minilm" { return .minilm }
        if s == "static" { return .staticMiniLM(dimension: defaultStaticDimension) }
        if s.hasPrefix("static:") {
            guard let d = Int(s.dropFirst(7)), (1...384).contains(d) else {
                throw StrataError(.usage, "embedder \"\(s)\": the static table's dimension must be a number in 1…384 (e.g. static:128)")
            }
            return .staticMiniLM(dimension: d)
        }
        if s.hasPrefix("openai:"), s.count > 7 { return .openai(model: String(s.dropFirst(7))) }
        if s.hasPrefix("field:"), s.count > 6 { return .field(String(s.dropFirst(6))) }
        throw StrataError(.usage, "unknown embedder \"\(s)\": use minilm, static[:DIM], openai:MODEL or field:NAME")
    }

    public var description: String {
        switch self {
        case .minilm: return "minilm"
        case .staticMiniLM(let d): return d == Self.defaultStaticDimension ? "static" : "static:\(d)"
        case .openai(let m): return "openai:\(m)"
        case .field(let f): return "field:\(f)"
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
    /// these (the README's option table documents them).
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

    /// `.strata/` in the folder that holds the source (the current folder for database URLs) — unless
    /// a run of another source already owns that state: then `.strata/<source name>/`, so two tables of
    /// one database or two files of one folder never share (and refit) one model.
    public static func defaultStateDirectory(for source: SourceLocation) -> String {
        let base = sharedStateDirectory(for: source)
        guard let owner = owner(of: base), owner != source.identity else { return base }
        let safe = source.identity.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" ? $0 : "_" }
        return (base as NSString).appendingPathComponent(String(safe))
    }

    /// `.strata/` next to the source, whoever owns it.
    static func sharedStateDirectory(for source: SourceLocation) -> String {
        switch source {
        case .jsonl(let p), .csv(let p):
            return URL(fileURLWithPath: p).deletingLastPathComponent().appendingPathComponent(".strata").path
        case .directory(let p):
            return URL(fileURLWithPath: p).standardizedFileURL.deletingLastPathComponent().appendingPathComponent(".strata").path
        case .sqlite(let p, _):
            return URL(fileURLWithPath: p).deletingLastPathComponent().appendingPathComponent(".strata").path
        case .postgres:
            return FileManager.default.currentDirectoryPath + "/.strata"
        }
    }

    /// Identity of the source whose runs fill the state in `directory` (nil: no run yet, or unreadable).
    public static func owner(of directory: String) -> String? {
        recordedSource(of: directory).map(SourceLocation.identity(of:))
    }

    /// `run.source` of the last run committed to the state in `directory`, as recorded (nil: no run yet,
    /// or unreadable).
    public static func recordedSource(of directory: String) -> String? {
        let path = (directory as NSString).appendingPathComponent("state.db")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try? StateDatabase(directory: directory).lastRunSource()
    }

    /// The source a command reads, from its SOURCE argument and `--state` — the one place that decides
    /// which source a state belongs to. Without SOURCE, the state's own source (a relative path that
    /// no longer resolves from here is looked for beside the state folder). With both, SOURCE must be
    /// the state's source (same ``SourceLocation/identity``), else a usage error: another source would
    /// read or replace topics that are not its own.
    /// - Throws: ``StrataError`` `.usage` naming the option and what to pass; ``SourceError`` for a SOURCE
    ///   that does not parse.
    /// `checkOwner: false` skips the ownership check (a command that uses the state only as a cache).
    public static func resolveSource(_ argument: String?, state: String?, checkOwner: Bool = true) throws -> SourceLocation {
        guard let argument else { return try stateSource(state) }
        let location = try SourceLocation.parse(argument)
        if checkOwner, let state, let recorded = recordedSource(of: state), SourceLocation.identity(of: recorded) != location.identity {
            throw StrataError(.usage, "the state in \(state) belongs to \(recorded), not to \(location): leave SOURCE out to use "
                              + "the state's own source, or pass the --state DIR of this source's runs (by default it gets "
                              + "\(defaultStateDirectory(for: location)))")
        }
        return location
    }

    /// The recorded source of the state in `state` (see ``resolveSource(_:state:)``).
    static func stateSource(_ state: String?) throws -> SourceLocation {
        let kinds = "a .jsonl, .csv, folder, sqlite:PATH?table=T or postgres://…?table=T"
        guard let state else {
            throw StrataError(.usage, "missing SOURCE: \(kinds) (or --state DIR of an earlier run, whose source is then used)")
        }
        guard let recorded = recordedSource(of: state) else {
            throw StrataError(.usage, "missing SOURCE: the state in \(state) has no committed run to take its source from; pass \(kinds)")
        }
        if recorded.hasPrefix("postgres"), recorded.contains(":***@") {
            throw StrataError(.usage, "the state in \(state) belongs to \(recorded), whose password is not recorded: pass that URL "
                              + "as SOURCE (or its password in PGPASSWORD and the URL without it)")
        }
        return try SourceLocation.parse(locate(recorded, besides: state))
    }

    /// A recorded file, folder or SQLite path as given, or beside the state folder when it does not
    /// resolve from the current folder (a run started elsewhere with a relative path).
    static func locate(_ recorded: String, besides state: String) -> String {
        let isSQLite = recorded.hasPrefix("sqlite:")
        guard !recorded.hasPrefix("postgres") else { return recorded }
        let path = isSQLite ? String(recorded.dropFirst(7).split(separator: "?", maxSplits: 1).first ?? "") : recorded
        let query = isSQLite ? String(recorded.dropFirst(7 + path.count)) : ""
        let fm = FileManager.default
        guard !fm.fileExists(atPath: path), !path.hasPrefix("/") else { return recorded }
        let parent = URL(fileURLWithPath: state).standardizedFileURL.deletingLastPathComponent()
        let beside = parent.appendingPathComponent((path as NSString).lastPathComponent).path
        guard fm.fileExists(atPath: beside) else { return recorded }
        return isSQLite ? "sqlite:" + beside + query : beside
    }

    /// Default k range for `--k auto`: ⌊√n / 4⌋ … ⌊√n⌋ (at least 2…3, at most 100), so topics stay
    /// browsable as the corpus grows.
    public static func autoRange(documents n: Int, distinct: Int? = nil) -> ClosedRange<Int> {
        let root = Double(n).squareRoot()
        let lo = max(2, Int(root / 4))
        let hi = max(lo + 1, min(100, Int(root)))
        let range = lo...min(hi, max(lo, n - 1))
        // A low-variety corpus (few distinct texts) caps the candidates: the user never chose k.
        guard let d = distinct, d < range.upperBound else { return range }
        let top = max(2, d)
        return min(range.lowerBound, top)...top
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

/// When an incremental run turns into a full refit. Defaults are documented in the README.
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
