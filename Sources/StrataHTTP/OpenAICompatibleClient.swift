import Foundation

/// A small JSON-over-HTTP client for OpenAI-compatible servers (OpenAI, Ollama, vLLM, llama.cpp)
/// with timeouts, bounded retries, exponential backoff with jitter, and `Retry-After` support.
///
/// Retried: HTTP 408, 409, 429, 500, 502, 503, 504, timeouts and connection errors. Not retried:
/// other 4xx (a bad request will not get better). Speaks HTTP/1.1 over libcurl (one connection per
/// request, TLS with the system's trust roots); see `HTTP1Transport` for why not `URLSession`.
/// Redirects are not followed (OpenAI-compatible APIs do not redirect; a 3xx is reported).
public struct OpenAICompatibleClient: Sendable {
    /// Where and how to connect.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// Base URL including the version prefix, e.g. `https://api.openai.com/v1` or
        /// `http://127.0.0.1:8080/v1`.
        public var baseURL: URL
        /// Bearer token; `nil` sends no Authorization header (local servers).
        public var apiKey: String?
        /// Seconds an attempt may take, connecting included, before it is abandoned (and retried).
        public var requestTimeout: TimeInterval = 120
        /// Retries after the first attempt.
        public var maxRetries: Int = 4
        /// First backoff in seconds; doubles per retry, with ±25% jitter.
        public var initialBackoff: TimeInterval = 0.5
        /// Cap on any single wait, including a server's `Retry-After`.
        public var maxBackoff: TimeInterval = 30
        /// Seconds one call may take in all, attempts and waits included (nil: only the per-attempt
        /// timeout and the retry count bound it). A wait that would end past it is not started: the
        /// call fails at once with `.retriesExhausted`, and each attempt gets at most what is left.
        public var totalTimeout: TimeInterval?

        public init(baseURL: URL, apiKey: String? = nil) {
            self.baseURL = baseURL
            self.apiKey = apiKey
        }

        /// The API key from the first non-empty environment variable among `names`.
        public static func apiKey(fromEnvironment names: [String]) -> String? {
            let env = ProcessInfo.processInfo.environment
            return names.lazy.compactMap { env[$0] }.first { !$0.isEmpty }
        }

        /// Never prints the key.
        public var description: String {
            "\(baseURL.absoluteString) (key: \(apiKey == nil ? "none" : "set"), timeout \(Int(requestTimeout)) s, \(maxRetries) retries)"
        }
    }

    /// One attempt's outcome, reported to an optional observer (for logs and tests).
    public struct AttemptEvent: Sendable {
        public let attempt: Int
        public let status: Int?
        public let error: String?
        /// Seconds waited before the next attempt (nil when none follows).
        public let wait: TimeInterval?
    }

    public let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Statuses worth retrying.
    public static func isRetryable(status: Int) -> Bool { [408, 409, 429, 500, 502, 503, 504].contains(status) }

    /// Parses `Retry-After` as seconds or an HTTP date; nil when absent or unparseable.
    public static func retryAfter(_ value: String?, now: Date = Date()) -> TimeInterval? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let s = Double(v) { return max(0, s) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: v).map { max(0, $0.timeIntervalSince(now)) }
    }

    /// POSTs `body` (JSON) to `baseURL/path` and returns the reply body of the first 2xx answer.
    ///
    /// - Throws: ``HTTPClientError`` with `.httpStatus` for a non-retryable answer (its message
    ///   includes the start of the server's error text) or `.retriesExhausted`.
    /// - Parameter maxRetries: overrides the configured retry count for this call (e.g. 0 when
    ///   probing which request options a server accepts).
    /// - Parameter retryStatuses: overrides which HTTP statuses are retried for this call (e.g. a
    ///   request probing response formats retries 429/503 but not the 500 a server answers an
    ///   unsupported format with).
    public func postJSON(path: String, body: Data, maxRetries: Int? = nil, retryStatuses: Set<Int>? = nil,
                         observer: (@Sendable (AttemptEvent) -> Void)? = nil) async throws -> Data {
        let url = configuration.baseURL.appendingPathComponent(path)
        var headers = [("Content-Type", "application/json"), ("Accept", "application/json"), ("User-Agent", "strata")]
        if let key = configuration.apiKey { headers.append(("Authorization", "Bearer \(key)")) }

        var lastProblem = ""
        var lastStatus: Int?
        let attempts = max(0, maxRetries ?? configuration.maxRetries) + 1
        let deadline = configuration.totalTimeout.map { Date().addingTimeInterval($0) }
        var made = 0
        for attempt in 1...attempts {
            var serverWait: TimeInterval?
            made = attempt
            do {
                let left = deadline.map { $0.timeIntervalSinceNow } ?? .infinity
                let response = try await HTTP1Transport.post(url: url, headers: headers, body: body,
                                                             timeout: max(0.001, min(configuration.requestTimeout, left)))
                let status = response.status, data = response.body
                lastStatus = status
                if (200..<300).contains(status) {
                    observer?(AttemptEvent(attempt: attempt, status: status, error: nil, wait: nil))
                    return data
                }
                let snippet = String(decoding: data.prefix(300), as: UTF8.self)
                lastProblem = "HTTP \(status) from \(url.absoluteString): \(snippet)"
                if !(retryStatuses.map { $0.contains(status) } ?? Self.isRetryable(status: status)) {
                    observer?(AttemptEvent(attempt: attempt, status: status, error: lastProblem, wait: nil))
                    throw HTTPClientError(.httpStatus, status: status,
                                          "\(lastProblem) — check the model name, the request and the API key")
                }
                serverWait = Self.retryAfter(response.header("Retry-After"))
            } catch let e as HTTPClientError {
                throw e
            } catch HTTP1Transport.Failure.unsupportedURL(let u) {
                throw HTTPClientError(.configuration, "unsupported base URL \(u) — use http://HOST:PORT/v1 or https://…")
            } catch HTTP1Transport.Failure.tls(let e) {
                try Task.checkCancellation()
                lastStatus = nil
                lastProblem = "TLS with \(url.host ?? "the server") failed (is its certificate trusted by this machine's CA store?): \(e)"
            } catch {
                try Task.checkCancellation()
                lastStatus = nil
                lastProblem = "request to \(url.absoluteString) failed: \(String(describing: error))"
            }
            guard attempt < attempts else { break }
            let exponential = configuration.initialBackoff * pow(2, Double(attempt - 1))
            let jittered = exponential * Double.random(in: 0.75...1.25)
            let wait = min(configuration.maxBackoff, serverWait ?? jittered)
            if let deadline, Date().addingTimeInterval(wait) >= deadline {
                lastProblem += " (no time left for another attempt within \(configuration.totalTimeout!) s)"
                break
            }
            observer?(AttemptEvent(attempt: attempt, status: lastStatus, error: lastProblem, wait: wait))
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
        }
        throw HTTPClientError(.retriesExhausted, status: lastStatus,
                              "gave up after \(made) attempt\(made == 1 ? "" : "s"); last: \(lastProblem) — is the server running and reachable?")
    }
}
