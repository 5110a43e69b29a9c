import CCrypto

/// SHA-256 through the system's libcrypto (OpenSSL's one-shot `EVP_Digest`).
public enum SHA256 {
    /// The 32-byte digest of `bytes`. O(n).
    public static func digest<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = Array(bytes).withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { dst in
                EVP_Digest(src.baseAddress, src.count, dst.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        precondition(ok == 1 && length == 32, "libcrypto's SHA-256 failed")
        return out
    }

    /// The digest of a string's UTF-8 bytes, as 64 lower-case hex digits.
    public static func hex(_ s: String) -> String { hexDigest(s.utf8) }

    /// The digest of `bytes` as 64 lower-case hex digits. O(n).
    public static func hexDigest<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in digest(bytes) { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }
}
