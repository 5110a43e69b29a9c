import Foundation

/// A JSON-like metadata value kept alongside a document.
public enum MetadataValue: Sendable, Equatable, Codable {
    case string(String), number(Double), integer(Int64), bool(Bool), null
    case array([MetadataValue]), object([String: MetadataValue])

    /// Converts a `JSONSerialization` value.
    public init(json: Any) {
        switch json {
        case let s as String: self = .string(s)
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c", "B": self = .bool(n.boolValue)
            case "d", "f": self = .number(n.doubleValue)
            default: self = .integer(n.int64Value)
            }
        case let a as [Any]: self = .array(a.map(MetadataValue.init(json:)))
        case let o as [String: Any]: self = .object(o.mapValues(MetadataValue.init(json:)))
        default: self = .null
        }
    }

    /// The value as a `JSONSerialization` object.
    public var json: Any {
        switch self {
        case .string(let s): return s
        case .number(let d): return d
        case .integer(let i): return i
        case .bool(let b): return b
        case .null: return NSNull()
        case .array(let a): return a.map(\.json)
        case .object(let o): return o.mapValues(\.json)
        }
    }

    /// A display string (numbers and strings as they are, others as JSON).
    public var text: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .bool(let b): return String(b)
        case .null: return ""
        default:
            let data = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .fragmentsAllowed])) ?? Data()
            return String(decoding: data, as: UTF8.self)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([MetadataValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: MetadataValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let d): try c.encode(d)
        case .integer(let i): try c.encode(i)
        case .bool(let b): try c.encode(b)
        case .null: try c.encodeNil()
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// One document read from a source: either a row of the read's ``DocumentRows`` (texts and metadata
/// possibly in a temporary file) or a document made in memory with ``init(id:text:metadata:location:)``.
/// The properties read the row on each access.
public struct Document: Sendable, Equatable {
    private enum Storage: Sendable {
        case fields(Fields)
        case row(DocumentRows, Int)
    }

    private final class Fields: Sendable {
        let id: String, text: String, metadata: [String: MetadataValue], location: String
        init(id: String, text: String, metadata: [String: MetadataValue], location: String) {
            self.id = id; self.text = text; self.metadata = metadata; self.location = location
        }
        /// Hashed on each use: a reader's document is hashed once, when its table row is appended.
        var contentHash: String { Document.sha256Hex(text) }
    }

    private let storage: Storage

    /// Unique id within the source (a string even when the source stores a number).
    public var id: String {
        switch storage { case .fields(let f): f.id; case .row(let t, let r): t.id(r) }
    }
    /// The text to embed and describe.
    public var text: String {
        switch storage { case .fields(let f): f.text; case .row(let t, let r): t.text(r) }
    }
    /// Every other field of the record.
    public var metadata: [String: MetadataValue] {
        switch storage { case .fields(let f): f.metadata; case .row(let t, let r): t.metadata(r) }
    }
    /// Where it came from, for error messages (e.g. "docs.jsonl:12").
    public var location: String {
        switch storage { case .fields(let f): f.location; case .row(let t, let r): t.location(r) }
    }
    /// SHA-256 of the UTF-8 text, lower-case hex (a table row keeps the digest computed when it was read).
    /// Identifies unchanged documents between runs.
    public var contentHash: String {
        switch storage { case .fields(let f): f.contentHash; case .row(let t, let r): t.contentHash(r) }
    }

    /// The first 128 bits of the text's digest: equal keys, equal texts (see ``DigestKey``).
    public var digestKey: DigestKey {
        switch storage {
        case .fields(let f):
            return SHA256.digest(f.text.utf8).withUnsafeBytes { DigestKey(bytes: $0) }
        case .row(let t, let r): return t.digestKey(r)
        }
    }

    public init(id: String, text: String, metadata: [String: MetadataValue] = [:], location: String = "") {
        storage = .fields(Fields(id: id, text: text, metadata: metadata, location: location))
    }

    /// Row `row` of `rows`.
    public init(rows: DocumentRows, row: Int) { storage = .row(rows, row) }

    public static func == (a: Document, b: Document) -> Bool {
        a.id == b.id && a.text == b.text && a.metadata == b.metadata && a.location == b.location
    }

    /// Lower-case hex SHA-256 of a string's UTF-8 bytes.
    public static func sha256Hex(_ s: String) -> String { SHA256.hex(s) }
}
