import Foundation
import StrataHTTP

/// Counts tokens with the LLM server's own tokenizer, where the server offers one:
/// llama-cpp-python (`POST /extras/tokenize/count`), llama.cpp's server (`POST /tokenize`,
/// `content`) and vLLM (`POST /tokenize`, `prompt`). Counts include the beginning-of-sequence token,
/// as the servers' `usage.prompt_tokens` of a completion request do.
public struct ServerTokenizer: Sendable {
    /// Which dialect answered.
    public enum Dialect: String, Sendable { case llamaCppPython, llamaCpp, vllm }

    public let dialect: Dialect
    let client: OpenAICompatibleClient
    let model: String

    /// Probes the server behind `baseURL` (an OpenAI-style `…/v1` URL) once; nil when no dialect
    /// answers (hosted APIs), so callers fall back to a local tokenizer. One short request per dialect
    /// tried, no retries, 5 s timeout each.
    public static func probe(baseURL: URL, model: String) async -> ServerTokenizer? {
        var root = baseURL
        if root.lastPathComponent == "v1" { root.deleteLastPathComponent() }
        var config = OpenAICompatibleClient.Configuration(baseURL: root)
        config.requestTimeout = 5
        config.maxRetries = 0
        let client = OpenAICompatibleClient(configuration: config)
        for dialect in [Dialect.llamaCppPython, .llamaCpp, .vllm] {
            let t = ServerTokenizer(dialect: dialect, client: client, model: model)
            if (try? await t.count("probe")) != nil { return t }
        }
        return nil
    }

    /// Tokens of `text` as the server counts a completion prompt.
    public func count(_ text: String) async throws -> Int {
        let (path, body): (String, [String: Any]) = switch dialect {
        case .llamaCppPython: ("extras/tokenize/count", ["input": text, "model": model])
        case .llamaCpp: ("tokenize", ["content": text, "add_special": true])
        case .vllm: ("tokenize", ["prompt": text, "model": model])
        }
        let data = try await client.postJSON(path: path, body: JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), maxRetries: 0)
        guard let reply = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw HTTPClientError(.malformedResponse, "tokenize reply is not a JSON object")
        }
        if let c = reply["count"] as? Int { return c }
        if let tokens = reply["tokens"] as? [Any] { return tokens.count }
        throw HTTPClientError(.malformedResponse, "tokenize reply has neither count nor tokens")
    }
}
