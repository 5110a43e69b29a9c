import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 exchange per connection on SwiftNIO: connect (TLS for `https`), send one request,
/// collect the whole response, close.
///
/// Why not `URLSession`: on Linux, swift-corelibs-foundation keeps a write watcher armed after
/// connecting, so a client waiting for a slow reply (a local LLM computing an answer) spins a CPU
/// core at ~90% — on a two-core machine that halves the local server's speed. NIO's event loop sleeps
/// in `epoll_wait` instead. One connection per request is deliberate: requests take seconds (LLM
/// answers) or carry large batches (embeddings), so a handshake is noise, and no pooled connection can
/// go stale between nightly runs.
enum HTTP1Transport {
    struct Response: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: Data
    }

    /// Transport failures; `OpenAICompatibleClient` retries them.
    enum Failure: Error, CustomStringConvertible {
        case timedOut(seconds: Double)
        case closedEarly
        case unsupportedURL(String)

        var description: String {
            switch self {
            case .timedOut(let s): return "no complete reply within \(s) s"
            case .closedEarly: return "the server closed the connection before the reply was complete"
            case .unsupportedURL(let u): return "unsupported URL \(u) (use http:// or https://)"
            }
        }
    }

    /// System trust roots, loaded once per process.
    private static let tls: Result<NIOSSLContext, Error> = Result {
        try NIOSSLContext(configuration: .makeClientConfiguration())
    }

    /// POSTs `body` to `url` and returns the complete response, or throws when nothing complete
    /// arrives within `timeout` seconds (connecting included). Cancelling the calling task closes
    /// the connection.
    static func post(url: URL, headers extra: [(String, String)], body: Data, timeout: TimeInterval) async throws -> Response {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty else {
            throw Failure.unsupportedURL(url.absoluteString)
        }
        let secure = scheme == "https"
        let port = url.port ?? (secure ? 443 : 80)
        var target = url.path.isEmpty ? "/" : url.path
        if let q = url.query { target += "?" + q }
        let sslContext: NIOSSLContext? = secure ? try tls.get() : nil
        // SNI takes names only, not addresses.
        let sniName: String? = (host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }) ? nil : host
        let deadline = NIODeadline.now() + .nanoseconds(Int64(max(0.001, timeout) * 1e9))
        let timeoutSeconds = timeout

        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Response.self)
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(max(0.001, timeout) * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: sniName))
                    }
                    try sync.addHTTPClientHandlers()
                    try sync.addHandler(ResponseCollector(promise: promise, deadline: deadline, timeoutSeconds: timeoutSeconds))
                }
            }
            .connect(host: host, port: port)
            .get()
        } catch {
            promise.fail(error)   // a promise must never be dropped uncompleted
            throw error
        }

        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target)
        let hostHeader = (url.port == nil) ? host : "\(host):\(port)"
        head.headers.add(name: "Host", value: hostHeader)
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in extra { head.headers.add(name: name, value: value) }
        var buffer = channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)

        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Collects one response; completes the promise exactly once (reply, error, early close or
    /// deadline) and closes the channel.
    private final class ResponseCollector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        private let promise: EventLoopPromise<Response>
        private let deadline: NIODeadline
        private let timeoutSeconds: Double
        private var head: HTTPResponseHead?
        private var body = ByteBuffer()
        private var completed = false
        private var timer: Scheduled<Void>?

        init(promise: EventLoopPromise<Response>, deadline: NIODeadline, timeoutSeconds: Double) {
            self.promise = promise
            self.deadline = deadline
            self.timeoutSeconds = timeoutSeconds
        }

        func handlerAdded(context: ChannelHandlerContext) {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            timer = context.eventLoop.scheduleTask(deadline: deadline) {
                let (handler, context) = loopBound.value
                handler.complete(context, .failure(Failure.timedOut(seconds: handler.timeoutSeconds)))
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
            case .body(var chunk):
                body.writeBuffer(&chunk)
            case .end:
                guard let head else { return complete(context, .failure(Failure.closedEarly)) }
                let bytes = body.readBytes(length: body.readableBytes) ?? []
                complete(context, .success(Response(status: Int(head.status.code), headers: head.headers, body: Data(bytes))))
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            complete(context, .failure(Failure.closedEarly))
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            complete(context, .failure(error))
        }

        private func complete(_ context: ChannelHandlerContext, _ result: Result<Response, Error>) {
            guard !completed else { return }
            completed = true
            timer?.cancel()
            promise.completeWith(result)
            context.close(promise: nil)
        }
    }
}
