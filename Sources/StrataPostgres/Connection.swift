import CPostgres
import Foundation

/// One libpq connection, used by one task at a time. Every statement runs on its own thread (libpq
/// blocks), so waiting on the server never holds a thread of Swift's cooperative pool.
final class PGConnection: @unchecked Sendable {
    /// A bound value: text in PostgreSQL's input syntax (NULL as nil), or raw bytes for a `bytea`.
    enum Value: Sendable {
        case text(String?)
        case bytes(Data)
    }

    /// A failure, with the server's primary message and SQLSTATE when it answered.
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var sqlState: String?
        var description: String { message + (sqlState.map { " (SQLSTATE \($0))" } ?? "") }
    }

    private let handle: OpaquePointer

    /// Connects with libpq's keywords (`host`, `port`, `user`, …; `connect_timeout` 10 s unless given; TLS
    /// as libpq decides from `sslmode`/`PGSSLMODE`). Throws ``Failure`` with libpq's message.
    init(_ parameters: [(String, String)]) async throws {
        let given = Set(parameters.map(\.0))
        let defaults = [("connect_timeout", "10"), ("application_name", "strata"), ("client_encoding", "UTF8")]
        let pairs = parameters + defaults.filter { !given.contains($0.0) }
        let keys = pairs.map(\.0), values = pairs.map(\.1)
        let connected = try await Self.offload { () -> OpaquePointer? in
            Self.withCStrings(keys) { k in Self.withCStrings(values) { v in PQconnectdbParams(k, v, 0) } }
        }
        guard let connected else { throw Failure(message: "out of memory connecting to PostgreSQL") }
        guard PQstatus(connected) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connected)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(connected)
            throw Failure(message: message)
        }
        handle = connected
    }

    deinit { PQfinish(handle) }

    /// Runs one statement with `$1…$n` bound to `params`; rows in text format, or binary when
    /// `binary` (then text columns are raw UTF-8, `bytea` raw bytes, `integer` 4 bytes big-endian).
    @discardableResult
    func query(_ sql: String, _ params: [Value] = [], binary: Bool = false) async throws -> PGRows {
        try await Self.offload { [self] in try execute(sql, params, binary: binary) }
    }

    /// Runs `body` between BEGIN and COMMIT; any error rolls back and is rethrown.
    func withTransaction<R>(_ body: (PGConnection) async throws -> R) async throws -> R {
        try await query("BEGIN")
        do {
            let r = try await body(self)
            try await query("COMMIT")
            return r
        } catch {
            _ = try? await query("ROLLBACK")
            throw error
        }
    }

    private func execute(_ sql: String, _ params: [Value], binary: Bool) throws -> PGRows {
        let buffers: [Data?] = params.map { p in
            switch p {
            case .text(let s): s.map { Data($0.utf8) + Data([0]) }
            case .bytes(let d): d
            }
        }
        let formats: [Int32] = params.map { if case .bytes = $0 { 1 } else { 0 } }
        let lengths: [Int32] = buffers.map { Int32(clamping: $0?.count ?? 0) }
        let result = Self.withPointers(buffers) { values in
            PQexecParams(handle, sql, Int32(params.count), nil, values, lengths, formats, binary ? 1 : 0)
        }
        guard let result else { throw Failure(message: String(cString: PQerrorMessage(handle))) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            defer { PQclear(result) }
            let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            throw Failure(message: primary ?? String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines),
                          sqlState: state)
        }
        return PGRows(result)
    }

    /// Runs `work` on a thread of its own and resumes with its result.
    static func offload<R>(_ work: @escaping @Sendable () throws -> R) async throws -> R {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<R, Error>) in
            let thread = Thread { c.resume(with: Result { try work() }) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    private static func withPointers<R>(_ buffers: [Data?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = buffers.map { d in
            guard let d else { return nil }
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, d.count))
            d.withUnsafeBytes { raw in if raw.count > 0 { p.update(from: raw.bindMemory(to: CChar.self).baseAddress!, count: raw.count) } }
            return p
        }
        defer { copies.forEach { $0?.deallocate() } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

/// The rows of one statement's result (owned; freed with it).
final class PGRows: @unchecked Sendable {
    private let result: OpaquePointer
    init(_ result: OpaquePointer) { self.result = result }
    deinit { PQclear(result) }

    var count: Int { Int(PQntuples(result)) }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) == 1 }

    /// The raw bytes of a value (text format: its text; binary: its wire bytes). Empty when NULL.
    func bytes(_ row: Int, _ column: Int) -> UnsafeRawBufferPointer {
        let n = Int(PQgetlength(result, Int32(row), Int32(column)))
        guard let p = PQgetvalue(result, Int32(row), Int32(column)) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: p, count: n)
    }

    func string(_ row: Int, _ column: Int) -> String? {
        isNull(row, column) ? nil : String(decoding: bytes(row, column), as: UTF8.self)
    }

    func data(_ row: Int, _ column: Int) -> Data? { isNull(row, column) ? nil : Data(bytes(row, column)) }

    /// A text-format integer or float column.
    func int(_ row: Int, _ column: Int) -> Int? { string(row, column).flatMap { Int($0) } }
    func double(_ row: Int, _ column: Int) -> Double? { string(row, column).flatMap { Double($0) } }

    /// A binary-format `integer` (4 bytes, big-endian).
    func int32(_ row: Int, _ column: Int) -> Int? {
        let b = bytes(row, column)
        guard b.count == 4 else { return nil }
        return Int(Int32(bigEndian: b.loadUnaligned(as: Int32.self)))
    }
}

/// PostgreSQL's input syntax for the values Strata binds.
enum PGLiteral {
    static func text(_ s: String) -> PGConnection.Value { .text(s) }
    static func int(_ v: Int?) -> PGConnection.Value { .text(v.map(String.init)) }
    static func double(_ v: Double?) -> PGConnection.Value { .text(v.map(float)) }

    /// `{"a","b"}`: every element quoted, `"` and `\` escaped.
    static func textArray(_ values: [String]) -> PGConnection.Value {
        var out = "{"
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            out += "\""
            for ch in v.unicodeScalars {
                if ch == "\"" || ch == "\\" { out += "\\" }
                out.unicodeScalars.append(ch)
            }
            out += "\""
        }
        return .text(out + "}")
    }

    static func intArray(_ values: [Int]) -> PGConnection.Value { .text("{" + values.map(String.init).joined(separator: ",") + "}") }
    static func doubleArray(_ values: [Double]) -> PGConnection.Value { .text("{" + values.map(float).joined(separator: ",") + "}") }

    /// Shortest text that reads back to the same Double; NaN and ±Infinity in PostgreSQL's spelling.
    static func float(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "Infinity" : "-Infinity" }
        return "\(v)"
    }
}
