/// Minimum-cost assignment (the linear sum assignment problem) by shortest augmenting paths with
/// dual potentials (Jonker–Volgenant style, O(r²·c) for r ≤ c).
///
/// Used to keep topic IDs stable between refits: cost = −cosine between old and new centroids.
public enum Hungarian {
    /// The optimal matching: `rows[i]` is matched to `columns[i]`; `rows` is ascending and has
    /// min(rowCount, columnCount) entries, as `scipy.optimize.linear_sum_assignment` returns.
    public struct Matching: Sendable, Equatable {
        public let rows: [Int]
        public let columns: [Int]
        /// Sum of the matched costs (in the caller's sense: maximised when `maximize` was set).
        public let total: Double
    }

    /// Solves the assignment problem for a row-major `rowCount × columnCount` cost matrix.
    /// - Throws: ``LinalgError/shapeMismatch(operation:expected:got:)`` or
    ///   ``LinalgError/nonFinite(row:column:)``.
    public static func solve(costs: [Double], rowCount: Int, columnCount: Int, maximize: Bool = false) throws -> Matching {
        guard costs.count == rowCount * columnCount else {
            throw LinalgError.shapeMismatch(operation: "Hungarian.solve", expected: "\(rowCount)×\(columnCount)",
                                            got: "\(costs.count) elements")
        }
        if let bad = costs.firstIndex(where: { !$0.isFinite }) {
            throw LinalgError.nonFinite(row: bad / max(columnCount, 1), column: bad % max(columnCount, 1))
        }
        if rowCount == 0 || columnCount == 0 { return Matching(rows: [], columns: [], total: 0) }
        let sign = maximize ? -1.0 : 1.0
        let transposed = rowCount > columnCount
        let r = transposed ? columnCount : rowCount, c = transposed ? rowCount : columnCount
        func cost(_ i: Int, _ j: Int) -> Double {
            sign * (transposed ? costs[j * columnCount + i] : costs[i * columnCount + j])
        }
        // 1-based potentials u (rows), v (columns); p[j] = row matched to column j (0 = none).
        var u = [Double](repeating: 0, count: r + 1), v = [Double](repeating: 0, count: c + 1)
        var p = [Int](repeating: 0, count: c + 1), way = [Int](repeating: 0, count: c + 1)
        for i in 1...r {
            p[0] = i
            var j0 = 0
            var minv = [Double](repeating: .infinity, count: c + 1)
            var used = [Bool](repeating: false, count: c + 1)
            repeat {
                used[j0] = true
                let i0 = p[j0]
                var delta = Double.infinity, j1 = 0
                for j in 1...c where !used[j] {
                    let cur = cost(i0 - 1, j - 1) - u[i0] - v[j]
                    if cur < minv[j] { minv[j] = cur; way[j] = j0 }
                    if minv[j] < delta { delta = minv[j]; j1 = j }
                }
                for j in 0...c {
                    if used[j] { u[p[j]] += delta; v[j] -= delta } else { minv[j] -= delta }
                }
                j0 = j1
            } while p[j0] != 0
            repeat {
                let j1 = way[j0]
                p[j0] = p[j1]
                j0 = j1
            } while j0 != 0
        }
        var pairs: [(Int, Int)] = []
        for j in 1...c where p[j] != 0 {
            pairs.append(transposed ? (j - 1, p[j] - 1) : (p[j] - 1, j - 1))
        }
        pairs.sort { $0.0 < $1.0 }
        let total = pairs.reduce(0.0) { $0 + costs[$1.0 * columnCount + $1.1] }
        return Matching(rows: pairs.map(\.0), columns: pairs.map(\.1), total: total)
    }
}
