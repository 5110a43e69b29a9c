import Foundation
import StrataEmbed
import StrataLinalg
import StrataPostgres
import StrataStore

/// The sharded nightly: `strata embed --shared` (array) → `strata fit --shared` (one node) →
/// `strata assign --shared` (array). Workers share only the PostgreSQL store (``SharedStore``); the
/// fit keeps its state directory like `strata run` and publishes its outcome to the store.
public enum Sharded {
    /// What one shard did (its ledger row at the end of the attempt).
    public struct Report: Sendable {
        public var shard: Shard
        public var documents: Int
        /// Documents embedded (embed) or rows written (assign) by this attempt.
        public var processed: Int
        /// Assign: documents the fit had not seen (embedded and assigned by the worker).
        public var fresh = 0
        public var seconds: Double
    }

    static let embedSlice = 4_096

    /// The shared store at `url`, schema created; `.usage` unless the source is a PostgreSQL table
    /// (assign shards write topic columns into it).
    static func open(_ url: String, source: SourceLocation) async throws -> SharedStore {
        guard case .postgres = source else {
            throw StrataError(.usage, "--shared needs a PostgreSQL source (postgres://…?table=T); \(source) is not one")
        }
        let store = try SharedStore(url: url)
        try await store.prepare()
        return store
    }

    /// This shard's documents (source order); PostgreSQL sends only the shard's rows.
    static func documents(_ options: RunOptions, shard: Shard, reporter: RunReporter) async throws -> [Document] {
        reporter.stage("read \(options.source) (shard \(shard))")
        let read = try await DocumentStore.read(options.source, options: options.read, shard: shard)
        if read.skipped > 0 { reporter.warning("skipped \(read.skipped) invalid record(s)") }
        reporter.info("\(read.documents.count) documents in shard \(shard)")
        return read.documents
    }

    /// Runs `body` as one attempt of `shard` in the ledger: running → done, or failed with the error
    /// (a SIGKILLed worker stays `running`; the next attempt of the index takes the row over).
    static func attempt(_ store: SharedStore, source: String, step: String, shard: Shard, documents: Int,
                        _ body: (_ progress: @escaping @Sendable (Int) async throws -> Void) async throws -> Int) async throws -> Report {
        let t0 = Date()
        try await store.beginShard(source: source, step: step, shard: shard.index, count: shard.count, documents: documents)
        do {
            let processed = try await body { done in
                try await store.updateShard(source: source, step: step, shard: shard.index, count: shard.count, processed: done,
                                            seconds: Date().timeIntervalSince(t0))
            }
            try await store.updateShard(source: source, step: step, shard: shard.index, count: shard.count, processed: processed,
                                        seconds: Date().timeIntervalSince(t0), status: "done")
            return Report(shard: shard, documents: documents, processed: processed, seconds: Date().timeIntervalSince(t0))
        } catch {
            let why = error is CancellationError ? "interrupted (SIGTERM/SIGINT)" : String(describing: error)
            try? await store.updateShard(source: source, step: step, shard: shard.index, count: shard.count, processed: nil,
                                         seconds: nil, status: "failed", error: why)
            throw error
        }
    }

    /// `strata embed --shared URL --shard i/N`: embeds the shard's documents that have no vector in
    /// the store, 4,096 per slice (each slice stored before the next, so a preempted shard keeps its
    /// work). Idempotent: a rerun embeds nothing already stored.
    public static func embed(_ options: RunOptions, shard: Shard, reporter: RunReporter) async throws -> Report {
        let store = try await open(options.shared ?? "", source: options.source)
        let docs = try await documents(options, shard: shard, reporter: reporter)
        let model = try EmbeddingStage.fingerprint(options.embedder, baseURL: options.embeddingBaseURL)
        let have = try await store.cachedHashes(model: model, hashes: docs.map(\.contentHash))
        var seen = Set<String>()
        let todo = docs.filter { !have.contains($0.contentHash) && seen.insert($0.contentHash).inserted }
        reporter.info("\(docs.count - todo.count) already embedded, \(todo.count) to embed with \(options.embedder)")
        reporter.stage("embed (shard \(shard))")
        return try await attempt(store, source: options.source.identity, step: "embed", shard: shard, documents: docs.count) { progress in
            for start in stride(from: 0, to: todo.count, by: embedSlice) {
                try Task.checkCancellation()
                let slice = Array(todo[start..<min(start + embedSlice, todo.count)])
                _ = try await EmbeddingStage.embed(slice, spec: options.embedder, baseURL: options.embeddingBaseURL, cache: store,
                                                   tokenCounter: nil, reporter: SilentReporter())
                try await progress(start + slice.count)
                reporter.progress("embed", done: start + slice.count, total: todo.count)
            }
            return todo.count
        }
    }
}
