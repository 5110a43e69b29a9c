import Foundation
import StrataStore

/// A PostgreSQL table as a document source and a topic-column sink (`postgres://USER@HOST:PORT/DB?table=T`,
/// password from the URL or `PGPASSWORD`). Identifiers are quoted (``SQLIdentifier/quote(_:)``),
/// never spliced in raw; every value travels as a bind parameter.
public enum PostgresTable {
    struct Target: Sendable {
        /// libpq's connection keywords and values (`host`, `port`, `user`, `password`, `dbname`).
        var parameters: [(String, String)]
        var table: String
        var display: String
    }

    static func target(url: String, table: String) throws -> Target {
        let display = SourceLocation.postgres(url: url, table: table).description
        guard let base = url.split(separator: "?").first, let u = URLComponents(string: String(base)), let host = u.host, !host.isEmpty else {
            throw SourceError(file: display, line: nil, "not a PostgreSQL URL: use postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE?table=T")
        }
        let user = u.user ?? ProcessInfo.processInfo.environment["PGUSER"] ?? "postgres"
        let password = u.password ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        var parameters = [("host", host), ("port", String(u.port ?? 5432)), ("user", user)]
        if let password { parameters.append(("password", password)) }
        if let database = u.path.split(separator: "/").first { parameters.append(("dbname", String(database))) }
        for item in URLComponents(string: url)?.queryItems ?? [] where item.name != "table" {
            guard passedThrough.contains(item.name), let value = item.value else {
                throw SourceError(file: display, line: nil,
                                  "unknown URL parameter \(item.name): besides table= a PostgreSQL URL takes \(passedThrough.sorted().joined(separator: ", "))")
            }
            parameters.append((item.name, value))
        }
        return Target(parameters: parameters, table: table, display: display)
    }

    /// URL parameters handed to libpq as they are (TLS: `?table=docs&sslmode=verify-full&sslrootcert=ca.pem`).
    /// Without `sslmode`, libpq's default applies (`PGSSLMODE`, else `prefer`: TLS when the server offers it).
    static let passedThrough: Set<String> = ["sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "connect_timeout"]

    /// Runs `body` on a fresh connection, closed when the call returns.
    static func withClient<R: Sendable>(_ t: Target, _ body: (PGConnection) async throws -> R) async throws -> R {
        let connection = try await PGConnection(t.parameters)
        return try await body(connection)
    }

    static func wrap<R>(_ t: Target, _ what: String, _ body: () async throws -> R) async throws -> R {
        do { return try await body() } catch let e as SourceError { throw e } catch let e as PGConnection.Failure {
            let hint = e.sqlState == nil ? " — is the server running and the URL right?" : ""
            throw SourceError(file: t.display, line: nil, "\(what) failed: \(e)\(hint)")
        }
    }

    /// Reads every row (ordered by the id column) as a JSON object: the id and text fields become the
    /// document, every other column its metadata. Rows stream from the server. O(rows).
    /// - Parameter shard: only the rows of shard `index` of `count`, chosen by the server with the
    ///   partition of `Strata.Shard` (first 8 bytes of SHA-256 of the id's text, unsigned, mod count),
    ///   so a worker receives its own rows only.
    public static func read(url: String, table: String, options: ReadOptions,
                            shard: (index: Int, count: Int)? = nil) async throws -> ReadResult {
        let t = try target(url: url, table: table)
        let q = SQLIdentifier.quote(table), id = SQLIdentifier.quote(options.idField)
        let filter = shard.map { "WHERE \(shardExpression("t." + id, count: $0.count)) = \($0.index)" } ?? ""
        let rows: [String] = try await wrap(t, "reading \(table)") {
            try await withClient(t) { client in
                let rows = try await client.query("SELECT row_to_json(t)::text FROM \(q) t \(filter) ORDER BY \(id)")
                return (0..<rows.count).map { rows.string($0, 0) ?? "" }
            }
        }
        var collector = try SourceReader.Collector(options: options)
        for (n, json) in rows.enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                try collector.reject(SourceError(file: t.display, line: n + 1, "row is not a JSON object"))
                continue
            }
            try collector.add(SourceReader.record(object, source: t.display, row: n + 1, options: options))
        }
        return try collector.result
    }

    /// SQL for the shard (0 ..< count) of the row whose id column is `column`: the first 16 hex digits
    /// of SHA-256 of the id's UTF-8 text as an unsigned 64-bit number, mod `count`.
    static func shardExpression(_ column: String, count: Int) -> String {
        let signed = "('x' || left(encode(sha256(convert_to(\(column)::text, 'UTF8')), 'hex'), 16))::bit(64)::bigint::numeric"
        return "mod(mod(\(signed) + 18446744073709551616, 18446744073709551616), \(count))::integer"
    }

    /// Adds (if missing) and fills `topic_id`, `topic_label`, `topic_score`, `topic_parent_id`,
    /// `topic_run` (and `embedding real[]` when `embeddings` is given), rewrites `strata_topics`, and
    /// indexes `topic_id` — all in one transaction, so a failed or killed run leaves the table as it
    /// was. Values are bound as arrays and joined with `unnest`: one statement per table, not per row.
    public static func write(url: String, table: String, idField: String, columns: [String: TopicColumns], topics: [TopicRow],
                             embeddings: [String: [Float]]? = nil, committedRuns: [String] = []) async throws {
        let t = try target(url: url, table: table)
        let q = SQLIdentifier.quote(table), id = SQLIdentifier.quote(idField)
        let keys = columns.keys.sorted()
        let vectors: [String]? = embeddings.map { e in keys.map { k in "{" + (e[k] ?? []).map { String(sqlSafe($0)) }.joined(separator: ",") + "}" } }
        try await wrap(t, "writing topic columns to \(table)") {
            try await withClient(t) { client in
                try await client.withTransaction { c in
                    try await addColumns(c, table: table)
                    try await update(c, table: table, idField: idField, keys: keys, columns: columns, committedRuns: committedRuns)
                    if let vectors {
                        try await c.query("ALTER TABLE \(q) ADD COLUMN IF NOT EXISTS embedding real[]")
                        try await c.query("""
                            UPDATE \(q) AS d SET embedding = s.v::real[]
                            FROM unnest($1::text[], $2::text[]) AS s(id, v)
                            WHERE d.\(id)::text = s.id AND d.embedding IS DISTINCT FROM s.v::real[]
                            """, [PGLiteral.textArray(keys), PGLiteral.textArray(vectors)])
                    }
                    try await replaceTopics(c, table: table, topics: topics)
                }
            }
        }
    }

    /// The sharded fit's part of ``write(url:table:idField:columns:topics:embeddings:committedRuns:)``:
    /// adds the topic columns and their index and rewrites `strata_topics` (one transaction); the
    /// assign shards fill the rows (``writeRows(url:table:idField:columns:committedRuns:batch:progress:)``).
    public static func publishTopics(url: String, table: String, topics: [TopicRow]) async throws {
        let t = try target(url: url, table: table)
        try await wrap(t, "writing strata_topics beside \(table)") {
            try await withClient(t) { client in
                try await client.withTransaction { c in
                    try await addColumns(c, table: table)
                    try await replaceTopics(c, table: table, topics: topics)
                }
            }
        }
    }

    /// Fills the topic columns of `columns`' rows, `batch` rows per transaction (each batch is all or
    /// nothing; a rerun rewrites the same values, and rows already holding them are not touched).
    /// `progress` gets the rows done after each batch. The columns must exist (``publishTopics``).
    public static func writeRows(url: String, table: String, idField: String, columns: [String: TopicColumns], committedRuns: [String],
                                 batch: Int, progress: @escaping @Sendable (Int) async throws -> Void) async throws {
        let t = try target(url: url, table: table)
        let keys = columns.keys.sorted()
        try await wrap(t, "writing topic columns to \(table)") {
            try await withClient(t) { client in
                for start in stride(from: 0, to: keys.count, by: max(1, batch)) {
                    let part = Array(keys[start..<min(start + max(1, batch), keys.count)])
                    try await client.withTransaction { c in
                        try await update(c, table: table, idField: idField, keys: part, columns: columns, committedRuns: committedRuns)
                    }
                    try await progress(start + part.count)
                }
            }
        }
    }

    static func addColumns(_ c: PGConnection, table: String) async throws {
        let q = SQLIdentifier.quote(table), index = SQLIdentifier.quote("idx_\(table)_topic_id")
        for (name, type) in [("topic_id", "integer"), ("topic_label", "text"), ("topic_score", "double precision"),
                             ("topic_parent_id", "integer"), ("topic_run", "text")] {
            try await c.query("ALTER TABLE \(q) ADD COLUMN IF NOT EXISTS \(SQLIdentifier.quote(name)) \(type)")
        }
        try await c.query("CREATE INDEX IF NOT EXISTS \(index) ON \(q) (topic_id)")
    }

    /// One UPDATE of `keys`' rows; rows already holding their values (from a committed run) are skipped.
    static func update(_ c: PGConnection, table: String, idField: String, keys: [String], columns: [String: TopicColumns],
                       committedRuns: [String]) async throws {
        let q = SQLIdentifier.quote(table), id = SQLIdentifier.quote(idField)
        let topicIDs = keys.map { columns[$0]!.topicID }, labels = keys.map { columns[$0]!.topicLabel }
        let scores = keys.map { columns[$0]!.topicScore }, parents = keys.map { columns[$0]!.topicParentID ?? -1 }
        let runs = keys.map { columns[$0]!.topicRun }
        try await c.query("""
            UPDATE \(q) AS d SET topic_id = s.topic_id, topic_label = s.topic_label, topic_score = s.topic_score,
                topic_parent_id = NULLIF(s.topic_parent_id, -1), topic_run = s.topic_run
            FROM unnest($1::text[], $2::integer[], $3::text[], $4::float8[], $5::integer[], $6::text[])
                AS s(id, topic_id, topic_label, topic_score, topic_parent_id, topic_run)
            WHERE d.\(id)::text = s.id
              AND (d.topic_id IS DISTINCT FROM s.topic_id OR d.topic_label IS DISTINCT FROM s.topic_label
                   OR d.topic_score IS DISTINCT FROM s.topic_score
                   OR d.topic_parent_id IS DISTINCT FROM NULLIF(s.topic_parent_id, -1)
                   OR (d.topic_run = ANY($7::text[])) IS NOT TRUE)
            """, [PGLiteral.textArray(keys), PGLiteral.intArray(topicIDs), PGLiteral.textArray(labels), PGLiteral.doubleArray(scores),
                  PGLiteral.intArray(parents), PGLiteral.textArray(runs), PGLiteral.textArray(committedRuns)])
    }

    static func replaceTopics(_ c: PGConnection, table: String, topics: [TopicRow]) async throws {
        try await c.query("""
            CREATE TABLE IF NOT EXISTS strata_topics (id integer PRIMARY KEY, label text NOT NULL, description text,
                keywords text, size integer NOT NULL, parent_id integer)
            """)
        try await c.query("ALTER TABLE strata_topics ADD COLUMN IF NOT EXISTS level text NOT NULL DEFAULT 'topic'")
        try await c.query("DELETE FROM strata_topics")
        try await c.query("""
            INSERT INTO strata_topics (id, label, description, keywords, size, parent_id, level)
            SELECT id, label, description, keywords, size, NULLIF(parent_id, -1), level
            FROM unnest($1::integer[], $2::text[], $3::text[], $4::text[], $5::integer[], $6::integer[], $7::text[])
                AS s(id, label, description, keywords, size, parent_id, level)
            """, [PGLiteral.intArray(topics.map(\.id)), PGLiteral.textArray(topics.map(\.label)), PGLiteral.textArray(topics.map(\.description)),
                  PGLiteral.textArray(topics.map { $0.keywords.joined(separator: ", ") }), PGLiteral.intArray(topics.map(\.size)),
                  PGLiteral.intArray(topics.map { $0.parentID ?? -1 }), PGLiteral.textArray(topics.map(\.level.rawValue))])
    }
}

/// A vector component PostgreSQL can multiply: `real` arithmetic raises "value out of range: underflow"
/// when a product falls below the smallest normal float (1.18e-38), which `sum(a * b)` over two unit
/// vectors hits for components near 1e-20. Components smaller than 1.1e-19 in magnitude — far below
/// anything that moves a cosine — become 0, so every product of two stored components is 0 or normal.
func sqlSafe(_ v: Float) -> Float { abs(v) < 1.1e-19 ? 0 : v }
