import Foundation
import StrataHTTP

/// Embeddings from any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, Ollama, vLLM,
/// llama.cpp server), in batches with a bounded number of requests in flight.
public struct OpenAIEmbedder: Embedder {
    public let model: String
    public let client: OpenAICompatibleClient
    /// Texts per request.
    public let batchSize: Int
    /// Requests in flight at once.
    public let concurrency: Int
    public let dimension: Int?
    public var fingerprint: String { Self.fingerprint(baseURL: client.configuration.baseURL, model: model) }
    /// Cache fingerprint of a remote model.
    public static func fingerprint(baseURL: URL, model: String) -> String { "openai:\(baseURL.absoluteString)|\(model)" }

    /// - Parameters:
    ///   - dimension: the vector length the model returns, when known; otherwise taken from the
    ///     first reply. Every vector is checked against it.
    public init(model: String, client: OpenAICompatibleClient, dimension: Int? = nil, batchSize: Int = 64, concurrency: Int = 4) {
        self.model = model
        self.client = client
        self.dimension = dimension
        self.batchSize = max(1, batchSize)
        self.concurrency = max(1, concurrency)
    }

    struct Request: Encodable { let model: String; let input: [String] }
    struct Response: Decodable {
        struct Item: Decodable { let embedding: [Float]; let index: Int? }
        let data: [Item]
    }

    /// Embeds one batch; validates count, dimension and finiteness of the reply.
    public func embedBatch(_ texts: [String], dimension: Int?) async throws -> [[Float]] {
        let body = try JSONEncoder().encode(Request(model: model, input: texts))
        let data = try await client.postJSON(path: "embeddings", body: body)
        let reply: Response
        do { reply = try JSONDecoder().decode(Response.self, from: data) } catch {
            throw HTTPClientError(.malformedResponse,
                                  "embeddings reply is not {\"data\": [{\"embedding\": [...]}]}: \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        guard reply.data.count == texts.count else {
            throw HTTPClientError(.malformedResponse, "embeddings reply has \(reply.data.count) vectors for \(texts.count) inputs")
        }
        var out = [[Float]](repeating: [], count: texts.count)
        for (i, item) in reply.data.enumerated() {
            let slot = item.index ?? i
            guard slot >= 0 && slot < texts.count && out[slot].isEmpty else {
                throw HTTPClientError(.malformedResponse, "embeddings reply has a bad or repeated index \(slot)")
            }
            try checkDimension(item.embedding, expected: dimension ?? out.first(where: { !$0.isEmpty })?.count,
                               context: "embedding \(slot) from \(model)")
            out[slot] = item.embedding
        }
        return out
    }

    public func embed(_ texts: [String], progress: (@Sendable (Int, Int) -> Void)?) async throws -> EmbeddingBatch {
        guard !texts.isEmpty else { return EmbeddingBatch(dimension: dimension ?? 0, values: []) }
        let batches = stride(from: 0, to: texts.count, by: batchSize).map { $0..<min(texts.count, $0 + batchSize) }
        // The first batch alone fixes the dimension when it is not configured.
        let first = try await embedBatch(Array(texts[batches[0]]), dimension: dimension)
        let dim = dimension ?? first[0].count
        var result = [Float](repeating: 0, count: texts.count * dim)
        func place(_ r: Range<Int>, _ vectors: [[Float]]) {
            for (o, v) in vectors.enumerated() {
                let row = r.lowerBound + o
                for j in 0..<dim { result[row * dim + j] = v[j] }
            }
        }
        place(batches[0], first)
        var done = batches[0].count
        progress?(done, texts.count)
        try await withThrowingTaskGroup(of: (Range<Int>, [[Float]]).self) { group in
            var next = 1
            func launch() {
                let r = batches[next]; next += 1
                let slice = Array(texts[r])
                group.addTask { (r, try await embedBatch(slice, dimension: dim)) }
            }
            while next < min(concurrency + 1, batches.count) { launch() }
            while let (r, vectors) = try await group.next() {
                place(r, vectors)
                done += r.count
                progress?(done, texts.count)
                if next < batches.count { launch() }
            }
        }
        return EmbeddingBatch(dimension: dim, values: result)
    }
}
