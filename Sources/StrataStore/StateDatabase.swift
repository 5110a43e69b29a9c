import Foundation

/// The state directory's SQLite database (`STATE/state.db`): embedding cache, label cache,
/// documents, topics and run manifests. Every write goes through a transaction, so a crash leaves
/// the previous state intact.
public final class StateDatabase {
    public let db: SQLiteDatabase
    /// Schema version written to `meta`.
    public static let schemaVersion = 1

    /// Opens or creates `directory/state.db`, creating the directory when needed.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        db = try SQLiteDatabase(path: (directory as NSString).appendingPathComponent("state.db"))
        try db.execute("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS embedding_cache (
                model TEXT NOT NULL, text_sha256 TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL,
                PRIMARY KEY (model, text_sha256)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS label_cache (
                model TEXT NOT NULL, prompt_sha256 TEXT NOT NULL, reply TEXT NOT NULL, created TEXT NOT NULL,
                PRIMARY KEY (model, prompt_sha256)) WITHOUT ROWID;
            INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '\(Self.schemaVersion)');
            CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, finished TEXT NOT NULL, manifest TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, content_sha256 TEXT NOT NULL,
                topic_id INTEGER NOT NULL, score REAL NOT NULL, run TEXT NOT NULL, snippet TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
            """)
        // State written by earlier versions: add the columns they lack.
        let columns = try db.query("SELECT name FROM pragma_table_info('documents')").compactMap { $0.first?.string }
        if !columns.contains("snippet") {
            try db.execute("ALTER TABLE documents ADD COLUMN snippet TEXT NOT NULL DEFAULT ''")
        }
    }

    // MARK: Embedding cache

    /// Cached vectors for the given text hashes under `model`; missing hashes are absent from the
    /// result. O(hashes) point look-ups.
    public func cachedEmbeddings(model: String, hashes: [String]) throws -> [String: [Float]] {
        let stmt = try db.prepare("SELECT dim, vector FROM embedding_cache WHERE model = ? AND text_sha256 = ?")
        var out: [String: [Float]] = [:]
        for h in Set(hashes) {
            try stmt.bind([.text(model), .text(h)])
            guard let row = try stmt.step(), let dim = row[0].int, let blob = row[1].data, blob.count == dim * 4 else { continue }
            out[h] = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        return out
    }

    /// Stores vectors (little-endian float32 blobs) in one transaction.
    public func storeEmbeddings(model: String, _ entries: [(hash: String, vector: [Float])]) throws {
        guard !entries.isEmpty else { return }
        try db.transaction {
            let stmt = try db.prepare("INSERT OR REPLACE INTO embedding_cache (model, text_sha256, dim, vector) VALUES (?, ?, ?, ?)")
            for e in entries {
                let blob = e.vector.withUnsafeBytes { Data($0) }
                try stmt.run([.text(model), .text(e.hash), .integer(Int64(e.vector.count)), .blob(blob)])
            }
        }
    }

    /// Number of cached vectors for `model`.
    public func cachedEmbeddingCount(model: String) throws -> Int {
        try db.query("SELECT COUNT(*) FROM embedding_cache WHERE model = ?", [.text(model)]).first?.first?.int ?? 0
    }

    // MARK: Label cache

    /// A cached LLM reply for (model, prompt hash).
    public func cachedLabel(model: String, promptHash: String) throws -> String? {
        try db.query("SELECT reply FROM label_cache WHERE model = ? AND prompt_sha256 = ?",
                     [.text(model), .text(promptHash)]).first?.first?.string
    }

    /// Stores an LLM reply.
    public func storeLabel(model: String, promptHash: String, reply: String) throws {
        try db.query("INSERT OR REPLACE INTO label_cache (model, prompt_sha256, reply, created) VALUES (?, ?, ?, ?)",
                     [.text(model), .text(promptHash), .text(reply), .text(ISO8601DateFormatter().string(from: Date()))])
    }
}

extension StateDatabase {
    /// Records a finished run: its manifest and every document's assignment, replacing the previous
    /// assignments, in one transaction.
    /// A document's assignment as recorded in the state.
    public struct Assignment: Sendable {
        public let id: String
        public let hash: String
        public let topic: Int
        public let score: Double
        /// The first ~300 characters of the text, for search results.
        public let snippet: String
        public init(id: String, hash: String, topic: Int, score: Double, snippet: String) {
            self.id = id; self.hash = hash; self.topic = topic; self.score = score; self.snippet = snippet
        }
    }

    public func recordRun(id: String, manifest: Data, assignments: [Assignment]) throws {
        try db.transaction {
            try db.query("INSERT INTO runs (id, finished, manifest) VALUES (?, ?, ?)",
                         [.text(id), .text(ISO8601DateFormatter().string(from: Date())), .text(String(decoding: manifest, as: UTF8.self))])
            try db.execute("DELETE FROM documents")
            let stmt = try db.prepare("INSERT INTO documents (id, content_sha256, topic_id, score, run, snippet) VALUES (?, ?, ?, ?, ?, ?)")
            for a in assignments {
                try stmt.run([.text(a.id), .text(a.hash), .integer(Int64(a.topic)), .real(a.score), .text(id), .text(a.snippet)])
            }
        }
    }

    /// Every recorded document with its topic, snippet and cached vector under `model`, in id order.
    /// Documents whose vector is not cached are left out.
    public func searchableDocuments(model: String) throws -> (ids: [String], topics: [Int], snippets: [String], dimension: Int, vectors: [Float]) {
        let stmt = try db.prepare("""
            SELECT d.id, d.topic_id, d.snippet, e.dim, e.vector FROM documents d
            JOIN embedding_cache e ON e.model = ? AND e.text_sha256 = d.content_sha256 ORDER BY d.id
            """)
        try stmt.bind([.text(model)])
        var ids: [String] = [], topics: [Int] = [], snippets: [String] = [], vectors: [Float] = []
        var dim = 0
        while let row = try stmt.step() {
            guard let id = row[0].string, let t = row[1].int, let d = row[3].int, let blob = row[4].data, blob.count == d * 4 else { continue }
            dim = d
            ids.append(id); topics.append(t); snippets.append(row[2].string ?? "")
            blob.withUnsafeBytes { vectors.append(contentsOf: $0.bindMemory(to: Float.self)) }
        }
        return (ids, topics, snippets, dim, vectors)
    }

    /// Number of recorded runs.
    public func runCount() throws -> Int {
        try db.query("SELECT COUNT(*) FROM runs").first?.first?.int ?? 0
    }
}
