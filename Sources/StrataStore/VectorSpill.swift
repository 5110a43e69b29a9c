import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Fixed-width `Float` rows written once, in order, to a temporary file, then read back in slices or
/// by row: how a fit visits every document's vector several times without holding them all.
///
/// The file is created in `directory` and unlinked at once, so it has no name from the start: a
/// crash, SIGKILL or full disk leaves no debris, and the space returns when the spill is released.
/// Reads come from the page cache while memory allows, so the process's own memory stays one slice.
/// Not thread-safe for concurrent appends; reads (`pread`) may run concurrently with each other.
public final class VectorSpill: @unchecked Sendable {
    /// A write or read that failed, with the directory and what to do.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public let description: String
        /// The `errno` of the failed call.
        public let code: Int32
        /// ENOSPC or EDQUOT: the directory's file system is full.
        public var isDiskFull: Bool { code == ENOSPC || code == EDQUOT }
    }

    /// Floats per row.
    public let dimension: Int
    /// Rows appended so far.
    public private(set) var rows = 0
    /// Where the (nameless) file lives.
    public let directory: String
    private let fd: Int32

    /// Creates an empty spill in `directory` (which must exist) for rows of `dimension` (≥ 1) floats.
    public init(directory: String, dimension: Int) throws {
        precondition(dimension >= 1, "VectorSpill: dimension must be ≥ 1")
        self.dimension = dimension
        self.directory = directory
        var template = Array(((directory as NSString).appendingPathComponent(".strata-vectors-XXXXXX")).utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw Error(description: "cannot create a temporary vector file in \(directory): \(String(cString: strerror(errno))); "
                        + "check that the state directory is writable", code: errno)
        }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        self.fd = fd
    }

    deinit { close(fd) }

    /// Bytes on disk (rows × dimension × 4).
    public var byteCount: Int { rows * dimension * MemoryLayout<Float>.size }

    /// Appends `values.count / dimension` rows. O(values).
    /// - Throws: ``Error`` (a full disk says how much the spill needed and where).
    public func append(_ values: UnsafeBufferPointer<Float>) throws {
        precondition(values.count % dimension == 0, "VectorSpill.append: not a whole number of rows")
        let bytes = UnsafeRawBufferPointer(values)
        var written = 0
        while written < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + written, bytes.count - written, off_t(byteCount + written))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("writing", needed: byteCount + bytes.count) }
            written += n
        }
        rows += values.count / dimension
    }

    /// Rows `range` (within 0..<rows) into `out` (range.count × dimension floats).
    public func read(_ range: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) throws {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && out.count >= range.count * dimension,
                     "VectorSpill.read: rows \(range) out of 0..<\(rows)")
        try readBytes(UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(out)[0..<(range.count * dimension * 4)]),
                      at: range.lowerBound * dimension * 4)
    }

    /// The rows `indices` (each in 0..<rows, any order, repeats allowed), concatenated. One `pread` a row.
    public func gather(_ indices: [Int]) throws -> [Float] {
        var out = [Float](repeating: 0, count: indices.count * dimension)
        try out.withUnsafeMutableBufferPointer { o in
            for (r, i) in indices.enumerated() {
                try read(i..<(i + 1), into: UnsafeMutableBufferPointer(rebasing: o[(r * dimension)..<((r + 1) * dimension)]))
            }
        }
        return out
    }

    private func readBytes(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("reading", needed: nil) }
            done += n
        }
    }

    private func failure(_ what: String, needed: Int?) -> Error {
        let code = errno
        if code == ENOSPC || code == EDQUOT, let needed {
            return Error(description: "no space left for the run's temporary vectors (\(needed / 1_048_576) MB so far) in \(directory): "
                         + "free space there and rerun (the source and outputs are untouched; vectors embedded so far stay cached)", code: code)
        }
        return Error(description: "\(what) the run's temporary vectors in \(directory) failed: \(String(cString: strerror(code)))",
                     code: code)
    }
}
