import Foundation
import StrataEmbed
import StrataHTTP
import StrataLabel
import StrataLinalg
import StrataPostgres
import StrataStore

/// The outcome of `strata run`.
public struct RunResult: Sendable {
    public let document: TopicsDocument
    /// Where the topic columns were written.
    public let output: String
    /// Path of topics.json.
    public let topicsPath: String
    /// True when something degraded (labels fell back to keywords, records skipped).
    public var hasWarnings: Bool { !document.run.warnings.isEmpty }
}

/// Everything a run has decided, ready to be written.
struct RunOutcome {
    var topics: [Topic]
    var hierarchy: [ParentTopic]
    var quality: Quality
    var drift: Drift?
    /// Topic (−1: none) and score of every document, in source order.
    var topicOfDocument: [Int]
    var scores: [Double]
    var assignments: StateDatabase.AssignmentChange
    var model: FittedModel?
    var nextID: Int
    var manifest: RunManifest
    var usage: [StateDatabase.LLMUsage]
    /// Labels of the topics `--seed-topics` grew into, by topic id (recorded as renames).
    var seedLabels: [Int: Curation.Rename] = [:]
    /// The curation to record with this run when the run changed it (seed labels).
    var curation: Curation? = nil
}

/// `strata run`: read → embed (cached) → PCA → k-means → describe → label → hierarchy → write, or,
/// when a fitted model exists, the incremental path: embed and assign only new or changed documents.
public enum Pipeline {
    static func now() -> Double { Date().timeIntervalSince1970 }
    static func iso(_ d: Date = Date()) -> String { ISO8601DateFormatter().string(from: d) }

    /// Per-stage wall times, seconds.
    final class Laps {
        var timings: [String: Double] = [:]
        var t0 = Pipeline.now()
        func lap(_ name: String) { timings[name, default: 0] += ((Pipeline.now() - t0) * 1000).rounded() / 1000; t0 = Pipeline.now() }
    }

    /// Runs the job. Outputs are replaced atomically only after every stage succeeded; a failure or
    /// interruption before that leaves the previous outputs untouched. A first run that fills the disk
    /// removes the state database it created: its WAL (as large as the failed write) would otherwise
    /// keep the disk full, and nothing in it is worth keeping.
    public static func run(_ options: RunOptions, reporter: RunReporter = SilentReporter()) async throws -> RunResult {
        let database = (options.stateDirectory as NSString).appendingPathComponent("state.db")
        let fresh = !FileManager.default.fileExists(atPath: database)
        do {
            return try await runStages(options, reporter: reporter)
        } catch let e as SQLiteDatabase.Error where fresh && e.isDiskFull {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            throw e
        }
    }

    static func runStages(_ options: RunOptions, reporter: RunReporter) async throws -> RunResult {
        var options = options
        let startedAt = Date()
        let runID = "run-" + String(Int(startedAt.timeIntervalSince1970)) + "-" + String(UUID().uuidString.prefix(6)).lowercased()
        let laps = Laps()
        let (read, readWarnings) = try await readDocuments(options, reporter: reporter)
        let docs = read.documents
        laps.lap("read")

        try Task.checkCancellation()
        let lock = try takeLock(options.stateDirectory, reporter: reporter)
        defer { lock.release() }
        var warnings = readWarnings
        if let stale = lock.tookOverFrom { warnings.append("took over a stale lock (\(stale))") }
        let state = try StateDatabase(directory: options.stateDirectory)
        let topicsPath = (options.stateDirectory as NSString).appendingPathComponent("topics.json")
        let previous = try PreviousRun.load(state)
        if let previous {
            try RunOptions.checkOwner(previous, options: options)
            try repairTopicsFile(topicsPath, from: previous, reporter: reporter)
        }

        if case .fitted = options.embedder {
            options.embedder = try await FittedEmbedding.resolve(options, documents: docs, state: state, reporter: reporter)
            laps.lap("fit embedder")
        }
        let shared = try await ShardedFit.attach(options, documents: docs, state: state, reporter: reporter)
        let diff = CorpusDiff(documents: docs, recorded: previous?.recorded ?? [:])
        var o = try await decide(options, runID: runID, documents: docs, previous: previous, diff: diff, state: state,
                                 reporter: reporter, laps: laps)
        try curate(&o, state: state, documents: docs, reporter: reporter)
        o.manifest.started = iso(startedAt)
        o.manifest.counts.skipped = read.skipped
        o.manifest.warnings = warnings + o.manifest.warnings
        o.manifest.source = options.source.description
        o.manifest.shards = shared?.embedShards

        let overTime = try (options.timeField ?? previous?.document.overTime?.field).map {
            try timeline(docs, outcome: o, field: $0, reporter: reporter)
        }

        // The last safe point: a SIGTERM/SIGINT before it changes nothing; the write is not interrupted.
        try Task.checkCancellation()
        reporter.stage("write")
        let output = try await writeColumns(o, options: options, runID: runID, documents: docs, state: state)
        laps.lap("write")
        o.manifest.timings = laps.timings
        o.manifest.finished = iso()
        o.manifest.blas = BLASLibrary.active.description
        var document = TopicsDocument(run: o.manifest, topics: o.topics, hierarchy: o.hierarchy, quality: o.quality, drift: o.drift)
        document.overTime = overTime
        if let shared {
            try await ShardedFit.publish(shared, document: try document.encoded(), outcome: o, runID: runID, source: options.source, state: state)
        }
        try commit(document, outcome: o, runID: runID, state: state, topicsPath: topicsPath, fit: try FittedEmbedding.record(options.embedder))
        return RunResult(document: document, output: output, topicsPath: topicsPath)
    }

    /// Applies the state's curation edits to the outcome; seed labels of this fit join them (and are
    /// recorded with the run).
    static func curate(_ o: inout RunOutcome, state: StateDatabase, documents docs: [Document], reporter: RunReporter) throws {
        var curation = try Curation.load(state)
        if !o.seedLabels.isEmpty {
            for (id, label) in o.seedLabels { curation.renames[id] = label }
            o.curation = curation
        }
        guard !curation.isEmpty else { return }
        curation.apply(to: &o, documents: docs)
        reporter.info("applied \(curation.renames.count) rename(s) and \(curation.merges.count) merge(s) from `strata topics`")
    }

    /// Topic counts per day of `field`; a usage error when no document has a date there.
    static func timeline(_ docs: [Document], outcome o: RunOutcome, field: String, reporter: RunReporter) throws -> Timeline {
        let t = Timeline.build(documents: docs, topicOfDocument: o.topicOfDocument, field: field)
        guard t.undated < docs.count else {
            throw StrataError(.usage, "--time-field \(field): no document has a date there (ISO 8601, YYYY-MM-DD HH:MM:SS or Unix seconds)")
        }
        if t.undated > 0 { reporter.warning("--time-field \(field): \(t.undated) document(s) without a readable date are left out of over_time") }
        return t
    }

    /// Reads the source; at least 3 documents with 2 distinct texts are needed. Skipped records
    /// (`--skip-invalid`) become a warning of the run.
    static func readDocuments(_ options: RunOptions, reporter: RunReporter) async throws -> (ReadResult, [String]) {
        reporter.stage("read \(options.source)")
        // Texts wait in a nameless file in the state directory, not in memory (see DocumentRows). A
        // directory made for it is removed again when the read fails, so bad input leaves nothing.
        var readOptions = options.read
        let directory = options.stateDirectory
        let existed = FileManager.default.fileExists(atPath: directory)
        if !existed { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue {
            readOptions.spillDirectory = directory
        }
        let read: ReadResult
        do {
            read = try await DocumentStore.read(options.source, options: readOptions)
            guard read.documents.count >= 3 else {
                throw StrataError(.failed, "\(options.source): found \(read.documents.count) document(s); at least 3 are needed to find topics")
            }
            try ClusteringPolicy.checkVariety(read.documents, k: options.k)
        } catch {
            if !existed { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
        var warnings: [String] = []
        if read.skipped > 0 {
            warnings.append("skipped \(read.skipped) invalid record(s); first: \(read.warnings.first ?? "")")
            reporter.warning("skipped \(read.skipped) invalid record(s) (--skip-invalid)")
        }
        reporter.info("\(read.documents.count) documents")
        return (read, warnings)
    }

    /// Plans the run (``RunPlan``) and runs the incremental path or the full fit; an incremental run
    /// that finds too many documents without a topic turns into a refit.
    static func decide(_ options: RunOptions, runID: String, documents docs: [Document], previous: PreviousRun?, diff: CorpusDiff,
                       state: StateDatabase, reporter: RunReporter, laps: Laps) async throws -> RunOutcome {
        let fingerprint = try EmbeddingStage.fingerprint(options.embedder, baseURL: options.embeddingBaseURL)
        let (plan, deferred) = try RunPlan.decide(options, previous: previous, fingerprint: fingerprint, diff: diff)
        var planWarnings: [String] = []
        if let why = deferred {
            reporter.warning("a refit is due (\(why)); `strata assign` only assigns — run `strata run` to refit")
            planWarnings.append("refit due: \(why)")
        }
        var reason: String
        switch plan {
        case .refit(let why): reason = why
        case .incremental:
            switch try await Incremental.run(options, runID: runID, documents: docs, previous: previous!, diff: diff, state: state,
                                             reporter: reporter, laps: laps) {
            case .done(var o):
                o.manifest.warnings = planWarnings + o.manifest.warnings
                return o
            case .refit(let why): reason = why
            }
        }
        reporter.info("full fit: \(reason)")
        return try await FullRun.run(options, runID: runID, documents: docs, previous: previous, diff: diff, reason: reason,
                                     state: state, reporter: reporter, laps: laps)
    }

    /// Writes the topic columns at the source (and, with `--write-embeddings`, the vectors).
    /// - Returns: where the columns went.
    static func writeColumns(_ o: RunOutcome, options: RunOptions, runID: String, documents docs: [Document],
                             state: StateDatabase) async throws -> String {
        let byID = Dictionary(uniqueKeysWithValues: o.topics.map { ($0.id, (label: $0.label, parentID: $0.parentID)) })
        let topicOf = o.topicOfDocument, scores = o.scores
        let columns = ColumnsByDocument(count: docs.count) { i in
            let t = topicOf[i]
            return TopicColumns(topicID: t, topicLabel: byID[t]?.label ?? "", topicScore: scores[i], topicParentID: byID[t]?.parentID, topicRun: runID)
        }
        let size = Dictionary(uniqueKeysWithValues: o.topics.map { ($0.id, $0.size) })
        let rows = o.topics.map { TopicRow(id: $0.id, label: $0.label, description: $0.description, keywords: $0.keywords,
                                           size: $0.size, parentID: $0.parentID) }
            + o.hierarchy.map { p in
                TopicRow(id: p.id, label: p.label, description: p.description, keywords: [],
                         size: p.children.reduce(0) { $0 + (size[$1] ?? 0) }, parentID: nil, level: .parent)
            }
        if options.shared != nil, case let .postgres(url, table) = options.source {
            try await PostgresTable.publishTopics(url: url, table: table, topics: rows)
            return "strata_topics beside \(options.source); rows: `strata assign --shared` shards"
        }
        var vectors: [String: [Float]]?
        if options.writeEmbeddings {
            guard case .postgres = options.source else {
                throw StrataError(.usage, "--write-embeddings stores vectors in a PostgreSQL real[] column; \(options.source) is not a PostgreSQL table")
            }
            let m = try await EmbeddingStage.embed(docs, spec: options.embedder, baseURL: options.embeddingBaseURL, state: state,
                                                   tokenCounter: nil, reporter: SilentReporter()).matrix
            vectors = Dictionary(uniqueKeysWithValues: docs.enumerated().map { ($1.id, Array(m.row($0))) })
        }
        return try await DocumentStore.write(location: options.source, options: options.read, documents: docs,
                                             columns: columns, topics: rows, embeddings: vectors, committedRuns: try state.runIDs())
    }

    /// Records the run in the state (one transaction), then renames topics.json into place.
    /// `fit`: the corpus fit the run embedded with (``FittedEmbedding/record(_:)``), committed beside the model.
    static func commit(_ document: TopicsDocument, outcome o: RunOutcome, runID: String, state: StateDatabase,
                       topicsPath: String, fit: Data? = nil) throws {
        let encoded = try document.encoded()
        var current: [String: Data] = [PreviousRun.documentKey: encoded,
                                       PreviousRun.nextIDKey: Data(String(o.nextID).utf8)]
        if let model = o.model { current[PreviousRun.modelKey] = try JSONEncoder().encode(model) }
        if let curation = o.curation { current[Curation.key] = try curation.encoded() }
        if let fit { current[FittedEmbedding.key] = fit }
        try state.recordRun(id: runID, manifest: try JSONEncoder().encode(o.manifest), assignments: o.assignments,
                            current: current, usage: o.usage)
        try AtomicFile.write(topicsPath, data: encoded)
    }

    /// topics.json lags the state when a run was killed between committing the state and renaming
    /// topics.json; the state is the truth, so the file is rewritten from it.
    static func repairTopicsFile(_ path: String, from previous: PreviousRun, reporter: RunReporter) throws {
        // Both copies are written from the same bytes, so a byte comparison suffices (no JSON decode).
        if (try? Data(contentsOf: URL(fileURLWithPath: path))) != previous.documentData {
            try AtomicFile.write(path, data: previous.documentData)
            reporter.warning("topics.json did not match the state's last run (\(previous.document.run.id)); rewrote it")
        }
    }

    /// The state directory's lock, as a ``StrataError`` with the lock exit code when it is held.
    public static func takeLock(_ directory: String, reporter: RunReporter) throws -> StateLock {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw StrataError(.usage, "the state directory \(directory) is a file, not a directory: pass --state DIR")
        }
        do {
            let lock = try StateLock(directory: directory)
            if let previous = lock.tookOverFrom { reporter.warning("took over a stale lock (\(previous))") }
            return lock
        } catch let held as StateLock.Held {
            throw StrataError(.locked, held.description)
        }
    }

    static func qualityFigures(_ y: Matrix, labels: [Int], model: KMeansModel, seed: UInt64) throws -> Quality {
        guard Set(labels).count >= 2 && Set(labels).count < y.rows else { return Quality() }
        let sampled = try ClusterMetrics.sampledSilhouette(y, labels: labels, sampleSize: 5_000, seed: seed)
        let simple = ClusterMetrics.simplifiedSilhouette(try model.predict(y))
        return Quality(silhouetteSampled: sampled, simplifiedSilhouette: simple,
                       calinskiHarabasz: try ClusterMetrics.calinskiHarabasz(y, labels: labels),
                       daviesBouldin: try ClusterMetrics.daviesBouldin(y, labels: labels))
    }

    static func labelerInfo(_ options: RunOptions, _ spend: LabelingResult, sources: [String: Int], notes: [String]) throws -> RunManifest.LabelerInfo {
        var cost: Double? = 0
        var model: String?
        if case .openai(let m) = options.labeler {
            model = m
            cost = try PriceTable.load(overrides: options.pricesFile).cost(model: m, input: spend.promptTokens, output: spend.completionTokens)
        }
        var info = RunManifest.LabelerInfo(name: options.labeler.description, model: model, calls: spend.calls, promptTokens: spend.promptTokens,
                                           completionTokens: spend.completionTokens, costUSD: cost,
                                           firstAttemptPromptTokens: spend.usage?.firstPromptTokens ?? 0,
                                           sources: sources, notes: Array(notes.prefix(50)))
        if let model { info.mode = (spend.mode ?? Labeling.mode(options, model: model)).rawValue }
        return info
    }
}
