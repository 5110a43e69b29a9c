import Foundation

/// Reads and writes NumPy `.npy` files (format 1.0/2.0/3.0) holding little-endian float32 arrays in
/// C order — the exchange format between Strata, NumPy, scikit-learn and FAISS.
public enum NPY {
    /// Errors reading an `.npy` file.
    public enum Error: Swift.Error, CustomStringConvertible, Equatable {
        case notNPY(String)
        case unsupported(String)
        case truncated(expected: Int, got: Int)

        public var description: String {
            switch self {
            case .notNPY(let why): return "not a .npy file: \(why)"
            case .unsupported(let what): return "unsupported .npy content: \(what) (need float32 '<f4', C order, 1-D or 2-D)"
            case let .truncated(expected, got): return "truncated .npy file: expected \(expected) data bytes, found \(got)"
            }
        }
    }

    /// Reads a 2-D (or 1-D, as one column) float32 array. O(file size).
    public static func readMatrix(from url: URL) throws -> Matrix {
        let data = try Data(contentsOf: url, options: .mappedIfSafe)
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard data.count >= 10, Array(data.prefix(6)) == magic else { throw Error.notNPY("bad magic") }
        let major = data[data.startIndex + 6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(data[data.startIndex + 8]) | Int(data[data.startIndex + 9]) << 8
            headerStart = 10
        } else {
            guard data.count >= 12 else { throw Error.notNPY("short header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(data[data.startIndex + 8 + $1]) << (8 * $1) }
            headerStart = 12
        }
        guard data.count >= headerStart + headerLength else { throw Error.notNPY("header past end of file") }
        let header = String(decoding: data[(data.startIndex + headerStart)..<(data.startIndex + headerStart + headerLength)],
                            as: UTF8.self)
        guard header.contains("'descr': '<f4'") || header.contains("\"descr\": \"<f4\"") else {
            throw Error.unsupported("descr in \(header.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        guard header.contains("'fortran_order': False") else { throw Error.unsupported("Fortran order") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw Error.notNPY("no shape in header")
        }
        let dims = header[open.upperBound..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.compactMap { Int($0) }
        let (rows, cols): (Int, Int)
        switch dims.count {
        case 1: (rows, cols) = (dims[0], 1)
        case 2: (rows, cols) = (dims[0], dims[1])
        default: throw Error.unsupported("\(dims.count)-D shape")
        }
        let offset = headerStart + headerLength
        let bytes = rows * cols * 4
        guard data.count - offset >= bytes else { throw Error.truncated(expected: bytes, got: data.count - offset) }
        var storage = [Float](repeating: 0, count: rows * cols)
        storage.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + bytes)]))
            }
        }
        return try Matrix(rows: rows, cols: cols, storage: storage)
    }

    /// Writes `matrix` as a 2-D float32 `.npy` file atomically (temporary file, then rename).
    public static func write(_ matrix: Matrix, to url: URL) throws {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(matrix.rows), \(matrix.cols)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let len = header.utf8.count
        data.append(contentsOf: [UInt8(len & 0xFF), UInt8(len >> 8)])
        data.append(contentsOf: Array(header.utf8))
        matrix.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: $0.baseAddress, count: $0.count)) }
        try data.write(to: url, options: .atomic)
    }
}
