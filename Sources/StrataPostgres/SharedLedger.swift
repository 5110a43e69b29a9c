import Foundation
import StrataStore

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
    /// Marks `shard` running (a new attempt: attempt and failures count up unless it last finished).
    public func beginShard(source: String, step: String, shard: Int, count: Int, documents: Int) async throws {
        let host = ProcessInfo.processInfo.hostName, pid = Int(getpid())
        try await run("recording shard \(shard)/\(count) of \(step)") { client in
            try await client.query("""
                INSERT INTO strata.shards AS s (source, step, shard, shard_count, status, attempt, host, pid, started, updated,
                    finished, documents, processed, seconds, failures, error)
                VALUES ($1, $2, $3, $4, 'running', 1, $5, $6, now(), now(), NULL, $7, 0, 0, 0, NULL)
                ON CONFLICT (source, step, shard_count, shard) DO UPDATE SET status = 'running',
                    attempt = CASE WHEN s.status = 'done' THEN 1 ELSE s.attempt + 1 END,
                    failures = CASE WHEN s.status = 'done' THEN 0 ELSE s.failures + 1 END,
                    host = EXCLUDED.host, pid = EXCLUDED.pid, started = now(), updated = now(), finished = NULL,
                    documents = EXCLUDED.documents, processed = 0, seconds = 0, error = NULL
                """, [PGLiteral.text(source), PGLiteral.text(step), PGLiteral.int(shard), PGLiteral.int(count), PGLiteral.text(host),
                      PGLiteral.int(pid), PGLiteral.int(documents)])
        }
    }

    /// Progress of a running shard; with `status` `done` or `failed` (and `error`) it ends the attempt.
    /// `processed` and `seconds` nil keep the last progress (a failed attempt reports how far it got).
    public func updateShard(source: String, step: String, shard: Int, count: Int, processed: Int?, seconds: Double?,
                            status: String = "running", error: String? = nil) async throws {
        try await run("recording shard \(shard)/\(count) of \(step)") { client in
            try await client.query("""
                UPDATE strata.shards SET processed = coalesce($1::integer, processed), seconds = coalesce($2::float8, seconds),
                    updated = now(), status = $3::text,
                    error = $4::text, finished = CASE WHEN $3::text = 'done' THEN now() ELSE NULL END
                WHERE source = $5 AND step = $6 AND shard_count = $7 AND shard = $8
                """, [PGLiteral.int(processed), PGLiteral.double(seconds), PGLiteral.text(status), .text(error), PGLiteral.text(source),
                      PGLiteral.text(step), PGLiteral.int(count), PGLiteral.int(shard)])
        }
    }

    /// The ledger rows of `step` for `source`, every shard count that ran, by count then shard.
    public func shards(source: String, step: String) async throws -> [ShardRecord] {
        let iso = { (column: String) in "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')" }
        let rows = try await run("reading the shard ledger") { client in
            try await client.query("""
                SELECT step, shard, shard_count, status, attempt, host, pid, \(iso("started")), \(iso("updated")), \(iso("finished")),
                    documents, processed, seconds, failures, error FROM strata.shards WHERE source = $1 AND step = $2
                ORDER BY shard_count, shard
                """, [PGLiteral.text(source), PGLiteral.text(step)])
        }
        return (0..<rows.count).map { r in
            let seconds = rows.double(r, 12) ?? 0, processed = rows.int(r, 11) ?? 0
            return ShardRecord(step: rows.string(r, 0) ?? "", shard: rows.int(r, 1) ?? 0, count: rows.int(r, 2) ?? 0,
                               status: rows.string(r, 3) ?? "", attempt: rows.int(r, 4) ?? 0, host: rows.string(r, 5) ?? "",
                               pid: rows.int(r, 6) ?? 0, started: rows.string(r, 7) ?? "", updated: rows.string(r, 8) ?? "",
                               finished: rows.string(r, 9), documents: rows.int(r, 10) ?? 0, processed: processed, seconds: seconds,
                               perSecond: seconds > 0 ? Double(processed) / seconds : 0, failures: rows.int(r, 13) ?? 0,
                               error: rows.string(r, 14))
        }
    }

    // MARK: Published model and assignments

    /// Publishes a fit in one transaction: model, topics document, and the assignment change (all
    /// rows replaced after a full fit, upserts and deletes after an incremental one).
    public func publish(source: String, run runID: String, model: Data, document: Data,
                        assignments: StateDatabase.AssignmentChange) async throws {
        try await run("publishing the fit") { client in
            try await client.withTransaction { c in
                try await c.query("""
                    INSERT INTO strata.published AS p (source, run, published, model, document, runs)
                    VALUES ($1, $2, now(), $3, $4, ARRAY[$2::text])
                    ON CONFLICT (source) DO UPDATE SET run = EXCLUDED.run, published = now(), model = EXCLUDED.model,
                        document = EXCLUDED.document, runs = (p.runs || EXCLUDED.runs)[greatest(1, cardinality(p.runs) - 48):]
                    """, [PGLiteral.text(source), PGLiteral.text(runID), .bytes(model), .bytes(document)])
                let rows: StateDatabase.AssignmentRows
                switch assignments {
                case .replaceAll(let all):
                    try await c.query("DELETE FROM strata.assignments WHERE source = $1", [PGLiteral.text(source)])
                    rows = all
                case .delta(let upsert, let delete):
                    try await c.query("DELETE FROM strata.assignments WHERE source = $1 AND id = ANY($2::text[])",
                                      [PGLiteral.text(source), PGLiteral.textArray(delete)])
                    rows = StateDatabase.AssignmentRows(upsert)
                }
                for start in stride(from: 0, to: rows.count, by: Self.chunk) {
                    let part = (start..<min(start + Self.chunk, rows.count)).map { rows[$0] }
                    try await c.query("""
                        INSERT INTO strata.assignments (source, id, hash, topic, score)
                        SELECT $1, i, h, t, s FROM unnest($2::text[], $3::text[], $4::integer[], $5::float8[]) AS u(i, h, t, s)
                        ON CONFLICT (source, id) DO UPDATE SET hash = EXCLUDED.hash, topic = EXCLUDED.topic, score = EXCLUDED.score
                        """, [PGLiteral.text(source), PGLiteral.textArray(part.map(\.id)), PGLiteral.textArray(part.map(\.hash)),
                              PGLiteral.intArray(part.map(\.topic)), PGLiteral.doubleArray(part.map(\.score))])
                }
            }
        }
    }

    /// What the last fit published for `source` (nil before the first).
    public func published(source: String) async throws -> Published? {
        try await run("reading the published fit") { client in
            let rows = try await client.query("SELECT run, model, document, array_to_json(runs)::text FROM strata.published WHERE source = $1",
                                              [PGLiteral.text(source)], binary: true)
            guard rows.count > 0, let run = rows.string(0, 0), let model = rows.data(0, 1), let document = rows.data(0, 2) else { return nil }
            let runs = (try? JSONDecoder().decode([String].self, from: Data((rows.string(0, 3) ?? "[]").utf8))) ?? []
            return Published(run: run, model: model, document: document, runs: runs)
        }
    }

    /// The published assignments of `ids` (those that have one).
    public func assignments(source: String, ids: [String]) async throws -> [String: StateDatabase.RecordedDocument] {
        var out: [String: StateDatabase.RecordedDocument] = [:]
        for start in stride(from: 0, to: ids.count, by: Self.chunk * 5) {
            let part = Array(ids[start..<min(start + Self.chunk * 5, ids.count)])
            let got = try await run("reading published assignments") { client in
                try await client.query("SELECT id, hash, topic, score FROM strata.assignments WHERE source = $1 AND id = ANY($2::text[])",
                                       [PGLiteral.text(source), PGLiteral.textArray(part)])
            }
            for r in 0..<got.count {
                guard let id = got.string(r, 0), let hash = got.string(r, 1), let topic = got.int(r, 2), let score = got.double(r, 3) else { continue }
                out[id] = StateDatabase.RecordedDocument(hash: hash, topic: topic, score: score)
            }
        }
        return out
    }
}
