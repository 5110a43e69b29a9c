import CSQLite
import Foundation

/// A minimal, typed wrapper over the SQLite C API: one connection, prepared statements, transactions.
///
/// Not thread-safe: use one `SQLiteDatabase` per thread (or serialise access).
public final class SQLiteDatabase {
    /// An SQLite error with the database's message and the SQL that failed.
    public struct Error: Swift.Error, CustomStringConvertible, Equatable {
        public let code: Int32
        public let message: String
        public let sql: String?
        public var description: String {
            "SQLite error \(code): \(message)" + (sql.map { " (in: \($0.prefix(200)))" } ?? "")
        }
        /// SQLITE_FULL: the database or its journal could not grow.
        public var isDiskFull: Bool { code & 0xff == SQLITE_FULL }
    }

    /// A value bound to or read from a statement.
    public enum Value: Equatable, Sendable {
        case null
        case integer(Int64)
        case real(Double)
        case text(String)
        case blob(Data)

        public var int: Int? { if case .integer(let v) = self { return Int(v) }; return nil }
        public var double: Double? {
            switch self { case .real(let v): return v; case .integer(let v): return Double(v); default: return nil }
        }
        public var string: String? { if case .text(let v) = self { return v }; return nil }
        public var data: Data? { if case .blob(let v) = self { return v }; return nil }
    }

    let handle: OpaquePointer
    /// Path of the database file.
    public let path: String

    /// Opens (creating if needed) the database at `path`, with WAL journaling (unless `readOnly` or
    /// `keepJournalMode`: a user's database keeps the mode it has) and a busy timeout.
    public init(path: String, readOnly: Bool = false, keepJournalMode: Bool = false) throws {
        var db: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close(db) }
            throw Error(code: rc, message: "\(message): \(path)", sql: nil)
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 10_000)
        if !readOnly && !keepJournalMode { try execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;") }
    }

    deinit { sqlite3_close_v2(handle) }

    func error(_ rc: Int32, _ sql: String?) -> Error {
        if rc & 0xff == SQLITE_FULL {
            let dir = (path as NSString).deletingLastPathComponent
            return Error(code: rc, message: "no space left for \(path): free space in \(dir) and rerun (nothing of this run was kept)", sql: nil)
        }
        return Error(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }


    /// Runs one or more statements without parameters.
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        if rc != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(err)
            // A full disk can surface at COMMIT (the WAL grows there): the same message as a statement's.
            throw rc & 0xff == SQLITE_FULL ? error(rc, sql) : Error(code: rc, message: message, sql: sql)
        }
    }

    /// Prepares a statement for repeated use.
    public func prepare(_ sql: String) throws -> Statement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql) }
        return Statement(db: self, stmt: stmt, sql: sql)
    }

    /// Runs `sql` with `bindings` and returns every row.
    @discardableResult
    public func query(_ sql: String, _ bindings: [Value] = []) throws -> [[Value]] {
        let s = try prepare(sql)
        try s.bind(bindings)
        var rows: [[Value]] = []
        while let row = try s.step() { rows.append(row) }
        return rows
    }

    /// Runs `body` inside `BEGIN IMMEDIATE … COMMIT`; rolls back when it throws, leaving the
    /// database exactly as it was.
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN IMMEDIATE")
        do {
            let r = try body()
            try execute("COMMIT")
            return r
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// A prepared statement.
    public final class Statement {
        let db: SQLiteDatabase
        let stmt: OpaquePointer
        let sql: String
        init(db: SQLiteDatabase, stmt: OpaquePointer, sql: String) { self.db = db; self.stmt = stmt; self.sql = sql }
        deinit { sqlite3_finalize(stmt) }

        /// Resets the statement and binds positional parameters (1-based in SQL, 0-based here).
        public func bind(_ values: [Value]) throws {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            for (i, v) in values.enumerated() {
                let idx = Int32(i + 1)
                let rc: Int32
                switch v {
                case .null: rc = sqlite3_bind_null(stmt, idx)
                case .integer(let x): rc = sqlite3_bind_int64(stmt, idx, x)
                case .real(let x): rc = sqlite3_bind_double(stmt, idx, x)
                case .text(let s): rc = sqlite3_bind_text(stmt, idx, s, -1, strata_sqlite_transient())
                case .blob(let d):
                    rc = d.withUnsafeBytes { p in
                        sqlite3_bind_blob(stmt, idx, p.baseAddress, Int32(d.count), strata_sqlite_transient())
                    }
                }
                if rc != SQLITE_OK { throw db.error(rc, sql) }
            }
        }

        /// Advances to the next row; `nil` when done.
        public func step() throws -> [Value]? {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return nil }
            guard rc == SQLITE_ROW else { throw db.error(rc, sql) }
            let n = sqlite3_column_count(stmt)
            var row: [Value] = []
            row.reserveCapacity(Int(n))
            for c in 0..<n {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: row.append(.integer(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: row.append(.real(sqlite3_column_double(stmt, c)))
                case SQLITE_TEXT: row.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(stmt, c))
                    if let p = sqlite3_column_blob(stmt, c), count > 0 {
                        row.append(.blob(Data(bytes: p, count: count)))
                    } else { row.append(.blob(Data())) }
                default: row.append(.null)
                }
            }
            return row
        }

        /// Advances to the next row without copying it (unlike ``step()``); read its columns with
        /// ``int(_:)`` and ``withBlob(_:_:)`` before the next call. `false` when done.
        public func advance() throws -> Bool {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { return false }
            guard rc == SQLITE_ROW else { throw db.error(rc, sql) }
            return true
        }

        /// Column `column` (0-based) of the current row as an integer (0 for NULL).
        public func int(_ column: Int) -> Int { Int(sqlite3_column_int64(stmt, Int32(column))) }

        /// Column `column` (0-based) of the current row as text ("" for NULL).
        public func text(_ column: Int) -> String {
            sqlite3_column_text(stmt, Int32(column)).map { String(cString: $0) } ?? ""
        }

        /// Column `column` (0-based) of the current row as bytes, valid only inside `body`.
        public func withBlob<R>(_ column: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            let count = Int(sqlite3_column_bytes(stmt, Int32(column)))
            return try body(UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, Int32(column)), count: count))
        }

        /// Binds `values`, runs the statement to completion and discards rows.
        public func run(_ values: [Value]) throws {
            try bind(values)
            while try step() != nil {}
        }
    }
}
