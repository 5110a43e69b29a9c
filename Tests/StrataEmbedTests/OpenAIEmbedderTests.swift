import Foundation
import Testing
import StrataEmbed
import StrataHTTP
import StrataTestSupport

/// An embeddings reply with `count` vectors of `dim` values (vector i is filled with i+1).
func embeddingsReply(count: Int, dim: Int, shuffled: Bool = false) -> String {
    var items = (0..<count).map { i in ["index": i, "embedding": [Double](repeating: Double(i + 1), count: dim)] as [String: Any] }
    if shuffled { items.reverse() }
    return String(decoding: try! JSONSerialization.data(withJSONObject: ["data": items, "model": "m"]), as: UTF8.self)
}

@Suite("OpenAI-compatible embeddings client (scripted server)")
struct OpenAIEmbedderTests {
    func embedder(_ server: ScriptedHTTPServer, batch: Int = 2, timeout: TimeInterval = 5) -> OpenAIEmbedder {
        var c = OpenAICompatibleClient.Configuration(baseURL: server.baseURL, apiKey: "sk-test")
        c.requestTimeout = timeout
        c.initialBackoff = 0.05
        c.maxRetries = 2
        return OpenAIEmbedder(model: "m", client: OpenAICompatibleClient(configuration: c), batchSize: batch, concurrency: 2)
    }

    @Test("batches, reorders by index, learns the dimension from the first reply")
    func success() async throws {
        let server = try ScriptedHTTPServer([.init(body: embeddingsReply(count: 2, dim: 3, shuffled: true))])
        defer { server.stop() }
        let out = try await embedder(server).embed(["a", "b", "c", "d"], progress: nil)
        #expect(out.dimension == 3 && out.count == 4)
        #expect(Array(out.row(0)) == [1, 1, 1] && Array(out.row(1)) == [2, 2, 2])
        #expect(server.requests.count == 2)
        #expect(server.requests[0].path == "/v1/embeddings" && server.requests[0].body.contains("\"input\""))
    }

    @Test("429 with Retry-After and 503 are retried, then succeed")
    func retries() async throws {
        let server = try ScriptedHTTPServer([
            .init(status: 429, headers: ["Retry-After": "1"], body: "{}"),
            .init(status: 503, body: "busy"),
            .init(body: embeddingsReply(count: 1, dim: 2)),
        ])
        defer { server.stop() }
        let out = try await embedder(server).embed(["only"], progress: nil)
        #expect(out.count == 1 && server.requests.count == 3)
    }

    @Test("malformed replies and wrong counts or dimensions are clear errors, never a crash")
    func malformed() async throws {
        for body in [#"{"data": "nope"}"#, "not json", embeddingsReply(count: 1, dim: 3)] {
            let server = try ScriptedHTTPServer([.init(body: body)])
            defer { server.stop() }
            await #expect(throws: HTTPClientError.self) { try await embedder(server).embed(["a", "b"], progress: nil) }
        }
        // A second batch whose vectors have another length than the first.
        let server = try ScriptedHTTPServer([.init(body: embeddingsReply(count: 2, dim: 3)), .init(body: embeddingsReply(count: 2, dim: 4))])
        defer { server.stop() }
        await #expect(throws: EmbeddingSourceError.self) { try await embedder(server).embed(["a", "b", "c", "d"], progress: nil) }
    }

    @Test("a slow server times out and fails clearly after the retries")
    func slow() async throws {
        let server = try ScriptedHTTPServer([.init(body: embeddingsReply(count: 1, dim: 2), delay: 3)])
        defer { server.stop() }
        let start = Date()
        await #expect(throws: HTTPClientError.self) { try await embedder(server, timeout: 0.5).embed(["a"], progress: nil) }
        #expect(Date().timeIntervalSince(start) < 45)
    }
}
