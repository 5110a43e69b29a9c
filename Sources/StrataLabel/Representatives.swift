/// Picks representative documents for a topic: the members closest to the centroid, diversified
/// with maximal marginal relevance (MMR).
public enum Representatives {
    /// Indices (into `members`) of up to `count` representatives.
    ///
    /// - Parameters:
    ///   - similarities: cosine of each member to the topic centroid.
    ///   - vectors: unit-norm embedding of each member (row-major, `dimension` floats each).
    ///   - lambda: trade-off between closeness to the centroid (1) and diversity (0).
    ///   - pool: how many of the closest members MMR chooses from.
    /// Complexity O(pool · count · dimension).
    public static func select(similarities: [Float], vectors: [Float], dimension: Int, count: Int,
                              lambda: Float = 0.7, pool: Int = 25) -> [Int] {
        select(similarities: similarities, vector: { vectors[($0 * dimension)..<(($0 + 1) * dimension)] },
               count: count, lambda: lambda, pool: pool)
    }

    /// The same, reading member i's unit-norm vector through `vector(i)` — called only for the `pool`
    /// closest members, so a caller need not gather every member's vector.
    /// Complexity O(n log n + pool · count · dimension).
    public static func select(similarities: [Float], vector: (Int) -> ArraySlice<Float>, count: Int,
                              lambda: Float = 0.7, pool: Int = 25) -> [Int] {
        let n = similarities.count
        guard n > 0, count > 0 else { return [] }
        let candidates = Array((0..<n).sorted { similarities[$0] > similarities[$1] || (similarities[$0] == similarities[$1] && $0 < $1) }
            .prefix(max(pool, count)))
        var chosen: [Int] = []
        var remaining = candidates
        while chosen.count < min(count, candidates.count) {
            var best = 0, bestScore = -Float.infinity
            for (r, i) in remaining.enumerated() {
                var redundancy: Float = -1
                let a = vector(i)
                for j in chosen {
                    let b = vector(j)
                    var dot: Float = 0
                    for (u, v) in zip(a, b) { dot += u * v }
                    redundancy = max(redundancy, dot)
                }
                let score = chosen.isEmpty ? similarities[i] : lambda * similarities[i] - (1 - lambda) * redundancy
                if score > bestScore { bestScore = score; best = r }
            }
            chosen.append(remaining.remove(at: best))
        }
        return chosen
    }
}
