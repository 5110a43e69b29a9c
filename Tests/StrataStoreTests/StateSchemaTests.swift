import Foundation
import Testing
@testable import StrataStore

/// The state database's embedding cache layout (schema 2) and the move from schema 1.
@Suite("state database: the embedding cache's layout and its migration")
struct StateSchemaTests {
    /// A state as Strata wrote it before schema 2: vectors in `embedding_cache` (WITHOUT ROWID).
    static func writeSchema1(_ dir: String, rows: [(model: String, hash: String, vector: [Float])]) throws {
        let db = try SQLiteDatabase(path: (dir as NSString).appendingPathComponent("state.db"))
        try db.execute("""
            CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE embedding_cache (model TEXT NOT NULL, text_sha256 TEXT NOT NULL, dim INTEGER NOT NULL,
                vector BLOB NOT NULL, PRIMARY KEY (model, text_sha256)) WITHOUT ROWID;
            INSERT INTO meta (key, value) VALUES ('schema_version', '1');
            """)
        for r in rows {
            try db.query("INSERT INTO embedding_cache VALUES (?, ?, ?, ?)",
                         [.text(r.model), .text(r.hash), .integer(Int64(r.vector.count)), .blob(r.vector.withUnsafeBytes { Data($0) })])
        }
    }

    @Test("a schema-1 state's vectors move to the rowid table once, readable by every reader")
    func schema1Migrates() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeSchema1(dir, rows: [("m1", "h1", [1, 2, 3]), ("m1", "h2", [4, 5, 6]), ("m2", "h1", [7, 8])])
        let state = try StateDatabase(directory: dir)
        let tables = try state.db.query("SELECT name FROM sqlite_master WHERE type = 'table'").compactMap { $0.first?.string }
        #expect(!tables.contains("embedding_cache") && tables.contains("embeddings"))
        #expect(try state.db.query("SELECT value FROM meta WHERE key = 'schema_version'").first?.first?.string == "2")
        let m1 = try state.cachedEmbeddingRows(model: "m1", hashes: ["h2", "h1", "h3"])  // ≥ ¼ of the model: the scan
        #expect(m1.found == [true, true, false] && m1.dimension == 3)
        #expect(Array(m1.vectors.prefix(6)) == [4, 5, 6, 1, 2, 3])
        #expect(try state.cachedHashes(model: "m2", hashes: ["h1", "h2"]) == ["h1"])
        #expect(try state.cachedEmbeddingCount(model: "m1") == 2)
        // Opening again changes nothing; storing replaces by key, never duplicates.
        let again = try StateDatabase(directory: dir)
        try again.storeEmbeddings(model: "m1", [(hash: "h1", vector: [9, 9, 9]), (hash: "h4", vector: [1, 1, 1])])
        #expect(try again.cachedEmbeddingCount(model: "m1") == 3)
        #expect(try again.db.query("SELECT COUNT(*) FROM embeddings WHERE model = 'm1'").first?.first?.int == 3)
        #expect(Array(try again.cachedEmbeddingRows(model: "m1", hashes: ["h1"]).vectors) == [9, 9, 9])
    }

    @Test("a new state has no WITHOUT ROWID vector table and a unique key index")
    func freshLayout() throws {
        let dir = tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = try StateDatabase(directory: dir)
        let sql = try state.db.query("SELECT sql FROM sqlite_master WHERE name = 'embeddings'").first?.first?.string ?? ""
        #expect(sql.contains("CREATE TABLE") && !sql.uppercased().contains("WITHOUT ROWID"))
        let index = try state.db.query("SELECT sql FROM sqlite_master WHERE name = 'embeddings_key'").first?.first?.string ?? ""
        #expect(index.contains("UNIQUE INDEX"))
    }
}
