import Foundation
import StrataEmbed
import StrataLinalg
import StrataStore

/// Every document's unit embedding, in document order, in a ``VectorSpill`` (a nameless temporary file
/// in the state directory): a full fit reads it in slices and gathers the rows it needs, so no stage
/// holds the n × d matrix (issue #27).
struct DocumentVectors {
    let spill: VectorSpill
    let fingerprint: String
    /// Texts sent to the embedder (the rest came from the cache or repeated an earlier text).
    let embedded: Int
    let tokens: Int
    var count: Int { spill.rows }
    var dimension: Int { spill.dimension }
    var cached: Int { count - embedded }

    /// Rows a slice holds: about 64 MB of floats, at least 1,024 rows.
    var sliceRows: Int { max(1_024, (1 << 24) / max(1, dimension)) }

    /// Calls `body(firstRow, rows)` for consecutive slices of ``sliceRows`` rows (checking for
    /// cancellation between slices). One slice buffer at a time: O(sliceRows · d) memory.
    func forEachSlice(_ body: (Int, Matrix) throws -> Void) throws {
        for start in stride(from: 0, to: count, by: sliceRows) {
            try Task.checkCancellation()
            let range = start..<min(start + sliceRows, count)
            var m = Matrix(rows: range.count, cols: dimension)
            try m.withUnsafeMutableBufferPointer { try spill.read(range, into: $0) }
            try body(start, m)
        }
    }

    /// The rows `indices` (any order), one pread each. O(|indices| · d).
    func rows(_ indices: [Int]) throws -> Matrix {
        try Matrix(rows: indices.count, cols: dimension, storage: spill.gather(indices))
    }
}

extension EmbeddingStage {
    /// Embeds `documents` as ``embed(_:spec:baseURL:cache:tokenCounter:reporter:store:)`` does (cached
    /// vectors reused, new ones stored), one round of ``storeChunk`` documents at a time, writing each
    /// round's unit rows to a spill in `directory` instead of returning an n × d matrix.
    /// Memory: one round's vectors. A text repeated across rounds is found in the cache by the later
    /// round (with `store`), so it is embedded once.
    static func spill(_ documents: [Document], spec: EmbedderSpec, baseURL: URL, cache: any EmbeddingCache,
                      tokenCounter: ((String) -> Int)?, reporter: RunReporter, store: Bool, directory: String) async throws -> DocumentVectors {
        var spill: VectorSpill?
        var embedded = 0, tokens = 0
        let fingerprint = try fingerprint(spec, baseURL: baseURL)
        let n = documents.count
        for start in stride(from: 0, to: n, by: storeChunk) {
            try Task.checkCancellation()
            let part = Array(documents[start..<min(start + storeChunk, n)])
            let round = try await embed(part, spec: spec, baseURL: baseURL, cache: cache, tokenCounter: tokenCounter,
                                        reporter: RoundReporter(base: reporter, offset: start, total: n), store: store)
            if spill == nil { spill = try VectorSpill(directory: directory, dimension: max(1, round.matrix.cols)) }
            guard round.matrix.cols == spill!.dimension else {
                throw StrataError(.failed, "embedding cache holds vectors of \(spill!.dimension) and \(round.matrix.cols) dimensions for \(fingerprint); delete the state directory's cache and rerun")
            }
            try round.matrix.withUnsafeBufferPointer { try spill!.append($0) }
            embedded += round.embedded
            tokens += round.tokens
            reporter.progress("embed", done: start + part.count, total: n)
        }
        guard let spill else { throw StrataError(.failed, "no documents to embed") }
        reporter.info("\(n - embedded) cached, \(embedded) embedded with \(spec)")
        return DocumentVectors(spill: spill, fingerprint: fingerprint, embedded: embedded, tokens: tokens)
    }
}

/// A round's progress as progress of the whole corpus; its per-round counts stay quiet.
private struct RoundReporter: RunReporter {
    let base: RunReporter
    let offset: Int
    let total: Int
    func stage(_ name: String) { base.stage(name) }
    func progress(_ stage: String, done: Int, total roundTotal: Int) {
        base.progress(stage, done: offset + min(done, roundTotal), total: total)
    }
    func info(_ message: String) {}
    func warning(_ message: String) { base.warning(message) }
}

/// The passes of a full fit over ``DocumentVectors``: PCA from a streamed covariance, k-means on a
/// seeded sample of rows, then every row assigned, summed and scored slice by slice. With a sample as
/// large as the corpus the results are the one-matrix fit's, bit for bit.
enum StreamedFit {
    /// The sample never gives k-means fewer documents a centroid than this.
    static let documentsPerCentroid = 256

    /// PCA over every row, the covariance accumulated slice by slice. O(n·d²) time, O(d²) memory.
    static func pca(_ v: DocumentVectors, variance: Double, maxComponents: Int, reporter: RunReporter) throws -> PCA {
        var acc = PCA.Accumulator(dimension: v.dimension)
        try v.forEachSlice { start, x in
            try acc.add(x)
            reporter.progress("reduce", done: start + x.rows, total: v.count)
        }
        let cap = max(1, min(maxComponents, v.dimension, v.count - 1))
        return try acc.fit(components: .varianceFraction(variance, max: cap))
    }

    /// `size` distinct row indices of 0..<n, ascending, drawn with `seed` (Floyd's algorithm); every row
    /// when n ≤ size. Deterministic. O(size log size).
    static func sample(count n: Int, size: Int, seed: UInt64) -> [Int] {
        guard size < n else { return Array(0..<n) }
        var rng = SeededGenerator(seed: seed ^ 0x5eed_f17)
        var chosen = Set<Int>(minimumCapacity: size)
        for j in (n - size)..<n {
            let t = Int.random(in: 0...j, using: &rng)
            chosen.insert(chosen.contains(t) ? j : t)
        }
        return chosen.sorted()
    }

    /// What the assign pass learns about every row, clusters in the model's order.
    struct Assigned {
        /// Cluster of each row.
        var labels: [Int]
        /// Float sums of each cluster's unit embedding rows (k × d), rows added in document order.
        var embeddingSums: Matrix
        /// Each row's cosine to its cluster's unit centroid in the reduced space.
        var reducedCosine: [Float]
    }

    /// Projects every row, assigns it to the nearest centroid of `model` (or takes `labels` when the
    /// model was fitted on every row, so its own labels stand), and accumulates the cluster sums and
    /// reduced cosines. O(n·(d·p + p·k)) time, one slice of memory beside the n labels and cosines.
    static func assign(_ v: DocumentVectors, pca: PCA, model: KMeansModel, labels known: [Int]?, reporter: RunReporter) throws -> Assigned {
        let unitReduced = Similarity.unitRows(model.centroids, Array(0..<model.k))
        var out = Assigned(labels: known ?? [], embeddingSums: Matrix(rows: model.k, cols: v.dimension), reducedCosine: [])
        out.reducedCosine.reserveCapacity(v.count)
        try v.forEachSlice { start, x in
            let y = try pca.transform(x).normalizedRows()
            let labels = try known.map { Array($0[start..<(start + x.rows)]) } ?? model.predict(y).labels
            if known == nil { out.labels += labels }
            Similarity.addGroupSums(x, labels: labels[...], into: &out.embeddingSums)
            out.reducedCosine += Similarity.assignedDots(y, unitReduced, assignment: labels)
            reporter.progress("assign", done: start + x.rows, total: v.count)
        }
        return out
    }

    /// Each row's cosine to its topic's unit centroid (`centroids`, k × d; `labels` in 0..<k). O(n·d).
    static func scores(_ v: DocumentVectors, centroids: Matrix, labels: [Int]) throws -> [Float] {
        var scores: [Float] = []
        scores.reserveCapacity(v.count)
        try v.forEachSlice { start, x in
            scores += Similarity.assignedDots(x, centroids, assignment: Array(labels[start..<(start + x.rows)]))
        }
        return scores
    }
}
