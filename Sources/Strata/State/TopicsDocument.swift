import Foundation
import StrataStore
import StrataLabel

/// The `topics.json` document (schema: `schemas/topics.schema.json`). Field names are snake_case on
/// disk.
public struct TopicsDocument: Codable, Sendable {
    /// 2: `document_ids` is left out of runs over more than ``documentListLimit`` documents.
    public static let currentSchemaVersion = 2

    /// Runs over more documents than this leave each topic's `document_ids` out of topics.json (10M ids
    /// would make it a 400 MB file, decoded by every later run). The state database's `documents`
    /// table holds every document's topic at any size; `strata export` writes it out.
    public static let documentListLimit = 100_000

    /// Whether a run over `documents` lists each topic's members.
    public static func listsMembers(documents: Int) -> Bool { documents <= documentListLimit }

    /// A topic's `document_ids`: the ids of `members` (indices into `docs`), or nil when a run over
    /// `docs` does not list members (``listsMembers(documents:)``).
    static func memberIDs(_ members: [Int], of docs: [Document]) -> [String]? {
        listsMembers(documents: docs.count) ? members.map { docs[$0].id } : nil
    }

    public var schemaVersion: Int = TopicsDocument.currentSchemaVersion
    public var run: RunManifest
    public var topics: [Topic]
    public var hierarchy: [ParentTopic]
    public var quality: Quality
    public var drift: Drift?
    /// Topic counts per day of the `--time-field` (nil without one).
    public var overTime: Timeline? = nil

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version", run, topics, hierarchy, quality, drift, overTime = "over_time"
    }

    /// Reads a topics.json file.
    public static func load(_ path: String) throws -> TopicsDocument {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONDecoder().decode(TopicsDocument.self, from: data)
    }

    /// Pretty, stable JSON.
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(self)
    }
}

/// One topic.
public struct Topic: Codable, Sendable, Equatable {
    public var id: Int
    public var label: String
    public var description: String
    public var keywords: [String]
    public var size: Int
    /// size / number of assigned documents.
    public var share: Double
    public var representativeIDs: [String]
    public var parentID: Int?
    /// Mean cosine of members to the centroid (embedding space).
    public var cohesion: Double
    public var labelSource: LabelSource
    /// Verification margin of the label: cosine of its embedding to this topic's centroid minus the
    /// largest cosine to any other topic's (positive = this topic is the nearest; typically 0–0.3).
    /// Nil when labels could not be embedded (`field:` embedder) or for states written before 0.3.
    public var labelConfidence: Double? = nil
    /// Run in which this topic id first appeared.
    public var firstRun: String
    /// Ids of the member documents, in source order; nil when the run had more than
    /// ``TopicsDocument/documentListLimit`` documents (the state's `documents` table holds them).
    public var documentIDs: [String]?
    /// Where the label came from when it was made (`llm`, `llm-repaired`, `keywords`, `user`), kept when
    /// later runs carry it over and `label_source` reads `cache`. Nil for states written before 0.4 (and
    /// `cache` for a label first read from the label cache).
    public var labelOrigin: LabelSource? = nil

    enum CodingKeys: String, CodingKey {
        case id, label, description, keywords, size, share, cohesion
        case representativeIDs = "representative_ids", parentID = "parent_id", labelSource = "label_source"
        case firstRun = "first_run", documentIDs = "document_ids", labelConfidence = "label_confidence"
        case labelOrigin = "label_origin"
    }
}

/// A parent in the hierarchy.
public struct ParentTopic: Codable, Sendable, Equatable {
    public var id: Int
    public var label: String
    public var description: String
    public var children: [Int]
    public var labelSource: LabelSource
    /// Verification margin of the label against the parents' centroids (see ``Topic/labelConfidence``).
    public var labelConfidence: Double? = nil
    enum CodingKeys: String, CodingKey {
        case id, label, description, children, labelSource = "label_source", labelConfidence = "label_confidence"
    }
}

/// Cluster-quality figures.
public struct Quality: Codable, Sendable, Equatable {
    public var silhouetteSampled: Double?
    public var simplifiedSilhouette: Double?
    public var calinskiHarabasz: Double?
    public var daviesBouldin: Double?
    /// The latest `strata eval` of this run (nil until one ran).
    public var evaluation: QualityEvaluation?

    enum CodingKeys: String, CodingKey {
        case silhouetteSampled = "silhouette_sampled", simplifiedSilhouette = "simplified_silhouette"
        case calinskiHarabasz = "calinski_harabasz", daviesBouldin = "davies_bouldin", evaluation
    }
}

/// Headline figures of `strata eval`, kept in topics.json's `quality.evaluation`.
public struct QualityEvaluation: Codable, Sendable, Equatable {
    public var truthField: String?
    public var nmi: Double?
    public var ami: Double?
    public var ari: Double?
    public var purity: Double?
    public var labelFidelity: Double?
    public var centroidFidelity: Double?
    public var keywordNPMI: Double?
    public var topicDiversity: Double?
    public var silhouetteSampled: Double?
    public var calinskiHarabasz: Double?
    public var daviesBouldin: Double?
    enum CodingKeys: String, CodingKey {
        case nmi, ami, ari, purity
        case truthField = "truth_field", labelFidelity = "label_fidelity", keywordNPMI = "keyword_npmi"
        case centroidFidelity = "centroid_fidelity"
        case topicDiversity = "topic_diversity", silhouetteSampled = "silhouette_sampled"
        case calinskiHarabasz = "calinski_harabasz", daviesBouldin = "davies_bouldin"
    }
}

/// Changes since the previous run.
public struct Drift: Codable, Sendable, Equatable {
    public var previousRun: String?
    /// `full` (a refit), `incremental` (new documents assigned to the fitted topics) or `assign`.
    public var mode: String
    /// Why a full run refitted (first run, --full, embedder or k changed, age, changed share, unassigned share).
    public var refitReason: String?
    /// Topic ids carried over from the previous run.
    public var matched: [Int]
    public var new: [Int]
    public var retired: [Int]
    public var splits: [Split]
    public var merges: [Merge]
    /// Documents present in both runs whose topic id changed.
    public var documentsChangedTopic: Int
    public var documentsNew: Int
    public var documentsChanged: Int
    public var documentsRemoved: Int
    /// Documents with topic −1 ("no topic yet") after this run.
    public var documentsUnassigned: Int
    /// Topics whose keywords and label were recomputed in an incremental run.
    public var relabelled: [Int]

    public init(previousRun: String?, mode: String, refitReason: String? = nil, matched: [Int] = [], new: [Int] = [],
                retired: [Int] = [], splits: [Split] = [], merges: [Merge] = [], documentsChangedTopic: Int = 0,
                documentsNew: Int = 0, documentsChanged: Int = 0, documentsRemoved: Int = 0, documentsUnassigned: Int = 0,
                relabelled: [Int] = []) {
        self.previousRun = previousRun; self.mode = mode; self.refitReason = refitReason; self.matched = matched
        self.new = new; self.retired = retired; self.splits = splits; self.merges = merges
        self.documentsChangedTopic = documentsChangedTopic; self.documentsNew = documentsNew
        self.documentsChanged = documentsChanged; self.documentsRemoved = documentsRemoved
        self.documentsUnassigned = documentsUnassigned; self.relabelled = relabelled
    }

    enum CodingKeys: String, CodingKey {
        case mode, matched, new, retired, splits, merges, relabelled
        case previousRun = "previous_run", refitReason = "refit_reason", documentsChangedTopic = "documents_changed_topic"
        case documentsNew = "documents_new", documentsChanged = "documents_changed", documentsRemoved = "documents_removed"
        case documentsUnassigned = "documents_unassigned"
    }
}

/// A topic that appeared in a refit with most of its documents from an older topic that lives on.
public struct Split: Codable, Sendable, Equatable {
    public var topic: Int
    public var splitFrom: Int
    enum CodingKeys: String, CodingKey { case topic, splitFrom = "split_from" }
}

/// A retired topic whose documents mostly went to a surviving topic.
public struct Merge: Codable, Sendable, Equatable {
    public var topic: Int
    public var mergedInto: Int
    enum CodingKeys: String, CodingKey { case topic, mergedInto = "merged_into" }
}

/// What a run did: inputs, parameters, results, spend, timings.
public struct RunManifest: Codable, Sendable, Equatable {
    public var id: String
    public var started: String
    public var finished: String
    public var strataVersion: String
    public var source: String
    public var counts: Counts
    public var embedder: EmbedderInfo
    public var pca: PCAInfo
    public var kmeans: KMeansInfo
    public var labeler: LabelerInfo
    /// Seconds per stage.
    public var timings: [String: Double]
    public var warnings: [String]
    /// `full`, `incremental` or `assign` (nil in documents written before incremental runs existed).
    public var mode: String?
    /// Why this run refitted, when it did.
    public var refitReason: String?
    /// The BLAS library and kernel the run's numeric work ran on (``BLASLibrary``); nil in older records.
    public var blas: String? = nil
    /// `strata fit --shared`: the embed shards' ledger rows (documents, seconds, vectors/s, failures).
    public var shards: [ShardRecord]? = nil

    public struct Counts: Codable, Sendable, Equatable {
        public var documents: Int
        public var skipped: Int
        public var embedded: Int
        public var cached: Int
        public var embeddedTokens: Int
        enum CodingKeys: String, CodingKey {
            case documents, skipped, embedded, cached, embeddedTokens = "embedded_tokens"
        }
    }
    public struct EmbedderInfo: Codable, Sendable, Equatable {
        public var name: String
        public var fingerprint: String
        public var dimension: Int
    }
    public struct PCAInfo: Codable, Sendable, Equatable {
        public var components: Int
        public var explainedVarianceRatio: Double
        enum CodingKeys: String, CodingKey { case components, explainedVarianceRatio = "explained_variance_ratio" }
    }
    public struct KMeansInfo: Codable, Sendable, Equatable {
        public var k: Int
        public var selection: String
        public var curve: [CurvePoint]
        public var inertia: Double
        public var iterations: Int
        public var restarts: Int
        public var seed: UInt64
        public var algorithm: String
        /// Documents k-means was fitted on (`--fit-sample`; the rest were assigned to its centroids).
        /// Absent in runs before the sampled fit, which fitted every document.
        public var fittedDocuments: Int? = nil
        enum CodingKeys: String, CodingKey {
            case k, selection, curve, inertia, iterations, restarts, seed, algorithm, fittedDocuments = "fitted_documents"
        }
    }
    public struct CurvePoint: Codable, Sendable, Equatable {
        public var k: Int
        public var silhouetteSampled: Double
        public var simplifiedSilhouette: Double
        enum CodingKeys: String, CodingKey { case k, silhouetteSampled = "silhouette_sampled", simplifiedSilhouette = "simplified_silhouette" }
    }
    public struct LabelerInfo: Codable, Sendable, Equatable {
        public var name: String
        public var model: String?
        public var calls: Int
        public var promptTokens: Int
        public var completionTokens: Int
        public var costUSD: Double?
        /// Server-counted prompt tokens of each prompt's first answered request (retries excluded):
        /// what `strata estimate` predicts as "first-attempt input tokens".
        public var firstAttemptPromptTokens: Int?
        /// Topics (and parents) per label source.
        public var sources: [String: Int]
        public var notes: [String]
        /// How the LLM was asked: `chat` (structured output) or `completion` (few-shot); nil without an LLM.
        public var mode: String? = nil
        enum CodingKeys: String, CodingKey {
            case name, model, calls, sources, notes, mode
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", costUSD = "cost_usd"
            case firstAttemptPromptTokens = "first_attempt_prompt_tokens"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, started, finished, source, counts, embedder, pca, kmeans, labeler, timings, warnings, mode, blas, shards
        case refitReason = "refit_reason"
        case strataVersion = "strata_version"
    }
}
