import Foundation
import StrataLinalg

/// Which fitted topic each vector belongs to — the one rule `strata run` (incremental), `strata assign`
/// and `strata assign --text` / the MCP `assign_text` tool share: nearest topic centroid in the fitted
/// PCA space (unit rows), or none (−1) beyond that topic's novelty radius; the score is the cosine to
/// the topic's embedding-space centroid; the runner-up is the second-nearest topic.
struct NearestTopic {
    /// Row of the nearest and second-nearest topic (model order), whether the vector lies within the
    /// nearest topic's radius, and both embedding-space cosines.
    struct Choice {
        var best: Int
        var within: Bool
        var score: Float
        var second: Int?
        var secondScore: Float?
    }

    let model: FittedModel

    /// `x`: n × d unit embeddings. O(n·k·(d + p)) (two SGEMMs) plus the PCA projection; the runner-up
    /// (one more pass over the n × k similarities) only with `runnerUp`.
    func choose(_ x: Matrix, noveltyQuantile: Double, runnerUp: Bool = false) throws -> [Choice] {
        guard x.cols == model.inputDimension else {
            throw StrataError(.failed, "new embeddings have \(x.cols) dimensions, the fitted model \(model.inputDimension); run `strata run --full`")
        }
        guard x.rows > 0 else { return [] }
        let y = try model.pca().transform(x).normalizedRows()
        let sims = Similarity.cosines(y, try model.reduced())
        let embSims = Similarity.cosines(x, try model.embedding())
        return Similarity.nearest(sims).enumerated().map { r, best in
            var second: Int?
            if runnerUp { for j in 0..<sims.cols where j != best && (second == nil || sims[r, j] > sims[r, second!]) { second = j } }
            return Choice(best: best, within: 1 - sims[r, best] <= model.radius(best, quantile: noveltyQuantile),
                          score: embSims[r, best], second: second, secondScore: second.map { embSims[r, $0] })
        }
    }
}
