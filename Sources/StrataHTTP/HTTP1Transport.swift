import CCurl
import Foundation
import Synchronization

/// One HTTP/1.1 exchange per connection on libcurl (Debian's `libcurl4-openssl-dev`): connect (TLS with
/// the system's trust roots for `https`), send one POST, collect the whole response, close.
///
/// Each exchange runs `curl_easy_perform` on a thread of its own, never on Swift's cooperative pool,
/// whose two threads on a two-core machine must stay free. libcurl waits in `poll`, so a client
/// waiting for a slow reply (a local LLM computing an answer) uses no CPU — `URLSession` on Linux keeps
/// a write watcher armed and spins a core at ~90% meanwhile. One connection per request is deliberate:
/// requests take seconds (LLM answers) or carry large batches (embeddings), so a handshake is noise, and
/// no pooled connection can go stale between nightly runs. Cancelling the calling task aborts the
/// transfer within about a second (libcurl's progress callback).
enum HTTP1Transport {
    struct Response: Sendable {
        let status: Int
        /// Header fields of the final response, in order (names as sent).
        let headers: [(name: String, value: String)]
        let body: Data

        /// The first value of header `name` (case-insensitive), nil when absent.
        func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// Transport failures; `OpenAICompatibleClient` retries them (all but `unsupportedURL`).
    enum Failure: Error, CustomStringConvertible {
        case timedOut(seconds: Double)
        case closedEarly
        case unsupportedURL(String)
        /// TLS could not be set up (handshake, certificate verification).
        case tls(String)
        /// Any other libcurl error, with its text.
        case transport(String)

        var description: String {
            switch self {
            case .timedOut(let s): return "no complete reply within \(s) s"
            case .closedEarly: return "the server closed the connection before the reply was complete"
            case .unsupportedURL(let u): return "unsupported URL \(u) (use http:// or https://)"
            case .tls(let m): return "TLS failed: \(m)"
            case .transport(let m): return m
            }
        }
    }

    /// libcurl's process-wide setup, done once before the first exchange (it is not thread-safe).
    private static let global: CURLcode = strata_curl_global_init()

    /// POSTs `body` to `url` and returns the complete response, or throws when nothing complete
    /// arrives within `timeout` seconds (connecting included). Cancelling the calling task aborts the
    /// transfer and throws `CancellationError`.
    static func post(url: URL, headers extra: [(String, String)], body: Data, timeout: TimeInterval) async throws -> Response {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw Failure.unsupportedURL(url.absoluteString)
        }
        guard global == CURLE_OK else { throw Failure.transport("libcurl could not initialise (curl_global_init)") }
        let exchange = Exchange()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, Error>) in
                let thread = Thread {
                    continuation.resume(with: Result {
                        try exchange.perform(url: url.absoluteString, headers: extra, body: body, timeout: max(0.001, timeout))
                    })
                }
                thread.name = "strata-http"
                thread.start()
            }
        } onCancel: {
            exchange.cancelled.store(true, ordering: .relaxed)
        }
    }

    /// The state of one transfer that libcurl's callbacks write into (from the exchange's thread only).
    private final class Exchange: @unchecked Sendable {
        let cancelled = Atomic<Bool>(false)
        var body = Data()
        var headers: [(name: String, value: String)] = []

        func perform(url: String, headers extra: [(String, String)], body payload: Data, timeout: Double) throws -> Response {
            guard let curl = curl_easy_init() else { throw Failure.transport("libcurl could not create a handle") }
            defer { curl_easy_cleanup(curl) }
            var list: UnsafeMutablePointer<curl_slist>?
            // "Expect:" turns off curl's 100-continue wait for large bodies.
            for line in extra.map({ "\($0.0): \($0.1)" }) + ["Expect:"] { list = curl_slist_append(list, line) }
            defer { curl_slist_free_all(list) }
            let me = Unmanaged.passUnretained(self).toOpaque()
            let ms = max(1, Int(timeout * 1000))
            let code: CURLcode = url.withCString { urlPointer in
                payload.withUnsafeBytes { raw in
                    strata_curl_prepare(curl)
                    strata_curl_set_pointer(curl, CURLOPT_URL, urlPointer)
                    strata_curl_set_long(curl, CURLOPT_POST, 1)
                    strata_curl_set_pointer(curl, CURLOPT_POSTFIELDS, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                    strata_curl_set_size(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count))
                    strata_curl_set_pointer(curl, CURLOPT_HTTPHEADER, list.map { UnsafeRawPointer($0) })
                    strata_curl_set_long(curl, CURLOPT_TIMEOUT_MS, ms)
                    strata_curl_set_long(curl, CURLOPT_CONNECTTIMEOUT_MS, ms)
                    strata_curl_set_data_fn(curl, CURLOPT_WRITEFUNCTION, Exchange.onBody)
                    strata_curl_set_pointer(curl, CURLOPT_WRITEDATA, me)
                    strata_curl_set_data_fn(curl, CURLOPT_HEADERFUNCTION, Exchange.onHeader)
                    strata_curl_set_pointer(curl, CURLOPT_HEADERDATA, me)
                    strata_curl_set_progress_fn(curl, Exchange.onProgress)
                    strata_curl_set_pointer(curl, CURLOPT_XFERINFODATA, me)
                    return curl_easy_perform(curl)
                }
            }
            if code == CURLE_OK { return Response(status: strata_curl_status(curl), headers: headers, body: body) }
            throw failure(code, timeout: timeout)
        }

        func failure(_ code: CURLcode, timeout: Double) -> Error {
            let text = String(cString: curl_easy_strerror(code))
            switch code {
            case CURLE_ABORTED_BY_CALLBACK: return CancellationError()
            case CURLE_OPERATION_TIMEDOUT: return Failure.timedOut(seconds: timeout)
            case CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_RECV_ERROR: return Failure.closedEarly
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
                return Failure.tls(text)
            default: return Failure.transport("\(text) (libcurl error \(code.rawValue))")
            }
        }

        static let onBody: strata_curl_data_fn = { data, size, count, me in
            let n = size * count
            guard let data, let me else { return n }
            Unmanaged<Exchange>.fromOpaque(me).takeUnretainedValue().body.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: n)
            return n
        }

        /// One header line per call; a new status line (after `100 Continue`) starts a new response.
        static let onHeader: strata_curl_data_fn = { data, size, count, me in
            let n = size * count
            guard let data, let me else { return n }
            let exchange = Unmanaged<Exchange>.fromOpaque(me).takeUnretainedValue()
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
            if line.hasPrefix("HTTP/") {
                exchange.headers = []
                exchange.body = Data()
            } else if let colon = line.firstIndex(of: ":") {
                exchange.headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)))
            }
            return n
        }

        /// Called by libcurl at least once a second: a nonzero answer aborts the transfer.
        static let onProgress: strata_curl_progress_fn = { me, _, _, _, _ in
            guard let me else { return 0 }
            return Unmanaged<Exchange>.fromOpaque(me).takeUnretainedValue().cancelled.load(ordering: .relaxed) ? 1 : 0
        }
    }
}
