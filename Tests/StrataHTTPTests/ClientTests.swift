import Foundation
import Testing
import StrataHTTP
import StrataTestSupport

@Suite("OpenAI-compatible client: retries, timeouts and errors (scripted server)")
struct ClientTests {
    func client(_ server: ScriptedHTTPServer, timeout: TimeInterval = 5, retries: Int = 3) -> OpenAICompatibleClient {
        var c = OpenAICompatibleClient.Configuration(baseURL: server.baseURL, apiKey: "sk-secret-test")
        c.requestTimeout = timeout
        c.maxRetries = retries
        c.initialBackoff = 0.05
        c.maxBackoff = 2
        return OpenAICompatibleClient(configuration: c)
    }

    @Test func successSendsKeyAndBody() async throws {
        let server = try ScriptedHTTPServer([.init(body: #"{"ok": true}"#)])
        defer { server.stop() }
        let data = try await client(server).postJSON(path: "embeddings", body: Data(#"{"x":1}"#.utf8))
        #expect(String(decoding: data, as: UTF8.self) == #"{"ok": true}"#)
        #expect(server.requests.count == 1)
        #expect(server.requests[0].path == "/v1/embeddings")
        #expect(server.requests[0].headers.contains("Bearer sk-secret-test"))
        #expect(server.requests[0].body == #"{"x":1}"#)
    }

    @Test("429 with Retry-After is honoured, then the request succeeds")
    func retryAfter() async throws {
        let server = try ScriptedHTTPServer([
            .init(status: 429, headers: ["Retry-After": "1"], body: #"{"error":"slow down"}"#),
            .init(body: "{}"),
        ])
        defer { server.stop() }
        let start = Date()
        _ = try await client(server).postJSON(path: "embeddings", body: Data("{}".utf8))
        let waited = Date().timeIntervalSince(start)
        #expect(waited >= 0.9, "waited only \(waited) s despite Retry-After: 1")
        #expect(server.requests.count == 2)
    }

    @Test("5xx is retried with backoff; persistent 5xx ends in retriesExhausted, never a hang")
    func serverErrors() async throws {
        let flaky = try ScriptedHTTPServer([.init(status: 503, body: "busy"), .init(status: 500, body: "oops"), .init(body: "{}")])
        defer { flaky.stop() }
        _ = try await client(flaky).postJSON(path: "x", body: Data())
        #expect(flaky.requests.count == 3)

        let broken = try ScriptedHTTPServer([.init(status: 500, body: "always")])
        defer { broken.stop() }
        await #expect {
            try await client(broken, retries: 2).postJSON(path: "x", body: Data())
        } throws: { error in
            guard let e = error as? HTTPClientError else { return false }
            return e.code == .retriesExhausted && e.status == 500 && !e.description.contains("sk-secret-test")
        }
        #expect(broken.requests.count == 3)
    }

    @Test("4xx other than 429 fails at once with the server's message")
    func clientError() async throws {
        let server = try ScriptedHTTPServer([.init(status: 404, body: #"{"error":"model not found"}"#)])
        defer { server.stop() }
        await #expect {
            try await client(server).postJSON(path: "x", body: Data())
        } throws: { error in
            guard let e = error as? HTTPClientError else { return false }
            return e.code == .httpStatus && e.status == 404 && e.description.contains("model not found")
        }
        #expect(server.requests.count == 1)
    }

    @Test("a slow server times out and is retried; a dropped connection is retried")
    func slowAndDropped() async throws {
        let server = try ScriptedHTTPServer([.init(body: "{}", delay: 3), .init(dropConnection: true), .init(body: #"{"late":1}"#)])
        defer { server.stop() }
        let start = Date()
        let data = try await client(server, timeout: 1).postJSON(path: "x", body: Data())
        #expect(String(decoding: data, as: UTF8.self) == #"{"late":1}"#)
        #expect(Date().timeIntervalSince(start) < 45, "a slow server must end in a retry, not a hang")
    }

    @Test func retryAfterParsing() {
        #expect(OpenAICompatibleClient.retryAfter("7") == 7)
        #expect(OpenAICompatibleClient.retryAfter(nil) == nil)
        #expect(OpenAICompatibleClient.retryAfter("soon") == nil)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let later = OpenAICompatibleClient.retryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now)
        #expect(later.map { abs($0 - 10) < 1 } == true)
    }

    @Test func configurationNeverPrintsTheKey() {
        let c = OpenAICompatibleClient.Configuration(baseURL: URL(string: "http://x/v1")!, apiKey: "sk-123")
        #expect(!c.description.contains("sk-123"))
    }
}
