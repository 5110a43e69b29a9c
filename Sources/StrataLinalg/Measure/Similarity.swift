/// Cosine similarities between unit vectors, nearest rows and distance percentiles: the vector math
/// the pipeline needs around a fit. Inputs are unit rows unless said otherwise, so dot products are
/// cosines. The single-pair helpers sum left to right in Float (the order every published figure was
/// computed in), so moving a loop here changes no output bit.
public enum Similarity {
    /// a (m × d) · bᵀ (n × d) → m × n, one SGEMM (2·m·n·d flops).
    /// - Precondition: `a.cols == b.cols`.
    public static func cosines(_ a: Matrix, _ b: Matrix) -> Matrix {
        // Rows × columns always match the buffer, so the initializer cannot throw.
        try! Matrix(rows: a.rows, cols: b.rows, storage: ReferenceSelection.dotProducts(a, b))
    }

    /// Σ aᵢ·bᵢ, summed left to right. O(d); extra elements of the longer side are ignored.
    public static func dot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        var s: Float = 0
        for (x, y) in zip(a, b) { s += x * y }
        return s
    }

    /// The dot product of each row i of `x` (n × d) with row `assignment[i]` of `centroids` (k × d),
    /// summed left to right. O(n·d).
    /// - Precondition: equal column counts, `assignment.count == x.rows`, every entry in 0..<k.
    public static func assignedDots(_ x: Matrix, _ centroids: Matrix, assignment: [Int]) -> [Float] {
        precondition(x.cols == centroids.cols && assignment.count == x.rows, "assignedDots: shapes differ")
        let d = x.cols
        var out = [Float](repeating: 0, count: x.rows)
        x.withUnsafeBufferPointer { xp in
            centroids.withUnsafeBufferPointer { cp in
                for i in 0..<x.rows {
                    let row = xp.baseAddress! + i * d, c = cp.baseAddress! + assignment[i] * d
                    var dot: Float = 0
                    for j in 0..<d { dot += row[j] * c[j] }
                    out[i] = dot
                }
            }
        }
        return out
    }

    /// The unit-length mean direction of each label's rows of `x` (k × d): row sums, normalised; a
    /// label with no rows (or rows summing to zero) gets a zero row. O(n·d).
    /// - Precondition: every label in 0..<k.
    public static func unitCentroids(_ x: Matrix, labels: [Int], k: Int) -> Matrix {
        groupSums(x, labels: labels, k: k).normalizedRows()
    }

    /// Sum of each label's rows of `x` (k × d), rows added in order. O(n·d).
    static func groupSums(_ x: Matrix, labels: [Int], k: Int) -> Matrix {
        var sums = Matrix(rows: k, cols: x.cols)
        addGroupSums(x, labels: labels[...], into: &sums)
        return sums
    }

    /// Adds each row i of `x` (m × d) to row `labels[i]` of `sums` (k × d), in row order and in `Float`,
    /// so sums built slice by slice equal ``unitCentroids(_:labels:k:)``'s one-matrix sums bit for bit. O(m·d).
    /// - Precondition: `labels.count == x.rows`, equal column counts, every label in 0..<k.
    public static func addGroupSums(_ x: Matrix, labels: ArraySlice<Int>, into sums: inout Matrix) {
        precondition(labels.count == x.rows && sums.cols == x.cols, "addGroupSums: shapes differ")
        let d = x.cols
        x.withUnsafeBufferPointer { xp in
            sums.withUnsafeMutableBufferPointer { sp in
                for (i, label) in labels.enumerated() {
                    let row = xp.baseAddress! + i * d, sum = sp.baseAddress! + label * d
                    for j in 0..<d { sum[j] += row[j] }
                }
            }
        }
    }

    /// Mean row of each label's rows of `x` (k × d) and each label's row count. O(n·d).
    /// - Precondition: every label in 0..<k.
    public static func groupMeans(_ x: Matrix, labels: [Int], k: Int) -> (mean: Matrix, size: [Int]) {
        var sums = groupSums(x, labels: labels, k: k)
        var size = [Int](repeating: 0, count: k)
        for g in labels { size[g] += 1 }
        for g in 0..<k where size[g] > 0 { for j in 0..<x.cols { sums[g, j] /= Float(size[g]) } }
        return (sums, size)
    }

    /// Index of the largest entry of each row of `scores` (m × n, n ≥ 1); ties go to the lower index. O(m·n).
    public static func nearest(_ scores: Matrix) -> [Int] {
        (0..<scores.rows).map { r in
            var best = 0
            for j in 1..<max(1, scores.cols) where scores[r, j] > scores[r, best] { best = j }
            return best
        }
    }

    /// `rows` of `m`, in that order, each divided by its Euclidean norm (at least 1e-12, so a zero row
    /// stays zero). O(|rows|·d).
    public static func unitRows(_ m: Matrix, _ rows: [Int]) -> Matrix {
        var out = [Float](repeating: 0, count: rows.count * m.cols)
        for (c, source) in rows.enumerated() {
            let r = m.row(source)
            var norm: Float = 0
            for v in r { norm += v * v }
            norm = max(norm.squareRoot(), 1e-12)
            for (j, v) in r.enumerated() { out[c * m.cols + j] = v / norm }
        }
        return try! Matrix(rows: rows.count, cols: m.cols, storage: out)
    }

    /// The 0th…100th percentiles of `values` (nearest rank); empty for none. O(n log n).
    public static func percentiles(_ values: [Float]) -> [Float] {
        guard !values.isEmpty else { return [] }
        let s = values.sorted()
        return (0...100).map { p in s[min(s.count - 1, max(0, Int((Double(p) / 100 * Double(s.count)).rounded(.up)) - 1))] }
    }
}
