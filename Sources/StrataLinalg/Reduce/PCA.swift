/// Principal component analysis fitted by an eigen-decomposition of the covariance matrix.
///
/// Fit: the column means are accumulated in `Double`; rows are centred tile by tile and the d×d
/// covariance is formed with `SSYRK` per tile (n·d² flops in total), with the tile products summed
/// in `Double` so that float32 data with a large mean or many rows keeps its precision. The
/// covariance is decomposed with LAPACK `dsyevd` (O(d³)). This matches scikit-learn's
/// `PCA(svd_solver="covariance_eigh")` and is fastest when n ≫ d, the usual case for embeddings.
///
/// Sign convention: in each component the entry of largest magnitude is positive (scikit-learn's
/// `svd_flip(u_based_decision=False)`), so results are deterministic.
public struct PCA: Sendable {
    /// How many components to keep.
    public enum Components: Sendable, Equatable {
        /// Exactly this many (1 ≤ count ≤ d).
        case count(Int)
        /// The fewest components whose cumulative explained-variance ratio exceeds this fraction
        /// (0 < fraction < 1), optionally capped.
        case varianceFraction(Double, max: Int? = nil)
    }

    /// Column means of the training data (d values).
    public let mean: [Float]
    /// Principal axes, one per row (p × d), sorted by decreasing explained variance, unit norm.
    public let components: Matrix
    /// Variance along each component (eigenvalue of the covariance with the n−1 denominator).
    public let explainedVariance: [Double]
    /// Share of the total variance along each component.
    public let explainedVarianceRatio: [Double]
    /// Singular values of the centred data, √(explainedVariance · (n−1)).
    public let singularValues: [Double]
    /// Total variance of the training data (trace of the covariance).
    public let totalVariance: Double
    /// Whether ``transform(_:)`` divides each coordinate by √explainedVariance.
    public let whiten: Bool
    /// Number of training rows.
    public let sampleCount: Int

    /// Input dimension d.
    public var inputDimension: Int { components.cols }
    /// Output dimension p.
    public var outputDimension: Int { components.rows }

    /// Rows per tile in fit and transform.
    static let tileRows = 2048


    /// Fits PCA on `x` (n × d). O(n·d² + d³) time, O(d² + tile·d) extra memory.
    ///
    /// - Throws: ``LinalgError/tooFewRows(operation:needed:got:)`` for n < 2,
    ///   ``LinalgError/nonFinite(row:column:)``, ``LinalgError/zeroVariance`` when every column is
    ///   constant, ``LinalgError/invalidParameter(name:reason:)`` for a bad component request, and
    ///   ``LinalgError/lapackFailure(routine:info:)``.
    ///
    /// - Parameter parallelism: `.tiles` (default: row tiles on all cores, single-threaded SYRK each),
    ///   `.blas` (one tile after another, each SYRK multi-threaded) or `.serial` (one tile after another,
    ///   OpenBLAS as the caller set it); see BENCHMARKS.md for the figures.
    public static func fit(_ x: Matrix, components: Components, whiten: Bool = false,
                           parallelism: KMeans.Parallelism = .tiles) throws -> PCA {
        guard x.rows >= 2 else { throw LinalgError.tooFewRows(operation: "PCA.fit", needed: 2, got: x.rows) }
        guard x.cols >= 1 else { throw LinalgError.invalidParameter(name: "x", reason: "has no columns") }
        try validate(components, dimension: x.cols)
        var accumulator = Accumulator(dimension: x.cols, parallelism: parallelism)
        try accumulator.add(x)
        return try accumulator.fit(components: components, whiten: whiten)
    }

    /// The fitted PCA from a covariance (row-major d × d, symmetric, n−1 denominator) of `n` rows with
    /// column means `mean`: `dsyevd`, then the components `components` asks for, signed.
    static func decompose(_ covariance: [Double], mean: [Float], rows n: Int, scale: Double, components: Components,
                          whiten: Bool) throws -> PCA {
        var cov = covariance
        let d = mean.count
        var total = 0.0
        for i in 0..<d { total += cov[i * d + i] }
        guard total > 1e-12 * max(1, scale * scale) else { throw LinalgError.zeroVariance }
        let eigenvalues = try BLAS.dsyevd(n: d, a: &cov)  // ascending; columns of cov are eigenvectors
        let order = Array((0..<d).reversed())
        let ev = order.map { max(0, eigenvalues[$0]) }
        let ratio = ev.map { $0 / total }
        let p: Int
        switch components {
        case .count(let c): p = c
        case .varianceFraction(let f, let cap):
            var cum = 0.0, kept = 0
            for r in ratio { cum += r; kept += 1; if cum > f { break } }
            p = min(kept, cap ?? d, d)
        }
        let denom = Double(n - 1)
        return PCA(mean: mean, components: signedComponents(cov, columns: Array(order.prefix(p)), dimension: d),
                   explainedVariance: Array(ev.prefix(p)), explainedVarianceRatio: Array(ratio.prefix(p)),
                   singularValues: ev.prefix(p).map { ($0 * denom).squareRoot() },
                   totalVariance: total, whiten: whiten, sampleCount: n)
    }

    /// Throws ``LinalgError/invalidParameter(name:reason:)`` for a component request that `d` columns
    /// cannot meet.
    static func validate(_ components: Components, dimension d: Int) throws {
        switch components {
        case .count(let p):
            guard p >= 1 && p <= d else {
                throw LinalgError.invalidParameter(name: "components", reason: "count \(p) must be in 1...\(d)")
            }
        case .varianceFraction(let f, let cap):
            guard f > 0 && f < 1 else {
                throw LinalgError.invalidParameter(name: "components", reason: "variance fraction \(f) must be in (0, 1)")
            }
            if let cap, cap < 1 {
                throw LinalgError.invalidParameter(name: "components", reason: "cap \(cap) must be ≥ 1")
            }
        }
    }

    /// The upper triangle (row-major d × d, i ≤ j) of Σ (xᵢ − mean)(xᵢ − mean)ᵀ in Double. Per worker,
    /// tiles are centred and multiplied with SSYRK (OpenBLAS single-threaded inside); the products are
    /// summed into per-worker Double accumulators, then reduced in worker order. O(n·d²).
    static func scatter(_ x: Matrix, mean: [Float], parallelism: KMeans.Parallelism) -> [Double] {
        let n = x.rows, d = x.cols
        let (workers, blasThreads) = parallelism.plan
        let tileRows = parallelism == .tiles ? Self.tileRows : 16_384
        var partials = [[Double]](repeating: [], count: workers)
        x.withUnsafeBufferPointer { xp in
            mean.withUnsafeBufferPointer { mp in
                partials.withUnsafeMutableBufferPointer { parts in
                    let partsBase = parts.baseAddress!
                    Parallel.rowTiles(rows: n, tileRows: tileRows, workers: workers, blasThreads: blasThreads) { w, tiles in
                        var acc = [Double](repeating: 0, count: d * d)
                        var tile = [Float](repeating: 0, count: tileRows * d)
                        var c = [Float](repeating: 0, count: d * d)
                        for rows in tiles {
                            tile.withUnsafeMutableBufferPointer { tp in
                                for (r, i) in rows.enumerated() {
                                    let src = xp.baseAddress! + i * d, dst = tp.baseAddress! + r * d
                                    for j in 0..<d { dst[j] = src[j] - mp[j] }
                                }
                                c.withUnsafeMutableBufferPointer { cp in
                                    BLAS.ssyrkTransposed(n: d, k: rows.count, alpha: 1, a: tp.baseAddress!, lda: d,
                                                         beta: 0, c: cp.baseAddress!, ldc: d)
                                    for i in 0..<d { for j in i..<d { acc[i * d + j] += Double(cp[i * d + j]) } }
                                }
                            }
                        }
                        (partsBase + w).initialize(to: acc)
                    }
                }
            }
        }
        var cov = [Double](repeating: 0, count: d * d)
        for p in partials where !p.isEmpty { for i in 0..<(d * d) { cov[i] += p[i] } }
        return cov
    }

    /// Rows of the component matrix from eigenvector `columns` of `vectors` (d × d, column-major
    /// eigenvectors), each signed so its largest-magnitude entry is positive (scikit-learn's convention).
    static func signedComponents(_ vectors: [Double], columns: [Int], dimension d: Int) -> Matrix {
        var comp = Matrix(rows: columns.count, cols: d)
        for (o, col) in columns.enumerated() {
            var best = 0.0, bestAbs = -1.0
            for i in 0..<d { let v = vectors[i * d + col]; if abs(v) > bestAbs { bestAbs = abs(v); best = v } }
            let sign: Double = best < 0 ? -1 : 1
            for i in 0..<d { comp[o, i] = Float(sign * vectors[i * d + col]) }
        }
        return comp
    }

    /// Projects `x` (m × d) onto the components: (x − mean)·Wᵀ, optionally whitened. Rows are centred
    /// per tile and each tile is one SGEMM (2·m·d·p flops); tiles run in parallel.
    public func transform(_ x: Matrix) throws -> Matrix {
        let d = inputDimension, p = outputDimension
        guard x.cols == d else {
            throw LinalgError.shapeMismatch(operation: "PCA.transform", expected: "\(d) columns", got: "\(x.cols) columns")
        }
        try x.checkFinite()
        let m = x.rows
        var out = Matrix(rows: m, cols: p)
        let scale: [Float] = whiten ? explainedVariance.map { $0 > 0 ? Float(1 / $0.squareRoot()) : 0 } : []
        let tr = Self.tileRows
        x.withUnsafeBufferPointer { xp in
            mean.withUnsafeBufferPointer { mp in
                components.withUnsafeBufferPointer { wp in
                    out.withUnsafeMutableBufferPointer { op in
                        let obase = op.baseAddress!
                        Parallel.rowTiles(rows: m, tileRows: tr) { _, tiles in
                            var tile = [Float](repeating: 0, count: tr * d)
                            tile.withUnsafeMutableBufferPointer { tp in
                                for span in tiles {
                                    let r0 = span.lowerBound, rows = span.count
                                    for r in 0..<rows {
                                        let src = xp.baseAddress! + (r0 + r) * d, dst = tp.baseAddress! + r * d
                                        for j in 0..<d { dst[j] = src[j] - mp[j] }
                                    }
                                    BLAS.gemm(.none, .transpose, m: rows, n: p, k: d, alpha: 1,
                                               a: tp.baseAddress!, lda: d, b: wp.baseAddress!, ldb: d,
                                               beta: 0, c: obase + r0 * p, ldc: p)
                                    if !scale.isEmpty {
                                        for r in 0..<rows { for j in 0..<p { obase[(r0 + r) * p + j] *= scale[j] } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

extension PCA {
    /// A fitted, unwhitened projection restored from its parts (a saved model): `mean` has d entries,
    /// `components` is p × d. Only ``transform(_:)`` uses them; the variance fields are left empty.
    public init(mean: [Float], components: Matrix, sampleCount: Int) throws {
        guard mean.count == components.cols else {
            throw LinalgError.shapeMismatch(operation: "PCA.init", expected: "\(components.cols) means", got: "\(mean.count)")
        }
        self.mean = mean
        self.components = components
        explainedVariance = []
        explainedVarianceRatio = []
        singularValues = []
        totalVariance = 0
        whiten = false
        self.sampleCount = sampleCount
    }
}
