import Foundation
import PostgresNIO
import StrataStore

/// One shard's row in the ledger (`strata.shards`): the progress and accounting of its latest attempt.
public struct ShardRecord: Codable, Sendable, Equatable {
    /// `embed` or `assign`.
    public var step: String
    public var shard: Int
    public var count: Int
    /// `running`, `done` or `failed` (a killed worker stays `running`; `updated` says since when).
    public var status: String
    /// Attempts since the shard last finished (1 on a first try).
    public var attempt: Int
    public var host: String
    public var pid: Int
    /// ISO 8601.
    public var started: String
    public var updated: String
    public var finished: String?
    /// Documents in the shard, and how many this attempt has embedded or written so far.
    public var documents: Int
    public var processed: Int
    /// Wall seconds of this attempt so far, and `processed / seconds`.
    public var seconds: Double
    public var perSecond: Double
    /// Attempts of this shard that did not finish before this one.
    public var failures: Int
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case step, shard, count, status, attempt, host, pid, started, updated, finished, documents, processed, seconds
        case perSecond = "per_second", failures, error
    }

    /// `2/4`.
    public var name: String { "\(shard)/\(count)" }
}

/// What `strata fit --shared` published for a source.
public struct Published: Sendable {
    public var run: String
    /// The fitted model and topics document, JSON as the fit's state recorded them.
    public var model: Data
    public var document: Data
    /// Runs published for this source, oldest first (the last 50).
    public var runs: [String]
}

extension SharedStore {
    typealias LedgerRow = (String, Int, Int, String, Int, String, Int, Date, Date, Date?, Int, Int, Double, Int, String?)

    /// Marks `shard` running (a new attempt: attempt and failures count up unless it last finished).
    public func beginShard(source: String, step: String, shard: Int, count: Int, documents: Int) async throws {
        let host = ProcessInfo.processInfo.hostName, pid = Int(getpid())
        try await run("recording shard \(shard)/\(count) of \(step)") { client in
            try await client.query("""
                INSERT INTO strata.shards AS s (source, step, shard, shard_count, status, attempt, host, pid, started, updated,
                    finished, documents, processed, seconds, failures, error)
                VALUES (\(source), \(step), \(shard), \(count), 'running', 1, \(host), \(pid), now(), now(), NULL, \(documents), 0, 0, 0, NULL)
                ON CONFLICT (source, step, shard_count, shard) DO UPDATE SET status = 'running',
                    attempt = CASE WHEN s.status = 'done' THEN 1 ELSE s.attempt + 1 END,
                    failures = CASE WHEN s.status = 'done' THEN 0 ELSE s.failures + 1 END,
                    host = EXCLUDED.host, pid = EXCLUDED.pid, started = now(), updated = now(), finished = NULL,
                    documents = EXCLUDED.documents, processed = 0, seconds = 0, error = NULL
                """, logger: Self.logger)
        }
    }

    /// Progress of a running shard; with `status` `done` or `failed` (and `error`) it ends the attempt.
    /// `processed` and `seconds` nil keep the last progress (a failed attempt reports how far it got).
    public func updateShard(source: String, step: String, shard: Int, count: Int, processed: Int?, seconds: Double?,
                            status: String = "running", error: String? = nil) async throws {
        try await run("recording shard \(shard)/\(count) of \(step)") { client in
            try await client.query("""
                UPDATE strata.shards SET processed = coalesce(\(processed), processed), seconds = coalesce(\(seconds), seconds),
                    updated = now(), status = \(status),
                    error = \(error), finished = CASE WHEN \(status) = 'done' THEN now() ELSE NULL END
                WHERE source = \(source) AND step = \(step) AND shard_count = \(count) AND shard = \(shard)
                """, logger: Self.logger)
        }
    }

    /// The ledger rows of `step` for `source`, every shard count that ran, by count then shard.
    public func shards(source: String, step: String) async throws -> [ShardRecord] {
        let rows: [LedgerRow] = try await run("reading the shard ledger") { client in
            var out: [LedgerRow] = []
            let seq = try await client.query("""
                SELECT step, shard, shard_count, status, attempt, host, pid, started, updated, finished, documents, processed,
                    seconds, failures, error FROM strata.shards WHERE source = \(source) AND step = \(step)
                ORDER BY shard_count, shard
                """, logger: Self.logger)
            for try await r in seq.decode(LedgerRow.self) { out.append(r) }
            return out
        }
        let iso = ISO8601DateFormatter()
        return rows.map { r in
            ShardRecord(step: r.0, shard: r.1, count: r.2, status: r.3, attempt: r.4, host: r.5, pid: r.6, started: iso.string(from: r.7),
                        updated: iso.string(from: r.8), finished: r.9.map(iso.string(from:)), documents: r.10, processed: r.11,
                        seconds: r.12, perSecond: r.12 > 0 ? Double(r.11) / r.12 : 0, failures: r.13, error: r.14)
        }
    }

    // MARK: Published model and assignments

    /// Publishes a fit in one transaction: model, topics document, and the assignment change (all
    /// rows replaced after a full fit, upserts and deletes after an incremental one).
    public func publish(source: String, run runID: String, model: Data, document: Data,
                        assignments: StateDatabase.AssignmentChange) async throws {
        try await run("publishing the fit") { client in
            try await client.withTransaction(logger: Self.logger) { c in
                try await c.query("""
                    INSERT INTO strata.published AS p (source, run, published, model, document, runs)
                    VALUES (\(source), \(runID), now(), \(model), \(document), ARRAY[\(runID)])
                    ON CONFLICT (source) DO UPDATE SET run = EXCLUDED.run, published = now(), model = EXCLUDED.model,
                        document = EXCLUDED.document, runs = (p.runs || EXCLUDED.runs)[greatest(1, cardinality(p.runs) - 48):]
                    """, logger: Self.logger)
                let rows: [StateDatabase.Assignment]
                switch assignments {
                case .replaceAll(let all):
                    try await c.query("DELETE FROM strata.assignments WHERE source = \(source)", logger: Self.logger)
                    rows = all
                case .delta(let upsert, let delete):
                    try await c.query("DELETE FROM strata.assignments WHERE source = \(source) AND id = ANY(\(delete))", logger: Self.logger)
                    rows = upsert
                }
                for start in stride(from: 0, to: rows.count, by: Self.chunk) {
                    let part = rows[start..<min(start + Self.chunk, rows.count)]
                    try await c.query("""
                        INSERT INTO strata.assignments (source, id, hash, topic, score)
                        SELECT \(source), i, h, t, s FROM unnest(\(part.map(\.id))::text[], \(part.map(\.hash))::text[],
                            \(part.map(\.topic))::integer[], \(part.map(\.score))::float8[]) AS u(i, h, t, s)
                        ON CONFLICT (source, id) DO UPDATE SET hash = EXCLUDED.hash, topic = EXCLUDED.topic, score = EXCLUDED.score
                        """, logger: Self.logger)
                }
            }
        }
    }

    /// What the last fit published for `source` (nil before the first).
    public func published(source: String) async throws -> Published? {
        try await run("reading the published fit") { client in
            let seq = try await client.query("SELECT run, model, document, runs FROM strata.published WHERE source = \(source)",
                                             logger: Self.logger)
            for try await (run, model, document, runs) in seq.decode((String, Data, Data, [String]).self) {
                return Published(run: run, model: model, document: document, runs: runs)
            }
            return nil
        }
    }

    /// The published assignments of `ids` (those that have one).
    public func assignments(source: String, ids: [String]) async throws -> [String: StateDatabase.RecordedDocument] {
        var out: [String: StateDatabase.RecordedDocument] = [:]
        for start in stride(from: 0, to: ids.count, by: Self.chunk * 5) {
            let part = Array(ids[start..<min(start + Self.chunk * 5, ids.count)])
            let got = try await run("reading published assignments") { client in
                var got: [(String, String, Int, Double)] = []
                let seq = try await client.query("SELECT id, hash, topic, score FROM strata.assignments WHERE source = \(source) AND id = ANY(\(part))",
                                                 logger: Self.logger)
                for try await r in seq.decode((String, String, Int, Double).self) { got.append(r) }
                return got
            }
            for (id, hash, topic, score) in got { out[id] = StateDatabase.RecordedDocument(hash: hash, topic: topic, score: score) }
        }
        return out
    }
}
