extension PCA {
    /// PCA's sufficient statistics gathered over slices of rows, so a fit never holds the whole
    /// n × d matrix: ``add(_:)`` each slice once (any slice sizes, in any order), then ``fit(components:whiten:)``.
    ///
    /// Rows are shifted by the float column means of the first slice before the scatter is formed
    /// (SSYRK per tile, tile products summed in `Double`, as ``PCA/fit(_:components:whiten:parallelism:)``
    /// does); the fit corrects the scatter by n·δδᵀ for δ = shift − mean, exact algebra. With one
    /// slice the shift *is* the mean's float rounding, so one `add` reproduces the one-matrix fit
    /// bit for bit. With many slices the shift is close to the mean whenever the first slice is a fair
    /// part of the data; a first slice far from the rest costs float32 precision in the tile products
    /// (of order 1e−7·|δ|² per entry), never correctness.
    ///
    /// Memory: O(d²) `Double` plus one tile per worker, whatever the row count.
    public struct Accumulator: Sendable {
        /// Input dimension d.
        public let dimension: Int
        /// Rows added so far.
        public private(set) var count = 0
        let parallelism: KMeans.Parallelism
        /// Subtracted from every row before the scatter: the first slice's float column means.
        var shift: [Float] = []
        /// Σ x over every row added, per column.
        var columnSum: [Double]
        /// Σ (x − shift)(x − shift)ᵀ, upper triangle (i ≤ j) of a row-major d × d matrix.
        var scatter: [Double]

        /// An empty accumulator for rows of `dimension` (≥ 1) columns.
        public init(dimension: Int, parallelism: KMeans.Parallelism = .tiles) {
            precondition(dimension >= 1, "PCA.Accumulator: dimension must be ≥ 1")
            self.dimension = dimension
            self.parallelism = parallelism
            columnSum = [Double](repeating: 0, count: dimension)
            scatter = [Double](repeating: 0, count: dimension * dimension)
        }

        /// Adds the rows of `x` (m × d, m ≥ 0). O(m·d²).
        /// - Throws: ``LinalgError/shapeMismatch(operation:expected:got:)`` for another width and
        ///   ``LinalgError/nonFinite(row:column:)`` (row counted over every row added so far).
        public mutating func add(_ x: Matrix) throws {
            guard x.cols == dimension else {
                throw LinalgError.shapeMismatch(operation: "PCA.Accumulator.add", expected: "\(dimension) columns", got: "\(x.cols) columns")
            }
            guard x.rows > 0 else { return }
            // A double sum of finite floats cannot overflow: a non-finite sum means a non-finite entry.
            let sums = PCA.columnSums(x)
            if sums.contains(where: { !$0.isFinite }) {
                do { try x.checkFinite() } catch LinalgError.nonFinite(let row, let column) {
                    throw LinalgError.nonFinite(row: count + row, column: column)
                }
            }
            if shift.isEmpty { shift = sums.map { Float($0 / Double(x.rows)) } }
            let s = PCA.scatter(x, mean: shift, parallelism: parallelism)
            for i in 0..<(dimension * dimension) { scatter[i] += s[i] }
            for j in 0..<dimension { columnSum[j] += sums[j] }
            count += x.rows
        }

        /// The PCA of every row added. O(d³).
        /// - Throws: as ``PCA/fit(_:components:whiten:parallelism:)``: fewer than 2 rows, a bad
        ///   component request, every column constant, or a LAPACK failure.
        public func fit(components: Components, whiten: Bool = false) throws -> PCA {
            guard count >= 2 else { throw LinalgError.tooFewRows(operation: "PCA.fit", needed: 2, got: count) }
            try PCA.validate(components, dimension: dimension)
            let d = dimension, n = Double(count)
            let meanD = columnSum.map { $0 / n }
            var delta = [Double](repeating: 0, count: d)
            for j in 0..<d { delta[j] = Double(shift[j]) - meanD[j] }
            var cov = [Double](repeating: 0, count: d * d)
            for i in 0..<d {
                for j in i..<d {
                    let v = (scatter[i * d + j] - n * delta[i] * delta[j]) / (n - 1)
                    cov[i * d + j] = v
                    cov[j * d + i] = v
                }
            }
            let scale = meanD.reduce(0) { max($0, abs($1)) }
            return try PCA.decompose(cov, mean: meanD.map { Float($0) }, rows: count, scale: scale, components: components,
                                     whiten: whiten)
        }
    }

    /// Column sums of `x` in `Double`, accumulated in parallel row chunks and reduced in chunk order. O(n·d).
    static func columnSums(_ x: Matrix) -> [Double] {
        let n = x.rows, d = x.cols
        let ranges = Parallel.chunkRanges(count: n)
        var partial = [Double](repeating: 0, count: ranges.count * d)
        x.withUnsafeBufferPointer { xp in
            partial.withUnsafeMutableBufferPointer { pp in
                let pbase = pp.baseAddress!
                Parallel.chunks(count: n, workers: ranges.count) { w, range in
                    let acc = pbase + w * d
                    for r in range {
                        let row = xp.baseAddress! + r * d
                        for j in 0..<d { acc[j] += Double(row[j]) }
                    }
                }
            }
        }
        var sum = [Double](repeating: 0, count: d)
        for w in 0..<ranges.count { for j in 0..<d { sum[j] += partial[w * d + j] } }
        return sum
    }
}
