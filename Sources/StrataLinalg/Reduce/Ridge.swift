import Foundation

/// Ridge regression without an intercept: the p × q map W minimising ‖X·W − Y‖² + λ·m·‖W‖² for m rows
/// of X (p columns) and Y (q columns). Used to fit a static table to a corpus (a map from static to
/// MiniLM vectors); no intercept, so the map can be folded into a table's rows.
public enum Ridge {
    /// The map for `x` (m × p) and `y` (m × q), penalty `lambda` per row (so its effect does not change
    /// with m). Sums in `Double` (dgemm), solved through the eigendecomposition of XᵀX (`dsyevd`,
    /// single-threaded). O(m·p·(p + q) + p³).
    ///
    /// - Throws: ``LinalgError/shapeMismatch(operation:expected:got:)`` when the row counts differ,
    ///   ``LinalgError/tooFewRows(operation:needed:got:)`` for m < 2,
    ///   ``LinalgError/invalidParameter(name:reason:)`` for λ ≤ 0, ``LinalgError/nonFinite(row:column:)``
    ///   for a non-finite entry, and LAPACK failures.
    public static func fit(x: Matrix, y: Matrix, lambda: Double) throws -> Matrix {
        guard x.rows == y.rows else {
            throw LinalgError.shapeMismatch(operation: "Ridge.fit", expected: "\(x.rows) rows of targets", got: "\(y.rows)")
        }
        guard x.rows >= 2 else { throw LinalgError.tooFewRows(operation: "Ridge.fit", needed: 2, got: x.rows) }
        guard lambda > 0, lambda.isFinite else {
            throw LinalgError.invalidParameter(name: "lambda", reason: "must be a positive number, got \(lambda)")
        }
        try x.checkFinite()
        try y.checkFinite()
        return try Normal(x: x, y: y).map(penalty: lambda * Double(x.rows))
    }

    /// The penalty among `candidates` whose map, fitted on all rows but every `holdOutEvery`-th, gives the
    /// held-out rows the highest mean cosine to their targets; then the map of all rows with it.
    public struct Choice: Sendable {
        /// p × q, fitted on every row with ``lambda``.
        public let map: Matrix
        public let lambda: Double
        /// Mean held-out cosine of each candidate, in the order given.
        public let heldOutCosine: [Double]
    }

    /// ``fit(x:y:lambda:)`` with the penalty chosen on held-out rows (see ``Choice``): one
    /// eigendecomposition for all candidates, one more for the final fit. O(m·p·(p + q) + p³ + c·m·p·q/h).
    /// - Throws: as ``fit(x:y:lambda:)``; ``LinalgError/tooFewRows(operation:needed:got:)`` when the split
    ///   leaves fewer than 2 rows on either side; `invalidParameter` for an empty or non-positive candidate list.
    public static func fitChoosingPenalty(x: Matrix, y: Matrix, candidates: [Double], holdOutEvery h: Int = 10) throws -> Choice {
        guard !candidates.isEmpty, candidates.allSatisfy({ $0 > 0 && $0.isFinite }), h >= 2 else {
            throw LinalgError.invalidParameter(name: "candidates", reason: "need at least one positive penalty and holdOutEvery ≥ 2")
        }
        guard x.rows == y.rows else {
            throw LinalgError.shapeMismatch(operation: "Ridge.fit", expected: "\(x.rows) rows of targets", got: "\(y.rows)")
        }
        let held = Array(stride(from: h - 1, to: x.rows, by: h))
        let kept = (0..<x.rows).filter { $0 % h != h - 1 }
        guard held.count >= 2, kept.count >= 2 else { throw LinalgError.tooFewRows(operation: "Ridge.fitChoosingPenalty", needed: 2 * h, got: x.rows) }
        try x.checkFinite()
        try y.checkFinite()
        let train = try Normal(x: x.gathering(rows: kept), y: y.gathering(rows: kept))
        let xh = x.gathering(rows: held), yh = y.gathering(rows: held)
        let cosines = try candidates.map { lambda -> Double in
            let w = try train.map(penalty: lambda * Double(kept.count))
            return meanCosine(try product(xh, w), yh)
        }
        let best = cosines.indices.max { cosines[$0] < cosines[$1] }!
        let map = try Normal(x: x, y: y).map(penalty: candidates[best] * Double(x.rows))
        return Choice(map: map, lambda: candidates[best], heldOutCosine: cosines)
    }

    /// The normal equations of a ridge problem: XᵀX = V·diag(e)·Vᵀ (eigendecomposed once) and B = XᵀY.
    struct Normal {
        let p: Int, q: Int
        var v: [Double]
        let e: [Double]
        let cross: [Double]

        init(x: Matrix, y: Matrix) throws {
            let m = x.rows
            p = x.cols
            q = y.cols
            let xd = x.storage.map(Double.init), yd = y.storage.map(Double.init)
            var gram = [Double](repeating: 0, count: p * p), b = [Double](repeating: 0, count: p * q)
            BLAS.gemm(.transpose, .none, m: p, n: p, k: m, alpha: 1.0, a: xd, lda: p, b: xd, ldb: p, beta: 0.0, c: &gram, ldc: p)
            BLAS.gemm(.transpose, .none, m: p, n: q, k: m, alpha: 1.0, a: xd, lda: p, b: yd, ldb: q, beta: 0.0, c: &b, ldc: q)
            e = try BLAS.dsyevd(n: p, a: &gram)
            v = gram
            cross = b
        }

        /// W = V·diag(1/(e + penalty))·Vᵀ·B.
        func map(penalty: Double) throws -> Matrix {
            var t = [Double](repeating: 0, count: p * q)
            BLAS.gemm(.transpose, .none, m: p, n: q, k: p, alpha: 1.0, a: v, lda: p, b: cross, ldb: q, beta: 0.0, c: &t, ldc: q)
            for i in 0..<p {
                let s = 1 / (max(e[i], 0) + penalty)
                for j in 0..<q { t[i * q + j] *= s }
            }
            var w = [Double](repeating: 0, count: p * q)
            BLAS.gemm(.none, .none, m: p, n: q, k: p, alpha: 1.0, a: v, lda: p, b: t, ldb: q, beta: 0.0, c: &w, ldc: q)
            return try Matrix(rows: p, cols: q, storage: w.map(Float.init))
        }
    }

    /// X·W in `Float` (sgemm).
    static func product(_ x: Matrix, _ w: Matrix) throws -> Matrix {
        var out = [Float](repeating: 0, count: x.rows * w.cols)
        BLAS.gemm(.none, .none, m: x.rows, n: w.cols, k: x.cols, alpha: Float(1), a: x.storage, lda: x.cols,
                  b: w.storage, ldb: w.cols, beta: Float(0), c: &out, ldc: w.cols)
        return try Matrix(rows: x.rows, cols: w.cols, storage: out)
    }

    /// Mean over rows of cos(a_i, b_i); a zero row counts 0.
    static func meanCosine(_ a: Matrix, _ b: Matrix) -> Double {
        var total = 0.0
        for i in 0..<a.rows {
            var dot = 0.0, na = 0.0, nb = 0.0
            for j in 0..<a.cols {
                let x = Double(a[i, j]), y = Double(b[i, j])
                dot += x * y; na += x * x; nb += y * y
            }
            if na > 0 && nb > 0 { total += dot / (na * nb).squareRoot() }
        }
        return total / Double(max(1, a.rows))
    }
}
