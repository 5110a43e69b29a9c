import Foundation
import StrataLinalg

/// Something that turns texts into fixed-length vectors.
///
/// Implementations: ``MiniLMEmbedder`` (native, offline, default), ``OpenAIEmbedder`` (any
/// OpenAI-compatible `/v1/embeddings` endpoint). Vectors the user already has are read by the
/// pipeline from a source field (`--embedder field:NAME`) and checked with ``checkDimension(_:expected:context:)``.
public protocol Embedder: Sendable {
    /// Identifies the model and everything that changes its output; part of every cache key.
    var fingerprint: String { get }
    /// Length of every vector, when known before the first call (remote models report it with
    /// their first reply).
    var dimension: Int? { get }
    /// Embeds `texts` in order. `progress(done, total)` is called as batches finish.
    func embed(_ texts: [String], progress: (@Sendable (Int, Int) -> Void)?) async throws -> EmbeddingBatch
}

/// Vectors for a list of texts, row-major: row i is `values[i*dimension ..< (i+1)*dimension]`.
public struct EmbeddingBatch: Sendable, Equatable {
    public let dimension: Int
    public let values: [Float]
    public init(dimension: Int, values: [Float]) { self.dimension = dimension; self.values = values }
    public var count: Int { dimension == 0 ? 0 : values.count / dimension }
    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * dimension)..<((i + 1) * dimension)] }
}

/// Errors for embedding sources other than model loading (which uses ``EmbedError``).
public struct EmbeddingSourceError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks that a user-supplied vector has the expected length and finite values.
public func checkDimension(_ vector: [Float], expected: Int?, context: String) throws {
    if let expected, vector.count != expected {
        throw EmbeddingSourceError("\(context): vector has \(vector.count) dimensions, expected \(expected) — every vector in the field must have the same length")
    }
    if vector.isEmpty { throw EmbeddingSourceError("\(context): empty vector") }
    if let i = vector.firstIndex(where: { !$0.isFinite }) {
        throw EmbeddingSourceError("\(context): non-finite value at position \(i)")
    }
}

/// The native MiniLM encoder behind the ``Embedder`` protocol.
public struct MiniLMEmbedder: Embedder {
    public let encoder: MiniLMEncoder
    public let options: EncodeOptions
    public let fingerprint: String
    public var dimension: Int? { encoder.dimension }
    /// The cache fingerprint of this model and its pooling.
    public static let fingerprintString = "minilm:all-MiniLM-L6-v2:max256:mean:l2"

    /// Loads the model from `modelDirectory` (default: the Strata model cache).
    public init(modelDirectory: URL = MiniLMEncoder.defaultModelDirectory(), options: EncodeOptions = EncodeOptions()) throws {
        encoder = try MiniLMEncoder(modelDirectory: modelDirectory)
        self.options = options
        fingerprint = Self.fingerprintString
    }

    /// Embeds in slices of `options.chunkSize` texts (the encoder's own chunking, so the vectors are
    /// identical) and stops between slices when the task is cancelled (SIGTERM/SIGINT at the CLI).
    public func embed(_ texts: [String], progress: (@Sendable (Int, Int) -> Void)?) async throws -> EmbeddingBatch {
        let slice = max(1, options.chunkSize)
        var values: [Float] = []
        values.reserveCapacity(texts.count * encoder.dimension)
        var start = 0
        while start < texts.count {
            try Task.checkCancellation()
            let end = min(texts.count, start + slice)
            let offset = start, total = texts.count
            var sliceProgress: (@Sendable (Int, Int) -> Void)?
            if let progress { sliceProgress = { done, _ in progress(offset + done, total) } }
            let part = Array(texts[start..<end]), encoder = encoder, options = options
            values += try await StopFlag.whileRunning { flag in
                var o = options
                o.stop = flag
                return encoder.embed(part, options: o, progress: sliceProgress)
            }
            start = end
        }
        return EmbeddingBatch(dimension: encoder.dimension, values: values)
    }

    /// Token count of `text` as the model sees it (with [CLS]/[SEP], truncated to 256).
    public func tokenCount(_ text: String) -> Int { encoder.tokenize(text).count }
}
