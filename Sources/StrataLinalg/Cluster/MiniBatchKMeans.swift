import Foundation

/// Mini-batch k-means (Sculley 2010) with scikit-learn's `MiniBatchKMeans` semantics, for large n.
///
/// Each step draws `batchSize` rows with replacement, assigns them with the fused GEMM kernel, and
/// moves every touched centre by a count-based learning rate: c ← (c·N + Σ batch rows) / (N + m).
/// Centres whose accumulated count falls below `reassignmentRatio` × the largest count are re-seeded
/// from random batch rows (every ≈ 10·k samples). It stops early when the exponentially weighted
/// batch inertia has not improved for `maxNoImprovement` steps, or after `maxEpochs` passes.
/// Final labels and inertia are computed over all rows. O(steps · batch · k · d) + O(n·k·d).
public enum MiniBatchKMeans {
    /// Parameters of a mini-batch fit.
    public struct Options: Sendable {
        public var k: Int
        public var batchSize: Int = 1024
        /// Upper bound on passes over the data (scikit-learn's `max_iter`).
        public var maxEpochs: Int = 100
        public var maxNoImprovement: Int = 10
        public var reassignmentRatio: Double = 0.01
        /// Initialisations tried on a sample of `3 · batchSize` rows (at least k); the best is kept.
        public var initializations: Int = 3
        public var seed: UInt64 = 0
        public var metric: KMeans.Metric = .euclidean
        /// Polled before every step: once set, the fit throws `CancellationError`.
        public var stop: StopFlag? = nil
        public init(k: Int) { self.k = k }
    }

    /// Fits mini-batch k-means on `x`. Throws like ``KMeans/fit(_:options:)``.
    public static func fit(_ x: Matrix, options: Options) throws -> KMeansModel {
        var base = KMeans.Options(k: options.k)
        base.metric = options.metric
        try KMeans.validate(x, options: base)
        let n = x.rows, d = x.cols, k = options.k
        guard options.batchSize >= 1 else {
            throw LinalgError.invalidParameter(name: "batchSize", reason: "must be ≥ 1")
        }
        var rng = SeededGenerator(seed: options.seed)
        let engine = AssignmentEngine(parallelism: .tiles)

        var centroids = try initialCentroids(x, options: options, rng: &rng, engine: engine)

        let batch = min(options.batchSize, n)
        let steps = max(1, options.maxEpochs * n / batch)
        var counts = [Double](repeating: 0, count: k)
        var sinceReassign = 0
        var ewa: Double? = nil, ewaMin = Double.infinity, noImprovement = 0
        var labels = [Int](repeating: 0, count: batch), dist = [Float](repeating: 0, count: batch)
        var unused: [Float] = []
        let alpha = min(1, Double(batch) * 2 / Double(n + 1))
        var stepsRun = 0
        for step in 0..<steps {
            try options.stop?.check()
            stepsRun = step + 1
            let idx = (0..<batch).map { _ in Int(rng.next() % UInt64(n)) }
            let xb = x.gathering(rows: idx)
            let pass = engine.assign(xb, xNorms: xb.rowSquaredNorms(), centroids: centroids, labels: &labels,
                                     distances: &dist, secondBuffer: &unused, accumulate: true)
            for j in 0..<k where pass.counts[j] > 0 {
                let old = counts[j], m = Double(pass.counts[j])
                for c in 0..<d {
                    centroids[j, c] = Float((Double(centroids[j, c]) * old + pass.sums[j * d + c]) / (old + m))
                }
                counts[j] = old + m
            }
            // Re-seed starving centres from random batch rows.
            sinceReassign += batch
            if options.reassignmentRatio > 0 && (counts.contains(0) || sinceReassign >= 10 * k) {
                sinceReassign = 0
                reseedStarving(&centroids, counts: &counts, batch: xb, ratio: options.reassignmentRatio, rng: &rng)
            }
            if options.metric == .cosine { centroids = centroids.normalizedRows() }
            // Early stopping on the smoothed batch inertia.
            let batchInertia = pass.inertia / Double(batch)
            guard let prev = ewa else { ewa = batchInertia; continue }
            let now = prev * (1 - alpha) + batchInertia * alpha
            ewa = now
            if now < ewaMin { ewaMin = now; noImprovement = 0 } else { noImprovement += 1 }
            if noImprovement >= options.maxNoImprovement { break }
        }

        var allLabels = [Int](repeating: 0, count: n), allDist = [Float](repeating: 0, count: n)
        let final = engine.assign(x, xNorms: x.rowSquaredNorms(), centroids: centroids, labels: &allLabels,
                                  distances: &allDist, secondBuffer: &unused, accumulate: false)
        let inertia = options.metric == .cosine ? final.inertia / 2 : final.inertia
        return KMeansModel(centroids: centroids, labels: allLabels, inertia: inertia,
                           iterations: stepsRun, converged: stepsRun < steps, metric: options.metric, parallelism: .tiles)
    }

    /// k-means++ on `initializations` random samples of `3 · batchSize` rows (at least k), each scored
    /// on a held-out validation sample; the best start is returned (unit rows for the cosine metric).
    static func initialCentroids(_ x: Matrix, options: Options, rng: inout SeededGenerator,
                                 engine: AssignmentEngine) throws -> Matrix {
        let n = x.rows, k = options.k
        let initSize = min(n, max(3 * options.batchSize, k))
        let validation = x.gathering(rows: (0..<initSize).map { _ in Int(rng.next() % UInt64(n)) })
        let validationNorms = validation.rowSquaredNorms()
        var centroids = Matrix(rows: k, cols: x.cols)
        var bestInertia = Double.infinity
        for _ in 0..<max(1, options.initializations) {
            let sample = x.gathering(rows: (0..<initSize).map { _ in Int(rng.next() % UInt64(n)) })
            var c = try KMeans.kMeansPlusPlus(sample, k: k, rng: &rng, xNorms: sample.rowSquaredNorms(),
                                              parallelism: .tiles).centroids
            if options.metric == .cosine { c = c.normalizedRows() }
            var l = [Int](repeating: 0, count: initSize), dist = [Float](repeating: 0, count: initSize)
            var unused: [Float] = []
            let pass = engine.assign(validation, xNorms: validationNorms, centroids: c, labels: &l,
                                     distances: &dist, secondBuffer: &unused, accumulate: false)
            if pass.inertia < bestInertia { bestInertia = pass.inertia; centroids = c }
        }
        return centroids
    }

    /// Moves centres whose count is below `ratio` × the largest to random rows of `batch` (at most half
    /// the batch's rows, the emptiest first), each given the smallest count among the kept centres.
    static func reseedStarving(_ centroids: inout Matrix, counts: inout [Double], batch xb: Matrix, ratio: Double,
                               rng: inout SeededGenerator) {
        let k = centroids.rows, d = centroids.cols, batch = xb.rows
        let maxCount = counts.max() ?? 0
        var starving = (0..<k).filter { counts[$0] < ratio * maxCount }
        if Double(starving.count) > 0.5 * Double(batch) {
            starving = Array(starving.sorted { counts[$0] < counts[$1] }.prefix(batch / 2))
        }
        guard !starving.isEmpty else { return }
        var pool = Array(0..<batch)
        let keptMin = (0..<k).filter { !starving.contains($0) }.map { counts[$0] }.min() ?? 0
        for j in starving {
            let pick = Int(rng.next() % UInt64(pool.count))
            let r = pool.remove(at: pick)
            for c in 0..<d { centroids[j, c] = xb[r, c] }
            counts[j] = keptMin
        }
    }
}

extension KMeans {
    /// Row count above which ``fitAuto(_:options:)`` switches from Lloyd to mini-batch k-means.
    public static let miniBatchThreshold = 500_000

    /// Lloyd's k-means for up to ``miniBatchThreshold`` rows, mini-batch k-means above it (same k,
    /// metric, seed and restarts).
    public static func fitAuto(_ x: Matrix, options: Options) throws -> KMeansModel {
        if x.rows <= miniBatchThreshold { return try fit(x, options: options) }
        var mb = MiniBatchKMeans.Options(k: options.k)
        mb.seed = options.seed
        mb.metric = options.metric
        mb.initializations = max(options.restarts, 3)
        mb.stop = options.stop
        return try MiniBatchKMeans.fit(x, options: mb)
    }
}
