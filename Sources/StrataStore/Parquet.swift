import Foundation

/// One column of a Parquet file, every value present (REQUIRED): strings (UTF-8), 32-bit integers,
/// doubles, or a list of `width` floats per row (an embedding; readers see `list<float>`, which LanceDB
/// takes as its vector column and DuckDB as `FLOAT[]`).
public enum ParquetColumn: Sendable {
    case string(String, [String])
    case int32(String, [Int32])
    case double(String, [Double])
    /// Row-major `rows × width` floats.
    case floatList(String, [Float], width: Int)

    var name: String {
        switch self {
        case .string(let n, _), .int32(let n, _), .double(let n, _), .floatList(let n, _, _): return n
        }
    }
}

/// A minimal Parquet writer (format 2.x, data page v1, PLAIN values, RLE levels, uncompressed), enough for
/// pandas, Polars, pyarrow, DuckDB and LanceDB to read a topic export as-is. Rows are written in row
/// groups of `rowGroupRows`; memory beyond the columns is one column chunk. The file appears atomically.
///
/// Layout: `PAR1`, per row group one page per column (Thrift compact `PageHeader` + values), then the
/// Thrift compact `FileMetaData`, its length (4 bytes, little-endian) and `PAR1`.
public enum Parquet {
    /// Writes `columns` (each with `rows` values, or `rows × width` for lists) to `path`.
    /// - Throws: ``SourceError`` when a column's length does not match `rows`; file errors from ``AtomicFile``.
    public static func write(_ columns: [ParquetColumn], rows: Int, to path: String, rowGroupRows: Int = 65_536,
                             createdBy: String = "strata") throws {
        for c in columns where count(c) != rows {
            throw SourceError(file: path, line: nil, "column \(c.name) has \(count(c)) values for \(rows) rows")
        }
        try AtomicFile.write(path) { h in
            var offset: Int64 = 4
            try h.write(contentsOf: Data("PAR1".utf8))
            var groups: [[ChunkInfo]] = []
            var start = 0
            repeat {
                let end = min(rows, start + rowGroupRows)
                var chunks: [ChunkInfo] = []
                for c in columns {
                    let (header, page, values) = pageBytes(c, rows: start..<end)
                    try h.write(contentsOf: Data(header))
                    try h.write(contentsOf: Data(page))
                    chunks.append(ChunkInfo(offset: offset, size: Int64(header.count + page.count), values: Int64(values)))
                    offset += Int64(header.count + page.count)
                }
                groups.append(chunks)
                start = end
            } while start < rows
            let footer = fileMetaData(columns, rows: rows, groups: groups, groupRows: rowGroupRows, createdBy: createdBy)
            try h.write(contentsOf: Data(footer))
            var length = UInt32(footer.count).littleEndian
            try h.write(contentsOf: Data(bytes: &length, count: 4))
            try h.write(contentsOf: Data("PAR1".utf8))
        }
    }

    struct ChunkInfo { var offset: Int64; var size: Int64; var values: Int64 }

    static func count(_ c: ParquetColumn) -> Int {
        switch c {
        case .string(_, let v): return v.count
        case .int32(_, let v): return v.count
        case .double(_, let v): return v.count
        case .floatList(_, let v, let w): return w > 0 ? v.count / w : 0
        }
    }

    /// The page header, the page (levels, then PLAIN values) and the number of leaf values.
    static func pageBytes(_ c: ParquetColumn, rows: Range<Int>) -> ([UInt8], [UInt8], Int) {
        var page: [UInt8] = []
        var values = rows.count
        switch c {
        case .string(_, let v):
            for i in rows { let u = Array(v[i].utf8); page += le(UInt32(u.count)); page += u }
        case .int32(_, let v):
            v[rows].withUnsafeBytes { page.append(contentsOf: $0) }   // little-endian hosts (x86-64, arm64)
        case .double(_, let v):
            v[rows].withUnsafeBytes { page.append(contentsOf: $0) }
        case .floatList(_, let v, let w):
            values = rows.count * w
            // Repetition levels: 0 starts a row, 1 continues it; definition levels: 1 (present) throughout.
            var rep: [UInt8] = []
            for _ in rows { rep += rleRun(count: 1, value: 0); if w > 1 { rep += rleRun(count: w - 1, value: 1) } }
            let def = rleRun(count: values, value: 1)
            page += le(UInt32(rep.count)) + rep + le(UInt32(def.count)) + def
            v[(rows.lowerBound * w)..<(rows.upperBound * w)].withUnsafeBytes { page.append(contentsOf: $0) }
        }
        var t = ThriftCompact()
        t.i32(1, 0)                       // type: DATA_PAGE
        t.i32(2, Int32(page.count))       // uncompressed_page_size
        t.i32(3, Int32(page.count))       // compressed_page_size
        t.beginStruct(5)                  // data_page_header
        t.i32(1, Int32(values))           // num_values
        t.i32(2, 0)                       // encoding: PLAIN
        t.i32(3, 3)                       // definition_level_encoding: RLE
        t.i32(4, 3)                       // repetition_level_encoding: RLE
        t.endStruct()
        t.stop()
        return (t.bytes, page, values)
    }

    /// One RLE run of the RLE/bit-packed hybrid encoding at bit width 1.
    static func rleRun(count: Int, value: UInt8) -> [UInt8] {
        var t = ThriftCompact()
        t.varint(UInt64(count) << 1)
        return t.bytes + [value]
    }

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }

    static func fileMetaData(_ columns: [ParquetColumn], rows: Int, groups: [[ChunkInfo]], groupRows: Int, createdBy: String) -> [UInt8] {
        var t = ThriftCompact()
        t.i32(1, 1)                                         // version
        let elements = 1 + columns.reduce(0) { if case .floatList = $1 { return $0 + 3 }; return $0 + 1 }
        t.listHeader(2, type: ThriftCompact.structType, count: elements)
        t.element { $0.string(4, "schema"); $0.i32(5, Int32(columns.count)) }
        for c in columns { schemaElements(c, &t) }
        t.i64(3, Int64(rows))
        t.listHeader(4, type: ThriftCompact.structType, count: groups.count)
        for (g, chunks) in groups.enumerated() {
            let groupRowCount = min(groupRows, rows - g * groupRows)
            t.element { rg in
                rg.listHeader(1, type: ThriftCompact.structType, count: chunks.count)
                for (c, chunk) in zip(columns, chunks) { rg.element { columnChunk(c, chunk, &$0) } }
                rg.i64(2, chunks.reduce(0) { $0 + $1.size })
                rg.i64(3, Int64(groupRowCount))
            }
        }
        t.string(6, createdBy)
        t.stop()
        return t.bytes
    }

    static func schemaElements(_ c: ParquetColumn, _ t: inout ThriftCompact) {
        switch c {
        case .string(let n, _): t.element { $0.i32(1, 6); $0.i32(3, 0); $0.string(4, n); $0.i32(6, 0) }   // BYTE_ARRAY, UTF8
        case .int32(let n, _): t.element { $0.i32(1, 1); $0.i32(3, 0); $0.string(4, n) }
        case .double(let n, _): t.element { $0.i32(1, 5); $0.i32(3, 0); $0.string(4, n) }
        case .floatList(let n, _, _):
            t.element { $0.i32(3, 0); $0.string(4, n); $0.i32(5, 1); $0.i32(6, 3) }          // group (LIST)
            t.element { $0.i32(3, 2); $0.string(4, "list"); $0.i32(5, 1) }                    // repeated group
            t.element { $0.i32(1, 4); $0.i32(3, 0); $0.string(4, "element") }                 // FLOAT
        }
    }

    static func columnChunk(_ c: ParquetColumn, _ chunk: ChunkInfo, _ t: inout ThriftCompact) {
        let (type, path): (Int32, [String]) = {
            switch c {
            case .string(let n, _): return (6, [n])
            case .int32(let n, _): return (1, [n])
            case .double(let n, _): return (5, [n])
            case .floatList(let n, _, _): return (4, [n, "list", "element"])
            }
        }()
        t.i64(2, chunk.offset)                                                  // file_offset
        t.beginStruct(3)                                                        // meta_data
        t.i32(1, type)
        t.listHeader(2, type: ThriftCompact.i32Type, count: 2); t.zigzag32(0); t.zigzag32(3)   // PLAIN, RLE
        t.listHeader(3, type: ThriftCompact.binaryType, count: path.count)
        for p in path { t.binary(Array(p.utf8)) }
        t.i32(4, 0)                                                             // UNCOMPRESSED
        t.i64(5, chunk.values)
        t.i64(6, chunk.size)
        t.i64(7, chunk.size)
        t.i64(9, chunk.offset)                                                  // data_page_offset
        t.endStruct()
    }
}

/// Thrift's compact protocol, the subset Parquet metadata needs (structs, i32, i64, binary, lists).
struct ThriftCompact {
    static let i32Type: UInt8 = 5, i64Type: UInt8 = 6, binaryType: UInt8 = 8, listType: UInt8 = 9, structType: UInt8 = 12
    var bytes: [UInt8] = []
    private var lastField: [Int16] = [0]

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func zigzag32(_ v: Int32) { varint(UInt64(UInt32(bitPattern: (v << 1) ^ (v >> 31)))) }
    mutating func zigzag64(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
    mutating func binary(_ b: [UInt8]) { varint(UInt64(b.count)); bytes += b }

    mutating func field(_ id: Int16, _ type: UInt8) {
        let delta = id - lastField[lastField.count - 1]
        if delta > 0 && delta <= 15 { bytes.append(UInt8(delta) << 4 | type) } else { bytes.append(type); zigzag32(Int32(id)) }
        lastField[lastField.count - 1] = id
    }
    mutating func i32(_ id: Int16, _ v: Int32) { field(id, Self.i32Type); zigzag32(v) }
    mutating func i64(_ id: Int16, _ v: Int64) { field(id, Self.i64Type); zigzag64(v) }
    mutating func string(_ id: Int16, _ s: String) { field(id, Self.binaryType); binary(Array(s.utf8)) }
    mutating func listHeader(_ id: Int16, type: UInt8, count: Int) {
        field(id, Self.listType)
        if count < 15 { bytes.append(UInt8(count) << 4 | type) } else { bytes.append(0xF0 | type); varint(UInt64(count)) }
    }
    mutating func beginStruct(_ id: Int16) { field(id, Self.structType); lastField.append(0) }
    mutating func endStruct() { bytes.append(0); lastField.removeLast() }
    /// A struct element of a list (no field header).
    mutating func element(_ body: (inout ThriftCompact) -> Void) {
        lastField.append(0)
        body(&self)
        bytes.append(0)
        lastField.removeLast()
    }
    mutating func stop() { bytes.append(0) }
}
