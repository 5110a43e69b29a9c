import Foundation

/// A malformed or unreadable record, with the file and line (or row) it came from.
public struct SourceError: Error, Sendable, CustomStringConvertible, Equatable {
    /// File path, table, or URL of the source.
    public let file: String
    /// 1-based line (JSONL, CSV record start) or row number; nil when not about a record.
    public let line: Int?
    public let message: String

    public init(file: String, line: Int?, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(message)"
    }
}

/// Where documents live, parsed from the SOURCE argument.
public enum SourceLocation: Sendable, Equatable, CustomStringConvertible {
    case jsonl(String)
    case csv(String)
    /// One document per `.txt`/`.md` file below the folder; id = relative path.
    case directory(String)
    case sqlite(path: String, table: String)
    case postgres(url: String, table: String)

    /// Parses `docs.jsonl`, `docs.csv`, `dir/`, `sqlite:PATH?table=T` or `postgres://…?table=T`.
    public static func parse(_ s: String) throws -> SourceLocation {
        func table(_ query: Substring?, _ kind: String) throws -> String {
            let items = (query ?? "").split(separator: "&")
            guard let t = items.first(where: { $0.hasPrefix("table=") })?.dropFirst(6), !t.isEmpty else {
                throw SourceError(file: s, line: nil, "\(kind) sources need ?table=NAME, e.g. \(kind):docs.db?table=docs")
            }
            return String(t).removingPercentEncoding ?? String(t)
        }
        if s.hasPrefix("sqlite:") {
            let rest = s.dropFirst(7)
            let parts = rest.split(separator: "?", maxSplits: 1)
            guard let path = parts.first, !path.isEmpty else { throw SourceError(file: s, line: nil, "missing database path") }
            return .sqlite(path: String(path), table: try table(parts.count > 1 ? parts[1] : nil, "sqlite"))
        }
        if s.hasPrefix("postgres://") || s.hasPrefix("postgresql://") {
            let parts = s.split(separator: "?", maxSplits: 1)
            return .postgres(url: s, table: try table(parts.count > 1 ? parts[1] : nil, "postgres"))
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: s, isDirectory: &isDir), isDir.boolValue { return .directory(s) }
        let lower = s.lowercased()
        if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") { return .jsonl(s) }
        if lower.hasSuffix(".csv") { return .csv(s) }
        if !FileManager.default.fileExists(atPath: s) {
            throw SourceError(file: s, line: nil, "no such file or folder")
        }
        throw SourceError(file: s, line: nil, "unknown source type: use a .jsonl, .csv, a folder, sqlite:PATH?table=T or postgres://…?table=T")
    }

    public var description: String {
        switch self {
        case .jsonl(let p), .csv(let p), .directory(let p): return p
        case let .sqlite(path, table): return "sqlite:\(path)?table=\(table)"
        case let .postgres(url, _): return Self.redacted(url)
        }
    }

    /// What makes two runs "the same source" for a state directory: the file or folder name (not its
    /// path, so a moved folder keeps its state), SQLite file name and table, or PostgreSQL host, port,
    /// database and table (never the user or password).
    public var identity: String { Self.identity(of: description) }

    /// ``identity`` of a source as a run manifest records it (`run.source`); needs no file to exist.
    public static func identity(of description: String) -> String {
        func name(_ path: Substring) -> String {
            let trimmed = path.hasSuffix("/") ? path.dropLast() : path
            return String(trimmed.split(separator: "/").last ?? trimmed)
        }
        if description.hasPrefix("sqlite:") {
            let rest = description.dropFirst("sqlite:".count)
            let parts = rest.split(separator: "?", maxSplits: 1)
            return "sqlite:" + name(parts[0]) + (parts.count > 1 ? "?" + parts[1] : "")
        }
        if description.hasPrefix("postgres://") || description.hasPrefix("postgresql://"),
           let url = URLComponents(string: description) {
            let table = url.queryItems?.first { $0.name == "table" }?.value ?? ""
            return "postgres://\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")\(url.path)?table=\(table)"
        }
        return name(Substring(description))
    }

    /// The URL with any password replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        let userinfo = url[scheme.upperBound..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}

/// How records become documents.
public struct ReadOptions: Sendable {
    public var idField = "id"
    public var textField = "text"
    /// Skip and count invalid records instead of failing on the first one.
    public var skipInvalid = false
    /// Where the read keeps texts and metadata: a nameless temporary file in this (existing) directory;
    /// nil keeps them in memory. A run passes its state directory, so a 10M-document corpus does not
    /// hold its texts in memory.
    public var spillDirectory: String?
    public init(idField: String = "id", textField: String = "text", skipInvalid: Bool = false) {
        self.idField = idField
        self.textField = textField
        self.skipInvalid = skipInvalid
    }
}

/// Everything read from a source.
public struct ReadResult: Sendable {
    public var documents: [Document]
    /// Records skipped under `skipInvalid`.
    public var skipped: Int
    /// The first few skip reasons (file:line: message).
    public var warnings: [String]
}

/// Reads documents from any ``SourceLocation`` except PostgreSQL (handled by its own module).
public enum SourceReader {
    /// Reads and validates every record. Missing or duplicate ids, missing/empty/non-string texts,
    /// invalid UTF-8 and malformed records throw ``SourceError`` naming file and line — or, with
    /// `skipInvalid`, are counted and skipped. Reads in a streaming fashion (bounded buffers); the
    /// returned documents hold the texts. O(source size).
    public static func read(_ location: SourceLocation, options: ReadOptions = ReadOptions()) throws -> ReadResult {
        var collector = try Collector(options: options)
        switch location {
        case .jsonl(let path): try JSONLReader.read(path: path, options: options) { try collector.add($0) }
        case .csv(let path): try CSVReader.read(path: path, options: options) { try collector.add($0) }
        case .directory(let path): try DirectoryReader.read(path: path) { try collector.add($0) }
        case let .sqlite(path, table):
            try SQLiteTableReader.read(path: path, table: table, options: options) { try collector.add($0) }
        case .postgres:
            throw SourceError(file: location.description, line: nil, "PostgreSQL sources are not supported by this build yet")
        }
        return try collector.result
    }

    /// A record from a row of named fields (JSON types): id and text fields checked as for JSONL.
    public static func record(_ fields: [String: Any], source: String, row: Int, options: ReadOptions) -> Record {
        JSONLReader.makeDocument(fields.mapValues(MetadataValue.init(json:)), file: source, line: row, options: options)
    }

    /// A record as a reader produced it: either a document or what was wrong with it.
    public enum Record {
        case document(Document)
        case invalid(SourceError)
    }

    /// Validates records one by one (duplicate ids, empty texts, skip-invalid counting) — shared by
    /// every reader, including the PostgreSQL one in its own module.
    public struct Collector {
        let options: ReadOptions
        let rows: DocumentRows
        var documents: [Document] = []
        /// Row of each id by its hash; ids whose hash another id took first are in `overflow`.
        var seen: [Int: Int32] = [:]
        var overflow: [String: Int32] = [:]
        var skipped = 0
        var warnings: [String] = []

        public init(options: ReadOptions) throws {
            self.options = options
            rows = try DocumentRows(spillDirectory: options.spillDirectory)
        }

        /// What was collected.
        public var result: ReadResult {
            get throws {
                try rows.finish()
                return ReadResult(documents: documents, skipped: skipped, warnings: warnings)
            }
        }

        /// The row already holding `id`, if any. O(id length).
        func firstRow(of id: String) -> Int? {
            guard let r = seen[id.hashValue] else { return nil }
            if rows.id(Int(r)) == id { return Int(r) }
            return overflow[id].map(Int.init)
        }

        mutating func remember(_ id: String, row: Int) {
            if seen[id.hashValue] == nil { seen[id.hashValue] = Int32(row) } else { overflow[id] = Int32(row) }
        }

        public mutating func add(_ record: Record) throws {
            switch record {
            case .document(let d):
                let id = d.id, text = d.text, location = d.location
                if let first = firstRow(of: id) {
                    try reject(SourceError(file: location.fileAndLine.file, line: location.fileAndLine.line,
                                           "duplicate id \"\(id)\" (first seen at \(rows.location(first))) — ids must be unique"))
                    return
                }
                // Stops at the first non-blank scalar (trimming a copy of every text cost 4% of a run).
                if text.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) {
                    try reject(SourceError(file: location.fileAndLine.file, line: location.fileAndLine.line,
                                           "empty text for id \"\(id)\""))
                    return
                }
                let row = try rows.append(id: id, text: text, metadata: d.metadata, location: location)
                remember(id, row: row)
                documents.append(Document(rows: rows, row: row))
            case .invalid(let e):
                try reject(e)
            }
        }

        public mutating func reject(_ e: SourceError) throws {
            guard options.skipInvalid else { throw e }
            skipped += 1
            if warnings.count < 20 { warnings.append(e.description) }
        }
    }
}

extension String {
    /// Splits "file:line" produced by readers back into its parts.
    var fileAndLine: (file: String, line: Int?) {
        guard let colon = lastIndex(of: ":"), let n = Int(self[index(after: colon)...]) else { return (self, nil) }
        return (String(self[..<colon]), n)
    }
}

/// Reads a file in fixed-size blocks and yields lines (without the newline) with 1-based numbers.
struct LineReader {
    static func forEachLine(path: String, _ body: (Data, Int) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SourceError(file: path, line: nil, "cannot open for reading (does it exist? is it readable?)")
        }
        defer { try? handle.close() }
        var pending = Data()
        var lineNumber = 0
        while true {
            let block = handle.readData(ofLength: 1 << 20)
            if block.isEmpty { break }
            pending.append(block)
            var start = pending.startIndex
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                var line = pending[start..<nl]
                if line.last == 0x0D { line = line.dropLast() }
                try body(Data(line), lineNumber)
                start = pending.index(after: nl)
            }
            pending = Data(pending[start...])
        }
        if !pending.isEmpty {
            lineNumber += 1
            if pending.last == 0x0D { pending = pending.dropLast() }
            try body(pending, lineNumber)
        }
    }
}

/// JSON Lines: one object per line; blank lines are ignored.
enum JSONLReader {
    static func read(path: String, options: ReadOptions, _ emit: (SourceReader.Record) throws -> Void) throws {
        try LineReader.forEachLine(path: path) { bytes, n in
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            guard let line = String(validating: bytes, as: UTF8.self) else {
                try emit(.invalid(SourceError(file: path, line: n, "invalid UTF-8"))); return
            }
            let object: Any
            do { object = try JSONSerialization.jsonObject(with: Data(line.utf8)) } catch {
                try emit(.invalid(SourceError(file: path, line: n, "malformed JSON: \(String(line.prefix(80)))")))
                return
            }
            guard let dict = object as? [String: Any] else {
                try emit(.invalid(SourceError(file: path, line: n, "expected a JSON object per line"))); return
            }
            try emit(makeDocument(dict.mapValues(MetadataValue.init(json:)), file: path, line: n, options: options))
        }
    }

    static func makeDocument(_ fields: [String: MetadataValue], file: String, line: Int,
                             options: ReadOptions) -> SourceReader.Record {
        let id: String
        switch fields[options.idField] {
        case .string(let s) where !s.isEmpty: id = s
        case .integer(let i): id = String(i)
        case .none, .some(.null):
            return .invalid(SourceError(file: file, line: line, "missing id field \"\(options.idField)\" (set --id-field)"))
        default:
            return .invalid(SourceError(file: file, line: line, "id field \"\(options.idField)\" must be a non-empty string or an integer"))
        }
        guard case .string(let text)? = fields[options.textField] else {
            let what = fields[options.textField] == nil ? "missing" : "non-string"
            return .invalid(SourceError(file: file, line: line, "\(what) text field \"\(options.textField)\" for id \"\(id)\" (set --text-field)"))
        }
        // Filtered, not copied-and-removed: removing keys keeps the copy's storage (a few hundred bytes a
        // document, ~0.2 GB over 700k documents with no other field).
        let meta = fields.filter { $0.key != options.idField && $0.key != options.textField }
        return .document(Document(id: id, text: text, metadata: meta, location: "\(file):\(line)"))
    }
}

/// RFC 4180 CSV with a header row: comma-separated, fields optionally quoted with `"`, quotes doubled
/// inside quoted fields, line breaks allowed inside quotes. Streams byte by byte.
enum CSVReader {
    /// Parses records and yields (fields, line number where the record starts).
    static func records(path: String, _ body: ([String], Int) throws -> Void) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SourceError(file: path, line: nil, "cannot open for reading (does it exist? is it readable?)")
        }
        defer { try? handle.close() }
        var field = [UInt8](), fields = [String]()
        var inQuotes = false, quoteJustClosed = false, fieldStarted = false
        var line = 1, recordLine = 1
        var previous: UInt8 = 0
        func endField() throws {
            guard let s = String(validating: field, as: UTF8.self) else {
                throw SourceError(file: path, line: recordLine, "invalid UTF-8")
            }
            fields.append(s)
            field.removeAll(keepingCapacity: true)
            quoteJustClosed = false
            fieldStarted = false
        }
        func endRecord() throws {
            try endField()
            if !(fields.count == 1 && fields[0].isEmpty) { try body(fields, recordLine) }
            fields.removeAll(keepingCapacity: true)
        }
        while true {
            let block = handle.readData(ofLength: 1 << 20)
            if block.isEmpty { break }
            for b in block {
                defer { previous = b }
                if inQuotes {
                    if b == 0x22 { inQuotes = false; quoteJustClosed = true }
                    else { if b == 0x0A { line += 1 }; field.append(b) }
                    continue
                }
                switch b {
                case 0x22:  // "
                    if quoteJustClosed { field.append(0x22); inQuotes = true; quoteJustClosed = false }
                    else if !fieldStarted { inQuotes = true; fieldStarted = true }
                    else { throw SourceError(file: path, line: line, "stray quote inside an unquoted field") }
                case 0x2C: try endField()
                case 0x0A:
                    try endRecord()
                    line += 1
                    recordLine = line
                case 0x0D: break
                default:
                    if quoteJustClosed { throw SourceError(file: path, line: line, "text after a closing quote") }
                    field.append(b); fieldStarted = true
                }
            }
        }
        if inQuotes { throw SourceError(file: path, line: recordLine, "unterminated quoted field (missing closing \")") }
        if !field.isEmpty || !fields.isEmpty || previous == 0x2C { try endRecord() }
    }

    static func read(path: String, options: ReadOptions, _ emit: (SourceReader.Record) throws -> Void) throws {
        var header: [String]?
        var idIndex = -1, textIndex = -1
        try records(path: path) { fields, n in
            guard let h = header else {
                header = fields
                guard let i = fields.firstIndex(of: options.idField) else {
                    throw SourceError(file: path, line: n, "header has no \"\(options.idField)\" column (columns: \(fields.joined(separator: ", "))); set --id-field")
                }
                guard let t = fields.firstIndex(of: options.textField) else {
                    throw SourceError(file: path, line: n, "header has no \"\(options.textField)\" column (columns: \(fields.joined(separator: ", "))); set --text-field")
                }
                idIndex = i; textIndex = t
                return
            }
            guard fields.count == h.count else {
                try emit(.invalid(SourceError(file: path, line: n, "expected \(h.count) fields, found \(fields.count)")))
                return
            }
            let id = fields[idIndex]
            guard !id.isEmpty else { try emit(.invalid(SourceError(file: path, line: n, "empty id"))); return }
            var meta: [String: MetadataValue] = [:]
            for (k, v) in zip(h, fields) where k != options.idField && k != options.textField { meta[k] = .string(v) }
            try emit(.document(Document(id: id, text: fields[textIndex], metadata: meta, location: "\(path):\(n)")))
        }
        if header == nil { throw SourceError(file: path, line: nil, "empty CSV file: a header row is required") }
    }
}

/// A folder: one document per `.txt` or `.md` file (recursively), id = path relative to the folder,
/// in sorted order.
enum DirectoryReader {
    static func read(path: String, _ emit: (SourceReader.Record) throws -> Void) throws {
        let root = URL(fileURLWithPath: path).standardizedFileURL
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw SourceError(file: path, line: nil, "cannot list folder")
        }
        var files: [String] = []
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        for case let url as URL in e {
            let ext = url.pathExtension.lowercased()
            guard ext == "txt" || ext == "md" else { continue }
            let p = url.standardizedFileURL.path
            files.append(p.hasPrefix(prefix) ? String(p.dropFirst(prefix.count)) : url.lastPathComponent)
        }
        for rel in files.sorted() {
            let full = prefix + rel
            guard let data = FileManager.default.contents(atPath: full) else {
                try emit(.invalid(SourceError(file: full, line: nil, "unreadable file"))); continue
            }
            guard let text = String(validating: data, as: UTF8.self) else {
                try emit(.invalid(SourceError(file: full, line: nil, "invalid UTF-8"))); continue
            }
            try emit(.document(Document(id: rel, text: text, metadata: [:], location: full)))
        }
    }
}
