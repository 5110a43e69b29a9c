import Foundation
import StrataPostgres
import StrataStore

/// `strata fit --shared URL`: `strata run` on one node over the vectors the embed shards stored,
/// publishing its outcome (model, topics document, assignments) for the assign shards instead of
/// writing the rows itself.
enum ShardedFit {
    struct Attached {
        var store: SharedStore
        /// Ledger rows of the embed shards the fit waited for (into `run.shards`).
        var embedShards: [ShardRecord]
    }

    /// Opens the store and checks the fit may start (``FitGate``); from then on every vector of
    /// the run comes from the store. nil without `--shared`.
    /// - Throws: `.notReady` naming each unfinished embed shard, or the shards whose documents lack vectors.
    static func attach(_ options: RunOptions, documents docs: [Document], state: StateDatabase,
                       reporter: RunReporter) async throws -> Attached? {
        guard let url = options.shared else { return nil }
        let store = try await Sharded.open(url, source: options.source)
        let records = try await store.shards(source: options.source.identity, step: "embed")
        guard let unfinished = FitGate.unfinished(records) else {
            throw StrataError(.notReady, "no embed shard has run for \(options.source) in \(store.display): "
                              + "run `strata embed SOURCE --shared URL --shard i/N` for every i first")
        }
        guard unfinished.isEmpty else {
            throw StrataError(.notReady, "embed shard(s) unfinished — \(unfinished.joined(separator: "; ")): "
                              + "rerun each under its index (`strata embed SOURCE --shared URL --shard i/N`), then fit")
        }
        let count = FitGate.latest(records)!.count
        let model = try EmbeddingStage.fingerprint(options.embedder, baseURL: options.embeddingBaseURL)
        let have = try await store.cachedHashes(model: model, hashes: docs.map(\.contentHash))
        let uncovered = FitGate.uncovered(docs, have: have, count: count)
        guard uncovered.isEmpty else {
            throw StrataError(.notReady, "documents without a vector (added or edited after their embed shard finished) — "
                              + "\(uncovered.joined(separator: "; ")): rerun those embed shards, then fit")
        }
        reporter.info("all \(count) embed shards done; \(docs.count) documents have vectors in \(store.display)")
        state.sharedEmbeddings = store
        return Attached(store: store, embedShards: records.filter { $0.count == count })
    }

    /// Publishes the committed outcome: the model (this fit's, or the previous one an incremental run
    /// kept) with the topics document and the assignment change, in one transaction.
    static func publish(_ attached: Attached, document: Data, outcome o: RunOutcome, runID: String, source: SourceLocation,
                        state: StateDatabase) async throws {
        guard let model = try o.model.map({ try JSONEncoder().encode($0) }) ?? state.current(PreviousRun.modelKey) else {
            throw StrataError(.failed, "no fitted model to publish (internal: an incremental run without a previous model)")
        }
        try await attached.store.publish(source: source.identity, run: runID, model: model, document: document, assignments: o.assignments)
    }
}
