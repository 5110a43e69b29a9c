/// A dense, row-major matrix of `Float` stored contiguously (`storage[r * cols + c]`).
///
/// Value semantics with copy-on-write storage: ``rows(_:)`` returns a ``MatrixSlice`` that shares the
/// storage instead of copying it.
public struct Matrix: Sendable, Equatable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let cols: Int
    /// Row-major elements; `count == rows * cols`.
    public private(set) var storage: [Float]

    /// Wraps existing row-major storage. Throws when `storage.count != rows * cols` or a dimension
    /// exceeds the 32-bit BLAS interface.
    public init(rows: Int, cols: Int, storage: [Float]) throws {
        guard rows >= 0, cols >= 0, storage.count == rows * cols else {
            throw LinalgError.shapeMismatch(operation: "Matrix", expected: "\(rows)×\(cols) = \(rows * cols) elements",
                                            got: "\(storage.count) elements")
        }
        guard rows <= Int(Int32.max), cols <= Int(Int32.max) else {
            throw LinalgError.dimensionTooLarge(rows: rows, cols: cols)
        }
        self.rows = rows
        self.cols = cols
        self.storage = storage
    }

    /// A matrix with every element equal to `value`.
    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0 && rows <= Int(Int32.max) && cols <= Int(Int32.max))
        self.rows = rows
        self.cols = cols
        self.storage = [Float](repeating: value, count: rows * cols)
    }

    /// Builds a matrix from equally long rows. Throws on ragged input.
    public init(rowArrays: [[Float]]) throws {
        let cols = rowArrays.first?.count ?? 0
        var flat: [Float] = []
        flat.reserveCapacity(rowArrays.count * cols)
        for (i, r) in rowArrays.enumerated() {
            guard r.count == cols else {
                throw LinalgError.shapeMismatch(operation: "Matrix(rowArrays:)", expected: "\(cols) columns",
                                                got: "\(r.count) columns in row \(i)")
            }
            flat.append(contentsOf: r)
        }
        try self.init(rows: rowArrays.count, cols: cols, storage: flat)
    }

    /// Element at row `r`, column `c`.
    public subscript(r: Int, c: Int) -> Float {
        get { storage[r * cols + c] }
        set { storage[r * cols + c] = newValue }
    }

    /// Row `r` as an array slice (no copy).
    public func row(_ r: Int) -> ArraySlice<Float> { storage[(r * cols)..<((r + 1) * cols)] }

    /// A view of a contiguous range of rows that shares this matrix's storage (no copy).
    public func rows(_ range: Range<Int>) -> MatrixSlice {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        return MatrixSlice(base: self, rowRange: range)
    }

    /// Copies the listed rows, in order, into a new matrix. O(indices.count · cols).
    public func gathering(rows indices: [Int]) -> Matrix {
        var out = Matrix(rows: indices.count, cols: cols)
        storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                for (o, i) in indices.enumerated() {
                    precondition(i >= 0 && i < rows, "row index \(i) out of range 0..<\(rows)")
                    (dst.baseAddress! + o * cols).update(from: src.baseAddress! + i * cols, count: cols)
                }
            }
        }
        return out
    }

    /// Calls `body` with a pointer to the contiguous row-major elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the contiguous row-major elements.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// Throws ``LinalgError/nonFinite(row:column:)`` for the first NaN or ±Inf. O(rows · cols).
    public func checkFinite() throws {
        try storage.withUnsafeBufferPointer { p in
            for i in 0..<p.count where !p[i].isFinite {
                throw LinalgError.nonFinite(row: i / max(cols, 1), column: i % max(cols, 1))
            }
        }
    }

    /// Squared Euclidean norm of every row, accumulated in `Float`. O(rows · cols).
    public func rowSquaredNorms() -> [Float] {
        var out = [Float](repeating: 0, count: rows)
        storage.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                Kernels.rowSquaredNorms(p.baseAddress!, rows: rows, cols: cols, into: o.baseAddress!)
            }
        }
        return out
    }

    /// A copy with every non-zero row scaled to unit Euclidean norm (zero rows stay zero).
    /// Consuming: a uniquely held matrix (a temporary, or one moved in) is normalised in place.
    public consuming func normalizedRows() -> Matrix {
        let c = cols, n = rows
        var out = consume self
        out.storage.withUnsafeMutableBufferPointer { p in
            for r in 0..<n {
                let row = p.baseAddress! + r * c
                var s: Float = 0
                for j in 0..<c { s += row[j] * row[j] }
                if s > 0 {
                    let inv = 1 / s.squareRoot()
                    for j in 0..<c { row[j] *= inv }
                }
            }
        }
        return out
    }

    /// The transpose (a copy). O(rows · cols).
    public func transposed() -> Matrix {
        var out = Matrix(rows: cols, cols: rows)
        for r in 0..<rows { for c in 0..<cols { out.storage[c * rows + r] = storage[r * cols + c] } }
        return out
    }
}

/// A contiguous range of rows of a ``Matrix`` that shares its storage.
public struct MatrixSlice: Sendable {
    /// The matrix the rows belong to.
    public let base: Matrix
    /// The rows of `base` this slice covers.
    public let rowRange: Range<Int>

    /// Number of rows in the slice.
    public var rows: Int { rowRange.count }
    /// Number of columns.
    public var cols: Int { base.cols }

    /// Calls `body` with a pointer to the slice's first element; rows are `cols` apart.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try base.storage.withUnsafeBufferPointer { p in
            try body(UnsafeBufferPointer(rebasing: p[(rowRange.lowerBound * cols)..<(rowRange.upperBound * cols)]))
        }
    }

    /// Copies the slice into its own matrix.
    public func copy() -> Matrix {
        try! Matrix(rows: rows, cols: cols,
                    storage: Array(base.storage[(rowRange.lowerBound * cols)..<(rowRange.upperBound * cols)]))
    }
}
