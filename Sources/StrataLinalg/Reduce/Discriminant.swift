/// Linear discriminant directions: the projection that best separates labelled groups (Fisher's LDA),
/// used to draw a 2-D map on which topics overlap far less than on the first principal components.
public enum Discriminant {
    /// The `count` directions (rows, p-dimensional) maximising between-group over within-group scatter:
    /// the top eigenvectors of S_b·v = λ·(S_w + ε·I)·v (LAPACK `dsygvd`), ε = 1e-3 · trace(S_w)/p so
    /// S_w is positive definite even with fewer rows than dimensions. Rows labelled < 0 are ignored.
    /// O(n·p² + p³). Falls back to the first axes when fewer than 2 groups are present.
    /// - Precondition: `labels.count == x.rows`.
    public static func directions(_ x: Matrix, labels: [Int], count: Int = 2) throws -> Matrix {
        precondition(labels.count == x.rows, "Discriminant.directions: \(labels.count) labels for \(x.rows) rows")
        let p = x.cols, rows = (0..<x.rows).filter { labels[$0] >= 0 }
        let groups = Set(rows.map { labels[$0] }).sorted()
        let out = min(count, p)
        guard groups.count >= 2, p >= 1 else {
            return try Matrix(rows: out, cols: p, storage: (0..<out).flatMap { r in (0..<p).map { $0 == r ? Float(1) : 0 } })
        }
        let index = Dictionary(uniqueKeysWithValues: groups.enumerated().map { ($1, $0) })
        let member = rows.map { index[labels[$0]]! }
        let data = x.gathering(rows: rows)
        let means = Similarity.groupMeans(data, labels: member, k: groups.count)
        let overall = Similarity.groupMeans(data, labels: [Int](repeating: 0, count: rows.count), k: 1)
        // Within: rows centred on their group mean, Xcᵀ·Xc. Between: Σ n_g (μ_g − μ)(μ_g − μ)ᵀ.
        var centred = data
        for (r, g) in member.enumerated() { for j in 0..<p { centred[r, j] -= means.mean[g, j] } }
        var between = Matrix(rows: groups.count, cols: p)
        for g in 0..<groups.count {
            let w = Float(means.size[g]).squareRoot()
            for j in 0..<p { between[g, j] = w * (means.mean[g, j] - overall.mean[0, j]) }
        }
        var sw = scatter(centred), sb = scatter(between)
        var trace = 0.0
        for j in 0..<p { trace += sw[j * p + j] }
        for j in 0..<p { sw[j * p + j] += max(1e-12, 1e-3 * trace / Double(p)) }
        _ = try BLAS.dsygvd(n: p, a: &sb, b: &sw)        // ascending: the last columns separate best
        var result = Matrix(rows: out, cols: p)
        for r in 0..<out {
            let column = p - 1 - r
            var norm = 0.0
            for j in 0..<p { norm += sb[j * p + column] * sb[j * p + column] }
            let scale = norm > 0 ? 1 / norm.squareRoot() : 0
            for j in 0..<p { result[r, j] = Float(sb[j * p + column] * scale) }
        }
        return result
    }

    /// mᵀ·m (p × p, row-major, full) in Double, from one SSYRK.
    static func scatter(_ m: Matrix) -> [Double] {
        let p = m.cols
        var c = [Float](repeating: 0, count: p * p)
        m.withUnsafeBufferPointer { mp in
            c.withUnsafeMutableBufferPointer { cp in
                BLAS.ssyrkTransposed(n: p, k: m.rows, alpha: 1, a: mp.baseAddress!, lda: p, beta: 0, c: cp.baseAddress!, ldc: p)
            }
        }
        var out = [Double](repeating: 0, count: p * p)
        for i in 0..<p { for j in i..<p { out[i * p + j] = Double(c[i * p + j]); out[j * p + i] = Double(c[i * p + j]) } }
        return out
    }
}
