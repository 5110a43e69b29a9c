import Foundation
import Testing
@testable import StrataStore

/// Path of a file in Tests/StrataStoreTests/Malformed.
func malformed(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Malformed/\(name)").path
}

func tempDir() -> String {
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("strata-test-\(UUID().uuidString)").path
    try! FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
}

@Suite("document readers")
struct ReaderTests {
    @Test("malformed inputs: errors name file and line", arguments: [
        ("bad-json.jsonl", 3, "malformed JSON"),
        ("missing-id.jsonl", 2, "missing id field"),
        ("duplicate-id.jsonl", 4, "duplicate id \"a\""),
        ("empty-text.jsonl", 2, "empty text"),
        ("invalid-utf8.jsonl", 2, "invalid UTF-8"),
        ("not-object.jsonl", 2, "expected a JSON object"),
        ("non-string-text.jsonl", 2, "non-string text field"),
        ("unterminated.csv", 3, "unterminated quoted field"),
        ("wrong-field-count.csv", 3, "expected 3 fields, found 2"),
        ("no-text-column.csv", 1, "no \"text\" column"),
    ])
    func malformedInput(file: String, line: Int, message: String) throws {
        let path = malformed(file)
        #expect {
            try SourceReader.read(try SourceLocation.parse(path))
        } throws: { error in
            guard let e = error as? SourceError else { return false }
            return e.file == path && e.line == line && e.description.contains(message)
                && e.description.hasPrefix("\(path):\(line): ")
        }
    }

    @Test("--skip-invalid counts and skips bad records")
    func skipInvalid() throws {
        let r = try SourceReader.read(.jsonl(malformed("bad-json.jsonl")), options: ReadOptions(skipInvalid: true))
        #expect(r.documents.map(\.id) == ["a", "b", "d"])
        #expect(r.skipped == 1)
        #expect(r.warnings.first?.contains(":3:") == true)
        let d = try SourceReader.read(.jsonl(malformed("duplicate-id.jsonl")), options: ReadOptions(skipInvalid: true))
        #expect(d.documents.map(\.text) == ["first", "second"])
    }

    @Test("JSONL keeps other fields as metadata; integer ids become strings; custom field names")
    func jsonl() throws {
        let dir = tempDir()
        let path = dir + "/docs.jsonl"
        try #"""
        {"doc": 7, "body": "hello world", "lang": "en", "score": 1.5, "ok": true}
        {"doc": "x-1", "body": "second", "tags": ["a", "b"]}
        """#.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try SourceReader.read(.jsonl(path), options: ReadOptions(idField: "doc", textField: "body"))
        #expect(r.documents.map(\.id) == ["7", "x-1"])
        #expect(r.documents[0].metadata["lang"] == .string("en"))
        #expect(r.documents[0].metadata["score"] == .number(1.5))
        #expect(r.documents[0].metadata["ok"] == .bool(true))
        #expect(r.documents[1].metadata["tags"] == .array([.string("a"), .string("b")]))
        #expect(r.documents[0].contentHash == Document.sha256Hex("hello world"))
        #expect(Document.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test("CSV: RFC 4180 quoting, embedded newlines and quotes, CRLF")
    func csv() throws {
        let dir = tempDir()
        let path = dir + "/docs.csv"
        try "id,text,cat\r\n1,\"a, b\",x\r\n2,\"line one\nline two\",y\r\n3,\"say \"\"hi\"\"\",z\r\n4,plain,\r\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let r = try SourceReader.read(.csv(path))
        #expect(r.documents.map(\.text) == ["a, b", "line one\nline two", "say \"hi\"", "plain"])
        #expect(r.documents[1].metadata["cat"] == .string("y"))
        #expect(r.documents[3].metadata["cat"] == .string(""))
        #expect(r.documents[2].location == "\(path):5")  // the record after a two-line field starts on line 5
    }

    @Test("directory: one document per .txt/.md, id = relative path, sorted")
    func directory() throws {
        let dir = tempDir()
        try FileManager.default.createDirectory(atPath: dir + "/sub", withIntermediateDirectories: true)
        try "beta".write(toFile: dir + "/b.txt", atomically: true, encoding: .utf8)
        try "alpha".write(toFile: dir + "/sub/a.md", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let r = try SourceReader.read(try SourceLocation.parse(dir))
        #expect(r.documents.map(\.id) == ["b.txt", "sub/a.md"])
    }

    @Test("SQLite table source, with hostile table names quoted, not executed")
    func sqlite() throws {
        let dir = tempDir()
        let path = dir + "/docs.db"
        let db = try SQLiteDatabase(path: path)
        try db.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, text TEXT, category TEXT); CREATE TABLE x (a);")
        try db.query("INSERT INTO docs VALUES (1, 'one', 'c1'), (2, 'two', 'c2')")
        let r = try SourceReader.read(try SourceLocation.parse("sqlite:\(path)?table=docs"))
        #expect(r.documents.map(\.id) == ["1", "2"])
        #expect(r.documents[1].metadata["category"] == .string("c2"))
        #expect(throws: SourceError.self) {
            try SourceReader.read(.sqlite(path: path, table: "docs\"; DROP TABLE x; --"))
        }
        #expect(try db.query("SELECT COUNT(*) FROM x").first?.first?.int == 0)  // x still exists
        #expect(throws: SourceError.self) { try SourceLocation.parse("sqlite:\(path)") }
    }

    @Test func postgresPasswordIsRedacted() throws {
        let loc = try SourceLocation.parse("postgres://me:hunter2@127.0.0.1:5432/db?table=docs")
        #expect(!loc.description.contains("hunter2"))
        #expect(loc == .postgres(url: "postgres://me:hunter2@127.0.0.1:5432/db?table=docs", table: "docs"))
    }
}

@Suite("state database")
struct StateDatabaseTests {
    @Test("embedding cache round-trips vectors and survives reopening")
    func embeddingCache() throws {
        let dir = tempDir()
        do {
            let state = try StateDatabase(directory: dir)
            try state.storeEmbeddings(model: "m1", [(hash: "h1", vector: [1, 2, 3]), (hash: "h2", vector: [4, 5, 6])])
        }
        let state = try StateDatabase(directory: dir)
        // Rows in the order asked, a repeated hash filled twice, an unknown one left zero.
        let got = try state.cachedEmbeddingRows(model: "m1", hashes: ["h2", "h3", "h1", "h2"])
        #expect(got.dimension == 3 && got.mismatched == 0)
        #expect(got.found == [true, false, true, true])
        #expect(got.vectors == [4, 5, 6, 0, 0, 0, 1, 2, 3, 4, 5, 6])
        let other = try state.cachedEmbeddingRows(model: "other", hashes: ["h1"])
        #expect(other.found == [false] && other.dimension == 0)
        #expect(try state.cachedHashes(model: "m1", hashes: ["h3", "h1", "h1"]) == ["h1"])
        #expect(try state.cachedEmbeddingCount(model: "m1") == 2)
        // A vector of another length under the same model is reported, not mixed in.
        try state.storeEmbeddings(model: "m1", [(hash: "h4", vector: [7, 8])])
        let mixed = try state.cachedEmbeddingRows(model: "m1", hashes: ["h1", "h4"])
        #expect(mixed.mismatched == 1 && mixed.found == [true, false])
        // Few hashes against many cached vectors go through index probes instead of a scan: same answer.
        try state.storeEmbeddings(model: "m1", (10..<40).map { (hash: "p\($0)", vector: [Float($0), 0, 1]) })
        #expect(try state.cachedEmbeddingCount(model: "m1") == 33)
        let probed = try state.cachedEmbeddingRows(model: "m1", hashes: ["p12", "nope", "h2", "p12"])
        #expect(probed.found == [true, false, true, true])
        #expect(probed.vectors == [12, 0, 1, 0, 0, 0, 4, 5, 6, 12, 0, 1])
        try state.storeEmbeddings(model: "m1", [(hash: "p10", vector: [0, 0, 1])])  // replaced, not added
        #expect(try state.cachedEmbeddingCount(model: "m1") == 33)
    }

    @Test("a failed transaction leaves the database as it was")
    func rollback() throws {
        let state = try StateDatabase(directory: tempDir())
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try state.db.transaction {
                try state.db.query("INSERT INTO meta VALUES ('k', 'v')")
                throw Boom()
            }
        }
        #expect(try state.db.query("SELECT COUNT(*) FROM meta WHERE key = 'k'").first?.first?.int == 0)
    }
}

@Suite("state lock")
struct StateLockTests {
    @Test("a second holder is refused while the first lives; released locks can be retaken")
    func exclusive() throws {
        let dir = tempDir()
        let first = try StateLock(directory: dir)
        #expect(throws: StateLock.Held.self) { try StateLock(directory: dir) }
        first.release()
        let second = try StateLock(directory: dir)
        #expect(second.tookOverFrom == nil)
    }

    @Test("a stale lock (dead PID on this host) is taken over and reported")
    func stale() throws {
        let dir = tempDir()
        // A PID that does not exist: beyond the kernel's pid_max.
        let stale = "pid 2147483000 on \(ProcessInfo.processInfo.hostName), since 2026-01-01T00:00:00Z"
        try stale.write(toFile: dir + "/lock", atomically: true, encoding: .utf8)
        let lock = try StateLock(directory: dir)
        #expect(lock.tookOverFrom == stale)
        // A live owner (this process) is respected.
        lock.release()
        try "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), since now".write(toFile: dir + "/lock", atomically: true, encoding: .utf8)
        #expect(throws: StateLock.Held.self) { try StateLock(directory: dir) }
    }
}

@Suite("state migration")
struct StateMigrationTests {
    @Test("a documents table from an earlier version gains the snippet column")
    func snippetColumn() throws {
        let dir = tempDir()
        let db = try SQLiteDatabase(path: dir + "/state.db")
        try db.execute("CREATE TABLE documents (id TEXT PRIMARY KEY, content_sha256 TEXT NOT NULL, topic_id INTEGER NOT NULL, score REAL NOT NULL, run TEXT NOT NULL) WITHOUT ROWID")
        let state = try StateDatabase(directory: dir)
        try state.recordRun(id: "r1", manifest: Data("{}".utf8),
                            assignments: .replaceAll(StateDatabase.AssignmentRows([.init(id: "a", hash: "h", topic: 0, score: 0.5, snippet: "text")])))
        #expect(try state.runCount() == 1)
        #expect(try state.db.query("SELECT snippet FROM documents").first?.first?.string == "text")
    }
}

@Suite("JSON text writer")
struct JSONTextTests {
    @Test("string literals round-trip through a JSON parser: quotes, backslashes, control characters, CRLF, non-ASCII")
    func stringsRoundTrip() throws {
        let samples = ["plain", "", "say \"hi\"\\now", "line1\nline2\r\nline3\ttab", "bell\u{7} nul\u{0} esc\u{1B}",
                       "café e\u{301} 😀 “quoted” \r\n\"", "\\", "\"", "tail\n", "\u{1F}x\u{1F}"]
        for s in samples {
            var out = ""
            JSONText.appendString(s, to: &out)
            let parsed = try JSONSerialization.jsonObject(with: Data("[\(out)]".utf8)) as! [String]
            #expect(parsed == [s], "\(out)")
            #expect(!out.utf8.dropFirst().dropLast().contains(where: { $0 < 0x20 }), "raw control character in \(out)")
        }
    }
}
