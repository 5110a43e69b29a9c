import Foundation

/// The state directory's SQLite database (`STATE/state.db`): embedding cache, label cache,
/// documents, topics and run manifests. Every write goes through a transaction, so a crash leaves
/// the previous state intact.
public final class StateDatabase {
    public let db: SQLiteDatabase
    /// Schema version written to `meta`.
    public static let schemaVersion = 2
    /// A cache shared by the workers of a sharded run (`strata fit --shared`): when set, every
    /// embedding of this process is read from and stored there instead of in `embeddings`.
    public var sharedEmbeddings: (any EmbeddingCache)?

    /// Opens or creates `directory/state.db`, creating the directory when needed.
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        db = try SQLiteDatabase(path: (directory as NSString).appendingPathComponent("state.db"))
        try db.execute("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS embeddings (
                model TEXT NOT NULL, text_sha256 TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS embeddings_key ON embeddings (model, text_sha256);
            CREATE TABLE IF NOT EXISTS label_cache (
                model TEXT NOT NULL, prompt_sha256 TEXT NOT NULL, reply TEXT NOT NULL, created TEXT NOT NULL,
                PRIMARY KEY (model, prompt_sha256)) WITHOUT ROWID;
            INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '\(Self.schemaVersion)');
            CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, finished TEXT NOT NULL, manifest TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, content_sha256 TEXT NOT NULL,
                topic_id INTEGER NOT NULL, score REAL NOT NULL, run TEXT NOT NULL, snippet TEXT NOT NULL DEFAULT '') WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS current (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS llm_usage (run TEXT NOT NULL, model TEXT NOT NULL, prompts INTEGER NOT NULL,
                calls INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
                answered_prompts INTEGER NOT NULL, first_prompt_tokens INTEGER NOT NULL, local_tokens INTEGER NOT NULL);
            """)
        // State written by earlier versions: add the columns they lack.
        let columns = try db.query("SELECT name FROM pragma_table_info('documents')").compactMap { $0.first?.string }
        if !columns.contains("snippet") {
            try db.execute("ALTER TABLE documents ADD COLUMN snippet TEXT NOT NULL DEFAULT ''")
        }
        try migrateEmbeddingCache()
    }

    /// Schema 1 kept vectors in `embedding_cache`, a WITHOUT ROWID table keyed by (model, hash): its
    /// 1–1.5 kB rows live in the key's b-tree, so every insert at a random hash split pages (~67 µs a
    /// row, a file 3× the vectors' size). Schema 2 appends them to a rowid table with a unique index on
    /// the key (~19 µs a row; a scan reads the table in order, ~1 µs a row). An old state's vectors move
    /// over in one transaction the first time a newer Strata opens it; a crash leaves either layout whole.
    func migrateEmbeddingCache() throws {
        let exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'embedding_cache'"
        guard try !db.query(exists).isEmpty else { return }
        try db.transaction {
            guard try !db.query(exists).isEmpty else { return }  // another process moved them meanwhile
            try db.execute("""
                INSERT OR IGNORE INTO embeddings (model, text_sha256, dim, vector)
                    SELECT model, text_sha256, dim, vector FROM embedding_cache ORDER BY model, text_sha256;
                DROP TABLE embedding_cache;
                UPDATE meta SET value = '\(Self.schemaVersion)' WHERE key = 'schema_version';
                """)
        }
    }

    // MARK: Embedding cache

    /// Cached vectors of `hashes` (one entry per row, duplicates allowed) under `model`, copied straight
    /// into one row-major buffer in `hashes` order.
    public struct CachedRows: Sendable {
        /// Length of the cached vectors (0 when none was found).
        public var dimension = 0
        /// `hashes.count` × `dimension` floats; rows whose hash is not cached are zero.
        public var vectors: [Float] = []
        /// Whether row i was found.
        public var found: [Bool] = []
        /// Hashes whose cached vector has another length than the first one found (left unfound).
        public var mismatched = 0
        public init() {}
    }

    /// Reads the cached vectors of `hashes` into one buffer (``CachedRows``), copying each blob straight
    /// into its rows. When the unique hashes are at least a quarter of the model's cached vectors (a
    /// nightly run over a mostly cached corpus) it scans the table once in storage order (`NOT INDEXED`:
    /// ~1 µs a row against ~11 µs a probe, which goes through the key index to the row); otherwise it
    /// probes the unique hashes in sorted order, so consecutive probes walk the index forwards (in
    /// document order they re-read inner pages).
    /// O(u log u + min(c, 4u)) for u unique hashes and c cached vectors of `model`.
    public func cachedEmbeddingRows(model: String, hashes: [String]) throws -> CachedRows {
        var out = CachedRows()
        out.found = [Bool](repeating: false, count: hashes.count)
        guard !hashes.isEmpty else { return out }
        // Rows grouped by hash: order[groups[g]] are the rows of the g-th distinct hash, in key order.
        let order = hashes.indices.sorted { hashes[$0] < hashes[$1] }
        var groups: [Range<Int>] = []
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count && hashes[order[end]] == hashes[order[start]] { end += 1 }
            groups.append(start..<end)
            start = end
        }
        func take(_ group: Range<Int>, dim: Int, _ stmt: SQLiteDatabase.Statement, vectorColumn: Int) {
            if out.dimension == 0 && dim > 0 {
                out.dimension = dim
                out.vectors = [Float](repeating: 0, count: hashes.count * dim)
            }
            guard dim == out.dimension else { out.mismatched += 1; return }
            let ok = stmt.withBlob(vectorColumn) { blob -> Bool in
                guard blob.count == dim * 4, let src = blob.baseAddress else { return false }
                out.vectors.withUnsafeMutableBytes { dst in
                    for r in order[group] { (dst.baseAddress! + r * dim * 4).copyMemory(from: src, byteCount: dim * 4) }
                }
                return true
            }
            guard ok else { out.mismatched += 1; return }
            for r in order[group] { out.found[r] = true }
        }
        if try groups.count * 4 >= cachedEmbeddingCount(model: model) {
            var groupOf = [String: Int](minimumCapacity: groups.count)
            for (g, range) in groups.enumerated() { groupOf[hashes[order[range.lowerBound]]] = g }
            let stmt = try db.prepare("SELECT text_sha256, dim, vector FROM embeddings NOT INDEXED WHERE model = ?")
            try stmt.bind([.text(model)])
            while try stmt.advance() {
                guard let g = groupOf[stmt.text(0)] else { continue }
                take(groups[g], dim: stmt.int(1), stmt, vectorColumn: 2)
            }
        } else {
            let stmt = try db.prepare("SELECT dim, vector FROM embeddings WHERE model = ? AND text_sha256 = ?")
            for group in groups {
                try stmt.bind([.text(model), .text(hashes[order[group.lowerBound]])])
                if try stmt.advance() { take(group, dim: stmt.int(0), stmt, vectorColumn: 1) }
            }
        }
        return out
    }

    /// Which of `hashes` have a cached vector for `model`, without reading the vectors (for counting:
    /// `strata estimate` on 100k documents would otherwise load 150 MB of blobs). O(unique hashes) index probes.
    public func cachedHashes(model: String, hashes: [String]) throws -> Set<String> {
        let stmt = try db.prepare("SELECT 1 FROM embeddings WHERE model = ? AND text_sha256 = ? LIMIT 1")
        var out = Set<String>()
        for h in Set(hashes).sorted() {  // in key order, as cachedEmbeddingRows explains
            try stmt.bind([.text(model), .text(h)])
            if try stmt.step() != nil { out.insert(h) }
        }
        return out
    }

    /// Stores vectors (little-endian float32 blobs) in one transaction, and keeps the model's vector
    /// count in `meta` (``cachedEmbeddingCount(model:)``) in the same transaction.
    public func storeEmbeddings(model: String, _ entries: [(hash: String, vector: [Float])]) throws {
        guard !entries.isEmpty else { return }
        try db.transaction {
            let before = try cachedEmbeddingCount(model: model)
            let exists = try db.prepare("SELECT 1 FROM embeddings WHERE model = ? AND text_sha256 = ?")
            let stmt = try db.prepare("INSERT OR REPLACE INTO embeddings (model, text_sha256, dim, vector) VALUES (?, ?, ?, ?)")
            var added = Set<String>()
            for e in entries {
                try exists.bind([.text(model), .text(e.hash)])
                if try !exists.advance() { added.insert(e.hash) }
                let blob = e.vector.withUnsafeBytes { Data($0) }
                try stmt.run([.text(model), .text(e.hash), .integer(Int64(e.vector.count)), .blob(blob)])
            }
            try db.query("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         [.text(Self.countKey(model)), .text(String(before + added.count))])
        }
    }

    static func countKey(_ model: String) -> String { "embedding_count:" + model }

    /// Number of cached vectors for `model`: the count `storeEmbeddings` keeps in `meta`. A state written
    /// before it kept one is counted once (COUNT(*) reads every leaf of the cache, ~0.1 s per 80k
    /// vectors) and the count is kept from then on (when the database is writable).
    public func cachedEmbeddingCount(model: String) throws -> Int {
        if let kept = try db.query("SELECT value FROM meta WHERE key = ?", [.text(Self.countKey(model))]).first?.first?.string,
           let n = Int(kept) { return n }
        let n = try db.query("SELECT COUNT(*) FROM embeddings WHERE model = ?", [.text(model)]).first?.first?.int ?? 0
        _ = try? db.query("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", [.text(Self.countKey(model)), .text(String(n))])
        return n
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

    /// Every document's assignment, made row by row when it is written: a full run over 10M documents
    /// never holds 10M ids, hashes and snippets at once (issue #27).
    public struct AssignmentRows: RandomAccessCollection, Sendable {
        public let count: Int
        private let make: @Sendable (Int) -> Assignment
        /// `count` rows, row i being `make(i)` (called once per write of the row).
        public init(count: Int, _ make: @escaping @Sendable (Int) -> Assignment) { self.count = count; self.make = make }
        /// Rows held in memory.
        public init(_ all: [Assignment]) { self.init(count: all.count) { all[$0] } }
        public var startIndex: Int { 0 }
        public var endIndex: Int { count }
        public subscript(i: Int) -> Assignment { make(i) }
    }

    /// What a run changes in the document table.
    public enum AssignmentChange: Sendable {
        /// Replace every recorded document (a full run).
        case replaceAll(AssignmentRows)
        /// Upsert these and delete those ids (an incremental run): O(changed) writes.
        case delta(upsert: [Assignment], delete: [String])
    }

    /// Records a finished run in one transaction: its manifest, the document assignments, and the
    /// `current` blobs (topics document, fitted model) that the next run starts from. A crash before
    /// the commit leaves the previous run's state as it was.
    public func recordRun(id: String, manifest: Data, assignments: AssignmentChange, current: [String: Data] = [:],
                          usage: [LLMUsage] = []) throws {
        try db.transaction {
            try db.query("INSERT INTO runs (id, finished, manifest) VALUES (?, ?, ?)",
                         [.text(id), .text(ISO8601DateFormatter().string(from: Date())), .text(String(decoding: manifest, as: UTF8.self))])
            let stmt = try db.prepare("INSERT OR REPLACE INTO documents (id, content_sha256, topic_id, score, run, snippet) VALUES (?, ?, ?, ?, ?, ?)")
            let rows: AssignmentRows
            switch assignments {
            case .replaceAll(let all):
                try db.execute("DELETE FROM documents")
                rows = all
            case .delta(let upsert, let delete):
                let del = try db.prepare("DELETE FROM documents WHERE id = ?")
                for d in delete { try del.run([.text(d)]) }
                rows = AssignmentRows(upsert)
            }
            for a in rows {
                try stmt.run([.text(a.id), .text(a.hash), .integer(Int64(a.topic)), .real(a.score), .text(id), .text(a.snippet)])
            }
            let put = try db.prepare("INSERT OR REPLACE INTO current (key, value) VALUES (?, ?)")
            for (k, v) in current { try put.run([.text(k), .blob(v)]) }
            let use = try db.prepare("INSERT INTO llm_usage VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for u in usage {
                try use.run([.text(id), .text(u.model), .integer(Int64(u.prompts)), .integer(Int64(u.calls)),
                             .integer(Int64(u.promptTokens)), .integer(Int64(u.completionTokens)),
                             .integer(Int64(u.answeredPrompts)), .integer(Int64(u.firstPromptTokens)), .integer(Int64(u.localTokens))])
            }
        }
    }

    /// A blob stored by the last committed run under `key` (nil before the first run).
    public func current(_ key: String) throws -> Data? {
        try db.query("SELECT value FROM current WHERE key = ?", [.text(key)]).first?.first?.data
    }

    /// Replaces one `current` blob outside a run (e.g. `strata eval` adding figures to the topics document).
    public func setCurrent(_ key: String, _ value: Data) throws {
        try db.query("INSERT OR REPLACE INTO current (key, value) VALUES (?, ?)", [.text(key), .blob(value)])
    }

    /// A recorded document: its text's digest key, topic (−1: no topic yet) and score. 32 bytes, so
    /// the ids of 10M recorded documents are what a nightly run holds, not their hashes (issue #27).
    public struct RecordedDocument: Sendable, Equatable {
        /// ``DigestKey`` of the recorded content hash.
        public let digest: DigestKey
        public let topic: Int
        public let score: Double
        /// `hash`: the recorded lower-case hex SHA-256 (anything else never matches a text).
        public init(hash: String, topic: Int, score: Double) {
            digest = DigestKey(hex: hash) ?? SHA256.digest(Array("not a content hash: \(hash)".utf8)).withUnsafeBytes { DigestKey(bytes: $0) }
            self.topic = topic; self.score = score
        }
        /// Whether `d` has the recorded text.
        public func sameText(as d: Document) -> Bool { digest == d.digestKey }
    }

    /// Every recorded document by id. O(documents).
    public func recordedDocuments() throws -> [String: RecordedDocument] {
        let stmt = try db.prepare("SELECT id, content_sha256, topic_id, score FROM documents")
        var out: [String: RecordedDocument] = [:]
        while let row = try stmt.step() {
            guard let id = row[0].string, let h = row[1].string, let t = row[2].int else { continue }
            out[id] = RecordedDocument(hash: h, topic: t, score: row[3].double ?? 0)
        }
        return out
    }

    /// LLM spend of one run and model, kept to calibrate `strata estimate`.
    public struct LLMUsage: Sendable, Equatable {
        public var model: String
        /// Prompts sent (not served from the cache).
        public var prompts = 0
        /// Requests made, retries and format probes included.
        public var calls = 0
        public var promptTokens = 0
        public var completionTokens = 0
        /// Prompts whose first request was answered; the server-counted prompt tokens of those first
        /// requests; and the same prompts counted by the local WordPiece tokenizer.
        public var answeredPrompts = 0
        public var firstPromptTokens = 0
        public var localTokens = 0
        public init(model: String) { self.model = model }
    }

    /// Summed usage of `model` over its most recent `runs` runs (nil when there is none).
    public func llmUsage(model: String, runs: Int = 5) throws -> LLMUsage? {
        let rows = try db.query("""
            SELECT SUM(prompts), SUM(calls), SUM(prompt_tokens), SUM(completion_tokens), SUM(answered_prompts),
                   SUM(first_prompt_tokens), SUM(local_tokens), COUNT(*)
            FROM (SELECT * FROM llm_usage WHERE model = ? ORDER BY rowid DESC LIMIT ?)
            """, [.text(model), .integer(Int64(runs))])
        guard let r = rows.first, (r[7].int ?? 0) > 0 else { return nil }
        var u = LLMUsage(model: model)
        u.prompts = r[0].int ?? 0; u.calls = r[1].int ?? 0; u.promptTokens = r[2].int ?? 0
        u.completionTokens = r[3].int ?? 0; u.answeredPrompts = r[4].int ?? 0
        u.firstPromptTokens = r[5].int ?? 0; u.localTokens = r[6].int ?? 0
        return u
    }

    /// Every recorded document with its topic, snippet and cached vector under `model`, in id order.
    /// Documents whose vector is not cached are left out.
    public func searchableDocuments(model: String) throws -> (ids: [String], topics: [Int], snippets: [String], dimension: Int, vectors: [Float]) {
        let stmt = try db.prepare("""
            SELECT d.id, d.topic_id, d.snippet, e.dim, e.vector FROM documents d
            JOIN embeddings e ON e.model = ? AND e.text_sha256 = d.content_sha256 ORDER BY d.id
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

    /// `run.source` of the last recorded run (the source that owns this state); nil before any run.
    public func lastRunSource() throws -> String? {
        guard let text = try db.query("SELECT manifest FROM runs ORDER BY finished DESC, rowid DESC LIMIT 1").first?.first?.string,
              let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return object["source"] as? String
    }

    /// Ids of every committed run.
    public func runIDs() throws -> [String] {
        try db.query("SELECT id FROM runs").compactMap { $0.first?.string }
    }

    /// Number of recorded runs.
    public func runCount() throws -> Int {
        try db.query("SELECT COUNT(*) FROM runs").first?.first?.int ?? 0
    }
}
