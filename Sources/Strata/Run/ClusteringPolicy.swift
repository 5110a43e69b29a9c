import Foundation
import StrataLinalg
import StrataStore

/// How many topics a fit looks for and where its k-means starts — the one home of that decision.
/// `strata run`, `strata fit --shared` (the same fit over the shared store's vectors) and `strata
/// estimate` all ask here: the auto range (capped by the corpus's distinct texts), a fixed `--k` and
/// its checks, the sampled-silhouette scan, warm starts from the previous topics and seed topics.
public enum ClusteringPolicy {
    /// Default k range for `--k auto`: ⌊√n / 4⌋ … ⌊√n⌋ (at least 2…3, at most 50…100), so topics stay
    /// browsable as the corpus grows; a low-variety corpus (`distinct` texts below the top) caps it at
    /// `distinct`, since documents with identical text share one vector. O(1).
    static func autoRange(documents n: Int, distinct: Int) -> ClosedRange<Int> {
        let root = Double(n).squareRoot()
        let lo = max(2, min(50, Int(root / 4)))
        let hi = max(lo + 1, min(100, Int(root)))
        let range = lo...min(hi, max(lo, n - 1))
        guard distinct < range.upperBound else { return range }
        let top = max(2, distinct)
        return min(range.lowerBound, top)...top
    }

    /// The auto range over `docs` (distinct texts by content hash). O(n).
    static func autoRange(_ docs: [Document]) -> ClosedRange<Int> {
        autoRange(documents: docs.count, distinct: distinctTexts(docs))
    }

    static func distinctTexts(_ docs: [Document]) -> Int { Set(docs.map(\.digestKey)).count }

    /// The candidates a fresh fit considers: the one fixed k, or the auto range. `strata estimate`
    /// takes the largest as its upper bound on the topics to label. O(n).
    static func candidates(_ choice: KChoice, documents docs: [Document]) -> ClosedRange<Int> {
        switch choice {
        case .fixed(let k): return k...k
        case .auto: return autoRange(docs)
        }
    }

    /// Refuses corpora k-means cannot split: every text the same, or a fixed k above the number of
    /// distinct texts (documents with identical text share one vector). O(n).
    static func checkVariety(_ docs: [Document], k: KChoice) throws {
        let distinct = distinctTexts(docs)
        guard distinct >= 2 else {
            throw StrataError(.failed, "all \(docs.count) documents have the same text: there is nothing to cluster")
        }
        if case .fixed(let n) = k, n > distinct {
            throw StrataError(.usage, "--k \(n) exceeds the number of distinct texts (\(distinct)); lower --k to at most \(distinct)")
        }
    }

    /// Refuses a fixed k below the number of seed topics (`--seed-topics FILE`): each seed is a topic.
    public static func checkSeeds(_ seeds: Int, k: KChoice, file: String) throws {
        if case .fixed(let n) = k, n < seeds { throw StrataError(.usage, "--k \(n) is below the \(seeds) seed topics in \(file)") }
    }

    /// Why a fixed `--k` forces a refit of a model with `fitted` topics (nil: it does not).
    static func refitReason(_ choice: KChoice, fitted: Int) -> String? {
        if case .fixed(let k) = choice, k != fitted { return "--k \(k) differs from the fitted \(fitted) topics" }
        return nil
    }


    /// Spherical k-means on the unit reduced rows `y`: warm-started from the previous topics when a
    /// refit allows it, else with `--k` fixed or k chosen by the sampled silhouette over the auto range.
    /// - Returns: the model, the silhouette curve (auto k only) and how k was chosen.
    static func cluster(_ y: Matrix, pca: PCA, options: RunOptions, documents docs: [Document], previous: PreviousRun?,
                        fingerprint: String, seeds: Matrix?, stop: StopFlag? = nil,
                        reporter: RunReporter) throws -> (KMeansModel, [RunManifest.CurvePoint], String) {
        var base = KMeans.Options(k: 2)
        base.stop = stop
        base.seed = options.seed
        base.restarts = options.restarts
        base.metric = .cosine
        if let seeds { return try seeded(y, pca: pca, seeds: seeds, base: base, options: options, documents: docs, reporter: reporter) }
        if let previous, !options.coldStart, y.rows <= KMeans.miniBatchThreshold, previous.model.fingerprint == fingerprint,
           let start = try warmStart(y, pca: pca, previous: previous, k: options.k, documents: docs.count) {
            // Seeded from the previous topics: a refit moves the centroids where the data went instead
            // of jumping to another of k-means' many near-equivalent optima, so ids and labels survive.
            base.k = start.rows
            base.initialization = .centroids(start)
            base.restarts = 1
            let fixed: String = { if case .fixed = options.k { return " (k fixed)" }; return "" }()
            return (try KMeans.fit(y, options: base), [], "warm start from the previous \(previous.model.topicIDs.count) topics" + fixed)
        }
        // Documents with identical text share one vector: k-means cannot find more clusters than that
        // (Pipeline.checkVariety refused fewer than 2, or a fixed k above it, before anything ran).
        switch options.k {
        case .fixed(let k):
            guard k <= docs.count else {
                throw StrataError(.usage, "--k \(k) exceeds the number of documents (\(docs.count))")
            }
            base.k = k
            return (try KMeans.fitAuto(y, options: base), [], "fixed")
        case .auto:
            let (chosen, curve, range) = try chooseK(y, base: base, documents: docs, reporter: reporter)
            // The final fit on all rows starts from the chosen sample fit's centroids (a uniform
            // sample's centroids are a good start: fewer Lloyd iterations and no k-means++ pass here).
            base.k = chosen.best
            base.initialization = .centroids(chosen.model.centroids)
            base.restarts = 1
            return (try KMeans.fitAuto(y, options: base), curve, "auto: max sampled silhouette over \(range.lowerBound)…\(range.upperBound)")
        }
    }

    /// `--k auto`: the sampled-silhouette scan over the auto range (one restart per candidate), its curve
    /// for the run record, and the range scanned.
    static func chooseK(_ y: Matrix, base: KMeans.Options, documents docs: [Document], reporter: RunReporter) throws
        -> (result: ChooseK.Result, curve: [RunManifest.CurvePoint], range: ClosedRange<Int>) {
        let range = autoRange(docs)
        var scan = base
        scan.restarts = 1
        let chosen = try ChooseK.choose(y, range: range, base: scan, sampleSize: 5_000) { done, total in
            reporter.progress("choose k", done: done, total: total)
        }
        let curve = chosen.curve.map { RunManifest.CurvePoint(k: $0.k, silhouetteSampled: $0.sampledSilhouette,
                                                              simplifiedSilhouette: $0.simplifiedSilhouette) }
        return (chosen, curve, range)
    }

    /// k-means started from the seed topics (then farthest-first to k; k auto is chosen as usual first).
    static func seeded(_ y: Matrix, pca: PCA, seeds: Matrix, base: KMeans.Options, options: RunOptions, documents docs: [Document],
                       reporter: RunReporter) throws -> (KMeansModel, [RunManifest.CurvePoint], String) {
        var base = base, k: Int, curve: [RunManifest.CurvePoint] = []
        switch options.k {
        case .fixed(let n): k = n
        case .auto:
            let chosen = try chooseK(y, base: base, documents: docs, reporter: reporter)
            curve = chosen.curve
            k = chosen.result.best
        }
        guard let start = try seededStart(y, pca: pca, seeds: seeds, k: k), start.rows <= y.rows else {
            throw StrataError(.usage, "--seed-topics: \(seeds.rows) seeds and k = \(k) need at least as many documents")
        }
        base.k = start.rows
        base.initialization = .centroids(start)
        base.restarts = 1
        return (try KMeans.fit(y, options: base), curve, "seeded from \(seeds.rows) topics, k = \(start.rows)")
    }


    /// Initial centres (k × p, unit rows) from the previous run's topics, projected into this fit's
    /// PCA space. k is `--k` when fixed, else the previous topic count. Previous topics are taken in
    /// order of how many current documents they attract (those attracting none are dropped); missing
    /// centres are added farthest-first. Nil when there is nothing to start from.
    static func warmStart(_ y: Matrix, pca: PCA, previous: PreviousRun, k choice: KChoice, documents: Int) throws -> Matrix? {
        let old = try previous.model.embedding()
        guard old.cols == pca.inputDimension, old.rows > 0 else { return nil }
        let k: Int
        switch choice {
        case .fixed(let n): k = n
        case .auto: k = old.rows
        }
        guard k >= 2, k <= documents else { return nil }
        let projected = try pca.transform(old).normalizedRows()
        let sims = Similarity.cosines(y, projected)
        var support = [Int](repeating: 0, count: old.rows)
        for best in Similarity.nearest(sims) { support[best] += 1 }
        var chosen = (0..<old.rows).filter { support[$0] > 0 }.sorted { support[$0] > support[$1] || (support[$0] == support[$1] && $0 < $1) }
        chosen = Array(chosen.prefix(k))
        var centres = chosen.flatMap { Array(projected.row($0)) }
        // Farthest-first for the rest: the row least similar to every centre so far.
        var nearest = [Float](repeating: -2, count: y.rows)
        for i in 0..<y.rows { for j in chosen { nearest[i] = max(nearest[i], sims[i, j]) } }
        return try fillFarthest(y, centres: centres, nearest: nearest, k: k)
    }

    /// `centres` (unit rows, flattened) completed to `k` rows farthest-first: each time the row of `y`
    /// least similar to every centre so far (`nearest`: each row's best cosine to them). Nil when `y`
    /// has no rows. O(n·p·(k − start)).
    static func fillFarthest(_ y: Matrix, centres start: [Float], nearest start2: [Float], k: Int) throws -> Matrix? {
        var centres = start, nearest = start2
        while centres.count / y.cols < k {
            guard let far = (0..<y.rows).min(by: { nearest[$0] < nearest[$1] }) else { return nil }
            let row = Array(y.row(far))
            centres += row
            for i in 0..<y.rows { nearest[i] = max(nearest[i], Similarity.dot(y.row(i), row[...])) }
        }
        return try Matrix(rows: k, cols: y.cols, storage: centres)
    }

    /// Initial centres for `--seed-topics`: the seeds' embeddings projected into the fitted space (rows
    /// 0…s−1, so k-means centroid i is seed i's topic), then farthest-first to `k`.
    static func seededStart(_ y: Matrix, pca: PCA, seeds: Matrix, k: Int) throws -> Matrix? {
        let projected = try pca.transform(seeds).normalizedRows()
        let best = Similarity.cosines(y, projected)
        let nearest = (0..<y.rows).map { i in (0..<best.cols).map { best[i, $0] }.max() ?? -2 }
        return try fillFarthest(y, centres: projected.storage, nearest: nearest, k: max(k, seeds.rows))
    }
}
