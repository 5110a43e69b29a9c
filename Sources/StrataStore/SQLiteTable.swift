import Foundation

/// SQL identifier handling shared by the SQLite and PostgreSQL sources: names are checked against
/// the catalog and always quoted (never concatenated raw into SQL).
public enum SQLIdentifier {
    /// `"name"` with embedded quotes doubled — the standard SQL quoting for SQLite and PostgreSQL.
    public static func quote(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// Reads documents from one SQLite table (`sqlite:PATH?table=T`).
enum SQLiteTableReader {
    /// Columns of `table`, or a ``SourceError`` when the table does not exist.
    static func columns(db: SQLiteDatabase, table: String, source: String) throws -> [String] {
        let exists = try db.query("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?", [.text(table)])
        guard !exists.isEmpty else { throw SourceError(file: source, line: nil, "no table named \"\(table)\"") }
        return try db.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).compactMap { $0.first?.string }
    }

    static func read(path: String, table: String, options: ReadOptions,
                     _ emit: (SourceReader.Record) throws -> Void) throws {
        let source = "sqlite:\(path)?table=\(table)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw SourceError(file: source, line: nil, "database file does not exist")
        }
        let db = try SQLiteDatabase(path: path, readOnly: true)
        let cols = try columns(db: db, table: table, source: source)
        for f in [options.idField, options.textField] where !cols.contains(f) {
            throw SourceError(file: source, line: nil, "table has no column \"\(f)\" (columns: \(cols.joined(separator: ", ")))")
        }
        let stmt = try db.prepare("SELECT \(cols.map(SQLIdentifier.quote).joined(separator: ", ")) FROM \(SQLIdentifier.quote(table))")
        try stmt.bind([])
        var row = 0
        while let values = try stmt.step() {
            row += 1
            var fields: [String: MetadataValue] = [:]
            for (c, v) in zip(cols, values) {
                switch v {
                case .null: fields[c] = .null
                case .integer(let i): fields[c] = .integer(i)
                case .real(let d): fields[c] = .number(d)
                case .text(let s): fields[c] = .string(s)
                case .blob: continue
                }
            }
            try emit(JSONLReader.makeDocument(fields, file: source, line: row, options: options))
        }
    }
}
