import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A scripted HTTP/1.1 server on 127.0.0.1 for unit tests of client error handling (never a stand-in
/// for the product): each request gets the next scripted reply, then the last one repeats.
public final class ScriptedHTTPServer: @unchecked Sendable {
    public struct Reply: Sendable {
        public var status: Int = 200
        public var headers: [String: String] = [:]
        public var body: String = ""
        /// Seconds to wait before answering (to provoke client timeouts).
        public var delay: TimeInterval = 0
        /// Close the connection without answering.
        public var dropConnection = false
        public init(status: Int = 200, headers: [String: String] = [:], body: String = "", delay: TimeInterval = 0,
                    dropConnection: Bool = false) {
            self.status = status; self.headers = headers; self.body = body; self.delay = delay
            self.dropConnection = dropConnection
        }
    }

    public let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var script: [Reply]
    private var _requests: [(path: String, headers: String, body: String)] = []
    private var stopped = false

    /// Request bodies received so far, in order.
    public var requests: [(path: String, headers: String, body: String)] { lock.withLock { _requests } }

    public init(_ replies: [Reply]) throws {
        precondition(!replies.isEmpty)
        script = replies
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { close(listener); throw POSIXError(.EADDRINUSE) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) }
        }
        port = UInt16(bigEndian: addr.sin_port)
        self.listener = listener
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }

    public func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    deinit { if !lock.withLock({ stopped }) { stop() } }

    private func nextReply() -> Reply {
        lock.withLock { script.count > 1 ? script.removeFirst() : script[0] }
    }

    private func acceptLoop() {
        while true {
            let c = accept(listener, nil, nil)
            if c < 0 { return }
            let t = Thread { [self] in handle(c) }
            t.start()
        }
    }

    private func handle(_ c: Int32) {
        defer { close(c) }
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let n = recv(c, &chunk, chunk.count, 0)
            if n <= 0 { return }
            buffer.append(contentsOf: chunk[0..<n])
            if headerEnd == nil, let r = findHeaderEnd(buffer) {
                headerEnd = r
                let head = String(decoding: buffer[0..<r], as: UTF8.self)
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let h = headerEnd, buffer.count >= h + 4 + contentLength { break }
        }
        let h = headerEnd!
        let head = String(decoding: buffer[0..<h], as: UTF8.self)
        let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        let body = String(decoding: buffer[(h + 4)..<(h + 4 + contentLength)], as: UTF8.self)
        lock.withLock { _requests.append((path, head, body)) }
        let reply = nextReply()
        if reply.delay > 0 { Thread.sleep(forTimeInterval: reply.delay) }
        if reply.dropConnection { return }
        let bodyBytes = Array(reply.body.utf8)
        var text = "HTTP/1.1 \(reply.status) X\r\nContent-Length: \(bodyBytes.count)\r\nConnection: close\r\n"
        if reply.headers["Content-Type"] == nil { text += "Content-Type: application/json\r\n" }
        for (k, v) in reply.headers { text += "\(k): \(v)\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8) + bodyBytes
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBufferPointer { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    private func findHeaderEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }
}
