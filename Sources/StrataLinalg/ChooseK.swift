/// Chooses the number of clusters by scoring a range of k.
///
/// Criterion (documented, cheap): for every candidate k, fit k-means (one restart, seeded) and score
/// it with the **silhouette on a fixed random sample** of at most `sampleSize` rows (exact within the
/// sample, O(s²·d) per k); the k with the highest sampled silhouette wins, ties going to the smaller
/// k. The simplified silhouette over all rows (O(n) from the assignment's two nearest distances) is
/// reported beside it. The whole curve is returned so callers can show or override the choice.
public enum ChooseK {
    /// One scored candidate.
    public struct Point: Sendable, Equatable {
        public let k: Int
        public let sampledSilhouette: Double
        public let simplifiedSilhouette: Double
        public let inertia: Double
    }

    /// The scored curve and the chosen k with its model.
    public struct Result: Sendable {
        public let curve: [Point]
        public let best: Int
        public let model: KMeansModel
    }

    /// Candidate ks: all of `range` when it has at most `maxCandidates` values, otherwise a
    /// geometric grid over it (both ends included).
    public static func candidates(_ range: ClosedRange<Int>, maxCandidates: Int = 12) -> [Int] {
        if range.count <= maxCandidates { return Array(range) }
        let lo = Double(range.lowerBound), hi = Double(range.upperBound)
        var ks = Set<Int>()
        for i in 0..<maxCandidates {
            let f = Double(i) / Double(maxCandidates - 1)
            ks.insert(Int((lo * pow(hi / lo, f)).rounded()))
        }
        return ks.sorted()
    }

    /// Fits and scores every candidate k in `range` (2 ≤ lower bound, upper bound ≤ n − 1).
    /// O(|candidates| · (iterations·n·k·d + s²·d)).
    public static func choose(_ x: Matrix, range: ClosedRange<Int>, base: KMeans.Options,
                              sampleSize: Int = 5_000, maxCandidates: Int = 12,
                              progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Result {
        guard range.lowerBound >= 2 && range.upperBound <= x.rows - 1 else {
            throw LinalgError.invalidParameter(name: "range",
                                               reason: "k range \(range) must lie within 2...\(x.rows - 1)")
        }
        let ks = candidates(range, maxCandidates: maxCandidates)
        var curve: [Point] = []
        var best: (score: Double, model: KMeansModel)?
        let distance: ClusterMetrics.Distance = base.metric == .cosine ? .cosine : .euclidean
        for (i, k) in ks.enumerated() {
            var opts = base
            opts.k = k
            let model = try KMeans.fitAuto(x, options: opts)
            let score: Double
            if Set(model.labels).count < 2 {
                score = -1
            } else {
                score = try ClusterMetrics.sampledSilhouette(x, labels: model.labels, sampleSize: sampleSize,
                                                             seed: base.seed, distance: distance)
            }
            let simple = ClusterMetrics.simplifiedSilhouette(try model.predict(x))
            curve.append(Point(k: k, sampledSilhouette: score, simplifiedSilhouette: simple, inertia: model.inertia))
            if best == nil || score > best!.score { best = (score, model) }
            progress?(i + 1, ks.count)
        }
        return Result(curve: curve, best: best!.model.k, model: best!.model)
    }
}

import Foundation
