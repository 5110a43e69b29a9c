import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The documents of one read, column by column: ids in one byte arena, SHA-256 digests as 32 raw bytes,
/// locations as (file, line) pairs, and texts with their metadata in a ``ByteLog`` — in memory, or in
/// a nameless temporary file when a spill directory is given. A ``Document`` read from a source is a
/// row of this table, so 10M documents cost about 70 bytes each in memory beside their ids (issue #27),
/// not their texts.
///
/// Rows are appended by one reader, then only read; reads may come from several threads.
public final class DocumentRows: @unchecked Sendable {
    private var idBytes: [UInt8] = []
    private var idEnds: [Int] = []
    private var digests: [UInt8] = []
    private var files: [String] = []
    private var fileIndex: [String: Int32] = [:]
    private var locationFile: [Int32] = []
    /// Line of each row's location; −1 when the location is a file alone.
    private var locationLine: [Int32] = []
    /// Start of each row's text in `log`; its metadata follows it.
    private var textStart: [Int] = []
    private var textLength: [Int32] = []
    private var metadataLength: [Int32] = []
    private let log: ByteLog

    /// Rows appended so far.
    public var count: Int { idEnds.count }

    /// An empty table; with `spillDirectory` (which must exist) texts and metadata go to a nameless
    /// file there instead of memory.
    /// - Throws: ``VectorSpill/Error`` when the file cannot be created.
    public init(spillDirectory: String?) throws {
        log = try ByteLog(directory: spillDirectory)
    }

    /// Appends a row. O(text + metadata). A full disk throws ``VectorSpill/Error`` (`isDiskFull`).
    @discardableResult
    public func append(id: String, text: String, metadata: [String: MetadataValue], location: String,
                       digest: [UInt8]? = nil) throws -> Int {
        idBytes.append(contentsOf: id.utf8)
        idEnds.append(idBytes.count)
        digests.append(contentsOf: digest ?? SHA256.digest(text.utf8))
        let (file, line) = location.fileAndLine
        let f: Int32
        if let known = fileIndex[line == nil ? location : file] { f = known } else {
            f = Int32(files.count)
            files.append(line == nil ? location : file)
            fileIndex[files[Int(f)]] = f
        }
        locationFile.append(f)
        locationLine.append(line.map { Int32(clamping: $0) } ?? -1)
        var meta: [UInt8] = []
        if !metadata.isEmpty { MetadataCodec.append(.object(metadata), to: &meta) }
        textStart.append(log.count)
        textLength.append(Int32(text.utf8.count))
        metadataLength.append(Int32(meta.count))
        try log.append(text.utf8)
        try log.append(meta)
        return count - 1
    }

    /// Ends appending: buffered bytes reach the file.
    public func finish() throws { try log.flush() }

    /// The id of row `r`. O(id length).
    public func id(_ r: Int) -> String {
        let start = r == 0 ? 0 : idEnds[r - 1]
        return idBytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[start..<idEnds[r]]), as: UTF8.self) }
    }

    /// The text of row `r`: one read of the log (sequential rows come from a read-ahead block).
    public func text(_ r: Int) -> String {
        withRow(r) { text, _ in String(decoding: text, as: UTF8.self) }
    }

    /// The metadata of row `r` (decoded on each call).
    public func metadata(_ r: Int) -> [String: MetadataValue] {
        guard metadataLength[r] > 0 else { return [:] }
        return withRow(r) { _, meta in
            var i = 0
            guard case .object(let o) = MetadataCodec.decode(meta, at: &i) else { return [:] }
            return o
        }
    }

    /// `body` over row `r`'s text and metadata bytes: both are asked for as one range, so reading a
    /// row's fields in any order, row after row, stays sequential for the log's read-ahead.
    private func withRow<T>(_ r: Int, _ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>) -> T) -> T {
        let t = Int(textLength[r])
        return log.withBytes(at: textStart[r], count: t + Int(metadataLength[r])) { b in
            body(UnsafeBufferPointer(rebasing: b[0..<t]), UnsafeBufferPointer(rebasing: b[t...]))
        }
    }

    /// "file:line", or the file alone, as the reader gave it.
    public func location(_ r: Int) -> String {
        let file = files[Int(locationFile[r])]
        return locationLine[r] < 0 ? file : "\(file):\(locationLine[r])"
    }

    /// Lower-case hex SHA-256 of row `r`'s text.
    public func contentHash(_ r: Int) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        for j in 0..<32 {
            let b = digests[r * 32 + j]
            out[2 * j] = hex[Int(b >> 4)]
            out[2 * j + 1] = hex[Int(b & 15)]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first 16 bytes of row `r`'s digest as two words: a key for sets and sorts of texts.
    public func digestKey(_ r: Int) -> DigestKey {
        digests.withUnsafeBytes { raw in
            DigestKey(bytes: UnsafeRawBufferPointer(rebasing: raw[(r * 32)..<(r * 32 + 16)]))
        }
    }
}

/// 128 bits of a SHA-256 digest: two texts with equal keys are, for every practical purpose, equal
/// (a collision needs about 2⁶⁴ texts). Ordered as the hex digests are (big-endian words).
public struct DigestKey: Hashable, Comparable, Sendable {
    public let high: UInt64
    public let low: UInt64
    /// The key of a digest's first 16 bytes.
    public init(bytes: UnsafeRawBufferPointer) {
        high = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }
    /// The key of a hex digest's first 32 digits (nil when they are not hex).
    public init?(hex: String) {
        let u = Array(hex.utf8.prefix(32))
        guard u.count == 32 else { return nil }
        func word(_ part: ArraySlice<UInt8>) -> UInt64? {
            var n: UInt64 = 0
            for c in part {
                let v: UInt8
                switch c {
                case 48...57: v = c - 48
                case 97...102: v = c - 87
                case 65...70: v = c - 55
                default: return nil
                }
                n = n << 4 | UInt64(v)
            }
            return n
        }
        guard let h = word(u[0..<16]), let l = word(u[16..<32]) else { return nil }
        high = h; low = l
    }

    public static func < (a: DigestKey, b: DigestKey) -> Bool { a.high != b.high ? a.high < b.high : a.low < b.low }
}

/// Append-only bytes, in memory or in a nameless file (created and unlinked at once, like
/// ``VectorSpill``), read back by offset. Appends are buffered (1 MB); reads of consecutive ranges
/// come from a 1 MB read-ahead block, others from one `pread` each.
final class ByteLog: @unchecked Sendable {
    private let fd: Int32
    private let directory: String?
    private var memory: [UInt8] = []
    private var pending: [UInt8] = []
    private var flushed = 0
    private let lock = NSLock()
    private var block: [UInt8] = []
    private var blockStart = 0
    private(set) var count = 0

    init(directory: String?) throws {
        self.directory = directory
        guard let directory else { fd = -1; return }
        var template = Array(((directory as NSString).appendingPathComponent(".strata-texts-XXXXXX")).utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw VectorSpill.Error(description: "cannot create a temporary text file in \(directory): \(String(cString: strerror(errno))); "
                                    + "check that the state directory is writable", code: errno)
        }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        self.fd = fd
    }

    deinit { if fd >= 0 { close(fd) } }

    func append<C: Collection>(_ bytes: C) throws where C.Element == UInt8 {
        count += bytes.count
        guard fd >= 0 else { memory.append(contentsOf: bytes); return }
        pending.append(contentsOf: bytes)
        if pending.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        guard fd >= 0, !pending.isEmpty else { return }
        try pending.withUnsafeBytes { raw in
            var written = 0
            while written < raw.count {
                let n = pwrite(fd, raw.baseAddress! + written, raw.count - written, off_t(flushed + written))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw failure("writing") }
                written += n
            }
        }
        flushed += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    /// `body` over the bytes at `offset..<offset + n` (which must have been appended).
    func withBytes<T>(at offset: Int, count n: Int, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        if fd < 0 {
            return memory.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[offset..<(offset + n)])) }
        }
        lock.lock()
        defer { lock.unlock() }
        if offset >= flushed {   // still in the append buffer
            return pending.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[(offset - flushed)..<(offset - flushed + n)])) }
        }
        if offset < blockStart || offset + n > blockStart + block.count {
            // Reading forward (the next rows, or a little past them) fills a 1 MB block from here;
            // a jump elsewhere reads just its range.
            let forward = offset >= blockStart && offset <= blockStart + block.count + 65_536
            let size = min(max(n, forward ? 1 << 20 : n), max(n, flushed - offset))
            if block.count != size { block = [UInt8](repeating: 0, count: size) }
            blockStart = offset
            readFully(into: &block, at: offset)
        }
        return block.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[(offset - blockStart)..<(offset - blockStart + n)])) }
    }

    private func readFully(into buffer: inout [UInt8], at offset: Int) {
        buffer.withUnsafeMutableBytes { raw in
            var done = 0
            while done < raw.count {
                let got = pread(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if got < 0 && errno == EINTR { continue }
                // The file is ours and unlinked: a failed read of bytes we wrote is an I/O error of the disk.
                precondition(got > 0, "reading the run's temporary texts failed: \(String(cString: strerror(errno)))")
                done += got
            }
        }
    }

    private func failure(_ what: String) -> VectorSpill.Error {
        let code = errno
        if code == ENOSPC || code == EDQUOT {
            return VectorSpill.Error(description: "no space left for the run's temporary texts (\(count / 1_048_576) MB so far) in \(directory ?? ""): "
                                     + "free space there and rerun (the source and outputs are untouched)", code: code)
        }
        return VectorSpill.Error(description: "\(what) the run's temporary texts in \(directory ?? "") failed: \(String(cString: strerror(code)))", code: code)
    }
}

/// A compact binary form of metadata values (tag byte, then the value; object keys sorted), exact for
/// every ``MetadataValue``.
enum MetadataCodec {
    static func append(_ v: MetadataValue, to out: inout [UInt8]) {
        func word(_ n: UInt64) { withUnsafeBytes(of: n.littleEndian) { out.append(contentsOf: $0) } }
        func string(_ s: String) { word(UInt64(s.utf8.count)); out.append(contentsOf: s.utf8) }
        switch v {
        case .null: out.append(0)
        case .bool(let b): out.append(b ? 2 : 1)
        case .integer(let i): out.append(3); word(UInt64(bitPattern: i))
        case .number(let d): out.append(4); word(d.bitPattern)
        case .string(let s): out.append(5); string(s)
        case .array(let a): out.append(6); word(UInt64(a.count)); for x in a { append(x, to: &out) }
        case .object(let o):
            out.append(7); word(UInt64(o.count))
            for k in o.keys.sorted() { string(k); append(o[k]!, to: &out) }
        }
    }

    static func decode(_ b: UnsafeBufferPointer<UInt8>, at i: inout Int) -> MetadataValue {
        func word() -> UInt64 {
            var n: UInt64 = 0
            for j in 0..<8 { n |= UInt64(b[i + j]) << (8 * UInt64(j)) }
            i += 8
            return n
        }
        func string() -> String {
            let n = Int(word())
            defer { i += n }
            return String(decoding: UnsafeBufferPointer(rebasing: b[i..<(i + n)]), as: UTF8.self)
        }
        let tag = b[i]
        i += 1
        switch tag {
        case 1: return .bool(false)
        case 2: return .bool(true)
        case 3: return .integer(Int64(bitPattern: word()))
        case 4: return .number(Double(bitPattern: word()))
        case 5: return .string(string())
        case 6: return .array((0..<Int(word())).map { _ in decode(b, at: &i) })
        case 7:
            var o: [String: MetadataValue] = [:]
            for _ in 0..<Int(word()) { let k = string(); o[k] = decode(b, at: &i) }
            return .object(o)
        default: return .null
        }
    }
}
