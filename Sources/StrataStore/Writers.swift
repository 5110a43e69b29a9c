import Foundation

/// The columns Strata adds to every document.
public struct TopicColumns: Sendable, Equatable, Codable {
    /// Stable topic id; -1 means "no topic yet".
    public var topicID: Int
    public var topicLabel: String
    /// Cosine similarity to the topic centroid.
    public var topicScore: Double
    public var topicParentID: Int?
    /// Id of the run that assigned it.
    public var topicRun: String

    public init(topicID: Int, topicLabel: String, topicScore: Double, topicParentID: Int?, topicRun: String) {
        self.topicID = topicID
        self.topicLabel = topicLabel
        self.topicScore = topicScore
        self.topicParentID = topicParentID
        self.topicRun = topicRun
    }

    public static let columnNames = ["topic_id", "topic_label", "topic_score", "topic_parent_id", "topic_run"]

    var metadata: [(String, MetadataValue)] {
        [("topic_id", .integer(Int64(topicID))), ("topic_label", .string(topicLabel)),
         ("topic_score", .number((topicScore * 1e6).rounded() / 1e6)),
         ("topic_parent_id", topicParentID.map { .integer(Int64($0)) } ?? .null), ("topic_run", .string(topicRun))]
    }
}

/// The topic columns of each document, by its position in the read, made when they are written (a
/// 10M-document write holds no id-keyed copy of them).
public struct ColumnsByDocument: Sendable {
    public let count: Int
    private let make: @Sendable (Int) -> TopicColumns
    /// `count` documents' columns, document i's being `make(i)`.
    public init(count: Int, _ make: @escaping @Sendable (Int) -> TopicColumns) { self.count = count; self.make = make }
    public subscript(i: Int) -> TopicColumns { make(i) }
}

/// A row of the `strata_topics` table written beside SQL sources.
public struct TopicRow: Sendable, Equatable {
    /// A topic (documents carry its id in `topic_id`) or a parent in the hierarchy (`topic_parent_id`).
    /// Both share one id space, so either column joins `strata_topics.id`.
    public enum Level: String, Sendable { case topic, parent }
    public var id: Int
    public var label: String
    public var description: String
    public var keywords: [String]
    public var size: Int
    public var parentID: Int?
    public var level: Level
    public init(id: Int, label: String, description: String, keywords: [String], size: Int, parentID: Int?, level: Level = .topic) {
        self.id = id; self.label = label; self.description = description; self.keywords = keywords
        self.size = size; self.parentID = parentID; self.level = level
    }
}

/// Writes file contents atomically: a temporary file in the same folder, fsync'd, then renamed over
/// the destination. A crash at any moment leaves either the old file or the new one, never a mix.
public enum AtomicFile {
    public static func write(_ path: String, _ body: (FileHandle) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        removeStaleTemporaries(of: path)
        let tmp = dir + "/" + temporaryPrefix(url.lastPathComponent) + "\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            throw SourceError(file: path, line: nil, "cannot create a temporary file in \(dir) (is it writable?)")
        }
        do {
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp))
            try body(h)
            try h.synchronize()
            try h.close()
            if rename(tmp, path) != 0 {
                throw SourceError(file: path, line: nil, "cannot replace the file: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            if let e = error as? SourceError { throw e }
            throw SourceError(file: path, line: nil, "cannot write (\(describe(error))); the previous file is unchanged — "
                              + "free space or fix permissions in \(dir) and rerun")
        }
    }

    /// `.NAME.tmp-` — what every temporary file of `NAME` starts with (then the writer's PID).
    static func temporaryPrefix(_ name: String) -> String { ".\(name).tmp-" }

    /// Removes temporary files of `path` left by writers that were killed (their PID is gone). O(files
    /// in the folder).
    public static func removeStaleTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path, prefix = temporaryPrefix(url.lastPathComponent)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0.isNumber }), pid != getpid(),
                  kill(pid, 0) != 0 && errno == ESRCH else { continue }
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }

    /// A file-system error in words (Foundation's own text names an error domain and a code).
    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        if ns.domain == NSCocoaErrorDomain && ns.code == NSFileWriteOutOfSpaceError { return "no space left on the device" }
        if let posix = ns.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }

    public static func write(_ path: String, data: Data) throws {
        try write(path) { try $0.write(contentsOf: data) }
    }
}

/// Buffered writes to a FileHandle.
struct BufferedWriter {
    let handle: FileHandle
    var buffer = Data()
    init(_ handle: FileHandle) { self.handle = handle; buffer.reserveCapacity(1 << 20) }
    mutating func write(_ s: String) throws {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }
    mutating func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Writes the topic columns where the documents live.
public enum TopicWriter {
    /// The output path for file sources: `NAME.topics.jsonl` / `NAME.topics.csv` beside the input
    /// (for a folder, `FOLDER.topics.jsonl` beside it). Nil for SQL sources (written in place).
    public static func outputPath(for location: SourceLocation) -> String? {
        func stem(_ p: String) -> String {
            let u = URL(fileURLWithPath: p)
            return u.deletingPathExtension().path
        }
        switch location {
        case .jsonl(let p): return stem(p) + ".topics.jsonl"
        case .csv(let p): return stem(p) + ".topics.csv"
        case .directory(let p):
            var d = p
            while d.hasSuffix("/") && d.count > 1 { d.removeLast() }
            return d + ".topics.jsonl"
        case .sqlite, .postgres: return nil
        }
    }

    /// Writes `columns` (by document position) for `documents` to the place that fits the source.
    /// File sources get a new file (the input is never modified); SQLite gets new columns filled in
    /// one transaction, an index on `topic_id`, and a `strata_topics` table. A SQLite row is rewritten
    /// only when its topic columns change or its `topic_run` is not one of `committedRuns` (a run killed
    /// after writing the source but before committing its state leaves such stamps; they never survive
    /// the next run).
    /// - Returns: where the columns went.
    @discardableResult
    public static func write(location: SourceLocation, options: ReadOptions, documents: [Document],
                             columns: ColumnsByDocument, topics: [TopicRow], committedRuns: [String] = []) throws -> String {
        precondition(columns.count == documents.count, "TopicWriter.write: one set of columns per document")
        switch location {
        case .jsonl, .directory:
            let out = outputPath(for: location)!
            try AtomicFile.write(out) { h in
                var w = BufferedWriter(h)
                for (i, d) in documents.enumerated() {
                    var object = d.metadata
                    object[options.idField] = .string(d.id)
                    if case .jsonl = location { object[options.textField] = .string(d.text) }
                    for (k, v) in columns[i].metadata { object[k] = v }
                    var line = ""
                    JSONText.append(.object(object), to: &line)
                    line += "\n"
                    try w.write(line)
                }
                try w.flush()
            }
            return out
        case .csv(let path):
            let out = outputPath(for: location)!
            var header: [String] = []
            try CSVReader.records(path: path) { fields, _ in if header.isEmpty { header = fields } }
            let extra = TopicColumns.columnNames.filter { !header.contains($0) }
            try AtomicFile.write(out) { h in
                var w = BufferedWriter(h)
                try w.write((header + extra).map(csvQuote).joined(separator: ",") + "\r\n")
                var first = true
                var next = 0   // the documents are the file's valid rows, in file order: walk both in step
                try CSVReader.records(path: path) { fields, _ in
                    if first { first = false; return }
                    guard next < documents.count, fields.count == header.count, let idIndex = header.firstIndex(of: options.idField),
                          fields[idIndex] == documents[next].id else { return }   // a row the read skipped
                    var row = Dictionary(uniqueKeysWithValues: zip(header, fields))
                    for (k, v) in columns[next].metadata { row[k] = v.text }
                    next += 1
                    try w.write((header + extra).map { csvQuote(row[$0] ?? "") }.joined(separator: ",") + "\r\n")
                }
                try w.flush()
            }
            return out
        case let .sqlite(path, table):
            try writeSQLite(path: path, table: table, idField: options.idField, documents: documents, columns: columns, topics: topics,
                            committedRuns: committedRuns)
            return "sqlite:\(path)?table=\(table)"
        case .postgres:
            throw SourceError(file: location.description, line: nil, "PostgreSQL output is not supported by this build yet")
        }
    }

    static func csvQuote(_ s: String) -> String {
        if s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r") {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    static func writeSQLite(path: String, table: String, idField: String, documents: [Document], columns: ColumnsByDocument,
                            topics: [TopicRow], committedRuns: [String]) throws {
        // The user's database keeps its journal mode (WAL would be a persistent change nobody asked for).
        let db = try SQLiteDatabase(path: path, keepJournalMode: true)
        let source = "sqlite:\(path)?table=\(table)"
        let existing = try SQLiteTableReader.columns(db: db, table: table, source: source)
        let q = SQLIdentifier.quote
        let types = ["topic_id": "INTEGER", "topic_label": "TEXT", "topic_score": "REAL", "topic_parent_id": "INTEGER", "topic_run": "TEXT"]
        // A column of the same name but another type is the user's, not Strata's: refuse to overwrite it.
        for row in try db.query("SELECT name, type FROM pragma_table_info(?)", [.text(table)]) {
            guard let name = row.first?.string, let expected = types[name], let declared = row.dropFirst().first?.string,
                  declared.uppercased() != expected else { continue }
            throw SourceError(file: source, line: nil, "column \"\(name)\" already exists as \(declared.isEmpty ? "untyped" : declared), "
                              + "not \(expected): it is not a Strata topic column; rename it (or write to another table) and rerun — nothing was written")
        }
        try db.transaction {
            for name in TopicColumns.columnNames where !existing.contains(name) {
                try db.execute("ALTER TABLE \(q(table)) ADD COLUMN \(q(name)) \(types[name]!)")
            }
            // Stage the assignments in a keyed temporary table, then update the source table in one
            // pass (one scan of the table, one index probe per row).
            try db.execute("DROP TABLE IF EXISTS temp.strata_assign; CREATE TEMP TABLE strata_assign (id TEXT PRIMARY KEY, topic_id INTEGER, topic_label TEXT, topic_score REAL, topic_parent_id INTEGER, topic_run TEXT)")
            let stage = try db.prepare("INSERT INTO temp.strata_assign VALUES (?, ?, ?, ?, ?, ?)")
            for (i, d) in documents.enumerated() {
                let c = columns[i]
                try stage.run([.text(d.id), .integer(Int64(c.topicID)), .text(c.topicLabel), .real(c.topicScore),
                               c.topicParentID.map { .integer(Int64($0)) } ?? .null, .text(c.topicRun)])
            }
            try db.execute("DROP TABLE IF EXISTS temp.strata_runs; CREATE TEMP TABLE strata_runs (id TEXT PRIMARY KEY)")
            let run = try db.prepare("INSERT OR IGNORE INTO temp.strata_runs VALUES (?)")
            for id in committedRuns { try run.run([.text(id)]) }
            try db.execute("""
                UPDATE \(q(table)) SET topic_id = a.topic_id, topic_label = a.topic_label, topic_score = a.topic_score,
                    topic_parent_id = a.topic_parent_id, topic_run = a.topic_run
                FROM (SELECT \(q(table)).rowid AS rid, s.* FROM \(q(table))
                      LEFT JOIN temp.strata_assign s ON s.id = CAST(\(q(table)).\(q(idField)) AS TEXT)) a
                WHERE \(q(table)).rowid = a.rid
                  AND (\(q(table)).topic_id IS NOT a.topic_id OR \(q(table)).topic_label IS NOT a.topic_label
                       OR \(q(table)).topic_score IS NOT a.topic_score OR \(q(table)).topic_parent_id IS NOT a.topic_parent_id
                       OR coalesce(\(q(table)).topic_run IN (SELECT id FROM temp.strata_runs), 0) = 0)
                """)
            try db.execute("DROP TABLE temp.strata_assign; DROP TABLE temp.strata_runs")
            try db.execute("CREATE INDEX IF NOT EXISTS \(q("idx_\(table)_topic_id")) ON \(q(table)) (topic_id)")
            try db.execute("""
                DROP TABLE IF EXISTS strata_topics;
                CREATE TABLE strata_topics (id INTEGER PRIMARY KEY, label TEXT NOT NULL, description TEXT,
                    keywords TEXT, size INTEGER NOT NULL, parent_id INTEGER, level TEXT NOT NULL DEFAULT 'topic');
                """)
            let insert = try db.prepare("INSERT INTO strata_topics (id, label, description, keywords, size, parent_id, level) VALUES (?, ?, ?, ?, ?, ?, ?)")
            for t in topics {
                try insert.run([.integer(Int64(t.id)), .text(t.label), .text(t.description),
                                .text(t.keywords.joined(separator: ", ")), .integer(Int64(t.size)),
                                t.parentID.map { .integer(Int64($0)) } ?? .null, .text(t.level.rawValue)])
            }
        }
    }
}

/// Compact JSON text for metadata values, keys sorted: the topic-column files are written one line
/// per document, and Foundation's JSONSerialization with sorted keys (locale-aware key comparison)
/// cost ~5 s per 100,000 lines — most of an incremental run.
enum JSONText {
    static func append(_ v: MetadataValue, to out: inout String) {
        switch v {
        case .string(let s): appendString(s, to: &out)
        case .integer(let i): out += String(i)
        case .number(let x): out += x.isFinite ? (x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)") : "null"
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        case .array(let a):
            out += "["
            for (i, e) in a.enumerated() { if i > 0 { out += "," }; append(e, to: &out) }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                appendString(k, to: &out)
                out += ":"
                append(o[k]!, to: &out)
            }
            out += "}"
        }
    }

    /// Appends `s` as a JSON string literal. Copies runs of bytes that need no escaping in one append
    /// (escapes are ASCII, so run boundaries are scalar boundaries); per-scalar appends cost ~5% of a run.
    static func appendString(_ s: String, to out: inout String) {
        out += "\""
        let utf8 = s.utf8
        var runStart = utf8.startIndex
        var i = runStart
        while i != utf8.endIndex {
            let b = utf8[i]
            if b < 0x20 || b == 0x22 || b == 0x5C {
                if runStart != i { out += s[runStart..<i] }
                switch b {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                default:
                    let hex = String(b, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
                runStart = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        if runStart != utf8.endIndex { out += s[runStart..<utf8.endIndex] }
        out += "\""
    }
}
