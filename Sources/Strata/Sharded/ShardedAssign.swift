import Foundation
import StrataLinalg
import StrataPostgres
import StrataStore

extension Sharded {
    /// The topic columns of one shard: documents the fit assigned (same id and text) keep the
    /// published topic and score, exactly what `strata run` writes; documents it has not seen (added
    /// or edited since) are embedded here and go to their nearest published topic, or −1 beyond its
    /// novelty radius, as `strata assign` does. O(f·(embed + k·d)) for f unseen documents.
    struct ShardColumns {
        var columns: [String: TopicColumns] = [:]
        var fresh = 0
    }

    static func columns(_ docs: [Document], published: Published, recorded: [String: StateDatabase.RecordedDocument],
                        options: RunOptions, store: SharedStore, reporter: RunReporter) async throws -> ShardColumns {
        let document = try JSONDecoder().decode(TopicsDocument.self, from: published.document)
        let byID = Dictionary(uniqueKeysWithValues: document.topics.map { ($0.id, $0) })
        var topic = [Int](repeating: -1, count: docs.count), score = [Double](repeating: 0, count: docs.count)
        var unseen: [Int] = []
        for (i, d) in docs.enumerated() {
            if let r = recorded[d.id], r.sameText(as: d) { topic[i] = r.topic; score[i] = r.score } else { unseen.append(i) }
        }
        if !unseen.isEmpty {
            reporter.info("\(unseen.count) document(s) the fit has not seen: embedding and assigning them here")
            let model = try JSONDecoder().decode(FittedModel.self, from: published.model)
            let x = try await EmbeddingStage.embed(unseen.map { docs[$0] }, spec: options.embedder, baseURL: options.embeddingBaseURL,
                                                   cache: store, tokenCounter: nil, reporter: SilentReporter()).matrix
            for (r, c) in try NearestTopic(model: model).choose(x, noveltyQuantile: options.noveltyQuantile).enumerated() {
                topic[unseen[r]] = c.within ? model.topicIDs[c.best] : -1
                score[unseen[r]] = Double(c.score)
            }
        }
        var out = ShardColumns(fresh: unseen.count)
        for (i, d) in docs.enumerated() {
            let t = byID[topic[i]]
            out.columns[d.id] = TopicColumns(topicID: topic[i], topicLabel: t?.label ?? "", topicScore: score[i],
                                             topicParentID: t?.parentID, topicRun: published.run)
        }
        return out
    }

    /// `strata assign --shared URL --shard i/N`: writes the shard's topic columns from the published
    /// fit, `options.assignBatch` rows per transaction. Idempotent: a rerun after a crash writes the
    /// same values, and rows that already hold them are not touched.
    /// - Throws: `.notReady` when no fit was published for the source.
    public static func assign(_ options: RunOptions, shard: Shard, reporter: RunReporter) async throws -> Report {
        let store = try await open(options.shared ?? "", source: options.source)
        let source = options.source.identity
        guard let published = try await store.published(source: source) else {
            throw StrataError(.notReady, "no fit published for \(options.source) in \(store.display): run `strata fit SOURCE --shared URL` first")
        }
        let docs = try await documents(options, shard: shard, reporter: reporter)
        let recorded = try await store.assignments(source: source, ids: docs.map(\.id))
        let shardColumns = try await columns(docs, published: published, recorded: recorded, options: options, store: store, reporter: reporter)
        guard case let .postgres(url, table) = options.source else { preconditionFailure("open(_:source:) checked the source") }
        reporter.stage("write topic columns (shard \(shard), run \(published.run))")
        let pause = Failpoint.assignBatchPause
        var report = try await attempt(store, source: source, step: "assign", shard: shard, documents: docs.count) { progress in
            try await PostgresTable.writeRows(url: url, table: table, idField: options.read.idField, columns: shardColumns.columns,
                                              committedRuns: published.runs, batch: options.assignBatch) { done in
                try await progress(done)
                if pause > 0 { try await Task.sleep(nanoseconds: UInt64(pause) * 1_000_000) }
            }
            return docs.count
        }
        report.fresh = shardColumns.fresh
        return report
    }
}

/// Fault injection for the tests that kill a worker mid-shard: `STRATA_FAILPOINT_ASSIGN_BATCH_MS`
/// makes an assign shard sleep that long after each committed batch. Unset (0) in every real run.
enum Failpoint {
    static var assignBatchPause: Int {
        Int(ProcessInfo.processInfo.environment["STRATA_FAILPOINT_ASSIGN_BATCH_MS"] ?? "") ?? 0
    }
}
