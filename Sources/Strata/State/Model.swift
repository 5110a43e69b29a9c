import Foundation
import StrataLinalg

/// What a full run fitted and an incremental run reuses: the PCA projection, each topic's centroid
/// in the reduced space (for assignment) and in the embedding space (for matching across refits),
/// and each topic's novelty radius. Stored in the state database as JSON (float arrays as base64
/// little-endian float32).
public struct FittedModel: Codable, Sendable {
    /// Embedder fingerprint the model was fitted on; another embedder forces a refit.
    public var fingerprint: String
    /// Run that fitted the model, and when (ISO 8601).
    public var fittedRun: String
    public var fittedAt: String
    /// Input (embedding) dimension d and reduced dimension p.
    public var inputDimension: Int
    public var reducedDimension: Int
    public var pcaMean: Data
    /// p × d, row-major.
    public var pcaComponents: Data
    /// Topic id of each centroid row.
    public var topicIDs: [Int]
    /// k × p unit rows (spherical k-means centroids in the reduced space).
    public var reducedCentroids: Data
    /// k × d unit rows (mean member embedding, normalised).
    public var embeddingCentroids: Data
    /// Per topic, the 0th…100th percentiles of its members' cosine distances (1 − cos, reduced
    /// space) to the centroid at fit time; ``radius(_:quantile:)`` reads the novelty radius off them.
    public var distancePercentiles: [[Float]]
    /// Documents the model was fitted on.
    public var fittedDocuments: Int

    enum CodingKeys: String, CodingKey {
        case fingerprint
        case distancePercentiles = "distance_percentiles"
        case fittedRun = "fitted_run", fittedAt = "fitted_at", inputDimension = "input_dimension"
        case reducedDimension = "reduced_dimension", pcaMean = "pca_mean", pcaComponents = "pca_components"
        case topicIDs = "topic_ids", reducedCentroids = "reduced_centroids", embeddingCentroids = "embedding_centroids"
        case fittedDocuments = "fitted_documents"
    }

    static func pack(_ values: [Float]) -> Data { values.withUnsafeBytes { Data($0) } }
    static func unpack(_ data: Data) -> [Float] { data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) } }

    /// The projection.
    public func pca() throws -> PCA {
        try PCA(mean: Self.unpack(pcaMean),
                components: Matrix(rows: reducedDimension, cols: inputDimension, storage: Self.unpack(pcaComponents)),
                sampleCount: fittedDocuments)
    }

    public func reduced() throws -> Matrix {
        try Matrix(rows: topicIDs.count, cols: reducedDimension, storage: Self.unpack(reducedCentroids))
    }

    public func embedding() throws -> Matrix {
        try Matrix(rows: topicIDs.count, cols: inputDimension, storage: Self.unpack(embeddingCentroids))
    }

    /// Cosine distance beyond which a new document is "no topic yet" (−1) for topic row `row`.
    public func radius(_ row: Int, quantile: Double) -> Float {
        let p = distancePercentiles[row]
        guard !p.isEmpty else { return 2 }
        return p[min(p.count - 1, max(0, Int((quantile * Double(p.count - 1)).rounded())))]
    }

    /// Age in days at `now`.
    public func ageDays(now: Date = Date()) -> Double {
        guard let d = ISO8601DateFormatter().date(from: fittedAt) else { return .infinity }
        return now.timeIntervalSince(d) / 86_400
    }
}
