import Foundation
import StrataStore

/// The state the workers of a sharded run share, in PostgreSQL schema `strata` (beside the user's
/// table, or in another database): the embedding cache, the shard ledger, and what the fit
/// published — model, topics document and every document's assignment. Every write is one
/// statement or one transaction, so a worker killed at any point leaves each table as it was or
/// as the finished statement left it; every write is an upsert, so a rerun never duplicates rows.
public final class SharedStore: EmbeddingCache, @unchecked Sendable {
    let target: PostgresTable.Target
    /// `postgres://…` with the password removed, for messages.
    public let display: String
    /// Rows per statement when reading or writing vectors (a 384-float vector is 1.5 kB).
    static let chunk = 20_000

    /// - Parameter url: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (password also from `PGPASSWORD`).
    public init(url: String) throws {
        display = SourceLocation.redacted(url)
        var t = try PostgresTable.target(url: url, table: "strata")
        t.display = "--shared \(display)"
        target = t
    }

    @discardableResult
    func run<R: Sendable>(_ what: String, _ body: (PGConnection) async throws -> R) async throws -> R {
        try await PostgresTable.wrap(target, what) { try await PostgresTable.withClient(target, body) }
    }

    /// Creates schema `strata` and its tables when missing. Concurrent workers serialise on an
    /// advisory lock (two `CREATE … IF NOT EXISTS` racing can still collide in the catalog).
    public func prepare() async throws {
        try await run("creating schema strata") { client in
            try await client.withTransaction { c in
                try await c.query("SELECT pg_advisory_xact_lock(7217600114)")
                for statement in Self.schema { try await c.query(statement) }
            }
        }
    }

    static let schema = [
        "CREATE SCHEMA IF NOT EXISTS strata",
        """
        CREATE TABLE IF NOT EXISTS strata.embeddings (model text NOT NULL, hash text NOT NULL, dim integer NOT NULL,
            vector bytea NOT NULL, PRIMARY KEY (model, hash))
        """,
        """
        CREATE TABLE IF NOT EXISTS strata.shards (source text NOT NULL, step text NOT NULL, shard integer NOT NULL,
            shard_count integer NOT NULL, status text NOT NULL, attempt integer NOT NULL, host text NOT NULL, pid integer NOT NULL,
            started timestamptz NOT NULL, updated timestamptz NOT NULL, finished timestamptz, documents integer NOT NULL,
            processed integer NOT NULL, seconds double precision NOT NULL, failures integer NOT NULL, error text,
            PRIMARY KEY (source, step, shard_count, shard))
        """,
        """
        CREATE TABLE IF NOT EXISTS strata.published (source text PRIMARY KEY, run text NOT NULL, published timestamptz NOT NULL,
            model bytea NOT NULL, document bytea NOT NULL, runs text[] NOT NULL)
        """,
        """
        CREATE TABLE IF NOT EXISTS strata.assignments (source text NOT NULL, id text NOT NULL, hash text NOT NULL,
            topic integer NOT NULL, score double precision NOT NULL, PRIMARY KEY (source, id))
        """,
    ]

    // MARK: Embedding cache

    /// Vectors of `hashes` (duplicates allowed) in `hashes` order, fetched 20,000 distinct hashes per
    /// statement. O(n·d) bytes over the wire.
    public func cachedEmbeddingRows(model: String, hashes: [String]) async throws -> StateDatabase.CachedRows {
        var out = StateDatabase.CachedRows()
        out.found = [Bool](repeating: false, count: hashes.count)
        var rowsOf: [String: [Int]] = [:]
        for (i, h) in hashes.enumerated() { rowsOf[h, default: []].append(i) }
        let unique = rowsOf.keys.sorted()
        for start in stride(from: 0, to: unique.count, by: Self.chunk) {
            let part = Array(unique[start..<min(start + Self.chunk, unique.count)])
            let got = try await run("reading vectors") { client in
                try await client.query("SELECT hash, dim, vector FROM strata.embeddings WHERE model = $1 AND hash = ANY($2::text[])",
                                       [PGLiteral.text(model), PGLiteral.textArray(part)], binary: true)
            }
            for r in 0..<got.count {
                guard let hash = got.string(r, 0), let dim = got.int32(r, 1) else { out.mismatched += 1; continue }
                Self.take(got.bytes(r, 2), dim: dim, rows: rowsOf[hash] ?? [], into: &out, total: hashes.count)
            }
        }
        return out
    }

    static func take(_ blob: UnsafeRawBufferPointer, dim: Int, rows: [Int], into out: inout StateDatabase.CachedRows, total: Int) {
        if out.dimension == 0 && dim > 0 {
            out.dimension = dim
            out.vectors = [Float](repeating: 0, count: total * dim)
        }
        guard dim == out.dimension, blob.count == dim * 4 else { out.mismatched += 1; return }
        out.vectors.withUnsafeMutableBytes { dst in
            for r in rows { (dst.baseAddress! + r * dim * 4).copyMemory(from: blob.baseAddress!, byteCount: dim * 4) }
        }
        for r in rows { out.found[r] = true }
    }

    /// Stores vectors (little-endian float32), 20,000 per statement; keys already stored are kept. The
    /// vectors travel as one binary parameter that the statement slices, not as 20,000 hex literals.
    public func storeEmbeddings(model: String, _ entries: [(hash: String, vector: [Float])]) async throws {
        for start in stride(from: 0, to: entries.count, by: Self.chunk) {
            let part = entries[start..<min(start + Self.chunk, entries.count)]
            let hashes = part.map(\.hash), dims = part.map { $0.vector.count }
            var offsets: [Int] = [], blob = Data(), offset = 0
            for e in part {
                offsets.append(offset)
                offset += e.vector.count * 4
                e.vector.withUnsafeBytes { blob.append(contentsOf: $0) }
            }
            try await run("storing vectors") { client in
                try await client.query("""
                    INSERT INTO strata.embeddings (model, hash, dim, vector)
                    SELECT $1, h, d, substring($5::bytea FROM (o + 1)::integer FOR d * 4)
                    FROM unnest($2::text[], $3::integer[], $4::integer[]) AS s(h, d, o)
                    ON CONFLICT (model, hash) DO NOTHING
                    """, [PGLiteral.text(model), PGLiteral.textArray(hashes), PGLiteral.intArray(dims), PGLiteral.intArray(offsets), .bytes(blob)])
            }
        }
    }

    /// Which of `hashes` have a vector for `model`, without reading the vectors.
    public func cachedHashes(model: String, hashes: [String]) async throws -> Set<String> {
        let unique = Array(Set(hashes)).sorted()
        var out = Set<String>()
        for start in stride(from: 0, to: unique.count, by: Self.chunk * 5) {
            let part = Array(unique[start..<min(start + Self.chunk * 5, unique.count)])
            let got = try await run("reading cached hashes") { client in
                let rows = try await client.query("SELECT hash FROM strata.embeddings WHERE model = $1 AND hash = ANY($2::text[])",
                                                  [PGLiteral.text(model), PGLiteral.textArray(part)])
                return (0..<rows.count).compactMap { rows.string($0, 0) }
            }
            out.formUnion(got)
        }
        return out
    }
}
